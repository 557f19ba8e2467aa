import XCTest
import MiniNet

final class TensorFormattingTests: XCTestCase {
    /// A [count] tensor 0, 1, 2, … reshaped to `shape`, optionally shifted.
    private func ramp(_ shape: [Int], offset: Float = 0) -> Tensor {
        let count = shape.reduce(1, *)
        return Tensor(shape: shape, data: (0..<count).map { Float($0) + offset })
    }

    func testHeaderShowsShapeAndStatistics() {
        let tensor = Tensor(shape: [2, 2], data: [-0.5, 1.25, 0, 0.25])
        let header = tensor.formatted(precision: 3).split(separator: "\n")[0]
        XCTAssertEqual(header, "tensor [2, 2]  min -0.500  max 1.250  mean 0.250")
    }

    func testColumnsAreAlignedWithSignsAndDecimals() {
        let tensor = Tensor(shape: [2, 3], data: [1, -2.5, 10, -0.125, 3, 0])
        let lines = tensor.formatted(precision: 2).split(separator: "\n").dropFirst().map(String.init)
        XCTAssertEqual(lines, ["   1.00  -2.50  10.00",
                               "  -0.12   3.00   0.00"])
        // Every decimal point sits in the same column.
        let points = Set(lines.flatMap { line in
            line.enumerated().filter { $0.element == "." }.map { $0.offset }
        })
        XCTAssertEqual(points.count, 3)
    }

    func testNegativeZeroPrintsWithoutSign() {
        let tensor = Tensor(shape: [2], data: [-0.00001, 1])
        XCTAssertEqual(tensor.formatted(precision: 2).split(separator: "\n")[1], "  0.00  1.00")
    }

    func testRankThreeIsPrintedAsLabelledChannels() {
        let text = ramp([2, 2, 2]).formatted(precision: 1)
        XCTAssertEqual(text, """
            tensor [2, 2, 2]  min 0.0  max 7.0  mean 3.5
              [0] =
                0.0  1.0
                2.0  3.0
              [1] =
                4.0  5.0
                6.0  7.0
            """)
    }

    func testBigTensorsAreElidedOnEveryAxis() {
        let tensor = ramp([10, 8, 9])
        let text = tensor.formatted(precision: 0)
        let lines = text.split(separator: "\n").map(String.init)
        // 3 first and 3 last channels, a "⋮" line between them.
        XCTAssertEqual(lines.filter { $0.hasSuffix("] =") }.count, 6)
        XCTAssertTrue(lines.contains("  ⋮  (4 more along axis 0)"))
        XCTAssertTrue(text.contains("[9] ="))
        XCTAssertFalse(text.contains("[3] ="))
        // Each block: 3 rows, an elision row, 3 rows; each row 3 values, "…", 3 values.
        let firstBlock = Array(lines[2..<9])
        XCTAssertEqual(firstBlock[0].split(separator: " "), ["0", "1", "2", "…", "6", "7", "8"])
        XCTAssertEqual(firstBlock[3].split(separator: " "), ["⋮", "⋮", "⋮", "⋱", "⋮", "⋮", "⋮"])
        XCTAssertEqual(firstBlock[6].split(separator: " "), ["63", "64", "65", "…", "69", "70", "71"])
        // All rows of the body have the same length: the columns line up.
        let rowLengths = Set(lines.filter { $0.hasPrefix("    ") }.map { $0.count })
        XCTAssertEqual(rowLengths.count, 1)
        XCTAssertFalse(text.contains("500"))
    }

    func testFullPrintsEverything() {
        let tensor = ramp([2, 8, 9])
        let text = tensor.formatted(precision: 0, full: true)
        XCTAssertFalse(text.contains("…"))
        XCTAssertEqual(text.split(separator: "\n").count, 1 + 2 * (1 + 8))
        XCTAssertTrue(text.contains("143"))
    }

    func testRankFourLabelsAndElidedLeadingAxes() {
        let text = ramp([1, 8, 2, 2]).formatted(precision: 0)
        XCTAssertTrue(text.contains("  [0, 0] ="))
        XCTAssertTrue(text.contains("  [0, 7] ="))
        XCTAssertEqual(text.components(separatedBy: "⋮  (2 more along axis 1)").count, 2)
    }

    func testScalarsEmptiesAndDescription() {
        XCTAssertEqual(Tensor(scalar: 2).formatted(precision: 1), "tensor []  min 2.0  max 2.0  mean 2.0\n  2.0")
        XCTAssertEqual(Tensor(zeros: [0, 3]).formatted(), "tensor [0, 3]  (empty)")
        let big = ramp([100])
        XCTAssertEqual(big.description, big.formatted())
        XCTAssertTrue(big.description.contains("…"))
    }

    func testNaNIsCountedNotCompared() {
        let text = Tensor(shape: [3], data: [1, .nan, -1]).formatted(precision: 1)
        XCTAssertTrue(text.hasPrefix("tensor [3]  min -1.0  max 1.0  mean 0.0  nan 1"))
        XCTAssertTrue(text.hasSuffix("   1.0   nan  -1.0"))
    }

    func testPrintExamples() {
        // Not an assertion: shows what a student sees (run with --filter to look).
        print(ramp([3, 7, 7], offset: -70).map { $0 / 37 }.formatted())
    }
}

import Foundation
import Lessons
import MiniNet
import XCTest

/// `tutor export-docs --check` compares pages by what they say: rounding noise of another
/// processor passes, a changed word, number, mark or table does not.
final class DocsComparisonTests: XCTestCase {
    let comparison = DocsComparison()

    /// A page in the shape MarkdownRenderer writes: prose, a tensor, a table and check rows.
    let page = """
        # Grad-CAM

        We explain the score y^c = 2.1904223 of class **square** at layer `features.10`.

        ```text
        tensor [32, 8, 8]  min 0.0000  max 7.8995  mean 0.5777
            0.1626  -0.0000
        ```

        | (k, i, j) | backprop |
        |---|---|
        | (11, 5, 7) | 0.003853 |

        |  | check | left | right | residual | tolerance |
        |---|---|---|---|---|---|
        | ✓ | every drop equals Wᶜₖ · mean(Aᵏ) | yᶜ − yᶜₖ = 0.142343 | Wᶜₖ · mean(Aᵏ) = 0.142343 | 3.0e-07 (max \\|Δ\\| at [29] of [32]) | 4.26643e-05 |
        | ✓ | S_c equals the logit | S_c = 2.190422 | z_c = 2.190422 | 1.6e-07 | 2.44137e-05 |
        | ✓ | backprop agrees with finite differences | backprop = 0.007629 | finite differences = 0.007641 | 1.2e-05 (max \\|Δ\\| at [1] of [4]) | 0.000163908 |
        | ✓ | a sample with P > 0.999 was found | P = 0.999582 > 0.999 | holds |  |  |

        """

    /// The page with `old` replaced by `new` (which must occur).
    func page(replacing old: String, with new: String) -> String {
        XCTAssertTrue(page.contains(old), old)
        return page.replacingOccurrences(of: old, with: new)
    }

    func lineNumber(of text: String, in page: String) -> Int? {
        page.components(separatedBy: "\n").firstIndex { $0.contains(text) }.map { $0 + 1 }
    }

    func testIdenticalPagePasses() {
        XCTAssertNil(comparison.comparePages(expected: page, got: page, file: "docs/lessons/gradcam.md"))
    }

    func testLastDigitChangesPass() {
        var got = page(replacing: "y^c = 2.1904223", with: "y^c = 2.190422")
        got = got.replacingOccurrences(of: "max 7.8995", with: "max 7.8994")
        got = got.replacingOccurrences(of: "S_c = 2.190422", with: "S_c = 2.190424")
        got = got.replacingOccurrences(of: "0.003853", with: "0.003852")
        // A sign flip of a value that rounds to zero moves the columns of a tensor print.
        got = got.replacingOccurrences(of: "    0.1626  -0.0000", with: "   0.1625   0.0000")
        got = got.replacingOccurrences(of: "min 0.0000", with: "min -0.0000")
        XCTAssertNil(comparison.comparePages(expected: page, got: got, file: "p.md"))
    }

    func testChangedWordFailsWithPageAndLine() throws {
        let got = page(replacing: "class **square**", with: "class **circle**")
        let difference = try XCTUnwrap(comparison.comparePages(expected: page, got: got, file: "docs/lessons/gradcam.md"))
        XCTAssertEqual(difference.line, 3)
        XCTAssertTrue(difference.description.hasPrefix("docs/lessons/gradcam.md:3: expected \""), difference.description)
        XCTAssertTrue(difference.message.contains("square") && difference.message.contains("circle"), difference.message)
    }

    func testNumberChangedBeyondItsPrecisionFails() throws {
        for (old, new) in [("max 7.8995", "max 7.9195"), ("0.003853", "0.003953"), ("(11, 5, 7)", "(11, 5, 6)"),
                           ("[32, 8, 8]", "[32, 8, 9]")] {
            let got = page(replacing: old, with: new)
            let difference = comparison.comparePages(expected: page, got: got, file: "p.md")
            XCTAssertEqual(difference?.line, lineNumber(of: new, in: got), "\(old) → \(new)")
        }
    }

    func testResidualAndWorstPositionOfAPassingCheckAreNoise() {
        // On another processor the largest residual of a tensor check can sit elsewhere, and
        // left and right then show that other element.
        var got = page(replacing: "= 0.142343 | Wᶜₖ · mean(Aᵏ) = 0.142343 | 3.0e-07 (max \\|Δ\\| at [29]",
                       with: "= 0.106446 | Wᶜₖ · mean(Aᵏ) = 0.106446 | 1.2e-06 (max \\|Δ\\| at [3]")
        got = got.replacingOccurrences(of: "| 1.6e-07 |", with: "| 0 |")
        XCTAssertNil(comparison.comparePages(expected: page, got: got, file: "p.md"))
    }

    func testCheckValuesMayMoveByTheCheckTolerance() throws {
        // 1.0e-04 apart: more than the printed precision and 0.2 %, less than the tolerance 1.6e-04.
        let within = page(replacing: "backprop = 0.007629", with: "backprop = 0.007729")
        XCTAssertNil(comparison.comparePages(expected: page, got: within, file: "p.md"))
        let beyond = page(replacing: "backprop = 0.007629", with: "backprop = 0.007929")
        XCTAssertEqual(comparison.comparePages(expected: page, got: beyond, file: "p.md")?.line,
                       lineNumber(of: "backprop = ", in: page))
        XCTAssertNotNil(comparison.comparePages(expected: page, got: page(replacing: "z_c = 2.190422", with: "z_c = 2.199422"), file: "p.md"))
        // Where the worst position stayed, left and right are the same element and must agree.
        let samePosition = page(replacing: "yᶜ − yᶜₖ = 0.142343", with: "yᶜ − yᶜₖ = 0.152343")
        XCTAssertNotNil(comparison.comparePages(expected: page, got: samePosition, file: "p.md"))
    }

    func testTheToleranceOfAPassingCheckMayMoveByTheBoundMargin() throws {
        // 0.4 % apart: more than the printed precision and 0.2 %, less than the bound margin 1 %.
        let within = page(replacing: "| 1.6e-07 | 2.44137e-05 |", with: "| 1.6e-07 | 2.45e-05 |")
        XCTAssertNil(comparison.comparePages(expected: page, got: within, file: "p.md"))
        let beyond = page(replacing: "| 1.6e-07 | 2.44137e-05 |", with: "| 1.6e-07 | 2.54e-05 |")
        XCTAssertEqual(comparison.comparePages(expected: page, got: beyond, file: "p.md")?.line,
                       lineNumber(of: "S_c equals the logit", in: page))
    }

    func testFailingCheckFails() throws {
        let got = page(replacing: "| ✓ | S_c equals the logit | S_c = 2.190422 | z_c = 2.190422 | 1.6e-07 |",
                       with: "| ✗ | S_c equals the logit | S_c = 2.190422 | z_c = 2.190422 | 3.1e-05 |")
        let difference = try XCTUnwrap(comparison.comparePages(expected: page, got: got, file: "p.md"))
        XCTAssertEqual(difference.line, lineNumber(of: "S_c equals the logit", in: page))
        XCTAssertTrue(difference.message.contains("✗"), difference.message)
    }

    func testTableStructureChangesFail() {
        let extraColumn = page(replacing: "| (11, 5, 7) | 0.003853 |", with: "| (11, 5, 7) | 0.003853 | 0.003850 |")
        XCTAssertEqual(comparison.comparePages(expected: page, got: extraColumn, file: "p.md")?.line,
                       lineNumber(of: "| (11, 5, 7)", in: page))
        let extraRow = page(replacing: "| (11, 5, 7) | 0.003853 |\n", with: "| (11, 5, 7) | 0.003853 |\n| (17, 0, 0) | 0.007629 |\n")
        XCTAssertNotNil(comparison.comparePages(expected: page, got: extraRow, file: "p.md"))
        let shorter = String(page.dropLast("| ✓ | a sample with P > 0.999 was found | P = 0.999582 > 0.999 | holds |  |  |\n\n".count))
        let difference = comparison.comparePages(expected: page, got: shorter, file: "p.md")
        XCTAssertEqual(difference?.line, lineNumber(of: "a sample with P", in: page))
        XCTAssertTrue(difference?.message.contains("end of the page") == true)
    }

    func testTokensForAnyLanguage() {
        func split(_ line: String) -> [String] {
            DocsComparison.tokens(line).filter { $0.kind != .space }.map { ($0.kind == .number ? "#" : "") + $0.text }
        }
        XCTAssertEqual(split("ε = 1e-05, x = −3.2 und 1.2e+03"), ["ε", "=", "#1e-05", ",", "x", "=", "#−3.2", "und", "#1.2e+03"])
        XCTAssertEqual(split("Độ chính xác 97.5% [29, -0.0064]"), ["Độ", "chính", "xác", "#97.5", "%", "[", "#29", ",", "#-0.0064", "]"])
        XCTAssertEqual(split("features.10 step3 2n ResNet-18 1 − 1/n 8×8"),
                       ["features.10", "step3", "2n", "ResNet-", "#18", "#1", "−", "#1", "/n", "#8", "×", "#8"])
        XCTAssertEqual(split("Größe 0.5."), ["Größe", "#0.5", "."])

        XCTAssertEqual(DocsComparison.PrintedNumber("2.9799")?.halfUnit ?? 0, 0.00005, accuracy: 1e-12)
        XCTAssertEqual(DocsComparison.PrintedNumber("3.0e-07")?.halfUnit ?? 0, 5e-9, accuracy: 1e-20)
        XCTAssertEqual(DocsComparison.PrintedNumber("−3.2")?.value, -3.2)
        XCTAssertEqual(DocsComparison.PrintedNumber("32")?.isInteger, true)
        XCTAssertNil(DocsComparison.PrintedNumber("nan"))
    }

    // MARK: Pictures

    func picture(_ level: UInt8, width: Int = 4, height: Int = 3) -> RGBImage {
        RGBImage(width: width, height: height, pixels: [UInt8](repeating: level, count: width * height * 3))
    }

    func testPicturesWithinThePixelMarginPass() {
        var got = picture(100)
        got.pixels[7] = 103
        XCTAssertNil(comparison.comparePictures(expected: picture(100), got: got, file: "a.png"))
    }

    func testPicturesBeyondThePixelMarginOrOfAnotherSizeFail() throws {
        var got = picture(100)
        got.pixels[7] = 104    // pixel 2 (x 2, y 0), green
        let difference = try XCTUnwrap(comparison.comparePictures(expected: picture(100), got: got, file: "a.png"))
        XCTAssertTrue(difference.description.contains("(x 2, y 0)"), difference.description)
        XCTAssertNotNil(comparison.comparePictures(expected: picture(100), got: picture(100, width: 3), file: "a.png"))
    }

    // MARK: Folders

    func testFoldersReportMissingExtraAndChangedFiles() throws {
        let root = NSTemporaryDirectory() + "docs-comparison-\(UUID().uuidString)"
        addTeardownBlock { try? FileManager.default.removeItem(atPath: root) }
        for folder in ["committed", "generated"] {
            try FileManager.default.createDirectory(atPath: root + "/" + folder, withIntermediateDirectories: true)
            try picture(100).write(to: root + "/\(folder)/same.png")
            try Data(page.utf8).write(to: URL(fileURLWithPath: root + "/\(folder)/same.md"))
        }
        try Data(page.utf8).write(to: URL(fileURLWithPath: root + "/committed/changed.md"))
        try Data(page(replacing: "square", with: "circle").utf8).write(to: URL(fileURLWithPath: root + "/generated/changed.md"))
        try picture(100).write(to: root + "/committed/old.png")
        try picture(100).write(to: root + "/generated/new.png")

        let differences = try comparison.compareFolders(committed: root + "/committed", generated: root + "/generated", shownAs: "docs/")
        XCTAssertEqual(differences.map(\.file), ["docs/changed.md", "docs/new.png", "docs/old.png"])
        XCTAssertEqual(differences.first?.line, 3)
    }
}

import Foundation
import XCTest
import MiniNet

/// ImageNetPreprocessing and pilBilinearResize against Pillow and torchvision, with fixtures
/// made by tools/fixtures/preprocess.py; plus the ImageNet class names.
final class ImageNetPreprocessingTests: XCTestCase {
    private struct Cases: Decodable {
        struct Resize: Decodable {
            var input: String
            var width: Int
            var height: Int
            var expected: String
        }
        struct Transform: Decodable {
            var input: String
            var resize: Int
            var crop: Int
            var expected: String
        }
        var resize: [Resize]
        var transform: [Transform]
    }

    private static func fixture(_ name: String) throws -> String {
        let folder = try XCTUnwrap(Bundle.module.path(forResource: "Fixtures", ofType: nil))
        return folder + "/preprocess/" + name
    }

    private static func cases() throws -> Cases {
        let data = try Data(contentsOf: URL(fileURLWithPath: fixture("cases.json")))
        return try JSONDecoder().decode(Cases.self, from: data)
    }

    /// Asserts that `body` throws MiniNetError.invalidArgument with a one-line message containing `text`.
    private func assertInvalidArgument(contains text: String, file: StaticString = #filePath, line: UInt = #line,
                                       _ body: () throws -> Void) {
        XCTAssertThrowsError(try body(), file: file, line: line) { error in
            guard case let MiniNetError.invalidArgument(problem) = error else {
                return XCTFail("expected MiniNetError.invalidArgument, got \(error)", file: file, line: line)
            }
            XCTAssertTrue(problem.contains(text), "'\(problem)' does not contain '\(text)'", file: file, line: line)
            XCTAssertFalse(problem.contains("\n"), "error message is not one line: \(problem)", file: file, line: line)
        }
    }

    func testBilinearResizeMatchesPillowByteForByte() throws {
        let cases = try Self.cases().resize
        // Shrinking, enlarging, mixed, one axis only (Pillow then skips a pass), and both sides
        // of Pillow 13's rule for which pass runs first.
        XCTAssertEqual(cases.count, 11)
        for testCase in cases {
            let image = try RGBImage.read(from: Self.fixture(testCase.input))
            let resized = try pilBilinearResize(image, width: testCase.width, height: testCase.height)
            let expected = try NumpyFile.read(from: Self.fixture(testCase.expected))  // uint8 [H, W, 3]
            XCTAssertEqual(expected.shape, [testCase.height, testCase.width, 3], testCase.expected)
            XCTAssertEqual(resized.width, testCase.width, testCase.expected)
            XCTAssertEqual(resized.height, testCase.height, testCase.expected)
            let expectedBytes = expected.data.map { UInt8($0) }
            let differing = zip(resized.pixels, expectedBytes).filter { $0 != $1 }.count
            XCTAssertEqual(differing, 0, "\(testCase.expected): \(differing) bytes differ from Pillow")
        }
    }

    func testTransformMatchesTorchvision() throws {
        let cases = try Self.cases().transform
        // Includes crops whose corner falls on x.5 (banker's rounding) and one picture that
        // already has the resize size (no resampling).
        XCTAssertEqual(cases.count, 6)
        for testCase in cases {
            let image = try RGBImage.read(from: Self.fixture(testCase.input))
            let preprocessing = ImageNetPreprocessing(resizeShorterSide: testCase.resize, cropSize: testCase.crop)
            let tensor = try preprocessing(image)
            let expected = try NumpyFile.read(from: Self.fixture(testCase.expected))  // float32 [3, crop, crop]
            XCTAssertEqual(tensor.shape, [3, testCase.crop, testCase.crop], testCase.expected)
            XCTAssertEqual(expected.shape, tensor.shape, testCase.expected)
            XCTAssertLessThanOrEqual(tensor.maxAbsDifference(expected), 1e-6, testCase.expected)
        }
    }

    func testResizeAndCropIsThePictureBehindTheTensor() throws {
        let image = try RGBImage.read(from: Self.fixture("wide.png"))
        let preprocessing = ImageNetPreprocessing(resizeShorterSide: 32, cropSize: 27)
        let picture = try preprocessing.resizeAndCrop(image)
        XCTAssertEqual([picture.width, picture.height], [27, 27])
        // 97×61 → 50×32 (int(32 · 97 / 61) = 50); the corner is at (round(11.5), round(2.5)) = (12, 2).
        let resized = try pilBilinearResize(image, width: 50, height: 32)
        for row in 0..<27 {
            let start = ((2 + row) * 50 + 12) * 3
            XCTAssertEqual(Array(picture.pixels[row * 81..<(row + 1) * 81]), Array(resized.pixels[start..<start + 81]))
        }
        // Normalising that picture gives the tensor.
        let tensor = try preprocessing(image)
        let bytes = picture.toTensor()
        for index in 0..<bytes.count {
            let channel = index / (27 * 27)
            let expected = (bytes.data[index] - ImageNetPreprocessing.mean[channel]) / ImageNetPreprocessing.std[channel]
            XCTAssertEqual(tensor.data[index], expected)
        }
    }

    func testResizeToTheSameSizeChangesNothing() throws {
        let image = try RGBImage.read(from: Self.fixture("tall.png"))
        XCTAssertEqual(try pilBilinearResize(image, width: image.width, height: image.height), image)
        // A constant picture stays constant whatever the size: the weights of each output pixel add up to one.
        let grey = RGBImage(width: 13, height: 7, pixels: [UInt8](repeating: 200, count: 13 * 7 * 3))
        let resized = try pilBilinearResize(grey, width: 40, height: 3)
        XCTAssertEqual(resized.pixels, [UInt8](repeating: 200, count: 40 * 3 * 3))
    }

    func testBadSizesThrow() throws {
        let image = try RGBImage.read(from: Self.fixture("wide.png"))
        assertInvalidArgument(contains: "0×10") { _ = try pilBilinearResize(image, width: 0, height: 10) }
        assertInvalidArgument(contains: "10×-3") { _ = try pilBilinearResize(image, width: 10, height: -3) }
        assertInvalidArgument(contains: "1000000") { _ = try pilBilinearResize(image, width: 1_000_000, height: 10) }
        let empty = RGBImage(width: 0, height: 0, pixels: [])
        assertInvalidArgument(contains: "source size 0×0") { _ = try pilBilinearResize(empty, width: 4, height: 4) }
        assertInvalidArgument(contains: "empty") { _ = try ImageNetPreprocessing()(empty) }
        assertInvalidArgument(contains: "resize size 0") {
            _ = try ImageNetPreprocessing(resizeShorterSide: 0, cropSize: 0)(image)
        }
        assertInvalidArgument(contains: "resize size 1000000") {
            _ = try ImageNetPreprocessing(resizeShorterSide: 1_000_000, cropSize: 224)(image)
        }
        assertInvalidArgument(contains: "crop size 300") {
            _ = try ImageNetPreprocessing(resizeShorterSide: 256, cropSize: 300)(image)
        }
        assertInvalidArgument(contains: "crop size 0") {
            _ = try ImageNetPreprocessing(resizeShorterSide: 256, cropSize: 0)(image)
        }
        // A thin strip whose long side would become enormous.
        let strip = RGBImage(width: 2000, height: 1, pixels: [UInt8](repeating: 0, count: 6000))
        assertInvalidArgument(contains: "pixels long") { _ = try ImageNetPreprocessing()(strip) }
    }

    func testImageNetClassNames() {
        XCTAssertEqual(ImageNetClasses.names.count, 1000)
        XCTAssertEqual(ImageNetClasses.names.first, "tench")
        XCTAssertEqual(ImageNetClasses.names.last, "toilet tissue")
        XCTAssertEqual(ImageNetClasses.names[281], "tabby")
    }
}

import Foundation
import XCTest
import MiniNet

/// PNG decoding through libpng (Sources/CPNG) against fixtures made by
/// tools/fixtures/make_io_fixtures.py, plus corrupt files and atomic writing.
final class PNGTests: XCTestCase {
    private struct ExpectedImages: Decodable {
        struct Image: Decodable {
            var width: Int
            var height: Int
            /// width·height·3 bytes, R G B per pixel, row by row.
            var rgb: [UInt8]
            var note: String
        }
        var images: [String: Image]
    }

    private static func fixture(_ name: String) throws -> String {
        let folder = try XCTUnwrap(Bundle.module.path(forResource: "Fixtures", ofType: nil))
        return folder + "/png/" + name
    }

    private var temporaryDirectory = ""

    override func setUpWithError() throws {
        temporaryDirectory = FileManager.default.temporaryDirectory
            .appendingPathComponent("PNGTests-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: temporaryDirectory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: temporaryDirectory)
    }

    /// Asserts that `body` throws a MiniNetError.file naming `path` whose problem contains `text`.
    private func assertFileError(_ path: String, contains text: String, file: StaticString = #filePath,
                                 line: UInt = #line, _ body: () throws -> Void) {
        XCTAssertThrowsError(try body(), file: file, line: line) { error in
            guard case let MiniNetError.file(errorPath, problem) = error else {
                return XCTFail("expected MiniNetError.file, got \(error)", file: file, line: line)
            }
            XCTAssertEqual(errorPath, path, file: file, line: line)
            XCTAssertTrue(problem.contains(text), "'\(problem)' does not contain '\(text)'", file: file, line: line)
            XCTAssertFalse("\(error)".contains("\n"), "error message is not one line: \(error)", file: file, line: line)
        }
    }

    func testEveryFixtureDecodesToTheExpectedRGB() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: Self.fixture("expected.json")))
        let expected = try JSONDecoder().decode(ExpectedImages.self, from: data)
        // Every colour type and bit depth: grey 1/8/16, palette 2/8, RGB 16, RGBA, grey+alpha, interlaced.
        XCTAssertEqual(expected.images.count, 9)
        for (name, image) in expected.images.sorted(by: { $0.key < $1.key }) {
            let decoded = try RGBImage.read(from: Self.fixture(name))
            XCTAssertEqual(decoded.width, image.width, name)
            XCTAssertEqual(decoded.height, image.height, name)
            XCTAssertEqual(decoded.pixels, image.rgb, "\(name): \(image.note)")
        }
    }

    /// `decodePNG` (bytes already in memory, as the fuzzer gives them) and `read` are one decoder.
    func testDecodingFromMemoryMatchesReadingTheFile() throws {
        for name in ["bilevel.png", "grey16.png", "interlaced.png", "palette2bit.png", "rgba.png", "truncated.png",
                     "signature_then_garbage.png", "bomb-16384x16384.png"] {
            let path = try Self.fixture(name)
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
            switch (Result { try RGBImage.read(from: path) }, Result { try RGBImage.decodePNG(bytes, path: path) }) {
            case let (.success(fromFile), .success(fromMemory)):
                XCTAssertEqual(fromFile, fromMemory, name)
            case let (.failure(fileError), .failure(memoryError)):
                XCTAssertEqual("\(fileError)", "\(memoryError)", name)
            case let (fromFile, fromMemory):
                XCTFail("\(name): from the file \(fromFile), from memory \(fromMemory)")
            }
        }
        for bytes: [UInt8] in [[], [0x89, 0x50, 0x4e, 0x47]] {
            assertFileError("short.png", contains: "no PNG signature") { _ = try RGBImage.decodePNG(bytes, path: "short.png") }
        }
    }

    func testSixteenBitSamplesKeepTheirHighByte() throws {
        // The fixture's first sample is 0xFF80: libpng's strip_16 gives 0xFF, scale_16 would give 254.
        let image = try RGBImage.read(from: Self.fixture("grey16.png"))
        XCTAssertEqual(Array(image.pixels[0..<3]), [255, 255, 255])
    }

    func testTruncatedPNGThrowsNamingTheFile() throws {
        let path = try Self.fixture("truncated.png")
        assertFileError(path, contains: "not a readable PNG image (file is truncated)") { _ = try RGBImage.read(from: path) }
    }

    func testRandomBytesThrowNamingTheFile() throws {
        let random = try Self.fixture("random.png")
        assertFileError(random, contains: "not a readable PNG image (no PNG signature)") { _ = try RGBImage.read(from: random) }
        // Past the signature, libpng's own reason must come through (not a generic one).
        let garbage = try Self.fixture("signature_then_garbage.png")
        assertFileError(garbage, contains: "not a readable PNG image (PNG unsigned integer out of range)") {
            _ = try RGBImage.read(from: garbage)
        }
    }

    func testEveryPrefixOfAValidPNGThrowsOrDecodes() throws {
        // Cutting a valid file anywhere must give an error, never a crash.
        let whole = try Data(contentsOf: URL(fileURLWithPath: Self.fixture("interlaced.png")))
        let path = temporaryDirectory + "/cut.png"
        for length in 0..<whole.count {
            try whole.prefix(length).write(to: URL(fileURLWithPath: path))
            let reason = length < 8 ? "no PNG signature" : "file is truncated"
            assertFileError(path, contains: reason) { _ = try RGBImage.read(from: path) }
        }
    }

    func testEveryFlippedByteOfAValidPNGThrowsOrDecodes() throws {
        // Corrupting any byte (dimensions, chunk lengths, CRCs, compressed data) must never crash.
        let whole = try Data(contentsOf: URL(fileURLWithPath: Self.fixture("palette.png")))
        let path = temporaryDirectory + "/flipped.png"
        for index in 0..<whole.count {
            for flip: UInt8 in [0x01, 0x80, 0xFF] {
                var corrupt = whole
                corrupt[index] ^= flip
                try corrupt.write(to: URL(fileURLWithPath: path))
                do {
                    let image = try RGBImage.read(from: path)
                    XCTAssertEqual(image.pixels.count, image.width * image.height * 3)
                } catch let error as MiniNetError {
                    XCTAssertEqual(error, .file(path, error.problem), "\(error)")
                }
            }
        }
    }

    func testEmptyFileThrows() throws {
        let path = temporaryDirectory + "/empty.png"
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data()))
        assertFileError(path, contains: "no PNG signature") { _ = try RGBImage.read(from: path) }
    }

    func testDirectoryThrows() {
        assertFileError(temporaryDirectory, contains: "is a directory") { _ = try RGBImage.read(from: temporaryDirectory) }
    }

    func testMissingFileThrowsNoSuchFile() {
        let path = temporaryDirectory + "/absent.png"
        assertFileError(path, contains: "no such file") { _ = try RGBImage.read(from: path) }
    }

    func testWriteThenReadRoundTrip() throws {
        let width = 7
        let height = 3
        let pixels = (0..<(width * height * 3)).map { UInt8(($0 * 37 + 11) % 256) }
        let image = RGBImage(width: width, height: height, pixels: pixels)
        let path = temporaryDirectory + "/round.png"
        try image.write(to: path)
        XCTAssertEqual(try RGBImage.read(from: path), image)
        // Writing again replaces the file.
        let inverted = RGBImage(width: width, height: height, pixels: pixels.map { 255 - $0 })
        try inverted.write(to: path)
        XCTAssertEqual(try RGBImage.read(from: path), inverted)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: temporaryDirectory), ["round.png"])
    }

    func testTensorRoundTripThroughPNG() throws {
        let image = RGBImage(width: 2, height: 2, pixels: [0, 64, 128, 255, 1, 2, 3, 4, 5, 250, 251, 252])
        let tensor = image.toTensor()
        XCTAssertEqual(tensor.shape, [3, 2, 2])
        XCTAssertEqual(RGBImage(tensor: tensor), image)
    }

    func testWritingIntoAMissingDirectoryThrowsAndLeavesNoFile() throws {
        let directory = temporaryDirectory + "/absent"
        let path = directory + "/out.png"
        let image = RGBImage(width: 1, height: 1, pixels: [1, 2, 3])
        XCTAssertThrowsError(try image.write(to: path)) { error in
            guard case let MiniNetError.file(errorPath, _) = error else {
                return XCTFail("expected MiniNetError.file, got \(error)")
            }
            XCTAssertEqual(errorPath, path)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: temporaryDirectory), [])
    }

    // MARK: - Hostile files (issue 11)

    /// A PNG whose IHDR claims `width` × `height` 1-bit grey pixels, followed by a token IDAT:
    /// enough for libpng to read the header, which is where the size must be refused.
    private func pngClaiming(width: UInt32, height: UInt32) -> Data {
        func crc32(_ bytes: [UInt8]) -> UInt32 {
            var crc: UInt32 = 0xFFFF_FFFF
            for byte in bytes {
                crc ^= UInt32(byte)
                for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
            }
            return ~crc
        }
        func bigEndian(_ value: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: value >> (24 - 8 * $0)) } }
        func chunk(_ type: String, _ body: [UInt8]) -> [UInt8] {
            let typed = Array(type.utf8) + body
            return bigEndian(UInt32(body.count)) + typed + bigEndian(crc32(typed))
        }
        let header = bigEndian(width) + bigEndian(height) + [1, 0, 0, 0, 0]
        return Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + chunk("IHDR", header)
                    + chunk("IDAT", [0x78, 0x9C, 0x03, 0x00]) + chunk("IEND", []))
    }

    /// The fuzzer's find: 32 KB that decode to 16384 × 16384 pixels (4.7 GB and 24 s before the
    /// limit). Made with Python: zlib.compress of 16384 rows of 2049 zero bytes, 1-bit grey.
    func testDecompressionBombIsRefusedFromItsHeader() throws {
        let path = try Self.fixture("bomb-16384x16384.png")
        let started = Date()
        assertFileError(path, contains: "16384 x 16384 pixels; the limit is 8192 pixels per side and 40 megapixels") {
            _ = try RGBImage.read(from: path)
        }
        XCTAssertLessThan(Date().timeIntervalSince(started), 1, "the header alone must decide")
    }

    func testSizeLimitsPerSideAndInAll() throws {
        XCTAssertEqual(RGBImage.maximumSide, 8192)
        XCTAssertEqual(RGBImage.maximumPixelCount, 40_000_000)
        for (width, height) in [(8193, 1), (1, 8193), (7000, 7000)] as [(UInt32, UInt32)] {
            let path = temporaryDirectory + "/claims-\(width)x\(height).png"
            try pngClaiming(width: width, height: height).write(to: URL(fileURLWithPath: path))
            assertFileError(path, contains: "\(width) x \(height) pixels; the limit is") { _ = try RGBImage.read(from: path) }
        }
        // At the limit a picture still decodes.
        let path = temporaryDirectory + "/wide.png"
        let wide = RGBImage(width: 8192, height: 2, pixels: [UInt8](repeating: 200, count: 8192 * 2 * 3))
        try wide.write(to: path)
        XCTAssertEqual(try RGBImage.read(from: path), wide)
    }

    func testOnlyRegularFilesAreOpened() throws {
        // A FIFO: opening it would wait for a writer forever.
        let fifo = temporaryDirectory + "/picture.png"
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        assertFileError(fifo, contains: "is a pipe (FIFO), not a regular file") { _ = try RGBImage.read(from: fifo) }
        assertFileError("/dev/zero", contains: "is a device, not a regular file") { _ = try RGBImage.read(from: "/dev/zero") }
        XCTAssertThrowsError(try RegularFile.check(fifo))
        XCTAssertEqual(try RegularFile.check(try Self.fixture("grey8.png")), try Data(contentsOf: URL(fileURLWithPath: Self.fixture("grey8.png"))).count)
        let big = temporaryDirectory + "/big.png"
        try Data(count: 100).write(to: URL(fileURLWithPath: big))
        assertFileError(big, contains: "is 100 bytes, more than the limit of 99 bytes") { try RegularFile.check(big, maximumBytes: 99) }
    }

    func testNonFiniteValuesBecomeDefinedBytes() {
        let tensor = Tensor(shape: [3, 1, 4], data: [.nan, .infinity, -.infinity, 0.5,  -1, 2, 0, 1,  .nan, .nan, .nan, .nan])
        let image = RGBImage(tensor: tensor)
        XCTAssertEqual(image.pixels.count, 12)
        XCTAssertEqual(image.pixels[0], 0, "NaN becomes 0")
        XCTAssertEqual(image.pixels[3], 255, "+∞ is clamped to 255")
        XCTAssertEqual(image.pixels[6], 0, "−∞ is clamped to 0")
        XCTAssertEqual(image.pixels[9], 128)
        XCTAssertEqual([clampedByte(.nan), clampedByte(-3), clampedByte(300), clampedByte(.infinity), clampedByte(7.9)], [0, 0, 255, 255, 7])
    }

    func testFailedWriteLeavesTheExistingFileUntouched() throws {
        // Over a non-empty directory the final rename fails: nothing may be left behind.
        let blocker = temporaryDirectory + "/overlay.png"
        try FileManager.default.createDirectory(atPath: blocker + "/inside", withIntermediateDirectories: true)
        let image = RGBImage(width: 2, height: 2, pixels: [UInt8](repeating: 9, count: 12))
        assertFileError(blocker, contains: "cannot replace file") { try image.write(to: blocker) }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: temporaryDirectory), ["overlay.png"])
    }

}

private extension MiniNetError {
    /// The problem text of a `.file` error.
    var problem: String {
        if case let .file(_, problem) = self { return problem }
        return "\(self)"
    }
}

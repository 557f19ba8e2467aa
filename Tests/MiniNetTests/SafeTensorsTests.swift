import Foundation
import XCTest
import MiniNet

/// `.safetensors` reading and writing: files written by the Python safetensors library
/// (tools/fixtures/make_io_fixtures.py), round trips, and every kind of corrupt file.
final class SafeTensorsTests: XCTestCase {
    private struct ExpectedFile: Decodable {
        struct Values: Decodable {
            var shape: [Int]
            var values: [Float]
        }
        var tensors: [String: Values]
        var metadata: [String: String]
    }

    private static func fixture(_ name: String) throws -> String {
        let folder = try XCTUnwrap(Bundle.module.path(forResource: "Fixtures", ofType: nil))
        return folder + "/safetensors/" + name
    }

    private var temporaryDirectory = ""

    override func setUpWithError() throws {
        temporaryDirectory = FileManager.default.temporaryDirectory
            .appendingPathComponent("SafeTensorsTests-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: temporaryDirectory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: temporaryDirectory)
    }

    // MARK: - Helpers

    /// A file built by hand: 8-byte little-endian header length, the header text, the data.
    private func fileBytes(header: String, data: [UInt8]) -> Data {
        let text = Array(header.utf8)
        return Data((0..<8).map { UInt8((UInt64(text.count) >> (8 * UInt64($0))) & 0xFF) } + text + data)
    }

    /// Asserts that decoding throws a one-line MiniNetError.file naming the file and containing `text`.
    private func assertDecodeFails(_ data: Data, contains text: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try SafeTensorsFile.decode(data, path: "bad.safetensors"), file: file, line: line) { error in
            guard case let MiniNetError.file(path, problem) = error else {
                return XCTFail("expected MiniNetError.file, got \(error)", file: file, line: line)
            }
            XCTAssertEqual(path, "bad.safetensors", file: file, line: line)
            XCTAssertTrue(problem.contains(text), "'\(problem)' does not contain '\(text)'", file: file, line: line)
            XCTAssertFalse("\(error)".contains("\n"), "not one line: \(error)", file: file, line: line)
        }
    }

    /// A header with one F32 tensor 'x' whose fields are given as JSON text, and 8 bytes of data.
    private func oneTensor(_ fields: String, data: Int = 8) -> Data {
        fileBytes(header: "{\"x\":{\(fields)}}", data: [UInt8](repeating: 0, count: data))
    }

    // MARK: - Files written by Python

    func testReadsEveryDtypeThePythonLibraryWrote() throws {
        let expectedData = try Data(contentsOf: URL(fileURLWithPath: Self.fixture("expected.json")))
        let expected = try JSONDecoder().decode([String: ExpectedFile].self,
                                                from: expectedData.filteringCommentKey())
        for (name, file) in expected.sorted(by: { $0.key < $1.key }) {
            let read = try SafeTensorsFile.read(from: Self.fixture(name))
            XCTAssertEqual(read.metadata, file.metadata, name)
            XCTAssertEqual(Set(read.tensors.map(\.name)), Set(file.tensors.keys), name)
            for (tensorName, values) in file.tensors {
                let tensor = try XCTUnwrap(read[tensorName], tensorName)
                XCTAssertEqual(tensor.shape, values.shape, tensorName)
                XCTAssertEqual(tensor.data, values.values, tensorName)
            }
        }
    }

    func testMixedDtypesConvertToFloat() throws {
        let file = try SafeTensorsFile.read(from: Self.fixture("mixed.safetensors"))
        // The Python library lays tensors out by dtype size, largest first; we keep file order.
        XCTAssertEqual(file.tensors.map(\.name),
                       ["bn.num_batches_tracked", "double", "conv.weight", "index", "brain", "half"])
        XCTAssertEqual(file["bn.num_batches_tracked"], Tensor(scalar: 12345))
        XCTAssertEqual(file["half"]?.data, [1.5, -2, 0.00006103515625, 0.000000059604644775390625, 65504])
        XCTAssertEqual(file["brain"]?.data[1], -3.140625)
        XCTAssertEqual(file["index"]?.data, [-1, 0, 2147483648])  // 2^31 − 1 rounds to the nearest Float
        XCTAssertNil(file["absent"])
    }

    func testEncodeReproducesPythonBytesExactly() throws {
        let original = try Data(contentsOf: URL(fileURLWithPath: Self.fixture("f32.safetensors")))
        let file = try SafeTensorsFile.decode(original, path: "f32.safetensors")
        XCTAssertEqual(file.encode(), original)
        // The tensors' order in our struct does not matter: keys are sorted when writing.
        let reversed = SafeTensorsFile(tensors: file.tensors.reversed(), metadata: file.metadata)
        XCTAssertEqual(reversed.encode(), original)
    }

    // MARK: - Round trips

    func testWriteThenReadRoundTrip() throws {
        let original = SafeTensorsFile(
            tensors: [
                ("layer1.0.conv1.weight", Tensor(shape: [2, 1, 3, 3], data: (0..<18).map { Float($0) / 7 - 1 })),
                ("bias", Tensor(shape: [2], data: [.infinity, -.leastNonzeroMagnitude])),
                ("scalar", Tensor(scalar: 42)),
                ("empty", Tensor(zeros: [0, 4])),
                ("naïve \"quoted\"\n\u{1}name", Tensor(shape: [1], data: [3])),
            ],
            metadata: ["format": "pt", "description": "line one\nline \"two\" ✓", "": "empty key"])
        let path = temporaryDirectory + "/model.safetensors"
        try original.write(to: path)
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        XCTAssertEqual(data.count % 8, 0, "header padded to 8 bytes and all data F32")
        let read = try SafeTensorsFile.read(from: path)
        XCTAssertEqual(read.metadata, original.metadata)
        XCTAssertEqual(read.tensors.count, original.tensors.count)
        for (name, tensor) in original.tensors {
            XCTAssertEqual(read[name], tensor, name)
        }
        // File order = sorted by name (byte order), which is also offset order.
        XCTAssertEqual(read.tensors.map(\.name).filter { $0 != "empty" },
                       ["bias", "layer1.0.conv1.weight", "naïve \"quoted\"\n\u{1}name", "scalar"])
        // A file without metadata has no __metadata__ entry.
        let plain = SafeTensorsFile(tensors: [("w", Tensor(scalar: 1))])
        XCTAssertFalse(String(decoding: plain.encode(), as: UTF8.self).contains("__metadata__"))
        XCTAssertEqual(try SafeTensorsFile.decode(plain.encode(), path: "plain").metadata, [:])
    }

    func testWriteRejectsDuplicateAndReservedNames() throws {
        let path = temporaryDirectory + "/dup.safetensors"
        let duplicate = SafeTensorsFile(tensors: [("w", Tensor(scalar: 1)), ("w", Tensor(scalar: 2))])
        XCTAssertThrowsError(try duplicate.write(to: path)) { error in
            XCTAssertEqual(error as? MiniNetError, .invalidArgument("cannot write \(path): two tensors are named 'w'"))
        }
        let reserved = SafeTensorsFile(tensors: [("__metadata__", Tensor(scalar: 1))])
        XCTAssertThrowsError(try reserved.write(to: path))
        XCTAssertFalse(FileManager.default.fileExists(atPath: path))
    }

    // MARK: - Corrupt files

    func testCorruptLengthAndHeader() {
        assertDecodeFails(Data(), contains: "too short to be a safetensors file (0 bytes")
        assertDecodeFails(Data([1, 2, 3, 4, 5, 6, 7]), contains: "too short")
        assertDecodeFails(Data([100, 0, 0, 0, 0, 0, 0, 0]) + Data("{}".utf8),
                          contains: "header length 100 is larger than the 10-byte file")
        assertDecodeFails(Data([0, 0, 0, 0, 0, 0, 0, 0x80]), contains: "is absurd")
        assertDecodeFails(Data([0x01, 0xE1, 0xF5, 0x05, 0, 0, 0, 0]), contains: "header length 100000001 is absurd")
        assertDecodeFails(Data([2, 0, 0, 0, 0, 0, 0, 0, 0xC3, 0x28]), contains: "header is not valid UTF-8")
        assertDecodeFails(fileBytes(header: "{\"x\": ", data: []), contains: "header is not valid JSON")
        assertDecodeFails(fileBytes(header: "", data: []), contains: "header is not a JSON object")
        assertDecodeFails(fileBytes(header: "[1, 2]", data: []), contains: "header is not a JSON object")
        assertDecodeFails(fileBytes(header: "\"text\"", data: []), contains: "header is not")
        assertDecodeFails(fileBytes(header: "{\"__metadata__\": [1]}", data: []), contains: "__metadata__ is not a JSON object")
        assertDecodeFails(fileBytes(header: "{\"__metadata__\": {\"n\": 1}}", data: []),
                          contains: "__metadata__ value for 'n' is not a string")
        assertDecodeFails(fileBytes(header: "{\"x\": [1]}", data: []), contains: "header entry 'x' is not a JSON object")
        // Hostile nesting must be an error, not a stack overflow.
        assertDecodeFails(fileBytes(header: String(repeating: "[", count: 200_000), data: []), contains: "header is not")
        assertDecodeFails(fileBytes(header: "{\"x\":" + String(repeating: "{\"a\":", count: 200_000), data: []),
                          contains: "header is not")
    }

    func testCorruptTensorEntries() {
        let cases: [(fields: String, message: String)] = [
            ("\"shape\":[2],\"data_offsets\":[0,8]", "tensor 'x' has no dtype"),
            ("\"dtype\":\"F32\",\"data_offsets\":[0,8]", "tensor 'x' has no shape"),
            ("\"dtype\":\"F32\",\"shape\":[2]", "tensor 'x' has no data_offsets"),
            ("\"dtype\":32,\"shape\":[2],\"data_offsets\":[0,8]", "dtype is not a string"),
            ("\"dtype\":\"F8\",\"shape\":[2],\"data_offsets\":[0,8]", "unknown or unsupported dtype 'F8'"),
            ("\"dtype\":\"U8\",\"shape\":[8],\"data_offsets\":[0,8]", "unknown or unsupported dtype 'U8'"),
            ("\"dtype\":\"F32\",\"shape\":2,\"data_offsets\":[0,8]", "shape is not a list"),
            ("\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]", "shape must hold non-negative integers"),
            ("\"dtype\":\"F32\",\"shape\":[2.5],\"data_offsets\":[0,8]", "shape must hold non-negative integers"),
            ("\"dtype\":\"F32\",\"shape\":[2.0],\"data_offsets\":[0,8]", "shape must hold non-negative integers"),
            ("\"dtype\":\"F32\",\"shape\":[true],\"data_offsets\":[0,8]", "shape must hold non-negative integers"),
            ("\"dtype\":\"F32\",\"shape\":[\"2\"],\"data_offsets\":[0,8]", "shape must hold non-negative integers"),
            ("\"dtype\":\"F32\",\"shape\":[1e30],\"data_offsets\":[0,8]", "shape must hold non-negative integers"),
            ("\"dtype\":\"F32\",\"shape\":[18446744073709551615],\"data_offsets\":[0,8]", "non-negative integers"),
            ("\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0]", "data_offsets must be two non-negative integers"),
            ("\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[-8,0]", "data_offsets must be two non-negative integers"),
            ("\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8.5]", "data_offsets must be two non-negative integers"),
            ("\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]", "tensor 'x' data_offsets [8, 0] begin after they end"),
            ("\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]",
             "tensor 'x' data_offsets [0, 16] overrun the 8-byte data section"),
            ("\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]",
             "tensor 'x' of shape [3] and dtype F32 needs 12 bytes but data_offsets [0, 8] span 8"),
            ("\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,8]", "needs 4 bytes but data_offsets [0, 8] span 8"),
            ("\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,8]", "is too large"),
            ("\"dtype\":\"F64\",\"shape\":[2305843009213693952],\"data_offsets\":[0,8]", "is too large"),
        ]
        for (fields, message) in cases {
            assertDecodeFails(oneTensor(fields), contains: message)
        }
    }

    func testOverlappingTensorsAreRejected() {
        let header = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
            + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}"
        assertDecodeFails(fileBytes(header: header, data: [UInt8](repeating: 0, count: 12)),
                          contains: "tensors 'a' and 'b' overlap in the data section")
        let same = "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
            + "\"b\":{\"dtype\":\"I32\",\"shape\":[1],\"data_offsets\":[0,4]}}"
        assertDecodeFails(fileBytes(header: same, data: [0, 0, 0, 0]), contains: "overlap")
        // Empty tensors occupy no bytes; like the others, they sit where the previous one ends.
        let empty = "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
            + "\"e\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[4,4]}}"
        XCTAssertNoThrow(try SafeTensorsFile.decode(fileBytes(header: empty, data: [0, 0, 0, 0]), path: "ok"))
        let inside = empty.replacingOccurrences(of: "[4,4]", with: "[2,2]")
        assertDecodeFails(fileBytes(header: inside, data: [0, 0, 0, 0]), contains: "overlap")
    }

    func testUnalignedDataIsReadCorrectly() throws {
        // A header of odd length puts the data at an odd offset; values must still be right.
        var header = "{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}"
        if header.utf8.count.isMultiple(of: 2) { header += " " }
        let bits = Float(2.5).bitPattern
        let data = (0..<4).map { UInt8(truncatingIfNeeded: bits >> (8 * $0)) }
        XCTAssertEqual(try SafeTensorsFile.decode(fileBytes(header: header, data: data), path: "odd")["x"],
                       Tensor(shape: [1], data: [2.5]))
    }

    func testEveryPrefixAndEveryFlippedByteOfAValidFileIsHandled() throws {
        let whole = try Data(contentsOf: URL(fileURLWithPath: Self.fixture("mixed.safetensors")))
        for length in 0..<whole.count {
            XCTAssertThrowsError(try SafeTensorsFile.decode(whole.prefix(length), path: "cut"), "length \(length)")
        }
        for index in 0..<whole.count {
            for flip: UInt8 in [0x01, 0x20, 0x80, 0xFF] {
                var corrupt = whole
                corrupt[index] ^= flip
                _ = try? SafeTensorsFile.decode(corrupt, path: "flipped")
            }
        }
    }

    func testMissingFile() {
        let path = temporaryDirectory + "/absent.safetensors"
        XCTAssertThrowsError(try SafeTensorsFile.read(from: path)) { error in
            XCTAssertEqual(error as? MiniNetError, .file(path, "no such file"))
        }
    }

    // MARK: - Atomic writing

    func testWritingIsAtomic() throws {
        let path = temporaryDirectory + "/weights.safetensors"
        try SafeTensorsFile(tensors: [("a", Tensor(scalar: 1))]).write(to: path)
        try SafeTensorsFile(tensors: [("b", Tensor(scalar: 2))]).write(to: path)
        XCTAssertEqual(try SafeTensorsFile.read(from: path).tensors.map(\.name), ["b"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: temporaryDirectory), ["weights.safetensors"])

        let missing = temporaryDirectory + "/absent/weights.safetensors"
        XCTAssertThrowsError(try SafeTensorsFile().write(to: missing)) { error in
            guard case let MiniNetError.file(errorPath, _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(errorPath, missing)
        }
        // The rename over a non-empty directory fails: no temporary file may remain.
        let blocker = temporaryDirectory + "/blocker"
        try FileManager.default.createDirectory(atPath: blocker + "/inside", withIntermediateDirectories: true)
        XCTAssertThrowsError(try SafeTensorsFile().write(to: blocker))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: temporaryDirectory).sorted(),
                       ["blocker", "weights.safetensors"])
    }

    // MARK: - The data section must be exactly what the header describes

    /// Two F32 tensors a = [1, 2] and b = [3], laid out by `encode` as the Python library does.
    private func twoTensors() -> [UInt8] {
        [UInt8](SafeTensorsFile(tensors: [("a", Tensor(shape: [2], data: [1, 2])), ("b", Tensor(shape: [1], data: [3]))]).encode())
    }

    /// Regression (fuzzing, issue 11): a header length shortened into the padding still parsed,
    /// and every weight was read from a few bytes too early.
    func testHeaderLengthCutIntoThePaddingIsRefused() throws {
        var bytes = twoTensors()
        XCTAssertNoThrow(try SafeTensorsFile.decode(Data(bytes), path: "good"))
        let headerLength = Int(bytes[0])
        let padding = bytes[8..<(8 + headerLength)].reversed().prefix { $0 == UInt8(ascii: " ") }.count
        XCTAssertGreaterThan(padding, 0, "the fixture needs padding to cut into")
        bytes[0] = UInt8(headerLength - padding)
        assertDecodeFails(Data(bytes), contains: "cover 12 bytes of the \(12 + padding)-byte data section")
    }

    func testTrailingBytesGapsAndOverlapsAreRefused() {
        assertDecodeFails(Data(twoTensors() + [0, 0, 0, 0]), contains: "cover 12 bytes of the 16-byte data section")
        let gap = "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
            + "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}"
        assertDecodeFails(fileBytes(header: gap, data: [UInt8](repeating: 0, count: 12)),
                          contains: "tensor 'b' data_offsets [8, 12] leave a gap of 4 bytes after byte 4")
        let late = "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}"
        assertDecodeFails(fileBytes(header: late, data: [UInt8](repeating: 0, count: 8)), contains: "leave a gap of 4 bytes after byte 0")
        let overlap = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
            + "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}"
        assertDecodeFails(fileBytes(header: overlap, data: [UInt8](repeating: 0, count: 8)), contains: "overlap")
        assertDecodeFails(fileBytes(header: " {}", data: []), contains: "does not start with '{'")
    }

    /// A tensor name with a newline must not split the one-line message.
    func testNamesInMessagesStayOnOneLine() {
        let header = "{\"line\\nbreak\":{\"dtype\":\"X\",\"shape\":[1],\"data_offsets\":[0,4]}}"
        assertDecodeFails(fileBytes(header: header, data: [0, 0, 0, 0]), contains: "tensor 'line?break'")
    }
}

private extension Data {
    /// expected.json also holds a "comment" string; drop it so the rest decodes as one map.
    func filteringCommentKey() throws -> Data {
        var object = try XCTUnwrap(JSONSerialization.jsonObject(with: self) as? [String: Any])
        object.removeValue(forKey: "comment")
        return try JSONSerialization.data(withJSONObject: object)
    }
}

import Foundation
import XCTest
@testable import MiniNet

/// `.npy` reading and writing: files written by numpy (tools/fixtures/make_io_fixtures.py),
/// round trips, and every kind of corrupt header or payload.
final class NumpyFileTests: XCTestCase {
    private struct ExpectedArrays: Decodable {
        struct Array: Decodable {
            var shape: [Int]
            var values: [Float]
        }
        var arrays: [String: Array]
    }

    private static func fixture(_ name: String) throws -> String {
        let folder = try XCTUnwrap(Bundle.module.path(forResource: "Fixtures", ofType: nil))
        return folder + "/npy/" + name
    }

    private var temporaryDirectory = ""

    override func setUpWithError() throws {
        temporaryDirectory = FileManager.default.temporaryDirectory
            .appendingPathComponent("NumpyFileTests-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: temporaryDirectory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: temporaryDirectory)
    }

    // MARK: - Helpers

    /// A .npy file built by hand: version 1.0, the given header text (padded to 64 bytes
    /// unless `pad` is false) and payload.
    private func npyBytes(header: String, payload: [UInt8], version: UInt8 = 1, pad: Bool = true) -> Data {
        var text = Array(header.utf8)
        let prefix = version == 1 ? 10 : 12
        if pad {
            text += [UInt8](repeating: 32, count: 63 - (prefix + text.count) % 64) + [10]
        }
        var data = Data([0x93] + Array("NUMPY".utf8) + [version, 0])
        if version == 1 {
            data.append(contentsOf: [UInt8(text.count & 0xFF), UInt8(text.count >> 8)])
        } else {
            data.append(contentsOf: (0..<4).map { UInt8((text.count >> (8 * $0)) & 0xFF) })
        }
        return data + text + payload
    }

    private func float32Bytes(_ values: [Float]) -> [UInt8] {
        values.flatMap { value in (0..<4).map { UInt8(truncatingIfNeeded: value.bitPattern >> (8 * $0)) } }
    }

    /// Asserts that decoding `data` throws a one-line MiniNetError.file whose problem contains `text`.
    private func assertDecodeFails(_ data: Data, contains text: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try NumpyFile.decode(data, path: "bad.npy"), file: file, line: line) { error in
            guard case let MiniNetError.file(path, problem) = error else {
                return XCTFail("expected MiniNetError.file, got \(error)", file: file, line: line)
            }
            XCTAssertEqual(path, "bad.npy", file: file, line: line)
            XCTAssertTrue(problem.contains(text), "'\(problem)' does not contain '\(text)'", file: file, line: line)
            XCTAssertFalse("\(error)".contains("\n"), "not one line: \(error)", file: file, line: line)
        }
    }

    // MARK: - Files written by numpy

    func testReadsEveryFileNumpyWrote() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: Self.fixture("expected.json")))
        let expected = try JSONDecoder().decode(ExpectedArrays.self, from: data)
        // f4 f8 f2 i8 i4 u1, a 0-d scalar, an empty array, format versions 2.0 and 3.0.
        XCTAssertEqual(expected.arrays.count, 10)
        for (name, array) in expected.arrays.sorted(by: { $0.key < $1.key }) {
            let tensor = try NumpyFile.read(from: Self.fixture(name))
            XCTAssertEqual(tensor.shape, array.shape, name)
            XCTAssertEqual(tensor.data, array.values, name)
        }
    }

    func testScalarHasEmptyShape() throws {
        let tensor = try NumpyFile.read(from: Self.fixture("scalar.npy"))
        XCTAssertEqual(tensor, Tensor(scalar: 3.25))
    }

    func testEncodeReproducesNumpyBytesExactly() throws {
        for name in ["f4.npy", "scalar.npy", "empty.npy"] {
            let original = try Data(contentsOf: URL(fileURLWithPath: Self.fixture(name)))
            let tensor = try NumpyFile.decode(original, path: name)
            XCTAssertEqual(NumpyFile.encode(tensor), original, name)
        }
    }

    /// Class indices as int64 (`write(integers:)`, what `tutor dataset` writes for labels): the
    /// bytes np.save wrote for the same array.
    func testIntegersAreWrittenAsNumpyWritesInt64() throws {
        let original = try Data(contentsOf: URL(fileURLWithPath: Self.fixture("i8.npy")))
        let values = try NumpyFile.decode(original, path: "i8.npy").data.map { Int($0) }
        XCTAssertEqual(values, [0, -7, 123_456])
        let path = temporaryDirectory + "/labels.npy"
        try NumpyFile.write(integers: values, to: path)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path)), original)
    }

    /// Several files written together land all or none: a file that cannot be written (its
    /// folder is missing) leaves the ones before it as they were, and no temporary behind.
    func testFilesWrittenTogetherLandAllOrNone() throws {
        let (first, second) = (temporaryDirectory + "/a.npy", temporaryDirectory + "/b.npy")
        try writeFilesTogether([(first, Data("old a".utf8)), (second, Data("old b".utf8))])
        XCTAssertThrowsError(try writeFilesTogether([(first, Data("new a".utf8)), (second, Data("new b".utf8)),
                                                    (temporaryDirectory + "/missing/c.npy", Data("c".utf8))])) { error in
            XCTAssertTrue("\(error)".contains("missing/c.npy"), "\(error)")
        }
        XCTAssertEqual(FileManager.default.contents(atPath: first), Data("old a".utf8))
        XCTAssertEqual(FileManager.default.contents(atPath: second), Data("old b".utf8))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: temporaryDirectory).sorted(), ["a.npy", "b.npy"])
        try writeFilesTogether([(first, Data("new a".utf8)), (second, Data("new b".utf8))])
        XCTAssertEqual(FileManager.default.contents(atPath: second), Data("new b".utf8))
    }

    func testFortranOrderIsAClearError() throws {
        let path = try Self.fixture("fortran.npy")
        XCTAssertThrowsError(try NumpyFile.read(from: path)) { error in
            XCTAssertEqual(error as? MiniNetError, .file(path,
                "array is stored in Fortran (column-major) order; save np.ascontiguousarray(array) instead"))
        }
    }

    func testBigEndianIsAClearError() throws {
        let path = try Self.fixture("bigendian.npy")
        XCTAssertThrowsError(try NumpyFile.read(from: path)) { error in
            XCTAssertTrue("\(error)".contains("unsupported dtype '>f4'"), "\(error)")
        }
    }

    // MARK: - Round trips

    func testWriteThenReadRoundTrip() throws {
        let tensors = [
            Tensor(scalar: -0.0),
            Tensor(zeros: [0]),
            Tensor(zeros: [2, 0, 3]),
            Tensor(shape: [5], data: [1, -1, .infinity, -.infinity, .leastNonzeroMagnitude]),
            Tensor(shape: [2, 3, 4], data: (0..<24).map { Float($0) * 0.37 - 4 }),
            Tensor(shape: [1, 1, 1, 1, 2], data: [.greatestFiniteMagnitude, .ulpOfOne]),
        ]
        let path = temporaryDirectory + "/tensor.npy"
        for tensor in tensors {
            try NumpyFile.write(tensor, to: path)
            let back = try NumpyFile.read(from: path)
            XCTAssertEqual(back.shape, tensor.shape)
            XCTAssertEqual(back.data.map(\.bitPattern), tensor.data.map(\.bitPattern))
            // numpy aligns the data to 64 bytes.
            XCTAssertEqual((try Data(contentsOf: URL(fileURLWithPath: path)).count - tensor.count * 4) % 64, 0)
        }
        let nan = try NumpyFile.decode(NumpyFile.encode(Tensor(shape: [1], data: [.nan])), path: "nan.npy")
        XCTAssertTrue(nan.data[0].isNaN)
    }

    func testHeaderParserAcceptsAnySpacingQuotingAndKeyOrder() throws {
        let payload = float32Bytes([1, 2])
        let headers = [
            "{'descr':'<f4','fortran_order':False,'shape':(2,)}",
            "{ \"shape\" : ( 2 , ) ,\n \"descr\" : \"<f4\" , \"fortran_order\" : False , }",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (2L,), }",
            "{'fortran_order': False, 'shape': (2,), 'descr': '<f4'}   \t",
        ]
        for header in headers {
            XCTAssertEqual(try NumpyFile.decode(npyBytes(header: header, payload: payload), path: "x.npy"),
                           Tensor(shape: [2], data: [1, 2]), header)
        }
        // Without the padding to 64 bytes and without the final newline, too.
        XCTAssertEqual(try NumpyFile.decode(npyBytes(header: headers[0], payload: payload, pad: false), path: "x.npy"),
                       Tensor(shape: [2], data: [1, 2]))
        // Version 2.0 with its 4-byte header length.
        XCTAssertEqual(try NumpyFile.decode(npyBytes(header: headers[0], payload: payload, version: 2), path: "x.npy"),
                       Tensor(shape: [2], data: [1, 2]))
    }

    func testPythonLiteralParser() throws {
        XCTAssertEqual(try PythonLiteralParser.parse("(3)"), .integer(3))
        XCTAssertEqual(try PythonLiteralParser.parse("(3,)"), .tuple([.integer(3)]))
        XCTAssertEqual(try PythonLiteralParser.parse("()"), .tuple([]))
        XCTAssertEqual(try PythonLiteralParser.parse("[1, -2, None, True]"),
                       .list([.integer(1), .integer(-2), .none, .boolean(true)]))
        XCTAssertEqual(try PythonLiteralParser.parse("'a\\'b'"), .string("a'b"))
        // Deep nesting is an error, not a stack overflow.
        XCTAssertThrowsError(try PythonLiteralParser.parse(String(repeating: "(", count: 100_000)))
        XCTAssertNoThrow(try PythonLiteralParser.parse(String(repeating: "(", count: 30) + "1" + String(repeating: ",)", count: 30)))
        for bad in ["", "{", "{'a' 1}", "(1, 2", "'open", "Truey", "1.5", "99999999999999999999", "{'a': 1} x", "@"] {
            XCTAssertThrowsError(try PythonLiteralParser.parse(bad), bad)
        }
    }

    // MARK: - Corrupt files

    func testCorruptMagicVersionAndHeaderLength() {
        assertDecodeFails(Data(), contains: "too short")
        assertDecodeFails(Data([0x93, 78, 85, 77]), contains: "too short")
        assertDecodeFails(Data(Array("PK\u{3}\u{4}NUMPYxxxxxxxxxx".utf8)), contains: "not a .npy file")
        var badVersion = npyBytes(header: "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", payload: float32Bytes([1]))
        badVersion[6] = 4
        assertDecodeFails(badVersion, contains: "unsupported .npy format version 4.0")
        var longHeader = npyBytes(header: "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", payload: float32Bytes([1]))
        longHeader[8] = 0xFF
        longHeader[9] = 0xFF
        assertDecodeFails(longHeader, contains: "header length 65535 runs past the end")
        // Version 2 needs 12 bytes before the header.
        assertDecodeFails(Data([0x93] + Array("NUMPY".utf8) + [2, 0, 0, 0]), contains: "too short")
    }

    func testCorruptHeaderDictionary() {
        let cases: [(header: String, message: String)] = [
            ("{'descr': '<f4', 'fortran_order': False, 'shape': (1,) ", "malformed header"),
            ("['descr', '<f4']", "not a dict"),
            ("{'descr': '<f4', 'shape': (1,)}", "keys must be"),
            ("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'extra': 1}", "keys must be"),
            ("{'descr': '<f4', 'descr': '<f4', 'shape': (1,)}", "keys must be"),
            ("{'descr': [('x', '<f4')], 'fortran_order': False, 'shape': (1,)}", "structured arrays"),
            ("{'descr': '<c8', 'fortran_order': False, 'shape': (1,)}", "unsupported dtype '<c8'"),
            ("{'descr': '<f4', 'fortran_order': 0, 'shape': (1,)}", "'fortran_order' must be True or False"),
            ("{'descr': '<f4', 'fortran_order': False, 'shape': [1]}", "'shape' must be a tuple"),
            ("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,)}", "non-negative integers"),
            ("{'descr': '<f4', 'fortran_order': False, 'shape': ('1',)}", "non-negative integers"),
            ("{'descr': '<f4', 'fortran_order': False, 'shape': (1.0,)}", "malformed header"),
            ("{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296)}", "too large"),
            ("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,)}", "integer too large"),
        ]
        for (header, message) in cases {
            assertDecodeFails(npyBytes(header: header, payload: float32Bytes([1])), contains: message)
        }
        for header in [String(repeating: "(", count: 200_000), "{'descr': " + String(repeating: "[", count: 200_000)] {
            assertDecodeFails(npyBytes(header: header, payload: [], version: 2), contains: "nested too deeply")
        }
        // Version 3 headers must be UTF-8.
        var invalidUTF8 = npyBytes(header: "{'descr': '<f4', 'fortran_order': False, 'shape': (1,)}",
                                   payload: float32Bytes([1]), version: 3)
        invalidUTF8[13] = 0xFF
        assertDecodeFails(invalidUTF8, contains: "not valid UTF-8")
    }

    func testPayloadSizeMustMatchShape() {
        let header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"
        assertDecodeFails(npyBytes(header: header, payload: float32Bytes([1, 2, 3, 4, 5])),
                          contains: "file is truncated: expected 24 bytes of data, found 20")
        assertDecodeFails(npyBytes(header: header, payload: float32Bytes([Float](repeating: 0, count: 7))),
                          contains: "4 unexpected bytes after the 24 bytes of data")
        let doubles = "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }"
        assertDecodeFails(npyBytes(header: doubles, payload: [UInt8](repeating: 0, count: 15)),
                          contains: "file is truncated: expected 16 bytes of data, found 15")
    }

    func testEveryPrefixAndEveryFlippedByteOfAValidFileIsHandled() throws {
        let whole = try Data(contentsOf: URL(fileURLWithPath: Self.fixture("f4.npy")))
        for length in 0..<whole.count {
            XCTAssertThrowsError(try NumpyFile.decode(whole.prefix(length), path: "cut.npy"), "length \(length)")
        }
        // A flipped byte must either decode (e.g. inside the data or the padding) or throw.
        for index in 0..<whole.count {
            for flip: UInt8 in [0x01, 0x80, 0xFF] {
                var corrupt = whole
                corrupt[index] ^= flip
                _ = try? NumpyFile.decode(corrupt, path: "flipped.npy")
            }
        }
    }

    func testMissingFileAndDirectory() {
        let missing = temporaryDirectory + "/absent.npy"
        XCTAssertThrowsError(try NumpyFile.read(from: missing)) { error in
            XCTAssertEqual(error as? MiniNetError, .file(missing, "no such file"))
        }
        XCTAssertThrowsError(try NumpyFile.read(from: temporaryDirectory)) { error in
            XCTAssertEqual(error as? MiniNetError, .file(temporaryDirectory, "is a directory, not a file"))
        }
    }

    // MARK: - Atomic writing

    func testWritingIsAtomic() throws {
        let path = temporaryDirectory + "/weights.npy"
        try NumpyFile.write(Tensor(shape: [2], data: [1, 2]), to: path)
        try NumpyFile.write(Tensor(shape: [3], data: [4, 5, 6]), to: path)
        XCTAssertEqual(try NumpyFile.read(from: path), Tensor(shape: [3], data: [4, 5, 6]))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: temporaryDirectory), ["weights.npy"])

        // Into a missing directory: an error naming the file, and nothing created.
        let missing = temporaryDirectory + "/absent/weights.npy"
        XCTAssertThrowsError(try NumpyFile.write(Tensor(scalar: 1), to: missing)) { error in
            guard case let MiniNetError.file(errorPath, problem) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(errorPath, missing)
            XCTAssertTrue(problem.contains("cannot create file"), problem)
        }
        // Over a non-empty directory: the final rename fails; the temporary file must be gone.
        let blocker = temporaryDirectory + "/blocker.npy"
        try FileManager.default.createDirectory(atPath: blocker + "/inside", withIntermediateDirectories: true)
        XCTAssertThrowsError(try NumpyFile.write(Tensor(scalar: 1), to: blocker)) { error in
            XCTAssertTrue("\(error)".contains("cannot replace file"), "\(error)")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: temporaryDirectory).sorted(),
                       ["blocker.npy", "weights.npy"])
    }

    // MARK: - Hostile files (issue 11)

    func testNonFiniteInputsAreRefusedNamingTheFirstBadIndex() throws {
        let path = temporaryDirectory + "/input.npy"
        var values = [Float](repeating: 0.25, count: 2 * 3 * 4)
        values[1 * 12 + 2 * 4 + 3] = .infinity  // [1, 2, 3], the last value
        try NumpyFile.write(Tensor(shape: [2, 3, 4], data: values), to: path)
        XCTAssertThrowsError(try NumpyFile.readFinite(from: path)) { error in
            XCTAssertEqual(error as? MiniNetError, .file(path, "value at index [1, 2, 3] (flat index 23) is inf; an input must hold finite numbers only"))
        }
        values[23] = .nan
        values[2] = -.infinity
        try NumpyFile.write(Tensor(shape: [2, 3, 4], data: values), to: path)
        XCTAssertThrowsError(try NumpyFile.readFinite(from: path)) { error in
            XCTAssertTrue("\(error)".contains("index [0, 0, 2] (flat index 2) is -inf"), "\(error)")
        }
        // `read` itself keeps NaN: a saved attribution may legitimately hold one.
        XCTAssertTrue(try NumpyFile.read(from: path).data[23].isNaN)
        let finite = Tensor(shape: [2, 2], data: [1, 2, 3, 4])
        try NumpyFile.write(finite, to: path)
        XCTAssertEqual(try NumpyFile.readFinite(from: path), finite)
    }

    func testElementCountIsLimitedBeforeAllocation() {
        XCTAssertEqual(NumpyFile.maximumElementCount, 100_000_000)
        // A few bytes that claim 400 MB: refused from the header, before any allocation.
        assertDecodeFails(npyBytes(header: "{'descr': '<f4', 'fortran_order': False, 'shape': (100000001,), }", payload: []),
                          contains: "shape [100000001] is too large (the limit is 100000000 values)")
        assertDecodeFails(npyBytes(header: "{'descr': '|u1', 'fortran_order': False, 'shape': (50000, 50000), }", payload: [1, 2]),
                          contains: "too large")
        // Within the limit, the payload must still be all there.
        assertDecodeFails(npyBytes(header: "{'descr': '<f4', 'fortran_order': False, 'shape': (1000, 1000), }", payload: [1, 2, 3, 4]),
                          contains: "file is truncated: expected 4000000 bytes of data, found 4")
    }

    func testOnlyRegularFilesAreRead() throws {
        let fifo = temporaryDirectory + "/input.npy"
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        XCTAssertThrowsError(try NumpyFile.read(from: fifo)) { error in
            XCTAssertEqual(error as? MiniNetError, .file(fifo, "is a pipe (FIFO), not a regular file; save the data to a file first"))
        }
        XCTAssertThrowsError(try NumpyFile.read(from: "/dev/zero")) { error in
            XCTAssertEqual(error as? MiniNetError, .file("/dev/zero", "is a device, not a regular file"))
        }
    }

    func testFailedWriteLeavesTheExistingFileUntouched() throws {
        // A file in the way of the folder: the temporary file cannot be created.
        let path = temporaryDirectory + "/map.npy"
        try NumpyFile.write(Tensor(shape: [2], data: [1, 2]), to: path)
        XCTAssertThrowsError(try NumpyFile.write(Tensor(shape: [1], data: [3]), to: path + "/inside.npy"))
        XCTAssertEqual(try NumpyFile.read(from: path), Tensor(shape: [2], data: [1, 2]))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: temporaryDirectory), ["map.npy"])
    }
}

import Foundation
import XCTest
@testable import MiniNet

/// Regressions for the hostile .pth files a fuzzing campaign found (issue 11). Each file is a
/// minimal legacy checkpoint assembled here, opcode by opcode, so that the test shows exactly
/// which declared number is hostile.
final class HostileCheckpointTests: XCTestCase {
    /// Writes pickle opcodes (names as in Python's `pickletools`).
    struct PickleWriter {
        var bytes: [UInt8] = [0x80, 0x02]  // PROTO 2

        mutating func string(_ text: String) {  // SHORT_BINUNICODE
            bytes += [0x8c, UInt8(text.utf8.count)] + Array(text.utf8)
        }
        /// BININT for 32-bit values, LONG1 with 8 bytes beyond.
        mutating func integer(_ value: Int) {
            if let small = Int32(exactly: value) {
                bytes += [UInt8(ascii: "J")] + (0..<4).map { UInt8(truncatingIfNeeded: UInt32(bitPattern: small) >> (8 * $0)) }
            } else {
                bytes += [0x8a, 8] + (0..<8).map { UInt8(truncatingIfNeeded: UInt64(bitPattern: Int64(value)) >> (8 * UInt64($0))) }
            }
        }
        mutating func global(_ module: String, _ name: String) {
            bytes += [UInt8(ascii: "c")] + Array((module + "\n" + name + "\n").utf8)
        }
        mutating func tuple(_ values: [Int]) {
            bytes.append(UInt8(ascii: "("))
            values.forEach { integer($0) }
            bytes.append(UInt8(ascii: "t"))
        }
        mutating func op(_ code: Character) { bytes.append(code.asciiValue!) }
        mutating func stop() { op(".") }
    }

    /// One tensor view of a float32 storage: (name, size, stride, offset).
    struct View {
        var name: String
        var size: [Int]
        var stride: [Int]
        var offset = 0
    }

    /// A legacy (pre-zip) checkpoint whose state_dict holds `views` of one float32 storage
    /// "0" holding `storage`. `version` replaces the protocol-version pickle when given.
    static func legacyCheckpoint(_ views: [View], storage: [Float], version: [UInt8]? = nil) -> [UInt8] {
        var magic = PickleWriter()
        magic.bytes += [0x8a, 10] + TorchCheckpoint.legacyMagicNumber
        magic.stop()
        var versionPickle = PickleWriter()
        versionPickle.integer(1001)
        versionPickle.stop()
        var system = PickleWriter()
        system.op("}")
        system.stop()

        var object = PickleWriter()
        object.global("collections", "OrderedDict")
        object.op(")")
        object.op("R")
        for view in views {
            object.string(view.name)
            object.global("torch._utils", "_rebuild_tensor_v2")
            object.op("(")
            object.op("(")  // the persistent id ('storage', FloatStorage, '0', 'cpu', numel, None)
            object.string("storage")
            object.global("torch", "FloatStorage")
            object.string("0")
            object.string("cpu")
            object.integer(storage.count)
            object.op("N")
            object.op("t")
            object.op("Q")
            object.integer(view.offset)
            object.tuple(view.size)
            object.tuple(view.stride)
            object.bytes.append(0x89)  // NEWFALSE: requires_grad
            object.op("}")             // backward hooks
            object.op("t")
            object.op("R")
            object.op("s")
        }
        object.stop()

        var keys = PickleWriter()
        keys.op("]")
        keys.string("0")
        keys.op("a")
        keys.stop()

        var raw = (0..<8).map { UInt8(truncatingIfNeeded: UInt64(storage.count) >> (8 * UInt64($0))) }
        for value in storage { raw += (0..<4).map { UInt8(truncatingIfNeeded: value.bitPattern >> (8 * UInt32($0))) } }
        return magic.bytes + (version ?? versionPickle.bytes) + system.bytes + object.bytes + keys.bytes + raw
    }

    /// Reads `bytes` expecting a one-line error naming the file; returns the message.
    func failure(_ bytes: [UInt8], file: StaticString = #filePath, line: UInt = #line) -> String {
        do {
            let entries = try TorchCheckpoint.read(bytes: bytes, describedAs: "hostile.pth")
            XCTFail("loaded \(entries.count) tensors but should fail", file: file, line: line)
        } catch let error as MiniNetError {
            let message = error.description
            XCTAssertTrue(message.hasPrefix("hostile.pth: "), message, file: file, line: line)
            XCTAssertFalse(message.contains("\n"), message, file: file, line: line)
            return message
        } catch {
            XCTFail("threw \(error), not a MiniNetError", file: file, line: line)
        }
        return ""
    }

    func testTheBuilderMakesALoadableCheckpoint() throws {
        let bytes = Self.legacyCheckpoint([View(name: "w", size: [2, 2], stride: [1, 2])], storage: [1, 2, 3, 4])
        let entries = try TorchCheckpoint.read(bytes: bytes, describedAs: "good.pth")
        XCTAssertEqual(entries.map(\.name), ["w"])
        XCTAssertEqual(entries[0].tensor, Tensor(shape: [2, 2], data: [1, 3, 2, 4]))
    }

    // MARK: 1. Strides and offsets

    /// Regression: a size-1 axis with stride Int.max passed the range check (it is never
    /// stepped along) and then overflowed, trapping, in the strided walk.
    func testHugeStrideOnASizeOneAxisNoLongerTraps() throws {
        let bytes = Self.legacyCheckpoint([View(name: "w", size: [2, 1, 2], stride: [1, Int.max, 2])], storage: [1, 2, 3, 4])
        let entries = try TorchCheckpoint.read(bytes: bytes, describedAs: "odd.pth")
        XCTAssertEqual(entries[0].tensor, Tensor(shape: [2, 1, 2], data: [1, 3, 2, 4]))
    }

    func testStridesAndOffsetsThatOverflowOrLeaveTheStorageAreRefused() {
        let storage: [Float] = [1, 2, 3, 4]
        let cases: [(View, String)] = [
            (View(name: "w", size: [3, 2], stride: [1 << 62, 1]), "stride [4611686018427387904, 1] is out of range"),
            (View(name: "w", size: [3, 2], stride: [Int.max / 2, 2]), "is out of range"),
            (View(name: "w", size: [2], stride: [1], offset: Int.max), "is out of range"),
            (View(name: "w", size: [2], stride: [1], offset: 3), "reach element 4 of a storage of 4"),
            (View(name: "w", size: [2, 2], stride: [3, 1]), "reach element 4 of a storage of 4"),
            (View(name: "w", size: [1 << 40, 1 << 40], stride: [0, 0]), "exceeds \(CheckpointLimits.maximumTensorElements) elements"),
            (View(name: "w", size: [2, -1], stride: [1, 1]), "negative size, stride or offset"),
            (View(name: "w", size: [2], stride: [1, 1]), "do not match"),
            (View(name: "w", size: Array(repeating: 1, count: 9), stride: Array(repeating: 1, count: 9)), "more than 8 axes"),
        ]
        for (view, expected) in cases {
            let message = failure(Self.legacyCheckpoint([view], storage: storage))
            XCTAssertTrue(message.contains("tensor 'w'") && message.contains(expected), "\(view): \(message)")
        }
    }

    // MARK: 2. Zero strides

    /// Regression: a zero-stride view turned one stored float into 2³¹ elements.
    func testZeroStrideViewsCannotMultiplyMemory() {
        let one = failure(Self.legacyCheckpoint([View(name: "w", size: [1 << 16, 1 << 15], stride: [0, 0])], storage: [1]))
        XCTAssertTrue(one.contains("exceeds \(CheckpointLimits.maximumTensorElements) elements (limit maximumTensorElements)"), one)
        // Many views of one float, each within the per-tensor limit: the file's total is refused
        // before any of them is allocated.
        let side = 1 << 13  // 2²⁶ elements each
        let views = (0..<3).map { View(name: "w\($0)", size: [side, side], stride: [0, 0]) }
        let many = failure(Self.legacyCheckpoint(views, storage: [1]))
        XCTAssertTrue(many.contains("tensor 'w2' takes the checkpoint past \(CheckpointLimits.maximumTotalElements) elements in all"), many)
        // A modest expanded view (torch.save keeps expand()'s zero strides) still loads.
        let expanded = try? TorchCheckpoint.read(bytes: Self.legacyCheckpoint([View(name: "e", size: [3, 2], stride: [0, 1])],
                                                                               storage: [5, 6]), describedAs: "expanded.pth")
        XCTAssertEqual(expanded?.first?.tensor, Tensor(shape: [3, 2], data: [5, 6, 5, 6, 5, 6]))
    }

    // MARK: 4. Error messages print bounded summaries

    /// Regression: a version pickle holding t₉₀ with tₖ₊₁ = (tₖ, tₖ) (each tuple shared through
    /// the memo) made printing the error take 2⁹⁰ steps.
    func testADeeplySharedVersionTuplePrintsQuickly() {
        var version = PickleWriter()
        version.op(")")
        version.bytes += [UInt8(ascii: "q"), 0]          // BINPUT 0
        for _ in 0..<90 {
            version.bytes += [UInt8(ascii: "h"), 0, 0x86, UInt8(ascii: "q"), 0]  // BINGET 0, TUPLE2, BINPUT 0
        }
        version.stop()
        let start = Date()
        let message = failure(Self.legacyCheckpoint([], storage: [], version: version.bytes))
        XCTAssertLessThan(Date().timeIntervalSince(start), 2)
        XCTAssertTrue(message.contains("legacy checkpoint has protocol version ((("), message)
        XCTAssertLessThan(message.count, 200, message)
    }

    /// Regression: a dict as the version printed "dictionary(MiniNet.PickleDictionary)".
    func testValuesInMessagesHaveReadableNames() {
        var version = PickleWriter()
        version.op("}")
        version.stop()
        let message = failure(Self.legacyCheckpoint([], storage: [], version: version.bytes))
        XCTAssertTrue(message.hasSuffix("protocol version a dict of 0 entries, expected 1001"), message)
        XCTAssertFalse(message.contains("MiniNet."), message)

        var long = PickleWriter()
        long.string(String(repeating: "x", count: 200) + "\nsecond line")
        long.stop()
        let longMessage = failure(Self.legacyCheckpoint([], storage: [], version: long.bytes))
        XCTAssertLessThan(longMessage.count, 200, longMessage)
    }

    func testSummariesAreBounded() {
        let list = PickleList()
        list.items = (0..<1000).map { .integer($0) }
        let summary = PickleValue.list(list).summary()
        XCTAssertLessThanOrEqual(summary.count, 80)
        XCTAssertTrue(summary.hasPrefix("[0, 1, 2,"), summary)
        XCTAssertEqual(PickleValue.tuple([.tuple([.tuple([.integer(1)], depth: 1)], depth: 2)], depth: 3).summary(), "(((…)))")
        XCTAssertEqual(printable("a\nb"), "a?b")
        XCTAssertEqual(printable(String(repeating: "y", count: 100), maximumLength: 10), "yyyyyyyyy…")
    }

    // MARK: 5. Unpickler limits

    /// Runs `pickle` with small limits; returns the error message.
    func unpicklingFailure(_ pickle: PickleWriter, _ limits: Unpickler.Limits) -> String {
        var unpickler = Unpickler(bytes: pickle.bytes, limits: limits) { _ in .none }
        do {
            _ = try unpickler.load()
            XCTFail("the pickle should be refused")
        } catch let UnpicklingError.malformed(_, problem) {
            return problem
        } catch {
            XCTFail("\(error)")
        }
        return ""
    }

    func testUnpicklerLimitsNameTheLimitAndTheValue() {
        var nones = PickleWriter()
        for _ in 0..<20 { nones.op("N") }
        nones.stop()
        var small = Unpickler.Limits()
        small.stackSize = 10
        XCTAssertEqual(unpicklingFailure(nones, small),
                       "the pickle's stack holds 11 values and marks, more than 10 (limit maximumPickleStackSize)")

        small = Unpickler.Limits()
        small.operations = 15
        XCTAssertEqual(unpicklingFailure(nones, small), "the pickle runs more than 15 opcodes (limit maximumPickleOperations)")

        var memo = PickleWriter()
        memo.op("N")
        for _ in 0..<20 { memo.bytes.append(0x94) }  // MEMOIZE: a new memo entry each time
        memo.stop()
        small = Unpickler.Limits()
        small.memoEntries = 5
        XCTAssertEqual(unpicklingFailure(memo, small), "the pickle's memo would hold more than 5 values (limit maximumPickleMemoEntries)")

        var marks = PickleWriter()
        for _ in 0..<20 { marks.op("(") }
        marks.stop()
        small = Unpickler.Limits()
        small.stackSize = 10
        XCTAssertTrue(unpicklingFailure(marks, small).contains("limit maximumPickleStackSize"))
    }

    /// The standard limits, reached for real: the error goes through `TorchCheckpoint.read`.
    func testTheStandardMemoLimitIsEnforced() {
        var memo = PickleWriter()
        memo.op("N")
        memo.bytes += [UInt8](repeating: 0x94, count: CheckpointLimits.maximumPickleMemoEntries + 1)
        memo.stop()
        let message = failure(memo.bytes)
        XCTAssertTrue(message.contains("more than \(CheckpointLimits.maximumPickleMemoEntries) values (limit maximumPickleMemoEntries)"), message)
    }

    // MARK: File size

    /// A weights file is read whole, so one past `maximumFileBytes` is refused before it is
    /// opened, naming its size and the limit. (A sparse file: no disk space is used.)
    func testWeightsFilesOverTheSizeLimitAreRefusedUnread() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("hostile-size-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let size = CheckpointLimits.maximumFileBytes + 1
        let readers: [(String, (String) throws -> Void)] = [
            ("big.pth", { _ = try TorchCheckpoint.read(from: $0) }),
            ("big.safetensors", { _ = try SafeTensorsFile.read(from: $0) }),
            ("model.safetensors", { _ = try ImageClassifier.load(from: $0) }),
        ]
        for (name, read) in readers {
            let path = folder.appendingPathComponent(name).path
            XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: nil))
            XCTAssertEqual(truncate(path, off_t(size)), 0)
            XCTAssertThrowsError(try read(path), name) { error in
                XCTAssertEqual("\(error)", "\(path): is \(size) bytes, over the limit of \(CheckpointLimits.maximumFileBytes) bytes "
                               + "(2 GiB) for a weights file (limit maximumFileBytes)")
            }
        }
    }

    /// A file that is no checkpoint at all (a README renamed .pth) or an empty one is said to be
    /// that, not read as a safetensors file with an absurd header length.
    func testAFileOfAnotherKindIsNamedAsSuch() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("hostile-kind-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let text = folder.appendingPathComponent("x.pth").path, empty = folder.appendingPathComponent("empty.pth").path
        XCTAssertTrue(FileManager.default.createFile(atPath: text, contents: Data("# tutor\n\nA README.\n".utf8)))
        XCTAssertTrue(FileManager.default.createFile(atPath: empty, contents: Data()))
        XCTAssertThrowsError(try PretrainedResNet.readStateDict(from: text)) { error in
            XCTAssertEqual("\(error)", "\(text): is neither a PyTorch checkpoint (zip or pickle) nor a safetensors file: it starts with the bytes 23 20 74 75")
        }
        XCTAssertThrowsError(try PretrainedResNet.readStateDict(from: empty)) { error in
            XCTAssertEqual("\(error)", "\(empty): is empty; a PyTorch checkpoint or a safetensors file was expected")
        }
    }
}

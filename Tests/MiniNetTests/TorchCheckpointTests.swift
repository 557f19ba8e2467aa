import Foundation
import XCTest
@testable import MiniNet

/// Fixtures come from tools/fixtures/make_pth_fixtures.py (torch.save for the good ones,
/// hand-assembled pickles for the bad ones); expected.json holds PyTorch's own values.
final class TorchCheckpointTests: XCTestCase {
    struct ExpectedTensor: Decodable {
        var name: String
        var shape: [Int]
        var values: [Double]
    }

    func fixturePath(_ name: String) throws -> String {
        let url = try XCTUnwrap(Bundle.module.url(forResource: "Fixtures/pth/" + name, withExtension: nil),
                                "missing fixture \(name)")
        return url.path
    }

    func expectedTensors() throws -> [String: [ExpectedTensor]] {
        let data = try Data(contentsOf: URL(fileURLWithPath: try fixturePath("expected.json")))
        return try JSONDecoder().decode([String: [ExpectedTensor]].self, from: data)
    }

    /// A scratch file holding `bytes`, removed when the test ends.
    func temporaryFile(_ bytes: [UInt8], name: String = "checkpoint.pth") throws -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("pth-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url.path
    }

    /// Reads `path` (or `bytes`, named `path`, when given) expecting failure; returns the
    /// one-line message.
    func failureMessage(_ path: String, bytes: [UInt8]? = nil,
                        file: StaticString = #filePath, line: UInt = #line) -> String {
        do {
            let entries = try bytes.map { try TorchCheckpoint.read(bytes: $0, describedAs: path) }
                ?? TorchCheckpoint.read(from: path)
            XCTFail("\(path) loaded \(entries.count) tensors but should fail", file: file, line: line)
            return ""
        } catch let error as MiniNetError {
            let message = error.description
            XCTAssertTrue(message.hasPrefix(path + ": "), "message does not name the file: \(message)", file: file, line: line)
            XCTAssertFalse(message.contains("\n"), "message is not one line: \(message)", file: file, line: line)
            return message
        } catch {
            XCTFail("\(path) threw \(error), not a MiniNetError", file: file, line: line)
            return ""
        }
    }

    // MARK: Good checkpoints

    func testEveryGoodFixtureMatchesPyTorch() throws {
        let expected = try expectedTensors()
        XCTAssertEqual(expected.count, 8)
        for (fixture, tensors) in expected.sorted(by: { $0.key < $1.key }) {
            let entries = try TorchCheckpoint.read(from: try fixturePath(fixture))
            XCTAssertEqual(entries.map(\.name), tensors.map(\.name), fixture)
            for (entry, want) in zip(entries, tensors) {
                XCTAssertEqual(entry.tensor.shape, want.shape, "\(fixture) \(want.name)")
                // Exact: every stored value is representable in Float32 or rounds the same way.
                XCTAssertEqual(entry.tensor.data, want.values.map { Float($0) }, "\(fixture) \(want.name)")
            }
        }
    }

    func testZipAndLegacyContainersHoldTheSameStateDict() throws {
        let zipped = try TorchCheckpoint.read(from: try fixturePath("small_zip.pth"))
        let legacy = try TorchCheckpoint.read(from: try fixturePath("small_legacy.pth"))
        XCTAssertEqual(zipped.map(\.name), ["0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean",
                                            "1.running_var", "1.num_batches_tracked", "4.weight", "4.bias"])
        XCTAssertEqual(zipped.map(\.name), legacy.map(\.name))
        XCTAssertEqual(zipped.map(\.tensor), legacy.map(\.tensor))
        let batchesTracked = try XCTUnwrap(zipped.first { $0.name == "1.num_batches_tracked" }).tensor
        XCTAssertEqual(batchesTracked, Tensor(scalar: 2))
    }

    func testViewsHonourOffsetSizeAndStride() throws {
        for fixture in ["views_zip.pth", "views_legacy.pth"] {
            let entries = try TorchCheckpoint.read(from: try fixturePath(fixture))
            let byName = Dictionary(uniqueKeysWithValues: entries.map { ($0.name, $0.tensor) })
            // base[i, j] = (6i + j) / 8 for a [4, 6] base; transposed[j, i] = base[i, j].
            let transposed = try XCTUnwrap(byName["transposed"])
            XCTAssertEqual(transposed.shape, [6, 4])
            XCTAssertEqual(transposed[5, 3], Float(6 * 3 + 5) / 8)
            XCTAssertEqual(try XCTUnwrap(byName["columns"]).data, [1, 3, 7, 9, 13, 15, 19, 21].map { Float($0) / 8 })
            XCTAssertEqual(try XCTUnwrap(byName["expanded"]).data, [1.5, -2, 3.25, 1.5, -2, 3.25])
            XCTAssertEqual(try XCTUnwrap(byName["scalar"]), Tensor(scalar: 7))
            XCTAssertEqual(try XCTUnwrap(byName["empty"]).shape, [0, 3])
        }
    }

    func testHalfPrecisionConversion() {
        XCTAssertEqual(TorchCheckpoint.floatFromHalf(0x3c00), 1)
        XCTAssertEqual(TorchCheckpoint.floatFromHalf(0xc000), -2)
        XCTAssertEqual(TorchCheckpoint.floatFromHalf(0x7bff), 65504)           // largest half
        XCTAssertEqual(TorchCheckpoint.floatFromHalf(0x0001), 0x1p-24)         // smallest subnormal
        XCTAssertEqual(TorchCheckpoint.floatFromHalf(0x8000).sign, .minus)     // -0
        XCTAssertEqual(TorchCheckpoint.floatFromHalf(0x7c00), .infinity)
        XCTAssertTrue(TorchCheckpoint.floatFromHalf(0x7e00).isNaN)
    }

    // MARK: Hostile and malformed checkpoints

    func testForbiddenGlobalsAreRefusedWithoutRunningAnything() throws {
        for (fixture, global) in [("malicious_zip.pth", "os.system"), ("malicious_legacy.pth", "os.system"),
                                  ("malicious_stack_global.pth", "builtins.eval")] {
            let path = try fixturePath(fixture)
            XCTAssertEqual(failureMessage(path),
                           "\(path): refusing to load: the pickle asks for global '\(global)', which a state_dict never needs")
        }
    }

    func testMalformedFixturesFailWithTheRightMessage() throws {
        let cases: [(String, String)] = [
            ("no_data_pkl.pth", "no <archive>/data.pkl"),
            ("missing_storage.pth", "storage record archive/data/0 is missing"),
            ("storage_too_small.pth", "holds 12 bytes, but its tensors need 16"),
            ("view_out_of_range.pth", "tensor 'weight': size [3, 3], stride [3, 1] and offset 0 reach element 8 of a storage of 4"),
            ("offset_out_of_range.pth", "reach element 4 of a storage of 4"),
            ("absurd_size.pth", "exceeds \(TorchCheckpoint.maximumTensorElementCount) elements"),
            ("memo_out_of_range.pth", "memo index 7 was never stored"),
            ("stack_underflow.pth", "stack underflow"),
            ("deep_nesting.pth", "nested more than \(Unpickler.maximumNesting) deep"),
            ("absurd_length.pth", "runs past the end of the pickle"),
            ("not_a_state_dict.pth", "holds a list, not a state_dict"),
            ("unknown_opcode.pth", "opcode 0x81 is not one a state_dict uses"),
            ("legacy_wrong_count.pth", "storage '7' holds 3 elements, but the pickle says 4"),
            ("legacy_short_storage.pth", "storage '7' is truncated"),
        ]
        for (fixture, expected) in cases {
            let message = failureMessage(try fixturePath(fixture))
            XCTAssertTrue(message.contains(expected), "\(fixture): got \"\(message)\", expected \"\(expected)\"")
        }
    }

    func testMissingFileAndRandomBytes() throws {
        XCTAssertTrue(failureMessage("/nonexistent/weights.pth").hasSuffix("no such file"))
        var generator = SystemRandomNumberGenerator()
        let noise = (0..<4096).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let message = failureMessage(try temporaryFile([0x13] + noise))
        XCTAssertTrue(message.contains("not a PyTorch checkpoint"), message)
        // Random bytes after a zip signature or a PROTO opcode must fail cleanly too.
        _ = failureMessage(try temporaryFile([0x50, 0x4b, 0x03, 0x04] + noise))
        _ = failureMessage(try temporaryFile([0x80, 0x02] + noise))
    }

    func testEveryTruncationOfTheZipFailsCleanly() throws {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: try fixturePath("small_zip.pth"))))
        for length in 0..<bytes.count {
            _ = failureMessage("cut.pth", bytes: Array(bytes[..<length]))
        }
        let path = try temporaryFile([])
        try Data(bytes[..<(bytes.count / 2)]).write(to: URL(fileURLWithPath: path))
        XCTAssertTrue(failureMessage(path).contains("not a readable zip archive"))
    }

    func testEveryTruncationOfTheLegacyFileFailsCleanly() throws {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: try fixturePath("small_legacy.pth"))))
        for length in 0..<bytes.count {
            _ = failureMessage("cut.pth", bytes: Array(bytes[..<length]))
        }
        let path = try temporaryFile([])
        try Data(bytes[..<1500]).write(to: URL(fileURLWithPath: path))
        XCTAssertTrue(failureMessage(path).contains("is truncated"))
    }

    /// Changes every byte of the zip (headers, directory, pickle, storages) to a few values:
    /// each result must be a checkpoint or a one-line error, never a crash or a hang.
    func testCorruptedZipNeverCrashes() throws {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: try fixturePath("small_zip.pth"))))
        for position in 0..<bytes.count {
            for replacement: UInt8 in [0x00, 0xff, bytes[position] ^ 0x01] {
                var corrupted = bytes
                corrupted[position] = replacement
                do {
                    _ = try TorchCheckpoint.read(bytes: corrupted, describedAs: "corrupted.pth")
                } catch let error as MiniNetError {
                    XCTAssertFalse(error.description.contains("\n"))
                }
            }
        }
    }

    /// Changes every byte of the legacy pickles, one at a time, to a few values: each result
    /// must be either a checkpoint or a one-line error, never a crash or a hang.
    func testCorruptedLegacyPicklesNeverCrash() throws {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: try fixturePath("small_legacy.pth"))))
        let pickleEnd = 1100  // the five pickles; the raw storages follow
        for position in 0..<Swift.min(pickleEnd, bytes.count) {
            for replacement: UInt8 in [0x00, 0xff, bytes[position] ^ 0x01] {
                var corrupted = bytes
                corrupted[position] = replacement
                do {
                    _ = try TorchCheckpoint.read(bytes: corrupted, describedAs: "corrupted.pth")
                } catch let error as MiniNetError {
                    XCTAssertFalse(error.description.contains("\n"))
                }
            }
        }
    }
}

import Foundation
import XCTest
@testable import MiniNet

/// Issue 17, item 3 ("a lighter start"): the faster ways of reading weights give exactly what
/// the plain ones gave, and refuse exactly what they refused.
final class StartupLoadingTests: XCTestCase {
    // MARK: CRC-32

    /// The textbook CRC-32, one table lookup per byte, which zlib's must agree with.
    static func textbookCRC32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xffff_ffff
        for byte in bytes {
            var value = (crc ^ UInt32(byte)) & 0xff
            for _ in 0..<8 { value = value & 1 != 0 ? 0xedb8_8320 ^ (value >> 1) : value >> 1 }
            crc = value ^ (crc >> 8)
        }
        return ~crc
    }

    func testCRC32MatchesTheTextbookLoop() {
        // The check value every CRC-32 catalogue lists for the nine digits "123456789".
        XCTAssertEqual(StoredZipArchive.crc32(ArraySlice("123456789".utf8)), 0xcbf4_3926)
        XCTAssertEqual(StoredZipArchive.crc32(ArraySlice([])), 0)
        var generator = SeededGenerator(seed: 17)
        // Around 64 and 16 bytes the folding (carry-less multiplication) path starts, and
        // hands what is left after the last whole 16-byte block to zlib.
        let lengths = Array(1...40) + Array(60...200) + [255, 256, 257, 1000, 4099, 65_536 + 13]
        let bytes = (0..<(lengths.max()! + 7)).map { _ in UInt8.random(in: 0...255, using: &generator) }
        for length in lengths {
            for start in [0, 1, 7] {  // any alignment
                let piece = Array(bytes[start..<(start + length)])
                XCTAssertEqual(StoredZipArchive.crc32(ArraySlice(piece)), Self.textbookCRC32(piece), "length \(length), start \(start)")
            }
        }
    }

    func testCRC32InPiecesEqualsCRC32OfTheWhole() {
        var generator = SeededGenerator(seed: 3)
        let bytes = (0..<5000).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let whole = StoredZipArchive.crc32(ArraySlice(bytes))
        for cut in [0, 1, 17, 64, 100, 2500, 4936, 4999, 5000] {
            let first = bytes[..<cut].withUnsafeBytes { StoredZipArchive.crc32($0) }
            let both = bytes[cut...].withUnsafeBytes { StoredZipArchive.crc32($0, after: first) }
            XCTAssertEqual(both, whole, "cut at \(cut)")
        }
    }

    // MARK: Reading from the file, piece by piece

    func fixtures(_ folder: String, _ suffix: String) throws -> [String] {
        let root = try XCTUnwrap(Bundle.module.path(forResource: "Fixtures/" + folder, ofType: nil))
        return try FileManager.default.contentsOfDirectory(atPath: root).filter { $0.hasSuffix(suffix) }.sorted()
            .map { root + "/" + $0 }
    }

    /// A scratch copy of `bytes`, removed when the test ends.
    func temporaryFile(_ bytes: [UInt8], name: String) throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("startup-\(UUID().uuidString)-" + name)
        try Data(bytes).write(to: url)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url.path
    }

    /// The outcome of a read, comparable: the tensors' names, shapes and bits, or the message.
    func outcome(_ read: () throws -> [(name: String, tensor: Tensor)]) -> String {
        do {
            return try read().map { "\($0.name) \($0.tensor.shape) \($0.tensor.data.map(\.bitPattern))" }.joined(separator: "\n")
        } catch {
            return "error: \(error)"
        }
    }

    /// Every .pth fixture, good or hostile, gives the same tensors or the same message whether
    /// it is read from its file (pread, piece by piece) or from its bytes in memory.
    func testCheckpointsReadTheSameFromTheFileAndFromBytes() throws {
        let paths = try fixtures("pth", ".pth") + fixtures("resnet", ".pth")
        XCTAssertGreaterThan(paths.count, 25)
        for path in paths {
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
            XCTAssertEqual(outcome { try TorchCheckpoint.read(from: path) },
                           outcome { try TorchCheckpoint.read(bytes: bytes, describedAs: path) }, path)
        }
    }

    func testSafeTensorsReadTheSameFromTheFileAndFromBytes() throws {
        let paths = try fixtures("safetensors", ".safetensors") + fixtures("resnet", ".safetensors")
        XCTAssertGreaterThan(paths.count, 5)
        for path in paths {
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            XCTAssertEqual(outcome { try SafeTensorsFile.read(from: path).tensors },
                           outcome { try SafeTensorsFile.decode(data, path: path).tensors }, path)
        }
    }

    /// A flipped bit in a storage record, read from the file straight into its floats, is
    /// still caught by the record's CRC-32, with one line naming the file and the record.
    func testACorruptStorageInAFileIsRefusedByItsCRC() throws {
        let original = try XCTUnwrap(fixtures("resnet", ".pth").first { $0.hasSuffix("resnet18-narrow.pth") })
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: original)))
        let archive = try StoredZipArchive(bytes: bytes)
        let record = try XCTUnwrap(archive.entries.first { $0.name.contains("/data/") && $0.dataRange.count >= 64 })
        bytes[record.dataRange.lowerBound + 17] ^= 0x04
        let path = try temporaryFile(bytes, name: "flipped.pth")
        XCTAssertThrowsError(try PretrainedResNet.load(from: path)) { error in
            let message = "\(error)"
            XCTAssertTrue(message.hasPrefix(path + ": zip entry "), message)
            XCTAssertTrue(message.hasSuffix("is corrupt (CRC-32 mismatch)"), message)
            XCTAssertFalse(message.contains("\n"), message)
        }
    }

    /// Every truncation of a checkpoint and of a safetensors file, read from the file, fails
    /// with one line (a few lengths: the whole sweep runs on bytes in TorchCheckpointTests).
    func testTruncatedFilesFailWithOneLine() throws {
        for original in try [fixtures("resnet", "resnet18-narrow.pth")[0], fixtures("resnet", "resnet18-narrow.safetensors")[0]] {
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: original)))
            for length in [0, 3, 8, 9, 100, bytes.count / 2, bytes.count - 23, bytes.count - 1] {
                let path = try temporaryFile(Array(bytes[..<length]), name: "cut\(length)" + (original.hasSuffix(".pth") ? ".pth" : ".safetensors"))
                XCTAssertThrowsError(try PretrainedResNet.readStateDict(from: path)) { error in
                    XCTAssertFalse("\(error)".contains("\n"), "\(error)")
                    XCTAssertTrue("\(error)".hasPrefix(path + ": "), "\(error)")
                }
            }
        }
    }

    // MARK: Building with the loaded weights

    /// A ResNet built with its loaded kernels holds exactly the file's numbers, and its
    /// convolutions share the loaded arrays rather than copying them.
    func testALoadedResNetHoldsTheFilesWeights() throws {
        let path = try fixtures("resnet", "resnet18-narrow.pth")[0]
        let stateDict = try PretrainedResNet.readStateDict(from: path)
        let classifier = try PretrainedResNet.load(from: path, imageSize: 64)
        for (name, tensor) in classifier.stateDict where !name.hasSuffix("num_batches_tracked") {
            let stored = try XCTUnwrap(stateDict[name], name)
            XCTAssertEqual(tensor.shape, stored.shape, name)
            XCTAssertEqual(tensor.data.map(\.bitPattern), stored.data.map(\.bitPattern), name)
        }
    }

    func testAllFiniteLooksAtTheExponentBits() {
        let finite: [Float] = [0, -0, 1, -1, .greatestFiniteMagnitude, -.greatestFiniteMagnitude,
                               .leastNonzeroMagnitude, .leastNormalMagnitude, 3.4e38, -.leastNonzeroMagnitude]
        XCTAssertTrue(ImageClassifier.allFinite(finite))
        XCTAssertTrue(ImageClassifier.allFinite([]))
        for special: Float in [.infinity, -.infinity, .nan, -.nan, .signalingNaN, Float(bitPattern: 0x7fff_ffff)] {
            for position in [0, 5, 9] {
                var values = finite
                values[position] = special
                XCTAssertFalse(ImageClassifier.allFinite(values), "\(special) at \(position)")
            }
        }
    }
}

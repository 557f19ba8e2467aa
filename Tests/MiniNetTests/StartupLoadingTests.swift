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
        for length in [1, 3, 7, 8, 9, 63, 64, 65, 1000, 4099] {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            XCTAssertEqual(StoredZipArchive.crc32(ArraySlice(bytes)), Self.textbookCRC32(bytes), "length \(length)")
        }
    }

    func testCRC32InPiecesEqualsCRC32OfTheWhole() {
        var generator = SeededGenerator(seed: 3)
        let bytes = (0..<5000).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let whole = StoredZipArchive.crc32(ArraySlice(bytes))
        for cut in [0, 1, 17, 2500, 4999, 5000] {
            let first = bytes[..<cut].withUnsafeBytes { StoredZipArchive.crc32($0) }
            let both = bytes[cut...].withUnsafeBytes { StoredZipArchive.crc32($0, after: first) }
            XCTAssertEqual(both, whole, "cut at \(cut)")
        }
    }
}

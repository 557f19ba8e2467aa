import CBLAS

/// A strict reader for the zip archives `torch.save` writes: every entry "stored"
/// (uncompressed). It reads the directory only (from the end of the file, and each entry's
/// local header); the entries' bytes are read later, by whoever needs them (`TorchCheckpoint`).
///
/// Why not a general zip library: a checkpoint may come from anywhere, and the reader must
/// turn every corrupt byte into an error. A general library (ZIPFoundation 0.9, tried first)
/// traps on some one-byte corruptions of the central directory. This reader checks every
/// offset and size against the file before using it, and never inflates anything.
///
/// Layout (all integers little-endian), read from the end:
///
///     local header 1 · data 1 · … · central directory · [zip64 end record · zip64 locator] · end record
///
/// - end of central directory (signature PK\5\6, 22 bytes + comment): entry count, directory
///   size and offset; a saturated field (0xFFFF / 0xFFFFFFFF) means "see the zip64 record",
///   which the zip64 locator (PK\6\7, 20 bytes just before) points to.
/// - central directory: one record (PK\1\2) per entry: compression method, CRC-32, sizes, name,
///   offset of the entry's local header; zip64 sizes/offset live in extra field 0x0001.
/// - local header (PK\3\4, 30 bytes + name + extra): the data starts right after it.
struct StoredZipArchive {
    struct Entry {
        var name: String
        /// Where the entry's bytes are in the file.
        var dataRange: Range<Int>
        var crc32: UInt32
    }

    /// Entries in directory order.
    private(set) var entries: [Entry] = []
    private var indexOfName: [String: Int] = [:]

    /// Parses the directory of `bytes`; throws `TorchCheckpoint.Problem` on anything malformed.
    init(bytes: [UInt8]) throws {
        try self.init(source: bytes)
    }

    /// Parses the directory of the archive in `source`; throws `TorchCheckpoint.Problem` on
    /// anything malformed (and what `source` throws when it cannot be read).
    init(source: ByteSource) throws {
        var reader = ByteReader(source: source)
        // Local headers are read through a second reader, so that the directory's window
        // survives the jumps to them: the directory is then read 4 KiB at a time, in order.
        var headerReader = ByteReader(source: source)
        let end = try Self.findEndRecord(source)
        var entryCount = try reader.integer(at: end + 10, byteCount: 2)
        var directorySize = try reader.integer(at: end + 12, byteCount: 4)
        var directoryOffset = try reader.integer(at: end + 16, byteCount: 4)
        if entryCount == 0xffff || directorySize == 0xffff_ffff || directoryOffset == 0xffff_ffff {
            let locator = end - 20
            guard locator >= 0, try reader.integer(at: locator, byteCount: 4) == 0x0706_4b50 else {
                throw TorchCheckpoint.Problem("zip archive lacks its zip64 locator (corrupt?)")
            }
            let record = try reader.integer(at: locator + 8, byteCount: 8)
            guard try reader.integer(at: record, byteCount: 4) == 0x0606_4b50 else {
                throw TorchCheckpoint.Problem("zip archive's zip64 end record is missing (corrupt?)")
            }
            entryCount = try reader.integer(at: record + 32, byteCount: 8)
            directorySize = try reader.integer(at: record + 40, byteCount: 8)
            directoryOffset = try reader.integer(at: record + 48, byteCount: 8)
        }
        // Each directory record takes at least 46 bytes: a count beyond that is a lie.
        guard directorySize <= source.count - directoryOffset, entryCount <= directorySize / 46 else {
            throw TorchCheckpoint.Problem("zip archive's central directory runs past the end of the file (corrupt?)")
        }

        var position = directoryOffset
        for _ in 0..<entryCount {
            guard try reader.integer(at: position, byteCount: 4) == 0x0201_4b50 else {
                throw TorchCheckpoint.Problem("zip archive's central directory is corrupt")
            }
            let method = try reader.integer(at: position + 10, byteCount: 2)
            let crc32 = UInt32(try reader.integer(at: position + 16, byteCount: 4))
            var compressedSize = try reader.integer(at: position + 20, byteCount: 4)
            var size = try reader.integer(at: position + 24, byteCount: 4)
            let nameLength = try reader.integer(at: position + 28, byteCount: 2)
            let extraLength = try reader.integer(at: position + 30, byteCount: 2)
            let commentLength = try reader.integer(at: position + 32, byteCount: 2)
            var localHeader = try reader.integer(at: position + 42, byteCount: 4)
            let nameBytes = try reader.bytes(at: position + 46, count: nameLength)
            let name = String(decoding: nameBytes, as: UTF8.self)

            // Zip64 extra field: the 8-byte versions of whichever fields are saturated, in order.
            var extra = position + 46 + nameLength
            let extraEnd = extra + extraLength
            while extra + 4 <= extraEnd {
                let tag = try reader.integer(at: extra, byteCount: 2)
                let length = try reader.integer(at: extra + 2, byteCount: 2)
                if tag == 0x0001 {
                    var field = extra + 4
                    if size == 0xffff_ffff { size = try reader.integer(at: field, byteCount: 8); field += 8 }
                    if compressedSize == 0xffff_ffff { compressedSize = try reader.integer(at: field, byteCount: 8); field += 8 }
                    if localHeader == 0xffff_ffff { localHeader = try reader.integer(at: field, byteCount: 8) }
                }
                extra += 4 + length
            }

            guard method == 0, compressedSize == size else {
                throw TorchCheckpoint.Problem("zip entry \(printable(name)) is compressed; torch.save stores records uncompressed")
            }
            guard try headerReader.integer(at: localHeader, byteCount: 4) == 0x0403_4b50 else {
                throw TorchCheckpoint.Problem("zip entry \(printable(name)) has no local header (corrupt?)")
            }
            let dataStart = localHeader + 30
                + (try headerReader.integer(at: localHeader + 26, byteCount: 2))
                + (try headerReader.integer(at: localHeader + 28, byteCount: 2))
            guard size <= source.count - dataStart else {
                throw TorchCheckpoint.Problem("zip entry \(printable(name)) runs past the end of the file (truncated?)")
            }
            if indexOfName[name] == nil {  // duplicated names: the first wins
                indexOfName[name] = entries.count
                entries.append(Entry(name: name, dataRange: dataStart..<(dataStart + size), crc32: crc32))
            }
            position += 46 + nameLength + extraLength + commentLength
        }
    }

    subscript(name: String) -> Entry? {
        indexOfName[name].map { entries[$0] }
    }

    /// The end record: the last PK\5\6 whose comment fits in the file. It lies in the last
    /// 22 + 65 535 bytes (its own size, and the longest comment), which are read in one piece.
    private static func findEndRecord(_ source: ByteSource) throws -> Int {
        let notAZip = TorchCheckpoint.Problem("not a readable zip archive (truncated or corrupt?)")
        let tailStart = Swift.max(0, source.count - 22 - 65_535)
        let tail = try source.bytes(at: tailStart, count: source.count - tailStart, orElse: notAZip)
        var candidate = tail.count - 22  // an index into `tail`
        while candidate >= 0 {
            if tail[candidate] == 0x50, tail[candidate + 1] == 0x4b, tail[candidate + 2] == 0x05, tail[candidate + 3] == 0x06,
               Int(tail[candidate + 20]) | Int(tail[candidate + 21]) << 8 <= tail.count - candidate - 22 {
                return tailStart + candidate
            }
            candidate -= 1
        }
        throw notAZip
    }

    /// CRC-32 (the zip/PNG polynomial 0xEDB88320, reflected) of `bytes`.
    static func crc32(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        bytes.withUnsafeBytes { crc32($0) }
    }

    /// CRC-32 of `bytes`, continuing from the CRC of the bytes before them (0 to start), so
    /// that a record read in pieces is checked as a whole: crc32(a + b) = crc32(b, after: crc32(a)).
    ///
    /// zlib computes it (`tutor_crc32` in Sources/CBLAS/shim.c): the same polynomial and result
    /// as the textbook loop `crc = table[(crc ^ byte) & 0xff] ^ (crc >> 8)`, but from tables that
    /// advance several bytes per step, eight times faster on a 87 MB ResNet-34 checkpoint.
    static func crc32(_ bytes: UnsafeRawBufferPointer, after previous: UInt32 = 0) -> UInt32 {
        guard let start = bytes.baseAddress, bytes.count > 0 else { return previous }
        return UInt32(tutor_crc32(CUnsignedInt(previous), start, CUnsignedLong(bytes.count)))
    }
}

/// Bounds-checked little-endian reads from a `ByteSource`; every failure is a "truncated or
/// corrupt" problem.
///
/// The directory is read a field (2 to 8 bytes) at a time, one field close to the next, so the
/// reader keeps a window of the source in memory and reads a new one, `windowSize` bytes long,
/// only when a field falls outside it: a few system calls for the whole central directory, and
/// one per local header.
struct ByteReader {
    let source: ByteSource
    /// Bytes windowStart ..< windowStart + window.count of the source.
    private var window: [UInt8] = []
    private var windowStart = 0
    static let windowSize = 4096

    init(source: ByteSource) {
        self.source = source
    }

    /// An unsigned integer of `byteCount` (≤ 8) bytes at `offset`, as an Int (values above
    /// Int.max, which no real offset or size reaches, are rejected).
    mutating func integer(at offset: Int, byteCount: Int) throws -> Int {
        let raw = try bytes(at: offset, count: byteCount)
        let value = raw.reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        guard value <= UInt64(Int.max) else {
            throw TorchCheckpoint.Problem("zip archive holds an impossible size or offset (corrupt?)")
        }
        return Int(value)
    }

    mutating func bytes(at offset: Int, count: Int) throws -> ArraySlice<UInt8> {
        guard offset >= 0, count >= 0, offset <= source.count, count <= source.count - offset else {
            throw TorchCheckpoint.Problem("zip archive points past the end of the file (truncated or corrupt?)")
        }
        if offset < windowStart || count > windowStart + window.count - offset {
            let length = Swift.min(Swift.max(count, Self.windowSize), source.count - offset)
            window = try source.bytes(at: offset, count: length, orElse: TorchCheckpoint.Problem.changedWhileReading)
            windowStart = offset
        }
        return window[(offset - windowStart)..<(offset - windowStart + count)]
    }
}

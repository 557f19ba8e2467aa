import Foundation

/// A `.safetensors` file: named tensors plus a string-to-string metadata map, the format
/// Hugging Face's `safetensors` library (and `torch` users through it) save weights in.
///
/// The format (https://github.com/huggingface/safetensors):
///
///     bytes 0…7   header length N, unsigned 64-bit little-endian
///     bytes 8…    N bytes of UTF-8 JSON, e.g.
///                 {"__metadata__":{"format":"pt"},
///                  "conv.weight":{"dtype":"F32","shape":[8,3,3,3],"data_offsets":[0,864]}, …}
///                 (padded with spaces to a multiple of 8 bytes by the Python library)
///     then        the data section; each tensor's bytes are data[begin..<end], little-endian,
///                 row-major, with begin and end relative to the start of the data section
///
/// Reading accepts dtypes F32, F16, BF16, F64, I64 and I32, all converted to Float32 (I64
/// appears for BatchNorm's `num_batches_tracked`). Writing always stores F32.
public struct SafeTensorsFile: Sendable {
    /// The tensors, in the order their data appears in the file (sorted by offset).
    public var tensors: [(name: String, tensor: Tensor)]
    /// The `__metadata__` map, e.g. ["format": "pt"]; empty when the file has none.
    public var metadata: [String: String]

    /// A file holding `tensors` (names must be unique and not `__metadata__`) and `metadata`.
    public init(tensors: [(name: String, tensor: Tensor)] = [], metadata: [String: String] = [:]) {
        self.tensors = tensors
        self.metadata = metadata
    }

    /// The tensor called `name`, or nil if there is none.
    public subscript(name: String) -> Tensor? {
        tensors.first { $0.name == name }?.tensor
    }

    /// Reads and validates a `.safetensors` file, a regular file of at most
    /// `CheckpointLimits.maximumFileBytes`: first its header, then each tensor's bytes straight
    /// into the Float32 array it becomes (see `ByteSource`).
    public static func read(from path: String) throws -> SafeTensorsFile {
        try decode(OpenWeightsFile(path: path), path: path)
    }

    /// Writes the file atomically (temporary file, then rename), with F32 data.
    /// Throws `MiniNetError.invalidArgument` if two tensors share a name.
    public func write(to path: String) throws {
        var seen = Set<String>()
        for (name, _) in tensors {
            guard name != Self.metadataKey else {
                throw MiniNetError.invalidArgument("cannot write \(path): '\(name)' is reserved and cannot name a tensor")
            }
            guard seen.insert(name).inserted else {
                throw MiniNetError.invalidArgument("cannot write \(path): two tensors are named '\(name)'")
            }
        }
        try writeFileAtomically(encode(), to: path)
    }

    /// The bytes of the file, laid out as the Python library does for float32 tensors:
    /// `__metadata__` first, then the tensors sorted by name, each one's data following the
    /// previous one's, and the JSON header padded with spaces to a multiple of 8 bytes.
    /// Tensor names must be unique (checked by `write(to:)`).
    public func encode() -> Data {
        let sorted = tensors.sorted { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
        precondition(Set(sorted.map(\.name)).count == sorted.count, "duplicate tensor names")

        var entries = [String]()
        if !metadata.isEmpty {
            let pairs = metadata.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
                .map { jsonString($0.key) + ":" + jsonString($0.value) }
            entries.append(jsonString(Self.metadataKey) + ":{" + pairs.joined(separator: ",") + "}")
        }
        var offset = 0
        for (name, tensor) in sorted {
            let end = offset + tensor.count * 4
            entries.append(jsonString(name) + ":{\"dtype\":\"F32\",\"shape\":["
                + tensor.shape.map(String.init).joined(separator: ",")
                + "],\"data_offsets\":[\(offset),\(end)]}")
            offset = end
        }
        var header = Array(("{" + entries.joined(separator: ",") + "}").utf8)
        header += [UInt8](repeating: UInt8(ascii: " "), count: (8 - header.count % 8) % 8)

        var data = Data(capacity: 8 + header.count + offset)
        let headerLength = UInt64(header.count)
        for index in 0..<8 {
            data.append(UInt8(truncatingIfNeeded: headerLength >> (8 * UInt64(index))))
        }
        data.append(contentsOf: header)
        for (_, tensor) in sorted {
            appendFloat32LittleEndian(tensor.data, to: &data)
        }
        return data
    }

    /// Decodes and validates the bytes of a `.safetensors` file; `path` only names the file in
    /// error messages. Every problem becomes a one-line `MiniNetError.file(path, problem)`.
    public static func decode(_ data: Data, path: String) throws -> SafeTensorsFile {
        try decode(data as ByteSource, path: path)
    }

    /// `decode(_:path:)` on the bytes of `source`, which are read a piece at a time: the
    /// header, then each tensor's bytes once every entry of the header has been checked.
    static func decode(_ source: ByteSource, path: String) throws -> SafeTensorsFile {
        func fail(_ problem: String) -> MiniNetError { MiniNetError.file(path, problem) }
        let unreachable = fail("could not be read to the end (did it change while being read?)")  // every range is checked first, so only a file changed under us gets here

        guard source.count >= 8 else {
            throw fail("too short to be a safetensors file (\(source.count) bytes, the header length alone takes 8)")
        }
        let lengthBytes = try source.bytes(at: 0, count: 8, orElse: unreachable)
        var declaredLength: UInt64 = 0
        for index in 0..<8 {
            declaredLength |= UInt64(lengthBytes[index]) << (8 * UInt64(index))
        }
        guard declaredLength <= maximumHeaderLength else {
            throw fail("header length \(declaredLength) is absurd (limit maximumSafeTensorsHeaderLength, \(maximumHeaderLength) bytes); not a safetensors file?")
        }
        let headerLength = Int(declaredLength)
        guard 8 + headerLength <= source.count else {
            throw fail("header length \(headerLength) is larger than the \(source.count)-byte file")
        }

        // The header: a UTF-8 JSON object, starting with "{" as the reference library requires.
        let headerBytes = try source.bytes(at: 8, count: headerLength, orElse: unreachable)
        guard String(validating: headerBytes, as: UTF8.self) != nil else {
            throw fail("header is not valid UTF-8")
        }
        guard headerBytes.first == UInt8(ascii: "{") else {
            throw fail("header is not a JSON object (it does not start with '{')")
        }
        let json: Any
        do {
            json = try JSONSerialization.jsonObject(with: Data(headerBytes))
        } catch {
            throw fail("header is not valid JSON")
        }
        guard let header = json as? [String: Any] else {
            throw fail("header is not a JSON object")
        }

        var metadata = [String: String]()
        if let rawMetadata = header[metadataKey] {
            guard let map = rawMetadata as? [String: Any] else {
                throw fail("__metadata__ is not a JSON object")
            }
            for (key, value) in map {
                guard let text = value as? String else {
                    throw fail("__metadata__ value for '\(key)' is not a string")
                }
                metadata[key] = text
            }
        }

        // Each tensor entry, checked against the data section.
        let dataStart = 8 + headerLength
        let dataSize = source.count - dataStart
        var entries = [Entry]()
        for name in header.keys.sorted() where name != metadataKey {
            entries.append(try parseEntry(name: name, json: header[name] as Any, dataSize: dataSize, fail: fail))
        }

        // As the reference library checks: sorted by position, the tensors must tile the
        // data section exactly — each one starting where the previous one ends, the first at
        // 0, the last ending at the end of the file. A gap, an overlap or trailing bytes
        // mean the header and the data disagree (a header length cut short by a few bytes
        // would otherwise shift every weight).
        entries.sort { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
        var covered = 0
        var previous: Entry?
        for entry in entries {
            if let previous, entry.begin < covered {
                throw fail("tensors '\(printable(previous.name))' and '\(printable(entry.name))' overlap in the data section")
            }
            guard entry.begin == covered else {
                throw fail("tensor '\(printable(entry.name))' data_offsets [\(entry.begin), \(entry.end)] leave a gap of "
                           + "\(entry.begin - covered) bytes after byte \(covered); the tensors must cover the data section exactly, in order")
            }
            covered = entry.end
            previous = entry
        }
        guard covered == dataSize else {
            throw fail("the tensors cover \(covered) bytes of the \(dataSize)-byte data section; "
                       + "the header length or the data_offsets are wrong")
        }

        let tensors = try entries.map { entry -> (name: String, tensor: Tensor) in
            let values = try readValues(entry, from: source, at: dataStart + entry.begin, orElse: unreachable)
            return (entry.name, Tensor(shape: entry.shape, data: values))
        }
        return SafeTensorsFile(tensors: tensors, metadata: metadata)
    }

    /// The values of one checked entry, whose bytes start at `offset` of `source`. F32 on a
    /// little-endian machine (the usual case) is read straight into the array that keeps the
    /// values: no copy of the file in between, no conversion, no zero-filling first. Other
    /// dtypes are read as bytes and converted (`StoredNumberFormat.decode`).
    private static func readValues(_ entry: Entry, from source: ByteSource, at offset: Int,
                                   orElse unreachable: @autoclosure () -> Error) throws -> [Float] {
        guard offset >= 0, entry.end - entry.begin <= source.count - offset else { throw unreachable() }
        if entry.format == .float32 && floatsAreStoredLittleEndian {
            return try [Float](unsafeUninitializedCapacity: entry.elementCount) { buffer, initialized in
                try source.read(at: offset, into: UnsafeMutableRawBufferPointer(start: buffer.baseAddress, count: 4 * entry.elementCount))
                initialized = entry.elementCount
            }
        }
        let bytes = try source.bytes(at: offset, count: entry.end - entry.begin, orElse: unreachable())
        return bytes.withUnsafeBytes { entry.format.decode($0, offset: 0, count: entry.elementCount) }
    }

    // MARK: - Details

    /// The reserved header key for the metadata map.
    private static let metadataKey = "__metadata__"
    /// Real headers are a few kilobytes; a larger length means a corrupt or foreign file.
    private static let maximumHeaderLength = UInt64(CheckpointLimits.maximumSafeTensorsHeaderLength)

    private static let numberFormats: [String: StoredNumberFormat] = [
        "F32": .float32, "F16": .float16, "BF16": .bfloat16, "F64": .float64, "I64": .int64, "I32": .int32,
    ]

    /// One validated header entry.
    private struct Entry {
        var name: String
        var format: StoredNumberFormat
        var dtype: String
        /// The tensor's shape, e.g. [Cout, Cin, kH, kW].
        var shape: [Int]
        var elementCount: Int
        /// Byte range in the data section.
        var begin: Int
        var end: Int
    }

    /// Checks one `"name": {"dtype": …, "shape": […], "data_offsets": [begin, end]}` entry.
    private static func parseEntry(name: String, json: Any, dataSize: Int,
                                   fail: (String) -> MiniNetError) throws -> Entry {
        let shown = printable(name)  // names and dtypes appear in messages: one line, bounded
        guard let fields = json as? [String: Any] else {
            throw fail("header entry '\(shown)' is not a JSON object")
        }
        for field in ["dtype", "shape", "data_offsets"] where fields[field] == nil {
            throw fail("tensor '\(shown)' has no \(field)")
        }
        guard let dtype = fields["dtype"] as? String else {
            throw fail("tensor '\(shown)' dtype is not a string")
        }
        guard let format = numberFormats[dtype] else {
            throw fail("tensor '\(shown)' has unknown or unsupported dtype '\(printable(dtype, maximumLength: 16))' (MiniNet reads F32, F16, BF16, F64, I64, I32)")
        }
        guard let rawShape = fields["shape"] as? [Any] else {
            throw fail("tensor '\(shown)' shape is not a list")
        }
        let shape = rawShape.compactMap(jsonInteger)
        guard shape.count == rawShape.count, shape.allSatisfy({ $0 >= 0 }) else {
            throw fail("tensor '\(shown)' shape must hold non-negative integers")
        }
        guard let rawOffsets = fields["data_offsets"] as? [Any], rawOffsets.count == 2,
              let begin = jsonInteger(rawOffsets[0]), let end = jsonInteger(rawOffsets[1]),
              begin >= 0, end >= 0 else {
            throw fail("tensor '\(shown)' data_offsets must be two non-negative integers")
        }
        guard begin <= end else {
            throw fail("tensor '\(shown)' data_offsets [\(begin), \(end)] begin after they end")
        }
        guard end <= dataSize else {
            throw fail("tensor '\(shown)' data_offsets [\(begin), \(end)] overrun the \(dataSize)-byte data section")
        }
        guard let (elementCount, byteCount) = checkedByteCount(shape: shape, elementSize: format.byteSize) else {
            throw fail("tensor '\(shown)' shape \(shape.prefix(9)) is too large")
        }
        guard byteCount == end - begin else {
            throw fail("tensor '\(shown)' of shape \(shape) and dtype \(printable(dtype, maximumLength: 16)) needs \(byteCount) bytes but data_offsets [\(begin), \(end)] span \(end - begin)")
        }
        return Entry(name: name, format: format, dtype: dtype, shape: shape,
                     elementCount: elementCount, begin: begin, end: end)
    }
}

/// A JSON integer from JSONSerialization, or nil for anything else. JSONSerialization gives
/// NSNumber for numbers and booleans alike, so we look at the stored C type: 'c' is a
/// boolean, 'd'/'f' a number written with a fraction or exponent (such as 2.0 or 1e3).
private func jsonInteger(_ value: Any) -> Int? {
    guard let number = value as? NSNumber, !(value is NSDecimalNumber) else { return nil }
    let storedType = String(cString: number.objCType)
    guard !["c", "d", "f"].contains(storedType) else { return nil }
    return value as? Int  // nil beyond Int's range
}

/// `text` as a JSON string literal, escaped the way serde_json (used by the Python library)
/// does: quote, backslash and control characters; everything else as raw UTF-8.
private func jsonString(_ text: String) -> String {
    var result = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": result += "\\\""
        case "\\": result += "\\\\"
        case "\n": result += "\\n"
        case "\r": result += "\\r"
        case "\t": result += "\\t"
        case "\u{08}": result += "\\b"
        case "\u{0C}": result += "\\f"
        case _ where scalar.value < 0x20:
            let hex = String(scalar.value, radix: 16)
            result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        default: result.unicodeScalars.append(scalar)
        }
    }
    return result + "\""
}

import Foundation

/// Reads and writes NumPy's `.npy` files, so that tensors can be exchanged with Python
/// (`np.save` / `np.load`).
///
/// The format (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html):
///
///     bytes 0…5   magic "\x93NUMPY"
///     bytes 6, 7  format version major, minor (1.0, 2.0 or 3.0)
///     then        header length: 2 bytes (version 1) or 4 bytes (versions 2, 3), little-endian
///     then        header: a Python dict literal, e.g.
///                 {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }
///                 padded with spaces and a final '\n' so the data starts at a multiple of 64
///     then        the values, C order (last index fastest), as many as the shape's product
///
/// Reading accepts little-endian float32 `<f4`, float64 `<f8`, float16 `<f2`, int64 `<i8`,
/// int32 `<i4` and uint8 `|u1`, all converted to Float32. Writing always produces `<f4`.
public enum NumpyFile {
    /// The most values a `.npy` file may hold: 100 million (400 MB as float32), hundreds of
    /// times a 3×224×224 input, so that a header cannot make us allocate without bound.
    public static let maximumElementCount = 100_000_000
    /// The largest `.npy` file `read` opens: 1 GiB (100 million float64 values and a header).
    public static let maximumFileBytes = 1 << 30

    /// Reads a `.npy` file into a tensor of the stored shape (a 0-d array gives shape []).
    /// Only regular files of at most `maximumFileBytes` are read.
    public static func read(from path: String) throws -> Tensor {
        try decode(readFileData(at: path, maximumBytes: maximumFileBytes), path: path)
    }

    /// Reads a `.npy` file meant as a network's input: as `read`, but every value must be
    /// finite. A NaN or an infinity would flow through the network into NaN logits and
    /// explanations without any error, so it is refused here, naming its position.
    public static func readFinite(from path: String) throws -> Tensor {
        let tensor = try read(from: path)
        if let flatIndex = tensor.data.firstIndex(where: { !$0.isFinite }) {
            // The position in every dimension, e.g. [0, 12, 7] in a 3×224×224 input.
            var position = [Int](repeating: 0, count: tensor.shape.count)
            var remainder = flatIndex
            for axis in tensor.shape.indices.reversed() where tensor.shape[axis] > 0 {
                position[axis] = remainder % tensor.shape[axis]
                remainder /= tensor.shape[axis]
            }
            throw MiniNetError.file(path, "value at index \(position) (flat index \(flatIndex)) is \(tensor.data[flatIndex]); "
                                    + "an input must hold finite numbers only")
        }
        return tensor
    }

    /// Writes `tensor` as a version 1.0 `.npy` file of little-endian float32, atomically.
    public static func write(_ tensor: Tensor, to path: String) throws {
        try writeFileAtomically(encode(tensor), to: path)
    }

    /// Writes whole numbers (class indices) as a 1-d `.npy` file of little-endian int64, the
    /// dtype PyTorch's losses take for targets, atomically.
    public static func write(integers: [Int], to path: String) throws {
        try writeFileAtomically(encode(integers: integers), to: path)
    }

    /// The bytes of that file.
    public static func encode(integers: [Int]) -> Data {
        var payload = Data(capacity: 8 * integers.count)
        for value in integers { withUnsafeBytes(of: Int64(value).littleEndian) { payload.append(contentsOf: $0) } }
        return encode(shape: [integers.count], descriptor: "<i8", payload: payload)
    }

    /// Decodes the bytes of a `.npy` file; `path` only names the file in error messages.
    public static func decode(_ data: Data, path: String) throws -> Tensor {
        func fail(_ problem: String) -> MiniNetError { MiniNetError.file(path, problem) }

        return try data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) -> Tensor in
            // Magic and version.
            guard bytes.count >= 10 else {
                throw fail("too short to be a .npy file (\(bytes.count) bytes)")
            }
            guard Array(bytes[0..<6]) == magic else {
                throw fail("not a .npy file (it does not start with \\x93NUMPY)")
            }
            let major = bytes[6]
            let minor = bytes[7]
            guard (1...3).contains(major), minor == 0 else {
                throw fail("unsupported .npy format version \(major).\(minor) (MiniNet reads 1.0, 2.0, 3.0)")
            }

            // Header length and text.
            let lengthFieldSize = major == 1 ? 2 : 4
            guard bytes.count >= 8 + lengthFieldSize else {
                throw fail("too short to be a .npy file (\(bytes.count) bytes)")
            }
            var headerLength = 0
            for index in 0..<lengthFieldSize {
                headerLength |= Int(bytes[8 + index]) << (8 * index)
            }
            let headerStart = 8 + lengthFieldSize
            let dataStart = headerStart + headerLength
            guard dataStart <= bytes.count else {
                throw fail("header length \(headerLength) runs past the end of the \(bytes.count)-byte file")
            }
            let headerBytes = bytes[headerStart..<dataStart]
            // Versions 1 and 2 store the header as Latin-1, version 3 as UTF-8.
            let headerText: String
            if major == 3 {
                guard let text = String(validating: headerBytes, as: UTF8.self) else {
                    throw fail("header is not valid UTF-8")
                }
                headerText = text
            } else {
                headerText = String(headerBytes.map { Character(Unicode.Scalar($0)) })
            }

            // The header dict: exactly the keys 'descr', 'fortran_order' and 'shape', as numpy requires.
            let header: PythonLiteral
            do {
                header = try PythonLiteralParser.parse(headerText)
            } catch let error as PythonLiteralParser.SyntaxError {
                throw fail("malformed header (\(error.message))")
            }
            guard case let .dictionary(entries) = header else {
                throw fail("malformed header (not a dict)")
            }
            let keys = entries.compactMap { key, _ -> String? in
                if case let .string(name) = key { return name } else { return nil }
            }
            guard keys.count == entries.count, keys.sorted() == ["descr", "fortran_order", "shape"] else {
                throw fail("malformed header (keys must be 'descr', 'fortran_order', 'shape')")
            }
            func value(_ name: String) -> PythonLiteral? {
                entries.first { $0.key == .string(name) }?.value
            }

            guard case let .string(descriptor)? = value("descr") else {
                throw fail("unsupported dtype (structured arrays are not supported)")
            }
            guard let format = numberFormats[descriptor] else {
                throw fail("unsupported dtype '\(descriptor)' (MiniNet reads \(supportedDescriptors))")
            }
            guard case let .boolean(fortranOrder)? = value("fortran_order") else {
                throw fail("malformed header ('fortran_order' must be True or False)")
            }
            guard !fortranOrder else {
                throw fail("array is stored in Fortran (column-major) order; save np.ascontiguousarray(array) instead")
            }
            guard case let .tuple(dimensions)? = value("shape") else {
                throw fail("malformed header ('shape' must be a tuple)")
            }
            var shape = [Int]()
            for dimension in dimensions {
                guard case let .integer(size) = dimension, size >= 0 else {
                    throw fail("malformed header ('shape' must hold non-negative integers)")
                }
                shape.append(size)
            }
            guard let (elementCount, byteCount) = checkedByteCount(shape: shape, elementSize: format.byteSize),
                  elementCount <= maximumElementCount else {
                throw fail("shape \(shape) is too large (the limit is \(maximumElementCount) values)")
            }

            // The payload must hold exactly the shape's elements.
            let found = bytes.count - dataStart
            guard found >= byteCount else {
                throw fail("file is truncated: expected \(byteCount) bytes of data, found \(found)")
            }
            guard found == byteCount else {
                throw fail("\(found - byteCount) unexpected bytes after the \(byteCount) bytes of data")
            }
            let values = format.decode(bytes, offset: dataStart, count: elementCount)
            return Tensor(shape: shape, data: values)
        }
    }

    /// Encodes `tensor` as a version 1.0 `.npy` file of little-endian float32, byte for byte
    /// what `np.save` writes for a C-contiguous float32 array (checked against NumPy 2.4).
    public static func encode(_ tensor: Tensor) -> Data {
        var payload = Data()
        appendFloat32LittleEndian(tensor.data, to: &payload)
        return encode(shape: tensor.shape, descriptor: "<f4", payload: payload)
    }

    /// The header for `shape` and the dtype `descriptor` ("<f4", "<i8"), then `payload`, the
    /// values in C order as that dtype.
    static func encode(shape: [Int], descriptor: String, payload: Data) -> Data {
        // Python's repr of the shape tuple: () for 0-d, (3,) for 1-d, (2, 3) otherwise.
        let shapeText: String
        switch shape.count {
        case 0: shapeText = "()"
        case 1: shapeText = "(\(shape[0]),)"
        default: shapeText = "(" + shape.map(String.init).joined(separator: ", ") + ")"
        }
        var header = "{'descr': '\(descriptor)', 'fortran_order': False, 'shape': \(shapeText), }"
        // NumPy leaves room so the first dimension can grow to 21 digits in place.
        if let first = shape.first {
            header += String(repeating: " ", count: max(0, 21 - String(first).count))
        }
        // Pad with spaces and end with '\n' so that magic + version + length + header is a
        // multiple of 64 bytes (NumPy always adds between 1 and 64 bytes here).
        var version: UInt8 = 1
        var lengthFieldSize = 2
        var headerLength = header.utf8.count + 1
        var padding = 64 - (6 + 2 + lengthFieldSize + headerLength) % 64
        if headerLength + padding > Int(UInt16.max) {
            // Only for absurdly many dimensions: version 2.0 has a 4-byte length, as np.save does.
            version = 2
            lengthFieldSize = 4
            padding = 64 - (6 + 2 + lengthFieldSize + headerLength) % 64
        }
        headerLength += padding

        var data = Data(magic)
        data.append(contentsOf: [version, 0])
        for index in 0..<lengthFieldSize {
            data.append(UInt8(truncatingIfNeeded: headerLength >> (8 * index)))
        }
        data.append(contentsOf: Array(header.utf8))
        data.append(contentsOf: [UInt8](repeating: UInt8(ascii: " "), count: padding))
        data.append(UInt8(ascii: "\n"))
        data.append(payload)
        return data
    }

    private static let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)

    /// NumPy dtype descriptors MiniNet reads: byte order ('<' little-endian, '|' not
    /// applicable), kind (f float, i signed, u unsigned) and size in bytes.
    private static let numberFormats: [String: StoredNumberFormat] = [
        "<f4": .float32, "<f8": .float64, "<f2": .float16,
        "<i8": .int64, "<i4": .int32, "|u1": .uint8,
    ]
    private static let supportedDescriptors = "<f4, <f8, <f2, <i8, <i4, |u1"
}

// MARK: - The header's Python literal

/// The subset of Python literals that appear in `.npy` headers.
indirect enum PythonLiteral: Equatable {
    case string(String)
    case integer(Int)
    case boolean(Bool)
    case none
    case tuple([PythonLiteral])
    case list([PythonLiteral])
    /// Entries in the order written.
    case dictionary([(key: PythonLiteral, value: PythonLiteral)])

    static func == (lhs: PythonLiteral, rhs: PythonLiteral) -> Bool {
        switch (lhs, rhs) {
        case let (.string(a), .string(b)): return a == b
        case let (.integer(a), .integer(b)): return a == b
        case let (.boolean(a), .boolean(b)): return a == b
        case (.none, .none): return true
        case let (.tuple(a), .tuple(b)), let (.list(a), .list(b)): return a == b
        case let (.dictionary(a), .dictionary(b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        default: return false
        }
    }
}

/// A recursive-descent parser for Python literals, as `ast.literal_eval` would read them:
///
///     value      = dict | tuple | list | string | integer | True | False | None
///     dict       = "{" [ value ":" value { "," value ":" value } [","] ] "}"
///     tuple      = "(" [ value "," { value "," } [ value ] ] ")"     (1-tuple needs its comma)
///     list       = "[" [ value { "," value } [","] ] "]"
///     string     = "'" … "'" | '"' … '"'   (with backslash escapes)
///     integer    = [ "+" | "-" ] digit { digit } [ "L" ]   (old Python 2 headers wrote 3L)
///
/// Whitespace (spaces, tabs, newlines) may appear between any two tokens.
struct PythonLiteralParser {
    struct SyntaxError: Error {
        var message: String
    }

    private let characters: [Unicode.Scalar]
    private var position = 0
    /// How many containers enclose the current value. Real headers nest at most 3 deep; a
    /// limit keeps a hostile header such as "((((…" from overflowing the stack.
    private var depth = 0
    private static let maximumDepth = 32

    static func parse(_ text: String) throws -> PythonLiteral {
        var parser = PythonLiteralParser(characters: Array(text.unicodeScalars))
        let value = try parser.parseValue()
        parser.skipWhitespace()
        guard parser.position == parser.characters.count else {
            throw parser.error("unexpected text after the end of the value")
        }
        return value
    }

    private init(characters: [Unicode.Scalar]) {
        self.characters = characters
    }

    private func error(_ problem: String) -> SyntaxError {
        SyntaxError(message: "\(problem) at character \(position + 1)")
    }

    private var current: Unicode.Scalar? {
        position < characters.count ? characters[position] : nil
    }

    private mutating func skipWhitespace() {
        while let character = current, character == " " || character == "\t" || character == "\n" || character == "\r" {
            position += 1
        }
    }

    /// Skips whitespace and consumes `character` if it comes next.
    private mutating func consume(_ character: Unicode.Scalar) -> Bool {
        skipWhitespace()
        if current == character {
            position += 1
            return true
        }
        return false
    }

    private mutating func expect(_ character: Unicode.Scalar) throws {
        guard consume(character) else {
            throw error(current == nil ? "expected '\(character)' but the header ended" : "expected '\(character)'")
        }
    }

    private mutating func parseValue() throws -> PythonLiteral {
        skipWhitespace()
        guard let character = current else { throw error("expected a value but the header ended") }
        if character == "{" || character == "(" || character == "[" {
            guard depth < Self.maximumDepth else { throw error("values nested too deeply") }
            depth += 1
        }
        defer { if character == "{" || character == "(" || character == "[" { depth -= 1 } }
        switch character {
        case "{": return try parseDictionary()
        case "(": return try parseTuple()
        case "[": return try parseList()
        case "'", "\"": return .string(try parseString())
        case "-", "+", "0"..."9": return .integer(try parseInteger())
        default:
            for (word, value) in [("True", PythonLiteral.boolean(true)), ("False", .boolean(false)), ("None", .none)]
            where matches(word) {
                position += word.unicodeScalars.count
                return value
            }
            throw error("unexpected character '\(character)'")
        }
    }

    /// True if `word` starts here and is not merely the start of a longer name.
    private func matches(_ word: String) -> Bool {
        let scalars = Array(word.unicodeScalars)
        guard position + scalars.count <= characters.count,
              Array(characters[position..<(position + scalars.count)]) == scalars else { return false }
        let next = position + scalars.count < characters.count ? characters[position + scalars.count] : " "
        return !(next.properties.isAlphabetic || next == "_" || ("0"..."9").contains(next))
    }

    private mutating func parseDictionary() throws -> PythonLiteral {
        try expect("{")
        var entries = [(key: PythonLiteral, value: PythonLiteral)]()
        while !consume("}") {
            let key = try parseValue()
            try expect(":")
            let value = try parseValue()
            entries.append((key, value))
            if !consume(",") {
                try expect("}")
                break
            }
        }
        return .dictionary(entries)
    }

    private mutating func parseTuple() throws -> PythonLiteral {
        try expect("(")
        var items = [PythonLiteral]()
        var sawComma = false
        while !consume(")") {
            items.append(try parseValue())
            if consume(",") {
                sawComma = true
            } else {
                try expect(")")
                break
            }
        }
        // "(3)" is just the number 3 in parentheses; only "(3,)" is a 1-tuple.
        if items.count == 1 && !sawComma { return items[0] }
        return .tuple(items)
    }

    private mutating func parseList() throws -> PythonLiteral {
        try expect("[")
        var items = [PythonLiteral]()
        while !consume("]") {
            items.append(try parseValue())
            if !consume(",") {
                try expect("]")
                break
            }
        }
        return .list(items)
    }

    private mutating func parseString() throws -> String {
        guard let quote = current else { throw error("expected a string") }
        position += 1
        var result = String.UnicodeScalarView()
        while true {
            guard let character = current else { throw error("unterminated string") }
            position += 1
            if character == quote { break }
            if character == "\n" { throw error("unterminated string") }
            if character == "\\" {
                guard let escaped = current else { throw error("unterminated string") }
                position += 1
                switch escaped {
                case "n": result.append("\n")
                case "t": result.append("\t")
                case "r": result.append("\r")
                case "0": result.append("\0")
                case "\\", "'", "\"": result.append(escaped)
                default: throw error("unsupported escape '\\\(escaped)' in a string")
                }
            } else {
                result.append(character)
            }
        }
        return String(result)
    }

    private mutating func parseInteger() throws -> Int {
        var negative = false
        if current == "-" || current == "+" {
            negative = current == "-"
            position += 1
        }
        var value = 0
        var digitCount = 0
        while let character = current, ("0"..."9").contains(character) {
            let digit = Int(character.value - Unicode.Scalar("0").value)
            let (shifted, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = shifted.addingReportingOverflow(negative ? -digit : digit)
            guard !overflow1 && !overflow2 else { throw error("integer too large") }
            value = sum
            digitCount += 1
            position += 1
        }
        guard digitCount > 0 else { throw error("expected digits") }
        if current == "L" || current == "l" { position += 1 }
        if let character = current, character == "." || character == "e" || character == "E" {
            throw error("expected an integer, found a floating-point number")
        }
        return value
    }
}

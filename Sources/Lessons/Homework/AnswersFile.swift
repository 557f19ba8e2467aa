import Foundation
import MiniNet

/// What an answers file may hold, in one place. Each limit is checked before the work it guards:
/// the size before the file is read, the depth before the parser descends, the key count before
/// a key is stored, a string's length before it is kept. An answers file is a few hundred bytes,
/// so the limits are far above any real file and far below what hurts `homework grade`.
public struct AnswerFileLimits: Sendable {
    /// Bytes in the file (1 MiB).
    public var fileBytes = 1 << 20
    /// Levels of JSON nesting; the format itself needs 3: {"answers": {"q1": [1, 2]}}.
    public var depth = 64
    /// Keys in the whole file, in both formats (an exercise has at most 9 questions).
    public var keys = 1_000
    /// Characters in one JSON string or one line of the text format.
    public var stringLength = 4_096
    /// Characters in the exercise id, the student id, a question id and a text answer.
    public var nameLength = 64
    /// Characters of a bad value that an error message quotes.
    public static let summaryLength = 40

    public static let standard = AnswerFileLimits()
    public init() {}
}

/// `value` made safe for a one-line message: line breaks, tabs, other control characters and
/// invisible format characters (such as a right-to-left override) are written as escapes, so a
/// value cannot cut a message in two or disguise it.
public func escapedForMessage(_ value: String) -> String {
    var result = ""
    for scalar in value.unicodeScalars { result += escaped(scalar) }
    return result
}

/// A bad value as an error message shows it: escaped like `escapedForMessage`, and at most
/// `limit` characters, then `…`. A hostile value may be a megabyte long; the message stays one short line.
public func boundedSummary(_ value: String, limit: Int = AnswerFileLimits.summaryLength) -> String {
    var result = ""
    var length = 0
    for scalar in value.unicodeScalars {
        let piece = escaped(scalar)
        length += piece.unicodeScalars.count
        if length > limit { return result + "…" }
        result += piece
    }
    return result
}

private func escaped(_ scalar: Unicode.Scalar) -> String {
    switch scalar {
    case "\n": return "\\n"
    case "\r": return "\\r"
    case "\t": return "\\t"
    default:
        switch scalar.properties.generalCategory {
        case .control, .format, .lineSeparator, .paragraphSeparator:
            return "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
        default:
            return String(scalar)
        }
    }
}

/// One answer as the student wrote it.
public enum AnswerValue: Equatable, Sendable {
    case number(Double)
    case vector([Double])
    case text(String)
}

/// A value written as two runs of digits joined by one comma, such as `0,5`: a list of two
/// numbers, or one number with a decimal comma. Which one depends on the question, so the
/// parser keeps both readings and the checker picks: one number for a question that wants one.
public struct CommaReading: Equatable, Sendable {
    /// The value as written (after full-width forms are folded), e.g. "0,5".
    public var text: String
    /// The number read with a decimal comma; nil when that reading is ambiguous: `1,000` may
    /// be one thousand written with a thousands separator, so three digits after the comma
    /// (and a whole part other than 0) are refused with a message instead of guessed.
    public var decimal: Double?
    /// "1000" for `1,000`: the thousands-separator reading, for the message.
    var thousandsReading: String
    /// "1.000" for `1,000`: the decimal reading, for the message.
    var pointReading: String

    /// The readings of `text` when it is `[+-]digits,digits`; nil for anything else.
    init?(_ text: String) {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false)
        guard parts.count == 2 else { return nil }
        var whole = Substring(parts[0])
        var sign = ""
        if let first = whole.first, first == "-" || first == "+" { sign = first == "-" ? "-" : ""; whole = whole.dropFirst() }
        let fraction = parts[1]
        let isDigits = { (part: Substring) in !part.isEmpty && part.allSatisfy { $0.isASCII && $0.isNumber } }
        guard isDigits(whole), isDigits(fraction) else { return nil }
        self.text = text
        thousandsReading = sign + whole + fraction
        pointReading = sign + whole + "." + fraction
        let looksLikeThousands = fraction.count == 3 && whole.contains { $0 != "0" }
        decimal = looksLikeThousands ? nil : Double(pointReading)
    }
}

/// A student's answers to one exercise, read from JSON or from plain `name = value` lines.
///
/// JSON:   {"exercise": "cam-1", "student": "alice", "answers": {"q1": 0.25, "q2": [1, 2], "q3": "B"}}
/// Text:   # comment
///         exercise = cam-1          (optional, like student)
///         q1 = 0.25
///         q2 = 1, 2, 3              (a list; brackets are allowed: [1, 2, 3])
///         q3 = B
///         q4 = 0,5; 1,25            (a list with decimal commas: separate its numbers with `;`)
///         q5 = 0,5                  (one number with a decimal comma, when q5 wants one number)
/// Numbers may be written as fractions, 3/4. Limits: `AnswerFileLimits`.
///
/// What is forgiven: a byte order mark, UTF-16 with a byte order mark (Windows Notepad's
/// "Unicode"), CRLF and CR line ends, tabs and other spaces around names and values,
/// full-width forms (`ｑ１ ＝ ０．５`) and the minus sign U+2212 (`−0.25`, as the exercises print it).
/// A comma is a decimal separator only where it cannot separate a list: in a value with `;`
/// between its numbers, or in `digits,digits` given for a question that wants one number.
public struct AnswersFile: Equatable, Sendable {
    public var exercise: String?
    public var student: String?
    /// Answers in the order the file gives them.
    public var answers: [(key: String, value: AnswerValue)]
    /// The line each answer starts on, for messages about it.
    public var lines: [String: Int]
    /// The answers written like `0,5`, with both their readings (see `CommaReading`).
    public var commaReadings: [String: CommaReading]

    public init(exercise: String?, student: String?, answers: [(key: String, value: AnswerValue)],
                lines: [String: Int] = [:], commaReadings: [String: CommaReading] = [:]) {
        self.exercise = exercise
        self.student = student
        self.answers = answers
        self.lines = lines
        self.commaReadings = commaReadings
    }

    public static func == (lhs: AnswersFile, rhs: AnswersFile) -> Bool {
        lhs.exercise == rhs.exercise && lhs.student == rhs.student
            && lhs.answers.map(\.key) == rhs.answers.map(\.key) && lhs.answers.map(\.value) == rhs.answers.map(\.value)
    }

    public func value(for key: String) -> AnswerValue? {
        answers.first { $0.key == key }?.value
    }

    /// Reads and parses a file; `MiniNetError.file(path, problem)` on any problem.
    /// Only a regular file of at most `limits.fileBytes` is read.
    public static func read(from path: String, limits: AnswerFileLimits = .standard) throws -> AnswersFile {
        let data = try readRegularFile(at: path, byteLimit: limits.fileBytes)
        guard let text = decodeText(data) else {
            throw MiniNetError.file(escapedForMessage(path), "is not UTF-8 text (nor UTF-16 with a byte order mark)")
        }
        return try parse(text, name: escapedForMessage(path), limits: limits)
    }

    /// UTF-8, or UTF-16 when the bytes start with its byte order mark (FF FE little-endian,
    /// FE FF big-endian): what Windows Notepad saves as "Unicode".
    static func decodeText(_ data: Data) -> String? {
        let bytes = [UInt8](data.prefix(2))
        if bytes == [0xFF, 0xFE] || bytes == [0xFE, 0xFF] {
            let bigEndian = bytes[0] == 0xFE
            let body = data.dropFirst(2)
            guard body.count % 2 == 0 else { return nil }
            var units = [UInt16]()
            units.reserveCapacity(body.count / 2)
            var index = body.startIndex
            while index < body.endIndex {
                let (first, second) = (UInt16(body[index]), UInt16(body[index + 1]))
                units.append(bigEndian ? first << 8 | second : second << 8 | first)
                index += 2
            }
            var text = ""
            var iterator = units.makeIterator()
            var decoder = UTF16()
            while true {
                switch decoder.decode(&iterator) {
                case let .scalarValue(scalar): text.unicodeScalars.append(scalar)
                case .emptyInput: return text
                case .error: return nil
                }
            }
        }
        return String(data: data, encoding: .utf8)
    }

    /// The bytes of a regular file of at most `byteLimit` bytes. The type and size are checked
    /// with stat(2) before opening, so a FIFO (which would block), a directory or a device is
    /// never opened; the read itself stops after `byteLimit + 1` bytes in case the file grows.
    static func readRegularFile(at path: String, byteLimit: Int) throws -> Data {
        let name = escapedForMessage(path)
        func refuse(_ problem: String) -> MiniNetError { MiniNetError.file(name, problem) }
        func checkTypeAndSize(_ info: stat) throws {
            let kind = info.st_mode & S_IFMT
            guard kind == S_IFREG else {
                let what = [S_IFDIR: "a directory", S_IFIFO: "a FIFO (named pipe)", S_IFCHR: "a character device",
                            S_IFBLK: "a block device", S_IFSOCK: "a socket"][kind] ?? "a special file"
                throw refuse("is \(what), not a regular file")
            }
            guard info.st_size <= byteLimit else {
                throw refuse("is \(info.st_size) bytes, over the limit of \(byteLimit) bytes for an answers file")
            }
        }

        var info = stat()
        guard stat(path, &info) == 0 else {
            throw refuse("cannot be read (\(errno == ENOENT ? "no such file" : String(cString: strerror(errno))))")
        }
        try checkTypeAndSize(info)
        // O_NONBLOCK: should the file be swapped for a FIFO after the stat, opening it still returns at once.
        let descriptor = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard descriptor >= 0 else { throw refuse("cannot be read (\(String(cString: strerror(errno))))") }
        defer { close(descriptor) }
        guard fstat(descriptor, &info) == 0 else { throw refuse("cannot be read (\(String(cString: strerror(errno))))") }
        try checkTypeAndSize(info)

        var bytes = [UInt8](repeating: 0, count: byteLimit + 1)
        var count = 0
        while count < bytes.count {
            let result = bytes.withUnsafeMutableBytes { Foundation.read(descriptor, $0.baseAddress! + count, $0.count - count) }
            if result < 0 {
                if errno == EINTR { continue }
                throw refuse("cannot be read (\(String(cString: strerror(errno))))")
            }
            if result == 0 { break }
            count += result
        }
        guard count <= byteLimit else { throw refuse("grew past the limit of \(byteLimit) bytes while it was read") }
        return Data(bytes[..<count])
    }

    /// Parses JSON when the text starts with `{`, `name = value` lines otherwise.
    /// `name` only labels error messages, e.g. "answers.txt: line 3: expected `name = value`".
    public static func parse(_ text: String, name: String, limits: AnswerFileLimits = .standard) throws -> AnswersFile {
        // Windows editors may start a UTF-8 file with a byte order mark; it is not part of the answers.
        let text = text.hasPrefix("\u{FEFF}") ? String(text.dropFirst()) : text
        do {
            if text.trimmingCharacters(in: .whitespacesAndNewlines).hasPrefix("{") {
                return try parseJSON(text, limits: limits)
            }
            return try parseLines(text, limits: limits)
        } catch let problem as ParseProblem {
            throw MiniNetError.file(name, problem.message)
        }
    }

    /// A problem found while parsing, without the file name yet.
    struct ParseProblem: Error { var message: String }

    /// Builds an `AnswersFile` key by key; a set of the keys seen keeps each check O(1), so
    /// parsing stays linear in the number of keys.
    struct Builder {
        var file = AnswersFile(exercise: nil, student: nil, answers: [])
        var seenKeys = Set<String>()
        let limits: AnswerFileLimits

        mutating func add(key: String, value: AnswerValue, line: Int, commaReading: CommaReading? = nil) throws {
            let location = "line \(line)"
            guard seenKeys.insert(key).inserted else {
                let isName = key == "exercise" || key == "student"
                throw ParseProblem(message: "\(location): `\(key)` is \(isName ? "given" : "answered") twice")
            }
            switch key {
            case "exercise", "student":
                guard case let .text(text) = value else {
                    throw ParseProblem(message: "\(location): `\(key)` must be text such as \(key == "exercise" ? "cam-1" : "alice")")
                }
                let name = try checkName(text, of: key, location: location)
                if key == "exercise" { file.exercise = name } else { file.student = name }
            default:
                if case let .text(text) = value { try checkTextAnswer(text, key: key, location: location) }
                file.answers.append((key, value))
                file.lines[key] = line
                if let commaReading { file.commaReadings[key] = commaReading }
            }
        }

        /// The exercise and student ids end up in messages and are compared with real ids: so they
        /// are kept to the student-id alphabet and length. A student id is returned in its
        /// normal form (`HomeworkCatalog.normalizedStudentID`), so `nguyễn` matches however it was typed.
        func checkName(_ text: String, of key: String, location: String) throws -> String {
            let length = text.unicodeScalars.count
            guard length <= limits.nameLength else {
                throw ParseProblem(message: "\(location): `\(key)` is \(length) characters long, over the limit of \(limits.nameLength)")
            }
            let refused = ParseProblem(message: "\(location): `\(key)` `\(boundedSummary(text))` may only use letters, digits, '-', '_' and '.'")
            if key == "student" {
                guard let normal = try? HomeworkCatalog.normalizedStudentID(text) else { throw refused }
                return normal
            }
            guard !text.isEmpty, text.unicodeScalars.allSatisfy({ $0.isASCII && (Character($0).isLetter || Character($0).isNumber || "-_.".unicodeScalars.contains($0)) }) else {
                throw refused
            }
            return text
        }

        /// A text answer is a letter such as B: short, and printable in a report.
        func checkTextAnswer(_ text: String, key: String, location: String) throws {
            let length = text.unicodeScalars.count
            guard length <= limits.nameLength else {
                throw ParseProblem(message: "\(location): `\(key)`: the text answer is \(length) characters long, over the limit of \(limits.nameLength)")
            }
            guard escapedForMessage(text) == text else {
                throw ParseProblem(message: "\(location): `\(key)`: the text answer `\(boundedSummary(text))` holds control characters")
            }
        }
    }

    // MARK: - Plain text

    static func parseLines(_ text: String, limits: AnswerFileLimits) throws -> AnswersFile {
        var builder = Builder(limits: limits)
        // "\r\n" is one Character in Swift, so Windows line ends are split on explicitly; a lone
        // "\r" ends a line too (old Mac editors).
        let lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" })
        for (index, rawLine) in lines.enumerated() {
            let location = "line \(index + 1)"
            let length = rawLine.unicodeScalars.count
            guard length <= limits.stringLength else {
                throw ParseProblem(message: "\(location): the line is \(length) characters long, over the limit of \(limits.stringLength)")
            }
            let line = (foldedToASCII(String(rawLine)).split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
                .trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty { continue }
            guard let equals = line.firstIndex(of: "=") else {
                throw ParseProblem(message: "\(location): expected `name = value`, found `\(boundedSummary(line))`")
            }
            let key = line[..<equals].trimmingCharacters(in: .whitespaces)
            let valueText = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            guard isValidKey(key, limits: limits) else {
                throw ParseProblem(message: "\(location): expected `name = value` with a name such as q1, found `\(boundedSummary(line))`")
            }
            guard !valueText.isEmpty else {
                throw ParseProblem(message: "\(location): `\(key)` has no value after `=`")
            }
            guard builder.seenKeys.count < limits.keys else {
                throw ParseProblem(message: "\(location): key number \(limits.keys + 1) is over the limit of \(limits.keys) keys")
            }
            // The exercise and student lines are names, even when they look like numbers ("student = 042").
            if key == "exercise" || key == "student" {
                try builder.add(key: key, value: .text(valueText.trimmingCharacters(in: CharacterSet(charactersIn: "\""))), line: index + 1)
            } else {
                let (value, commaReading) = try parseTextValue(valueText, key: key, location: location)
                try builder.add(key: key, value: value, line: index + 1, commaReading: commaReading)
            }
        }
        return builder.file
    }

    /// A question id such as q1: letters, digits, '_', '-' and '.', short enough to quote whole.
    static func isValidKey(_ key: String, limits: AnswerFileLimits = .standard) -> Bool {
        !key.isEmpty && key.unicodeScalars.count <= limits.nameLength
            && key.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" || $0 == "." }
    }

    /// "0.25" → number, "1, 2" or "[1, 2]" → list, "0,5; 1,5" → list with decimal commas,
    /// "3/4" → 0.75, "B" or "\"B\"" → text. A value such as "0,5" is the list [0, 5] and comes
    /// with its `CommaReading`, for a question that wants one number.
    static func parseTextValue(_ text: String, key: String, location: String) throws -> (AnswerValue, CommaReading?) {
        if text.hasPrefix("[") || text.contains(",") || text.contains(";") {
            var inner = text
            if inner.hasPrefix("[") {
                guard inner.hasSuffix("]") else { throw ParseProblem(message: "\(location): `\(key)`: the list has no closing `]`") }
                inner = String(inner.dropFirst().dropLast())
            }
            // With semicolons between the numbers, a comma inside a number is its decimal separator.
            let usesSemicolons = inner.contains(";")
            var numbers = [Double]()
            for item in inner.split(separator: usesSemicolons ? ";" : ",", omittingEmptySubsequences: false) {
                let itemText = item.trimmingCharacters(in: .whitespaces)
                let number = usesSemicolons
                    ? parseNumber(itemText) ?? CommaReading(itemText).flatMap { Double($0.pointReading) }
                    : parseNumber(itemText)
                guard let number else {
                    throw ParseProblem(message: "\(location): `\(key)`: `\(boundedSummary(itemText))` is not a number (\(usesSemicolons ? "lists with decimal commas are numbers separated by semicolons" : "lists are numbers separated by commas"))")
                }
                numbers.append(number)
            }
            return (.vector(numbers), text.hasPrefix("[") ? nil : CommaReading(text))
        }
        if let number = parseNumber(text) { return (.number(number), nil) }
        var unquoted = text
        if unquoted.count >= 2, unquoted.hasPrefix("\""), unquoted.hasSuffix("\"") {
            unquoted = String(unquoted.dropFirst().dropLast())
        }
        return (.text(unquoted), nil)
    }

    /// Full-width forms (U+FF01…U+FF5E, what an East Asian input method types: `０．５`, `ｑ１`,
    /// `＝`) become their ASCII twins, the ideographic space U+3000 a space, and the minus sign
    /// U+2212 (which the exercises print) a hyphen-minus. Nothing else changes, so a value that
    /// is not a number stays what it was.
    static func foldedToASCII(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { $0.value >= 0x2212 }) else { return text }
        var result = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            switch scalar.value {
            case 0xFF01...0xFF5E: result.append(Unicode.Scalar(scalar.value - 0xFEE0) ?? scalar)
            case 0x3000: result.append(" ")
            case 0x2212: result.append("-")
            default: result.append(scalar)
            }
        }
        return String(result)
    }

    /// A decimal number or a fraction "a/b"; nil for anything else (also nan and inf).
    /// This is the lenient reader of the text format (and of numbers in JSON strings): people write
    /// .5 and +1 by hand. Bare JSON numbers follow the strict grammar of `isJSONNumber`.
    static func parseNumber(_ text: String) -> Double? {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        if parts.count == 2,
           let numerator = parseNumber(parts[0].trimmingCharacters(in: .whitespaces)),
           let denominator = parseNumber(parts[1].trimmingCharacters(in: .whitespaces)), denominator != 0 {
            return numerator / denominator
        }
        guard parts.count == 1, text.allSatisfy({ "0123456789+-.eE".contains($0) }),
              let value = Double(text), value.isFinite else { return nil }
        return value
    }

    /// The number grammar of RFC 8259: -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?
    /// So 01, +1, .5, 1., 0x10, nan and inf are not JSON numbers (Double("0x10") would say 16).
    static func isJSONNumber(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        var index = 0
        func skip(_ byte: Character) -> Bool {
            guard index < bytes.count, bytes[index] == byte.asciiValue else { return false }
            index += 1
            return true
        }
        func digits() -> Int {
            let start = index
            while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
            return index - start
        }
        _ = skip("-")
        if !skip("0") { guard digits() > 0 else { return false } }  // not 0, so [1-9][0-9]*
        if skip(".") { guard digits() > 0 else { return false } }
        if skip("e") || skip("E") {
            _ = skip("+") || skip("-")
            guard digits() > 0 else { return false }
        }
        return index == bytes.count
    }

    // MARK: - JSON

    static func parseJSON(_ text: String, limits: AnswerFileLimits) throws -> AnswersFile {
        var parser = JSONParser(text: text, limits: limits)
        let root = try parser.parseDocument()
        guard case let .object(members) = root.value else {
            throw ParseProblem(message: "line \(root.line): expected a JSON object {\"answers\": {…}}")
        }
        var builder = Builder(limits: limits)
        var sawAnswers = false
        for (key, member) in members {
            let location = "line \(member.line)"
            switch key {
            case "exercise", "student":
                guard case let .string(text) = member.value else {
                    throw ParseProblem(message: "\(location): key `\(key)` must be a string")
                }
                try builder.add(key: key, value: .text(foldedToASCII(text)), line: member.line)
            case "answers":
                guard !sawAnswers else { throw ParseProblem(message: "\(location): key `answers` is given twice") }
                guard case let .object(answerMembers) = member.value else {
                    throw ParseProblem(message: "\(location): key `answers` must be an object such as {\"q1\": 0.25}")
                }
                sawAnswers = true
                for (writtenKey, answer) in answerMembers {
                    let answerKey = foldedToASCII(writtenKey)
                    let answerLocation = "line \(answer.line)"
                    guard isValidKey(answerKey, limits: limits) else {
                        throw ParseProblem(message: "\(answerLocation): key `\(boundedSummary(answerKey))` is not a question id such as q1 (letters, digits, '_', '-', '.'; at most \(limits.nameLength) characters)")
                    }
                    let value: AnswerValue
                    var commaReading: CommaReading?
                    switch answer.value {
                    case let .number(number): value = .number(number)
                    case let .string(text):
                        // A number in a string is read like a value of the text format: "0,5", "3/4", "1; 2".
                        let folded = foldedToASCII(text).trimmingCharacters(in: .whitespaces)
                        if let number = parseNumber(folded) {
                            value = .number(number)
                        } else if CommaReading(folded) != nil {
                            (value, commaReading) = try parseTextValue(folded, key: answerKey, location: answerLocation)
                        } else {
                            value = .text(foldedToASCII(text))
                        }
                    case let .array(items):
                        value = .vector(try items.map { item in
                            guard case let .number(number) = item.value else {
                                throw ParseProblem(message: "line \(item.line): key `\(answerKey)`: lists may hold only numbers")
                            }
                            return number
                        })
                    default:
                        throw ParseProblem(message: "\(answerLocation): key `\(answerKey)` must be a number, a list of numbers or a letter")
                    }
                    try builder.add(key: answerKey, value: value, line: answer.line, commaReading: commaReading)
                }
            default:
                throw ParseProblem(message: "\(location): unknown top-level key `\(boundedSummary(key))` (expected exercise, student, answers)")
            }
        }
        guard sawAnswers else { throw ParseProblem(message: "line 1: key `answers` is missing") }
        return builder.file
    }
}

/// A JSON value with the line it starts on, so that errors can name it.
struct JSONNode {
    indirect enum Value {
        case object([(String, JSONNode)])
        case array([JSONNode])
        case string(String)
        case number(Double)
        case bool(Bool)
        case null
    }
    var value: Value
    var line: Int
}

/// A small recursive-descent JSON reader (RFC 8259) that remembers line numbers.
/// The recursion is bounded by `limits.depth`, so a deeply nested file is refused with a
/// message instead of overflowing the stack; every scalar is looked at a bounded number of times.
struct JSONParser {
    private let scalars: [Unicode.Scalar]
    private let limits: AnswerFileLimits
    private var position = 0
    private var line = 1
    private var keyCount = 0

    init(text: String, limits: AnswerFileLimits = .standard) {
        scalars = Array(text.unicodeScalars)
        self.limits = limits
    }

    typealias Problem = AnswersFile.ParseProblem

    mutating func parseDocument() throws -> JSONNode {
        let node = try parseValue(depth: 1)
        skipWhitespace()
        if position < scalars.count { throw Problem(message: "line \(line): unexpected text after the JSON object") }
        return node
    }

    /// The text ends inside a value; named by the last line that holds text.
    private func endedEarly(_ closing: Unicode.Scalar?) -> Problem {
        let lastLine = String(String.UnicodeScalarView(scalars)).trimmingCharacters(in: .whitespacesAndNewlines)
            .split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }).count
        return Problem(message: "line \(lastLine): the JSON ends too early" + (closing.map { ", `\($0)` is missing" } ?? ""))
    }

    private mutating func skipWhitespace() {
        while position < scalars.count {
            switch scalars[position] {
            case "\n": line += 1
            // A lone CR ends a line too (old Mac editors); in CRLF the LF counts it.
            case "\r": if position + 1 >= scalars.count || scalars[position + 1] != "\n" { line += 1 }
            // Not JSON whitespace, but what editors and input methods put between values.
            case " ", "\t", "\u{A0}", "\u{3000}": break
            default: return
            }
            position += 1
        }
    }

    private mutating func expect(_ scalar: Unicode.Scalar, _ what: String) throws {
        skipWhitespace()
        guard position < scalars.count, scalars[position] == scalar else {
            throw Problem(message: "line \(line): expected \(what)")
        }
        position += 1
    }

    /// `depth` counts the objects and arrays around this value, itself included if it is one.
    private mutating func parseValue(depth: Int) throws -> JSONNode {
        skipWhitespace()
        let startLine = line
        guard position < scalars.count else { throw endedEarly(nil) }
        switch scalars[position] {
        case "{", "[":
            guard depth <= limits.depth else {
                throw Problem(message: "line \(line): the JSON is nested \(depth) levels deep, over the limit of \(limits.depth)")
            }
            return scalars[position] == "{" ? try parseObject(depth: depth) : try parseArray(depth: depth)
        case "\"":
            return JSONNode(value: .string(try parseString()), line: startLine)
        default:
            var word = ""
            while position < scalars.count, !",]} \t\r\n\u{A0}\u{3000}".unicodeScalars.contains(scalars[position]) {
                word.unicodeScalars.append(scalars[position])
                position += 1
            }
            switch word {
            case "true": return JSONNode(value: .bool(true), line: startLine)
            case "false": return JSONNode(value: .bool(false), line: startLine)
            case "null": return JSONNode(value: .null, line: startLine)
            default:
                guard AnswersFile.isJSONNumber(word), let number = Double(word), number.isFinite else {
                    throw Problem(message: "line \(startLine): `\(boundedSummary(word))` is not a JSON value")
                }
                return JSONNode(value: .number(number), line: startLine)
            }
        }
    }

    private mutating func parseObject(depth: Int) throws -> JSONNode {
        let startLine = line
        position += 1  // {
        var members = [(String, JSONNode)]()
        skipWhitespace()
        if position < scalars.count, scalars[position] == "}" { position += 1; return JSONNode(value: .object(members), line: startLine) }
        repeat {
            skipWhitespace()
            guard position < scalars.count else { throw endedEarly("}") }
            guard scalars[position] == "\"" else {
                throw Problem(message: "line \(line): expected a key in double quotes")
            }
            keyCount += 1
            guard keyCount <= limits.keys else {
                throw Problem(message: "line \(line): key number \(keyCount) is over the limit of \(limits.keys) keys")
            }
            let key = try parseString()
            try expect(":", "`:` after key `\(boundedSummary(key))`")
            members.append((key, try parseValue(depth: depth + 1)))
            skipWhitespace()
        } while try consumeSeparator(closing: "}")
        return JSONNode(value: .object(members), line: startLine)
    }

    private mutating func parseArray(depth: Int) throws -> JSONNode {
        let startLine = line
        position += 1  // [
        var items = [JSONNode]()
        skipWhitespace()
        if position < scalars.count, scalars[position] == "]" { position += 1; return JSONNode(value: .array(items), line: startLine) }
        repeat {
            items.append(try parseValue(depth: depth + 1))
            skipWhitespace()
        } while try consumeSeparator(closing: "]")
        return JSONNode(value: .array(items), line: startLine)
    }

    /// After an item: `,` means another follows (true), `closing` ends the list (false).
    private mutating func consumeSeparator(closing: Unicode.Scalar) throws -> Bool {
        guard position < scalars.count else { throw endedEarly(closing) }
        if scalars[position] == "," { position += 1; return true }
        if scalars[position] == closing { position += 1; return false }
        throw Problem(message: "line \(line): expected `,` or `\(closing)`")
    }

    private mutating func parseString() throws -> String {
        let startLine = line
        let start = position
        position += 1  // the opening quote
        var result = ""
        var length = 0
        while position < scalars.count {
            let scalar = scalars[position]
            position += 1
            if scalar == "\"" { return result }
            length += 1
            guard length <= limits.stringLength else {
                throw Problem(message: "line \(startLine): a string of \(lengthOfString(at: start)) characters is over the limit of \(limits.stringLength)")
            }
            switch scalar {
            case "\n", "\r": throw Problem(message: "line \(startLine): a string is not closed on its line")
            case "\\":
                guard position < scalars.count else { break }
                let escaped = scalars[position]
                position += 1
                switch escaped {
                case "\"", "\\", "/": result.unicodeScalars.append(escaped)
                case "n": result += "\n"
                case "t": result += "\t"
                case "r": result += "\r"
                case "b": result += "\u{8}"
                case "f": result += "\u{C}"
                case "u":
                    guard var code = hexCode(at: position) else {
                        throw Problem(message: "line \(startLine): bad \\u escape in a string")
                    }
                    position += 4
                    // Beyond U+FFFF, JSON writes a surrogate pair such as \ud83d\ude00 (Python's default).
                    if (0xD800...0xDBFF).contains(code), position + 1 < scalars.count, scalars[position] == "\\",
                       scalars[position + 1] == "u", let low = hexCode(at: position + 2), (0xDC00...0xDFFF).contains(low) {
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                        position += 6
                    }
                    guard let decoded = Unicode.Scalar(code) else {
                        throw Problem(message: "line \(startLine): bad \\u escape in a string")
                    }
                    result.unicodeScalars.append(decoded)
                default: throw Problem(message: "line \(startLine): bad escape \\\(escapedForMessage(String(escaped))) in a string")
                }
            default: result.unicodeScalars.append(scalar)
            }
        }
        throw Problem(message: "line \(startLine): a string is not closed")
    }

    /// The number written by the four hex digits at `index`, or nil.
    private func hexCode(at index: Int) -> UInt32? {
        guard index + 4 <= scalars.count else { return nil }
        let digits = scalars[index..<index + 4]
        guard digits.allSatisfy(\.properties.isASCIIHexDigit) else { return nil }
        return UInt32(String(String.UnicodeScalarView(digits)), radix: 16)
    }

    /// The length of the string whose opening quote is at `start`, up to its closing quote or
    /// the end of its line, counting an escape such as \n or \u00e9 as one character.
    private func lengthOfString(at start: Int) -> Int {
        var index = start + 1
        var length = 0
        while index < scalars.count, scalars[index] != "\"", scalars[index] != "\n" {
            if scalars[index] == "\\" {
                index += index + 1 < scalars.count && scalars[index + 1] == "u" ? 6 : 2
            } else {
                index += 1
            }
            length += 1
        }
        return length
    }
}

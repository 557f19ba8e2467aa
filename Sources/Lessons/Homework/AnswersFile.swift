import Foundation
import MiniNet

/// One answer as the student wrote it.
public enum AnswerValue: Equatable, Sendable {
    case number(Double)
    case vector([Double])
    case text(String)
}

/// A student's answers to one exercise, read from JSON or from plain `name = value` lines.
///
/// JSON:   {"exercise": "cam-1", "student": "alice", "answers": {"q1": 0.25, "q2": [1, 2], "q3": "B"}}
/// Text:   # comment
///         exercise = cam-1          (optional, like student)
///         q1 = 0.25
///         q2 = 1, 2, 3              (a list; brackets are allowed: [1, 2, 3])
///         q3 = B
/// Numbers may be written as fractions, 3/4.
public struct AnswersFile: Equatable, Sendable {
    public var exercise: String?
    public var student: String?
    /// Answers in the order the file gives them.
    public var answers: [(key: String, value: AnswerValue)]

    public init(exercise: String?, student: String?, answers: [(key: String, value: AnswerValue)]) {
        self.exercise = exercise
        self.student = student
        self.answers = answers
    }

    public static func == (lhs: AnswersFile, rhs: AnswersFile) -> Bool {
        lhs.exercise == rhs.exercise && lhs.student == rhs.student
            && lhs.answers.map(\.key) == rhs.answers.map(\.key) && lhs.answers.map(\.value) == rhs.answers.map(\.value)
    }

    public func value(for key: String) -> AnswerValue? {
        answers.first { $0.key == key }?.value
    }

    /// Reads and parses a file; `MiniNetError.file(path, problem)` on any problem.
    public static func read(from path: String) throws -> AnswersFile {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw MiniNetError.file(path, "cannot be read (\(FileManager.default.fileExists(atPath: path) ? "permission or I/O error" : "no such file"))")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw MiniNetError.file(path, "is not UTF-8 text")
        }
        return try parse(text, name: path)
    }

    /// Parses JSON when the text starts with `{`, `name = value` lines otherwise.
    /// `name` only labels error messages, e.g. "answers.txt: line 3: expected `name = value`".
    public static func parse(_ text: String, name: String) throws -> AnswersFile {
        do {
            if text.trimmingCharacters(in: .whitespacesAndNewlines).hasPrefix("{") {
                return try parseJSON(text)
            }
            return try parseLines(text)
        } catch let problem as ParseProblem {
            throw MiniNetError.file(name, problem.message)
        }
    }

    /// A problem found while parsing, without the file name yet.
    struct ParseProblem: Error { var message: String }

    // MARK: - Plain text

    static func parseLines(_ text: String) throws -> AnswersFile {
        var result = AnswersFile(exercise: nil, student: nil, answers: [])
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let location = "line \(index + 1)"
            let line = (rawLine.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
                .trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty { continue }
            guard let equals = line.firstIndex(of: "=") else {
                throw ParseProblem(message: "\(location): expected `name = value`, found `\(line)`")
            }
            let key = line[..<equals].trimmingCharacters(in: .whitespaces)
            let valueText = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            guard isValidKey(key) else {
                throw ParseProblem(message: "\(location): expected `name = value` with a name such as q1, found `\(line)`")
            }
            guard !valueText.isEmpty else {
                throw ParseProblem(message: "\(location): `\(key)` has no value after `=`")
            }
            // The exercise and student lines are names, even when they look like numbers ("student = 042").
            let value = key == "exercise" || key == "student"
                ? AnswerValue.text(valueText.trimmingCharacters(in: CharacterSet(charactersIn: "\"")))
                : try parseTextValue(valueText, key: key, location: location)
            try result.add(key: key, value: value, location: location)
        }
        return result
    }

    static func isValidKey(_ key: String) -> Bool {
        !key.isEmpty && key.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" || $0 == "." }
    }

    /// "0.25" → number, "1, 2" or "[1, 2]" → list, "3/4" → 0.75, "B" or "\"B\"" → text.
    static func parseTextValue(_ text: String, key: String, location: String) throws -> AnswerValue {
        if text.hasPrefix("[") || text.contains(",") {
            var inner = text
            if inner.hasPrefix("[") {
                guard inner.hasSuffix("]") else { throw ParseProblem(message: "\(location): `\(key)`: the list has no closing `]`") }
                inner = String(inner.dropFirst().dropLast())
            }
            var numbers = [Double]()
            for item in inner.split(separator: ",", omittingEmptySubsequences: false) {
                let itemText = item.trimmingCharacters(in: .whitespaces)
                guard let number = parseNumber(itemText) else {
                    throw ParseProblem(message: "\(location): `\(key)`: `\(itemText)` is not a number (lists are numbers separated by commas)")
                }
                numbers.append(number)
            }
            return .vector(numbers)
        }
        if let number = parseNumber(text) { return .number(number) }
        var unquoted = text
        if unquoted.count >= 2, unquoted.hasPrefix("\""), unquoted.hasSuffix("\"") {
            unquoted = String(unquoted.dropFirst().dropLast())
        }
        return .text(unquoted)
    }

    /// A decimal number or a fraction "a/b"; nil for anything else (also nan and inf).
    static func parseNumber(_ text: String) -> Double? {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        if parts.count == 2,
           let numerator = parseNumber(parts[0].trimmingCharacters(in: .whitespaces)),
           let denominator = parseNumber(parts[1].trimmingCharacters(in: .whitespaces)), denominator != 0 {
            return numerator / denominator
        }
        guard parts.count == 1, let value = Double(text), value.isFinite,
              text.allSatisfy({ "0123456789+-.eE".contains($0) }) else { return nil }
        return value
    }

    mutating func add(key: String, value: AnswerValue, location: String) throws {
        switch key {
        case "exercise", "student":
            guard case let .text(text) = value else {
                throw ParseProblem(message: "\(location): `\(key)` must be text such as \(key == "exercise" ? "cam-1" : "alice")")
            }
            if key == "exercise" { exercise = text } else { student = text }
        default:
            if answers.contains(where: { $0.key == key }) {
                throw ParseProblem(message: "\(location): `\(key)` is answered twice")
            }
            answers.append((key, value))
        }
    }

    // MARK: - JSON

    static func parseJSON(_ text: String) throws -> AnswersFile {
        var parser = JSONParser(text: text)
        let root = try parser.parseDocument()
        guard case let .object(members) = root.value else {
            throw ParseProblem(message: "line \(root.line): expected a JSON object {\"answers\": {…}}")
        }
        var result = AnswersFile(exercise: nil, student: nil, answers: [])
        var sawAnswers = false
        for (key, member) in members {
            let location = "line \(member.line)"
            switch key {
            case "exercise", "student":
                guard case let .string(text) = member.value else {
                    throw ParseProblem(message: "\(location): key `\(key)` must be a string")
                }
                try result.add(key: key, value: .text(text), location: location)
            case "answers":
                guard case let .object(answerMembers) = member.value else {
                    throw ParseProblem(message: "\(location): key `answers` must be an object such as {\"q1\": 0.25}")
                }
                sawAnswers = true
                for (answerKey, answer) in answerMembers {
                    let answerLocation = "line \(answer.line)"
                    let value: AnswerValue
                    switch answer.value {
                    case let .number(number): value = .number(number)
                    case let .string(text): value = parseNumber(text).map { .number($0) } ?? .text(text)
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
                    try result.add(key: answerKey, value: value, location: answerLocation)
                }
            default:
                throw ParseProblem(message: "\(location): unknown top-level key `\(key)` (expected exercise, student, answers)")
            }
        }
        guard sawAnswers else { throw ParseProblem(message: "line 1: key `answers` is missing") }
        return result
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
struct JSONParser {
    private let scalars: [Unicode.Scalar]
    private var position = 0
    private var line = 1

    init(text: String) { scalars = Array(text.unicodeScalars) }

    typealias Problem = AnswersFile.ParseProblem

    mutating func parseDocument() throws -> JSONNode {
        let node = try parseValue()
        skipWhitespace()
        if position < scalars.count { throw Problem(message: "line \(line): unexpected text after the JSON object") }
        return node
    }

    /// The text ends inside a value; named by the last line that holds text.
    private func endedEarly(_ closing: Unicode.Scalar?) -> Problem {
        let lastLine = String(String.UnicodeScalarView(scalars)).trimmingCharacters(in: .whitespacesAndNewlines)
            .split(separator: "\n", omittingEmptySubsequences: false).count
        return Problem(message: "line \(lastLine): the JSON ends too early" + (closing.map { ", `\($0)` is missing" } ?? ""))
    }

    private mutating func skipWhitespace() {
        while position < scalars.count, [" ", "\t", "\n", "\r"].contains(scalars[position]) {
            if scalars[position] == "\n" { line += 1 }
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

    private mutating func parseValue() throws -> JSONNode {
        skipWhitespace()
        let startLine = line
        guard position < scalars.count else { throw endedEarly(nil) }
        switch scalars[position] {
        case "{":
            position += 1
            var members = [(String, JSONNode)]()
            skipWhitespace()
            if position < scalars.count, scalars[position] == "}" { position += 1; return JSONNode(value: .object(members), line: startLine) }
            repeat {
                skipWhitespace()
                guard position < scalars.count else { throw endedEarly("}") }
                guard scalars[position] == "\"" else {
                    throw Problem(message: "line \(line): expected a key in double quotes")
                }
                let key = try parseString()
                try expect(":", "`:` after key `\(key)`")
                members.append((key, try parseValue()))
                skipWhitespace()
            } while try consumeSeparator(closing: "}")
            return JSONNode(value: .object(members), line: startLine)
        case "[":
            position += 1
            var items = [JSONNode]()
            skipWhitespace()
            if position < scalars.count, scalars[position] == "]" { position += 1; return JSONNode(value: .array(items), line: startLine) }
            repeat {
                items.append(try parseValue())
                skipWhitespace()
            } while try consumeSeparator(closing: "]")
            return JSONNode(value: .array(items), line: startLine)
        case "\"":
            return JSONNode(value: .string(try parseString()), line: startLine)
        default:
            var word = ""
            while position < scalars.count, !",]} \t\r\n".unicodeScalars.contains(scalars[position]) {
                word.unicodeScalars.append(scalars[position])
                position += 1
            }
            switch word {
            case "true": return JSONNode(value: .bool(true), line: startLine)
            case "false": return JSONNode(value: .bool(false), line: startLine)
            case "null": return JSONNode(value: .null, line: startLine)
            default:
                guard let number = Double(word), number.isFinite else {
                    throw Problem(message: "line \(startLine): `\(word)` is not a JSON value")
                }
                return JSONNode(value: .number(number), line: startLine)
            }
        }
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
        position += 1  // the opening quote
        var result = ""
        while position < scalars.count {
            let scalar = scalars[position]
            position += 1
            switch scalar {
            case "\"": return result
            case "\n": throw Problem(message: "line \(startLine): a string is not closed on its line")
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
                    let hex = String(String.UnicodeScalarView(scalars[position..<min(position + 4, scalars.count)]))
                    guard hex.count == 4, let code = UInt32(hex, radix: 16), let decoded = Unicode.Scalar(code) else {
                        throw Problem(message: "line \(startLine): bad \\u escape in a string")
                    }
                    result.unicodeScalars.append(decoded)
                    position += 4
                default: throw Problem(message: "line \(startLine): bad escape \\\(escaped) in a string")
                }
            default: result.unicodeScalars.append(scalar)
            }
        }
        throw Problem(message: "line \(startLine): a string is not closed")
    }
}

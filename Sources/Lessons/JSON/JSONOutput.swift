import Foundation

/// A JSON value to print, with object keys kept in order so output reads top to bottom: the
/// one JSON writer of every command (`--json`), of lesson pages in JSON and of homework files.
public indirect enum JSONOutput: Equatable {
    case string(String)
    /// A number as a person writes it, at most 4 decimals (`formatNumber`): homework values.
    case number(Double)
    /// A number exactly: the shortest text that reads back as the same Double; null when it
    /// is not finite (JSON has no NaN or infinity).
    case double(Double)
    /// A float32 exactly, in its own shortest form ("0.1", not 0.10000000149011612).
    case float(Float)
    case integer(Int)
    case bool(Bool)
    case null
    case array([JSONOutput])
    case object([(String, JSONOutput)])

    public static func == (lhs: JSONOutput, rhs: JSONOutput) -> Bool { lhs.rendered() == rhs.rendered() }

    /// Pretty-printed with two-space indentation; lists of plain numbers stay on one line.
    public func rendered(indent: Int = 0) -> String {
        let padding = String(repeating: "  ", count: indent + 1)
        let closing = String(repeating: "  ", count: indent)
        switch self {
        case let .string(text): return JSONOutput.quoted(text)
        case let .number(value): return formatNumber(value)
        case let .double(value): return value.isFinite ? "\(value)" : "null"
        case let .float(value): return value.isFinite ? "\(value)" : "null"
        case let .integer(value): return "\(value)"
        case let .bool(value): return value ? "true" : "false"
        case .null: return "null"
        case let .array(items):
            if items.isEmpty { return "[]" }
            if items.allSatisfy(\.isNumber) {
                return "[" + items.map { $0.rendered() }.joined(separator: ", ") + "]"
            }
            return "[\n" + items.map { padding + $0.rendered(indent: indent + 1) }.joined(separator: ",\n") + "\n" + closing + "]"
        case let .object(members):
            if members.isEmpty { return "{}" }
            return "{\n" + members.map { padding + JSONOutput.quoted($0.0) + ": " + $0.1.rendered(indent: indent + 1) }
                .joined(separator: ",\n") + "\n" + closing + "}"
        }
    }

    /// On one line, without spaces.
    public func renderedCompactly() -> String {
        switch self {
        case let .array(items): return "[" + items.map { $0.renderedCompactly() }.joined(separator: ",") + "]"
        case let .object(members):
            return "{" + members.map { JSONOutput.quoted($0.0) + ":" + $0.1.renderedCompactly() }.joined(separator: ",") + "}"
        default: return rendered()
        }
    }

    /// An object with its keys sorted, so that the same content always gives the same bytes.
    public static func sortedObject(_ members: [String: JSONOutput]) -> JSONOutput {
        .object(members.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
    }

    static func quoted(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\t": result += "\\t"
            case "\r": result += "\\r"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    result.unicodeScalars.append(scalar)
                }
            }
        }
        return result + "\""
    }
}

extension JSONOutput {
    var isNumber: Bool {
        switch self {
        case .number, .double, .float, .integer: return true
        default: return false
        }
    }

    /// Doubles written exactly.
    public static func doubles<S: Sequence>(_ values: S) -> JSONOutput where S.Element: BinaryFloatingPoint {
        .array(values.map { .double(Double($0)) })
    }
}

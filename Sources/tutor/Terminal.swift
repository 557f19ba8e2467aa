import Foundation

/// Small helpers for talking to the terminal.
enum Terminal {
    static var standardErrorIsTerminal: Bool { isatty(STDERR_FILENO) == 1 }
    static var standardOutputIsTerminal: Bool { isatty(STDOUT_FILENO) == 1 }

    /// Colour only when stdout is a terminal and NO_COLOR is unset (https://no-color.org).
    static var useColor: Bool {
        standardOutputIsTerminal && ProcessInfo.processInfo.environment["NO_COLOR"].map(\.isEmpty) ?? true
    }

    static func printError(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    /// Writes JSON for scripts: keys sorted, so output is stable. JSON has no NaN or infinity
    /// (JSONSerialization would throw "Invalid number value"), so those become null.
    static func printJSON(_ object: Any) throws {
        let data = try JSONSerialization.data(withJSONObject: replacingNonFiniteNumbers(object), options: [.sortedKeys, .prettyPrinted])
        FileHandle.standardOutput.write(data)
        FileHandle.standardOutput.write(Data("\n".utf8))
    }

    /// `object` with every NaN or infinite Double or Float, however deeply nested, replaced by null.
    static func replacingNonFiniteNumbers(_ object: Any) -> Any {
        switch object {
        case let number as Double: return number.isFinite ? number : NSNull()
        case let number as Float: return number.isFinite ? number : NSNull()
        case let array as [Any]: return array.map(replacingNonFiniteNumbers)
        case let dictionary as [String: Any]: return dictionary.mapValues(replacingNonFiniteNumbers)
        default: return object
        }
    }
}

/// A one-line progress bar on stderr, redrawn in place when stderr is a terminal; otherwise
/// only the final line of each task is printed, so logs stay readable.
struct ProgressBar {
    let width = 28

    func update(label: String, fraction: Double, detail: String) {
        guard Terminal.standardErrorIsTerminal else { return }
        let filled = Int((fraction * Double(width)).rounded(.down))
        let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: max(width - filled, 0))
        FileHandle.standardError.write(Data("\r\u{1B}[2K\(label) \(bar) \(Int(fraction * 100))%  \(detail)".utf8))
    }

    func finish(label: String, detail: String) {
        let bar = String(repeating: "█", count: width)
        let prefix = Terminal.standardErrorIsTerminal ? "\r\u{1B}[2K" : ""
        FileHandle.standardError.write(Data("\(prefix)\(label) \(bar) 100%  \(detail)\n".utf8))
    }
}

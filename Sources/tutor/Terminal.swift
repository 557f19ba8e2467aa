import Foundation
import Lessons

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

    /// Writes JSON for scripts (`--json`), with the one JSON writer every command uses: keys in
    /// the order given, numbers exact, NaN and infinity as null.
    static func printJSON(_ value: JSONOutput) {
        print(value.rendered())
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

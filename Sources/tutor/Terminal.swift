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
        StandardStreams.writeError(text + "\n")
    }

    /// Writes JSON for scripts (`--json`), with the one JSON writer every command uses: keys in
    /// the order given, numbers exact, NaN and infinity as null.
    static func printJSON(_ value: JSONOutput) {
        print(value.rendered())
    }
}

/// Standard output and standard error through C's streams, which report a failed write instead
/// of stopping the program (Foundation's `FileHandle.write(_:)` traps on one: a full disk, a
/// closed descriptor). Everything `print` writes goes through the same buffered stdout, so the
/// order of the output is kept.
enum StandardStreams {
    /// The problem of standard output, once a write to it failed.
    struct OutputError: Error, CustomStringConvertible {
        var reason: String
        var description: String {
            translated("standard output: cannot write ({$1})", with: translated(reason))
        }
    }

    /// Writes `text` to standard output and flushes it, so a full disk or a closed descriptor
    /// is one line and exit status 1, not output lost in silence.
    static func writeOutput(_ text: String) throws {
        fputs(text, stdout)
        try flushOutput()
    }

    /// Flushes standard output; throws `OutputError` if any write to it failed.
    static func flushOutput() throws {
        if fflush(stdout) != 0 || ferror(stdout) != 0 {
            let reason = String(cString: strerror(errno == 0 ? EIO : errno))
            clearerr(stdout)
            throw OutputError(reason: reason)
        }
    }

    /// Writes `text` to standard error; if that fails there is nowhere left to say so, and
    /// the command's exit status is still what it was going to be.
    static func writeError(_ text: String) {
        fputs(text, stderr)
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
        StandardStreams.writeError("\r\u{1B}[2K\(label) \(bar) \(Int(fraction * 100))%  \(detail)")
    }

    func finish(label: String, detail: String) {
        let bar = String(repeating: "█", count: width)
        let prefix = Terminal.standardErrorIsTerminal ? "\r\u{1B}[2K" : ""
        StandardStreams.writeError("\(prefix)\(label) \(bar) 100%  \(detail)\n")
    }
}

import Foundation
import MiniNet

/// The words renderers add around a lesson's own ("Step 3 · …", "⋮ 990 more rows", "All 12
/// checks passed."), from `Resources/<language>/notebook.md`, so that they are translated with
/// the lessons, in the language to print in now (`Language.current`).
enum NotebookWords {
    static let english: LessonText? = try? LessonText(lesson: "notebook")
    static let vietnamese: LessonText? = try? LessonText(lesson: "notebook", language: "vi")

    /// The text of `key` with its placeholders filled (a loud ⟦missing text⟧ marker if the
    /// resource file were missing, as for lessons).
    static func text(_ key: String, _ values: [String: String] = [:]) -> String {
        let language = Language.current
        guard let words = (language == .vi ? vietnamese : nil) ?? english else {
            return "⟦missing text: \(language.rawValue)/notebook.md ## \(key)⟧"
        }
        return words(key, values)
    }

    static func step(_ step: Step) -> String {
        text("step", ["number": "\(step.number)", "title": step.title])
    }

    /// "⋮ 990 more rows" or "⋮ 990 more rows, with smaller z_c".
    static func gap(_ count: Int, rankedBy column: String?) -> String {
        if let column { return text("rows.gap.ranked", ["count": "\(count)", "column": column]) }
        return text("rows.gap", ["count": "\(count)"])
    }

    static func rowsNote(_ rows: ShownRows) -> String {
        text("rows.note", ["shown": "\(rows.total - rows.hidden)", "total": "\(rows.total)"])
    }

    /// "All 12 checks passed." or "2 of 12 checks failed:" (names follow), or "No checks …".
    static func checkSummary(_ checks: [Check]) -> String {
        guard !checks.isEmpty else { return text("checks.none") }
        let failed = checks.filter { !$0.ok }.count
        if failed == 0 { return passed(checks) }
        return text("checks.failed", ["failed": "\(failed)", "count": "\(checks.count)"])
    }

    /// The verdict line of a Markdown page: "All 12 checks passed." or "2 of 12 checks failed."
    static func pageVerdict(_ checks: [Check]) -> String {
        let failed = checks.filter { !$0.ok }.count
        if failed == 0 { return passed(checks) }
        return text("checks.failed.page", ["failed": "\(failed)", "count": "\(checks.count)"])
    }

    /// "All 12 checks passed.", saying how many of them are coarse (`Check.isCoarse`).
    static func passed(_ checks: [Check]) -> String {
        let verdict = text(checks.count == 1 ? "checks.passed.one" : "checks.passed", ["count": "\(checks.count)"])
        let coarse = checks.filter(\.isCoarse).count
        return coarse == 0 ? verdict : verdict + " " + text("checks.coarse", ["coarse": "\(coarse)"])
    }

    /// How a tolerance was made ("4·γ₆₄·Σ|a| (Σ|a| = 0.923) = 2.82e-05"), its one word ("exact")
    /// in the reader's language; the reasons of absolute amounts were translated with the check.
    static func tolerance(_ model: Tolerance) -> String {
        translated(model.description)
    }

    /// A tensor's printout (`Tensor.formatted`) with its few words in the reader's language:
    /// the line that counts what was left out, "⋮  (28 more along axis 0)", and "(empty)".
    static func tensor(_ printout: String) -> String {
        guard Language.current != .en else { return printout }
        return printout.components(separatedBy: "\n").map { line -> String in
            if let match = line.range(of: #"\((\d+) more along axis (\d+)\)$"#, options: .regularExpression) {
                let numbers = line[match].split { !$0.isNumber }.map(String.init)
                guard numbers.count == 2 else { return line }
                return line[..<match.lowerBound] + text("tensor.more", ["count": numbers[0], "axis": numbers[1]])
            }
            if line.hasSuffix("  (empty)") { return String(line.dropLast("(empty)".count)) + text("tensor.empty") }
            return line
        }.joined(separator: "\n")
    }
}

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
        if failed == 0 { return text(checks.count == 1 ? "checks.passed.one" : "checks.passed", ["count": "\(checks.count)"]) }
        return text("checks.failed", ["failed": "\(failed)", "count": "\(checks.count)"])
    }
}

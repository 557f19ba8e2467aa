import Foundation
import MiniNet

/// One student's line in the grade sheet.
public struct GradebookRow: Equatable, Sendable {
    public var student: String
    /// The answers file that was graded.
    public var fileName: String
    /// nil when the file could not be graded; then `error` says why.
    public var report: CheckReport?
    public var error: String?
}

/// A folder of answer files graded against one exercise, each student with their own numbers.
///
/// Modelled on nbgrader's gradebook export: one row per student, `student_id`, `score`,
/// `max_score`, then the points earned on every question, then `error` (empty when the file was
/// graded; otherwise the one-line problem, with empty score and question cells).
public struct Gradebook: Equatable, Sendable {
    public var exerciseID: String
    /// The question ids, in order: the per-question columns.
    public var questionIDs: [String]
    public var maxScore: Int
    /// Sorted by student id.
    public var rows: [GradebookRow]
    /// Files in the folder that are not answer files (not `.json` or `.txt`), for a note on stderr.
    public var skippedFiles: [String]

    /// Grades every `<student>.json` and `<student>.txt` in `directory`. A file that cannot be read
    /// or parsed gives its student a row with an error; the other students are still graded.
    public static func grade(exerciseID: String, directory: String) throws -> Gradebook {
        let template = try HomeworkCatalog.singleTemplate(id: exerciseID)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw MiniNetError.file(escapedForMessage(directory), translated("is not a folder of answer files"))
        }
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
        } catch {
            throw MiniNetError.file(escapedForMessage(directory), translated("cannot be listed"))
        }

        var filesByStudent = [String: [String]]()
        var skipped = [String]()
        for name in names where !name.hasPrefix(".") {
            let url = URL(fileURLWithPath: name)
            guard ["json", "txt"].contains(url.pathExtension.lowercased()) else { skipped.append(name); continue }
            filesByStudent[url.deletingPathExtension().lastPathComponent, default: []].append(name)
        }

        // The questions and points are the same for every student; only the numbers differ.
        let anyStudent = template.make(student: "x")
        var rows = [GradebookRow]()
        for student in filesByStudent.keys.sorted() {
            let files = filesByStudent[student] ?? []
            let fileName = files.joined(separator: ", ")
            func refuse(_ problem: String) {
                rows.append(GradebookRow(student: student, fileName: fileName, report: nil, error: problem))
            }
            // The name is checked first, and quoted only as a bounded summary: a file name may hold
            // a line break or a megabyte of text, and it must not reach the message whole.
            do {
                try HomeworkCatalog.validateStudentID(student)
            } catch {
                refuse(translated("file name `{$1}` is not a student id (letters, digits, '-', '_' and '.')", with: boundedSummary(files[0])))
                continue
            }
            if files.count > 1 {
                refuse(translated("{$1} has {$2} answer files ({$3}); keep one", with: student, files.count, fileName))
                continue
            }
            let path = (directory as NSString).appendingPathComponent(files[0])
            do {
                let exercise = template.make(student: student)
                let answers = try AnswersFile.load(from: path)
                let report = try HomeworkChecker.check(answers, against: exercise, fileName: escapedForMessage(path))
                rows.append(GradebookRow(student: student, fileName: fileName, report: report, error: nil))
            } catch {
                refuse("\(error)")
            }
        }
        return Gradebook(exerciseID: exerciseID, questionIDs: anyStudent.questions.map(\.id),
                         maxScore: anyStudent.maxScore, rows: rows, skippedFiles: skipped)
    }

    /// The grade sheet as CSV (RFC 4180: fields with commas, quotes or line breaks are quoted).
    public var csv: String {
        var lines = [(["student_id", "score", "max_score"] + questionIDs + ["error"]).map(Gradebook.csvField).joined(separator: ",")]
        for row in rows {
            var fields = [row.student]
            if let report = row.report {
                fields += [formatPoints(report.score), String(report.maxScore)]
                fields += report.results.map { formatPoints($0.pointsEarned) }
                fields.append("")  // graded: no error
            } else {
                fields += ["", String(maxScore)] + questionIDs.map { _ in "" } + [row.error ?? ""]
            }
            lines.append(fields.map(Gradebook.csvField).joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// One CSV cell that a spreadsheet shows as text and never runs as a formula. A cell that
    /// starts with =, +, -, @, tab or carriage return gets a leading single quote, as OWASP
    /// advises against CSV injection (a file named `=HYPERLINK(…).json` lands in `student_id`).
    /// A cell holding a comma, a quote or a line break is quoted, its quotes doubled (RFC 4180).
    /// Unicode scalars, not Characters, are compared: "\r\n" is a single Character.
    static func csvField(_ text: String) -> String {
        var cell = text
        if let first = cell.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(first) {
            cell = "'" + cell
        }
        guard cell.unicodeScalars.contains(where: { "\",\n\r".unicodeScalars.contains($0) }) else { return cell }
        return "\"" + cell.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// Writes the CSV through `writeFileAtomically` (a temporary file beside `path`, then a
    /// rename), so a reader never sees half a grade sheet and a failed write leaves the old one.
    public func writeCSV(to path: String) throws {
        try inReadersLanguage { try writeFileAtomically(Data(csv.utf8), to: path) }
    }
}

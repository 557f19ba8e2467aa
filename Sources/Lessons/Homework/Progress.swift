// A student's progress through the homework, like rustlings' list: which exercises are done,
// their scores, and the next one to do.
//
// The student keeps one answers file per exercise in a folder, named by the exercise id
// (answers/cam-1.txt, answers/cam-2.json): the same folder a course hands in as
// submissions/<student>/.

import Foundation
import MiniNet

public struct ProgressItem: Sendable {
    public enum State: Sendable {
        case notStarted
        /// The answers file cannot be read, or there are two of them: (file, problem).
        case unreadable(file: String, problem: String)
        /// Practice: checked for correctness.
        case checked(file: String, CheckReport)
        /// Course: checked for form only.
        case formChecked(file: String, FormatReport)
    }

    public var exerciseID: String
    public var title: String
    public var state: State

    /// Practice: every answer correct. Course: every question answered in its form (whether
    /// the answers are right is known only once the teacher grades them).
    public var isDone: Bool {
        switch state {
        case .notStarted, .unreadable: return false
        case let .checked(_, report): return report.allPassed
        case let .formChecked(_, report): return report.isWellFormed
        }
    }
}

public struct StudentProgress: Sendable {
    public var student: String
    public var mode: HomeworkMode
    public var items: [ProgressItem]

    public var doneCount: Int { items.filter(\.isDone).count }
    /// The first exercise, in teaching order, that is not done.
    public var next: ProgressItem? { items.first { !$0.isDone } }

    /// Practice mode: every answers file is checked in full.
    public static func practice(student: String, templates: [ExerciseTemplate], directory: String) throws -> StudentProgress {
        try checkFolder(directory)
        let items = templates.map { template -> ProgressItem in
            let state = answersFile(for: template.id, in: directory) { path in
                let answers = try AnswersFile.load(from: path)
                let report = try HomeworkChecker.check(answers, against: template.make(student: student), fileName: escapedForMessage(path))
                return .checked(file: path, report)
            }
            return ProgressItem(exerciseID: template.id, title: template.title, state: state)
        }
        return StudentProgress(student: student, mode: .practice, items: items)
    }

    /// Course mode: the form of every answers file, against the questions of the sheet.
    public static func formOnly(student: String, sheet: SheetFile, directory: String) throws -> StudentProgress {
        try checkFolder(directory)
        let items = sheet.exercises.map { entry -> ProgressItem in
            let state = answersFile(for: entry.exerciseID, in: directory) { path in
                let answers = try AnswersFile.load(from: path)
                let report = try FormatCheck.check(answers, exerciseID: entry.exerciseID, student: student,
                                                   questions: entry.questions, mode: sheet.mode, fileName: escapedForMessage(path))
                return .formChecked(file: path, report)
            }
            return ProgressItem(exerciseID: entry.exerciseID, title: entry.title, state: state)
        }
        return StudentProgress(student: student, mode: sheet.mode, items: items)
    }

    /// Course mode from the course file: as `formOnly`, with the questions of the course's exercises.
    public static func formOnly(student: String, course: Course, templates: [ExerciseTemplate], directory: String) throws -> StudentProgress {
        let entries = templates.map { template in
            SheetFile.Entry(exerciseID: template.id, title: template.title,
                            questions: template.make(student: student, course: course).questions.map(ShapedQuestion.init))
        }
        return try formOnly(student: student, sheet: SheetFile(mode: course.mode, student: student, exercises: entries), directory: directory)
    }

    static func checkFolder(_ directory: String) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw MiniNetError.file(escapedForMessage(directory), translated("is not a folder of answers files (cam-1.txt, cam-2.json, …)"))
        }
    }

    /// The state of `<exercise>.json` or `<exercise>.txt` in `directory`, read by `read`.
    static func answersFile(for exercise: String, in directory: String,
                            read: (String) throws -> ProgressItem.State) -> ProgressItem.State {
        let candidates = ["json", "txt"].map { (directory as NSString).appendingPathComponent("\(exercise).\($0)") }
            .filter { FileManager.default.fileExists(atPath: $0) }
        guard let path = candidates.first else { return .notStarted }
        if candidates.count > 1 {
            return .unreadable(file: path, problem: translated("both {$1}.json and {$2}.txt are there; keep one", with: exercise, exercise))
        }
        do {
            return try read(path)
        } catch let MiniNetError.file(_, problem) {
            return .unreadable(file: path, problem: problem)
        } catch {
            return .unreadable(file: path, problem: "\(error)")
        }
    }
}

extension HomeworkRendering {
    /// rustlings-style: a progress bar, one line per exercise, and the next one to do.
    public static func text(_ progress: StudentProgress) -> String {
        let total = progress.items.count
        let width = 30
        let filled = total == 0 ? 0 : progress.doneCount * width / total
        let bar = "[\(String(repeating: "#", count: filled))\(String(repeating: "-", count: width - filled))]"
        var lines = [translated("Progress of {$1} ({$2}): {$3} {$4}/{$5} done", with: progress.student, progress.mode.label, bar, progress.doneCount, total)]
        if !progress.mode.isPractice {
            lines.append(translated("Course mode: \"done\" means every question is answered in its form; correctness is decided when your teacher grades."))
        }
        for item in progress.items {
            let id = item.exerciseID.padding(toLength: 14, withPad: " ", startingAt: 0)
            let status: String
            var detail: String?
            switch item.state {
            case .notStarted: status = "·  " + translated("not started")
            case let .unreadable(file, problem):
                status = "!  " + translated("cannot be read")
                detail = "\(file): \(problem)"
            case let .checked(_, report): status = (report.allPassed ? "✓" : report.score > 0 ? "◐" : "✗") + "  \(formatNumber(Double(report.score)))/\(formatNumber(Double(report.maxScore)))"
            case let .formChecked(_, report):
                status = report.isWellFormed ? "✓  " + translated("answered")
                    : "✗  " + (report.problemCount == 1 ? translated("1 form problem") : translated("{$1} form problems", with: report.problemCount))
            }
            // The status column is 24 characters wide: its texts, in every language, are shorter.
            lines.append("  \(id)\(status.padding(toLength: 24, withPad: " ", startingAt: 0))  \(item.title)")
            if let detail { lines.append("                   \(escapedForMessage(detail))") }
        }
        if let next = progress.next {
            lines.append(progress.mode.isPractice
                ? translated("Next: {$1}, {$2} ({$3}).", with: next.exerciseID, next.title, "tutor homework show \(next.exerciseID) --student \(progress.student)")
                : translated("Next: {$1}, {$2} (see {$3} on your sheet).", with: next.exerciseID, next.title, next.exerciseID))
        } else {
            lines.append(translated(progress.mode.isPractice ? "Every exercise is done." : "Every exercise is answered; hand in your folder."))
        }
        return lines.joined(separator: "\n")
    }

    public static func json(_ progress: StudentProgress) -> JSONOutput {
        .object([
            ("student", .string(progress.student)), ("mode", .string(progress.mode.isPractice ? "practice" : "course")),
            ("done", .number(Double(progress.doneCount))), ("total", .number(Double(progress.items.count))),
            ("next", progress.next.map { .string($0.exerciseID) } ?? .null),
            ("exercises", .array(progress.items.map { item in
                var members: [(String, JSONOutput)] = [("id", .string(item.exerciseID)), ("title", .string(item.title)),
                                                       ("done", .bool(item.isDone))]
                switch item.state {
                case .notStarted: members.append(("state", .string("not_started")))
                case let .unreadable(file, problem):
                    members += [("state", .string("unreadable")), ("file", .string(file)), ("problem", .string(problem))]
                case let .checked(file, report):
                    members += [("state", .string("checked")), ("file", .string(file)),
                                ("score", .number(Double(report.score))), ("max_score", .number(Double(report.maxScore)))]
                case let .formChecked(file, report):
                    members += [("state", .string("form_checked")), ("file", .string(file)),
                                ("form_problems", .number(Double(report.problemCount)))]
                }
                return .object(members)
            })),
        ])
    }
}


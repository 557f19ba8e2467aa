// One gradebook for a whole class: every roster student, every selected exercise.
//
// Submissions layout: one folder per student, named by the student id (or by the file name
// stem `sheets` gave the student), holding one answers file per exercise named by its id:
//
//     submissions/alice/cam-1.txt
//     submissions/alice/cam-2.json
//     submissions/nguyễn/cam-1.txt
//
// Nothing in the folder is dropped silently: a folder of a student who is not on the roster,
// a file that is not an answers file, a file that says it is for another exercise or another
// student, two files for one exercise: each is an issue in the gradebook (and on standard
// error), and never a score. A file for an exercise the teacher did not select is no problem
// (a folder that collects the whole term's work holds many): it is listed in `notSelected`.

import Foundation
import MiniNet

/// Something in the submissions folder that did not become a score.
public struct SubmissionIssue: Equatable, Sendable {
    public enum Kind: String, Sendable {
        /// A folder whose name is no student on the roster.
        case unknownStudent = "unknown_student"
        /// A file that is not `<exercise id>.json` or `.txt` in a student's folder.
        case unknownFile = "unknown_file"
        /// A file whose `exercise` names another exercise than its file name.
        case wrongExercise = "wrong_exercise"
        /// A file whose `student` names another student than its folder.
        case wrongStudent = "wrong_student"
        /// Two answers files for one student and exercise.
        case duplicate
        /// A file that cannot be read or parsed.
        case unreadable
    }

    public var kind: Kind
    /// Relative to the submissions folder, e.g. "alice/cam-1.json".
    public var path: String
    /// The roster id of the folder the file is in; nil outside a roster student's folder.
    public var student: String?
    /// One line, e.g. "says it is for student `bob`".
    public var message: String
}

/// A submission that was checked.
public struct GradedSubmission: Sendable {
    public var exercise: Exercise
    public var answers: AnswersFile
    public var report: CheckReport
    /// Relative to the submissions folder.
    public var path: String
    /// The file's modification time.
    public var submitted: Date
    /// Started days after the due date; 0 when on time or when there is no due date.
    public var daysLate: Int
    /// The score after the course's late rule.
    public var score: Double

    /// The score before the late rule.
    public var rawScore: Double { Double(report.score) }
}

/// One student's result for one exercise.
public enum GradeCell: Sendable {
    case graded(GradedSubmission)
    case missing
    /// The file could not be graded: (relative path, one-line problem).
    case failed(path: String, problem: String)

    /// What counts toward the total: 0 for a missing or ungradable submission.
    public var score: Double {
        if case let .graded(submission) = self { return submission.score }
        return 0
    }
}

public struct ClassGradebookRow: Sendable {
    public var student: RosterEntry
    /// One per exercise of the gradebook, in its order.
    public var cells: [GradeCell]

    public var total: Double { cells.reduce(0) { $0 + $1.score } }
}

/// One exercise's column.
public struct GradedExercise: Sendable {
    public var id: String
    public var questionIDs: [String]
    /// The points of each question, in the order of `questionIDs`.
    public var questionPoints: [Double]
    public var maxScore: Double
    public var due: Date?
}

/// The statistics of one question over every graded submission.
public struct QuestionStatistics: Equatable, Sendable {
    public var exerciseID: String
    public var questionID: String
    public var maxPoints: Double
    public var graded: Int
    public var meanPoints: Double
    public var fullMarks: Int
    public var wrong: Int
    public var unanswered: Int
    /// The most common answers that did not earn full points, most common first, as written
    /// (for a letter question, the text of the option chosen: letters are shuffled per student).
    public var commonWrongAnswers: [(answer: String, count: Int)]

    public static func == (lhs: QuestionStatistics, rhs: QuestionStatistics) -> Bool {
        lhs.exerciseID == rhs.exerciseID && lhs.questionID == rhs.questionID && lhs.maxPoints == rhs.maxPoints
            && lhs.graded == rhs.graded && lhs.meanPoints == rhs.meanPoints && lhs.fullMarks == rhs.fullMarks
            && lhs.wrong == rhs.wrong && lhs.unanswered == rhs.unanswered
            && lhs.commonWrongAnswers.map(\.answer) == rhs.commonWrongAnswers.map(\.answer)
            && lhs.commonWrongAnswers.map(\.count) == rhs.commonWrongAnswers.map(\.count)
    }
}

public struct ClassGradebook: Sendable {
    public var mode: HomeworkMode
    public var lateRule: LateRule
    public var exercises: [GradedExercise]
    /// One per roster student, in roster order.
    public var rows: [ClassGradebookRow]
    public var issues: [SubmissionIssue]
    /// Answers files for exercises that exist but were not selected for this gradebook,
    /// relative to the submissions folder ("dave/ig-1.txt"): left out by choice, not graded.
    public var notSelected: [String] = []

    /// How many of the most common wrong answers the statistics keep.
    public static let commonAnswerCount = 3

    public var maxTotal: Double { exercises.reduce(0) { $0 + $1.maxScore } }

    // MARK: - Grading

    /// Grades `directory` (layout at the top of this file) for every student of `roster` and
    /// every template, with the numbers of `course` (nil: practice). Late submissions are
    /// judged by their file's modification time against the course's due date.
    public static func grade(roster: Roster, templates: [ExerciseTemplate], course: Course?,
                             directory: String) throws -> ClassGradebook {
        let folder = escapedForMessage(directory)
        guard fileKind(directory) == S_IFDIR else {
            throw MiniNetError.file(folder, translated("is not a folder of submissions (one folder per student)"))
        }
        var issues = [SubmissionIssue]()
        var notSelected = [String]()
        let stems = try StudentFileNames.stems(for: roster.students.map(\.id))
        var studentByFolderName = [String: String]()
        for student in roster.students {
            studentByFolderName[student.id] = student.id
            studentByFolderName[stems[student.id]!.precomposedStringWithCanonicalMapping] = student.id
        }
        let selected = Set(templates.map(\.id))

        // (student, exercise) → relative paths of its answers files.
        var files = [String: [String: [String]]]()
        for entry in try listing(directory) {
            let path = (directory as NSString).appendingPathComponent(entry)
            guard fileKind(path) == S_IFDIR else {
                issues.append(SubmissionIssue(kind: .unknownFile, path: entry, student: nil,
                                              message: translated("is not in a student's folder; submissions go in DIR/<student id>/<exercise id>.json or .txt")))
                continue
            }
            guard let student = studentByFolderName[entry.precomposedStringWithCanonicalMapping] else {
                let count = (try? listing(path).count) ?? 0
                issues.append(SubmissionIssue(kind: .unknownStudent, path: entry, student: nil,
                                              message: count == 1 ? translated("is not a student on the roster (1 file not graded)")
                                                : translated("is not a student on the roster ({$1} files not graded)", with: count)))
                continue
            }
            for name in try listing(path) {
                let relative = entry + "/" + name
                let url = URL(fileURLWithPath: name)
                let exercise = url.deletingPathExtension().lastPathComponent.precomposedStringWithCanonicalMapping
                func issue(_ kind: SubmissionIssue.Kind, _ message: String) {
                    issues.append(SubmissionIssue(kind: kind, path: relative, student: student, message: message))
                }
                if fileKind((path as NSString).appendingPathComponent(name)) == S_IFDIR {
                    issue(.unknownFile, translated("is a folder; answers files go directly in the student's folder"))
                } else if !["json", "txt"].contains(url.pathExtension.lowercased()) {
                    issue(.unknownFile, translated("is not an answers file (they end in .json or .txt)"))
                } else if HomeworkCatalog.template(id: exercise) == nil {
                    issue(.unknownFile, translated("is not named by an exercise id, such as cam-1.json"))
                } else if !selected.contains(exercise) {
                    notSelected.append(relative)
                } else {
                    files[student, default: [:]][exercise, default: []].append(relative)
                }
            }
        }

        var rows = [ClassGradebookRow]()
        for student in roster.students {
            var cells = [GradeCell]()
            for template in templates {
                let paths = files[student.id]?[template.id] ?? []
                if paths.isEmpty {
                    cells.append(.missing)
                } else if paths.count > 1 {
                    let problem = translated("{$1} answers files for {$2} ({$3}); keep one", with: paths.count, template.id, paths.joined(separator: ", "))
                    issues.append(SubmissionIssue(kind: .duplicate, path: paths[0], student: student.id, message: problem))
                    cells.append(.failed(path: paths[0], problem: problem))
                } else {
                    let (cell, issueKind) = gradeFile(paths[0], in: directory, student: student.id, template: template, course: course)
                    if case let .failed(path, problem) = cell {
                        issues.append(SubmissionIssue(kind: issueKind, path: path, student: student.id, message: problem))
                    }
                    cells.append(cell)
                }
            }
            rows.append(ClassGradebookRow(student: student, cells: cells))
        }

        let exercises = templates.map { template -> GradedExercise in
            let sample = template.make(student: "x")
            return GradedExercise(id: template.id, questionIDs: sample.questions.map(\.id),
                                  questionPoints: sample.questions.map { Double($0.points) }, maxScore: Double(sample.maxScore), due: course?.due(for: template.id))
        }
        return ClassGradebook(mode: course?.mode ?? .practice, lateRule: course?.lateRule ?? .markOnly,
                              exercises: exercises, rows: rows, issues: issues, notSelected: notSelected)
    }

    /// The cell of one answers file, and the kind of issue when it cannot be graded.
    static func gradeFile(_ relative: String, in directory: String, student: String, template: ExerciseTemplate,
                          course: Course?) -> (GradeCell, SubmissionIssue.Kind) {
        let path = (directory as NSString).appendingPathComponent(relative)
        do {
            var answers = try AnswersFile.load(from: path)
            if let claimed = answers.exercise, claimed != template.id {
                return (.failed(path: relative, problem: translated("says it is for exercise `{$1}`, but it is named {$2}", with: claimed, template.id)), .wrongExercise)
            }
            if let claimed = answers.student, claimed.precomposedStringWithCanonicalMapping != student {
                return (.failed(path: relative, problem: translated("says it is for student `{$1}`, but it is in {$2}'s folder", with: claimed, student)), .wrongStudent)
            }
            // Compared above (the student in NFC); the checker need not compare them again.
            answers.exercise = nil
            answers.student = nil
            let exercise = template.make(student: student, course: course)
            let report = try HomeworkChecker.check(answers, against: exercise, fileName: escapedForMessage(path))
            let submitted = modificationTime(path) ?? Date()
            let daysLate = course?.due(for: template.id).map { startedDays(from: $0, to: submitted) } ?? 0
            let score = (course?.lateRule ?? .markOnly).apply(score: Double(report.score), maxScore: Double(report.maxScore),
                                                              daysLate: daysLate)
            return (.graded(GradedSubmission(exercise: exercise, answers: answers, report: report, path: relative,
                                             submitted: submitted, daysLate: daysLate, score: score)), .unreadable)
        } catch let MiniNetError.file(_, problem) {
            return (.failed(path: relative, problem: problem), .unreadable)
        } catch {
            return (.failed(path: relative, problem: "\(error)"), .unreadable)
        }
    }

    /// ⌈(submitted − due) / 1 day⌉, at least 0: one second late is one day late.
    static func startedDays(from due: Date, to submitted: Date) -> Int {
        let seconds = submitted.timeIntervalSince(due)
        guard seconds > 0 else { return 0 }
        return Int((seconds / 86_400).rounded(.up))
    }

    static func fileKind(_ path: String) -> mode_t? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return info.st_mode & S_IFMT
    }

    static func modificationTime(_ path: String) -> Date? {
        (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date
    }

    /// The names in a folder, without hidden ones (.DS_Store, editors' swap files), sorted.
    static func listing(_ path: String) throws -> [String] {
        do {
            return try FileManager.default.contentsOfDirectory(atPath: path).filter { !$0.hasPrefix(".") }.sorted()
        } catch {
            throw MiniNetError.file(escapedForMessage(path), translated("cannot be listed"))
        }
    }

    // MARK: - The CSV

    /// Issues not about a roster student: they get rows of their own below the roster.
    public var issuesOutsideRoster: [SubmissionIssue] { issues.filter { $0.student == nil } }

    /// One row per roster student: `student_id`, `name`, one column per exercise (the score after
    /// the late rule, or `missing`, or `error`), `total`, `max_total`, `notes` (late, missing,
    /// errors and every issue with the student's files), `mode`. Then one row per folder or
    /// file that belongs to no roster student, with the problem in `notes`.
    public var csv: String {
        let modeCell = mode.isPractice ? "practice" : "course \(courseID ?? "")"
        var lines = [(["student_id", "name"] + exercises.map(\.id) + ["total", "max_total", "notes", "mode"])]
        for row in rows {
            var fields = [row.student.id, row.student.name]
            for cell in row.cells {
                switch cell {
                case let .graded(submission): fields.append(formatNumber(submission.score))
                case .missing: fields.append("missing")
                case .failed: fields.append("error")
                }
            }
            fields += [formatNumber(row.total), formatNumber(maxTotal), notes(for: row).joined(separator: "; "), modeCell]
            lines.append(fields)
        }
        for issue in issuesOutsideRoster {
            lines.append([issue.path, ""] + exercises.map { _ in "" } + ["", "", "\(issue.path) \(issue.message)", modeCell])
        }
        return lines.map { $0.map(Gradebook.csvField).joined(separator: ",") }.joined(separator: "\n") + "\n"
    }

    var courseID: String? {
        if case let .course(_, id) = mode { return id }
        return nil
    }

    /// "cam-2 late 2 days: 4 → 3.2", "cam-3 missing", "cam-1 error: …", "cam-9.json: is not …".
    public func notes(for row: ClassGradebookRow) -> [String] {
        var notes = [String]()
        for (exercise, cell) in zip(exercises, row.cells) {
            switch cell {
            case let .graded(submission) where submission.daysLate > 0:
                let scores = "\(formatNumber(submission.rawScore)) → \(formatNumber(submission.score))"
                notes.append(submission.daysLate == 1
                    ? translated("{$1} late 1 day: {$2} ({$3})", with: exercise.id, scores, lateRule.description)
                    : translated("{$1} late {$2} days: {$3} ({$4})", with: exercise.id, submission.daysLate, scores, lateRule.description))
            case .graded: break
            case .missing: notes.append(translated("{$1} missing", with: exercise.id))
            case let .failed(path, problem): notes.append(translated("{$1} error: {$2} {$3}", with: exercise.id, path, problem))
            }
        }
        // The failed cells above already carry their problem; the other issues are listed here.
        let failedPaths = Set(row.cells.compactMap { cell -> String? in
            if case let .failed(path, _) = cell { return path }
            return nil
        })
        for issue in issues where issue.student == row.student.id && !failedPaths.contains(issue.path) {
            notes.append("\(issue.path) \(issue.message)")
        }
        return notes
    }

    public func writeCSV(to path: String) throws {
        try inReadersLanguage { try writeFileAtomically(Data(csv.utf8), to: path) }
    }

    // MARK: - Statistics

    /// Per question, over every graded submission (before the late rule: the statistics are
    /// about the answers, not about punctuality).
    public var statistics: [QuestionStatistics] {
        var result = [QuestionStatistics]()
        for (column, exercise) in exercises.enumerated() {
            let submissions = rows.compactMap { row -> GradedSubmission? in
                if case let .graded(submission) = row.cells[column] { return submission }
                return nil
            }
            for (index, questionID) in exercise.questionIDs.enumerated() {
                var points = 0.0, fullMarks = 0, wrong = 0, unanswered = 0
                var wrongAnswers = [String: Int]()
                for submission in submissions where index < submission.report.results.count {
                    let result = submission.report.results[index]
                    points += Double(result.pointsEarned)
                    if result.passed {
                        fullMarks += 1
                    } else if result.status == .missing {
                        unanswered += 1
                    } else {
                        wrong += 1
                        if let value = submission.answers.value(for: questionID) {
                            wrongAnswers[ClassGradebook.answerText(value, question: submission.exercise.questions[index]), default: 0] += 1
                        }
                    }
                }
                let common = wrongAnswers.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
                    .prefix(ClassGradebook.commonAnswerCount).map { (answer: $0.key, count: $0.value) }
                result.append(QuestionStatistics(
                    exerciseID: exercise.id, questionID: questionID, maxPoints: exercise.questionPoints[index], graded: submissions.count,
                    meanPoints: submissions.isEmpty ? 0 : points / Double(submissions.count),
                    fullMarks: fullMarks, wrong: wrong, unanswered: unanswered, commonWrongAnswers: common))
            }
        }
        return result
    }

    /// The answer as the student wrote it; for a letter, the option it stands for in that
    /// student's shuffled order, so that answers of different students can be counted together.
    static func answerText(_ value: AnswerValue, question: Question) -> String {
        if case let .text(text) = value, !question.options.isEmpty {
            let letter = text.trimmingCharacters(in: CharacterSet(charactersIn: " ().")).uppercased()
            if let index = question.options.indices.first(where: { Question.letter($0) == letter }) {
                return question.options[index]
            }
        }
        return HomeworkRendering.valueText(value)
    }

    /// `exercise,question,max_points,graded,mean_points,full_marks,wrong,unanswered,common_wrong_answers`,
    /// the last as "answer (count×); …".
    public var statisticsCSV: String {
        var lines = [["exercise", "question", "max_points", "graded", "mean_points", "full_marks", "wrong", "unanswered",
                      "common_wrong_answers"]]
        for item in statistics {
            lines.append([item.exerciseID, item.questionID, formatNumber(item.maxPoints), String(item.graded),
                          formatNumber(item.meanPoints), String(item.fullMarks), String(item.wrong), String(item.unanswered),
                          item.commonWrongAnswers.map { "\($0.answer) (\($0.count)×)" }.joined(separator: "; ")])
        }
        return lines.map { $0.map(Gradebook.csvField).joined(separator: ",") }.joined(separator: "\n") + "\n"
    }

    public func writeStatisticsCSV(to path: String) throws {
        try inReadersLanguage { try writeFileAtomically(Data(statisticsCSV.utf8), to: path) }
    }

    // MARK: - JSON

    public func json(timeZone: TimeZone = .current) -> JSONOutput {
        var members: [(String, JSONOutput)] = [("mode", .string(mode.isPractice ? "practice" : "course"))]
        if case let .course(name, id) = mode { members += [("course", .string(name)), ("course_id", .string(id))] }
        members.append(("late_rule", .string(lateRule.description)))
        members.append(("exercises", .array(exercises.map { exercise in
            .object([("id", .string(exercise.id)), ("max_score", .number(exercise.maxScore)),
                     ("due", exercise.due.map { .string(CourseDates.format($0, timeZone: timeZone)) } ?? .null)])
        })))
        members.append(("students", .array(rows.map { row in
            .object([
                ("id", .string(row.student.id)), ("name", .string(row.student.name)),
                ("exercises", .object(zip(exercises, row.cells).map { exercise, cell in
                    let value: JSONOutput
                    switch cell {
                    case let .graded(submission):
                        value = .object([
                            ("status", .string("graded")), ("score", .number(submission.score)),
                            ("raw_score", .number(submission.rawScore)), ("max_score", .number(exercise.maxScore)),
                            ("days_late", .number(Double(submission.daysLate))), ("file", .string(submission.path)),
                            ("submitted", .string(CourseDates.format(submission.submitted, timeZone: timeZone))),
                        ])
                    case .missing:
                        value = .object([("status", .string("missing")), ("score", .number(0))])
                    case let .failed(path, problem):
                        value = .object([("status", .string("error")), ("score", .number(0)), ("file", .string(path)),
                                         ("problem", .string(problem))])
                    }
                    return (exercise.id, value)
                })),
                ("total", .number(row.total)), ("max_total", .number(maxTotal)),
                ("notes", .array(notes(for: row).map { .string($0) })),
            ])
        })))
        members.append(("issues", .array(issues.map { issue in
            .object([("kind", .string(issue.kind.rawValue)), ("path", .string(issue.path)),
                     ("student", issue.student.map { .string($0) } ?? .null), ("message", .string(issue.message))])
        })))
        members.append(("not_selected", .array(notSelected.map { .string($0) })))
        return .object(members)
    }
}

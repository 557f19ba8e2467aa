import ArgumentParser
import Foundation
import Lessons
import MiniNet

extension HomeworkCommand {
    /// `tutor homework course new|show`: the teacher's course file.
    struct CourseCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "course",
            abstract: translated("Create or show a course file: the secret that makes every student's numbers private (for teachers)."),
            subcommands: [New.self, Show.self])
    }
}

/// What happens to late work, as `course new --late` names it (`--late-penalty` gives a penalty per day).
enum LateChoice: String, ExpressibleByArgument, CaseIterable {
    case mark, zero
}

extension HomeworkCommand.CourseCommand {
    struct New: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: translated("Write a new course file with a fresh random 256-bit secret."),
            discussion: translated("""
                The file is created readable and writable by you only (mode 0600), written to a \
                temporary name and then linked into place, and an existing file is never replaced \
                without --force: its secret decides every student's numbers, so losing it loses the \
                keys of every sheet already handed out. Keep it as you would a private key; `course \
                show` prints it without the secret.
                """))

        @Option(help: .translated("Where to write the course file.", valueName: "course.json"))
        var out: String

        @Option(help: .translated("The course's name, printed on every sheet. By default the file's name without .json."))
        var name: String?

        @Option(help: .translated("When the homework is due: a date, 2026-03-01 (the end of that day, in this computer's time zone), or a time with its offset, 2026-03-01T12:00:00+07:00."))
        var due: String?

        @Option(name: .customLong("due-for"), help: .translated("A due date for one exercise, overriding --due; repeat for more exercises.", valueName: "exercise=date"))
        var dueFor: [String] = []

        @Option(name: .customLong("late-penalty"), help: .translated("Take this percentage of an exercise's points off for every started day late (0 < percent ≤ 100).", valueName: "percent-per-day"), number: NumberText.real)
        var latePenalty: Double?

        @Option(help: .translated("What late work gets instead of a penalty per day: mark (marked late, score kept; the default) or zero."))
        var late: LateChoice?

        @Flag(help: .translated("Replace an existing course file. Its old secret is lost, and every sheet made with it no longer matches."))
        var force = false

        func validate() throws {
            try OutputFiles.check([.init(flag: "--out", path: out, example: "course.json")])
            if !force, FileManager.default.fileExists(atPath: out) {
                throw ValidationError(translated(
                    "--out `{$1}` already exists: choose another name, or pass --force to replace it (its secret, and every student's numbers, are then lost).",
                    with: boundedSummary(out)))
            }
            if let name {
                guard !name.isEmpty, name.count <= Course.maximumNameLength, escapedForMessage(name) == name else {
                    throw ValidationError(translated("--name must be 1 to {$1} characters without line breaks, such as --name \"XAI 2026\".",
                                                     with: Course.maximumNameLength))
                }
            }
            if let due, CourseDates.parseDue(due) == nil {
                throw ValidationError(translated("--due `{$1}` is not a date: use 2026-03-01 or 2026-03-01T12:00:00+07:00.", with: boundedSummary(due)))
            }
            _ = try parsedDueFor()
            if latePenalty != nil && late != nil {
                throw ValidationError(translated("--late-penalty and --late each set the late rule: pass only one of them."))
            }
            if let latePenalty, !(latePenalty > 0 && latePenalty <= 100) {
                throw ValidationError(translated(
                    "--late-penalty {$1} is out of range: use a percentage above 0 and at most 100, such as --late-penalty 10.", with: latePenalty))
            }
            if (latePenalty != nil || late == .zero) && due == nil && dueFor.isEmpty {
                throw ValidationError(translated("--late-penalty and --late zero need a due date: pass --due 2026-03-01."))
            }
        }

        func parsedDueFor() throws -> [String: Date] {
            var dates = [String: Date]()
            for item in dueFor {
                let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2, HomeworkCatalog.template(id: parts[0]) != nil, let date = CourseDates.parseDue(parts[1]) else {
                    throw ValidationError(translated(
                        "--due-for `{$1}` is not exercise=date: use an exercise id and a date, such as --due-for ig-3=2026-03-08.", with: boundedSummary(item)))
                }
                dates[parts[0]] = date
            }
            return dates
        }

        @OptionGroup var language: LanguageOption

        func run() throws {
            let lateRule: LateRule = latePenalty.map { .penaltyPerDay(percent: $0) } ?? (late == .zero ? .zero : .markOnly)
            let courseName = name ?? URL(fileURLWithPath: out).deletingPathExtension().lastPathComponent
            let course = Course.new(name: courseName, due: due.flatMap { CourseDates.parseDue($0) },
                                    dueByExercise: try parsedDueFor(), lateRule: lateRule)
            try reportingFailure { try course.write(to: out, replacing: force) }
            print(translated("Wrote course {$1} (id {$2}) to {$3}, readable by you only. Keep it private: it prints every student's answer key.",
                             with: courseName, course.id, out))
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: translated("Show a course file's name, id, due dates and late rule (never its secret)."))

        @Argument(help: .translated("The course file.", valueName: "course.json"))
        var course: String
        @OptionGroup var output: JSONFlag

        @OptionGroup var language: LanguageOption

        func run() throws {
            let course = try reportingFailure { try Course.read(from: self.course) }
            let dues = course.dueByExercise.keys.sorted().map { ($0, CourseDates.format(course.dueByExercise[$0]!)) }
            if output.json {
                print(JSONOutput.object([
                    ("name", .string(course.name)), ("id", .string(course.id)),
                    ("due", course.due.map { .string(CourseDates.format($0)) } ?? .null),
                    ("due_by_exercise", .object(dues.map { ($0.0, .string($0.1)) })),
                    ("late_rule", .string(course.lateRule.description)),
                ]).rendered())
                return
            }
            print(translated("Course {$1} (id {$2})", with: course.name, course.id))
            print(translated("Due: {$1}", with: course.due.map { CourseDates.format($0) } ?? translated("no due date")))
            for (exercise, date) in dues { print("  \(exercise): \(date)") }
            print(translated("Late work: {$1}", with: translated(course.lateRule.description)))
        }
    }
}

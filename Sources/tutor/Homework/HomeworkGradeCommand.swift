import ArgumentParser
import Foundation
import Lessons
import MiniNet

extension HomeworkCommand {
    struct Grade: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: translated("Grade a class into one CSV gradebook (for teachers)."),
            discussion: translated("""
                A class: `grade --roster R --submissions DIR --csv OUT [--course C] \
                [--exercises IDS | --lesson L | --all] [--stats STATS.csv] [--json]`. DIR holds one \
                folder per student, named by the student id, with one answers file per exercise \
                named by its id: DIR/alice/cam-1.txt. The CSV has one row per roster student: \
                student_id, name, one column per exercise (the score after the course's late rule, \
                or `missing`, or `error`), total, max_total, notes, mode. Lateness is the file's \
                modification time against the course's due date. Files that are not graded (a \
                folder not on the roster, a file that is not an answers file, a file for another \
                exercise or student) are listed on standard error and in the CSV, never dropped; files for \
                exercises that exist but were not selected are counted in one line and left out. \
                --stats writes per-question statistics: mean points and the most common wrong answers.

                One exercise, practice mode, without a roster: `grade ID --submissions DIR --csv OUT`, \
                where DIR holds one file per student, named by the student id: alice.json, bob.txt.

                Exit status: 0 when every file was graded and nothing was left over, 1 when some file \
                could not be graded or was not recognised (the CSV is still written; missing \
                submissions alone do not count), 2 when no CSV could be written.
                """))

        @Argument(help: .translated("One exercise id, such as cam-1: without --roster, the practice grade sheet of one exercise; with --roster, the same as --exercises ID."))
        var id: String?
        @OptionGroup var course: CourseOption
        @OptionGroup var roster: RosterOption
        @Option(help: .translated("The folder of submissions: with --roster one folder per student (DIR/alice/cam-1.txt); without, one file per student (DIR/alice.txt).", valueName: "folder"))
        var submissions: String
        @Option(help: .translated("Where to write the gradebook; it is written to a temporary name, then renamed."))
        var csv: String
        @OptionGroup var selection: ExerciseSelection
        @Option(help: .translated("Where to write per-question statistics (with --roster).", valueName: "stats.csv"))
        var stats: String?
        @OptionGroup var output: JSONFlag

        func validate() throws {
            if submissions.isEmpty { throw ValidationError(translated("--submissions is empty: pass the folder of answer files, such as --submissions answers/.")) }
            try validateOutputFile(csv, flag: "--csv", example: "grades.csv")
            try validateOutputFile(stats, flag: "--stats", example: "stats.csv")
            try validateSingleExercise(id)
            if stats != nil && stats == csv { throw ValidationError(translated("--stats and --csv name the same file: give them two names.")) }
            try OutputFiles.check([.init(flag: "--csv", path: csv, example: "grades.csv"), .init(flag: "--stats", path: stats, example: "stats.csv")],
                                  inputs: [("--roster", roster.roster), ("--submissions", submissions), ("--course", course.course)])
            if roster.roster == nil {
                if course.course != nil { throw ValidationError(translated("--course grades a class: pass the class list with --roster roster.csv.")) }
                if id == nil {
                    throw ValidationError(translated("<id>: pass the exercise to grade, such as grade cam-1, or a class with --roster roster.csv."))
                }
                if selection.isGiven { throw ValidationError(translated("--exercises, --lesson and --all grade a class: pass --roster roster.csv.")) }
                if stats != nil || output.json {
                    throw ValidationError(translated("--stats and --json come with a class gradebook: pass --roster roster.csv."))
                }
                return
            }
            if id != nil && selection.isGiven {
                throw ValidationError(translated("<id> and --exercises, --lesson or --all each choose the exercises: pass only one."))
            }
            if id == nil && !selection.isGiven { throw ValidationError("grade: " + ExerciseSelection.missingMessage) }
        }

        @OptionGroup var language: LanguageOption

        func run() throws {
            guard roster.roster != nil else { return try gradeOneExercise(id ?? "") }
            let course = try course.load()
            guard let roster = try roster.load() else { return }
            let templates = id.flatMap { HomeworkCatalog.template(id: $0) }.map { [$0] } ?? selection.templates() ?? []
            let gradebook = try reportingFailure {
                try ClassGradebook.grade(roster: roster, templates: templates, course: course, directory: submissions)
            }
            try reportingFailure {
                try gradebook.writeCSV(to: csv)
                if let stats { try gradebook.writeStatisticsCSV(to: stats) }
            }
            // Each issue is one line; a hostile file name is only ever shown escaped and bounded.
            let shown = 50
            for issue in gradebook.issues.prefix(shown) {
                printError(translated(issue.kind.rawValue.replacingOccurrences(of: "_", with: " ")) + ": "
                           + boundedSummary(issue.path, limit: 80) + " " + translated(issue.message))
            }
            if gradebook.issues.count > shown {
                printError(translated("… and {$1} more issues; every one is in the notes column of {$2}", with: gradebook.issues.count - shown, csv))
            }
            let submitted = gradebook.rows.flatMap(\.cells).filter { if case .missing = $0 { return false } else { return true } }.count
            let graded = gradebook.rows.flatMap(\.cells).filter { if case .graded = $0 { return true } else { return false } }.count
            let late = gradebook.rows.flatMap(\.cells).filter { if case let .graded(s) = $0 { return s.daysLate > 0 } else { return false } }.count
            let expected = gradebook.rows.count * gradebook.exercises.count
            if output.json {
                print(gradebook.json().rendered())
            } else {
                let counts: [Any] = [graded, expected, gradebook.rows.count, gradebook.exercises.count, expected - submitted, late,
                                     submitted - graded, gradebook.issues.count, translated(gradebook.mode.label), csv]
                if let stats {
                    print(fillingHoles(of: translated(
                        "Graded {$1} of {$2} submissions ({$3} students × {$4} exercises; {$5} missing, {$6} late, {$7} could not be graded; {$8} issues) in {$9} into {$10} and {$11}."),
                        with: (counts + [stats]).map { "\($0)" }))
                } else {
                    print(fillingHoles(of: translated(
                        "Graded {$1} of {$2} submissions ({$3} students × {$4} exercises; {$5} missing, {$6} late, {$7} could not be graded; {$8} issues) in {$9} into {$10}."),
                        with: counts.map { "\($0)" }))
                }
                if let first = gradebook.notSelected.first {
                    print(gradebook.notSelected.count == 1
                          ? translated("Left out 1 answers file, for an exercise not selected here: {$1}.", with: boundedSummary(first, limit: 80))
                          : translated("Left out {$1} answers files for exercises not selected here, such as {$2}.",
                                       with: gradebook.notSelected.count, boundedSummary(first, limit: 80)))
                }
            }
            if !gradebook.issues.isEmpty { throw ExitCode(1) }
        }

        /// The practice grade sheet of one exercise: DIR/<student>.json or .txt, no roster.
        func gradeOneExercise(_ exerciseID: String) throws {
            let gradebook = try reportingFailure { () throws -> Gradebook in
                let gradebook = try Gradebook.grade(exerciseID: exerciseID, directory: submissions)
                try gradebook.writeCSV(to: csv)
                return gradebook
            }
            for name in gradebook.skippedFiles {
                printError(translated("note: skipped {$1}: answer files end in .json or .txt", with: boundedSummary(name)))
            }
            // A rejected file name is the student column of its row: it is shown only as a bounded summary.
            for row in gradebook.rows {
                if let error = row.error { printError("\(boundedSummary(row.student)): " + translated(error)) }
                if let report = row.report, !report.unknownKeys.isEmpty {
                    let shown = report.unknownKeys.prefix(5).joined(separator: ", ")
                    if report.unknownKeys.count > 5 {
                        printError(translated("note: {$1}: unknown keys {$2} and {$3} more (ignored)", with: row.student, shown, report.unknownKeys.count - 5))
                    } else {
                        printError(translated("note: {$1}: unknown keys {$2} (ignored)", with: row.student, shown))
                    }
                }
            }
            let failed = gradebook.rows.filter { $0.report == nil }.count
            if failed > 0 {
                print(translated("Graded {$1} of {$2} students for {$3} (practice) into {$4} ({$5} could not be graded, see above).",
                                 with: gradebook.rows.count - failed, gradebook.rows.count, exerciseID, csv, failed))
            } else {
                print(translated("Graded {$1} of {$2} students for {$3} (practice) into {$4}.", with: gradebook.rows.count, gradebook.rows.count, exerciseID, csv))
            }
            if failed > 0 { throw ExitCode(1) }
        }
    }
}

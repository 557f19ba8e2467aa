import ArgumentParser
import Foundation
import Lessons
import MiniNet

extension HomeworkCommand {
    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: translated("Check your answers to one exercise: in full in practice mode, their form only with a course sheet."),
            discussion: translated("""
                Practice mode: `check ID --student S --answers FILE` says which answers are right, \
                with a hint for every wrong one. Course mode: `check --sheet SHEET.json --answers FILE` \
                (the sheet your teacher gave you) says only whether every question is answered in \
                the expected form (a number, a list of the right length, a letter); correctness is \
                decided when the teacher grades, because a check that reveals it can be repeated \
                until it gives the key away. The exercise is the one the answers file names, or ID. \
                A teacher can check a course submission in full with --course.

                Exit status: 0 when every answer is correct (with --sheet: in its form), 1 when some \
                answer is wrong, missing or (with --sheet) not in its form, 2 when a file cannot be \
                read or parsed.
                """))

        @Argument(help: .translated("The exercise id, such as cam-1. With --sheet it may be left out when the answers file names it or the sheet has one exercise."))
        var id: String?
        @Option(help: .translated("Your student id, such as alice (not needed with --sheet, which names you)."))
        var student: String?
        @OptionGroup var course: CourseOption
        @Option(help: .translated("Your homework sheet in JSON, as `tutor homework sheets` wrote it: only the form of the answers is checked.", valueName: "sheet.json"))
        var sheet: String?
        @Option(help: .translated("Your answers file: JSON or `name = value` lines (see docs/homework.md)."))
        var answers: String
        // Unconditional: the word after --hint is its value, so that a mistyped `--hint -1` is
        // named as an invalid hint level rather than as a missing one.
        @Option(parsing: .unconditional, help: .translated(
            "How much help a wrong answer gets in a full check: 1 (the default) names the lesson step and gives a nudge, 2 adds the formula, 3 adds the first step worked on your numbers.",
            valueName: "1|2|3"))
        var hint: HintLevel?
        @OptionGroup var output: JSONFlag

        func validate() throws {
            if answers.isEmpty { throw ValidationError(translated("--answers is empty: pass the path of your answers file, such as --answers answers.txt.")) }
            try validateSingleExercise(id)
            if let student { try validateStudent(student) }
            if sheet != nil {
                if hint != nil {
                    throw ValidationError(translated(
                        "--hint: a check against a course sheet gives no hints (they would reveal which answers are wrong); leave --hint out, or practise without --sheet."))
                }
                if course.course != nil {
                    throw ValidationError(translated("--sheet checks the form only and --course checks in full: pass one of them."))
                }
                return
            }
            if id == nil { throw ValidationError(translated("<id>: pass the exercise id, such as check cam-1, or a course sheet with --sheet SHEET.json.")) }
            if student == nil { throw ValidationError(translated("--student: pass your student id, such as --student alice (or a course sheet with --sheet).")) }
        }

        @OptionGroup var language: LanguageOption

        func run() throws {
            if let sheet { return try checkForm(sheetPath: sheet) }
            let course = try course.load()
            let report = try reportingFailure { () throws -> CheckReport in
                let exercise = try HomeworkCatalog.exercise(id: id ?? "", student: student ?? "", course: course)
                return try HomeworkChecker.check(AnswersFile.read(from: answers), against: exercise, fileName: escapedForMessage(answers),
                                                 hintLevel: hint ?? .nudge)
            }
            let mode = course?.mode ?? .practice
            print(output.json ? HomeworkRendering.json(report, mode: mode).rendered() : HomeworkRendering.text(report, mode: mode))
            if !report.allPassed { throw ExitCode(1) }
        }

        func checkForm(sheetPath: String) throws {
            let report = try reportingFailure { () throws -> FormatReport in
                let sheetFile = try SheetFile.read(from: sheetPath)
                let answersFile = try AnswersFile.read(from: answers)
                let sheetName = escapedForMessage(sheetPath)
                if let student, student.precomposedStringWithCanonicalMapping != sheetFile.student.precomposedStringWithCanonicalMapping {
                    throw MiniNetError.file(sheetName, translated("is the sheet of `{$1}`, not of --student {$2}", with: sheetFile.student, student))
                }
                let exerciseID: String
                if let chosen = id ?? answersFile.exercise {
                    exerciseID = chosen
                } else if sheetFile.exercises.count == 1 {
                    exerciseID = sheetFile.exercises[0].exerciseID
                } else {
                    throw MiniNetError.file(escapedForMessage(answers), translated(
                        "does not say which exercise it answers: add `exercise = cam-1` to it, or pass the id (check cam-1 --sheet …)"))
                }
                guard !sheetFile.exercises.isEmpty else {
                    throw MiniNetError.file(sheetName, translated("lists no exercise; use the sheet `tutor homework sheets` wrote for you"))
                }
                guard let entry = sheetFile.exercise(exerciseID) else {
                    throw MiniNetError.file(sheetName, translated("has no exercise {$1}; it has {$2}",
                                                                  with: exerciseID, sheetFile.exercises.map(\.exerciseID).joined(separator: ", ")))
                }
                return try FormatCheck.check(answersFile, exerciseID: exerciseID, student: sheetFile.student,
                                             questions: entry.questions, mode: sheetFile.mode, fileName: escapedForMessage(answers))
            }
            print(output.json ? HomeworkRendering.json(report).rendered() : HomeworkRendering.text(report))
            if !report.isWellFormed { throw ExitCode(1) }
        }
    }
}

extension HintLevel: ExpressibleByArgument {}

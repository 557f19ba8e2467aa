import ArgumentParser
import Lessons
import MiniNet

extension HomeworkCommand {
    struct Progress: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: translated("Show which exercises you have done, their scores and the next one to do."),
            discussion: translated("""
                Keep one answers file per exercise in a folder, named by the exercise id: \
                answers/cam-1.txt, answers/cam-2.json. In practice mode every file is checked in full. \
                With a course sheet (--sheet) or the course file (--course), only the form of the \
                answers is checked, as `check --sheet` does: "done" then means answered in the \
                expected form, and correctness is decided when the teacher grades.
                """))

        @OptionGroup var student: StudentOption
        @OptionGroup var course: CourseOption
        @Option(help: .translated("Your homework sheet in JSON (course mode): its exercises are listed.", valueName: "sheet.json"))
        var sheet: String?
        @Option(name: .customLong("answers-dir"), help: .translated("The folder of your answers files, named by exercise id.", valueName: "folder"))
        var answersDirectory: String
        @OptionGroup var selection: ExerciseSelection
        @OptionGroup var output: JSONFlag

        func validate() throws {
            if sheet != nil && course.course != nil { throw ValidationError(translated("--sheet and --course each give the exercises' forms: pass one of them.")) }
            if sheet != nil && selection.isGiven { throw ValidationError(translated("--sheet lists its own exercises: leave out --exercises, --lesson and --all.")) }
            if answersDirectory.isEmpty {
                throw ValidationError(translated("--answers-dir is empty: pass the folder of your answers files, such as --answers-dir answers."))
            }
        }

        @OptionGroup var language: LanguageOption

        func run() throws {
            let course = try course.load()
            let templates = selection.templates() ?? HomeworkCatalog.templates
            let progress = try reportingFailure { () throws -> StudentProgress in
                if let sheet {
                    let sheetFile = try SheetFile.read(from: sheet)
                    guard sheetFile.student.precomposedStringWithCanonicalMapping == student.student.precomposedStringWithCanonicalMapping else {
                        throw MiniNetError.file(escapedForMessage(sheet), translated("is the sheet of `{$1}`, not of --student {$2}",
                                                                                    with: sheetFile.student, student.student))
                    }
                    return try StudentProgress.formOnly(student: student.student, sheet: sheetFile, directory: answersDirectory)
                }
                if let course {
                    return try StudentProgress.formOnly(student: student.student, course: course, templates: templates, directory: answersDirectory)
                }
                return try StudentProgress.practice(student: student.student, templates: templates, directory: answersDirectory)
            }
            print(output.json ? HomeworkRendering.json(progress).rendered() : HomeworkRendering.text(progress))
            // The list shows an unreadable file in its place; standard error and the exit status
            // say so too, for a script or a student who reads only the last line.
            var unreadable = 0
            for item in progress.items {
                guard case let .unreadable(file, problem) = item.state else { continue }
                printError(translated("error: {$1}", with: file + ": " + problem))
                unreadable += 1
            }
            if unreadable > 0 { throw ExitCode(1) }
        }
    }
}

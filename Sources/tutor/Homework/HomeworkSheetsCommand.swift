import ArgumentParser
import Foundation
import Lessons
import MiniNet

extension HomeworkCommand {
    struct Sheets: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: translated("Write one homework sheet per student of a roster (for teachers)."),
            discussion: translated("""
                Each student gets their own numbers: the course's with --course, practice numbers \
                without it (and the sheets say so). Files are named by student id, made safe for \
                every file system and unique even when ids differ only in case or in characters a \
                file name cannot hold (docs/homework.md). The JSON sheet holds the questions and the \
                form of every answer, never an answer: it is what `tutor homework check --sheet` reads, \
                so hand it out with the readable one. sheets.csv lists every student's files. Every \
                file is written to a temporary name and then renamed.
                """))

        @OptionGroup var course: CourseOption
        @OptionGroup var roster: RosterOption
        @Option(help: .translated("The folder to write the sheets into; it is created if needed.", valueName: "folder"))
        var out: String
        @OptionGroup var selection: ExerciseSelection
        @Option(help: .translated("The format of the sheets: markdown, json or html (a self-contained page). Repeat for several; by default markdown and json."))
        var format: [SheetFormat] = []

        func validate() throws {
            if roster.roster == nil { throw ValidationError(translated("--roster: pass the class list, such as --roster roster.csv.")) }
            if out.isEmpty { throw ValidationError(translated("--out is empty: pass a folder for the sheets, such as --out sheets.")) }
            if !selection.isGiven { throw ValidationError("sheets: " + ExerciseSelection.missingMessage) }
            try OutputFiles.checkFolder(flag: "--out", path: out, example: "sheets", others: [("--roster", roster.roster), ("--course", course.course)],
                                        writes: { $0 == SheetWriter.indexFileName })
        }

        @OptionGroup var language: LanguageOption

        func run() throws {
            let course = try course.load()
            guard let roster = try roster.load(), let templates = selection.templates() else { return }
            let formats = format.isEmpty ? [SheetFormat.markdown, .json] : SheetFormat.allCases.filter(format.contains)
            let sheets = roster.students.map { HomeworkSheet(student: $0, templates: templates, course: course) }
            _ = try reportingFailure { try SheetWriter.write(sheets, formats: formats, to: out, protecting: [self.roster.roster, self.course.course].compactMap { $0 }) }
            let mode = course?.mode ?? .practice
            let formatList = formats.map(\.rawValue).joined(separator: ", ")
            print(sheets.count == 1
                ? translated("Wrote 1 sheet ({$1}; {$2} exercises; {$3}) into {$4}, listed in {$5}.",
                             with: formatList, templates.count, translated(mode.label), out, SheetWriter.indexFileName)
                : translated("Wrote {$1} sheets ({$2}; {$3} exercises; {$4}) into {$5}, listed in {$6}.",
                             with: sheets.count, formatList, templates.count, translated(mode.label), out, SheetWriter.indexFileName))
        }
    }
}

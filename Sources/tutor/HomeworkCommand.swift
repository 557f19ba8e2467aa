import ArgumentParser
import Foundation
import Lessons
import MiniNet

/// `tutor homework`: personalised exercises, checked answers with hints, answer keys and grade sheets.
struct HomeworkCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "homework",
        abstract: "Work personalised exercises for every lesson and check your answers.",
        discussion: """
            Every student gets their own numbers: the exercise is generated from the exercise id \
            and the student id. Write your answers in a JSON or plain-text file (see docs/homework.md) \
            and check them; a wrong answer gets a hint that points to the lesson step to reread.
            """,
        subcommands: [List.self, Show.self, Check.self, Key.self, Grade.self]
    )
}

// MARK: - Shared arguments

/// The exercise argument of `check` and `grade`: exactly one exercise.
struct SingleExerciseArgument: ParsableArguments {
    @Argument(help: "The exercise id, such as cam-1 or ig-3. `tutor homework list` shows them all.")
    var id: String

    func validate() throws {
        do {
            _ = try HomeworkCatalog.singleTemplate(id: id)
        } catch {
            throw ValidationError(isQuotable(id) ? "<id>: \(error)." : unknownExerciseMessage(id))
        }
    }
}

/// The exercise argument of `show` and `key`: one exercise, or a lesson meaning all its exercises.
struct ExerciseOrLessonArgument: ParsableArguments {
    @Argument(help: "An exercise id such as cam-1, or a lesson name such as cam for all of its exercises.")
    var id: String

    func validate() throws {
        do {
            _ = try HomeworkCatalog.templates(named: id)
        } catch {
            throw ValidationError(isQuotable(id) ? "<id>: \(error)." : unknownExerciseMessage(id))
        }
    }

    var templates: [ExerciseTemplate] { (try? HomeworkCatalog.templates(named: id)) ?? [] }
}

struct StudentOption: ParsableArguments {
    @Option(help: "Your student id, such as alice. It decides the numbers in your exercises.")
    var student: String

    func validate() throws {
        do {
            try HomeworkCatalog.validateStudentID(student)
        } catch {
            guard isQuotable(student) else {
                throw ValidationError("--student: `\(boundedSummary(student))` is not a student id: use letters, digits, '-', '_' and '.'. Pass an id such as --student alice.")
            }
            throw ValidationError("--student: \(error). Pass an id such as --student alice.")
        }
    }
}

/// Whether a bad argument can be quoted whole in its error message: short, and without a line
/// break or other control character that would cut or garble the message.
func isQuotable(_ value: String) -> Bool {
    value.unicodeScalars.count <= AnswerFileLimits.summaryLength && escapedForMessage(value) == value
}

func unknownExerciseMessage(_ id: String) -> String {
    "<id>: unknown exercise `\(boundedSummary(id))`: `tutor homework list` shows the exercise ids, such as cam-1."
}

struct JSONFlag: ParsableArguments {
    @Flag(name: .long, help: "Print JSON instead of text, for scripts.")
    var json = false
}

/// How `show` prints an exercise.
enum HomeworkFormat: String, ExpressibleByArgument, CaseIterable {
    case text, markdown, json
}

/// Prints a one-line problem on standard error. Control characters are escaped here as a last
/// guard: a path or name inside `message` must not split it into lines that look like others.
func printError(_ message: String) {
    FileHandle.standardError.write(Data((escapedForMessage(message) + "\n").utf8))
}

// MARK: - list

extension HomeworkCommand {
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List every exercise, lesson by lesson.")

        @OptionGroup var output: JSONFlag

        func run() throws {
            if output.json {
                let items = HomeworkCatalog.templates.map { template -> JSONOutput in
                    let exercise = template.make(student: "x")
                    return .object([
                        ("exercise", .string(template.id)), ("lesson", .string(template.lesson.rawValue)),
                        ("title", .string(template.title)), ("questions", .number(Double(exercise.questions.count))),
                        ("max_score", .number(Double(exercise.maxScore))),
                    ])
                }
                print(JSONOutput.array(items).rendered())
                return
            }
            for lesson in HomeworkLesson.allCases {
                print("\(lesson.displayName) (tutor lesson \(lesson.rawValue)):")
                for template in HomeworkCatalog.templates where template.lesson == lesson {
                    let exercise = template.make(student: "x")
                    let padded = template.id.padding(toLength: 14, withPad: " ", startingAt: 0)
                    print("  \(padded)\(template.title)  (\(exercise.questions.count) questions, \(exercise.maxScore) points)")
                }
            }
            print("\nShow one with: tutor homework show cam-1 --student YOUR-ID")
        }
    }
}

// MARK: - show

extension HomeworkCommand {
    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show an exercise with your own numbers.",
            discussion: "With a lesson name instead of an exercise id, every exercise of that lesson is shown (JSON: a list).")

        @OptionGroup var exercise: ExerciseOrLessonArgument
        @OptionGroup var student: StudentOption
        @Option(help: "How to print the exercise: text, markdown or json.")
        var format: HomeworkFormat = .text

        func run() throws {
            let exercises = exercise.templates.map { $0.make(student: student.student) }
            switch format {
            case .text:
                print(exercises.map(HomeworkRendering.text).joined(separator: "\n\n" + String(repeating: "─", count: 60) + "\n\n"))
            case .markdown:
                print(exercises.map(HomeworkRendering.markdown).joined(separator: "\n\n"))
            case .json:
                let items = exercises.map(HomeworkRendering.json)
                print((items.count == 1 ? items[0] : .array(items)).rendered())
            }
        }
    }
}

// MARK: - check

extension HomeworkCommand {
    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check your answers to one exercise, with a hint for every wrong answer.",
            discussion: """
                Exit status: 0 when every answer is correct, 1 when some answer is wrong or missing, \
                2 when the answers file cannot be read or parsed.
                """)

        @OptionGroup var exercise: SingleExerciseArgument
        @OptionGroup var student: StudentOption
        @Option(help: "Your answers file: JSON or `name = value` lines (see docs/homework.md).")
        var answers: String
        @Option(help: ArgumentHelp(
            "How much help a wrong answer gets: 1 names the lesson step and gives a nudge, 2 adds the formula, 3 adds the first step worked on your numbers.",
            valueName: "1|2|3"))
        var hint: HintLevel = .nudge
        @OptionGroup var output: JSONFlag

        func validate() throws {
            if answers.isEmpty { throw ValidationError("--answers is empty: pass the path of your answers file, such as --answers answers.txt.") }
        }

        func run() throws {
            let report: CheckReport
            do {
                let exerciseForStudent = try HomeworkCatalog.exercise(id: exercise.id, student: student.student)
                report = try HomeworkChecker.check(AnswersFile.read(from: answers), against: exerciseForStudent, fileName: answers,
                                                   hintLevel: hint)
            } catch {
                printError("error: \(error)")
                throw ExitCode(2)
            }
            print(output.json ? HomeworkRendering.json(report).rendered() : HomeworkRendering.text(report))
            if !report.allPassed { throw ExitCode(1) }
        }
    }
}

// MARK: - key

extension HomeworkCommand {
    struct Key: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the answer key of an exercise for one student (for teachers).",
            discussion: """
                The text output is a valid plain-text answers file; the --json output is a valid JSON \
                answers file, so `tutor homework key cam-1 --student alice --json > key.json` and \
                `tutor homework check cam-1 --student alice --answers key.json` pass. A lesson name \
                prints the keys of all its exercises (text only).
                """)

        @OptionGroup var exercise: ExerciseOrLessonArgument
        @OptionGroup var student: StudentOption
        @OptionGroup var output: JSONFlag

        func validate() throws {
            if output.json && exercise.templates.count != 1 {
                throw ValidationError("--json prints one answers file, so it needs one exercise id such as \(exercise.id)-1, not the lesson `\(exercise.id)`.")
            }
        }

        func run() throws {
            let keys = exercise.templates.map { HomeworkChecker.key(for: $0.make(student: student.student)) }
            if output.json {
                print(HomeworkRendering.json(keys[0]).rendered())
            } else {
                print(keys.map { key in
                    HomeworkRendering.text(key, title: "Answer key of \(key.exercise ?? "") for student \(key.student ?? "")")
                }.joined(separator: "\n\n"))
            }
        }
    }
}

// MARK: - grade

extension HomeworkCommand {
    struct Grade: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Grade a folder of answer files into one CSV grade sheet (for teachers).",
            discussion: """
                The folder holds one answers file per student, named by the student id: alice.json, \
                bob.txt. Each is checked against that student's own numbers. The CSV has the columns \
                student_id, score, max_score, one column per question (points earned) and error. A file \
                that cannot be graded is reported on standard error and gets a row with an empty score \
                and the problem in the error column; the others are still graded. Exit status: 0 when \
                every file was graded, 1 when some could not be (the CSV is still written), 2 when no CSV \
                could be written.
                """)

        @OptionGroup var exercise: SingleExerciseArgument
        @Option(help: "The folder of answer files, one per student, named by student id.")
        var submissions: String
        @Option(help: "Where to write the grade sheet; it is written to a temporary name, then renamed.")
        var csv: String

        func validate() throws {
            if submissions.isEmpty { throw ValidationError("--submissions is empty: pass the folder of answer files, such as --submissions answers/.") }
            if csv.isEmpty || csv.hasSuffix("/") {
                throw ValidationError("--csv needs a file name, such as --csv grades.csv.")
            }
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: csv, isDirectory: &isDirectory), isDirectory.boolValue {
                throw ValidationError("--csv `\(boundedSummary(csv))` is a folder: pass a file name inside it, such as --csv \(isQuotable(csv) ? csv : "FOLDER")/grades.csv.")
            }
        }

        func run() throws {
            let gradebook: Gradebook
            do {
                gradebook = try Gradebook.grade(exerciseID: exercise.id, directory: submissions)
                try gradebook.writeCSV(to: csv)
            } catch {
                printError("error: \(error)")
                throw ExitCode(2)
            }
            for name in gradebook.skippedFiles {
                printError("note: skipped \(boundedSummary(name)): answer files end in .json or .txt")
            }
            // A rejected file name is the student column of its row: it is shown only as a bounded summary.
            for row in gradebook.rows {
                if let error = row.error { printError("\(boundedSummary(row.student)): \(error)") }
                if let report = row.report, !report.unknownKeys.isEmpty {
                    let shown = report.unknownKeys.prefix(5).joined(separator: ", ")
                    let more = report.unknownKeys.count > 5 ? " and \(report.unknownKeys.count - 5) more" : ""
                    printError("note: \(row.student): unknown keys \(shown)\(more) (ignored)")
                }
            }
            let failed = gradebook.rows.filter { $0.report == nil }.count
            print("Graded \(gradebook.rows.count - failed) of \(gradebook.rows.count) students for \(exercise.id) into \(csv)"
                  + (failed > 0 ? " (\(failed) could not be graded, see above)." : "."))
            if failed > 0 { throw ExitCode(1) }
        }
    }
}

extension HintLevel: ExpressibleByArgument {}

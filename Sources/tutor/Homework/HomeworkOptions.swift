import ArgumentParser
import Foundation
import Lessons
import MiniNet

// Arguments and flags shared by the `homework` subcommands.

/// The exercise argument of `show` and `key`: one exercise, or a lesson meaning all its exercises.
struct ExerciseOrLessonArgument: ParsableArguments {
    @Argument(help: .translated("An exercise id such as cam-1, or a lesson name such as cam for all of its exercises."))
    var id: String

    func validate() throws {
        do {
            _ = try HomeworkCatalog.templates(named: id)
        } catch {
            throw ValidationError(isQuotable(id) ? translated("<id>: {$1}.", with: readerMessage(for: error)) : unknownExerciseMessage(id))
        }
    }

    var templates: [ExerciseTemplate] { (try? HomeworkCatalog.templates(named: id)) ?? [] }
}

/// Checks an optional single exercise id given as the positional argument of `check` and `grade`.
func validateSingleExercise(_ id: String?) throws {
    guard let id else { return }
    do {
        _ = try HomeworkCatalog.singleTemplate(id: id)
    } catch {
        throw ValidationError(isQuotable(id) ? translated("<id>: {$1}.", with: readerMessage(for: error)) : unknownExerciseMessage(id))
    }
}

struct StudentOption: ParsableArguments {
    @Option(help: .translated("Your student id, such as alice. It decides the numbers in your exercises."))
    var student: String

    func validate() throws { try validateStudent(student) }
}

func validateStudent(_ student: String) throws {
    do {
        try HomeworkCatalog.validateStudentID(student)
    } catch {
        guard isQuotable(student) else {
            throw ValidationError(translated(
                "--student: `{$1}` is not a student id: use letters, digits, '-', '_' and '.'. Pass an id such as --student alice.", with: boundedSummary(student)))
        }
        throw ValidationError(translated("--student: {$1}. Pass an id such as --student alice.", with: readerMessage(for: error)))
    }
}

/// --course: the teacher's course file; without it, practice mode.
struct CourseOption: ParsableArguments {
    @Option(help: .translated(
        "The course file that `tutor homework course new` wrote. The numbers then come from its secret, which only its holder can reproduce. Without it: practice mode, whose numbers anyone can reproduce.",
        valueName: "course-file"))
    var course: String?

    func validate() throws {
        if let course, course.isEmpty { throw ValidationError(translated("--course is empty: pass the course file, such as --course course.json.")) }
    }

    /// The course, or nil in practice mode; a bad course file is one line on stderr and exit 2.
    func load() throws -> Course? {
        guard let course else { return nil }
        return try reportingFailure { try Course.read(from: course) }
    }
}

/// --exercises, --lesson, --all: which exercises a class command works on.
struct ExerciseSelection: ParsableArguments {
    @Option(help: .translated("Exercise ids or lesson names separated by commas, such as cam-1,cam-2 or cam,ig."))
    var exercises: String?

    @Option(help: .translated("Every exercise of one lesson."))
    var lesson: HomeworkLesson?

    @Flag(help: .translated("Every exercise of every lesson."))
    var all = false

    var isGiven: Bool { exercises != nil || lesson != nil || all }

    func validate() throws {
        if [exercises != nil, lesson != nil, all].filter({ $0 }).count > 1 {
            throw ValidationError(translated("--exercises, --lesson and --all each choose the exercises: pass only one of them."))
        }
        if let exercises {
            do {
                _ = try Self.parse(exercises)
            } catch {
                let problem = isQuotable(exercises) ? readerMessage(for: error)
                    : translated("`{$1}` is not a list of exercise ids", with: boundedSummary(exercises))
                throw ValidationError(translated("--exercises: {$1}. Pass ids such as --exercises cam-1,cam-2.", with: problem))
            }
        }
    }

    /// The chosen templates in teaching order, without repeats; nil when no flag was given.
    func templates() -> [ExerciseTemplate]? {
        if all { return HomeworkCatalog.templates }
        if let lesson { return HomeworkCatalog.templates.filter { $0.lesson == lesson } }
        if let exercises { return try? Self.parse(exercises) }
        return nil
    }

    static func parse(_ list: String) throws -> [ExerciseTemplate] {
        var chosen = Set<String>()
        for name in list.split(separator: ",", omittingEmptySubsequences: false) {
            let trimmed = name.trimmingCharacters(in: .whitespaces)
            guard !trimmed.isEmpty else { throw MiniNetError.invalidArgument(translated("an empty name in the list")) }
            for template in try HomeworkCatalog.templates(named: trimmed) { chosen.insert(template.id) }
        }
        return HomeworkCatalog.templates.filter { chosen.contains($0.id) }
    }

    static var missingMessage: String { translated("choose the exercises with --exercises cam-1,cam-2, --lesson cam or --all.") }
}

extension HomeworkLesson: ExpressibleByArgument {}

/// --roster: the class list.
struct RosterOption: ParsableArguments {
    @Option(help: .translated(
        "The class list: a CSV file whose header has an id column (and optionally name and email), as a spreadsheet exports it.",
        valueName: "roster.csv"))
    var roster: String?

    /// The roster; every bad row is one line on stderr, then exit 2.
    func load() throws -> Roster? {
        guard let roster else { return nil }
        do {
            return try Roster.read(from: roster)
        } catch let error as RosterError {
            let shown = 20
            for problem in error.problems.prefix(shown) {
                printError(translated("error: {$1}", with: error.fileName + ": " + translated(problem)))
            }
            if error.problems.count > shown {
                printError(translated("error: {$1}", with: translated("{$1}: and {$2} more problems", with: escapedForMessage(roster), error.problems.count - shown)))
            }
            throw ExitCode(2)
        } catch {
            printError(translated("error: {$1}", with: readerMessage(for: error)))
            throw ExitCode(2)
        }
    }
}

/// Checks an output file flag: a name, not a folder.
func validateOutputFile(_ path: String?, flag: String, example: String) throws {
    guard let path else { return }
    if path.isEmpty || path.hasSuffix("/") {
        throw ValidationError(translated("{$1} needs a file name, such as {$2}.", with: flag, "\(flag) \(example)"))
    }
    var isDirectory: ObjCBool = false
    if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
        throw ValidationError(translated("{$1} `{$2}` is a folder: pass a file name inside it, such as {$3}.",
                                         with: flag, boundedSummary(path), "\(flag) \(isQuotable(path) ? path : translated("FOLDER"))/\(example)"))
    }
}

/// Runs `body`; a failure is one line on stderr ("error: …") and exit status 2.
func reportingFailure<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let exit as ExitCode {
        throw exit
    } catch {
        printError(translated("error: {$1}", with: readerMessage(for: error)))
        throw ExitCode(2)
    }
}

/// Whether a bad argument can be quoted whole in its error message: short, and without a line
/// break or other control character that would cut or garble the message.
func isQuotable(_ value: String) -> Bool {
    value.unicodeScalars.count <= AnswerFileLimits.summaryLength && escapedForMessage(value) == value
}

func unknownExerciseMessage(_ id: String) -> String {
    translated("<id>: unknown exercise `{$1}`: `tutor homework list` shows the exercise ids, such as cam-1.", with: boundedSummary(id))
}

struct JSONFlag: ParsableArguments {
    @Flag(name: .long, help: .translated("Print JSON instead of text, for scripts."))
    var json = false
}

/// How `show` prints an exercise.
enum HomeworkFormat: String, ExpressibleByArgument, CaseIterable {
    case text, markdown, json
}

extension SheetFormat: ExpressibleByArgument {}

/// Prints a one-line problem on standard error. Control characters are escaped here as a last
/// guard: a path or name inside `message` must not split it into lines that look like others.
func printError(_ message: String) {
    // "tutor: " first, as every message of every command.
    StandardStreams.writeError("tutor: " + escapedForMessage(message) + "\n")
}

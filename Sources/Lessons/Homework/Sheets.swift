// Sheets: one per student, with that student's exercises and the form of every answer, never
// the answers. The JSON sheet is also what `tutor homework check --sheet` reads to check the
// form of a student's answers offline.

import Foundation
import MiniNet

/// How a sheet is written out.
public enum SheetFormat: String, CaseIterable, Sendable {
    case markdown, json, html

    public var fileExtension: String {
        switch self {
        case .markdown: return "md"
        case .json: return "json"
        case .html: return "html"
        }
    }
}

/// One student's homework: the selected exercises with their own numbers, and their due dates.
public struct HomeworkSheet: Sendable {
    public static let formatName = "tutor-homework-sheet"
    public static let formatVersion = 1

    public var student: RosterEntry
    public var mode: HomeworkMode
    public var exercises: [Exercise]
    /// Due dates by exercise id; an exercise without one has no due date.
    public var dueDates: [String: Date]

    public init(student: RosterEntry, templates: [ExerciseTemplate], course: Course?) {
        self.student = student
        self.mode = course?.mode ?? .practice
        self.exercises = templates.map { $0.make(student: student.id, course: course) }
        var dueDates = [String: Date]()
        for template in templates { dueDates[template.id] = course?.due(for: template.id) }
        self.dueDates = dueDates
    }

    /// The JSON sheet: the exercises as `show --format json` prints them (questions with their
    /// prompts, kinds, counts, options, tolerances and points, no answers), plus who and when.
    public func json(sheetFile: String?, timeZone: TimeZone = .current) -> JSONOutput {
        var members: [(String, JSONOutput)] = [
            ("format", .string(HomeworkSheet.formatName)), ("version", .number(Double(HomeworkSheet.formatVersion))),
        ]
        switch mode {
        case .practice:
            members.append(("mode", .string("practice")))
        case let .course(name, id):
            members += [("mode", .string("course")), ("course", .string(name)), ("course_id", .string(id))]
        }
        members += [("student", .string(student.id)), ("name", .string(student.name)),
                    ("how_to_answer", .string(SheetText.howToAnswer(mode: mode, student: student.id, sheetFile: sheetFile)))]
        members.append(("exercises", .array(exercises.map { exercise in
            guard case var .object(fields) = HomeworkRendering.json(exercise) else { return HomeworkRendering.json(exercise) }
            if let due = dueDates[exercise.id] { fields.append(("due", .string(CourseDates.format(due, timeZone: timeZone)))) }
            return .object(fields)
        })))
        return .object(members)
    }

    public func markdown(sheetFile: String?, timeZone: TimeZone = .current) -> String {
        var lines = ["# " + SheetText.title(for: student), "", SheetText.modeLine(mode), "",
                     SheetText.howToAnswer(mode: mode, student: student.id, sheetFile: sheetFile), ""]
        for exercise in exercises {
            lines.append(HomeworkRendering.markdown(exercise))
            if let due = dueDates[exercise.id] { lines += ["", "*" + translated("Due {$1}.", with: CourseDates.format(due, timeZone: timeZone)) + "*"] }
            lines.append("")
        }
        return lines.joined(separator: "\n")
    }

    /// A self-contained page: the style is inline, there is no script and nothing is fetched.
    public func html(sheetFile: String?, timeZone: TimeZone = .current) -> String {
        func escaped(_ text: String) -> String { SheetText.htmlEscaped(text) }
        var body = ["<h1>\(escaped(SheetText.title(for: student)))</h1>",
                    "<p class=\"mode\">\(escaped(SheetText.modeLine(mode)))</p>",
                    "<p>\(escaped(SheetText.howToAnswer(mode: mode, student: student.id, sheetFile: sheetFile)))</p>"]
        for exercise in exercises {
            body.append("<section>")
            body.append("<h2>\(escaped("\(exercise.id): \(exercise.title)"))</h2>")
            body.append("<p class=\"meta\">\(escaped(exercise.lesson.displayName))"
                        + (dueDates[exercise.id].map { " · " + escaped(translated("due {$1}", with: CourseDates.format($0, timeZone: timeZone))) } ?? "") + "</p>")
            body.append("<p>\(escaped(exercise.introduction))</p>")
            body.append("<h3>\(escaped(translated("Given")))</h3>")
            body.append("<pre>\(escaped(exercise.given.flatMap(HomeworkRendering.givenLines).joined(separator: "\n")))</pre>")
            body.append("<h3>\(escaped(translated("Questions")))</h3>")
            body.append("<ul class=\"questions\">")
            for question in exercise.questions {
                var item = "<li><b>\(escaped(question.id))</b> \(escaped(question.prompt)) "
                    + "<span class=\"format\">[\(escaped(question.answerFormat))]</span>"
                if !question.options.isEmpty {
                    item += "<ul class=\"options\">" + question.options.enumerated().map {
                        "<li>\(Question.letter($0.offset))) \(escaped($0.element))</li>"
                    }.joined() + "</ul>"
                }
                body.append(item + "</li>")
            }
            body.append("</ul>")
            body.append("</section>")
        }
        return """
            <!DOCTYPE html>
            <html lang="\(Language.current.rawValue)">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(escaped(SheetText.title(for: student)))</title>
            <style>
            body { font-family: system-ui, sans-serif; max-width: 46rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.5; }
            pre { background: #f4f4f4; padding: 0.6rem; overflow-x: auto; }
            .mode, .meta { color: #555; }
            .format { color: #555; font-size: 0.9em; white-space: nowrap; }
            .questions > li { margin-bottom: 0.6rem; }
            .options { list-style: none; }
            section { border-top: 1px solid #ccc; margin-top: 1.5rem; }
            @media print { section { page-break-inside: avoid; } }
            </style>
            </head>
            <body>
            \(body.joined(separator: "\n"))
            </body>
            </html>

            """
    }

    /// The file's text in `format`; `stem` is the student's file name stem (the markdown and
    /// HTML sheets name the JSON sheet that `check --sheet` reads).
    public func rendered(_ format: SheetFormat, stem: String, timeZone: TimeZone = .current) -> String {
        let sheetFile = stem + "." + SheetFormat.json.fileExtension
        switch format {
        case .json: return json(sheetFile: sheetFile, timeZone: timeZone).rendered() + "\n"
        case .markdown: return markdown(sheetFile: sheetFile, timeZone: timeZone)
        case .html: return html(sheetFile: sheetFile, timeZone: timeZone)
        }
    }
}

/// Writing every student's sheets into a folder.
public enum SheetWriter {
    /// The file name of the index of sheets (student id, name, email, files), for a mail merge.
    public static let indexFileName = "sheets.csv"

    /// Writes `<stem>.<extension>` for every sheet and format, and `sheets.csv`, each file
    /// atomically (a temporary then a rename). Everything is computed before the first write.
    /// Returns the paths written.
    ///
    /// - protecting: files the run reads (the roster, the course file); a sheet that would
    ///   replace one is refused before anything is written.
    @discardableResult
    public static func write(_ sheets: [HomeworkSheet], formats: [SheetFormat], to directory: String,
                             timeZone: TimeZone = .current, protecting: [String] = []) throws -> [String] {
        let stems = try StudentFileNames.stems(for: sheets.map(\.student.id))
        var files = [(path: String, text: String)]()
        var index = [["student_id", "name", "email"] + formats.map { "\($0.rawValue)_file" }]
        for sheet in sheets {
            let stem = stems[sheet.student.id]!
            var row = [sheet.student.id, sheet.student.name, sheet.student.email]
            for format in formats {
                let fileName = stem + "." + format.fileExtension
                files.append(((directory as NSString).appendingPathComponent(fileName),
                              sheet.rendered(format, stem: stem, timeZone: timeZone)))
                row.append(fileName)
            }
            index.append(row)
        }
        let indexText = index.map { $0.map(Gradebook.csvField).joined(separator: ",") }.joined(separator: "\n") + "\n"
        files.append(((directory as NSString).appendingPathComponent(indexFileName), indexText))

        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw MiniNetError.file(escapedForMessage(directory), translated("is a file, not a folder for the sheets")) }
        } else {
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            } catch {
                throw MiniNetError.file(escapedForMessage(directory), translated("cannot create the folder"))
            }
        }
        // A sheet over an input, or a name already taken by a folder, would stop the run halfway,
        // after some sheets were written.
        for file in files {
            var written = stat(), read = stat()
            for input in protecting where stat(file.path, &written) == 0 && stat(input, &read) == 0
                && written.st_dev == read.st_dev && written.st_ino == read.st_ino {
                throw MiniNetError.file(escapedForMessage(file.path), translated("is a file this command reads; the sheets would replace it: write them into another folder"))
            }
            var isFolder: ObjCBool = false
            if FileManager.default.fileExists(atPath: file.path, isDirectory: &isFolder), isFolder.boolValue {
                throw MiniNetError.file(escapedForMessage(file.path), translated("is a folder, where a sheet is to be written; move it away first"))
            }
        }
        for file in files { try inReadersLanguage { try writeFileAtomically(Data(file.text.utf8), to: file.path) } }
        return files.map(\.path)
    }
}

/// A JSON sheet read back: who it is for, and the form of every question.
public struct SheetFile: Equatable, Sendable {
    public struct Entry: Equatable, Sendable {
        public var exerciseID: String
        public var title: String
        public var questions: [ShapedQuestion]
    }

    public var mode: HomeworkMode
    public var student: String
    public var exercises: [Entry]

    public static let maximumFileBytes = 4 << 20

    public func exercise(_ id: String) -> Entry? { exercises.first { $0.exerciseID == id } }

    public static func read(from path: String) throws -> SheetFile {
        let name = escapedForMessage(path)
        _ = try inReadersLanguage { try RegularFile.check(path, maximumBytes: maximumFileBytes) }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw MiniNetError.file(name, translated("cannot be read (permission denied or I/O error)"))
        }
        return try parse(data, name: name)
    }

    private struct Stored: Decodable {
        var format: String
        var version: Int
        var mode: String
        var course: String?
        var course_id: String?
        var student: String
        var exercises: [StoredExercise]
    }

    private struct StoredExercise: Decodable {
        var exercise: String
        var title: String
        var questions: [StoredQuestion]
    }

    private struct StoredQuestion: Decodable {
        var id: String
        var kind: String
        var count: Int?
        var options: [String: String]?
    }

    public static func parse(_ data: Data, name: String) throws -> SheetFile {
        func problem(_ text: String) -> MiniNetError { MiniNetError.file(name, text) }
        let stored: Stored
        do {
            stored = try JSONDecoder().decode(Stored.self, from: data)
        } catch let error as DecodingError {
            throw problem(translated("is not a homework sheet written by `tutor homework sheets` ({$1})", with: describe(error)))
        } catch {
            throw problem(translated("is not a homework sheet written by `tutor homework sheets`"))
        }
        guard stored.format == HomeworkSheet.formatName else {
            throw problem(translated("is not a homework sheet (its `format` is not \"{$1}\")", with: HomeworkSheet.formatName))
        }
        guard stored.version == HomeworkSheet.formatVersion else {
            throw problem(translated("is a sheet of version {$1}; this tutor reads version {$2}", with: stored.version, HomeworkSheet.formatVersion))
        }
        let mode: HomeworkMode
        switch (stored.mode, stored.course, stored.course_id) {
        case ("practice", _, _): mode = .practice
        case let ("course", name?, id?): mode = .course(name: name, id: id)
        default: throw problem(translated("`mode` must be \"practice\", or \"course\" with `course` and `course_id`"))
        }
        var exercises = [SheetFile.Entry]()
        for storedExercise in stored.exercises {
            guard HomeworkCatalog.template(id: storedExercise.exercise) != nil else {
                throw problem(translated("names exercise `{$1}`, which this tutor does not have", with: boundedSummary(storedExercise.exercise)))
            }
            var questions = [ShapedQuestion]()
            for question in storedExercise.questions {
                let shape: AnswerShape
                let where_ = "\(storedExercise.exercise) \(boundedSummary(question.id))"
                switch (question.kind, question.count, question.options?.count) {
                case ("number", _, _): shape = .number
                case let ("list", count?, _) where (1...10_000).contains(count): shape = .list(count: count)
                case ("integer", _, _): shape = .integer
                case let ("choice", _, count?) where (1...26).contains(count): shape = .choice(optionCount: count)
                default: throw problem(translated("{$1}: `kind` \"{$2}\" with these fields is not a question form", with: where_, boundedSummary(question.kind)))
                }
                guard AnswersFile.isValidKey(question.id) else { throw problem(translated("{$1}: is not a question id such as q1", with: where_)) }
                questions.append(ShapedQuestion(id: question.id, shape: shape))
            }
            exercises.append(Entry(exerciseID: storedExercise.exercise, title: storedExercise.title, questions: questions))
        }
        return SheetFile(mode: mode, student: stored.student, exercises: exercises)
    }

    /// "`exercises`[0]: `questions` is missing", from a decoding error, without the library's prose.
    static func describe(_ error: DecodingError) -> String {
        func path(_ codingPath: [CodingKey]) -> String {
            codingPath.map { $0.intValue.map { "[\($0)]" } ?? "`\($0.stringValue)`" }.joined()
        }
        switch error {
        case let .keyNotFound(key, context):
            let location = path(context.codingPath)
            let missing = translated("`{$1}` is missing", with: key.stringValue)
            return location.isEmpty ? missing : location + ": " + missing
        case let .typeMismatch(_, context), let .valueNotFound(_, context):
            let location = path(context.codingPath)
            return location.isEmpty ? translated("the sheet has the wrong type") : translated("{$1} has the wrong type", with: location)
        case let .dataCorrupted(context):
            // With a location, the JSON parsed and one value did not fit its field (a count
            // of 1e30 is no Int); without one, the text is not JSON at all.
            let location = path(context.codingPath)
            return location.isEmpty ? translated("not valid JSON") : translated("{$1} holds a value it cannot take", with: location)
        @unknown default:
            return translated("unreadable")
        }
    }
}

/// The words of sheets, in one place for translation.
public enum SheetText {
    static func title(for student: RosterEntry) -> String {
        student.name.isEmpty ? translated("Homework for {$1}", with: student.id) : translated("Homework for {$1} ({$2})", with: student.name, student.id)
    }

    static func modeLine(_ mode: HomeworkMode) -> String {
        switch mode {
        case .practice:
            return translated("Practice: anyone can print these numbers and their answer key with `tutor homework`; check your answers yourself.")
        case let .course(name, id):
            return translated("Course {$1} (course id {$2}). Your numbers are your own: nobody without the teacher's course file can compute them.", with: name, id)
        }
    }

    static func howToAnswer(mode: HomeworkMode, student: String, sheetFile: String?) -> String {
        switch mode {
        case .practice:
            return translated("Write one answers file per exercise, named by the exercise id (cam-1.txt or cam-1.json; docs/homework.md shows the format), "
                + "and check it with `tutor homework check EXERCISE --student {$1} --answers FILE`: it says which answers are right.", with: student)
        case .course:
            return translated("Write one answers file per exercise, named by the exercise id (cam-1.txt or cam-1.json; docs/homework.md shows the format), "
                + "all in one folder, and hand in that folder. `tutor homework check --sheet {$1} --answers FILE` "
                + "checks that every question is answered in the expected form; whether the answers are right is decided when your teacher grades them.",
                with: sheetFile ?? "YOUR-SHEET.json")
        }
    }

    /// Text made safe inside HTML elements and attribute values (the renderers' `escapeHTML`).
    static func htmlEscaped(_ text: String) -> String { escapeHTML(text) }
}

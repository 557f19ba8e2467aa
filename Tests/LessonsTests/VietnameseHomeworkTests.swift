import Foundation
import MiniNet
import XCTest
@testable import Lessons

/// Homework in Vietnamese (issue 14): every exercise, sheet, check report, gradebook, progress
/// list and error message rendered in Vietnamese holds no English sentence outside code,
/// identifiers and formulas, and checking gives the same scores in both languages.
final class VietnameseHomeworkTests: XCTestCase {
    /// Student ids enough to meet every variant of every exercise: the winner of cam-1, the
    /// verdict of ig-2, the larger gap of ig-3, the shuffled options.
    static let students = ["an", "bình", "chi", "dũng", "giang", "hà", "khánh", "linh", "minh", "nam", "phương", "quân",
                           "sơn", "thảo", "uyên", "vy", "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"]

    static let detector = VietnameseTests.detector(classNames: ShapesDataset.classNames)

    /// The English lines of `texts`, each named by where it was found.
    static func englishLines(_ texts: [(place: String, text: String)]) -> [String] {
        texts.flatMap { place, text in detector.englishLines(in: text).map { "\(place): \($0)" } }
    }

    /// Asserts that no text is English, listing every English line at once.
    static func assertVietnamese(_ texts: [(place: String, text: String)], file: StaticString = #filePath, line: UInt = #line) {
        let english = Array(Set(englishLines(texts))).sorted()
        XCTAssertTrue(english.isEmpty, "\(english.count) English lines:\n" + english.joined(separator: "\n"), file: file, line: line)
    }

    /// The members of JSON output whose values are ids for programs (a mistake's id, a
    /// question's status), not words for people: they stay English like the keys.
    static let identifierKeys: Set<String> = ["id", "exercise", "lesson", "student", "mode", "kind", "status", "state",
                                              "format", "course_id", "next", "file", "path", "unknown_keys"]

    /// Every string value of a JSON document meant for people (its keys and ids stay English).
    static func strings(in json: JSONOutput) -> [String] {
        switch json {
        case let .string(text): return [text]
        case let .array(items): return items.flatMap(strings)
        case let .object(members): return members.filter { !identifierKeys.contains($0.0) }.flatMap { strings(in: $0.1) }
        case .number, .double, .float, .integer, .bool, .null: return []
        }
    }

    static func vi<Result>(_ body: () throws -> Result) rethrows -> Result {
        try Language.$override.withValue(.vi) { try body() }
    }

    static func en<Result>(_ body: () throws -> Result) rethrows -> Result {
        try Language.$override.withValue(.en) { try body() }
    }

    let course = try! Course(name: "XAI 2026", secret: Data(repeating: 7, count: 32),
                             due: CourseDates.parseDue("2026-03-01T23:59:59Z"), lateRule: .penaltyPerDay(percent: 10))

    /// The folders this test made; their paths are data, not words (see `assertVietnamese`).
    var temporaryFolders = [URL]()

    func temporaryFolder() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("homework-vi-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: folder) }
        temporaryFolders.append(folder)
        return folder
    }

    /// `assertVietnamese` after writing the temporary folders as DIR: a random path such as
    /// /tmp/homework-vi-…-BE12-… may spell English words ("be") that the detector counts.
    func assertVietnameseOutsidePaths(_ texts: [(place: String, text: String)], file: StaticString = #filePath, line: UInt = #line) {
        let paths = temporaryFolders.flatMap { [$0.path, $0.resolvingSymlinksInPath().path] }.sorted { $0.count > $1.count }
        let hidden = texts.map { place, text in
            (place: place, text: paths.reduce(text) { $0.replacingOccurrences(of: $1, with: "DIR") })
        }
        Self.assertVietnamese(hidden, file: file, line: line)
    }

    // MARK: - Exercises and sheets

    /// Every exercise in Vietnamese, as its text, Markdown and JSON, for many students.
    func testEveryExerciseInVietnameseHasNoEnglishSentence() throws {
        var texts = [(place: String, text: String)]()
        for template in HomeworkCatalog.templates {
            for student in Self.students {
                Self.vi {
                    let exercise = template.make(student: student)
                    texts.append(("\(template.id)/\(student) text", HomeworkRendering.text(exercise)))
                    texts.append(("\(template.id)/\(student) markdown", HomeworkRendering.markdown(exercise)))
                    texts += Self.strings(in: HomeworkRendering.json(exercise)).map { ("\(template.id)/\(student) json", $0) }
                    // Every hint tier, as a report prints them.
                    for question in exercise.questions {
                        texts += question.hints.texts(upTo: .firstStep).map { ("\(template.id)/\(student) \(question.id) hint", $0) }
                        texts += question.mistakes.map { ("\(template.id)/\(student) \(question.id) mistake", $0.description) }
                    }
                }
            }
        }
        Self.assertVietnamese(texts)
        XCTAssertTrue(Self.vi { HomeworkCatalog.templates.allSatisfy { $0.title != $0.englishTitle } }, "every title is translated")
    }

    /// Words that stay as they are in Vietnamese: names of methods and operations, the class
    /// names of cam-1 and evaluate-4, the functions of the formulas and AUC.
    static let wordsThatStay: Set<String> = ["ReLU", "mean", "cat", "dog", "CAM", "Grad", "Ablation", "LRP", "IG",
                                             "Eigen", "Score", "LayerCAM", "HiResCAM", "AUC", "circle", "square", "triangle"]

    /// The ASCII words of two letters or more in `text`; a token with _, ^ or { is a symbol with
    /// its indices (w_jk, A^k_{ij}), not a word.
    static func words(in text: String) -> [String] {
        var tokens = [String](), token = ""
        for character in text + " " {
            if character.isASCII && (character.isLetter || "_^{}".contains(character)) {
                token.append(character)
            } else {
                if token.count > 1 && token.allSatisfy(\.isLetter) { tokens.append(token) }
                token = ""
            }
        }
        return tokens
    }

    /// A short text can be English without looking like a sentence ("negative", "a forward
    /// pass"), so the detector alone would miss it: every text of an exercise with a word in
    /// it must have a translation, and only formulas and names stay as they are.
    func testEveryExerciseTextWithWordsIsTranslated() {
        var untranslated = Set<String>()
        for template in HomeworkCatalog.templates {
            for student in Self.students {
                let english = Self.en { template.make(student: student) }
                let vietnamese = Self.vi { template.make(student: student) }
                func texts(_ exercise: Exercise) -> [String] {
                    [exercise.title, exercise.introduction] + exercise.given.map(\.name) + exercise.questions.flatMap { question in
                        [question.prompt, question.hints.nudge, question.hints.formula, question.hints.firstStep] + question.options
                    }
                }
                for (original, translation) in zip(texts(english), texts(vietnamese)) where original == translation {
                    // Words of letters; a token with _, ^ or { is a symbol with its indices (w_jk, A^k_{ij}).
                    if Self.words(in: original).contains(where: { !Self.wordsThatStay.contains($0) }) { untranslated.insert(original) }
                }
            }
        }
        XCTAssertTrue(untranslated.isEmpty, "no translation:\n" + untranslated.sorted().joined(separator: "\n"))
    }

    /// Every mistake a question can name says something in Vietnamese, also the ones no
    /// student above happens to meet.
    func testEveryMistakeInVietnameseHasNoEnglishSentence() {
        let texts = Self.vi { MistakeKind.allCases.map { (place: $0.rawValue, text: $0.description) } }
        Self.assertVietnamese(texts)
        for kind in MistakeKind.allCases {
            XCTAssertNotEqual(Self.vi { kind.description }, kind.englishDescription, "\(kind.rawValue) is not translated")
        }
    }

    /// The sheets of a practice and of a course, as Markdown, JSON and HTML.
    func testSheetsInVietnameseHaveNoEnglishSentence() throws {
        var texts = [(place: String, text: String)]()
        for (mode, course) in [("practice", nil), ("course", course)] as [(String, Course?)] {
            for student in [RosterEntry(id: "an", name: "Nguyễn Văn An", email: "", line: 2), RosterEntry(id: "bình", name: "", email: "", line: 3)] {
                Self.vi {
                    let sheet = HomeworkSheet(student: student, templates: HomeworkCatalog.templates, course: course)
                    texts.append(("\(mode) markdown", sheet.rendered(.markdown, stem: student.id)))
                    texts += Self.strings(in: sheet.json(sheetFile: "\(student.id).json")).map { ("\(mode) json", $0) }
                    let html = sheet.rendered(.html, stem: student.id)
                    XCTAssertTrue(html.contains("<html lang=\"vi\">"))
                    // The page's own words, without its style sheet.
                    let body = html.components(separatedBy: "<body>").last ?? html
                    texts.append(("\(mode) html", body))
                }
            }
        }
        Self.assertVietnamese(texts)
    }

    // MARK: - Check reports

    /// An answers file that goes wrong in every way a student's can: each question answered with
    /// its first known mistake when it has one, otherwise with a wrong value of the right form.
    static func wrongAnswers(_ exercise: Exercise) -> AnswersFile {
        let answers = exercise.questions.map { question -> (key: String, value: AnswerValue) in
            if let mistake = question.mistakes.first { return (question.id, mistake.answer.asAnswer) }
            switch question.expected {
            case let .number(value): return (question.id, .number(value + 1000))
            case let .vector(values): return (question.id, .vector(values.enumerated().map { $0.offset == 0 ? $0.element : $0.element + 1000 }))
            case let .integer(value): return (question.id, .number(Double(value + 1000)))
            case let .choice(correct): return (question.id, .text(Question.letter((correct + 1) % question.options.count)))
            }
        }
        return AnswersFile(exercise: exercise.id, student: exercise.student, answers: answers + [("q99", .number(1))])
    }

    /// Answers of the wrong form: a letter for a number, a list of the wrong length, a fraction
    /// for a whole number, a letter that is no option, and nothing at all for the last question.
    static func malformedAnswers(_ exercise: Exercise) -> AnswersFile {
        let answers = exercise.questions.dropLast().map { question -> (key: String, value: AnswerValue) in
            switch question.expected {
            case .number: return (question.id, .text("B"))
            case let .vector(values): return (question.id, .vector(Array(values.dropFirst())))
            case .integer: return (question.id, .number(1.5))
            case .choice: return (question.id, .text("Z"))
            }
        }
        return AnswersFile(exercise: exercise.id, student: exercise.student, answers: answers,
                           lines: Dictionary(uniqueKeysWithValues: answers.enumerated().map { ($0.element.key, $0.offset + 3) }))
    }

    /// A report in Vietnamese for wrong answers, at every hint level, names the mistakes and has
    /// no English sentence; so does a report for answers of the wrong form.
    func testCheckReportsInVietnameseHaveNoEnglishSentence() throws {
        var texts = [(place: String, text: String)]()
        var mistakesNamed = 0
        for template in HomeworkCatalog.templates {
            for student in Self.students.prefix(6) {
                try Self.vi {
                    let exercise = template.make(student: student)
                    for level in HintLevel.allCases {
                        for (kind, answers) in [("wrong", Self.wrongAnswers(exercise)), ("malformed", Self.malformedAnswers(exercise))] {
                            let report = try HomeworkChecker.check(answers, against: exercise, hintLevel: level)
                            mistakesNamed += report.results.reduce(0) { $0 + $1.mistakes.count }
                            let place = "\(template.id)/\(student) \(kind) hint \(level.rawValue)"
                            texts.append((place, HomeworkRendering.text(report)))
                            texts.append((place + " course", HomeworkRendering.text(report, mode: course.mode)))
                            texts += Self.strings(in: HomeworkRendering.json(report)).map { (place + " json", $0) }
                            XCTAssertEqual(report.results.filter { !$0.passed }.map(\.hints.count),
                                           Array(repeating: level.rawValue, count: report.results.filter { !$0.passed }.count))
                        }
                    }
                    // The form check of a course.
                    let questions = exercise.questions.map(ShapedQuestion.init)
                    for answers in [Self.wrongAnswers(exercise), Self.malformedAnswers(exercise)] {
                        let report = try FormatCheck.check(answers, exerciseID: exercise.id, student: exercise.student,
                                                           questions: questions, mode: course.mode)
                        texts.append(("\(template.id)/\(student) form", HomeworkRendering.text(report)))
                        texts += Self.strings(in: HomeworkRendering.json(report)).map { ("\(template.id)/\(student) form json", $0) }
                    }
                }
            }
        }
        XCTAssertGreaterThan(mistakesNamed, 100, "the wrong answers trigger known-mistake feedback")
        Self.assertVietnamese(texts)
        // And the report of a right answers file.
        let exercise = Self.vi { HomeworkCatalog.templates[0].make(student: "an") }
        let right = try Self.vi { HomeworkRendering.text(try HomeworkChecker.check(HomeworkChecker.key(for: exercise), against: exercise)) }
        Self.assertVietnamese([("all right", right)])
    }

    /// The same answers earn the same points, with the same mistakes named, in both languages:
    /// answers are checked by id, value and option letter, never by a translated word.
    func testCheckingGivesTheSameScoresInVietnameseAndEnglish() throws {
        for template in HomeworkCatalog.templates {
            for student in Self.students {
                let english = Self.en { template.make(student: student) }
                let vietnamese = Self.vi { template.make(student: student) }
                XCTAssertEqual(english.questions.map(\.id), vietnamese.questions.map(\.id))
                XCTAssertEqual(english.questions.map(\.expected), vietnamese.questions.map(\.expected), "\(template.id)/\(student)")
                XCTAssertEqual(english.questions.map(\.options.count), vietnamese.questions.map(\.options.count))
                XCTAssertEqual(english.questions.map { $0.mistakes.map(\.kind) }, vietnamese.questions.map { $0.mistakes.map(\.kind) })
                XCTAssertEqual(english.given.map(\.value), vietnamese.given.map(\.value))
                let answerFiles = [HomeworkChecker.key(for: english), Self.wrongAnswers(english), Self.malformedAnswers(english),
                                   HomeworkChecker.key(for: vietnamese)]
                for (index, answers) in answerFiles.enumerated() {
                    let inEnglish = try Self.en { try HomeworkChecker.check(answers, against: english, hintLevel: .firstStep) }
                    let inVietnamese = try Self.vi { try HomeworkChecker.check(answers, against: vietnamese, hintLevel: .firstStep) }
                    let place = "\(template.id)/\(student) answers \(index)"
                    XCTAssertEqual(inEnglish.score, inVietnamese.score, place)
                    XCTAssertEqual(inEnglish.results.map(\.status), inVietnamese.results.map(\.status), place)
                    XCTAssertEqual(inEnglish.results.map(\.pointsEarned), inVietnamese.results.map(\.pointsEarned), place)
                    XCTAssertEqual(inEnglish.results.map { $0.mistakes.map(\.id) }, inVietnamese.results.map { $0.mistakes.map(\.id) }, place)
                    XCTAssertEqual(inEnglish.results.map { $0.problem == nil }, inVietnamese.results.map { $0.problem == nil }, place)
                    XCTAssertEqual(inEnglish.unknownKeys, inVietnamese.unknownKeys, place)
                    if index == 0 || index == 3 { XCTAssertTrue(inVietnamese.allPassed, place) }
                }
            }
        }
    }

    // MARK: - Gradebooks and progress

    func write(_ text: String, _ relative: String, in folder: URL, date: Date) throws {
        let url = folder.appendingPathComponent(relative)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
        try FileManager.default.setAttributes([.modificationDate: date], ofItemAtPath: url.path)
    }

    /// A class with every kind of submission and issue, graded in Vietnamese: the notes, issues,
    /// statistics and the one-exercise grade sheet hold no English sentence.
    func testGradebooksInVietnameseHaveNoEnglishSentence() throws {
        let folder = try temporaryFolder()
        let due = course.due!
        let onTime = due.addingTimeInterval(-3_600), oneDayLate = due.addingTimeInterval(60), twoDaysLate = due.addingTimeInterval(86_400 + 60)
        let templates = ["cam-1", "cam-2", "gradcam-3"].map { HomeworkCatalog.template(id: $0)! }
        func key(_ exercise: String, _ student: String) -> String {
            HomeworkRendering.text(HomeworkChecker.key(for: HomeworkCatalog.template(id: exercise)!.make(student: student, course: course)))
        }
        func wrong(_ exercise: String, _ student: String) -> String {
            HomeworkRendering.text(Self.wrongAnswers(HomeworkCatalog.template(id: exercise)!.make(student: student, course: course)))
        }
        try write(key("cam-1", "an"), "an/cam-1.txt", in: folder, date: onTime)
        try write(wrong("cam-2", "an"), "an/cam-2.txt", in: folder, date: oneDayLate)
        try write(wrong("gradcam-3", "an"), "an/gradcam-3.txt", in: folder, date: onTime)
        try write(key("cam-1", "bình"), "bình/cam-1.txt", in: folder, date: twoDaysLate)
        try write(key("cam-1", "bình"), "bình/cam-2.txt", in: folder, date: onTime)
        try write(wrong("gradcam-3", "bình"), "bình/gradcam-3.txt", in: folder, date: onTime)
        try write(key("cam-1", "an"), "dũng/cam-1.txt", in: folder, date: onTime)
        try write("{\"answers\": ", "dũng/cam-2.json", in: folder, date: onTime)
        try write("q1 = 1", "dũng/cam-2.txt", in: folder, date: onTime)
        try write("q1 = ", "dũng/gradcam-3.txt", in: folder, date: onTime)
        try write("not answers", "dũng/notes.pdf", in: folder, date: onTime)
        try write("q1 = 1", "dũng/ig-1.txt", in: folder, date: onTime)
        try write("q1 = 1", "dũng/cam-9.txt", in: folder, date: onTime)
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("dũng/old"), withIntermediateDirectories: true)
        try write(key("cam-1", "mallory"), "mallory/cam-1.txt", in: folder, date: onTime)
        try write(key("cam-1", "mallory"), "trudy/cam-1.txt", in: folder, date: onTime)
        try write(key("cam-2", "trudy"), "trudy/cam-2.txt", in: folder, date: onTime)
        try write("hello", "loose.txt", in: folder, date: onTime)
        let roster = try Roster.parse("id,name\nan,An\nbình,Bình\nchi,Chi\ndũng,Dũng\n", name: "roster.csv")

        var texts = [(place: String, text: String)]()
        for rule in [LateRule.penaltyPerDay(percent: 10), .markOnly, .zero] {
            var course = self.course
            course.lateRule = rule
            let book = try Self.vi { try ClassGradebook.grade(roster: roster, templates: templates, course: course, directory: folder.path) }
            XCTAssertGreaterThanOrEqual(book.issues.count, 7)
            Self.vi {
                for row in book.rows { texts += book.notes(for: row).map { ("notes \(row.student.id)", $0) } }
                texts += book.issues.map { ("issue \($0.path)", $0.message) }
                texts += Self.strings(in: book.json()).map { ("json", $0) }
                // The statistics name the options chosen, in the language of the exercises.
                texts += book.statistics.flatMap(\.commonWrongAnswers).map { ("statistics", $0.answer) }
                texts.append(("late rule", book.lateRule.description))
                texts.append(("mode", book.mode.label))
            }
            // The English gradebook of the same folder earns the same points.
            let english = try Self.en { try ClassGradebook.grade(roster: roster, templates: templates, course: course, directory: folder.path) }
            XCTAssertEqual(english.rows.map(\.total), book.rows.map(\.total))
            XCTAssertEqual(english.issues.map(\.kind), book.issues.map(\.kind))
        }
        // The grade sheet of one exercise in practice mode, one file per student.
        let practice = try temporaryFolder()
        try write(HomeworkRendering.text(HomeworkChecker.key(for: HomeworkCatalog.template(id: "cam-1")!.make(student: "an"))),
                  "an.txt", in: practice, date: onTime)
        try write("q1 = [1, 2", "bình.txt", in: practice, date: onTime)
        try write("q1 = 1", "chi.txt", in: practice, date: onTime)
        try write("q1 = 1", "chi.json", in: practice, date: onTime)
        try write("q1 = 1", "bad id.txt", in: practice, date: onTime)
        let sheet = try Self.vi { try Gradebook.grade(exerciseID: "cam-1", directory: practice.path) }
        XCTAssertEqual(sheet.rows.filter { $0.error != nil }.count, 3)
        texts += sheet.rows.compactMap(\.error).map { ("grade sheet", $0) }
        assertVietnameseOutsidePaths(texts)
    }

    /// A student's progress, in practice and in a course, in Vietnamese.
    func testProgressInVietnameseHasNoEnglishSentence() throws {
        let folder = try temporaryFolder()
        let now = Date()
        let templates = HomeworkCatalog.templates
        try write(HomeworkRendering.text(HomeworkChecker.key(for: templates[0].make(student: "an"))), "cam-1.txt", in: folder, date: now)
        try write(HomeworkRendering.text(Self.wrongAnswers(templates[1].make(student: "an"))), "cam-2.txt", in: folder, date: now)
        try write("q1 = 1", "cam-3.txt", in: folder, date: now)
        try write("q1 = 1", "cam-3.json", in: folder, date: now)
        try write("q1 = ", "gradcam-1.txt", in: folder, date: now)
        var texts = [(place: String, text: String)]()
        try Self.vi {
            let practice = try StudentProgress.practice(student: "an", templates: templates, directory: folder.path)
            texts.append(("practice", HomeworkRendering.text(practice)))
            texts += Self.strings(in: HomeworkRendering.json(practice)).map { ("practice json", $0) }
            let course = try StudentProgress.formOnly(student: "an", course: course, templates: templates, directory: folder.path)
            texts.append(("course", HomeworkRendering.text(course)))
            texts += Self.strings(in: HomeworkRendering.json(course)).map { ("course json", $0) }
            // Everything done.
            let done = try StudentProgress.practice(student: "an", templates: [templates[0]], directory: folder.path)
            texts.append(("done", HomeworkRendering.text(done)))
            let answered = try StudentProgress.formOnly(student: "an", course: self.course, templates: [templates[0]], directory: folder.path)
            texts.append(("answered", HomeworkRendering.text(answered)))
        }
        assertVietnameseOutsidePaths(texts)
    }

    // MARK: - Error messages

    /// The message of the error `body` throws, in Vietnamese, without the file name before it.
    static func viMessage(_ place: String, _ body: () throws -> Any) -> (place: String, text: String) {
        do {
            _ = try vi(body)
            XCTFail("\(place): no error")
            return (place, "")
        } catch let error as MiniNetError {
            switch vi({ error.inReadersLanguage }) {
            case let .file(_, problem): return (place, problem)
            case let .invalidArgument(problem), let .invalidModel(problem): return (place, problem)
            }
        } catch {
            return (place, "\(error)")
        }
    }

    /// The errors of answers files, rosters, course files, sheets and ids, in Vietnamese.
    func testErrorMessagesInVietnameseHaveNoEnglishSentence() throws {
        let folder = try temporaryFolder()
        var texts = [(place: String, text: String)]()
        let badAnswers = [
            "q1 0.5", "q1 = ", "q1 = 1\nq1 = 2", "q 1 = 2", "q1 = [1, 2", "q1 = 1, x", "q1 = 0,5; y", "student = a b",
            "exercise = cam 1", "{\"answers\": ", "{\"answers\": {\"q1\": [\"a\"]}}", "{\"answers\": {\"q1\": null}}", "{\"x\": 1}",
            "{\"student\": 5, \"answers\": {}}", "{\"answers\": 5}", "{\"answers\": {}, \"answers\": {}}", "{}", "[1]",
            "{\"answers\": {\"q1\": tru}}", "{\"answers\": {\"q1\": \"\\x\"}}", "{\"answers\": {\"q1\": \"\\u12\"}}",
            "{\"answers\": {} x", "{\"answers\" {}}", "{\"answers\": {\"q1\" 1}}", "{answers: 1}", "{\"answers\": {\"q1\": \"a\nb\"}}",
            "{\"answers\": {\"q 1\": 1}}", "q1 = " + String(repeating: "B", count: 80), "q1 = a\u{7}b",
            "{\"answers\": {\"q1\": \"" + String(repeating: "x", count: 5_000) + "\"}}", String(repeating: "x", count: 5_000),
            "{\"answers\": {\"q1\": " + String(repeating: "[", count: 70) + "}}",
            "exercise = cam-1\nexercise = cam-2", "student = " + String(repeating: "a", count: 70),
        ]
        for (index, source) in badAnswers.enumerated() {
            texts.append(Self.viMessage("answers \(index)") { try AnswersFile.parse(source, name: "a.txt") })
        }
        var limits = AnswerFileLimits.standard
        limits.keys = 2
        texts.append(Self.viMessage("keys") { try AnswersFile.parse("q1 = 1\nq2 = 2\nq3 = 3", name: "a.txt", limits: limits) })
        texts.append(Self.viMessage("json keys") { try AnswersFile.parse("{\"answers\": {\"q1\": 1, \"q2\": 2, \"q3\": 3}}", name: "a.json", limits: limits) })
        texts.append(Self.viMessage("missing file") { try AnswersFile.load(from: folder.appendingPathComponent("none.txt").path) })
        texts.append(Self.viMessage("folder") { try AnswersFile.load(from: folder.path) })
        let big = folder.appendingPathComponent("big.txt")
        try Data(repeating: 65, count: (1 << 20) + 1).write(to: big)
        texts.append(Self.viMessage("big") { try AnswersFile.load(from: big.path) })
        let latin = folder.appendingPathComponent("latin.txt")
        try Data([0x71, 0x31, 0x3D, 0xE9, 0xFF]).write(to: latin)
        texts.append(Self.viMessage("not UTF-8") { try AnswersFile.load(from: latin.path) })

        // Answers for another exercise or student, and forms a question cannot take.
        let exercise = Self.vi { HomeworkCatalog.templates[0].make(student: "an") }
        texts.append(Self.viMessage("other exercise") {
            try HomeworkChecker.check(AnswersFile(exercise: "cam-2", student: nil, answers: []), against: exercise) })
        texts.append(Self.viMessage("other student") {
            try HomeworkChecker.check(AnswersFile(exercise: nil, student: "bình", answers: []), against: exercise) })
        texts.append(Self.viMessage("form, other student") {
            try FormatCheck.check(AnswersFile(exercise: nil, student: "bình", answers: []), exerciseID: "cam-1", student: "an",
                                  questions: [], mode: .practice) })
        let commas = try AnswersFile.parse("q2 = 1,000\nq3 = 0,5\nq1 = 1", name: "a.txt")
        try Self.vi {
            let report = try HomeworkChecker.check(commas, against: exercise)
            texts += report.results.compactMap(\.problem).map { ("commas", $0) }
            let form = try FormatCheck.check(commas, exerciseID: exercise.id, student: "an", questions: exercise.questions.map(ShapedQuestion.init), mode: .practice)
            texts += form.questions.compactMap(\.problem).map { ("form commas", $0) }
            for shape in [AnswerShape.number, .list(count: 1), .list(count: 3), .integer, .choice(optionCount: 4)] {
                for value in [AnswerValue.number(1.5), .vector([1, 2]), .vector([1]), .text("hello")] {
                    if let problem = shape.problem(with: value) { texts.append(("shape", problem)) }
                }
            }
        }

        // Exercise and student ids.
        for id in ["cam", "cam-9", "xyz"] {
            texts.append(Self.viMessage("exercise \(id)") { try HomeworkCatalog.exercise(id: id, student: "an") })
        }
        texts.append(Self.viMessage("lesson name") { try HomeworkCatalog.templates(named: "xyz") })
        for student in ["", "a b", ".an", String(repeating: "a", count: 70)] {
            texts.append(Self.viMessage("student \(student.prefix(5))") { try HomeworkCatalog.validateStudentID(student) })
        }
        texts.append(Self.viMessage("stems") { try StudentFileNames.stems(for: ["a/b", "a/b"]) })

        // Rosters: every problem at once.
        let rosters = ["", "name,email\nAn,a@b", "id,name\n\"an,An\n", "id,name\nan,An\nan,An 2\n,Nobody\na b,X\nchi,C,extra\n" +
                       String(repeating: "a", count: 70) + ",Long\n", "id,name\n"]
        for (index, source) in rosters.enumerated() {
            do {
                _ = try Self.vi { try Roster.parse(source, name: "roster.csv") }
                XCTFail("roster \(index): no error")
            } catch let error as RosterError {
                texts += Self.vi { error.problems.map { ("roster \(index)", $0) } }
                texts.append(("roster \(index) description", Self.vi { error.description }.replacingOccurrences(of: "roster.csv: ", with: "")))
            }
        }
        let latinRoster = folder.appendingPathComponent("roster.csv")
        try Data([0x69, 0x64, 0x0A, 0xE9, 0xFF]).write(to: latinRoster)
        texts.append(Self.viMessage("roster not UTF-8") { try Roster.read(from: latinRoster.path) })

        // Course files.
        let secret = String(repeating: "ab", count: 32)
        let courses = [
            "[]", "{\"format\": \"x\"}", "{\"format\": \"tutor-homework-course\"}", "{\"format\": \"tutor-homework-course\", \"version\": 2}",
            "{\"format\": \"tutor-homework-course\", \"version\": 1, \"name\": \"\"}",
            "{\"format\": \"tutor-homework-course\", \"version\": 1, \"name\": \"c\", \"secret\": \"ab\"}",
            "{\"format\": \"tutor-homework-course\", \"version\": 1, \"name\": \"c\", \"secret\": \"\(secret)\", \"due\": \"soon\"}",
            "{\"format\": \"tutor-homework-course\", \"version\": 1, \"name\": \"c\", \"secret\": \"\(secret)\", \"due_by_exercise\": 1}",
            "{\"format\": \"tutor-homework-course\", \"version\": 1, \"name\": \"c\", \"secret\": \"\(secret)\", \"due_by_exercise\": {\"x\": \"2026-03-01T00:00:00Z\"}}",
            "{\"format\": \"tutor-homework-course\", \"version\": 1, \"name\": \"c\", \"secret\": \"\(secret)\", \"due_by_exercise\": {\"cam-1\": \"soon\"}}",
            "{\"format\": \"tutor-homework-course\", \"version\": 1, \"name\": \"c\", \"secret\": \"\(secret)\", \"late\": {\"rule\": \"penalty\"}}",
            "{\"format\": \"tutor-homework-course\", \"version\": 1, \"name\": \"c\", \"secret\": \"\(secret)\", \"late\": {\"rule\": \"x\"}}",
        ]
        for (index, source) in courses.enumerated() {
            texts.append(Self.viMessage("course \(index)") { try Course.parse(Data(source.utf8), name: "c.json") })
        }
        texts.append(Self.viMessage("course too big") { try Course.parse(Data(repeating: 32, count: Course.maximumFileBytes + 1), name: "c.json") })
        texts.append(Self.viMessage("course secret") { try Course(name: "c", secret: Data(count: 3)) })
        let open = folder.appendingPathComponent("open.json")
        try course.write(to: open.path)
        for mode in [0o644, 0o640] {
            try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: open.path)
            texts.append(Self.viMessage("course mode \(mode)") { try Course.read(from: open.path) })
        }

        // Sheets.
        let sheets = [
            "[]", "{\"format\": \"x\", \"version\": 1, \"mode\": \"practice\", \"student\": \"an\", \"exercises\": []}",
            "{\"format\": \"tutor-homework-sheet\", \"version\": 2, \"mode\": \"practice\", \"student\": \"an\", \"exercises\": []}",
            "{\"format\": \"tutor-homework-sheet\", \"version\": 1, \"mode\": \"course\", \"student\": \"an\", \"exercises\": []}",
            "{\"format\": \"tutor-homework-sheet\", \"version\": 1, \"mode\": \"practice\", \"student\": \"an\", \"exercises\": [{\"exercise\": \"x\", \"title\": \"t\", \"questions\": []}]}",
            "{\"format\": \"tutor-homework-sheet\", \"version\": 1, \"mode\": \"practice\", \"student\": \"an\", \"exercises\": [{\"exercise\": \"cam-1\", \"title\": \"t\", \"questions\": [{\"id\": \"q1\", \"kind\": \"list\"}]}]}",
            "{\"format\": \"tutor-homework-sheet\", \"version\": 1, \"mode\": \"practice\", \"student\": \"an\", \"exercises\": [{\"exercise\": \"cam-1\", \"title\": \"t\", \"questions\": [{\"id\": \"q 1\", \"kind\": \"number\"}]}]}",
            "{\"format\": \"tutor-homework-sheet\", \"version\": 1, \"mode\": \"practice\", \"student\": \"an\"}",
            "{\"format\": \"tutor-homework-sheet\", \"version\": \"1\", \"mode\": \"practice\", \"student\": \"an\", \"exercises\": []}",
            "{\"format\": ",
        ]
        for (index, source) in sheets.enumerated() {
            texts.append(Self.viMessage("sheet \(index)") { try SheetFile.parse(Data(source.utf8), name: "s.json") })
        }
        texts.append(Self.viMessage("sheets into a file") {
            try SheetWriter.write([], formats: [.json], to: open.path) })

        // Folders that are not folders.
        texts.append(Self.viMessage("grade folder") { try Gradebook.grade(exerciseID: "cam-1", directory: open.path) })
        texts.append(Self.viMessage("class folder") {
            try ClassGradebook.grade(roster: Roster(students: []), templates: [], course: nil, directory: open.path) })
        texts.append(Self.viMessage("progress folder") {
            try StudentProgress.practice(student: "an", templates: [], directory: open.path) })

        XCTAssertFalse(texts.contains { $0.text.isEmpty })
        assertVietnameseOutsidePaths(texts)
    }
}

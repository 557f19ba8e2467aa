import Foundation
import XCTest
import MiniNet
@testable import Lessons

/// Rosters, file names made from ids, sheets without answers, and the form-only check.
final class SheetsTests: XCTestCase {
    let course = try! Course(name: "XAI 2026", secret: Data((0..<32).map { UInt8(255 - $0) }))

    func temporaryFolder() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("homework-sheets-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: folder) }
        return folder
    }

    func entry(_ id: String, _ name: String = "") -> RosterEntry { RosterEntry(id: id, name: name, email: "", line: 0) }

    // MARK: - Roster

    func testRosterAsSpreadsheetsWriteIt() throws {
        let text = "\u{FEFF}Email,ID,Name,Group\r\n"
            + "a@x.org,alice,\"Smith, Alice\",1\r\n"
            + "\r\n"
            + ",bob,\"Bob \"\"the builder\"\"\",\r\n"
            + "c@x.org, carol ,\"Carol\r\nsecond line\",2,\r\n"
            + "d@x.org,dave"  // no final line end, missing trailing cells
        let roster = try Roster.parse(text, name: "roster.csv")
        XCTAssertEqual(roster.students.map(\.id), ["alice", "bob", "carol", "dave"])
        XCTAssertEqual(roster.students.map(\.name), ["Smith, Alice", "Bob \"the builder\"", "Carol second line", ""])
        XCTAssertEqual(roster.students.map(\.line), [2, 4, 5, 7])
        XCTAssertEqual(roster.students[0].email, "a@x.org")
        // Old Mac line ends (CR) too.
        XCTAssertEqual(try Roster.parse("id\ralice\rbob\r", name: "r").students.map(\.id), ["alice", "bob"])
    }

    func testRosterIDsAreNormalisedToNFC() throws {
        try XCTSkipIf((try? HomeworkCatalog.validateStudentID("nguy\u{1EC5}n")) == nil, "student ids with Vietnamese letters are not accepted yet")
        // "nguyễn" with combining marks: the same student as the precomposed spelling.
        let roster = try Roster.parse("id\nnguye\u{302}\u{303}n\n", name: "r")
        XCTAssertEqual(Array(roster.students[0].id.unicodeScalars), Array("nguy\u{1EC5}n".unicodeScalars))
    }

    func testBadRosterRowsGetOneLineEachWithTheLineNumber() {
        let text = "id,name\nalice,A\nalice,again\n,no id\nx,\"never closed\n"
        XCTAssertThrowsError(try Roster.parse(text, name: "roster.csv")) { error in
            guard let error = error as? RosterError else { return XCTFail("\(error)") }
            XCTAssertEqual(error.lines, ["roster.csv: line 5: a quoted field is not closed"])
        }
        let rows = "id,name\nalice,A\nalice,again\n,no id\na b,c\nok,1,2\n\(String(repeating: "z", count: 500))\n"
        XCTAssertThrowsError(try Roster.parse(rows, name: "roster.csv")) { error in
            guard let error = error as? RosterError else { return XCTFail("\(error)") }
            XCTAssertEqual(error.problems.count, 5, "\(error.problems)")
            XCTAssertEqual(error.problems[0], "line 3: id `alice` is already on line 2")
            XCTAssertEqual(error.problems[1], "line 4: the id is empty")
            XCTAssertTrue(error.problems[2].hasPrefix("line 5: student id `a b`"), error.problems[2])
            XCTAssertEqual(error.problems[3], "line 6: 3 fields, but the header names 2 columns")
            XCTAssertTrue(error.problems[4].hasPrefix("line 7: id `zzz") && error.problems[4].count < 200, error.problems[4])
            for line in error.lines { XCTAssertFalse(line.contains("\n")) }
            XCTAssertTrue(error.description.hasSuffix("(and 4 more problems)"), error.description)
        }
        XCTAssertThrowsError(try Roster.parse("name,email\nA,a@x\n", name: "r")) { error in
            XCTAssertTrue("\(error)".contains("has no `id` column"), "\(error)")
        }
        XCTAssertThrowsError(try Roster.parse("", name: "r"))
        XCTAssertThrowsError(try Roster.parse("id\n\n", name: "r")) { error in
            XCTAssertTrue("\(error)".contains("no students"), "\(error)")
        }
    }

    // MARK: - File names

    func testFileNamesAreSafeAndUnique() throws {
        let ids = ["alice", "Bob", "bob", "a/b", "a?b", "CON", "con.x", ".hidden", "nguy\u{1EC5}n", "trailing.", "a\u{202E}b"]
        let stems = try StudentFileNames.stems(for: ids)
        XCTAssertEqual(stems["alice"], "alice")
        XCTAssertEqual(stems["nguy\u{1EC5}n"], "nguy\u{1EC5}n")  // letters of any script are kept
        XCTAssertTrue(stems["Bob"]!.hasPrefix("Bob-") && stems["bob"]!.hasPrefix("bob-"), "\(stems)")
        XCTAssertTrue(stems["a/b"]!.hasPrefix("a_b-") && stems["a?b"]!.hasPrefix("a_b-"), "\(stems)")
        XCTAssertTrue(stems["CON"]!.hasPrefix("_CON-") && stems["con.x"]!.hasPrefix("_con.x-"), "\(stems)")
        XCTAssertTrue(stems[".hidden"]!.hasPrefix("_hidden-"), "\(stems)")
        XCTAssertTrue(stems["trailing."]!.hasPrefix("trailing_-"), "\(stems)")
        XCTAssertTrue(stems["a\u{202E}b"]!.hasPrefix("a_b-"), "\(stems)")
        // Unique even on a file system that ignores case.
        XCTAssertEqual(Set(stems.values.map { $0.lowercased() }).count, ids.count)
        for stem in stems.values {
            XCTAssertFalse(stem.contains("/") || stem.hasPrefix("."), stem)
            XCTAssertLessThanOrEqual(stem.utf8.count, 120)
        }
        let long = String(repeating: "\u{1EC5}", count: 200)
        XCTAssertLessThanOrEqual(try StudentFileNames.stems(for: [long])[long]!.utf8.count, 120)
    }

    // MARK: - Sheets

    /// Every number in a JSON value, with the key path it is under.
    func numbers(in value: Any, path: [String] = []) -> [(path: [String], value: Double)] {
        switch value {
        case let object as [String: Any]:
            return object.flatMap { numbers(in: $0.value, path: path + [$0.key]) }
        case let array as [Any]:
            return array.flatMap { numbers(in: $0, path: path) }
        case let number as NSNumber:  // a Boolean too (`shared_per_number`)
            return [(path, number.doubleValue)]
        default:
            return []
        }
    }

    func testTheJSONSheetHoldsNoAnswer() throws {
        let templates = HomeworkCatalog.templates
        for student in ["alice", "bob", "carol"] {
            let sheet = HomeworkSheet(student: entry(student), templates: templates, course: course)
            let text = sheet.json(sheetFile: "x.json").rendered()
            let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
            let exercises = try XCTUnwrap(object["exercises"] as? [[String: Any]])
            XCTAssertEqual(exercises.count, templates.count)
            let allowedQuestionKeys: Set<String> = ["id", "prompt", "kind", "tolerance", "points", "answer_format", "count", "options",
                                                     "shared_per_number"]
            for (exerciseObject, exercise) in zip(exercises, sheet.exercises) {
                for question in try XCTUnwrap(exerciseObject["questions"] as? [[String: Any]]) {
                    XCTAssertTrue(Set(question.keys).isSubset(of: allowedQuestionKeys), "\(exercise.id): \(question.keys.sorted())")
                }
                // Outside `given` (the data of the exercise), every number is a form: a version,
                // a tolerance, points, a count or a maximum score; never a computed answer.
                for (path, _) in numbers(in: exerciseObject) where path.first != "given" {
                    // (`shared_per_number` is a Boolean, which JSONSerialization also reads as a number.)
                    XCTAssertTrue(["tolerance", "points", "count", "max_score", "shared_per_number"].contains(path.last ?? ""), "\(exercise.id): \(path)")
                }
                // And no key appears anywhere in the text in the form a key file writes it.
                let key = HomeworkChecker.key(for: exercise)
                for (questionID, value) in key.answers {
                    // Maps and other long lists; two numbers may well equal some pair in the data.
                    if case let .vector(values) = value, values.count >= 4 {
                        let written = JSONOutput.array(values.map { .number($0) }).rendered()
                        let inGiven = exercise.given.contains { given in
                            switch given.value {
                            case let .vector(data): return data == values
                            case let .matrix(rows): return rows.contains(values)
                            case .number: return false
                            }
                        }
                        XCTAssertTrue(inGiven || !text.contains(written), "\(exercise.id) \(questionID): \(written) is in the sheet")
                    }
                }
                XCTAssertFalse(text.contains("\"correct\"") || text.contains("\"expected\"") || text.contains("\"answer\""))
            }
            XCTAssertEqual(object["mode"] as? String, "course")
            XCTAssertEqual(object["course_id"] as? String, course.id)
            XCTAssertNil(object["secret"])
            XCTAssertFalse(text.contains(course.fileText().split(separator: "\"secret\": \"")[1].prefix(64)))
        }
    }

    func testTheJSONSheetReadsBackWithEveryQuestionsForm() throws {
        let templates = Array(HomeworkCatalog.templates.prefix(6))
        let sheet = HomeworkSheet(student: entry("alice", "Alice"), templates: templates, course: course)
        let read = try SheetFile.parse(Data(sheet.json(sheetFile: nil).rendered().utf8), name: "alice.json")
        XCTAssertEqual(read.student, "alice")
        XCTAssertEqual(read.mode, course.mode)
        XCTAssertEqual(read.exercises.map(\.exerciseID), templates.map(\.id))
        for (entry, exercise) in zip(read.exercises, sheet.exercises) {
            XCTAssertEqual(entry.questions, exercise.questions.map(ShapedQuestion.init))
        }
        let practice = try SheetFile.parse(Data(HomeworkSheet(student: entry("bob"), templates: templates, course: nil)
            .json(sheetFile: nil).rendered().utf8), name: "bob.json")
        XCTAssertEqual(practice.mode, .practice)

        for (text, expected) in [("{}", "`format` is missing"), ("[]", "has the wrong type"), ("nope", "not valid JSON"),
                                 ("{\"format\": \"x\", \"version\": 1, \"mode\": \"practice\", \"student\": \"a\", \"exercises\": []}", "is not a homework sheet")] {
            XCTAssertThrowsError(try SheetFile.parse(Data(text.utf8), name: "s.json")) { error in
                XCTAssertTrue("\(error)".hasPrefix("s.json: ") && "\(error)".contains(expected), "\(error)")
            }
        }
    }

    func testSheetsSayPracticeOrCourse() {
        let templates = [HomeworkCatalog.template(id: "cam-1")!]
        let practice = HomeworkSheet(student: entry("alice"), templates: templates, course: nil)
        let inCourse = HomeworkSheet(student: entry("alice"), templates: templates, course: course)
        for format in SheetFormat.allCases {
            XCTAssertTrue(practice.rendered(format, stem: "alice").contains("ractice"), "\(format)")
            XCTAssertTrue(inCourse.rendered(format, stem: "alice").contains(course.id), "\(format)")
        }
        XCTAssertTrue(inCourse.rendered(.markdown, stem: "alice").contains("check --sheet alice.json"))
        XCTAssertTrue(practice.rendered(.markdown, stem: "alice").contains("check EXERCISE --student alice"))
    }

    func testTheHTMLSheetIsSelfContainedAndEscaped() {
        let student = RosterEntry(id: "alice", name: "<script>alert('x')</script> & Co", email: "", line: 2)
        let html = HomeworkSheet(student: student, templates: HomeworkCatalog.templates, course: course).rendered(.html, stem: "alice")
        XCTAssertTrue(html.hasPrefix("<!DOCTYPE html>"))
        XCTAssertFalse(html.contains("<script"), "an id or name must never become markup")
        XCTAssertTrue(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; Co"))
        for external in ["http://", "https://", "src=", "<link", "@import"] {
            XCTAssertFalse(html.contains(external), external)
        }
        XCTAssertEqual(html.components(separatedBy: "<section>").count - 1, HomeworkCatalog.templates.count)
    }

    func testWritingSheetsNamesFilesSafelyAndListsThem() throws {
        let folder = try temporaryFolder().appendingPathComponent("sheets")
        let roster = try Roster.parse("id,name,email\nalice,\"Smith, Alice\",a@x\nAlice,Other,\n-cmd,Formula,\n", name: "r")
        let sheets = roster.students.map { HomeworkSheet(student: $0, templates: [HomeworkCatalog.template(id: "ig-1")!], course: course) }
        let written = try SheetWriter.write(sheets, formats: [.json, .html], to: folder.path)
        XCTAssertEqual(written.count, 3 * 2 + 1)
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path)
        XCTAssertEqual(Set(names.map { $0.lowercased() }).count, names.count)
        XCTAssertFalse(names.contains { $0.contains("partial") })
        let index = try String(contentsOf: folder.appendingPathComponent("sheets.csv"), encoding: .utf8)
        XCTAssertTrue(index.hasPrefix("student_id,name,email,json_file,html_file\n"), index)
        XCTAssertTrue(index.contains("alice,\"Smith, Alice\",a@x,"), index)
        XCTAssertTrue(index.contains("\n'-cmd,Formula,"), "a formula-like id is escaped: \(index)")
    }

    // MARK: - The form-only check

    func testTheFormCheckSaysTheSameForARightAndAWrongAnswer() throws {
        for template in HomeworkCatalog.templates {
            let exercise = template.make(student: "alice", course: course)
            let shapes = exercise.questions.map(ShapedQuestion.init)
            let key = HomeworkChecker.key(for: exercise)
            // A wrong answer of the same form: every number moved by 1000, every letter changed.
            let wrong = AnswersFile(exercise: key.exercise, student: key.student, answers: key.answers.map { item in
                switch item.value {
                case let .number(value): return (item.key, .number(value + 1_000))
                case let .vector(values): return (item.key, .vector(values.map { $0 + 1_000 }))
                case let .text(letter): return (item.key, .text(letter == "A" ? "B" : "A"))
                }
            })
            let right = try FormatCheck.check(key, exerciseID: exercise.id, student: "alice", questions: shapes, mode: course.mode)
            let rightRendering = HomeworkRendering.text(right)
            let wrongReport = try FormatCheck.check(wrong, exerciseID: exercise.id, student: "alice", questions: shapes, mode: course.mode)
            XCTAssertTrue(right.isWellFormed, "\(template.id)")
            XCTAssertEqual(right, wrongReport, "\(template.id): the form check must not tell right from wrong")
            XCTAssertEqual(rightRendering, HomeworkRendering.text(wrongReport))
            XCTAssertEqual(HomeworkRendering.json(right), HomeworkRendering.json(wrongReport))
        }
    }

    func testTheFormCheckNamesEveryFormProblem() throws {
        let questions = [
            ShapedQuestion(id: "q1", shape: .number), ShapedQuestion(id: "q2", shape: .list(count: 9)),
            ShapedQuestion(id: "q3", shape: .integer), ShapedQuestion(id: "q4", shape: .choice(optionCount: 3)),
            ShapedQuestion(id: "q5", shape: .number),
        ]
        let answers = try AnswersFile.parse("q1 = B\nq2 = 1, 2, 3\nq3 = 2.5\nq4 = D\nq9 = 1\n", name: "a.txt")
        let report = try FormatCheck.check(answers, exerciseID: "cam-2", student: "alice", questions: questions, mode: course.mode)
        XCTAssertEqual(report.questions.map(\.problem), [
            "line 1: expected a number, got the text `B`", "line 2: expected a list of 9 numbers, got 3",
            "line 3: expected a whole number, got 2.5", "line 4: expected one of the letters A, B, C, got `D`", "no answer for q5",
        ])
        // `0,5` for one number is 0.5, as the full check reads it; `1,000` is named as ambiguous.
        let commas = try AnswersFile.parse("q1 = 0,5\nq5 = 1,000\n", name: "c.txt")
        let commaReport = try FormatCheck.check(commas, exerciseID: "cam-2", student: "alice", questions: questions, mode: course.mode)
        XCTAssertNil(commaReport.questions[0].problem)
        XCTAssertTrue(commaReport.questions[4].problem?.hasPrefix("line 2: `1,000` could be") ?? false, "\(commaReport.questions[4])")
        XCTAssertEqual(report.unknownKeys, ["q9"])
        let fine = try AnswersFile.parse("q1 = 3/4\nq2 = [1,2,3,4,5,6,7,8,9]\nq3 = 2\nq4 = (c)\nq5 = -1\n", name: "b.txt")
        XCTAssertTrue(try FormatCheck.check(fine, exerciseID: "cam-2", student: "alice", questions: questions, mode: course.mode).isWellFormed)
        XCTAssertThrowsError(try FormatCheck.check(AnswersFile(exercise: "cam-1", student: nil, answers: []), exerciseID: "cam-2",
                                                   student: "alice", questions: questions, mode: course.mode))
        XCTAssertThrowsError(try FormatCheck.check(AnswersFile(exercise: nil, student: "bob", answers: []), exerciseID: "cam-2",
                                                   student: "alice", questions: questions, mode: course.mode))
    }
}

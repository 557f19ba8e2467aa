import Foundation
import XCTest
import MiniNet
@testable import Lessons

/// One gradebook for a class: missing, late, unknown, wrong-exercise and wrong-student files.
final class ClassGradebookTests: XCTestCase {
    let due = CourseDates.parseDue("2026-03-01T23:59:59Z")!

    func temporaryFolder() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("homework-class-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: folder) }
        return folder
    }

    func course(_ rule: LateRule) throws -> Course {
        try Course(name: "class", secret: Data(repeating: 7, count: 32), due: due, lateRule: rule)
    }

    /// Writes `text` at `relative` inside `folder`, dated `date`.
    func write(_ text: String, _ relative: String, in folder: URL, date: Date) throws {
        let url = folder.appendingPathComponent(relative)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
        try FileManager.default.setAttributes([.modificationDate: date], ofItemAtPath: url.path)
    }

    func key(_ exercise: String, _ student: String, _ course: Course) -> String {
        HomeworkRendering.text(HomeworkChecker.key(for: HomeworkCatalog.template(id: exercise)!.make(student: student, course: course)))
    }

    /// alice: both on time. bob: cam-1 two days late, cam-2 wrong exercise inside. carol: nothing.
    /// dave: cam-1 says it is alice's, cam-2 malformed, plus notes.pdf and ig-1.txt (not selected).
    /// mallory: not on the roster. loose.txt at the top.
    func makeClass(_ course: Course) throws -> (Roster, URL) {
        let folder = try temporaryFolder()
        let onTime = due.addingTimeInterval(-3_600), twoDaysLate = due.addingTimeInterval(86_400 + 60)
        try write(key("cam-1", "alice", course), "alice/cam-1.txt", in: folder, date: onTime)
        try write(key("cam-2", "alice", course), "alice/cam-2.txt", in: folder, date: onTime)
        try write(key("cam-1", "bob", course), "bob/cam-1.txt", in: folder, date: twoDaysLate)
        try write(key("cam-1", "bob", course), "bob/cam-2.txt", in: folder, date: onTime)
        try write(key("cam-1", "alice", course), "dave/cam-1.txt", in: folder, date: onTime)
        try write("{\"answers\": ", "dave/cam-2.json", in: folder, date: onTime)
        try write("not answers", "dave/notes.pdf", in: folder, date: onTime)
        try write("q1 = 1", "dave/ig-1.txt", in: folder, date: onTime)
        try write("q1 = 1", "dave/cam-9.txt", in: folder, date: onTime)
        try write(key("cam-1", "mallory", course), "mallory/cam-1.txt", in: folder, date: onTime)
        try write("hello", "loose.txt", in: folder, date: onTime)
        try write("", ".DS_Store", in: folder, date: onTime)
        let roster = try Roster.parse("id,name\nalice,Alice\nbob,Bob\ncarol,Carol\ndave,Dave\n", name: "roster.csv")
        return (roster, folder)
    }

    let templates = ["cam-1", "cam-2"].map { HomeworkCatalog.template(id: $0)! }

    func testGradebookMarksMissingLateUnknownAndWrongFiles() throws {
        let course = try course(.penaltyPerDay(percent: 10))
        let (roster, folder) = try makeClass(course)
        let book = try ClassGradebook.grade(roster: roster, templates: templates, course: course, directory: folder.path)
        XCTAssertEqual(book.rows.map(\.student.id), ["alice", "bob", "carol", "dave"])
        let maxCam1 = Double(templates[0].make(student: "x").maxScore), maxCam2 = Double(templates[1].make(student: "x").maxScore)
        XCTAssertEqual(book.maxTotal, maxCam1 + maxCam2)

        // alice: full marks, on time.
        XCTAssertEqual(book.rows[0].total, maxCam1 + maxCam2)
        // bob: cam-1 right but 2 started days late: 10% of the points off per day.
        guard case let .graded(late) = book.rows[1].cells[0] else { return XCTFail("bob cam-1 not graded") }
        XCTAssertEqual(late.daysLate, 2)
        XCTAssertEqual(late.rawScore, maxCam1)
        XCTAssertEqual(late.score, maxCam1 - 2 * 0.1 * maxCam1, accuracy: 1e-12)
        // bob: cam-2.txt holds a cam-1 key: wrong exercise, reported, not scored.
        guard case let .failed(path, problem) = book.rows[1].cells[1] else { return XCTFail("bob cam-2 graded") }
        XCTAssertEqual(path, "bob/cam-2.txt")
        XCTAssertTrue(problem.hasPrefix("says it is for exercise `cam-1`"), problem)
        // carol: nothing handed in.
        XCTAssertTrue(book.rows[2].cells.allSatisfy { if case .missing = $0 { return true } else { return false } })
        XCTAssertEqual(book.rows[2].total, 0)
        // dave: alice's file in dave's folder, and a malformed one.
        guard case let .failed(_, daveProblem) = book.rows[3].cells[0] else { return XCTFail("dave cam-1 graded") }
        XCTAssertTrue(daveProblem.hasPrefix("says it is for student `alice`"), daveProblem)
        guard case .failed = book.rows[3].cells[1] else { return XCTFail("dave cam-2 graded") }

        let issues = Dictionary(grouping: book.issues, by: \.path)
        XCTAssertEqual(issues["bob/cam-2.txt"]?.first?.kind, .wrongExercise)
        XCTAssertEqual(issues["dave/cam-1.txt"]?.first?.kind, .wrongStudent)
        XCTAssertEqual(issues["dave/cam-2.json"]?.first?.kind, .unreadable)
        XCTAssertEqual(issues["dave/notes.pdf"]?.first?.kind, .unknownFile)
        XCTAssertEqual(issues["dave/cam-9.txt"]?.first?.kind, .unknownFile)
        XCTAssertNil(issues["dave/ig-1.txt"])
        XCTAssertEqual(book.notSelected, ["dave/ig-1.txt"])
        XCTAssertEqual(issues["mallory"]?.first?.kind, .unknownStudent)
        XCTAssertEqual(issues["loose.txt"]?.first?.kind, .unknownFile)
        XCTAssertNil(issues[".DS_Store"])
        XCTAssertEqual(book.issues.count, 7, "\(book.issues.map(\.path))")
    }

    func testTheCSVHasOneRowPerRosterStudentAndListsEveryIssue() throws {
        let course = try course(.penaltyPerDay(percent: 10))
        let (roster, folder) = try makeClass(course)
        let book = try ClassGradebook.grade(roster: roster, templates: templates, course: course, directory: folder.path)
        let lines = book.csv.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        XCTAssertEqual(lines[0], "student_id,name,cam-1,cam-2,total,max_total,notes,mode")
        XCTAssertTrue(lines[1].hasPrefix("alice,Alice,\(formatNumber(book.rows[0].cells[0].score)),"), lines[1])
        XCTAssertTrue(lines[2].contains("cam-1 late 2 days"), lines[2])
        XCTAssertTrue(lines[3].hasPrefix("carol,Carol,missing,missing,0,"), lines[3])
        XCTAssertTrue(lines[3].contains("cam-1 missing; cam-2 missing"), lines[3])
        XCTAssertTrue(lines[4].hasPrefix("dave,Dave,error,error,0,"), lines[4])
        XCTAssertFalse(lines[4].contains("ig-1"), lines[4])
        for fragment in ["dave/notes.pdf is not an answers file", "dave/cam-9.txt is not named by an exercise id",
                         "says it is for student `alice`"] {
            XCTAssertTrue(lines[4].contains(fragment), "\(fragment): \(lines[4])")
        }
        // Everything outside the roster gets a row of its own below it.
        XCTAssertTrue(lines[5].hasPrefix("loose.txt,,,,,,"), lines[5])
        XCTAssertTrue(lines[6].hasPrefix("mallory,,,,,,mallory is not a student on the roster (1 file not graded)"), lines[6])
        XCTAssertEqual(lines.last, "")
        for line in lines.dropFirst().dropLast() { XCTAssertTrue(line.hasSuffix(",course \(course.id)"), line) }

        let json = book.json().rendered()
        XCTAssertTrue(json.contains("\"kind\": \"wrong_student\""))
        XCTAssertTrue(json.contains("\"days_late\": 2"))
        XCTAssertTrue(json.contains("\"not_selected\": [\n    \"dave/ig-1.txt\"\n  ]"), json)
    }

    func testLateRulesMarkOrZero() throws {
        for (rule, expected) in [(LateRule.markOnly, nil), (.zero, 0.0)] as [(LateRule, Double?)] {
            let course = try course(rule)
            let (roster, folder) = try makeClass(course)
            let book = try ClassGradebook.grade(roster: roster, templates: templates, course: course, directory: folder.path)
            guard case let .graded(late) = book.rows[1].cells[0] else { return XCTFail("not graded") }
            XCTAssertEqual(late.daysLate, 2)
            XCTAssertEqual(late.score, expected ?? late.rawScore)
            XCTAssertTrue(book.notes(for: book.rows[1]).contains { $0.hasPrefix("cam-1 late 2 days") })
        }
    }

    func testPracticeNumbersDoNotPassInACourse() throws {
        let course = try course(.markOnly)
        let folder = try temporaryFolder()
        // A student who printed the practice key (`homework key cam-1 --student alice`) and handed it in.
        try write(HomeworkRendering.text(HomeworkChecker.key(for: templates[0].make(student: "alice"))), "alice/cam-1.txt",
                  in: folder, date: due)
        let roster = try Roster.parse("id\nalice\n", name: "r")
        let book = try ClassGradebook.grade(roster: roster, templates: [templates[0]], course: course, directory: folder.path)
        XCTAssertLessThan(book.rows[0].total, Double(templates[0].make(student: "x").maxScore))
        XCTAssertEqual(book.mode, course.mode)
        let practice = try ClassGradebook.grade(roster: roster, templates: [templates[0]], course: nil, directory: folder.path)
        XCTAssertEqual(practice.rows[0].total, Double(templates[0].make(student: "x").maxScore))
        XCTAssertTrue(practice.csv.split(separator: "\n")[1].hasSuffix(",practice"))
    }

    func testStudentFoldersMatchByIDInNFCOrBySheetFileName() throws {
        let course = try course(.markOnly)
        let folder = try temporaryFolder()
        let composed = "nguy\u{1EC5}n"
        // macOS may hand back the folder name decomposed; `sheets` named files "Alice-<hash>" for a case clash.
        // Without its `student` line: whether an answers file may name a Unicode id is the parser's business.
        let unnamed = key("cam-1", composed, course).split(separator: "\n").filter { !$0.hasPrefix("student") }.joined(separator: "\n")
        try write(unnamed, "nguye\u{302}\u{303}n/cam-1.txt", in: folder, date: due)
        let stems = try StudentFileNames.stems(for: ["alice", "Alice"])
        try write(key("cam-1", "Alice", course), "\(stems["Alice"]!)/cam-1.txt", in: folder, date: due)
        let roster = Roster(students: [RosterEntry(id: composed, name: "", email: "", line: 2),
                                       RosterEntry(id: "alice", name: "", email: "", line: 3),
                                       RosterEntry(id: "Alice", name: "", email: "", line: 4)])
        let book = try ClassGradebook.grade(roster: roster, templates: [templates[0]], course: course, directory: folder.path)
        let full = Double(templates[0].make(student: "x").maxScore)
        XCTAssertEqual(book.rows.map(\.total), [full, 0, full])
        XCTAssertEqual(book.issues, [])
    }

    func testStatisticsCountTheCommonWrongAnswers() throws {
        let course = try course(.markOnly)
        let folder = try temporaryFolder()
        let ids = ["s1", "s2", "s3", "s4"]
        for id in ids {
            let exercise = templates[0].make(student: id, course: course)
            var answers = HomeworkChecker.key(for: exercise)
            // Three students write 0 for q2; s4 leaves q3 out and picks the wrong class in q4.
            if id != "s4" { answers.answers[1].value = .number(0) }
            if id == "s4" {
                answers.answers.remove(at: 2)
                if case let .choice(correct) = exercise.questions[3].expected {
                    answers.answers[2].value = .text(Question.letter(1 - correct))
                }
            }
            try write(HomeworkRendering.text(answers), "\(id)/cam-1.txt", in: folder, date: due)
        }
        let roster = try Roster.parse("id\n" + ids.joined(separator: "\n"), name: "r")
        let book = try ClassGradebook.grade(roster: roster, templates: [templates[0]], course: course, directory: folder.path)
        let stats = book.statistics
        XCTAssertEqual(stats.map(\.questionID), ["q1", "q2", "q3", "q4"])
        XCTAssertEqual(stats[0].meanPoints, 1)
        XCTAssertEqual(stats[1].wrong, 3)
        XCTAssertEqual(stats[1].meanPoints, 0.25)
        XCTAssertEqual(stats[1].commonWrongAnswers.first?.answer, "0")
        XCTAssertEqual(stats[1].commonWrongAnswers.first?.count, 3)
        XCTAssertEqual(stats[2].unanswered, 1)
        // A letter is counted as the option it stands for: letters are shuffled per student.
        let s4 = templates[0].make(student: "s4", course: course).questions[3]
        guard case let .choice(correct) = s4.expected else { return XCTFail("q4 is not a choice") }
        XCTAssertEqual(stats[3].commonWrongAnswers.map(\.answer), [s4.options[1 - correct]])
        XCTAssertTrue(book.statisticsCSV.hasPrefix("exercise,question,max_points,graded,mean_points,full_marks,wrong,unanswered,common_wrong_answers\n"))
        XCTAssertTrue(book.statisticsCSV.contains("cam-1,q2,1,4,0.25,1,3,0,0 (3×)\n"), book.statisticsCSV)
    }
}

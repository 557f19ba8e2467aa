import Foundation
import MiniNet
import XCTest

/// The class commands run as a teacher and a student would: course, sheets, check --sheet,
/// grade, progress. Every output flag writes through a temporary and a rename, so a failed
/// write leaves no partial file and an older file as it was.
extension CommandLineTests {
    /// A name that is allowed, but whose temporary (".NAME.partial-PID-UUID") passes the 255-byte
    /// limit of a file name, so the write fails even for root.
    func unwritableName(_ ext: String) -> String { String(repeating: "g", count: 236) + "." + ext }

    func partialFiles(in folder: URL) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.contains("partial") }
    }

    /// course.json, roster.csv with alice and bob, and sheets/ for cam-1 and cam-2, in a new folder.
    func makeCourse() throws -> (folder: URL, course: String, roster: String, sheets: URL) {
        let folder = try temporaryFolder()
        let course = folder.appendingPathComponent("course.json").path
        let made = try run(["homework", "course", "new", "--out", course, "--name", "Test course", "--due", "2026-03-01"])
        XCTAssertEqual(made.status, 0, made.errors)
        let roster = folder.appendingPathComponent("roster.csv").path
        try Data("\u{FEFF}id,name\r\nalice,Alice\r\nbob,Bob\r\n".utf8).write(to: URL(fileURLWithPath: roster))
        let sheets = folder.appendingPathComponent("sheets")
        let wrote = try run(["homework", "sheets", "--course", course, "--roster", roster, "--out", sheets.path,
                             "--exercises", "cam-1,cam-2", "--format", "json", "--format", "html"])
        XCTAssertEqual(wrote.status, 0, wrote.errors)
        return (folder, course, roster, sheets)
    }

    func testCourseNewWritesAnOwnerOnlyFileOnceAndNeverPartly() throws {
        let folder = try temporaryFolder()
        let course = folder.appendingPathComponent("course.json").path
        XCTAssertEqual(try run(["homework", "course", "new", "--out", course]).status, 0)
        var info = stat()
        XCTAssertEqual(stat(course, &info), 0)
        XCTAssertEqual(info.st_mode & 0o777, 0o600)
        let first = try Data(contentsOf: URL(fileURLWithPath: course))
        try assertOneLineFailure(["homework", "course", "new", "--out", course], mentions: "pass --force to replace it")
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: course)), first)
        XCTAssertEqual(try run(["homework", "course", "new", "--out", course, "--force"]).status, 0)
        XCTAssertNotEqual(try Data(contentsOf: URL(fileURLWithPath: course)), first)

        let unwritable = folder.appendingPathComponent(unwritableName("json")).path
        try assertOneLineFailure(["homework", "course", "new", "--out", unwritable], mentions: "cannot create file")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path), ["course.json"])

        let shown = try run(["homework", "course", "show", course, "--json"])
        XCTAssertEqual(shown.status, 0, shown.errors)
        XCTAssertFalse(shown.output.contains("secret"), shown.output)
        XCTAssertEqual(chmod(course, 0o644), 0)
        try assertOneLineFailure(["homework", "key", "cam-1", "--student", "alice", "--course", course], mentions: "chmod 600")
        for arguments in [["--late-penalty", "0", "--due", "2026-03-01"], ["--late-penalty", "5"], ["--late", "zero", "--late-penalty", "5", "--due", "2026-03-01"],
                          ["--due", "2026-02-30"], ["--due-for", "cam-9=2026-03-01"]] {
            try assertOneLineFailure(["homework", "course", "new", "--out", folder.appendingPathComponent("other.json").path] + arguments,
                                     mentions: arguments[0])
        }
    }

    func testSheetsThatCannotBeWrittenLeaveTheOldOnesAndNoPartialFile() throws {
        let setup = try makeCourse()
        let old = try Data(contentsOf: setup.sheets.appendingPathComponent("alice.json"))
        try Data("the previous sheet".utf8).write(to: setup.sheets.appendingPathComponent("alice.json"))
        let result = try run(["homework", "sheets", "--course", setup.course, "--roster", setup.roster, "--out", setup.sheets.path,
                              "--all", "--format", "json"], fileSizeLimit: 2)
        XCTAssertNotEqual(result.status, 0)
        XCTAssertEqual(result.errors.split(separator: "\n").count, 1, result.errors)
        XCTAssertTrue(result.errors.contains("alice.json"), result.errors)
        XCTAssertEqual(try String(contentsOf: setup.sheets.appendingPathComponent("alice.json"), encoding: .utf8), "the previous sheet")
        XCTAssertEqual(try partialFiles(in: setup.sheets), [])
        XCTAssertGreaterThan(old.count, 2048)  // so the 1 KiB limit above did cut the write
    }

    func testBadRosterRowsAreEachOneLineAndNoSheetIsWritten() throws {
        let folder = try temporaryFolder()
        let roster = folder.appendingPathComponent("roster.csv").path
        try Data("id,name\nalice,A\nalice,B\n\"unclosed,x\n".utf8).write(to: URL(fileURLWithPath: roster))
        let out = folder.appendingPathComponent("sheets")
        let result = try run(["homework", "sheets", "--roster", roster, "--out", out.path, "--all"])
        XCTAssertEqual(result.status, 2)
        XCTAssertEqual(result.errors, "tutor: error: \(roster): line 4: a quoted field is not closed\n")
        try Data("id,name\nalice,A\nalice,B\n,C\n".utf8).write(to: URL(fileURLWithPath: roster))
        let twice = try run(["homework", "sheets", "--roster", roster, "--out", out.path, "--all"])
        XCTAssertEqual(twice.errors.split(separator: "\n").map(String.init),
                       ["tutor: error: \(roster): line 3: id `alice` is already on line 2", "tutor: error: \(roster): line 4: the id is empty"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.path))
    }

    func testCheckWithASheetTellsTheFormOnly() throws {
        let setup = try makeCourse()
        let key = try run(["homework", "key", "cam-2", "--student", "alice", "--course", setup.course])
        XCTAssertEqual(key.status, 0, key.errors)
        let right = setup.folder.appendingPathComponent("right.txt"), wrong = setup.folder.appendingPathComponent("wrong.txt")
        try Data(key.output.utf8).write(to: right)
        let wrongText = key.output.split(separator: "\n").map { line -> String in
            guard line.hasPrefix("q"), let equals = line.firstIndex(of: "=") else { return String(line) }
            let values = line[line.index(after: equals)...].split(separator: ",").map { String(Int(Double($0.trimmingCharacters(in: .whitespaces))! + 100)) }
            return line[..<equals] + "= " + values.joined(separator: ", ")
        }.joined(separator: "\n")
        try Data(wrongText.utf8).write(to: wrong)
        let sheet = setup.sheets.appendingPathComponent("alice.json").path
        let rightCheck = try run(["homework", "check", "--sheet", sheet, "--answers", right.path])
        let wrongCheck = try run(["homework", "check", "--sheet", sheet, "--answers", wrong.path])
        XCTAssertEqual(rightCheck.status, 0, rightCheck.errors)
        XCTAssertEqual(wrongCheck.status, 0, wrongCheck.errors)
        XCTAssertEqual(rightCheck.output, wrongCheck.output, "the form check must not tell right from wrong")
        XCTAssertTrue(rightCheck.output.contains("Test course"), rightCheck.output)
        // The teacher, with the course file, sees the difference.
        let full = try run(["homework", "check", "cam-2", "--student", "alice", "--course", setup.course, "--answers", wrong.path])
        XCTAssertEqual(full.status, 1)
        // The practice key of the same exercise is not the course's.
        let practice = try run(["homework", "key", "cam-2", "--student", "alice"])
        XCTAssertNotEqual(practice.output.split(separator: "\n").dropFirst(), key.output.split(separator: "\n").dropFirst())
        XCTAssertTrue(practice.output.contains("(practice)"), practice.output)

        try assertOneLineFailure(["homework", "check", "--sheet", sheet, "--course", setup.course, "--answers", right.path], mentions: "--sheet")
        try assertOneLineFailure(["homework", "check", "--sheet", sheet, "--student", "bob", "--answers", right.path], mentions: "not of --student bob")
        try assertOneLineFailure(["homework", "check", "--sheet", right.path, "--answers", right.path], mentions: "is not a homework sheet")
    }

    func testGradeOutputsThatCannotBeWrittenLeaveNoPartialFile() throws {
        let setup = try makeCourse()
        let submissions = setup.folder.appendingPathComponent("submissions/alice")
        try FileManager.default.createDirectory(at: submissions, withIntermediateDirectories: true)
        let key = try run(["homework", "key", "cam-1", "--student", "alice", "--course", setup.course])
        try Data(key.output.utf8).write(to: submissions.appendingPathComponent("cam-1.txt"))
        let base = ["homework", "grade", "--course", setup.course, "--roster", setup.roster,
                    "--submissions", submissions.deletingLastPathComponent().path, "--exercises", "cam-1,cam-2"]

        let csv = setup.folder.appendingPathComponent("grades.csv").path
        let stats = setup.folder.appendingPathComponent("stats.csv").path
        let graded = try run(base + ["--csv", csv, "--stats", stats])
        XCTAssertEqual(graded.status, 0, graded.errors)
        XCTAssertTrue(try String(contentsOfFile: csv, encoding: .utf8).contains("\nbob,Bob,missing,missing,0,"))
        XCTAssertTrue(try String(contentsOfFile: stats, encoding: .utf8).hasPrefix("exercise,question,"))
        // A folder with the whole term's work, graded one exercise at a time: the others are
        // left out in one line, not reported as problems.
        let onlyCam2 = try run(Array(base.dropLast(2)) + ["--exercises", "cam-2", "--csv", setup.folder.appendingPathComponent("cam-2.csv").path])
        XCTAssertEqual(onlyCam2.status, 0, onlyCam2.errors)
        XCTAssertEqual(onlyCam2.errors, "")
        XCTAssertTrue(onlyCam2.output.contains("Left out 1 answers file, for an exercise not selected here: alice/cam-1.txt."),
                      onlyCam2.output)

        for (flag, name) in [("--csv", unwritableName("csv")), ("--stats", unwritableName("stats.csv"))] {
            let path = setup.folder.appendingPathComponent(name).path
            try Data("the previous file".utf8).write(to: URL(fileURLWithPath: path))
            let arguments = flag == "--csv" ? base + ["--csv", path] : base + ["--csv", csv, "--stats", path]
            let result = try run(arguments)
            XCTAssertEqual(result.status, 2, result.errors)
            XCTAssertEqual(result.errors.split(separator: "\n").count, 1, result.errors)
            XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "the previous file", flag)
            XCTAssertEqual(try partialFiles(in: setup.folder), [], flag)
        }

        let json = try run(base + ["--csv", csv, "--json"])
        XCTAssertEqual(json.status, 0, json.errors)
        let object = try JSONSerialization.jsonObject(with: Data(json.output.utf8)) as? [String: Any]
        XCTAssertEqual(object?["mode"] as? String, "course")
        try assertOneLineFailure(["homework", "grade", "--course", setup.course, "--submissions", "x", "--csv", csv, "--all"], mentions: "--roster")
        try assertOneLineFailure(base.filter { $0 != "--exercises" && $0 != "cam-1,cam-2" } + ["--csv", csv], mentions: "--exercises")
    }

    func testProgressListsDoneExercisesAndTheNextOne() throws {
        let setup = try makeCourse()
        let answers = setup.folder.appendingPathComponent("answers")
        try FileManager.default.createDirectory(at: answers, withIntermediateDirectories: true)
        let key = try run(["homework", "key", "cam-1", "--student", "alice"])
        try Data(key.output.utf8).write(to: answers.appendingPathComponent("cam-1.txt"))
        let practice = try run(["homework", "progress", "--student", "alice", "--answers-dir", answers.path, "--lesson", "cam"])
        XCTAssertEqual(practice.status, 0, practice.errors)
        XCTAssertTrue(practice.output.contains("1/3 done"), practice.output)
        XCTAssertTrue(practice.output.contains("Next: cam-2"), practice.output)
        let sheet = setup.sheets.appendingPathComponent("alice.json").path
        let course = try run(["homework", "progress", "--student", "alice", "--sheet", sheet, "--answers-dir", answers.path, "--json"])
        XCTAssertEqual(course.status, 0, course.errors)
        let object = try JSONSerialization.jsonObject(with: Data(course.output.utf8)) as? [String: Any]
        XCTAssertEqual(object?["mode"] as? String, "course")
        XCTAssertEqual(object?["next"] as? String, "cam-2")
        XCTAssertFalse(course.output.contains("\"score\""), "course progress shows the form only: \(course.output)")
    }
}

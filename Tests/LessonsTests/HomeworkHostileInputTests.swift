import Foundation
import XCTest
import MiniNet
@testable import Lessons

/// Regression tests for the hostile answers files and grade sheets of issue 11. Each file is
/// made here, small, from the shape that broke the reader.
final class HostileInputHomeworkTests: XCTestCase {
    func temporaryFolder() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("homework-hostile-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }

    /// The one-line message of the error `body` throws (see `oneLineErrorMessage`).
    func message(_ body: () throws -> Any) -> String { oneLineErrorMessage(body) }

    func write(_ text: String, named name: String, in folder: URL) throws -> String {
        let path = folder.appendingPathComponent(name).path
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    // MARK: 1. Nesting and linear time

    func testDeeplyNestedJSONIsRefusedNotAStackOverflow() {
        let deep = "{\"answers\": {\"q1\": " + String(repeating: "[", count: 200_000) + "}}"
        XCTAssertEqual(message { try AnswersFile.parse(deep, name: "deep.json") },
                       "deep.json: line 1: the JSON is nested 65 levels deep, over the limit of 64")
        // 64 levels are allowed: the answers object is level 2, so 62 arrays reach 64.
        let limit = "{\"answers\": {\"q1\": " + String(repeating: "[", count: 62) + String(repeating: "]", count: 62) + "}}"
        XCTAssertEqual(message { try AnswersFile.parse(limit, name: "ok.json") },
                       "ok.json: line 1: key `q1`: lists may hold only numbers")
    }

    func testParsingIsLinearInTheNumberOfKeys() throws {
        // 120,000 keys took 31 s when each key was checked against all the earlier ones; read
        // linearly they take about 3 s per format in a debug build, so 20 s leaves room for a busy machine.
        var limits = AnswerFileLimits.standard
        limits.keys = 200_000
        let count = 120_000
        let json = "{\"answers\": {" + (0..<count).map { "\"k\($0)\": \($0)" }.joined(separator: ",\n") + "}}"
        let text = (0..<count).map { "k\($0) = \($0)" }.joined(separator: "\n")
        for (format, source) in [("json", json), ("text", text)] {
            let start = Date()
            let file = try AnswersFile.parse(source, name: format, limits: limits)
            XCTAssertEqual(file.answers.count, count)
            XCTAssertLessThan(Date().timeIntervalSince(start), 20, "\(format): parsing is not linear")
        }
    }

    // MARK: 2. Limits

    func testLimitsAreCheckedAndNamed() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let limits = AnswerFileLimits.standard
        XCTAssertEqual(limits.fileBytes, 1 << 20)

        let big = try write("q1 = 1\n" + String(repeating: "#", count: limits.fileBytes), named: "big.txt", in: folder)
        XCTAssertEqual(message { try AnswersFile.read(from: big) },
                       "\(big): is 1048583 bytes, over the limit of 1048576 bytes for an answers file")

        let manyKeys = (1...limits.keys + 1).map { "\"q\($0)\": 1" }.joined(separator: ", ")
        XCTAssertEqual(message { try AnswersFile.parse("{\"answers\": {\(manyKeys)}}", name: "a.json") },
                       "a.json: line 1: key number 1001 is over the limit of 1000 keys")
        let manyLines = (1...limits.keys + 1).map { "q\($0) = 1" }.joined(separator: "\n")
        XCTAssertEqual(message { try AnswersFile.parse(manyLines, name: "a.txt") },
                       "a.txt: line 1001: key number 1001 is over the limit of 1000 keys")

        let longString = String(repeating: "x", count: 5_000)
        XCTAssertEqual(message { try AnswersFile.parse("{\"answers\": {\"q1\": \"\(longString)\"}}", name: "a.json") },
                       "a.json: line 1: a string of 5000 characters is over the limit of 4096")
        XCTAssertEqual(message { try AnswersFile.parse("q1 = \(longString)", name: "a.txt") },
                       "a.txt: line 1: the line is 5005 characters long, over the limit of 4096")
        XCTAssertEqual(message { try AnswersFile.parse("student = \(String(repeating: "a", count: 65))", name: "a.txt") },
                       "a.txt: line 1: `student` is 65 characters long, over the limit of 64")
        XCTAssertEqual(message { try AnswersFile.parse("q1 = \(String(repeating: "B", count: 65))", name: "a.txt") },
                       "a.txt: line 1: `q1`: the text answer is 65 characters long, over the limit of 64")
    }

    // MARK: 3. JSON numbers

    func testJSONNumbersFollowRFC8259() throws {
        for bad in ["0x10", "01", "+1", ".5", "1.", "-", "--1", "1e", "1e+", "0.5.1", "NaN", "Infinity", "-inf", "1e999", "0b1", "1_000"] {
            XCTAssertEqual(message { try AnswersFile.parse("{\"answers\": {\"q1\": \(bad)}}", name: "a.json") },
                           "a.json: line 1: `\(bad)` is not a JSON value", bad)
        }
        for (good, value) in [("0", 0.0), ("-0", 0), ("10", 10), ("1.5e-3", 0.0015), ("-0.25E+2", -25), ("2E2", 200)] {
            XCTAssertEqual(try AnswersFile.parse("{\"answers\": {\"q1\": \(good)}}", name: "a.json").value(for: "q1"),
                           .number(value), good)
        }
    }

    func testWindowsLineEndsAndByteOrderMarkAreRead() throws {
        let text = try AnswersFile.parse("\u{FEFF}student = alice\r\nq1 = 1, 2\r\nq2 = B\r\n", name: "a.txt")
        XCTAssertEqual(text, AnswersFile(exercise: nil, student: "alice", answers: [("q1", .vector([1, 2])), ("q2", .text("B"))]))
        let json = try AnswersFile.parse("\u{FEFF}{\"answers\": {\"q1\": 1}}\r\n", name: "a.json")
        XCTAssertEqual(json.value(for: "q1"), .number(1))
    }

    func testJSONEscapesIncludingSurrogatePairs() throws {
        let file = try AnswersFile.parse(#"{"answers": {"q1": "\u00e9", "q2": "\ud83d\ude00"}}"#, name: "a.json")
        XCTAssertEqual(file.value(for: "q1"), .text("é"))
        XCTAssertEqual(file.value(for: "q2"), .text("😀"))
        for bad in [#"\ud83d"#, #"\u12"#, #"\u+041"#, #"\x41"#] {
            XCTAssertTrue(message { try AnswersFile.parse("{\"answers\": {\"q1\": \"\(bad)\"}}", name: "a.json") }.hasPrefix("a.json: line 1: bad"), bad)
        }
    }

    // MARK: 4. Names given twice

    func testExerciseOrStudentGivenTwiceIsRefused() {
        XCTAssertEqual(message { try AnswersFile.parse("student = alice\nq1 = 1\nstudent = bob\n", name: "a.txt") },
                       "a.txt: line 3: `student` is given twice")
        XCTAssertEqual(message { try AnswersFile.parse("exercise = cam-1\nexercise = cam-1\n", name: "a.txt") },
                       "a.txt: line 2: `exercise` is given twice")
        XCTAssertEqual(message { try AnswersFile.parse("{\"student\": \"alice\",\n\"student\": \"bob\", \"answers\": {}}", name: "a.json") },
                       "a.json: line 2: `student` is given twice")
        XCTAssertEqual(message { try AnswersFile.parse("{\"answers\": {},\n\"answers\": {\"q1\": 1}}", name: "a.json") },
                       "a.json: line 2: key `answers` is given twice")
    }

    // MARK: 5. Bounded, escaped summaries

    func testBadValuesAreQuotedAsShortEscapedSummaries() throws {
        XCTAssertEqual(boundedSummary("alice"), "alice")
        XCTAssertEqual(boundedSummary("a\nb\tc\r\u{202E}d\u{0}"), "a\\nb\\tc\\r\\u{202E}d\\u{0}")
        XCTAssertEqual(boundedSummary(String(repeating: "x", count: 1_000)), String(repeating: "x", count: 40) + "…")
        XCTAssertEqual(boundedSummary(String(repeating: "\n", count: 30)), String(repeating: "\\n", count: 20) + "…")

        XCTAssertEqual(message { try AnswersFile.parse("{\"student\": \"alice\\nerror: forged\", \"answers\": {}}", name: "a.json") },
                       "a.json: line 1: `student` `alice\\nerror: forged` may only use letters, digits, '-', '_' and '.'")
        XCTAssertEqual(message { try AnswersFile.parse("{\"answers\": {\"q1\\n\": 1}}", name: "a.json") },
                       "a.json: line 1: key `q1\\n` is not a question id such as q1 (letters, digits, '_', '-', '.'; at most 64 characters)")
        XCTAssertEqual(message { try AnswersFile.parse("{\"answers\": {\"q1\": \"B\\r\\n\"}}", name: "a.json") },
                       "a.json: line 1: `q1`: the text answer `B\\r\\n` holds control characters")
        let longLine = "q1 " + String(repeating: "y", count: 3_000)
        XCTAssertEqual(message { try AnswersFile.parse(longLine, name: "a.txt") },
                       "a.txt: line 1: expected `name = value`, found `q1 \(String(repeating: "y", count: 37))…`")

        // A file name with a line break, graded in a folder: its row's error is one short line.
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        _ = try write("q1 = 1\n", named: "mallory\nerror: alice cheated.txt", in: folder)
        let gradebook = try Gradebook.grade(exerciseID: "cam-1", directory: folder.path)
        let error = try XCTUnwrap(gradebook.rows.first?.error)
        XCTAssertEqual(error, "file name `mallory\\nerror: alice cheated.txt` is not a student id (letters, digits, '-', '_' and '.')")
    }

    // MARK: 6. Only regular files

    func testOnlyRegularFilesAreRead() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let fifo = folder.appendingPathComponent("fifo.json").path
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        // Reading a FIFO that no one writes would block forever; it is refused before opening.
        XCTAssertEqual(message { try AnswersFile.read(from: fifo) }, "\(fifo): is a FIFO (named pipe), not a regular file")
        XCTAssertEqual(message { try AnswersFile.read(from: folder.path) }, "\(folder.path): is a directory, not a regular file")
        XCTAssertEqual(message { try AnswersFile.read(from: "/dev/zero") }, "/dev/zero: is a character device, not a regular file")

        // In a class folder they are error rows, and the other students are still graded.
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("bob.json"), withIntermediateDirectories: false)
        let key = HomeworkChecker.key(for: try HomeworkCatalog.exercise(id: "cam-1", student: "alice"))
        _ = try write(HomeworkRendering.text(key), named: "alice.txt", in: folder)
        let gradebook = try Gradebook.grade(exerciseID: "cam-1", directory: folder.path)
        XCTAssertEqual(gradebook.rows.map(\.student), ["alice", "bob", "fifo"])
        XCTAssertEqual(gradebook.rows[0].report?.allPassed, true)
        XCTAssertTrue(gradebook.rows[1].error?.hasSuffix("bob.json: is a directory, not a regular file") ?? false)
        XCTAssertTrue(gradebook.rows[2].error?.hasSuffix("fifo.json: is a FIFO (named pipe), not a regular file") ?? false)
    }

    // MARK: 7. Spreadsheet injection

    func testGradeSheetCellsNeverStartAFormula() throws {
        XCTAssertEqual(Gradebook.csvField("=HYPERLINK(\"http://x\",\"y\")"), "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\"")
        XCTAssertEqual(Gradebook.csvField("@SUM(1+1)"), "'@SUM(1+1)")
        XCTAssertEqual(Gradebook.csvField("+1+2"), "'+1+2")
        XCTAssertEqual(Gradebook.csvField("-2+3"), "'-2+3")
        XCTAssertEqual(Gradebook.csvField("\t=1"), "'\t=1")
        XCTAssertEqual(Gradebook.csvField("\r=1"), "\"'\r=1\"")
        XCTAssertEqual(Gradebook.csvField("a\r\nb"), "\"a\r\nb\"")
        XCTAssertEqual(Gradebook.csvField("alice"), "alice")
        XCTAssertEqual(Gradebook.csvField("a=b"), "a=b")

        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        for name in ["=HYPERLINK(\"http:evil\",\"x\").json", "@SUM(1+1).txt", "+1+2.txt", "-bob.txt"] {
            _ = try write("q1 = 1\n", named: name, in: folder)
        }
        let gradebook = try Gradebook.grade(exerciseID: "cam-1", directory: folder.path)
        let cells = gradebook.csv.split(separator: "\n").dropFirst().map { String($0) }
        XCTAssertEqual(cells.count, 4)
        for line in cells {
            let first = line.hasPrefix("\"") ? line.dropFirst().first : line.first
            XCTAssertEqual(first, "'", line)
        }
        XCTAssertTrue(cells.contains { $0.hasPrefix("'-bob,0,") }, "\(cells)")  // a valid id, graded, but still escaped
    }

    // MARK: 8. Atomic writes

    func testAFailedWriteLeavesTheOldGradeSheet() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        // A 240-character name is allowed, but the temporary name beside it ("." + name +
        // ".partial-PID-UUID") passes the 255-byte limit of a file name, so the write fails
        // even for root, whom permissions would not stop.
        let sheet = folder.appendingPathComponent(String(repeating: "g", count: 236) + ".csv").path
        try "old sheet\n".write(toFile: sheet, atomically: false, encoding: .utf8)
        let gradebook = try Gradebook.grade(exerciseID: "cam-1", directory: folder.path)
        XCTAssertThrowsError(try gradebook.writeCSV(to: sheet))
        XCTAssertEqual(try String(contentsOfFile: sheet, encoding: .utf8), "old sheet\n")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.contains("partial") }, [])
    }

}

extension HomeworkCommandLineTests {
    func testGradeCommandPrintsOneLinePerBadFile() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let submissions = folder.appendingPathComponent("answers")
        try FileManager.default.createDirectory(at: submissions, withIntermediateDirectories: true)
        let files = [
            "eve\nalice: all correct.txt": "q1 = 1\n",
            "deep.json": "{\"answers\": {\"q1\": " + String(repeating: "[", count: 100_000),
            "twin.json": "{\"student\": \"twin\", \"student\": \"twin\", \"answers\": {}}",
        ]
        for (name, text) in files { try Data(text.utf8).write(to: submissions.appendingPathComponent(name)) }
        let csv = folder.appendingPathComponent("grades.csv").path

        let (status, output, errors) = try run(["homework", "grade", "cam-1", "--submissions", submissions.path, "--csv", csv])
        XCTAssertEqual(status, 1, output + errors)
        let lines = errors.split(separator: "\n").map(String.init)
        // Unexpected output fails the test; it must not stop the whole suite at lines[2].
        guard lines.count == 3 else { return XCTFail("3 lines expected on stderr: \(errors)") }
        XCTAssertTrue(lines[0].hasPrefix("tutor: deep: ") && lines[0].hasSuffix("over the limit of 64"), lines[0])
        XCTAssertTrue(lines[1].hasPrefix("tutor: eve\\nalice: all correct: file name `eve\\nalice"), lines[1])
        XCTAssertTrue(lines[2].hasSuffix("twin.json: line 1: `student` is given twice"), lines[2])
        XCTAssertTrue(output.contains("Graded 0 of 3"), output)
    }

    func testBadArgumentsAreQuotedOnOneLine() throws {
        let fifo = try temporaryFolder().appendingPathComponent("answers.json").path
        defer { try? FileManager.default.removeItem(atPath: (fifo as NSString).deletingLastPathComponent) }
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        let cases: [([String], Int32, String)] = [
            (["homework", "check", "cam-1", "--student", "alice", "--answers", fifo], 2, "is a FIFO (named pipe), not a regular file"),
            (["homework", "check", "cam-1", "--student", "alice", "--answers", fifo + "\nerror: x"], 2, "\\nerror: x: cannot be read (no such file)"),
            (["homework", "show", "cam-1", "--student", "eve\nalice"], 2, "`eve\\nalice` is not a student id"),
            (["homework", "show", "cam\n" + String(repeating: "x", count: 500), "--student", "alice"], 2, "unknown exercise `cam\\n" + String(repeating: "x", count: 35) + "…`"),
        ]
        for (arguments, expectedStatus, expectedText) in cases {
            let (status, _, errors) = try run(arguments)
            XCTAssertEqual(status, expectedStatus, errors)
            XCTAssertEqual(errors.filter { $0 == "\n" }.count, 1, errors)
            XCTAssertTrue(errors.contains(expectedText), errors)
        }
    }
}

/// The message of the error `body` throws ("no error" when it throws none), failing the test
/// when the message spans more than one line: a line break would cut it on stderr.
func oneLineErrorMessage(_ body: () throws -> Any, file: StaticString = #filePath, line: UInt = #line) -> String {
    do {
        _ = try body()
        return "no error"
    } catch {
        let text = "\(error)"
        XCTAssertFalse(text.contains("\n") || text.contains("\r"), "the message is cut: \(text)", file: file, line: line)
        return text
    }
}

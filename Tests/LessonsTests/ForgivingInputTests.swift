import Foundation
import XCTest
import MiniNet
@testable import Lessons

/// Forgiving input (issue 12, item 7): what editors and keyboards put in an answers file is
/// read as the student meant it, and every problem still gets one line with its line number.
final class ForgivingInputTests: XCTestCase {
    func parse(_ text: String, name: String = "a.txt") throws -> AnswersFile { try AnswersFile.parse(text, name: name) }

    func message(_ body: () throws -> Any) -> String { oneLineErrorMessage(body) }

    // MARK: - Line ends, byte order marks, spaces

    func testEveryKindOfLineEndSplitsLines() throws {
        let expected = AnswersFile(exercise: nil, student: "alice", answers: [("q1", .vector([1, 2])), ("q2", .text("B")), ("q3", .number(0.5))])
        for end in ["\n", "\r\n", "\r"] {
            let text = ["student = alice", "q1 = 1, 2", "# a comment", "q2 = B", "q3 = 0.5", ""].joined(separator: end)
            XCTAssertEqual(try parse(text), expected, end.debugDescription)
            XCTAssertEqual(try parse("\u{FEFF}" + text), expected, "BOM, \(end.debugDescription)")
            XCTAssertEqual(try parse(text).lines, ["q1": 2, "q2": 4, "q3": 5], end.debugDescription)
        }
        // Mixed, as after copying between editors.
        XCTAssertEqual(try parse("student = alice\rq1 = 1, 2\r\nq2 = B\nq3 = 0.5"), expected)
    }

    func testProblemsNameTheirLineWhateverTheLineEnds() {
        for end in ["\n", "\r\n", "\r"] {
            XCTAssertEqual(message { try self.parse(["q1 = 1", "", "q2 2"].joined(separator: end)) },
                           "a.txt: line 3: expected `name = value`, found `q2 2`", end.debugDescription)
            XCTAssertEqual(message { try self.parse(["{", "\"answers\": {", "\"q1\": 1", "\"q2\": 2}}"].joined(separator: end)) },
                           "a.txt: line 4: expected `,` or `}`", end.debugDescription)
            XCTAssertEqual(message { try self.parse(["{", "\"answers\": {", "\"q1\": 1,"].joined(separator: end)) },
                           "a.txt: line 3: the JSON ends too early, `}` is missing", end.debugDescription)
        }
    }

    func testTabsTrailingSpacesAndOtherSpaces() throws {
        let file = try parse("q1\t=\t1,\t2\t \nq2 = 0.5   \n\u{A0}q3\u{A0}=\u{A0}3\u{A0}\nq4 =\u{3000}C\u{3000}\n")
        XCTAssertEqual(file.value(for: "q1"), .vector([1, 2]))
        XCTAssertEqual(file.value(for: "q2"), .number(0.5))
        XCTAssertEqual(file.value(for: "q3"), .number(3))
        XCTAssertEqual(file.value(for: "q4"), .text("C"))
        let json = try parse("{\t\"answers\":\u{A0}{\"q1\":\u{3000}0.5,\t\"q2\": [1,\u{A0}2]}}", name: "a.json")
        XCTAssertEqual(json.value(for: "q1"), .number(0.5))
        XCTAssertEqual(json.value(for: "q2"), .vector([1, 2]))
    }

    func testUTF16WithAByteOrderMarkIsRead() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("forgiving-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let text = "student = nguyễn\r\nq1 = 0,5\r\n"
        let units = Array(text.utf16)
        let littleEndian: [UInt8] = [0xFF, 0xFE] + units.flatMap { (unit: UInt16) -> [UInt8] in [UInt8(unit & 0xFF), UInt8(unit >> 8)] }
        let bigEndian: [UInt8] = [0xFE, 0xFF] + units.flatMap { (unit: UInt16) -> [UInt8] in [UInt8(unit >> 8), UInt8(unit & 0xFF)] }
        for (name, bytes) in [("le.txt", littleEndian), ("be.txt", bigEndian)] {
            let path = folder.appendingPathComponent(name).path
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            let file = try AnswersFile.read(from: path)
            XCTAssertEqual(file.student, "nguyễn", name)
            XCTAssertEqual(file.value(for: "q1"), .vector([0, 5]), name)
        }
        let odd = folder.appendingPathComponent("odd.txt").path
        try Data([0xFF, 0xFE, 0x71]).write(to: URL(fileURLWithPath: odd))
        XCTAssertEqual(message { try AnswersFile.read(from: odd) }, "\(odd): is not UTF-8 text (nor UTF-16 with a byte order mark)")
    }

    // MARK: - Full-width forms and the minus sign

    func testFullWidthFormsAndTheMinusSignAreRead() throws {
        let file = try parse("ｑ１ ＝ ０．５\nq2 = −0.25\nq3 = ［１，２］\nq4 = Ｂ\nq5 = －３／４\nstudent = ａｌｉｃｅ\n")
        XCTAssertEqual(file.value(for: "q1"), .number(0.5))
        XCTAssertEqual(file.value(for: "q2"), .number(-0.25))
        XCTAssertEqual(file.value(for: "q3"), .vector([1, 2]))
        XCTAssertEqual(file.value(for: "q4"), .text("B"))
        XCTAssertEqual(file.value(for: "q5"), .number(-0.75))
        XCTAssertEqual(file.student, "alice")
        let json = try parse("{\"answers\": {\"ｑ１\": \"０．５\", \"q2\": \"−1\", \"q3\": \"Ｃ\"}}", name: "a.json")
        XCTAssertEqual(json.value(for: "q1"), .number(0.5))
        XCTAssertEqual(json.value(for: "q2"), .number(-1))
        XCTAssertEqual(json.value(for: "q3"), .text("C"))
    }

    // MARK: - Decimal commas

    func testACommaIsADecimalSeparatorOnlyWhereItCannotSeparateAList() throws {
        // One number wanted: cam-1 q2 (S_cat). Two numbers wanted: cam-1 q1 ([F¹, F²]).
        let exercise = try HomeworkCatalog.exercise(id: "cam-1", student: "alice")
        guard case let .number(score) = exercise.questions[1].expected,
              case let .vector(pooled) = exercise.questions[0].expected else { return XCTFail("cam-1 changed") }
        let decimalComma = { (value: Double) in formatNumber(value).replacingOccurrences(of: ".", with: ",") }
        // `S,25` for a number question: S + 0.25 is within no tolerance of S, so write the score
        // itself with a decimal comma and a fraction part.
        let written = decimalComma(score) + (formatNumber(score).contains(".") ? "" : ",0")
        let file = try parse("q1 = \(formatNumber(pooled[0])),\(formatNumber(pooled[1]))\nq2 = \(written)\n")
        XCTAssertEqual(file.value(for: "q1"), .vector(pooled), "for a list the comma separates its numbers")
        XCTAssertNotNil(file.commaReadings["q2"])
        let report = try HomeworkChecker.check(file, against: exercise)
        XCTAssertEqual(report.results[0].status, .correct)
        XCTAssertEqual(report.results[1].status, .correct, "`\(written)` is one number for q2")

        XCTAssertEqual(try parse("q1 = 0,5").commaReadings["q1"]?.decimal, 0.5)
        XCTAssertEqual(try parse("q1 = -12,25").commaReadings["q1"]?.decimal, -12.25)
        XCTAssertEqual(try parse("q1 = 0,125").commaReadings["q1"]?.decimal, 0.125)
        XCTAssertNil(try parse("q1 = 0, 5").commaReadings["q1"], "with a space it is a list")
        XCTAssertNil(try parse("q1 = [0,5]").commaReadings["q1"], "in brackets it is a list")
        XCTAssertNil(try parse("q1 = 1,2,3").commaReadings["q1"])
        XCTAssertEqual(try parse("q1 = 1,2,3").value(for: "q1"), .vector([1, 2, 3]))
    }

    func testThousandsLookingCommasAreRefusedForOneNumber() throws {
        let exercise = try HomeworkCatalog.exercise(id: "cam-1", student: "alice")
        let file = try parse("q1 = 1,000\nq2 = 1,000\n")
        let report = try HomeworkChecker.check(file, against: exercise)
        XCTAssertEqual(report.results[0].problem, nil, "for a list of two, 1,000 is [1, 0]")
        XCTAssertEqual(report.results[1].problem,
                       "line 2: `1,000` could be 1000 or a decimal: for one number write 1.000 with a point, or 1000 without the comma")
        let list = try HomeworkChecker.check(try parse("q2 = 1, 2\n"), against: exercise).results[1]
        XCTAssertEqual(list.problem,
                       "line 1: expected one number, got a list of 2 (write decimals with a point, 0.5, or with a comma and nothing else, 0,5)")
    }

    func testSemicolonsSeparateAListWithDecimalCommas() throws {
        XCTAssertEqual(try parse("q1 = 0,5; 1,25; -2").value(for: "q1"), .vector([0.5, 1.25, -2]))
        XCTAssertEqual(try parse("q1 = [0,5;1,5]").value(for: "q1"), .vector([0.5, 1.5]))
        XCTAssertEqual(try parse("q1 = 1; 2; 3").value(for: "q1"), .vector([1, 2, 3]))
        XCTAssertEqual(message { try self.parse("q1 = 0,5; x") },
                       "a.txt: line 1: `q1`: `x` is not a number (lists with decimal commas are numbers separated by semicolons)")
        let json = try parse("{\"answers\": {\"q1\": \"0,5\"}}", name: "a.json")
        XCTAssertEqual(json.value(for: "q1"), .vector([0, 5]))
        XCTAssertEqual(json.commaReadings["q1"]?.decimal, 0.5)
    }

    // MARK: - Student ids

    func testStudentIDsMayUseLettersOfAnyAlphabetInNormalForm() throws {
        let composed = "nguy\u{1EC5}n"               // ễ as one letter
        let decomposed = "nguye\u{302}\u{303}n"      // e + circumflex + tilde
        XCTAssertNotEqual(Array(composed.unicodeScalars), Array(decomposed.unicodeScalars))
        XCTAssertEqual(try HomeworkCatalog.normalizedStudentID(decomposed), composed)
        for template in HomeworkCatalog.templates {
            XCTAssertEqual(template.make(student: decomposed), template.make(student: composed), template.id)
        }
        XCTAssertNotEqual(try HomeworkCatalog.exercise(id: "cam-1", student: composed).given,
                          try HomeworkCatalog.exercise(id: "cam-1", student: "nguyen").given)
        for name in ["Đặng_Thị-Hồng.2", "Zoë", "Ølsen", "李小龍", "Σωκράτης", "أحمد", "ａｌｉｃｅ"] {
            XCTAssertNoThrow(try HomeworkCatalog.validateStudentID(name), name)
        }
        XCTAssertEqual(try HomeworkCatalog.normalizedStudentID("ａｌｉｃｅ"), "alice")

        // The answers file's student, typed either way, is the student checked.
        let exercise = try HomeworkCatalog.exercise(id: "ig-1", student: composed)
        var key = HomeworkChecker.key(for: exercise)
        key.student = nil
        let file = try parse("student = \(decomposed)\n" + HomeworkRendering.text(key))
        XCTAssertEqual(file.student, composed)
        XCTAssertTrue(try HomeworkChecker.check(file, against: exercise).allPassed)
    }

    func testStudentIDsRefuseWhatCannotNameAFile() {
        let refused = ["", ".hidden", "a/b", "a\\b", "a b", "a\tb", "a\nb", "a:b", "eve\u{202E}gpj", "\u{301}a", "a\u{0}",
                       "x\u{200B}y", "a*b", String(repeating: "ễ", count: 65)]
        for name in refused {
            XCTAssertThrowsError(try HomeworkCatalog.validateStudentID(name), name.debugDescription) { error in
                XCTAssertFalse("\(error)".contains("\n"), "\(error)")
            }
        }
        XCTAssertEqual(message { try HomeworkCatalog.normalizedStudentID(String(repeating: "ễ", count: 65)) },
                       "student id `\(String(repeating: "ễ", count: 40))…` is 65 characters long, over the limit of 64")
        XCTAssertEqual(message { try self.parse("student = a/b\n") },
                       "a.txt: line 1: `student` `a/b` may only use letters, digits, '-', '_' and '.'")
    }
}

extension HomeworkCommandLineTests {
    func testCheckGivesMoreHelpWithEachHintLevel() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let answers = folder.appendingPathComponent("answers.txt").path
        try "q1\t=\t1,\t2\r\nq3 = ０\r\n".write(toFile: answers, atomically: true, encoding: .utf8)
        var lineCounts = [Int]()
        for level in ["1", "2", "3"] {
            let (status, output, errors) = try run(["homework", "check", "cam-2", "--student", "nguyễn", "--answers", answers, "--hint", level])
            XCTAssertEqual(status, 1, output + errors)
            XCTAssertTrue(output.contains("hint: See `tutor lesson cam`, step “The class activation map M_c” (cam.map)"), output)
            XCTAssertEqual(output.contains("formula: "), level != "1", output)
            XCTAssertEqual(output.contains("first step: "), level == "3", output)
            lineCounts.append(output.split(separator: "\n").count)
        }
        XCTAssertLessThan(lineCounts[0], lineCounts[1])
        XCTAssertLessThan(lineCounts[1], lineCounts[2])

        let (status, _, errors) = try run(["homework", "check", "cam-2", "--student", "alice", "--answers", answers, "--hint", "4"])
        XCTAssertEqual(status, 2)
        XCTAssertTrue(errors.contains("--hint"), errors)
        // A negative level is named as an invalid value, not as a missing one.
        let (negativeStatus, _, negativeErrors) = try run(["homework", "check", "cam-2", "--student", "alice", "--answers", answers,
                                                           "--hint", "-1"])
        XCTAssertEqual(negativeStatus, 2)
        XCTAssertEqual(negativeErrors, "tutor: The value '-1' is invalid for '--hint <1|2|3>'. Please provide one of '1', '2' or '3'.\n")
    }

    /// A value that is no number of the option's kind is refused with what the option takes
    /// (ArgumentParser alone says only that the value is invalid), and the help still shows the
    /// option's default.
    func testANumericOptionSaysWhatItTakes() throws {
        let cases: [(arguments: [String], message: String)] = [
            (["train", "--seed", "-1"], "The value '-1' is invalid for '--seed <seed>': use a whole number from 0 to 18446744073709551615"),
            (["train", "--epochs", "1.5"], "The value '1.5' is invalid for '--epochs <epochs>': use a whole number written in digits, such as 10"),
            (["predict", "images/shapes/circle.png", "--top", "abc"],
             "The value 'abc' is invalid for '--top <top>': use a whole number written in digits, such as 10"),
            (["explain", "images/shapes/circle.png", "--noise", "0,15"],
             "The value '0,15' is invalid for '--noise <fraction>': write the decimals after a point, not a comma (0.15); use a number such as 0.5 or 1e-6"),
            (["train", "--learning-rate", "fast"],
             "The value 'fast' is invalid for '--learning-rate <learning-rate>': use a number such as 0.5 or 1e-6"),
        ]
        for (arguments, message) in cases {
            let (status, output, errors) = try run(arguments)
            XCTAssertEqual(status, 2, "\(arguments)")
            XCTAssertEqual(output, "", "\(arguments)")
            XCTAssertEqual(errors, "tutor: \(message)\n", "\(arguments)")
        }
        let (status, help, _) = try run(["train", "--help"])
        XCTAssertEqual(status, 0)
        let flattened = help.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        XCTAssertTrue(flattened.contains("says otherwise). (default: 10)"), help)
        XCTAssertTrue(flattened.contains("decays to 0 along a cosine. (default: 0.003)"), help)
    }
}

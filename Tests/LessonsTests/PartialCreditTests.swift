import Foundation
import XCTest
import MiniNet
@testable import Lessons

/// Partial credit on list answers (issue 12, item 5): each number within the tolerance earns
/// its share of the question's points, and every question's header says how it is scored.
final class PartialCreditTests: XCTestCase {
    func keyWith(_ exercise: Exercise, _ questionID: String, _ value: AnswerValue) -> AnswersFile {
        var file = HomeworkChecker.key(for: exercise)
        if let index = file.answers.firstIndex(where: { $0.key == questionID }) { file.answers[index].value = value }
        return file
    }

    func testOneWrongCellOfANineCellMapKeepsEightNinthsOfThePoints() throws {
        let exercise = try HomeworkCatalog.exercise(id: "cam-2", student: "alice")
        guard case var .vector(map) = exercise.questions[0].expected else { return XCTFail("q1 is a map") }
        XCTAssertEqual(map.count, 9)
        map[4] += 1
        let report = try HomeworkChecker.check(keyWith(exercise, "q1", .vector(map)), against: exercise)
        let result = report.results[0]
        XCTAssertEqual(result.status, .partial)
        XCTAssertEqual(result.numbersRight, 8)
        XCTAssertEqual(result.numbersTotal, 9)
        XCTAssertEqual(result.pointsEarned, 1.78)  // 2 · 8/9 = 1.777…, in hundredths
        XCTAssertFalse(result.hints.isEmpty)
        XCTAssertEqual(report.score, Double(exercise.maxScore) - 2 + 1.78, accuracy: 1e-9)
        XCTAssertFalse(report.allPassed)

        let text = HomeworkRendering.text(report)
        XCTAssertTrue(text.contains("◐ q1  1.78/2  (8 of 9 numbers right)"), text)
        XCTAssertTrue(text.contains("Score: \(formatPoints(report.score))/\(exercise.maxScore)"), text)
        let json = HomeworkRendering.json(report).rendered()
        XCTAssertTrue(json.contains("\"status\": \"partial\"") && json.contains("\"points\": 1.78")
                      && json.contains("\"numbers_right\": 8"), json)
    }

    func testEveryShareIsEarnedAndAnAllWrongListEarnsNothing() throws {
        let exercise = try HomeworkCatalog.exercise(id: "gradcam-1", student: "bob")
        guard case let .vector(map) = exercise.questions[1].expected else { return XCTFail("q2 is a map") }
        for wrongCount in 0...9 {
            var written = map
            for index in 0..<wrongCount { written[index] += 5 }
            let result = try HomeworkChecker.check(keyWith(exercise, "q2", .vector(written)), against: exercise).results[1]
            XCTAssertEqual(result.pointsEarned, roundedToHundredths(2 * Double(9 - wrongCount) / 9))
            XCTAssertEqual(result.status, wrongCount == 0 ? .correct : wrongCount == 9 ? .wrong : .partial)
        }
        // A list of the wrong length is not compared number by number.
        let short = try HomeworkChecker.check(keyWith(exercise, "q2", .vector(Array(map.dropLast()))), against: exercise).results[1]
        XCTAssertEqual(short.pointsEarned, 0)
        XCTAssertEqual(short.problem, "expected 9 numbers, got 8")
    }

    func testTheHeaderSaysHowAQuestionIsScored() throws {
        let cam2 = try HomeworkCatalog.exercise(id: "cam-2", student: "alice")
        XCTAssertEqual(cam2.questions.map(\.answerFormat), [
            "9 numbers, ±0.01, 2 points, shared per number", "a number, ±0.01, 1 point", "a whole number, exact, 1 point",
        ])
        let cam1 = try HomeworkCatalog.exercise(id: "cam-1", student: "alice")
        XCTAssertEqual(cam1.questions[0].answerFormat, "2 numbers, ±0.01, 1 point, shared per number")
        XCTAssertEqual(cam1.questions[3].answerFormat, "one letter, A/B, 1 point")
        let shown = HomeworkRendering.text(cam2)
        XCTAssertTrue(shown.contains("[9 numbers, ±0.01, 2 points, shared per number]"), shown)
        XCTAssertTrue(HomeworkRendering.markdown(cam2).contains("*(9 numbers, ±0.01, 2 points, shared per number)*"))
    }

    func testPointsArePrintedWithAtMostTwoDecimals() {
        XCTAssertEqual(formatPoints(2), "2")
        XCTAssertEqual(formatPoints(16.0 / 9), "1.78")
        XCTAssertEqual(formatPoints(0.5), "0.5")
        XCTAssertEqual(formatPoints(0.1 + 0.2), "0.3")
        XCTAssertEqual(formatPoints(0), "0")
    }

    func testTheGradeSheetHoldsFractionalPoints() throws {
        let exercise = try HomeworkCatalog.exercise(id: "cam-2", student: "alice")
        guard case var .vector(map) = exercise.questions[0].expected else { return XCTFail("q1 is a map") }
        map[0] += 3
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("partial-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try HomeworkRendering.text(keyWith(exercise, "q1", .vector(map)))
            .write(to: folder.appendingPathComponent("alice.txt"), atomically: true, encoding: .utf8)
        let sheet = try Gradebook.grade(exerciseID: "cam-2", directory: folder.path).csv
        XCTAssertEqual(sheet.split(separator: "\n")[1], "alice,3.78,4,1.78,1,1,")
    }
}

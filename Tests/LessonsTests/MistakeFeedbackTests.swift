import Foundation
import XCTest
import MiniNet
@testable import Lessons

/// Feedback aimed at the mistake (issue 12, item 6): every known mistake is a different answer
/// than the key on the student's own numbers, and an answers file that makes it is told so.
final class MistakeFeedbackTests: XCTestCase {
    static let students = ["alice", "bob", "carol", "dave", "nguyễn", "student-007", "x"] + (0..<25).map { "s\($0)" }

    /// The key with one question's answer replaced.
    func answers(_ exercise: Exercise, replacing questionID: String, with value: AnswerValue) -> AnswersFile {
        var file = HomeworkChecker.key(for: exercise)
        if let index = file.answers.firstIndex(where: { $0.key == questionID }) { file.answers[index].value = value }
        return file
    }

    func testEveryMistakeDiffersFromTheKeyAndIsRecognised() throws {
        for template in HomeworkCatalog.templates {
            for student in Self.students {
                let exercise = template.make(student: student)
                for question in exercise.questions {
                    for mistake in question.mistakes {
                        let label = "\(template.id) \(question.id) \(mistake.id) for \(student)"
                        // Farther from the key than the tolerance, in at least one number.
                        XCTAssertLessThan(try XCTUnwrap(HomeworkChecker.credit(for: mistake.answer.asAnswer, against: question), label), 1, label)

                        // Submitted as the student would write it (the printed file, 4 decimals at most).
                        let printed = HomeworkRendering.text(answers(exercise, replacing: question.id, with: mistake.answer.asAnswer))
                        let report = try HomeworkChecker.check(AnswersFile.parse(printed, name: "answers.txt"), against: exercise)
                        let result = try XCTUnwrap(report.results.first { $0.questionID == question.id })
                        XCTAssertNotEqual(result.status, .correct, label)
                        XCTAssertTrue(result.mistakes.map(\.id).contains(mistake.id), "\(label): \(printed)")
                        // The other questions are unaffected.
                        XCTAssertEqual(report.results.filter { !$0.passed }.map(\.questionID), [question.id], label)
                    }
                }
            }
        }
    }

    func testTheKeyAndOtherWrongAnswersAreNoMistake() throws {
        for template in HomeworkCatalog.templates {
            let exercise = template.make(student: "alice")
            let report = try HomeworkChecker.check(HomeworkChecker.key(for: exercise), against: exercise)
            XCTAssertTrue(report.results.allSatisfy { $0.mistakes.isEmpty && $0.hints.isEmpty }, template.id)
            // A far-off answer of the right shape matches no mistake.
            for question in exercise.questions {
                let far: AnswerValue
                switch question.expected {
                case .number: far = .number(12345.678)
                case let .vector(values): far = .vector(values.map { _ in 12345.678 })
                case .integer: far = .number(12345)
                case .choice: continue
                }
                let result = try HomeworkChecker.check(answers(exercise, replacing: question.id, with: far), against: exercise)
                    .results.first { $0.questionID == question.id }
                XCTAssertEqual(result?.mistakes, [], "\(template.id) \(question.id)")
            }
        }
    }

    /// At least two mistakes per exercise (for most students; a mistake that gives the key's
    /// answer for some student is left out for them), every question has some, and every kind
    /// of the table is used.
    func testMistakesCoverEveryExerciseQuestionAndKind() {
        var usedKinds = Set<MistakeKind>()
        for template in HomeworkCatalog.templates {
            var questionsWithMistakes = Set<String>()
            var fewest = Int.max
            // Some mistakes change the answer only on some numbers (a bias that flips the
            // prediction), so the kinds are looked for among many students.
            for student in Self.students + (0..<300).map({ "class-\($0)" }) {
                let exercise = template.make(student: student)
                let kinds = Set(exercise.questions.flatMap { $0.mistakes.map(\.kind) })
                fewest = min(fewest, kinds.count)
                usedKinds.formUnion(kinds)
                for question in exercise.questions where !question.mistakes.isEmpty { questionsWithMistakes.insert(question.id) }
            }
            XCTAssertGreaterThanOrEqual(fewest, 2, "\(template.id): a student gets fewer than 2 known mistakes")
            XCTAssertEqual(questionsWithMistakes.sorted(), template.make(student: "x").questions.map(\.id).sorted(),
                           "\(template.id): a question without any known mistake")
        }
        XCTAssertEqual(Set(MistakeKind.allCases).subtracting(usedKinds), [], "kinds no exercise uses")
        XCTAssertEqual(Set(MistakeKind.allCases.map(\.rawValue)).count, MistakeKind.allCases.count)
    }

    /// Partly wrong in the way of the mistake: the cells it changes are wrong, the others right.
    func testAMistakeIsNamedWhenOnlySomeOfItsNumbersAreWritten() throws {
        for student in Self.students {
            let exercise = try HomeworkCatalog.exercise(id: "gradcam-1", student: student)
            let question = exercise.questions[1]
            guard case let .vector(key) = question.expected,
                  let mistake = question.mistakes.first(where: { $0.kind == .reluForgotten }),
                  case let .vector(wrong) = mistake.answer else { continue }
            let differing = key.indices.filter { abs(key[$0] - wrong[$0]) > question.tolerance }
            guard differing.count >= 2 else { continue }
            var written = key
            written[differing[0]] = wrong[differing[0]]  // one negative cell kept, the others clipped
            let result = try HomeworkChecker.check(answers(exercise, replacing: "q2", with: .vector(written)), against: exercise).results[1]
            XCTAssertEqual(result.status, .partial)
            XCTAssertEqual(result.mistakes.map(\.kind), [.reluForgotten])
            return
        }
        XCTFail("no student's map has two negative cells")
    }

    // MARK: - The mistakes the issue names, worked by hand

    func testTheIssuesMistakesOnHandWorkedNumbers() {
        // align_corners=True on [0, 4] → [0, 4/3, 8/3, 4] (torch.nn.functional.interpolate, mode="linear",
        // align_corners=True); nearest → [0, 0, 4, 4].
        let aligned = CAMExercises.upsampleAligningCorners([0, 4], to: 4)
        for (value, expected) in zip(aligned, [0, 4.0 / 3, 8.0 / 3, 4]) { XCTAssertEqual(value, expected, accuracy: 1e-12) }
        XCTAssertEqual(CAMExercises.upsampleNearest([0, 4], to: 4), [0, 0, 4, 4])
        // ReLU before the sum: α = [1, −1] on cells [2, 3] gives ReLU(2 − 3) = 0, but ReLU(2) + ReLU(−3) = 2.
        XCTAssertEqual(HomeworkMath.relu(HomeworkMath.weightedSum([[[2]], [[3]]], [1, -1])), [[0]])
        XCTAssertEqual(HomeworkMath.sumOfReLUs([[[2]], [[3]]], [1, -1]), [[2]])
        // ε with the wrong sign: a = [1, 1], w = [1, 2], z = 3, ε = 1: R = [3/4, 6/4] against [3/2, 3].
        XCTAssertEqual(LRPExercises.relevanceBack(activations: [1, 1], weights: [[1, 2]], relevance: [3], epsilon: 1), [0.75, 1.5])
        XCTAssertEqual(LRPExercises.relevanceBack(activations: [1, 1], weights: [[1, 2]], relevance: [3], epsilon: -1), [1.5, 3])
    }

    func testLeftInsteadOfRightRiemannIsNamed() throws {
        for student in Self.students {
            let exercise = try HomeworkCatalog.exercise(id: "ig-1", student: student)
            let right = exercise.questions[2]
            let left = exercise.questions[1].expected.asAnswer
            let result = try HomeworkChecker.check(answers(exercise, replacing: right.id, with: left), against: exercise).results[2]
            XCTAssertTrue(result.mistakes.map(\.kind).contains(.leftInsteadOfRight), student)
        }
    }

    func testReportsShowTheMistake() throws {
        let exercise = try HomeworkCatalog.exercise(id: "cam-1", student: "alice")
        let mistake = try XCTUnwrap(exercise.questions[1].mistakes.first { $0.kind == .biasForgotten })
        let report = try HomeworkChecker.check(answers(exercise, replacing: "q2", with: mistake.answer.asAnswer), against: exercise)
        let text = HomeworkRendering.text(report)
        XCTAssertTrue(text.contains("looks like: you left out the bias"), text)
        let json = HomeworkRendering.json(report).rendered()
        XCTAssertTrue(json.contains("\"id\": \"bias-forgotten\""), json)
    }

    // MARK: - Hints

    func testEveryQuestionHasThreeHintsAndTheyRevealNoKey() {
        for template in HomeworkCatalog.templates {
            for student in Self.students.prefix(10) {
                let exercise = template.make(student: student)
                for question in exercise.questions {
                    let label = "\(template.id) \(question.id) for \(student)"
                    let texts = question.hints.texts(upTo: .firstStep)
                    XCTAssertEqual(texts.count, 3, label)
                    XCTAssertTrue(texts[0].hasPrefix("See `tutor lesson \(template.lesson.rawValue)`, step “"), texts[0])
                    XCTAssertTrue(texts[0].contains("(\(question.hints.step.id))"), texts[0])
                    XCTAssertFalse(texts[0].contains("⟦"), texts[0])
                    XCTAssertTrue(texts[1].hasPrefix("formula: ") && texts[2].hasPrefix("first step: "), label)
                    XCTAssertTrue(texts.allSatisfy { !$0.contains("\n") }, label)
                    assertRevealsNoKey(question, in: texts[2], label)
                }
            }
        }
    }

    /// The first step stops before the result: no "= key" at the end of a calculation, and
    /// not a whole list of the key.
    func assertRevealsNoKey(_ question: Question, in text: String, _ label: String) {
        let numbers: [Double]
        switch question.expected {
        case let .number(value): numbers = [value]
        case let .vector(values):
            XCTAssertFalse(text.contains(WorkedText.list(values)), "\(label): \(text)")
            numbers = values.count == 1 ? values : []
        case let .integer(value): numbers = [Double(value)]
        case .choice: numbers = []
        }
        for value in numbers {
            let written = NSRegularExpression.escapedPattern(for: formatNumber(value))
            // "= 4" ends a calculation when no operator or digit follows it.
            let pattern = "= \\(?\(written)\\)?(?![0-9.]|\\s*[·+\\-−/×(^²])"
            XCTAssertNil(text.range(of: pattern, options: .regularExpression), "\(label): \(text)")
        }
    }

    func testHintLevelsAddOneHintEach() throws {
        let exercise = try HomeworkCatalog.exercise(id: "lrp-3", student: "bob")
        let wrong = try AnswersFile.parse("q1 = 0, 0, 0\n", name: "a.txt")
        for level in HintLevel.allCases {
            let report = try HomeworkChecker.check(wrong, against: exercise, hintLevel: level)
            XCTAssertTrue(report.results.allSatisfy { $0.hints.count == level.rawValue })
            XCTAssertEqual(report.results[0].hints, exercise.questions[0].hints.texts(upTo: level))
        }
        let key = HomeworkChecker.key(for: exercise)
        XCTAssertTrue(try HomeworkChecker.check(key, against: exercise, hintLevel: .firstStep).results.allSatisfy { $0.hints.isEmpty })
    }

    func testTheFirstStepIsWorkedOnTheStudentsNumbers() throws {
        let exercise = try HomeworkCatalog.exercise(id: "gradcam-1", student: "alice")
        guard case let .matrix(gradient) = exercise.given[2].value else { return XCTFail("G¹ is a matrix") }
        XCTAssertEqual(exercise.questions[0].hints.firstStep,
                       "α¹ = (1/9) · (\(WorkedText.sum(HomeworkMath.flatten(gradient)))), and α² likewise")
    }
}

import Foundation
import XCTest
import MiniNet
@testable import Lessons

/// The homework of the lesson "evaluate" (evaluate-1 … evaluate-4): the arithmetic by hand, keys
/// that pass for many students, the known mistakes, and each student's own planted mark.
final class EvaluateHomeworkTests: XCTestCase {
    static let students = ["alice", "bob", "carol", "nguyễn", "x"] + (0..<60).map { "s\($0)" }
    static let ids = ["evaluate-1", "evaluate-2", "evaluate-3", "evaluate-4"]

    func testTheArithmeticOnHandWorkedExamples() {
        // Trapezoids of width 1/2: (1 + 0.5)/4 + (0.5 + 0)/4 = 0.5.
        XCTAssertEqual(EvaluateExercises.trapezoidArea([1, 0.5, 0]), 0.5, accuracy: 1e-12)
        XCTAssertEqual(EvaluateExercises.trapezoidArea([0.9, 0.5, 0.3, 0.2, 0.1]), (0.9 / 2 + 0.5 + 0.3 + 0.2 + 0.1 / 2) / 4, accuracy: 1e-12)
        // R⁺ = [2, 0, 3, 1], mask on the first and third cell: (2 + 3) / 6.
        XCTAssertEqual(EvaluateExercises.relevanceMass([2, -1, 3, 1], [1, 0, 1, 0]), 5.0 / 6, accuracy: 1e-12)
        // K = 2: the two largest (3 and 2) are cells 2 and 0, one of them in the mask.
        XCTAssertEqual(EvaluateExercises.rankAccuracy([2, -5, 3, 1], [0, 1, 1, 0]), 0.5)
        // By |R| the top two are −5 and 3, both in the mask.
        XCTAssertEqual(EvaluateExercises.rankAccuracy([2, -5, 3, 1], [0, 1, 1, 0], key: abs), 1)
        XCTAssertEqual(EvaluateExercises.spearman([1, 2, 3, 4, 5], [5, 4, 3, 2, 1]), -1, accuracy: 1e-12)
        XCTAssertEqual(EvaluateExercises.spearman([10, 30, 20, 50, 40], [1, 3, 2, 5, 4]), 1, accuracy: 1e-12)
        // d = [0, 1, −1, 0, 0]: 1 − 6·2/120 = 0.9.
        XCTAssertEqual(EvaluateExercises.spearman([1, 2, 3, 4, 5], [1, 3, 2, 4, 5]), 0.9, accuracy: 1e-12)
        XCTAssertEqual(EvaluateExercises.pearson([1, 2, 3], [2, 4, 6]), 1, accuracy: 1e-12)
    }

    func testEveryStudentGetsAWorkableExerciseWhoseKeyPasses() throws {
        for id in Self.ids {
            let template = try XCTUnwrap(HomeworkCatalog.template(id: id))
            XCTAssertEqual(template.lesson, .evaluate)
            for student in Self.students {
                let exercise = template.make(student: student)
                let report = try HomeworkChecker.check(HomeworkChecker.key(for: exercise), against: exercise)
                XCTAssertTrue(report.allPassed, "\(id) for \(student)")
                XCTAssertGreaterThanOrEqual(exercise.questions.flatMap(\.mistakes).count, 2, "\(id) for \(student)")
                for question in exercise.questions {
                    XCTAssertTrue(question.hint.contains("`tutor lesson evaluate`, step"), question.hint)
                }
            }
        }
        XCTAssertEqual(try HomeworkCatalog.templates(named: "evaluate").map(\.id), Self.ids)
    }

    /// The key of evaluate-4 is the student's own mark, `PlantedShortcut.forStudent` with the
    /// first number of the student's draw: its cell and its class.
    func testEachStudentReportsTheirOwnMark() throws {
        var marks = Set<String>()
        for student in Self.students {
            let exercise = try HomeworkCatalog.exercise(id: "evaluate-4", student: student)
            var draw = StudentDraw(exercise: "evaluate-4", student: try HomeworkCatalog.normalizedStudentID(student))
            let mark = PlantedShortcut.forStudent(seed: draw.next())
            let cell = mark.gridCell()
            XCTAssertEqual(exercise.questions[0].expected, .integer(cell.row), student)
            XCTAssertEqual(exercise.questions[1].expected, .integer(cell.column), student)
            guard case let .choice(correct) = exercise.questions[3].expected else { return XCTFail("q4 is a choice") }
            XCTAssertEqual(exercise.questions[3].options[correct], mark.className, student)
            marks.insert("\(cell.row),\(cell.column),\(mark.label)")

            // The evidence points at the mark: the one cell that gains relevance, and the one
            // class whose column gains pictures when the mark is painted on.
            guard case let .matrix(plain) = exercise.given[0].value, case let .matrix(marked) = exercise.given[1].value,
                  case let .matrix(before) = exercise.given[2].value, case let .matrix(after) = exercise.given[3].value else {
                return XCTFail("evaluate-4 gives four tables")
            }
            let gains = (0..<4).flatMap { row in (0..<4).map { marked[row][$0] - plain[row][$0] } }
            XCTAssertEqual(gains.indices.max { gains[$0] < gains[$1] }, cell.row * 4 + cell.column, student)
            XCTAssertEqual(plain.joined().reduce(0, +), 1, accuracy: 1e-9, student)
            XCTAssertEqual(marked.joined().reduce(0, +), 1, accuracy: 1e-9, student)
            let columnGains = (0..<3).map { column in (0..<3).reduce(0.0) { $0 + after[$1][column] - before[$1][column] } }
            XCTAssertEqual(columnGains.indices.max { columnGains[$0] < columnGains[$1] }, mark.label, student)
            XCTAssertEqual(before.map { $0.reduce(0, +) }, [10, 10, 10], student)
            XCTAssertEqual(after.map { $0.reduce(0, +) }, [10, 10, 10], student)
            // The brightest cell of the marked pictures is the shape's, not the mark's: the trap
            // a student who does not compare with the plain pictures falls into.
            XCTAssertTrue(exercise.questions[0].mistakes.contains { $0.kind == .markBrightestMarkedCell }
                          || exercise.questions[1].mistakes.contains { $0.kind == .markBrightestMarkedCell }, student)
        }
        XCTAssertGreaterThan(marks.count, 25, "the students' marks should spread over the 36 cells and classes")
    }

    /// In a course the mark comes from the course's secret, not from the student's name alone.
    func testACourseGivesOtherMarks() throws {
        let course = try Course(name: "XAI 2026", secret: Data((0..<32).map { UInt8($0) }))
        var differ = 0
        for student in Self.students.prefix(20) {
            let practice = try HomeworkCatalog.exercise(id: "evaluate-4", student: student)
            let inCourse = try HomeworkCatalog.exercise(id: "evaluate-4", student: student, course: course)
            if practice.given != inCourse.given { differ += 1 }
        }
        XCTAssertEqual(differ, 20)
    }

    func testKnownMistakesAreNamed() throws {
        let exercise = try HomeworkCatalog.exercise(id: "evaluate-2", student: "alice")
        var answers = HomeworkChecker.key(for: exercise)
        let mass = exercise.questions[1]
        let withNegatives = try XCTUnwrap(mass.mistakes.first { $0.kind == .massWithNegatives })
        answers.answers[1].value = withNegatives.answer.asAnswer
        let report = try HomeworkChecker.check(answers, against: exercise)
        XCTAssertTrue(report.results[1].mistakes.map(\.kind).contains(.massWithNegatives))
        XCTAssertTrue(report.results[0].passed && report.results[2].passed && report.results[3].passed)
    }

    func testTheExercisesAreInVietnamese() throws {
        let detector = EnglishDetector(allowedTerms: ShapesDataset.classNames)
        for id in Self.ids {
            let exercise = try Language.$override.withValue(.vi) { try HomeworkCatalog.exercise(id: id, student: "alice") }
            let text = Language.$override.withValue(.vi) { HomeworkRendering.text(exercise) }
            XCTAssertEqual(detector.englishLines(in: text), [], id)
            let mistakes = Language.$override.withValue(.vi) { exercise.questions.flatMap(\.mistakes).map(\.description) }
            XCTAssertEqual(mistakes.filter(detector.isEnglish), [], id)
        }
    }
}

import Foundation
import MiniNet

/// How one question went.
public struct QuestionResult: Equatable, Sendable {
    public enum Status: String, Sendable { case correct, wrong, missing }

    public var questionID: String
    public var status: Status
    public var pointsEarned: Int
    public var points: Int
    /// Why the answer could not be compared, e.g. "expected a list of 9 numbers, got 8" (never the key).
    public var problem: String?
    /// The lesson hint, for wrong and missing answers only.
    public var hint: String?

    public var passed: Bool { status == .correct }
}

/// The result of checking one answers file against one exercise.
public struct CheckReport: Equatable, Sendable {
    public var exerciseID: String
    public var student: String
    public var results: [QuestionResult]
    /// Keys in the answers file that are not questions of the exercise.
    public var unknownKeys: [String]

    public var score: Int { results.reduce(0) { $0 + $1.pointsEarned } }
    public var maxScore: Int { results.reduce(0) { $0 + $1.points } }
    public var allPassed: Bool { results.allSatisfy(\.passed) }
}

public enum HomeworkChecker {
    /// Compares every question's expected answer with the file's answer. Each question earns all
    /// its points or none; the total over questions gives partial credit.
    ///
    /// The file's `exercise` and `student`, when present, must match: an answers file for
    /// another exercise or student is an error, not a score of zero.
    public static func check(_ answers: AnswersFile, against exercise: Exercise, fileName: String = "answers") throws -> CheckReport {
        if let claimed = answers.exercise, claimed != exercise.id {
            throw MiniNetError.file(fileName, "is for exercise `\(claimed)`, not `\(exercise.id)`")
        }
        if let claimed = answers.student, claimed != exercise.student {
            throw MiniNetError.file(fileName, "is for student `\(claimed)`, not `\(exercise.student)`")
        }
        let results = exercise.questions.map { question -> QuestionResult in
            guard let given = answers.value(for: question.id) else {
                return QuestionResult(questionID: question.id, status: .missing, pointsEarned: 0, points: question.points,
                                      problem: "no answer for \(question.id)", hint: question.hint)
            }
            let (correct, problem) = compare(given, with: question)
            return QuestionResult(questionID: question.id, status: correct ? .correct : .wrong,
                                  pointsEarned: correct ? question.points : 0, points: question.points,
                                  problem: problem, hint: correct ? nil : question.hint)
        }
        let questionIDs = Set(exercise.questions.map(\.id))
        return CheckReport(exerciseID: exercise.id, student: exercise.student, results: results,
                           unknownKeys: answers.answers.map(\.key).filter { !questionIDs.contains($0) })
    }

    /// (is it right, why it could not be compared). The problem never reveals the key.
    static func compare(_ given: AnswerValue, with question: Question) -> (Bool, String?) {
        let tolerance = question.tolerance + 1e-9  // forgive the last bit of decimal rounding
        switch (question.expected, given) {
        case let (.number(expected), .number(value)):
            return (abs(value - expected) <= tolerance, nil)
        case let (.number(expected), .vector(values)) where values.count == 1:
            return (abs(values[0] - expected) <= tolerance, nil)
        case let (.vector(expected), .vector(values)):
            guard values.count == expected.count else {
                return (false, "expected \(expected.count) numbers, got \(values.count)")
            }
            return (zip(values, expected).allSatisfy { abs($0 - $1) <= tolerance }, nil)
        case let (.vector(expected), .number(value)) where expected.count == 1:
            return (abs(value - expected[0]) <= tolerance, nil)
        case let (.integer(expected), .number(value)):
            guard value == value.rounded() else { return (false, "expected a whole number, got \(formatNumber(value))") }
            return (Int(exactly: value) == expected, nil)
        case let (.choice(correct), .text(text)):
            let letter = text.trimmingCharacters(in: CharacterSet(charactersIn: " ().")).uppercased()
            guard letter.count == 1, let index = question.options.indices.first(where: { Question.letter($0) == letter }) else {
                return (false, "expected one of the letters \(question.options.indices.map { Question.letter($0) }.joined(separator: ", ")), got `\(text)`")
            }
            return (index == correct, nil)
        default:
            return (false, "expected \(question.expected.kindDescription)")
        }
    }

    /// The teacher's answers file for an exercise: passes `check` as it is.
    public static func key(for exercise: Exercise) -> AnswersFile {
        AnswersFile(exercise: exercise.id, student: exercise.student, answers: exercise.questions.map { question in
            switch question.expected {
            case let .number(value): return (question.id, .number(value))
            case let .vector(values): return (question.id, .vector(values))
            case let .integer(value): return (question.id, .number(Double(value)))
            case let .choice(correct): return (question.id, .text(Question.letter(correct)))
            }
        })
    }
}

import Foundation
import MiniNet

/// How one question went.
public struct QuestionResult: Equatable, Sendable {
    /// `partial`: a list with some of its numbers right, which earns their share of the points.
    public enum Status: String, Sendable { case correct, partial, wrong, missing }

    public var questionID: String
    public var status: Status
    /// Points earned, rounded to hundredths: a list of 9 numbers worth 2 points with 8 right earns 1.78.
    public var pointsEarned: Double
    public var points: Int
    /// For a list that could be compared: how many of its numbers are within the tolerance.
    public var numbersRight: Int?
    /// For a list that could be compared: how many numbers it has.
    public var numbersTotal: Int?
    /// Why the answer could not be compared, e.g. "line 3: expected 9 numbers, got 8" (never the key).
    public var problem: String?
    /// The known mistakes the answer looks like (empty when it is right or looks like none).
    public var mistakes: [KnownMistake]
    /// The hints asked for, tier 1 first, for an answer that is not all right; empty otherwise.
    public var hints: [String]

    public init(questionID: String, status: Status, pointsEarned: Double, points: Int,
                numbersRight: Int? = nil, numbersTotal: Int? = nil, problem: String? = nil,
                mistakes: [KnownMistake] = [], hints: [String] = []) {
        self.questionID = questionID
        self.status = status
        self.pointsEarned = pointsEarned
        self.points = points
        self.numbersRight = numbersRight
        self.numbersTotal = numbersTotal
        self.problem = problem
        self.mistakes = mistakes
        self.hints = hints
    }

    /// The tier-1 hint (the lesson step and a nudge), for an answer that is not all right.
    public var hint: String? { hints.first }

    public var passed: Bool { status == .correct }
}

/// The result of checking one answers file against one exercise.
public struct CheckReport: Equatable, Sendable {
    public var exerciseID: String
    public var student: String
    public var results: [QuestionResult]
    /// Keys in the answers file that are not questions of the exercise.
    public var unknownKeys: [String]

    /// The points earned, the sum of the questions' (each already in hundredths, so the sum
    /// is rounded once more only to drop the binary representation's last bits).
    public var score: Double { roundedToHundredths(results.reduce(0) { $0 + $1.pointsEarned }) }
    public var maxScore: Int { results.reduce(0) { $0 + $1.points } }
    public var allPassed: Bool { results.allSatisfy(\.passed) }
}

/// Points as a person writes them: at most 2 decimals, "2", "1.78", "0.5".
public func formatPoints(_ value: Double) -> String {
    let hundredths = roundedToHundredths(value)
    if hundredths == hundredths.rounded() { return String(Int(hundredths)) }
    var text = String(format: "%.2f", hundredths)
    while text.hasSuffix("0") { text.removeLast() }
    return text
}

func roundedToHundredths(_ value: Double) -> Double { (value * 100).rounded() / 100 }

public enum HomeworkChecker {
    /// Compares every question's expected answer with the file's answer.
    ///
    /// A number, a whole number or a letter earns all its points or none. A list shares its
    /// points equally among its numbers, and each number within the tolerance earns its share:
    ///
    ///     earned = points · (numbers within tolerance) / (numbers in the list),  rounded to 0.01
    ///
    /// An answer that is not right is compared with the question's known mistakes; the ones it
    /// matches are named in the result. `hintLevel` says how many tiers of hints a wrong or
    /// missing answer gets.
    ///
    /// The file's `exercise` and `student`, when present, must match: an answers file for
    /// another exercise or student is an error, not a score of zero.
    public static func check(_ answers: AnswersFile, against exercise: Exercise, fileName: String = "answers",
                             hintLevel: HintLevel = .nudge) throws -> CheckReport {
        if let claimed = answers.exercise, claimed != exercise.id {
            throw MiniNetError.file(fileName, translated("is for exercise `{$1}`, not `{$2}`", with: claimed, exercise.id))
        }
        if let claimed = answers.student, claimed != exercise.student {
            throw MiniNetError.file(fileName, translated("is for student `{$1}`, not `{$2}`", with: claimed, exercise.student))
        }
        let results = exercise.questions.map { question -> QuestionResult in
            let hints = question.hints.texts(upTo: hintLevel)
            guard let given = answers.value(for: question.id) else {
                return QuestionResult(questionID: question.id, status: .missing, pointsEarned: 0, points: question.points,
                                      problem: translated("no answer for {$1}", with: question.id), hints: hints)
            }
            let line = answers.lines[question.id]
            let written: Written
            switch read(given, for: question, commaReading: answers.commaReadings[question.id]) {
            case let .failure(problem):
                return QuestionResult(questionID: question.id, status: .wrong, pointsEarned: 0, points: question.points,
                                      problem: line.map { translated("line {$1}: {$2}", with: $0, problem.message) } ?? problem.message, hints: hints)
            case let .success(value):
                written = value
            }
            let right = matches(written, question.expected, tolerance: question.tolerance)
            let rightCount = right.filter { $0 }.count
            let status: QuestionResult.Status = rightCount == right.count ? .correct : rightCount == 0 ? .wrong : .partial
            let earned = roundedToHundredths(Double(question.points) * Double(rightCount) / Double(right.count))
            // A mistake explains the answer when every number that is not right is what the
            // wrong procedure gives (the right ones may agree with both).
            let mistakes = status == .correct ? [] : question.mistakes.filter { mistake in
                let wrongWay = matches(written, mistake.answer, tolerance: question.tolerance)
                return wrongWay.count == right.count && zip(right, wrongWay).allSatisfy { $0 || $1 }
            }
            let isList = question.sharesPoints
            return QuestionResult(questionID: question.id, status: status, pointsEarned: earned, points: question.points,
                                  numbersRight: isList ? rightCount : nil, numbersTotal: isList ? right.count : nil,
                                  mistakes: mistakes, hints: status == .correct ? [] : hints)
        }
        let questionIDs = Set(exercise.questions.map(\.id))
        return CheckReport(exerciseID: exercise.id, student: exercise.student, results: results,
                           unknownKeys: answers.answers.map(\.key).filter { !questionIDs.contains($0) })
    }

    /// The share of `answer` that the question accepts, in 0…1, or nil when it cannot be compared
    /// (a list of the wrong length, a letter for a number, …).
    public static func credit(for answer: AnswerValue, against question: Question) -> Double? {
        guard case let .success(written) = read(answer, for: question, commaReading: nil) else { return nil }
        let right = matches(written, question.expected, tolerance: question.tolerance)
        return Double(right.filter { $0 }.count) / Double(right.count)
    }

    /// An answer in the shape its question needs: numbers (one, or a list) or an option index.
    enum Written {
        case numbers([Double])
        case option(Int)
    }

    struct Problem: Error { var message: String }

    /// Reads what the student wrote as the kind of answer the question expects. The problem
    /// never reveals the key. `commaReading` is the file's reading of a value such as `0,5`,
    /// which is a list of two numbers unless the question wants one number.
    static func read(_ given: AnswerValue, for question: Question, commaReading: CommaReading?) -> Result<Written, Problem> {
        switch (question.expected, given) {
        case (.number, .number(let value)):
            return .success(.numbers([value]))
        case (.number, .vector(let values)):
            if values.count == 1 { return .success(.numbers(values)) }
            if let commaReading {
                guard let value = commaReading.decimal else {
                    return .failure(Problem(message: commaReading.ambiguity))
                }
                return .success(.numbers([value]))
            }
            return .failure(Problem(message: translated("expected one number, got a list of {$1} (write decimals with a point, 0.5, or with a comma and nothing else, 0,5)", with: values.count)))
        case let (.vector(expected), .vector(values)):
            guard values.count == expected.count else {
                return .failure(Problem(message: translated("expected {$1} numbers, got {$2}", with: expected.count, values.count)))
            }
            return .success(.numbers(values))
        case let (.vector(expected), .number(value)):
            guard expected.count == 1 else { return .failure(Problem(message: translated("expected {$1} numbers, got {$2}", with: expected.count, 1))) }
            return .success(.numbers([value]))
        case (.integer, .number(let value)):
            guard value == value.rounded() else {
                return .failure(Problem(message: translated("expected a whole number, got {$1}", with: formatNumber(value))))
            }
            return .success(.numbers([value]))
        case (.choice, .text(let text)):
            let letter = text.trimmingCharacters(in: CharacterSet(charactersIn: " ().")).uppercased()
            guard letter.count == 1, let index = question.options.indices.first(where: { Question.letter($0) == letter }) else {
                return .failure(Problem(message: translated("expected one of the letters {$1}, got `{$2}`", with:
                                                        question.options.indices.map { Question.letter($0) }.joined(separator: ", "), boundedSummary(text))))
            }
            return .success(.option(index))
        default:
            return .failure(Problem(message: translated("expected {$1}", with: question.expected.kindDescription)))
        }
    }

    /// For each number of the answer (or for the one letter), whether it matches `expected`.
    static func matches(_ written: Written, _ expected: ExpectedAnswer, tolerance: Double) -> [Bool] {
        let tolerance = tolerance + 1e-9  // forgive the last bit of decimal rounding
        switch (written, expected) {
        case let (.numbers(values), .number(key)):
            return values.count == 1 ? [abs(values[0] - key) <= tolerance] : values.map { _ in false }
        case let (.numbers(values), .vector(key)):
            guard values.count == key.count else { return values.map { _ in false } }
            return zip(values, key).map { abs($0 - $1) <= tolerance }
        case let (.numbers(values), .integer(key)):
            return values.map { Int(exactly: $0) == key }
        case let (.option(index), .choice(correct)):
            return [index == correct]
        case let (.numbers(values), _):
            return values.map { _ in false }
        case (.option, _):
            return [false]
        }
    }

    /// The teacher's answers file for an exercise: passes `check` as it is.
    public static func key(for exercise: Exercise) -> AnswersFile {
        AnswersFile(exercise: exercise.id, student: exercise.student,
                    answers: exercise.questions.map { ($0.id, $0.expected.asAnswer) })
    }
}

extension CommaReading {
    /// Why `1,000` is refused as one number: it may be a thousand or a decimal.
    var ambiguity: String {
        translated("`{$1}` could be {$2} or a decimal: for one number write {$3} with a point, or {$4} without the comma", with:
               text, thousandsReading, pointReading, thousandsReading)
    }
}

// Checking an answers file's form without its correctness: what a student may run offline in
// course mode.
//
// Why not correctness: a check that says "q3 is wrong" can be asked again and again. A letter
// question falls to four tries, and a number to a bisection over its tolerance. Any offline
// check that reveals correctness can be mined for the key, so in course mode correctness is
// decided only when the teacher runs `grade`, and a student can learn only whether each answer
// is there and written in the expected form.

import Foundation
import MiniNet

/// The form a question's answer takes, as a sheet states it; never the answer itself.
public enum AnswerShape: Equatable, Sendable {
    case number
    case list(count: Int)
    case integer
    /// A letter among the first `optionCount` letters, A, B, …
    case choice(optionCount: Int)

    public init(_ expected: ExpectedAnswer, optionCount: Int) {
        switch expected {
        case .number: self = .number
        case let .vector(values): self = .list(count: values.count)
        case .integer: self = .integer
        case .choice: self = .choice(optionCount: optionCount)
        }
    }

    /// "a number", "a list of 9 numbers", "a whole number", "one of the letters A, B, C".
    public var description: String {
        switch self {
        case .number: return translated("a number")
        case let .list(count): return count == 1 ? translated("a list of 1 number") : translated("a list of {$1} numbers", with: count)
        case .integer: return translated("a whole number")
        case let .choice(count): return translated("one of the letters {$1}", with: (0..<count).map(Question.letter).joined(separator: ", "))
        }
    }

    /// Why `value` is not of this form (never whether it is right), or nil when it is.
    public func problem(with value: AnswerValue) -> String? {
        func got(_ value: AnswerValue) -> String {
            switch value {
            case .number: return translated("one number")
            case let .vector(values): return values.count == 1 ? translated("a list of 1 number") : translated("a list of {$1} numbers", with: values.count)
            case let .text(text): return translated("the text `{$1}`", with: boundedSummary(text))
            }
        }
        switch (self, value) {
        case (.number, .number): return nil
        case let (.number, .vector(values)) where values.count == 1: return nil
        case let (.list(count), .vector(values)):
            return values.count == count ? nil : translated("expected {$1}, got {$2}", with: description, values.count)
        case let (.list(count), .number) where count == 1: return nil
        case let (.integer, .number(number)):
            return number == number.rounded() ? nil : translated("expected a whole number, got {$1}", with: formatNumber(number))
        case let (.integer, .vector(values)) where values.count == 1:
            return values[0] == values[0].rounded() ? nil : translated("expected a whole number, got {$1}", with: formatNumber(values[0]))
        case let (.choice(count), .text(text)):
            let letter = text.trimmingCharacters(in: CharacterSet(charactersIn: " ().")).uppercased()
            let letters = (0..<count).map(Question.letter)
            return letter.count == 1 && letters.contains(letter) ? nil : translated("expected {$1}, got `{$2}`", with: description, boundedSummary(text))
        default:
            return translated("expected {$1}, got {$2}", with: description, got(value))
        }
    }
}

/// One question's id and answer form.
public struct ShapedQuestion: Equatable, Sendable {
    public var id: String
    public var shape: AnswerShape

    public init(id: String, shape: AnswerShape) {
        self.id = id
        self.shape = shape
    }

    public init(_ question: Question) {
        self.init(id: question.id, shape: AnswerShape(question.expected, optionCount: question.options.count))
    }
}

/// The result of a format check: for every question, the problem with its form, if any.
public struct FormatReport: Equatable, Sendable {
    public var exerciseID: String
    public var student: String
    public var mode: HomeworkMode
    /// (question id, problem); nil problem: answered in the expected form.
    public var questions: [(id: String, problem: String?)]
    public var unknownKeys: [String]

    public var problemCount: Int { questions.filter { $0.problem != nil }.count }
    public var isWellFormed: Bool { problemCount == 0 }

    public static func == (lhs: FormatReport, rhs: FormatReport) -> Bool {
        lhs.exerciseID == rhs.exerciseID && lhs.student == rhs.student && lhs.mode == rhs.mode
            && lhs.questions.map(\.id) == rhs.questions.map(\.id) && lhs.questions.map(\.problem) == rhs.questions.map(\.problem)
            && lhs.unknownKeys == rhs.unknownKeys
    }
}

public enum FormatCheck {
    /// Checks that every question is answered in its form. The file's `exercise` and `student`,
    /// when present, must match, as for a full check.
    public static func check(_ answers: AnswersFile, exerciseID: String, student: String, questions: [ShapedQuestion],
                             mode: HomeworkMode, fileName: String = "answers") throws -> FormatReport {
        if let claimed = answers.exercise, claimed != exerciseID {
            throw MiniNetError.file(fileName, translated("is for exercise `{$1}`, not `{$2}`", with: claimed, exerciseID))
        }
        if let claimed = answers.student, claimed.precomposedStringWithCanonicalMapping != student.precomposedStringWithCanonicalMapping {
            throw MiniNetError.file(fileName, translated("is for student `{$1}`, not `{$2}`", with: claimed, student))
        }
        let results = questions.map { question -> (id: String, problem: String?) in
            guard let value = answers.value(for: question.id) else { return (question.id, translated("no answer for {$1}", with: question.id)) }
            let located = { (problem: String) in answers.lines[question.id].map { translated("line {$1}: {$2}", with: $0, problem) } ?? problem }
            // `0,5` for one number is 0.5, as the full check reads it; `1,000` is ambiguous.
            if question.shape == .number, case .vector = value, let reading = answers.commaReadings[question.id] {
                return (question.id, reading.decimal != nil ? nil : located(reading.ambiguity))
            }
            return (question.id, question.shape.problem(with: value).map(located))
        }
        let known = Set(questions.map(\.id))
        return FormatReport(exerciseID: exerciseID, student: student, mode: mode, questions: results,
                            unknownKeys: answers.answers.map(\.key).filter { !known.contains($0) })
    }
}

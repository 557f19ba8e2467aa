// Homework: personalised exercises for every lesson, checked against their own answer keys.
//
// An exercise is generated from (exercise id, student id): the same student always gets the
// same numbers, two students get different ones. Every expected answer is computed by the
// small plain-Swift code next to the generator, never typed in.

import Foundation

/// The lessons that have homework, in teaching order.
public enum HomeworkLesson: String, CaseIterable, Sendable {
    case cam, gradcam, ablationcam, lrp, ig

    /// The name a person reads, e.g. "Grad-CAM".
    public var displayName: String {
        switch self {
        case .cam: return "CAM"
        case .gradcam: return "Grad-CAM"
        case .ablationcam: return "Ablation-CAM"
        case .lrp: return "LRP"
        case .ig: return "Integrated Gradients"
        }
    }
}

/// One piece of data an exercise gives the student: a number, a vector or a matrix.
public struct Given: Equatable, Sendable {
    public enum Value: Equatable, Sendable {
        case number(Double)
        case vector([Double])
        /// Rows, outermost first, e.g. a 3×3 feature map.
        case matrix([[Double]])
    }

    /// What the data is, e.g. "f₁ (feature map 1)".
    public var name: String
    public var value: Value

    public init(_ name: String, _ value: Value) {
        self.name = name
        self.value = value
    }

    public static func number(_ name: String, _ value: Double) -> Given { Given(name, .number(value)) }
    public static func vector(_ name: String, _ values: [Double]) -> Given { Given(name, .vector(values)) }
    public static func matrix(_ name: String, _ rows: [[Double]]) -> Given { Given(name, .matrix(rows)) }
}

/// The answer a question expects.
public enum ExpectedAnswer: Equatable, Sendable {
    /// One number, accepted within the question's tolerance.
    case number(Double)
    /// Several numbers in a fixed order (a map is given row by row), each within the tolerance.
    case vector([Double])
    /// A whole number such as a channel index or a count; no tolerance.
    case integer(Int)
    /// The letter of one of the question's options; `correct` indexes `options` (0 = "A").
    case choice(correct: Int)

    /// What kind of answer a person should write, e.g. "a list of 9 numbers".
    public var kindDescription: String {
        switch self {
        case .number: return "a number"
        case let .vector(values): return "a list of \(values.count) numbers"
        case .integer: return "a whole number"
        case .choice: return "a letter"
        }
    }
}

/// One question of an exercise.
public struct Question: Equatable, Sendable {
    /// The key the answers file uses: "q1", "q2", …
    public var id: String
    public var prompt: String
    public var expected: ExpectedAnswer
    /// Largest accepted |answer − key| for numbers and lists; 0 for whole numbers and letters.
    public var tolerance: Double
    /// Points for a correct answer.
    public var points: Int
    /// The texts of the options of a multiple-choice question, labelled A, B, C, … in order.
    public var options: [String]
    /// Shown when the answer is wrong or missing: points to the lesson step, never gives the answer.
    public var hint: String

    public init(id: String, prompt: String, expected: ExpectedAnswer, tolerance: Double = 0.01,
                points: Int = 1, options: [String] = [], hint: String) {
        self.id = id
        self.prompt = prompt
        self.expected = expected
        switch expected {
        case .integer, .choice: self.tolerance = 0
        case .number, .vector: self.tolerance = tolerance
        }
        self.points = points
        self.options = options
        self.hint = hint
    }

    /// "A", "B", … for option index 0, 1, …
    public static func letter(_ index: Int) -> String {
        String(UnicodeScalar(UInt8(65 + index)))
    }

    /// A multiple-choice question whose options are shuffled for each student.
    public static func choice(id: String, prompt: String, correct: String, wrong: [String],
                              hint: String, draw: inout StudentDraw) -> Question {
        let options = draw.shuffled([correct] + wrong)
        let correctIndex = options.firstIndex(of: correct) ?? 0
        return Question(id: id, prompt: prompt, expected: .choice(correct: correctIndex),
                        options: options, hint: hint)
    }

    /// How the answer should be written and how close it must be, e.g. "a number, ±0.01".
    public var answerFormat: String {
        switch expected {
        case .number, .vector: return "\(expected.kindDescription), ±\(formatNumber(tolerance))"
        case .integer: return "a whole number, exact"
        case .choice: return "one letter, " + options.indices.map { Question.letter($0) }.joined(separator: "/")
        }
    }
}

/// One generated exercise: the data a student is given and the questions about it.
public struct Exercise: Equatable, Sendable {
    /// "cam-1", "gradcam-2", …
    public var id: String
    public var lesson: HomeworkLesson
    public var title: String
    public var student: String
    /// What the situation is, in words (the numbers are in `given`).
    public var introduction: String
    public var given: [Given]
    public var questions: [Question]
    /// Practice (numbers anyone can reproduce) or a course (numbers from the course secret).
    public var mode: HomeworkMode

    public init(id: String, lesson: HomeworkLesson, title: String, student: String,
                introduction: String, given: [Given], questions: [Question], mode: HomeworkMode = .practice) {
        self.id = id
        self.lesson = lesson
        self.title = title
        self.student = student
        self.introduction = introduction
        self.given = given
        self.questions = questions
        self.mode = mode
    }

    public var maxScore: Int { questions.reduce(0) { $0 + $1.points } }
}

/// What a generator returns; the catalog adds id, lesson, title and student.
public struct ExerciseContent {
    public var introduction: String
    public var given: [Given]
    public var questions: [Question]

    public init(introduction: String, given: [Given], questions: [Question]) {
        self.introduction = introduction
        self.given = given
        self.questions = questions
    }
}

/// Formats a number as a person writes it: "3", "-0.25", "0.3333" (at most 4 decimals).
public func formatNumber(_ value: Double) -> String {
    if value.isNaN { return "nan" }
    if value.isInfinite { return value > 0 ? "inf" : "-inf" }
    let rounded = (value * 10_000).rounded() / 10_000
    if rounded == rounded.rounded() && abs(rounded) < 1e15 {
        return String(Int(rounded))
    }
    var text = String(format: "%.4f", rounded)
    while text.hasSuffix("0") { text.removeLast() }
    if text == "-0" { text = "0" }
    return text
}

// Homework: personalised exercises for every lesson, checked against their own answer keys.
//
// An exercise is generated from (exercise id, student id): the same student always gets the
// same numbers, two students get different ones. Every expected answer is computed by the
// small plain-Swift code next to the generator, never typed in.

import Foundation

/// The lessons that have homework, in teaching order.
public enum HomeworkLesson: String, CaseIterable, Sendable {
    case cam, gradcam, ablationcam, morecams, lrp, ig, evaluate

    /// The name a person reads, e.g. "Grad-CAM".
    public var displayName: String {
        switch self {
        case .cam: return "CAM"
        case .gradcam: return "Grad-CAM"
        case .ablationcam: return "Ablation-CAM"
        case .morecams: return translated("More CAMs")
        case .lrp: return "LRP"
        case .ig: return "Integrated Gradients"
        case .evaluate: return translated("Evaluating explanations")
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
    /// Each number within the tolerance earns its share of the points.
    case vector([Double])
    /// A whole number such as a channel index or a count; no tolerance.
    case integer(Int)
    /// The letter of one of the question's options; `correct` indexes `options` (0 = "A").
    case choice(correct: Int)

    /// What kind of answer a person should write, e.g. "a list of 9 numbers".
    public var kindDescription: String {
        switch self {
        case .number: return translated("a number")
        case let .vector(values): return translated("a list of {$1} numbers", with: values.count)
        case .integer: return translated("a whole number")
        case .choice: return translated("a letter")
        }
    }

    /// The answer as an answers file holds it.
    public var asAnswer: AnswerValue {
        switch self {
        case let .number(value): return .number(value)
        case let .vector(values): return .vector(values)
        case let .integer(value): return .number(Double(value))
        case let .choice(correct): return .text(Question.letter(correct))
        }
    }

    /// Every number is finite (a choice or a whole number always is).
    var isFinite: Bool {
        switch self {
        case let .number(value): return value.isFinite
        case let .vector(values): return values.allSatisfy(\.isFinite)
        case .integer, .choice: return true
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
    /// Points for a correct answer; a list shares them equally among its numbers.
    public var points: Int
    /// The texts of the options of a multiple-choice question, labelled A, B, C, … in order.
    public var options: [String]
    /// Help for a wrong or missing answer in three tiers (a nudge, the formula, the first step
    /// worked on the student's numbers), naming the lesson step by its stable id; never the answer.
    public var hints: Hints
    /// The wrong answers that common mistakes give on this student's numbers, each computed by
    /// running the wrong procedure. A mistake whose answer the key would accept is left out.
    public var mistakes: [KnownMistake]

    public init(id: String, prompt: String, expected: ExpectedAnswer, tolerance: Double = 0.01,
                points: Int = 1, options: [String] = [], hints: Hints, mistakes: [KnownMistake] = []) {
        self.id = id
        self.prompt = prompt
        self.expected = expected
        switch expected {
        case .integer, .choice: self.tolerance = 0
        case .number, .vector: self.tolerance = tolerance
        }
        self.points = points
        self.options = options
        self.hints = hints
        self.mistakes = []
        // A mistake is news only when it gives another answer than the key: on some students'
        // numbers the wrong procedure happens to give the right result (a ReLU with nothing to
        // clip, a bias of 0), and then it is left out. Two kinds with one answer are both kept.
        var kept = [KnownMistake]()
        for mistake in mistakes where mistake.answer.isFinite && !kept.contains(where: { $0.kind == mistake.kind }) {
            guard let credit = HomeworkChecker.credit(for: mistake.answer.asAnswer, against: self), credit < 1 else { continue }
            kept.append(mistake)
        }
        self.mistakes = kept
    }

    /// The tier-1 hint: the lesson step and a nudge.
    public var hint: String { hints.text(.nudge) }

    /// "A", "B", … for option index 0, 1, …
    public static func letter(_ index: Int) -> String {
        String(UnicodeScalar(UInt8(65 + index)))
    }

    /// A wrong option of a multiple-choice question and the mistake that leads to it.
    public struct WrongOption {
        public var text: String
        public var mistake: MistakeKind

        public init(_ text: String, _ mistake: MistakeKind) {
            self.text = text
            self.mistake = mistake
        }
    }

    /// A multiple-choice question whose options are shuffled for each student. Each wrong
    /// option is a known mistake, recognised when the student picks it.
    public static func choice(id: String, prompt: String, correct: String, wrong: [WrongOption],
                              hints: Hints, draw: inout StudentDraw) -> Question {
        let options = draw.shuffled([correct] + wrong.map(\.text))
        let correctIndex = options.firstIndex(of: correct) ?? 0
        let mistakes = wrong.compactMap { option in
            options.firstIndex(of: option.text).map { KnownMistake(option.mistake, .choice(correct: $0)) }
        }
        return Question(id: id, prompt: prompt, expected: .choice(correct: correctIndex),
                        options: options, hints: hints, mistakes: mistakes)
    }

    /// Whether a list's points are shared among its numbers (partial credit).
    public var sharesPoints: Bool {
        if case .vector = expected { return true }
        return false
    }

    /// How the answer should be written, how close it must be and what it earns: the question's
    /// header, e.g. "9 numbers, ±0.01, 2 points, shared per number" or "a number, ±0.01, 1 point".
    public var answerFormat: String {
        let pointsText = HomeworkRendering.pointsText(points)
        let tolerance = formatNumber(self.tolerance)
        switch expected {
        case .number: return translated("a number, ±{$1}, {$2}", with: tolerance, pointsText)
        case let .vector(values):
            return translated("{$1} numbers, ±{$2}, {$3}, shared per number", with: values.count, tolerance, pointsText)
        case .integer: return translated("a whole number, exact, {$1}", with: pointsText)
        case .choice:
            return translated("one letter, {$1}, {$2}", with: options.indices.map { Question.letter($0) }.joined(separator: "/"), pointsText)
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

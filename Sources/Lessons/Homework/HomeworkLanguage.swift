// Homework in the reader's language (issue 14).
//
// Two ways in, both through the phrase book (`Phrasebook`, Resources/vi/phrases/homework.txt):
//
// - An exercise's words (title, introduction, names of the data, prompts, options, hints) are
//   translated once, when the exercise is made (`ExerciseTemplate.make`), as whole texts: the
//   generators stay plain English, and the phrase book matches each text with its numbers as
//   holes. Ids, answer keys and the order of the options are fixed before that, so checking an
//   answer never looks at a translated word.
// - The fixed words that reports, sheets, gradebooks and errors put around data go through
//   `phrase`, whose holes are filled after the translation: a student id, a file name or a
//   course name is data and is never translated.

import MiniNet

/// `template` in the reader's language, its holes `{$1}`, `{$2}`, … then filled with `values`
/// in that order. The values are data (ids, names, paths, numbers, formulas, texts already in
/// the reader's language) and are put in as they are.
///
///     phrase("no answer for {$1}", "q3")    // "no answer for q3", "chưa có câu trả lời cho q3"
func phrase(_ template: String, _ values: CustomStringConvertible...) -> String {
    fillHoles(translated(template), values.map(\.description))
}

/// `text` with every `{$n}` replaced by `values[n − 1]`, in one pass (a value that itself holds
/// `{$2}` stays as it is); a hole without a value stays as it is.
func fillHoles(_ text: String, _ values: [String]) -> String {
    guard !values.isEmpty, text.contains("{$") else { return text }
    var result = ""
    var rest = text[...]
    while let open = rest.range(of: "{$") {
        result += rest[..<open.lowerBound]
        let afterOpen = rest[open.upperBound...]
        if let close = afterOpen.firstIndex(of: "}"), let number = Int(afterOpen[..<close]), number >= 1, number <= values.count {
            result += values[number - 1]
            rest = afterOpen[afterOpen.index(after: close)...]
        } else {
            result += "{$"
            rest = afterOpen
        }
    }
    return result + rest
}

extension ExerciseContent {
    /// Every text a student reads, in the reader's language; numbers, ids, the expected
    /// answers and the order of the options unchanged.
    func inReadersLanguage() -> ExerciseContent {
        guard Language.current != .en else { return self }
        var content = self
        content.introduction = translated(introduction)
        content.given = given.map { Given(translated($0.name), $0.value) }
        content.questions = questions.map { $0.inReadersLanguage() }
        return content
    }
}

extension Question {
    /// The prompt, options and hints in the reader's language. Options keep their order, so
    /// the letter of the right one (`expected`) and of every known mistake stays the same.
    func inReadersLanguage() -> Question {
        var question = self
        question.prompt = translated(prompt)
        question.options = options.map(translated)
        question.hints.nudge = translated(hints.nudge)
        question.hints.formula = translated(hints.formula)
        question.hints.firstStep = translated(hints.firstStep)
        return question
    }
}

extension MiniNetError {
    /// The error with its message in the reader's language. For the errors of code that cannot
    /// use the phrase book itself: the answers-file parser, which the fuzzing harness in Fuzz/
    /// builds with MiniNet alone. The path of a file error is data and stays as it is.
    public var inReadersLanguage: MiniNetError {
        switch self {
        case let .file(path, problem): return .file(path, translated(problem))
        case let .invalidModel(problem): return .invalidModel(translated(problem))
        case let .invalidArgument(problem): return .invalidArgument(translated(problem))
        }
    }
}

extension AnswersFile {
    /// `read(from:)` with its error message in the reader's language.
    public static func load(from path: String, limits: AnswerFileLimits = .standard) throws -> AnswersFile {
        do {
            return try read(from: path, limits: limits)
        } catch let error as MiniNetError {
            throw error.inReadersLanguage
        }
    }
}

/// Runs `body`, putting the message of a `MiniNetError` it throws into the reader's language.
func inReadersLanguage<Result>(_ body: () throws -> Result) throws -> Result {
    do {
        return try body()
    } catch let error as MiniNetError {
        throw error.inReadersLanguage
    }
}

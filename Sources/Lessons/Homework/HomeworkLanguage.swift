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
//   `translated(_:with:)`, whose holes are filled after the translation: a student id, a file
//   name or a course name is data and is never translated.

import MiniNet

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

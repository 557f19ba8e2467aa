/// Text, Markdown and JSON views of exercises, keys and check reports.
public enum HomeworkRendering {
    // MARK: - Exercises

    /// The width of the text views: a terminal's 80 columns.
    static let textWidth = 80

    public static func text(_ exercise: Exercise) -> String {
        let heading = "\(exercise.id): \(exercise.title)  ("
            + translated("{$1}, student {$2}, {$3}", with: exercise.lesson.displayName, exercise.student, exercise.mode.label) + ")"
        var lines = wrapWords(heading, width: textWidth) + [""]
        lines += wrapWords(exercise.introduction, width: textWidth)
        lines += ["", translated("Given:")]
        for given in exercise.given { lines += givenLines(given).map { "  " + $0 } }
        let checking = exercise.mode.isPractice
            ? "`tutor homework check \(exercise.id) --student \(exercise.student) --answers FILE`"
            : translated("{$1} checks its form", with: "`tutor homework check --sheet YOUR-SHEET.json --answers FILE`")
        lines += [""] + wrapWords(translated("Questions (write the answers in a file: {$1}):", with: checking), width: textWidth)
        for question in exercise.questions {
            lines += hangingLines("  \(question.id).", question.prompt, column: 6, width: textWidth)
            lines.append("      [\(question.answerFormat)]")
            for (index, option) in question.options.enumerated() {
                lines.append("      \(Question.letter(index))) \(option)")
            }
        }
        return lines.joined(separator: "\n")
    }

    public static func markdown(_ exercise: Exercise) -> String {
        var lines = ["## \(exercise.id): \(exercise.title)", "",
                     "*" + translated("{$1}, student {$2}, {$3}", with: exercise.lesson.displayName, "`\(exercise.student)`", exercise.mode.label) + "*",
                     "", exercise.introduction, "",
                     "**\(translated("Given"))**", "", "```"]
        for given in exercise.given { lines += givenLines(given) }
        lines += ["```", "", "**\(translated("Questions"))**", ""]
        for question in exercise.questions {
            lines.append("- **\(question.id)** \(question.prompt) *(\(question.answerFormat))*")
            for (index, option) in question.options.enumerated() {
                lines.append("  - \(Question.letter(index))) \(option)")
            }
        }
        return lines.joined(separator: "\n")
    }

    public static func json(_ exercise: Exercise) -> JSONOutput {
        .object([
            ("exercise", .string(exercise.id)), ("lesson", .string(exercise.lesson.rawValue)),
            ("title", .string(exercise.title)), ("student", .string(exercise.student)),
            ("mode", .string(exercise.mode.isPractice ? "practice" : "course")),
            ("introduction", .string(exercise.introduction)),
            ("given", .array(exercise.given.map { given in
                let value: JSONOutput
                switch given.value {
                case let .number(number): value = .number(number)
                case let .vector(numbers): value = .array(numbers.map { .number($0) })
                case let .matrix(rows): value = .array(rows.map { .array($0.map { .number($0) }) })
                }
                return .object([("name", .string(given.name)), ("value", value)])
            })),
            ("questions", .array(exercise.questions.map { question in
                var members: [(String, JSONOutput)] = [
                    ("id", .string(question.id)), ("prompt", .string(question.prompt)),
                    ("kind", .string(kindName(question.expected))), ("tolerance", .number(question.tolerance)),
                    ("points", .number(Double(question.points))), ("shared_per_number", .bool(question.sharesPoints)),
                    ("answer_format", .string(question.answerFormat)),
                ]
                if case let .vector(values) = question.expected { members.append(("count", .number(Double(values.count)))) }
                if !question.options.isEmpty {
                    members.append(("options", .object(question.options.enumerated().map { (Question.letter($0.offset), .string($0.element)) })))
                }
                return .object(members)
            })),
            ("max_score", .number(Double(exercise.maxScore))),
        ])
    }

    static func kindName(_ expected: ExpectedAnswer) -> String {
        switch expected {
        case .number: return "number"
        case .vector: return "list"
        case .integer: return "integer"
        case .choice: return "choice"
        }
    }

    /// "1 point", "2 points".
    static func pointsText(_ points: Int) -> String { points == 1 ? translated("1 point") : translated("{$1} points", with: points) }

    static func givenLines(_ given: Given) -> [String] {
        switch given.value {
        case let .number(value): return ["\(given.name) = \(formatNumber(value))"]
        case let .vector(values): return ["\(given.name) = [\(values.map(formatNumber).joined(separator: ", "))]"]
        case let .matrix(rows):
            let cells = rows.map { $0.map(formatNumber) }
            let width = cells.joined().map(\.count).max() ?? 1
            return ["\(given.name) ="] + cells.map { row in
                "    " + row.map { String(repeating: " ", count: width - $0.count) + $0 }.joined(separator: "  ")
            }
        }
    }

    // MARK: - Answers files (keys)

    /// The plain `name = value` form; a valid answers file.
    public static func text(_ answers: AnswersFile, title: String? = nil) -> String {
        var lines = [String]()
        if let title { lines.append("# " + title) }
        if let exercise = answers.exercise { lines.append("exercise = \(exercise)") }
        if let student = answers.student { lines.append("student = \(student)") }
        for (key, value) in answers.answers { lines.append("\(key) = \(valueText(value))") }
        return lines.joined(separator: "\n")
    }

    /// The JSON form; a valid answers file.
    public static func json(_ answers: AnswersFile) -> JSONOutput {
        var members = [(String, JSONOutput)]()
        if let exercise = answers.exercise { members.append(("exercise", .string(exercise))) }
        if let student = answers.student { members.append(("student", .string(student))) }
        members.append(("answers", .object(answers.answers.map { key, value in
            switch value {
            case let .number(number): return (key, .number(number))
            case let .vector(numbers): return (key, .array(numbers.map { .number($0) }))
            case let .text(text): return (key, .string(text))
            }
        })))
        return .object(members)
    }

    static func valueText(_ value: AnswerValue) -> String {
        switch value {
        case let .number(number): return formatNumber(number)
        case let .vector(numbers): return numbers.map(formatNumber).joined(separator: ", ")
        case let .text(text): return text
        }
    }

    // MARK: - Check reports

    public static func text(_ report: CheckReport, mode: HomeworkMode = .practice) -> String {
        var lines = [translated("{$1}, student {$2} ({$3}):", with: report.exerciseID, report.student, mode.label)]
        for result in report.results {
            let mark = result.passed ? "✓" : result.status == .partial ? "◐" : "✗"
            var line = "  \(mark) \(result.questionID)  \(formatPoints(result.pointsEarned))/\(result.points)"
            if let right = result.numbersRight, let total = result.numbersTotal, !result.passed {
                line += "  (" + translated("{$1} of {$2} numbers right", with: right, total) + ")"
            }
            if let problem = result.problem { line += "  (\(problem))" }
            lines.append(line)
            for mistake in result.mistakes { lines.append("      " + translated("looks like: {$1}", with: mistake.description)) }
            for (index, hint) in result.hints.enumerated() { lines.append("      " + (index == 0 ? translated("hint: {$1}", with: hint) : hint)) }
        }
        for key in report.unknownKeys {
            lines.append("  ? \(key)  " + translated("unknown key, not a question of {$1} (ignored)", with: report.exerciseID))
        }
        let score = "\(formatPoints(report.score))/\(report.maxScore)"
        lines.append(report.allPassed ? translated("Score: {$1}, all correct.", with: score) : translated("Score: {$1}", with: score))
        return lines.joined(separator: "\n")
    }

    public static func json(_ report: CheckReport, mode: HomeworkMode = .practice) -> JSONOutput {
        .object([
            ("exercise", .string(report.exerciseID)), ("student", .string(report.student)),
            ("mode", .string(mode.isPractice ? "practice" : "course")),
            ("score", .number(report.score)), ("max_score", .number(Double(report.maxScore))),
            ("passed", .bool(report.allPassed)),
            ("questions", .array(report.results.map { result in
                .object([
                    ("id", .string(result.questionID)), ("status", .string(result.status.rawValue)),
                    ("points", .number(result.pointsEarned)), ("max_points", .number(Double(result.points))),
                    ("numbers_right", result.numbersRight.map { .number(Double($0)) } ?? .null),
                    ("problem", result.problem.map { .string($0) } ?? .null),
                    ("mistakes", .array(result.mistakes.map { .object([("id", .string($0.id)), ("description", .string($0.description))]) })),
                    ("hint", result.hint.map { .string($0) } ?? .null),
                    ("hints", .array(result.hints.map { .string($0) })),
                ])
            })),
            ("unknown_keys", .array(report.unknownKeys.map { .string($0) })),
        ])
    }
}

// MARK: - Format reports (course mode: the form of the answers, never their correctness)

extension HomeworkRendering {
    public static func text(_ report: FormatReport) -> String {
        var lines = [translated("{$1}, student {$2} ({$3}): the form of your answers", with: report.exerciseID, report.student, report.mode.label)]
        for question in report.questions {
            if let problem = question.problem {
                lines.append("  ✗ \(question.id)  \(problem)")
            } else {
                lines.append("  · \(question.id)  " + translated("answered in the expected form"))
            }
        }
        for key in report.unknownKeys {
            lines.append("  ? \(key)  " + translated("unknown key, not a question of {$1} (ignored)", with: report.exerciseID))
        }
        lines.append(report.isWellFormed
            ? translated("Every question is answered in the expected form. Whether the answers are right is decided when your teacher grades them.")
            : translated("{$1} of {$2} questions need a fix in their form (see above).", with: report.problemCount, report.questions.count))
        return lines.joined(separator: "\n")
    }

    public static func json(_ report: FormatReport) -> JSONOutput {
        .object([
            ("exercise", .string(report.exerciseID)), ("student", .string(report.student)),
            ("mode", .string(report.mode.isPractice ? "practice" : "course")),
            ("well_formed", .bool(report.isWellFormed)),
            ("questions", .array(report.questions.map { question in
                .object([("id", .string(question.id)), ("problem", question.problem.map { .string($0) } ?? .null)])
            })),
            ("unknown_keys", .array(report.unknownKeys.map { .string($0) })),
        ])
    }
}

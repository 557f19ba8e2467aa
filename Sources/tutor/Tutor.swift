import ArgumentParser
import Foundation
import Lessons
import MiniNet

@main
struct Tutor: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tutor",
        abstract: translated("Learn how a convolutional network's prediction is explained, one verified step at a time."),
        discussion: translated("""
        Start with `tutor train` to train the small network (or use the one shipped in models/), \
        then `tutor predict` to classify a picture, and `tutor homework list` for exercises.

        Environment: TUTOR_THREADS=N limits the matrix products to N threads (default: every \
        core; the results are the same for any N). TUTOR_GEMM=reference runs MiniNet's own \
        plain-loop products instead of OpenBLAS, and TUTOR_WINOGRAD=off computes every \
        convolution through im2col: both change the rounding, to show how large it is. \
        TUTOR_SIMD=sse, avx2 or avx512 chooses the vector width of MiniNet's own loops \
        (default: the widest the processor has; the results are the same for any width). \
        TUTOR_MODELS=FOLDER is where the shipped networks are looked for first (by default, \
        models/ of the repository, found from the current folder or from tutor's own place).
        """),
        subcommands: [
            LessonsCommand.self, LessonCommand.self, TrainCommand.self, PredictCommand.self,
            ExplainCommand.self, DatasetCommand.self, HomeworkCommand.self, ExportDocsCommand.self, BenchCommand.self,
            EvaluateCommand.self,
        ]
    )

    @OptionGroup var language: LanguageOption

    /// Runs the command; every failure becomes one line on stderr starting with "tutor:", and
    /// an exit status: 1 for bad input (a missing or corrupt file) or a failed check, 2 for a
    /// usage error (an unknown option, a value out of range), 0 for --help and --version.
    static func main() {
        // Under a file size limit (`ulimit -f`), a write past it raises SIGXFSZ, which would
        // kill the process without a word and leave the temporary file behind. Ignored, the
        // write fails with EFBIG instead, and writeFileAtomically reports it in one line and
        // removes the temporary file.
        signal(SIGXFSZ, SIG_IGN)
        MiniNet.configureAllocator()
        do {
            try chooseLanguage()
            try RunSettings.apply()
            try checkCommandNames()
            var command = try parseAsRoot()
            try command.run()
            try StandardStreams.flushOutput()
        } catch {
            var code = exitCode(for: error)
            if code == .success {
                // --help: the parser's own words in the reader's language too (`HelpText`).
                let columns = HelpText.columns
                let help = HelpText.localized(fullMessage(for: error, columns: columns), columns: columns)
                do { try StandardStreams.writeOutput(help.isEmpty ? "" : help + "\n") } catch {
                    StandardStreams.writeError("tutor: \(error)\n")
                    Foundation.exit(1)
                }
                Foundation.exit(0)
            }
            // ArgumentParser reports usage errors as EX_USAGE (64); tutor documents 2.
            if code == .validationFailure { code = ExitCode(2) }
            // tutor's own messages are one line by construction: a line break or an escape in a
            // path or name inside one is shown escaped, not obeyed. The parser's messages carry
            // usage lines after the first, which `oneLine` drops.
            let text = error is MiniNetError || error is ValidationError
                ? escapedForMessage(errorMessage(for: error)) : oneLine(errorMessage(for: error))
            if !text.isEmpty { StandardStreams.writeError("tutor: \(text)\n") }
            Foundation.exit(code.rawValue)
        }
    }

    /// A first word that is no command (`tutor lessn gradcam`, or `tutor help TOPIC` with a topic
    /// that is none): the parser would say only "Unexpected argument", or for `help` print the
    /// main help and exit 0, as if the question had been answered. The message names the
    /// commands, and the nearest one when a typing slip explains the word.
    static func checkCommandNames() throws {
        var arguments: [String] = []
        var words = CommandLine.arguments.dropFirst().makeIterator()
        while let word = words.next() {
            if word == "--lang" { _ = words.next() } else if !word.hasPrefix("-") { arguments.append(word) }
        }
        let names = configuration.subcommands.map { $0._commandName }
        let word: String
        if arguments.first == "help" {
            guard arguments.count > 1 else { return }
            word = arguments[1]
        } else {
            guard let first = arguments.first else { return }
            word = first
        }
        guard !names.contains(word) else { return }
        if let nearest = nearestName(to: word, among: names) {
            throw ValidationError(translated("There is no command '{$1}'; did you mean '{$2}'? The commands are: {$3}.",
                                             with: word, nearest, names.joined(separator: ", ")))
        }
        throw ValidationError(translated("There is no command '{$1}'; the commands are: {$2}.", with: word, names.joined(separator: ", ")))
    }

    /// The name a typing slip most likely came from: the one at the smallest edit distance
    /// (insertions, deletions, substitutions and swaps of two neighbours, each counting 1), if
    /// that is at most 2 and less than half the word's length, and no other name is as near.
    static func nearestName(to word: String, among names: [String]) -> String? {
        let typed = Array(word.lowercased())
        let scored = names.map { name in (name, editDistance(typed, Array(name))) }.sorted { $0.1 < $1.1 }
        guard let best = scored.first, best.1 <= 2, 2 * best.1 < typed.count,
              scored.count < 2 || scored[1].1 > best.1 else { return nil }
        return best.0
    }

    /// The optimal-string-alignment distance between two words.
    static func editDistance(_ a: [Character], _ b: [Character]) -> Int {
        guard !a.isEmpty else { return b.count }
        guard !b.isEmpty else { return a.count }
        var table = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in 0...a.count { table[i][0] = i }
        for j in 0...b.count { table[0][j] = j }
        for i in 1...a.count {
            for j in 1...b.count {
                let substitution = table[i - 1][j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)
                table[i][j] = min(table[i - 1][j] + 1, table[i][j - 1] + 1, substitution)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] { table[i][j] = min(table[i][j], table[i - 2][j - 2] + 1) }
            }
        }
        return table[a.count][b.count]
    }

    /// Sets the language of everything printed from here on, before the arguments are parsed,
    /// so that `--help` and the parser's own messages are in it too (see `Language.choose`).
    static func chooseLanguage() throws {
        let environment = ProcessInfo.processInfo.environment
        switch Language.choose(arguments: Array(CommandLine.arguments.dropFirst()), environment: environment) {
        case let .chosen(language, _):
            Language.processDefault = language
        case let .unknown(value, from):
            // The complaint is in the language the rest asks for (after an unknown --lang,
            // TUTOR_LANG and the locale; after an unknown TUTOR_LANG, the locale), the best guess
            // at what the reader reads.
            var rest = environment
            if from != "--lang" { rest["TUTOR_LANG"] = nil }
            if case let .chosen(fallback, _) = Language.choose(arguments: [], environment: rest) {
                Language.processDefault = fallback
            }
            let choices = Language.allCases.map { "\($0.rawValue) (\($0.nativeName))" }.joined(separator: ", ")
            let example = from == "--lang" ? "--lang vi" : "TUTOR_LANG=vi"
            throw ValidationError(translated("{$1} '{$2}' is not a language tutor speaks; use {$3}, for example {$4}.",
                                             with: from, value, choices, example))
        }
    }

    /// The one-line message for a failure, in the reader's language. The parser's own messages
    /// ("Unknown option '--x'") are English and translated here, as a whole (errors.txt);
    /// `tutor`'s own were written in the reader's language where they were thrown, and a
    /// MiniNet error keeps its path apart from the translated problem (`readerMessage`).
    static func errorMessage(for error: Error) -> String {
        switch error {
        case is MiniNetError, is ValidationError:
            return readerMessage(for: error)
        default:
            return translated(oneLine(message(for: error)))
        }
    }

    /// The first line of an error message, without the usage text that would bury it; a list
    /// of choices that follows it ("Please provide one of the following:" then "  - cam", …)
    /// joins it, so that an invalid --method still names the valid ones.
    static func oneLine(_ message: String) -> String {
        let lines = message.trimmingCharacters(in: .whitespacesAndNewlines)
            .split(separator: "\n", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        guard var first = lines.first else { return "" }
        if first.hasPrefix("Error: ") { first.removeFirst("Error: ".count) }
        let choices = lines.dropFirst().prefix { $0.hasPrefix("- ") }.map { String($0.dropFirst(2)) }
        guard !choices.isEmpty else { return first }
        return first + " " + choices.joined(separator: ", ")
    }
}

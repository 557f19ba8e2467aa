import Foundation
import Lessons
import XCTest

/// The command line in Vietnamese (issue 14), run as a person would: every `--help` page in
/// Vietnamese, with no English sentence but the parser's own few lines and with the terms of
/// docs/glossary.md; the language chosen by `--lang`, `TUTOR_LANG` and the locale; errors as
/// one Vietnamese line with the English exit status; and, from the sources, a Vietnamese phrase
/// for every text the commands translate and a template for every error MiniNet throws.
final class VietnameseCommandLineTests: XCTestCase {
    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    var binary: URL {
        get throws {
            let url = Bundle.main.bundleURL.appendingPathComponent("tutor")
            guard FileManager.default.isExecutableFile(atPath: url.path) else { throw XCTSkip("tutor is not built at \(url.path)") }
            return url
        }
    }

    /// (exit status, standard output, standard error), with the help text as wide as on an
    /// 80-column terminal (COLUMNS) so that its wrapping does not depend on where tests run.
    func run(_ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, output: String, errors: String) {
        let process = Process()
        process.executableURL = try binary
        process.arguments = arguments
        process.environment = ChildEnvironment.tutor(adding: ["COLUMNS": "80"].merging(environment) { _, given in given })
        process.currentDirectoryURL = Self.repositoryRoot
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        DispatchQueue.global().asyncAfter(deadline: .now() + 300) { if process.isRunning { process.terminate() } }
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        let errorData = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: outputData, as: UTF8.self), String(decoding: errorData, as: UTF8.self))
    }

    // MARK: Help

    /// The lines of a help page that must read as Vietnamese: every line but the usage
    /// synopsis (names only) and the names that are code (options, subcommands, environment
    /// variables). The words swift-argument-parser adds (headings, "(default: …)", "Show help
    /// information.") are translated by `HelpText` and checked like the rest.
    static func checkableLines(_ page: String) -> [String] {
        // The values listed after "(giá trị:" are names; the words around them are checked.
        let annotations = page.replacingOccurrences(of: "\\(giá trị: [^);]*", with: "(giá trị: ", options: .regularExpression)
        var lines: [String] = []
        var section = ""
        let usage = "CÁCH DÙNG:"
        for line in annotations.components(separatedBy: "\n") {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if ["ĐỐI SỐ:", "TÙY CHỌN:", "LỆNH CON:"].contains(trimmed) || trimmed.hasPrefix(usage) {
                section = trimmed.hasPrefix(usage) ? usage : trimmed
                continue
            }
            if trimmed.isEmpty { if section == usage { section = "" }; continue }
            if section == usage { continue }                      // the synopsis: names only
            if trimmed.hasPrefix("tutor ") { continue }           // an example command: names only
            var text = trimmed.hasPrefix("TỔNG QUAN: ") ? String(trimmed.dropFirst("TỔNG QUAN: ".count)) : trimmed
            // A subcommand's name heads its row; option names are code, as in backticks.
            if section == "LỆNH CON:", line.hasPrefix("  "), !line.hasPrefix("   ") {
                text = String(text.drop { !$0.isWhitespace })
            }
            text = text.replacingOccurrences(of: "(?<![\\w/.])--?[A-Za-z][\\w-]*", with: " ", options: .regularExpression)
            // And value placeholders: <baseline> names what to type, not the term.
            text = text.replacingOccurrences(of: "<[^>]*>", with: " ", options: .regularExpression)
            // So are environment variables: LC_ALL is not the English word "all".
            text = text.replacingOccurrences(of: "\\b[A-Z][A-Z0-9]*(_[A-Z0-9]+)+\\b", with: " ", options: .regularExpression)
            lines.append(text)
        }
        return lines
    }

    /// The subcommands a help page lists.
    static func subcommands(onHelpPage page: String) -> [String] {
        guard let start = page.range(of: "\nSUBCOMMANDS:\n") else { return [] }
        return page[start.upperBound...].components(separatedBy: "\n")
            .prefix { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
            .filter { $0.hasPrefix("  ") && !$0.hasPrefix("   ") }
            .compactMap { $0.split(separator: " ").first.map(String.init) }
    }

    /// Every command and subcommand, found by walking the help pages from `tutor --help`, so a
    /// command added later is checked too; `help` is the parser's own.
    func everyCommand() throws -> [[String]] {
        var found: [[String]] = []
        var pending: [[String]] = [[]]
        while let command = pending.popLast() {
            found.append(command)
            let page = try run(command + ["--help"]).output
            pending += Self.subcommands(onHelpPage: page).filter { $0 != "help" }.map { command + [$0] }
        }
        return found.sorted { $0.joined(separator: " ") < $1.joined(separator: " ") }
    }

    func testEveryHelpPageInVietnameseHasNoEnglishSentence() throws {
        let commands = try everyCommand()
        XCTAssertGreaterThanOrEqual(commands.count, 20, "\(commands)")
        let detector = EnglishDetector()
        let glossary = try GlossaryRules(contentsOf: Self.repositoryRoot.appendingPathComponent("docs/glossary.md"))
        for command in commands {
            let name = (["tutor"] + command).joined(separator: " ")
            let english = try run(command + ["--help"])
            let vietnamese = try run(command + ["--help", "--lang", "vi"])
            XCTAssertEqual(vietnamese.status, 0, "\(name): \(vietnamese.errors)")
            XCTAssertEqual(vietnamese.errors, "", name)
            XCTAssertNotEqual(vietnamese.output, english.output, "\(name) --help is the same in both languages")
            for parserWords in ["OVERVIEW:", "USAGE:", "OPTIONS:", "ARGUMENTS:", "SUBCOMMANDS:", "(values:", "default:",
                                "Show help information.", "for detailed help."] {
                XCTAssertFalse(vietnamese.output.contains(parserWords), "\(name) --help --lang vi: \(parserWords)")
            }
            for page in [english, vietnamese] {
                let lines = page.output.components(separatedBy: "\n")
                XCTAssertLessThanOrEqual(lines.map(\.count).max() ?? 0, 80, name)
                // An indented entry (an option, a method, an example) continues indented, never
                // at the left margin where the parser's own wrapping would put it.
                let unindented = zip(lines, lines.dropFirst()).filter { previous, line in
                    previous.hasPrefix("  ") && !line.isEmpty && !line.hasPrefix(" ")
                }
                XCTAssertTrue(unindented.isEmpty, "\(name): \(unindented.map { $0.1 })")
            }
            let left = Self.checkableLines(vietnamese.output).filter(detector.isEnglish)
            XCTAssertTrue(left.isEmpty, "\(name) --help --lang vi: \(left.count) English lines:\n" + left.joined(separator: "\n"))
            let offTerms = glossary.violations(in: Self.checkableLines(vietnamese.output).joined(separator: "\n"))
            XCTAssertTrue(offTerms.isEmpty, "\(name) --help --lang vi: terms not as docs/glossary.md says:\n" + offTerms.joined(separator: "\n"))
            // The parser's own `help` subcommand shows the same page.
            if !command.isEmpty {
                let viaHelp = try run(["help"] + command + ["--lang", "vi"])
                XCTAssertEqual(viaHelp.output, vietnamese.output, "tutor help \(command.joined(separator: " ")) --lang vi")
            }
        }
    }

    /// The filter itself: it keeps every sentence, ours and the parser's, and drops only the
    /// synopsis and the names.
    func testTheHelpFilterKeepsEverySentenceAndDropsNames() {
        let page = """
            TỔNG QUAN: Learn how the network works.

            CÁCH DÙNG: tutor lesson [--model <model>] [--weights <weights>]
                       [--only <only> ...] <name>

            ĐỐI SỐ:
              <name>                  The lesson to run.

            TÙY CHỌN:
              --format <format>       Định dạng của bài học. (giá trị: text, markdown,
                                      json, html; mặc định: text)
              -h, --help              Show help information.

            LỆNH CON:
              show                    Hiện một bài tập.

              Xem 'tutor help homework <lệnh-con>' để biết chi tiết.
            """
        let lines = Self.checkableLines(page)
        let english = lines.filter(EnglishDetector().isEnglish)
        // The parser's words left in English are found like any other English sentence.
        XCTAssertEqual(english.count, 3, "\(english)")
        XCTAssertEqual(english.first, "Learn how the network works.")
        XCTAssertTrue(english[1].hasSuffix("The lesson to run."), "\(english)")
        XCTAssertTrue(english.last?.hasSuffix("Show help information.") == true, "\(english)")
        XCTAssertFalse(lines.joined().contains("markdown"))
        XCTAssertFalse(lines.joined().contains("show "))
        XCTAssertEqual(Self.subcommands(onHelpPage: page.replacingOccurrences(of: "LỆNH CON:", with: "SUBCOMMANDS:")), ["show"])
    }

    // MARK: Choosing the language

    func testTUTOR_LANGAndTheLocaleChooseVietnamese() throws {
        let vietnameseAbstract = Phrasebook.of(.vi).translate("List the lessons, in teaching order, with a one-line summary of each.")
        XCTAssertNotEqual(vietnameseAbstract, "List the lessons, in teaching order, with a one-line summary of each.")
        for environment in [["TUTOR_LANG": "vi"], ["LANG": "vi_VN.UTF-8"], ["LC_ALL": "vi_VN.UTF-8", "LANG": "en_US.UTF-8"]] {
            let result = try run(["--help"], environment: environment)
            XCTAssertEqual(result.status, 0, "\(environment)")
            XCTAssertTrue(result.output.contains("Liệt kê các bài học"), "\(environment):\n\(result.output)")
        }
        for environment in [["LANG": "C"], ["LANG": "fr_FR.UTF-8"], ["TUTOR_LANG": "en", "LANG": "vi_VN.UTF-8"]] {
            let result = try run(["--help"], environment: environment)
            XCTAssertTrue(result.output.contains("List the lessons, in teaching order"), "\(environment):\n\(result.output)")
        }
        // --lang comes first, before and after the subcommand.
        let flag = try run(["lessons", "--help", "--lang", "en"], environment: ["TUTOR_LANG": "vi"])
        XCTAssertTrue(flag.output.contains("List the lessons"), flag.output)
    }

    func testAnUnknownLanguageIsOneLineAndExitStatus2() throws {
        let unknown = try run(["lessons", "--lang", "fr"])
        XCTAssertEqual(unknown.status, 2)
        XCTAssertEqual(unknown.output, "")
        XCTAssertEqual(unknown.errors.split(separator: "\n").count, 1, unknown.errors)
        XCTAssertTrue(unknown.errors.hasPrefix("tutor: --lang 'fr' "), unknown.errors)
        // Said in the language the environment asks for.
        let inVietnamese = try run(["lessons", "--lang", "fr"], environment: ["LANG": "vi_VN.UTF-8"])
        XCTAssertEqual(inVietnamese.status, 2)
        XCTAssertEqual(inVietnamese.errors.split(separator: "\n").count, 1, inVietnamese.errors)
        XCTAssertTrue(Self.isVietnamese(inVietnamese.errors), inVietnamese.errors)
        let variable = try run(["lessons"], environment: ["TUTOR_LANG": "klingon"])
        XCTAssertEqual(variable.status, 2)
        XCTAssertEqual(variable.errors.split(separator: "\n").count, 1, variable.errors)
        XCTAssertTrue(variable.errors.contains("TUTOR_LANG 'klingon'"), variable.errors)
        // An unknown TUTOR_LANG is complained about in the locale's language, as an unknown --lang is.
        let variableInVietnamese = try run(["lessons"], environment: ["TUTOR_LANG": "fr", "LANG": "vi_VN.UTF-8"])
        XCTAssertEqual(variableInVietnamese.status, 2)
        XCTAssertTrue(Self.isVietnamese(variableInVietnamese.errors) && variableInVietnamese.errors.contains("TUTOR_LANG 'fr'"),
                      variableInVietnamese.errors)
        // What a person typed is quoted as typed, not translated: 'yes' stays 'yes'.
        let typed = try run(["predict", "images/shapes/circle.png", "--top", "yes", "--lang", "vi"])
        XCTAssertEqual(typed.status, 2)
        XCTAssertTrue(Self.isVietnamese(typed.errors) && typed.errors.contains("'yes'"), typed.errors)
    }

    // MARK: Errors

    /// Whether `text` has a letter only Vietnamese (of the two languages) writes: à, ă, đ, ế, …
    static func isVietnamese(_ text: String) -> Bool {
        text.unicodeScalars.contains { $0.properties.isAlphabetic && (0xC0...0x1EF9).contains($0.value) }
    }

    /// Bad input in Vietnamese: one Vietnamese line on stderr, no English sentence, the exit
    /// status of the same failure in English.
    func testErrorsInVietnameseAreOneVietnameseLineWithTheEnglishExitStatus() throws {
        let cases: [(arguments: [String], status: Int32)] = [
            (["predict", "images/shapes/no-such-picture.png"], 1),                        // a missing file (MiniNet)
            (["predict", "images/shapes/circle.png", "--weights", "README.md"], 1),       // a corrupt file (MiniNet)
            (["train", "--epochs", "abc"], 2),                                           // a value the parser cannot read
            (["train", "--seed", "-1"], 2),                                              // a seed below 0
            (["explain", "images/shapes/circle.png", "--noise", "0,15"], 2),            // a decimal comma
            (["train", "--epochs", "0"], 2),                                             // a value validate() refuses
            (["lessons", "--bogus"], 2),                                                 // an unknown option
            (["lesson"], 2),                                                             // a missing argument
            (["lessons", "extra"], 2),                                                   // an unexpected argument
            (["train", "--epochs"], 2),                                                  // a missing value
            (["lessons", "--json=yes"], 2),                                              // a value for a flag
            (["explain", "images/shapes/circle.png", "--method", "grad"], 2),            // not one of many choices
            (["lesson", "cam", "--format", "pdf"], 2),                                   // not one of a few choices
            (["lesson", "no-such-lesson"], 2),
            (["explain", "images/shapes/circle.png", "--class", "hexagon"], 2),         // thrown while running
            (["homework", "check", "cam-1", "--student", "alice", "--answers", "no-such-answers.txt"], 2),
        ]
        let detector = EnglishDetector()
        for (arguments, status) in cases {
            let english = try run(arguments + ["--lang", "en"])
            let vietnamese = try run(arguments + ["--lang", "vi"])
            XCTAssertEqual(english.status, status, "\(arguments) in English: \(english.errors)")
            XCTAssertEqual(vietnamese.status, english.status, "\(arguments): the exit status depends on the language")
            let lines = vietnamese.errors.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
            XCTAssertEqual(lines.count, 1, "\(arguments): \(vietnamese.errors)")
            let line = String(lines.first ?? "")
            XCTAssertTrue(line.hasPrefix("tutor: "), line)
            XCTAssertTrue(Self.isVietnamese(line), "\(arguments): not Vietnamese: \(line)")
            XCTAssertFalse(detector.isEnglish(line), "\(arguments): English left: \(line)")
            XCTAssertNotEqual(line, english.errors.trimmingCharacters(in: .newlines), "\(arguments)")
        }
    }

    // MARK: Every text has its phrase

    /// The en: lines of the Vietnamese phrase files, as the phrase book reads them.
    static func vietnameseKeys() throws -> Set<String> {
        let folder = repositoryRoot.appendingPathComponent("Sources/Lessons/Resources/vi/phrases")
        var keys = Set<String>()
        for file in try FileManager.default.contentsOfDirectory(atPath: folder.path) where file.hasSuffix(".txt") {
            let source = try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
            for line in source.components(separatedBy: "\n") {
                let trimmed = line.trimmingCharacters(in: .whitespaces)
                guard trimmed.hasPrefix("en:") else { continue }
                var text = trimmed.dropFirst(3)
                if text.first == " " { text = text.dropFirst() }
                keys.insert(text.replacingOccurrences(of: "\\n", with: "\n"))
            }
        }
        return keys
    }

    /// Every string literal given to `translated(…)`, `.translated(…)` or `translated(…, with:)`
    /// in Sources/tutor is the English line of a Vietnamese phrase.
    func testEveryTextTheCommandsTranslateHasAVietnamesePhrase() throws {
        let keys = try Self.vietnameseKeys()
        let literals = try Self.swiftFiles(in: "Sources/tutor").flatMap { file in
            SwiftLiterals.arguments(of: ["translated"], in: try String(contentsOf: file, encoding: .utf8), firstArgumentOnly: true)
                .map { (file.lastPathComponent, $0) }
        }
        XCTAssertGreaterThan(literals.count, 200)
        for (file, literal) in literals where literal.replacingOccurrences(of: SwiftLiterals.interpolation, with: "").contains(where: \.isLetter) {
            // translated("\(error)") translates a text made elsewhere; every other literal is a key.
            // A translated text with values has {$n} holes, filled after the lookup.
            XCTAssertFalse(literal.contains(SwiftLiterals.interpolation), "\(file): \\(…) inside translated(\"…\"): use {$n} and with:")
            XCTAssertTrue(keys.contains(literal), "\(file): no Vietnamese phrase for:\n\(literal)")
        }
    }

    /// Every problem text of a MiniNetError thrown in MiniNet or in `tutor` (the literal part
    /// of `MiniNetError.file(path, "…")`, `.invalidArgument("…")`, `.invalidModel("…")`, and of
    /// the helpers that build them: `fail("…")`, `Problem("…")`, …) matches a Vietnamese
    /// template. An interpolated value is replaced by a sample that has a translation of its own,
    /// so the translation differs from the sample exactly when a template matched.
    func testEveryErrorMiniNetThrowsHasAVietnameseTemplate() throws {
        let book = try Phrasebook.load(.vi)
        let sample = "no such file"
        XCTAssertNotEqual(book.translate(sample), sample)
        var checked = 0
        for (folder, calls) in [("Sources/MiniNet", SwiftLiterals.miniNetErrorCalls + SwiftLiterals.miniNetProblemHelpers),
                                ("Sources/tutor", SwiftLiterals.miniNetErrorCalls)] {
            for file in try Self.swiftFiles(in: folder) {
                let source = try String(contentsOf: file, encoding: .utf8)
                for message in SwiftLiterals.arguments(of: calls, in: source, skippingFirstArgumentOf: ["MiniNetError.file"]) {
                    guard message.replacingOccurrences(of: SwiftLiterals.interpolation, with: "").contains(where: \.isLetter) else { continue }
                    let text = message.replacingOccurrences(of: SwiftLiterals.interpolation, with: sample)
                    XCTAssertNotEqual(book.translate(text), text, "\(file.lastPathComponent): no Vietnamese template for:\n\(message.replacingOccurrences(of: SwiftLiterals.interpolation, with: "\\(…)"))")
                    checked += 1
                }
            }
        }
        XCTAssertGreaterThan(checked, 150)
    }

    static func swiftFiles(in folder: String) throws -> [URL] {
        let root = repositoryRoot.appendingPathComponent(folder)
        let paths = FileManager.default.enumerator(atPath: root.path)?.compactMap { $0 as? String } ?? []
        return paths.filter { $0.hasSuffix(".swift") }.sorted().map { root.appendingPathComponent($0) }
    }

    func testTheLiteralReaderFollowsSwiftsRules() {
        let source = #"""
            // translated("in a comment")
            let a = translated("one \"quoted\" {$1}", with: x)
            let b = ArgumentHelp.translated(
                "two")
            let c = translated("""
                first \
                line

                second
                """)
            throw MiniNetError.file(path, "has shape \(input.shape), not " + "\(other)")
            throw MiniNetError.invalidArgument(ok ? "yes (\(f("x")))" : "no")
            throw MiniNetError.file(path, translated("already {$1}", with: 1))
            """#
        XCTAssertEqual(SwiftLiterals.arguments(of: ["translated"], in: source),
                       ["one \"quoted\" {$1}", "two", "first line\n\nsecond", "already {$1}"])
        let i = SwiftLiterals.interpolation
        XCTAssertEqual(SwiftLiterals.arguments(of: SwiftLiterals.miniNetErrorCalls, in: source, skippingFirstArgumentOf: ["MiniNetError.file"]),
                       ["has shape \(i), not \(i)", "yes (\(i))", "no"])
    }
}

/// Reads the string literals passed to given functions out of Swift source, with Swift's
/// rules for escapes, multi-line literals (indentation, `\` at a line end) and `+` between
/// literals; an interpolation `\(…)` becomes `interpolation`. Only literals that are arguments
/// of the call itself count, not those of a call nested in it.
enum SwiftLiterals {
    static let interpolation = "\u{0}"

    static let miniNetErrorCalls = ["MiniNetError.file", ".invalidArgument", ".invalidModel"]
    /// MiniNet's helpers that wrap their text into a MiniNetError (directly or through
    /// TorchCheckpoint.Problem, UnpicklingError and NumpyFile's SyntaxError).
    static let miniNetProblemHelpers = ["fail", "Problem", "problem", "invalid", "error", "SyntaxError"]

    /// The messages given to `calls` (names as written before "(", e.g. "fail" or
    /// ".invalidModel"). For a call in `skippingFirstArgumentOf`, its first argument (a path)
    /// is left out; with `firstArgumentOnly`, only the first argument is read (the text of
    /// `translated("…", with: …)`, not its values or a help's valueName).
    static func arguments(of calls: [String], in source: String, skippingFirstArgumentOf skipping: [String] = [],
                          firstArgumentOnly: Bool = false) -> [String] {
        // Whole-line comments only: "//" inside a string ("https://") must stay.
        let code = source.components(separatedBy: "\n")
            .map { $0.trimmingCharacters(in: .whitespaces).hasPrefix("//") ? "" : $0 }
            .joined(separator: "\n")
        let text = Array(code.unicodeScalars)
        var messages: [String] = []
        var index = 0
        while index < text.count {
            guard let call = calls.first(where: { matches($0 + "(", in: text, at: index) }),
                  call.hasPrefix(".") || index == 0 || !isIdentifier(text[index - 1]) else {
                index += 1
                continue
            }
            // Scanning goes on inside the call, where another one may be nested.
            index += call.count + 1
            var end = index
            messages += callArguments(text, from: &end, skippingFirstArgument: skipping.contains(call), firstArgumentOnly: firstArgumentOnly)
        }
        return messages
    }

    static func matches(_ word: String, in text: [Unicode.Scalar], at index: Int) -> Bool {
        let scalars = Array(word.unicodeScalars)
        guard index + scalars.count <= text.count else { return false }
        return Array(text[index..<index + scalars.count]) == scalars
    }

    static func isIdentifier(_ scalar: Unicode.Scalar) -> Bool {
        scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || scalar == "_"
    }

    /// The literal messages among the arguments of a call, from just after its "(" to its ")".
    static func callArguments(_ text: [Unicode.Scalar], from index: inout Int, skippingFirstArgument: Bool,
                              firstArgumentOnly: Bool = false) -> [String] {
        var depth = 1
        var messages: [String] = []
        var current: String?
        var joinsNext = false
        var argument = 0
        while index < text.count && depth > 0 {
            let scalar = text[index]
            if scalar == "\"" {
                let literal = readLiteral(text, from: &index)
                let wanted = firstArgumentOnly ? argument == 0 : !(skippingFirstArgument && argument == 0)
                if depth == 1 && wanted {
                    if let existing = current, joinsNext { current = existing + literal } else {
                        if let existing = current { messages.append(existing) }
                        current = literal
                    }
                }
                joinsNext = false
                continue
            }
            switch scalar {
            case "(", "[", "{": depth += 1
            case ")", "]", "}": depth -= 1
            case "," where depth == 1: argument += 1
            case "+": joinsNext = true
            default: if !scalar.properties.isWhitespace { joinsNext = false }
            }
            index += 1
        }
        if let current { messages.append(current) }
        return messages
    }

    /// The value of the literal starting at `index` (a `"` or `"""`); `index` ends after it.
    static func readLiteral(_ text: [Unicode.Scalar], from index: inout Int) -> String {
        if matches("\"\"\"", in: text, at: index) {
            index += 3
            while index < text.count && text[index] != "\n" { index += 1 }
            index += 1
            var raw: [Unicode.Scalar] = []
            while index < text.count && !matches("\"\"\"", in: text, at: index) {
                raw.append(text[index])
                index += 1
            }
            index += 3
            // The closing delimiter's indentation is removed from every line.
            var lines = String(String.UnicodeScalarView(raw)).components(separatedBy: "\n")
            let indentation = lines.removeLast().count
            let body = lines.map { $0.trimmingCharacters(in: .whitespaces).isEmpty ? "" : String($0.dropFirst(indentation)) }
                .joined(separator: "\n")
            var inner = Array(body.unicodeScalars)
            inner.append("\u{0}")   // a sentinel the unescaping stops at
            var position = 0
            return unescape(inner, from: &position, until: "\u{0}", continuingLines: true)
        }
        index += 1
        return unescape(text, from: &index, until: "\"", continuingLines: false)
    }

    /// Reads up to the unescaped `end` and past it, resolving escapes and interpolations.
    static func unescape(_ text: [Unicode.Scalar], from index: inout Int, until end: Unicode.Scalar, continuingLines: Bool) -> String {
        var result = ""
        while index < text.count && text[index] != end {
            let scalar = text[index]
            guard scalar == "\\", index + 1 < text.count else {
                result.unicodeScalars.append(scalar)
                index += 1
                continue
            }
            let next = text[index + 1]
            index += 2
            switch next {
            case "n": result += "\n"
            case "t": result += "\t"
            case "\n" where continuingLines: break
            case "(":
                // Skip to the matching ")", past any literal inside.
                var depth = 1
                while index < text.count && depth > 0 {
                    if text[index] == "\"" { _ = readLiteral(text, from: &index); continue }
                    if text[index] == "(" { depth += 1 }
                    if text[index] == ")" { depth -= 1 }
                    index += 1
                }
                result += interpolation
            default: result.unicodeScalars.append(next)
            }
        }
        index += 1
        return result
    }
}

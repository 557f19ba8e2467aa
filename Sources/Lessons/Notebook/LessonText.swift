import Foundation
import MiniNet

/// The words of a lesson, kept apart from its code so that they can be translated.
///
/// Each lesson has one file per language, `Resources/<language>/<lesson>.md`:
///
///     # Grad-CAM                          ← optional title line, ignored
///     <!-- notes for translators -->      ← comment lines (may span lines), ignored anywhere
///
///     ## intro
///     Grad-CAM weighs each feature map of `{layer}` by how much the class score
///     depends on it.
///
///     ## weights.title
///     Average the gradients
///
/// - A section starts at a line `## key`; keys use a-z, 0-9, ".", "_", "-" and are unique.
/// - The body runs to the next `## ` line, without leading and trailing blank lines.
/// - `{name}` is a placeholder filled from `values`; write `{{` and `}}` for literal braces.
///   (Formulas belong in code, in `Notebook.math`, not here.)
///
///     let text = try LessonText(lesson: "grad-cam")
///     notebook.prose(text("intro", ["layer": "features.8"]))
///
/// A language other than English falls back to the English text for keys it lacks.
/// An unknown key gives a loud `⟦missing text …⟧` marker, a placeholder without a value a loud
/// `⟦unfilled {name} …⟧` marker (use `text(_:_:)` to get an error instead), so that tests can
/// find both in any rendered page by looking for "⟦"; tests check every file's syntax with
/// `LessonText.validateAllResources()`.
public struct LessonText: Sendable {
    public let lesson: String
    public let language: String
    /// Section bodies by key, in this language.
    public let sections: [String: String]
    /// English sections, used for keys this language lacks (empty for English).
    private let fallback: [String: String]

    /// Loads `Resources/<language>/<lesson>.md` from the Lessons bundle.
    public init(lesson: String, language: String = "en") throws {
        let directory = try LessonText.resourceDirectory()
        let primary = try LessonText.load(directory: directory, language: language, lesson: lesson)
        let english = language == "en" ? [:] : (try? LessonText.load(directory: directory, language: "en", lesson: lesson)) ?? [:]
        self.init(lesson: lesson, language: language, sections: primary, fallback: english)
    }

    /// Text parsed from a string instead of a file (`file` names it in error messages).
    public init(lesson: String, language: String = "en", source: String, file: String = "<text>") throws {
        self.init(lesson: lesson, language: language, sections: try LessonText.parse(source, file: file), fallback: [:])
    }

    private init(lesson: String, language: String, sections: [String: String], fallback: [String: String]) {
        self.lesson = lesson
        self.language = language
        self.sections = sections
        self.fallback = fallback
    }

    /// Every key, sorted.
    public var keys: [String] { sections.keys.sorted() }

    /// The text of `key` with its placeholders filled; a loud marker if the key is missing.
    /// A placeholder without a value becomes `⟦unfilled {name}: <language>/<lesson>.md ## <key>⟧`.
    public func callAsFunction(_ key: String, _ values: [String: String] = [:]) -> String {
        guard let body = sections[key] ?? fallback[key] else {
            return "⟦missing text: \(language)/\(lesson).md ## \(key)⟧"
        }
        let unfilled = { (name: String) in "⟦unfilled {\(name)}: \(language)/\(lesson).md ## \(key)⟧" }
        return (try? LessonText.fill(body, values, unfilled: unfilled)) ?? body
    }

    /// Like calling the text, but a missing key or a placeholder without a value throws.
    public func text(_ key: String, _ values: [String: String] = [:]) throws -> String {
        guard let body = sections[key] ?? fallback[key] else {
            throw MiniNetError.invalidArgument("\(language)/\(lesson).md: no section '## \(key)'")
        }
        do {
            return try LessonText.fill(body, values, unfilled: nil)
        } catch let MiniNetError.invalidArgument(problem) {
            throw MiniNetError.invalidArgument("\(language)/\(lesson).md ## \(key): \(problem)")
        }
    }

    /// The placeholder names used by `key`'s text, in order of first use.
    public func placeholders(_ key: String) -> [String] {
        guard let body = sections[key] ?? fallback[key] else { return [] }
        var names: [String] = []
        for case let .placeholder(name) in (try? LessonText.tokens(body)) ?? [] where !names.contains(name) {
            names.append(name)
        }
        return names
    }

    // MARK: Files

    /// The `Resources` folder inside the Lessons bundle.
    public static func resourceDirectory() throws -> URL {
        guard let url = Bundle.module.url(forResource: "Resources", withExtension: nil) else {
            throw MiniNetError.file("Resources", "the lesson text folder is missing from the Lessons bundle")
        }
        return url
    }

    /// (language, lesson) for every `<language>/<lesson>.md` file, sorted.
    public static func availableTexts() throws -> [(language: String, lesson: String)] {
        let directory = try resourceDirectory()
        let manager = FileManager.default
        var found: [(language: String, lesson: String)] = []
        for language in (try? manager.contentsOfDirectory(atPath: directory.path)) ?? [] {
            var isDirectory: ObjCBool = false
            let folder = directory.appendingPathComponent(language)
            guard manager.fileExists(atPath: folder.path, isDirectory: &isDirectory), isDirectory.boolValue else { continue }
            for file in (try? manager.contentsOfDirectory(atPath: folder.path)) ?? [] where file.hasSuffix(".md") {
                found.append((language, String(file.dropLast(3))))
            }
        }
        return found.sorted { ($0.language, $0.lesson) < ($1.language, $1.lesson) }
    }

    /// Loads and parses every text file, so that a syntax error anywhere is reported; also
    /// checks that every language's keys exist in English and use the same placeholders.
    /// Returns how many files were checked.
    @discardableResult
    public static func validateAllResources() throws -> Int {
        let texts = try availableTexts()
        for (language, lesson) in texts {
            let text = try LessonText(lesson: lesson, language: language)
            guard language != "en" else { continue }
            let english = try LessonText(lesson: lesson, language: "en")
            for key in text.keys {
                guard english.sections[key] != nil else {
                    throw MiniNetError.invalidArgument("\(language)/\(lesson).md: section '## \(key)' is not in en/\(lesson).md")
                }
                guard Set(text.placeholders(key)) == Set(english.placeholders(key)) else {
                    throw MiniNetError.invalidArgument(
                        "\(language)/\(lesson).md ## \(key): placeholders \(text.placeholders(key)) differ from English \(english.placeholders(key))")
                }
            }
        }
        return texts.count
    }

    private static func load(directory: URL, language: String, lesson: String) throws -> [String: String] {
        let file = directory.appendingPathComponent(language).appendingPathComponent(lesson + ".md")
        let name = "\(language)/\(lesson).md"
        guard FileManager.default.fileExists(atPath: file.path) else {
            throw MiniNetError.file(name, "no such lesson text")
        }
        guard let data = FileManager.default.contents(atPath: file.path),
              let source = String(data: data, encoding: .utf8) else {
            throw MiniNetError.file(name, "not readable as UTF-8 text")
        }
        return try parse(source, file: name)
    }

    // MARK: Syntax

    /// Splits a text file into sections; throws on the first syntax error, naming the line.
    public static func parse(_ source: String, file: String) throws -> [String: String] {
        var sections: [String: String] = [:]
        var currentKey: String?
        var currentLine = 0
        var body: [String] = []

        func finish() throws {
            guard let key = currentKey else { return }
            while body.first?.trimmingCharacters(in: .whitespaces).isEmpty == true { body.removeFirst() }
            while body.last?.trimmingCharacters(in: .whitespaces).isEmpty == true { body.removeLast() }
            guard !body.isEmpty else {
                throw MiniNetError.file(file, "line \(currentLine): section '## \(key)' is empty")
            }
            let text = body.joined(separator: "\n")
            _ = try tokens(text, file: file, line: currentLine)
            sections[key] = text
        }

        let lines = source.replacingOccurrences(of: "\r\n", with: "\n").components(separatedBy: "\n")
        var insideComment = false
        for (offset, line) in lines.enumerated() {
            let number = offset + 1
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            // Comment lines (`<!-- … -->`, possibly over several lines) are notes for writers.
            if insideComment || trimmed.hasPrefix("<!--") {
                insideComment = !trimmed.hasSuffix("-->")
                continue
            }
            if line.hasPrefix("## ") {
                try finish()
                let key = line.dropFirst(3).trimmingCharacters(in: .whitespaces)
                let allowed = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyz0123456789._-")
                guard !key.isEmpty, key.unicodeScalars.allSatisfy(allowed.contains) else {
                    throw MiniNetError.file(file, "line \(number): section key '\(key)' must use only a-z, 0-9, '.', '_', '-'")
                }
                guard sections[key] == nil else {
                    throw MiniNetError.file(file, "line \(number): section '## \(key)' appears twice")
                }
                currentKey = key
                currentLine = number
                body = []
            } else if currentKey != nil {
                body.append(line)
            } else if !trimmed.isEmpty && !line.hasPrefix("# ") {
                throw MiniNetError.file(file, "line \(number): text before the first '## key' section")
            }
        }
        try finish()
        guard !sections.isEmpty else { throw MiniNetError.file(file, "no '## key' sections") }
        return sections
    }

    enum Token: Equatable {
        case literal(String)
        case placeholder(String)
    }

    /// Literal text and `{name}` placeholders; `{{` and `}}` are literal braces.
    static func tokens(_ text: String, file: String = "<text>", line: Int = 0) throws -> [Token] {
        var tokens: [Token] = []
        var literal = ""
        var characters = Array(text)[...]
        while let character = characters.popFirst() {
            switch character {
            case "{" where characters.first == "{":
                characters.removeFirst()
                literal.append("{")
            case "}" where characters.first == "}":
                characters.removeFirst()
                literal.append("}")
            case "{":
                guard let close = characters.firstIndex(of: "}") else {
                    throw MiniNetError.file(file, "section at line \(line): '{' without '}' (write '{{' for a brace)")
                }
                let name = String(characters[..<close])
                let isIdentifier = name.first.map { $0.isLetter || $0 == "_" } == true
                    && name.allSatisfy { ($0.isLetter || $0.isNumber || $0 == "_") && $0.isASCII }
                guard isIdentifier else {
                    throw MiniNetError.file(file, "section at line \(line): '{\(name)}' is not a placeholder name (write '{{' for a brace)")
                }
                if !literal.isEmpty { tokens.append(.literal(literal)); literal = "" }
                tokens.append(.placeholder(name))
                characters = characters[(close + 1)...]
            case "}":
                throw MiniNetError.file(file, "section at line \(line): '}' without '{' (write '}}' for a brace)")
            default:
                literal.append(character)
            }
        }
        if !literal.isEmpty { tokens.append(.literal(literal)) }
        return tokens
    }

    /// - Parameter unfilled: the text shown for a placeholder without a value; nil throws instead.
    static func fill(_ body: String, _ values: [String: String], unfilled: ((String) -> String)?) throws -> String {
        var output = ""
        for token in try tokens(body) {
            switch token {
            case let .literal(text):
                output += text
            case let .placeholder(name):
                if let value = values[name] {
                    output += value
                } else if let unfilled {
                    output += unfilled(name)
                } else {
                    throw MiniNetError.invalidArgument("no value for placeholder {\(name)}")
                }
            }
        }
        return output
    }
}

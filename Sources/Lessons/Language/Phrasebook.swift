import Foundation
import MiniNet

/// Translations of the short texts that code writes: table headers, the two sides of a check,
/// homework questions and hints, progress and error messages, `--help`. (A lesson's prose has
/// its own files, read by `LessonText`.)
///
/// The English text is the key, as in gettext: code stays readable English, and a phrase
/// without a translation falls back to it, which the tests catch. A phrase with values in it is
/// written with numbered holes:
///
///     Resources/vi/phrases/homework.txt
///     # A comment.
///     en: What is L^c at row {$1}, column {$2}?
///     vi: L^c ở hàng {$1}, cột {$2} bằng bao nhiêu?
///
/// `translate("What is L^c at row 2, column 0?")` matches the English pattern, takes "2" and
/// "0" as the holes and fills the Vietnamese one with them, in whatever order it uses them.
/// A hole's value that is English in turn is translated too, so "mass in {$1} mask" and a
/// class name each need only their own entry. `\n` in a phrase is a line break.
///
/// A text matches a pattern when it starts with the pattern's first piece, ends with its last,
/// and holds the pieces between in order (each hole takes at least one character, as few as
/// it can). When several patterns match, the one with the most fixed text wins.
public struct Phrasebook: Sendable {
    public let language: Language

    struct Pattern: Sendable {
        /// The fixed text between holes: pieces[0] {$h₀} pieces[1] {$h₁} … pieces[n].
        let pieces: [String]
        /// The hole number of each hole in the English text, in order.
        let holes: [Int]
        /// The translation, as literal text and hole numbers.
        let translation: [Piece]
        var fixedLength: Int { pieces.reduce(0) { $0 + $1.count } }

        /// Whether hole `index` (counted in order) sits between two equal quotes, `{$1}`,
        /// '{$1}' or "{$1}": there it holds what a person typed, which may be empty and is never
        /// translated (a value `yes` stays `yes`, not `có`).
        func isQuoted(_ index: Int) -> Bool {
            guard let before = pieces[index].last, let after = pieces[index + 1].first else { return false }
            return before == after && "`'\"".contains(before)
        }
    }

    enum Piece: Equatable, Sendable {
        case text(String)
        case hole(Int)
    }

    /// Phrases without holes, by their English text.
    private let exact: [String: String]
    /// Phrases with holes, by the first character of their English text ("" when it starts
    /// with a hole), longest fixed text first.
    private let patterns: [Character?: [Pattern]]

    /// No translations: every text stays as it is (English).
    public static let identity = Phrasebook(language: .en, exact: [:], patterns: [:])

    init(language: Language, exact: [String: String], patterns: [Character?: [Pattern]]) {
        self.language = language
        self.exact = exact
        self.patterns = patterns
    }

    /// How many phrases the book holds.
    public var count: Int { exact.count + patterns.values.reduce(0) { $0 + $1.count } }

    // MARK: Translating

    /// `english` in this book's language; itself when no phrase matches.
    public func translate(_ english: String) -> String {
        guard language != .en, english.contains(where: \.isLetter) else { return english }
        if let found = exact[english] { return found }
        for key in [english.first, nil] {
            for pattern in patterns[key] ?? [] {
                if let values = Phrasebook.match(english, pattern) {
                    return pattern.translation.map { piece -> String in
                        switch piece {
                        case let .text(text): return text
                        case let .hole(number):
                            guard let index = pattern.holes.firstIndex(of: number) else { return "" }
                            return pattern.isQuoted(index) ? values[index] : translate(values[index])
                        }
                    }.joined()
                }
            }
        }
        UntranslatedLog.shared?.record(english)
        return english
    }

    /// Whether `english` has a translation in this book.
    public func knows(_ english: String) -> Bool {
        language == .en || !english.contains(where: \.isLetter) || translate(english) != english
    }

    /// The holes' values when `text` has the pattern's shape, else nil.
    static func match(_ text: String, _ pattern: Pattern) -> [String]? {
        let pieces = pattern.pieces
        guard let first = pieces.first, let last = pieces.last,
              text.hasPrefix(first), text.hasSuffix(last),
              // fixedLength counts `first` and `last` too, so they cannot overlap past this.
              text.count >= pattern.fixedLength + (0..<pattern.holes.count).filter({ !pattern.isQuoted($0) }).count else { return nil }
        var cursor = text.index(text.startIndex, offsetBy: first.count)
        let end = text.index(text.endIndex, offsetBy: -last.count)
        var values: [String] = []
        for (hole, piece) in pieces.dropFirst().dropLast().enumerated() {
            // The hole before `piece` takes at least one character (none only between quotes)
            // and stops at the first place where `piece` follows.
            let searchStart: String.Index
            if pattern.isQuoted(hole) {
                searchStart = cursor
            } else {
                guard cursor < end else { return nil }
                searchStart = text.index(after: cursor)
            }
            guard searchStart <= end, let found = text.range(of: piece, range: searchStart..<end) else { return nil }
            values.append(String(text[cursor..<found.lowerBound]))
            cursor = found.upperBound
        }
        guard cursor < end || (cursor == end && pattern.isQuoted(pieces.count - 2)) else { return nil }
        values.append(String(text[cursor..<end]))
        return values
    }

    // MARK: Loading

    /// The book of `language`: every `Resources/<language>/phrases/*.txt`, loaded once.
    public static func of(_ language: Language) -> Phrasebook {
        switch language {
        case .en: return .identity
        case .vi: return vietnamese
        }
    }

    /// The book of the language to print in now.
    public static var current: Phrasebook { of(Language.current) }

    /// A broken phrase file is a mistake of ours that the tests report (`loadAll`); at run
    /// time the book then stays English rather than stopping the command.
    private static let vietnamese: Phrasebook = (try? load(.vi)) ?? Phrasebook(language: .vi, exact: [:], patterns: [:])

    /// Reads and checks every phrase file of `language`; throws on the first mistake, naming
    /// the file and line.
    public static func load(_ language: Language) throws -> Phrasebook {
        let folder = try LessonText.resourceDirectory().appendingPathComponent(language.rawValue).appendingPathComponent("phrases")
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).filter { $0.hasSuffix(".txt") }.sorted()
        var entries: [(english: String, translation: String, place: String)] = []
        for file in files {
            let name = "\(language.rawValue)/phrases/\(file)"
            guard let data = FileManager.default.contents(atPath: folder.appendingPathComponent(file).path),
                  let source = String(data: data, encoding: .utf8) else {
                throw MiniNetError.file(name, "not readable as UTF-8 text")
            }
            entries += try parse(source, file: name)
        }
        return try build(language: language, entries: entries)
    }

    /// A book from the text of one phrase file (for tests).
    public static func parsing(_ source: String, language: Language, file: String = "<phrases>") throws -> Phrasebook {
        try build(language: language, entries: parse(source, file: file))
    }

    static func build(language: Language, entries: [(english: String, translation: String, place: String)]) throws -> Phrasebook {
        var exact: [String: String] = [:]
        var patterns: [Character?: [Pattern]] = [:]
        var seen: [String: String] = [:]
        for entry in entries {
            if let earlier = seen[entry.english] {
                throw MiniNetError.file(entry.place, "the English phrase is already translated at \(earlier)")
            }
            seen[entry.english] = entry.place
            let english = try split(entry.english, place: entry.place)
            let translation = try split(entry.translation, place: entry.place)
            let englishHoles = english.compactMap { if case let .hole(number) = $0 { return number } else { return nil } }
            let translatedHoles = translation.compactMap { if case let .hole(number) = $0 { return number } else { return nil } }
            guard Set(englishHoles) == Set(translatedHoles), Set(englishHoles).count == englishHoles.count else {
                throw MiniNetError.file(entry.place, "the translation must use each hole {$n} of the English phrase, and the English each once")
            }
            if englishHoles.isEmpty {
                exact[entry.english] = entry.translation
                continue
            }
            var pieces = [""]
            for piece in english {
                switch piece {
                case let .text(text): pieces[pieces.count - 1] += text
                case .hole:
                    guard !pieces[pieces.count - 1].isEmpty || pieces.count == 1 else {
                        throw MiniNetError.file(entry.place, "two holes need fixed text between them")
                    }
                    pieces.append("")
                }
            }
            let pattern = Pattern(pieces: pieces, holes: englishHoles, translation: translation)
            patterns[pieces[0].first, default: []].append(pattern)
        }
        for key in patterns.keys { patterns[key]!.sort { $0.fixedLength > $1.fixedLength } }
        return Phrasebook(language: language, exact: exact, patterns: patterns)
    }

    /// `en:` and the translation's `<language>:` line, in pairs; `#` lines are comments.
    static func parse(_ source: String, file: String) throws -> [(english: String, translation: String, place: String)] {
        var entries: [(english: String, translation: String, place: String)] = []
        var pending: (text: String, line: Int)?
        for (offset, rawLine) in source.replacingOccurrences(of: "\r\n", with: "\n").components(separatedBy: "\n").enumerated() {
            let number = offset + 1
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard let colon = line.firstIndex(of: ":"), line[..<colon].allSatisfy(\.isLetter) else {
                throw MiniNetError.file(file, "line \(number): expected 'en: …' or a translation line")
            }
            let tag = String(line[..<colon])
            var text = line[line.index(after: colon)...]
            if text.first == " " { text = text.dropFirst() }
            let value = String(text).replacingOccurrences(of: "\\n", with: "\n")
            guard !value.isEmpty else { throw MiniNetError.file(file, "line \(number): the phrase is empty") }
            if tag == "en" {
                if let pending { throw MiniNetError.file(file, "line \(pending.line): 'en:' without its translation") }
                pending = (value, number)
            } else {
                guard let english = pending else {
                    throw MiniNetError.file(file, "line \(number): a translation without an 'en:' line before it")
                }
                entries.append((english.text, value, "\(file):\(english.line)"))
                pending = nil
            }
        }
        if let pending { throw MiniNetError.file(file, "line \(pending.line): 'en:' without its translation") }
        return entries
    }

    /// Literal text and `{$n}` holes.
    static func split(_ phrase: String, place: String) throws -> [Piece] {
        var pieces: [Piece] = []
        var literal = ""
        var rest = phrase[...]
        while let open = rest.range(of: "{$") {
            literal += rest[..<open.lowerBound]
            let afterOpen = rest[open.upperBound...]
            guard let close = afterOpen.firstIndex(of: "}"), let number = Int(afterOpen[..<close]), number > 0 else {
                throw MiniNetError.file(place, "a hole is written {$1}, {$2}, …")
            }
            if !literal.isEmpty { pieces.append(.text(literal)); literal = "" }
            pieces.append(.hole(number))
            rest = afterOpen[afterOpen.index(after: close)...]
        }
        literal += rest
        if !literal.isEmpty { pieces.append(.text(literal)) }
        return pieces
    }
}

/// `english` in the language to print in now (see `Phrasebook`).
public func translated(_ english: String) -> String {
    Phrasebook.current.translate(english)
}

/// `template` in the language to print in now, its holes {$1}, {$2}, … then filled with
/// `values` in that order.
///
/// The template itself, holes and all, is the phrase book's key, and the values are put in
/// after the lookup: a value is data (a student id, a path, a flag the reader types back, a
/// class name) and is never translated, even when it is an English word with a translation of
/// its own ("circle").
///
///     translated("no answer for {$1}", with: "q3")    // "chưa có câu trả lời cho q3"
public func translated(_ template: String, with values: CustomStringConvertible...) -> String {
    fillingHoles(of: translated(template), with: values.map(\.description))
}

/// `text` with each {$n} replaced by `values[n − 1]`, in one pass (a value that itself holds
/// "{$2}" is not filled again); a hole without a value stays as it is.
public func fillingHoles(of text: String, with values: [String]) -> String {
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

/// With `TUTOR_UNTRANSLATED=FILE`, every English text that reached the phrase book of another
/// language and found no translation is added to FILE, once per process: the list a
/// translator works from (`tutor lesson cam --lang vi` then read FILE).
final class UntranslatedLog: @unchecked Sendable {
    static let shared: UntranslatedLog? = ProcessInfo.processInfo.environment["TUTOR_UNTRANSLATED"].map(UntranslatedLog.init)

    private let path: String
    private let lock = NSLock()
    private var seen: Set<String> = []
    private let detector = EnglishDetector()

    init(path: String) { self.path = path }

    func record(_ english: String) {
        guard english.split(separator: "\n").contains(where: { detector.isEnglish(String($0)) }) else { return }
        lock.lock()
        defer { lock.unlock() }
        guard seen.insert(english).inserted else { return }
        let line = "en: " + english.replacingOccurrences(of: "\n", with: "\\n") + "\n"
        if let handle = FileHandle(forWritingAtPath: path) ?? (FileManager.default.createFile(atPath: path, contents: nil) ? FileHandle(forWritingAtPath: path) : nil) {
            handle.seekToEndOfFile()
            handle.write(Data(line.utf8))
            handle.closeFile()
        }
    }
}

extension Check {
    /// The check with its name, the names of its two sides, its note and the reason of its
    /// tolerance in the reader's language (MiniNet writes them in English).
    public var inReadersLanguage: Check {
        var check = self
        check.name = translated(name)
        check.leftLabel = translated(leftLabel)
        check.rightLabel = translated(rightLabel)
        check.note = note.map(translated)
        let reason = model?.extraReason.map(translated)
        check.model?.extraReason = reason
        return check
    }
}

import Foundation

/// The language a reader chose for everything `tutor` prints: lesson prose, homework,
/// check names, table headers, progress and error messages, and `--help`.
///
/// Chosen, first match wins, by `--lang en|vi`, then `TUTOR_LANG`, then the locale
/// (`LC_ALL`, else `LANG`: `vi_VN.UTF-8` → vi), else English. The command line sets
/// `processDefault` once at start-up; code that renders in another language for a moment
/// (export-docs writes both, tests render both) uses `Language.$override.withValue(.vi) { … }`,
/// which is safe in concurrent tests because it is task-local.
public enum Language: String, CaseIterable, Sendable {
    case en, vi

    /// The language chosen for this task, if one was set with `withValue`.
    @TaskLocal public static var override: Language?
    /// The language of this process, set by the command line before anything is printed.
    nonisolated(unsafe) public static var processDefault: Language = .en

    /// The language to print in now.
    public static var current: Language { override ?? processDefault }

    /// Its name in itself, for help texts: "English", "Tiếng Việt".
    public var nativeName: String {
        switch self {
        case .en: return "English"
        case .vi: return "Tiếng Việt"
        }
    }

    public enum Choice: Equatable, Sendable {
        case chosen(Language, from: String)
        /// TUTOR_LANG or --lang names a language `tutor` does not have.
        case unknown(value: String, from: String)
    }

    /// The language the command line and the environment ask for. `--lang` and `TUTOR_LANG`
    /// must name a language `tutor` has; a locale `tutor` does not speak (fr_FR.UTF-8, C,
    /// POSIX) quietly means English, as it does for every other program.
    public static func choose(arguments: [String], environment: [String: String]) -> Choice {
        if let value = flagValue(arguments) {
            return Language(code: value).map { .chosen($0, from: "--lang") } ?? .unknown(value: value, from: "--lang")
        }
        if let value = environment["TUTOR_LANG"], !value.isEmpty {
            return Language(code: value).map { .chosen($0, from: "TUTOR_LANG") } ?? .unknown(value: value, from: "TUTOR_LANG")
        }
        for variable in ["LC_ALL", "LANG"] {
            guard let value = environment[variable], !value.isEmpty else { continue }
            return .chosen(Language(locale: value) ?? .en, from: variable)
        }
        return .chosen(.en, from: "default")
    }

    /// "vi", "VI", "vi_VN", "vi-VN.UTF-8" → vi; nil for a language `tutor` does not have.
    public init?(code: String) {
        self.init(locale: code)
    }

    /// The language part of a POSIX locale name (`language[_territory][.codeset][@modifier]`).
    init?(locale: String) {
        let language = locale.lowercased().prefix { $0.isLetter }
        guard let known = Language(rawValue: String(language)) else { return nil }
        self = known
    }

    /// The value of the last `--lang X` or `--lang=X` before a bare `--` (after which every
    /// word is an operand).
    static func flagValue(_ arguments: [String]) -> String? {
        var value: String?
        var index = arguments.startIndex
        while index < arguments.endIndex {
            let argument = arguments[index]
            if argument == "--" { break }
            if argument == "--lang" {
                value = index + 1 < arguments.endIndex ? arguments[index + 1] : ""
                index += 1
            } else if argument.hasPrefix("--lang=") {
                value = String(argument.dropFirst("--lang=".count))
            }
            index += 1
        }
        return value
    }
}

import ArgumentParser
import Foundation
import Lessons

/// `--help` in the reader's language. The descriptions are translated where they are written
/// (`.translated(…)`); the words the parser adds around them (the headings, "(default: 7)",
/// "(values: …)", "Show help information.") are English, and are replaced here. An entry whose
/// text changed length is wrapped again, as the parser wraps it: descriptions from column 26,
/// at the width the parser used.
enum HelpText {
    /// The parser's help label column (ArgumentParser's `HelpGenerator.labelColumnWidth`).
    static let labelColumn = 26

    /// The width the help is wrapped to: the terminal's, or 80 when standard output is not one.
    static var columns: Int {
        var size = winsize()
        guard ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return 80 }
        return Int(size.ws_col)
    }

    /// The parser's words, English → the reader's language (cli.txt holds the Vietnamese).
    static var replacements: [(String, String)] {
        [("(values:", translated("(values:")), ("; default:", translated("; default:")),
         ("(default:", translated("(default:")), ("Show help information.", translated("Show help information."))]
    }

    /// "See 'tutor help <subcommand>' for detailed help." and its kin for a command group
    /// ("See 'tutor help homework course <subcommand>' …"); nil for any other line.
    static func commandGroupHint(_ line: String) -> String? {
        let (start, end) = ("See 'tutor help", "<subcommand>' for detailed help.")
        let text = line.trimmingCharacters(in: .whitespaces)
        guard text.hasPrefix(start), text.hasSuffix(end), text.count >= start.count + end.count else { return nil }
        let commands = text.dropFirst(start.count).dropLast(end.count).trimmingCharacters(in: .whitespaces)
        let indent = String(line.prefix { $0 == " " })
        return indent + (commands.isEmpty ? translated("See 'tutor help <subcommand>' for detailed help.")
                                          : translated("See 'tutor help {$1} <subcommand>' for detailed help.", with: commands))
    }

    static var headings: [(String, String)] {
        [("OVERVIEW:", translated("OVERVIEW:")), ("USAGE:", translated("USAGE:")), ("ARGUMENTS:", translated("ARGUMENTS:")),
         ("OPTIONS:", translated("OPTIONS:")), ("SUBCOMMANDS:", translated("SUBCOMMANDS:"))]
    }

    /// The help text with the parser's words in the reader's language, and its usage line
    /// wrapped (the parser leaves it whole: 223 columns for `homework grade`).
    static func localized(_ help: String, columns: Int) -> String {
        let lines = help.components(separatedBy: "\n")
        var output: [String] = []
        var index = 0
        while index < lines.count {
            let line = lines[index]
            if let (english, local) = headings.first(where: { line.hasPrefix($0.0) }) {
                // The overview is one paragraph after its heading, wrapped from column 0.
                var paragraph = [String(line.dropFirst(english.count))]
                index += 1
                if english == "OVERVIEW:" && local != english {
                    while index < lines.count, !lines[index].isEmpty { paragraph.append(lines[index]); index += 1 }
                    output += wrapWords(local + " " + joined(paragraph), width: columns)
                } else if english == "USAGE:" {
                    output += wrappedUsage(local, paragraph[0], columns: columns)
                } else {
                    output.append(local + paragraph[0])
                }
                continue
            }
            guard isEntryStart(line), !line.hasPrefix("  See 'tutor help ") else {
                output.append(commandGroupHint(line) ?? replaced(line))
                index += 1
                continue
            }
            // An option, argument or subcommand: its first line and the lines continuing it.
            var entry = [line]
            index += 1
            while index < lines.count, lines[index].hasPrefix(String(repeating: " ", count: labelColumn)) {
                entry.append(lines[index])
                index += 1
            }
            output += rewrapped(entry, columns: columns)
        }
        return output.joined(separator: "\n")
    }

    /// "USAGE: tutor homework grade [--course <file>] …" in lines of at most `columns`, broken
    /// only between the options (never inside "[--course <file>]"), continuation lines under
    /// the command.
    static func wrappedUsage(_ heading: String, _ usage: String, columns: Int) -> [String] {
        var words: [String] = []
        var depth = 0
        var word = ""
        for character in usage {
            if character == " " && depth == 0 {
                if !word.isEmpty { words.append(word) }
                word = ""
                continue
            }
            if character == "[" || character == "(" { depth += 1 }
            if character == "]" || character == ")" { depth = max(depth - 1, 0) }
            word.append(character)
        }
        if !word.isEmpty { words.append(word) }
        let indent = String(repeating: " ", count: heading.count + 1)
        var lines: [String] = []
        var line = heading
        for word in words {
            // A line that holds a word already is full; one that holds none takes the word anyway.
            if line.count + 1 + word.count > columns && line.count > indent.count {
                lines.append(line)
                line = indent + word
            } else {
                line += " " + word
            }
        }
        return lines + [line]
    }

    /// "  --seed <seed>  …" or "  <name>  …": two spaces, then the label.
    static func isEntryStart(_ line: String) -> Bool {
        line.hasPrefix("  ") && line.dropFirst(2).first.map { $0 != " " } ?? false
    }

    static func replaced(_ text: String) -> String {
        replacements.reduce(text) { $0.replacingOccurrences(of: $1.0, with: $1.1) }
    }

    static func joined(_ parts: [String]) -> String {
        parts.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.joined(separator: " ")
    }

    /// One entry with its description translated and wrapped from the label column again, when
    /// the translation changed it; as it was otherwise.
    static func rewrapped(_ entry: [String], columns: Int) -> [String] {
        let first = entry[0]
        // Inline, the description starts at the label column after at least one space; a label
        // of 24 columns or more stands on its own line (ArgumentParser's layout).
        let characters = Array(first)
        let labelOnItsOwnLine = characters.count <= labelColumn || characters[labelColumn - 1] != " " || characters[labelColumn] == " "
        let label = labelOnItsOwnLine ? first : String(first.prefix(labelColumn))
        let description = joined((labelOnItsOwnLine ? [] : [String(first.dropFirst(labelColumn))]) + entry.dropFirst())
        let local = replaced(description)
        guard local != description else { return entry }
        let indent = String(repeating: " ", count: labelColumn)
        let wrapped = wrapWords(local, width: max(columns - labelColumn, 20))
        if labelOnItsOwnLine { return [label] + wrapped.map { indent + $0 } }
        return [label + (wrapped.first ?? "")] + wrapped.dropFirst().map { indent + $0 }
    }
}

import Foundation

// Measuring and wrapping text for a terminal, where what counts is columns on the screen,
// not bytes, code points or even characters:
//
//   "Vietnamese" letters with combining marks (a + ◌̂ + ◌́ = ấ)   1 column per grapheme cluster
//   box drawing ─ ═, sub- and superscripts ₖ ᶜ, Greek α Σ     1 column
//   East Asian wide and fullwidth characters (漢, ｗ), emoji 2 columns
//   escape codes (colour, bold) and zero-width joiners        0 columns

/// The columns `text` takes on a terminal: one per grapheme cluster, two for East Asian wide
/// and fullwidth characters and emoji, none for escape codes (`ESC [ … m`) and zero-width
/// characters. Every renderer measures text with this one function.
///
///     displayWidth("Tiếng Việt")     // 10, whether the marks are precomposed or combining
///     displayWidth("αᶜₖ ─ 漢")        // 7
///     displayWidth("\u{1B}[1mbold\u{1B}[0m")   // 4
public func displayWidth(_ text: String) -> Int {
    var columns = 0
    var insideEscape = false
    for character in text {
        if insideEscape {
            // An SGR sequence ends with its final letter ("m"); parameters are digits and ";".
            if character.isLetter { insideEscape = false }
            continue
        }
        if character == "\u{1B}" {
            insideEscape = true
            continue
        }
        columns += displayWidth(of: character)
    }
    return columns
}

/// The columns one grapheme cluster takes (0, 1 or 2).
func displayWidth(of character: Character) -> Int {
    guard let first = character.unicodeScalars.first else { return 0 }
    let value = first.value
    // Controls and zero-width format characters (ZWJ, ZWNJ, ZWSP, word joiner, BOM) take no room.
    if value < 0x20 || (0x7F..<0xA0).contains(value) { return 0 }
    if [0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF].contains(value) { return 0 }
    // A cluster that is only combining marks (one left at the start of a string) has nowhere
    // to sit but still shows, on most terminals over a space.
    if character.unicodeScalars.contains(where: { $0.value == 0xFE0F }) && first.properties.isEmoji { return 2 }
    if first.properties.isEmojiPresentation { return 2 }
    return isEastAsianWide(value) ? 2 : 1
}

/// Unicode's East Asian Width W and F ranges (UAX #11), the ones terminals draw two columns wide.
private func isEastAsianWide(_ value: UInt32) -> Bool {
    switch value {
    case 0x1100...0x115F, 0x231A...0x231B, 0x2329...0x232A, 0x2E80...0x303E, 0x3041...0x33FF,
         0x3400...0x4DBF, 0x4E00...0x9FFF, 0xA000...0xA4CF, 0xA960...0xA97F, 0xAC00...0xD7A3,
         0xF900...0xFAFF, 0xFE10...0xFE19, 0xFE30...0xFE6F, 0xFF00...0xFF60, 0xFFE0...0xFFE6,
         0x1F300...0x1F64F, 0x1F900...0x1F9FF, 0x20000...0x2FFFD, 0x30000...0x3FFFD:
        return true
    default:
        return false
    }
}

/// `text` without its escape codes.
func withoutEscapes(_ text: String) -> String {
    text.replacingOccurrences(of: "\u{1B}\\[[0-9;]*[A-Za-z]", with: "", options: .regularExpression)
}

/// `text` padded with spaces to `columns` display columns (left-aligned), or right-aligned.
func padded(_ text: String, to columns: Int, right: Bool = false) -> String {
    let padding = String(repeating: " ", count: Swift.max(0, columns - displayWidth(text)))
    return right ? padding + text : text + padding
}

/// Words of `text` (split at spaces) gathered into lines of at most `width` columns; a word
/// wider than a line is cut (escape codes are never cut). Continuation lines start with `indent`.
public func wrapWords(_ text: String, width: Int, indent: String = "") -> [String] {
    let width = Swift.max(2, width)
    let indentWidth = displayWidth(indent)
    let indent = indentWidth < width ? indent : ""
    var lines: [String] = []
    var line = ""
    var lineWidth = 0
    var lineHasWord = false
    func startLine() {
        lines.append(line)
        line = indent
        lineWidth = displayWidth(indent)
        lineHasWord = false
    }
    for word in text.split(separator: " ", omittingEmptySubsequences: true) {
        var rest = String(word)
        var restWidth = displayWidth(rest)
        if lineHasWord && lineWidth + 1 + restWidth > width { startLine() }
        // Only a word longer than a whole line gets here: cut it where the line ends.
        while lineWidth + restWidth > width && !lineHasWord {
            var (head, tail) = split(rest, atColumn: width - lineWidth)
            if head.isEmpty, let first = rest.first {
                // A wide character with one column left still has to go somewhere.
                (head, tail) = (String(first), String(rest.dropFirst()))
            }
            line += head
            startLine()
            rest = tail
            restWidth = displayWidth(rest)
        }
        if !rest.isEmpty {
            line += (lineHasWord ? " " : "") + rest
            lineWidth += (lineHasWord ? 1 : 0) + restWidth
            lineHasWord = true
        }
    }
    if lineHasWord || lines.isEmpty { lines.append(line) }
    return lines
}

/// One entry of a definition list: `label` padded to `column` display columns, then `text`
/// wrapped to `width`, its continuation lines starting at `column`:
///
///     gradcam      Grad-CAM: weigh feature maps by the average gradient of the
///                  class score
public func hangingLines(_ label: String, _ text: String, column: Int, width: Int = 80) -> [String] {
    let start = Swift.max(column, displayWidth(label) + 1)
    let lines = wrapWords(text, width: Swift.max(width - start, 20))
    let indent = String(repeating: " ", count: start)
    return [padded(label, to: start) + lines[0]] + lines.dropFirst().map { indent + $0 }
}

/// Wraps paragraphs (separated by blank lines) to `width` columns. Lines starting with
/// "- " are bullets whose continuation lines are indented under the text.
func wrap(_ text: String, width: Int) -> String {
    var output: [String] = []
    for paragraph in text.components(separatedBy: "\n\n") {
        if !output.isEmpty { output.append("") }
        // Gather lines into logical lines: a bullet starts a new one, other lines continue.
        var logical: [(prefix: String, text: String)] = []
        for line in paragraph.split(separator: "\n", omittingEmptySubsequences: true) {
            let trimmed = line.drop { $0 == " " }
            if trimmed.hasPrefix("- ") || trimmed.hasPrefix("• ") {
                logical.append(("  • ", String(trimmed.dropFirst(2))))
            } else if logical.isEmpty {
                logical.append(("", String(trimmed)))
            } else {
                logical[logical.count - 1].text += " " + trimmed
            }
        }
        for (prefix, text) in logical {
            let indent = String(repeating: " ", count: displayWidth(prefix))
            let lines = wrapWords(text, width: width - displayWidth(prefix), indent: "")
            output += lines.enumerated().map { ($0.offset == 0 ? prefix : indent) + $0.element }
        }
    }
    return output.joined(separator: "\n")
}

/// `text` cut after `column` display columns; escape codes stay whole, on the side they start.
func split(_ text: String, atColumn column: Int) -> (head: String, tail: String) {
    var head = ""
    var columns = 0
    var index = text.startIndex
    var insideEscape = false
    while index < text.endIndex {
        let character = text[index]
        if insideEscape || character == "\u{1B}" {
            insideEscape = character == "\u{1B}" || !character.isLetter
            head.append(character)
        } else {
            let width = displayWidth(of: character)
            if columns + width > column { break }
            columns += width
            head.append(character)
        }
        index = text.index(after: index)
    }
    return (head, String(text[index...]))
}

/// Every line of `text` no wider than `width`: a longer line breaks at its last space that
/// fits (or mid-word if there is none), and its continuation lines are indented two columns
/// more than the line itself. The last resort that keeps any text inside the terminal.
public func fitLines(_ text: String, width: Int) -> String {
    text.split(separator: "\n", omittingEmptySubsequences: false).flatMap { line -> [String] in
        let line = String(line)
        guard displayWidth(line) > width else { return [line] }
        let leading = String(repeating: " ", count: Swift.min(line.prefix { $0 == " " }.count, width / 2))
        let body = String(line.drop { $0 == " " })
        return wrapWords(body, width: width - leading.count, indent: "  ").map { leading + $0 }
    }.joined(separator: "\n")
}

// MARK: Emphasis

/// A piece of prose with its Markdown emphasis: `**bold**`, `*italic*`, `` `code` ``.
struct InlineSpan: Equatable {
    enum Style: Equatable { case plain, bold, italic, code }
    var text: String
    var style: Style
}

/// Splits prose into spans by its Markdown emphasis. An asterisk opens emphasis only before a
/// letter, digit or opening bracket and closes it only after one, as in CommonMark, so
/// "a * b" and "2*3" stay as they are; an emphasis that is never closed is plain text.
func inlineSpans(_ text: String) -> [InlineSpan] {
    var spans: [InlineSpan] = []
    var plain = ""
    let characters = Array(text)
    var index = 0
    func flush() {
        if !plain.isEmpty { spans.append(InlineSpan(text: plain, style: .plain)) }
        plain = ""
    }
    func opens(at position: Int) -> Bool {
        position < characters.count && !characters[position].isWhitespace && characters[position] != "*"
    }
    while index < characters.count {
        let character = characters[index]
        if character == "`", let close = characters[(index + 1)...].firstIndex(of: "`"), close > index + 1 {
            flush()
            spans.append(InlineSpan(text: String(characters[(index + 1)..<close]), style: .code))
            index = close + 1
            continue
        }
        if character == "*" {
            let marker = index + 1 < characters.count && characters[index + 1] == "*" ? 2 : 1
            let before = index > 0 ? characters[index - 1] : " "
            // Opening: not glued to a word on the left (so "x*y*z" stays), content starts right away.
            if opens(at: index + marker) && !(before.isLetter || before.isNumber),
               let close = closingMarker(characters, from: index + marker, length: marker) {
                flush()
                spans.append(InlineSpan(text: String(characters[(index + marker)..<close]),
                                        style: marker == 2 ? .bold : .italic))
                index = close + marker
                continue
            }
        }
        plain.append(character)
        index += 1
    }
    flush()
    return spans
}

/// Where the closing `*` or `**` of an emphasis starting at `start` is, if anywhere.
private func closingMarker(_ characters: [Character], from start: Int, length: Int) -> Int? {
    var index = start + 1
    while index + length <= characters.count {
        let isMarker = (0..<length).allSatisfy { characters[index + $0] == "*" }
        let followedByStar = index + length < characters.count && characters[index + length] == "*"
        let after = index + length < characters.count ? characters[index + length] : " "
        if isMarker && !followedByStar && !characters[index - 1].isWhitespace && !(after.isLetter || after.isNumber) {
            return index
        }
        // A paragraph break ends the search: emphasis never spans paragraphs.
        if characters[index] == "\n" && characters[index - 1] == "\n" { return nil }
        index += 1
    }
    return nil
}

import Foundation
import MiniNet

/// Anything that turns a whole notebook into one text.
public protocol NotebookRenderer {
    func render(_ notebook: Notebook) throws -> String
}

/// Renders a notebook as terminal text.
///
/// With `color`, pictures are drawn with the half-block character `▀`: its foreground
/// (24-bit colour) is the upper pixel and its background the lower one, so each character
/// cell shows two pixels stacked. Without `color` there is no escape code at all: pictures
/// become ASCII shading and ✓/✗ stay plain characters. Use
/// `TerminalRenderer.standardOutputSupportsColor()` to decide (NO_COLOR, not a terminal).
///
/// For `--pause`, stream with `render(_:to:)` and wait in `betweenSteps`:
///
///     var renderer = TerminalRenderer(color: TerminalRenderer.standardOutputSupportsColor(),
///                                     width: TerminalRenderer.standardOutputWidth())
///     renderer.betweenSteps = { _ in print("⏎ to continue", terminator: ""); _ = readLine() }
///     renderer.render(notebook) { print($0, terminator: "") }
public struct TerminalRenderer: NotebookRenderer {
    /// 24-bit colour and styles (escape codes) when true; plain text when false.
    public var color: Bool
    /// Print tensors in full instead of eliding their middles.
    public var verbose: Bool
    /// Columns available; prose is wrapped to this width (at most 100 for readability).
    public var width: Int
    /// Widest a picture panel may be, in characters (= pixels across).
    public var panelWidth: Int
    /// Called after each step except the last, once its text has been written.
    public var betweenSteps: ((Step) -> Void)?

    public init(color: Bool, verbose: Bool = false, width: Int = 80, panelWidth: Int = 28,
                betweenSteps: ((Step) -> Void)? = nil) {
        self.color = color
        self.verbose = verbose
        self.width = Swift.max(20, width)
        self.panelWidth = Swift.max(4, panelWidth)
        self.betweenSteps = betweenSteps
    }

    /// True when standard output is a terminal, NO_COLOR is unset (https://no-color.org)
    /// and TERM is not "dumb".
    public static func standardOutputSupportsColor() -> Bool {
        let environment = ProcessInfo.processInfo.environment
        if let noColor = environment["NO_COLOR"], !noColor.isEmpty { return false }
        if environment["TERM"] == "dumb" { return false }
        return isatty(STDOUT_FILENO) == 1
    }

    /// The terminal's width in columns (COLUMNS, else the terminal's size, else 80), kept in 40…200.
    public static func standardOutputWidth() -> Int {
        if let columns = ProcessInfo.processInfo.environment["COLUMNS"].flatMap(Int.init), columns > 0 {
            return Swift.min(200, Swift.max(40, columns))
        }
        var size = winsize()
        if ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 {
            return Swift.min(200, Swift.max(40, Int(size.ws_col)))
        }
        return 80
    }

    public func render(_ notebook: Notebook) -> String {
        var output = ""
        render(notebook) { output += $0 }
        return output
    }

    /// Writes the notebook piece by piece (one step at a time), calling `betweenSteps`
    /// between steps.
    public func render(_ notebook: Notebook, to write: (String) -> Void) {
        let rule = String(repeating: "═", count: Swift.min(width, 72))
        let title = wrapWords(notebook.title, width: width - 1).map { style(" " + $0, .bold) }.joined(separator: "\n")
        write(style(rule, .bold) + "\n" + title + "\n" + style(rule, .bold) + "\n")
        for (position, step) in notebook.steps.enumerated() {
            var text = ""
            if step.number > 0 { text += "\n" + stepHeading(step) + "\n" }
            var previous: Cell?
            for cell in step.cells {
                // Checks that follow each other form one block; other cells are set apart.
                if case .check = cell, case .check? = previous {} else { text += "\n" }
                text += render(cell)
                previous = cell
            }
            write(text)
            if position < notebook.steps.count - 1 { betweenSteps?(step) }
        }
        write("\n" + summary(of: notebook.checks) + "\n")
    }

    /// "── Step 3 · title ─────"; a title too long for one line continues under itself.
    private func stepHeading(_ step: Step) -> String {
        let ruleWidth = Swift.min(width, 72)
        let lines = wrapWords(NotebookWords.step(step), width: width - 7, indent: "")
        var text = "── " + lines[0] + " "
        text += String(repeating: "─", count: Swift.max(3, ruleWidth - displayWidth(text)))
        return ([text] + lines.dropFirst().map { "   " + $0 }).map { style($0, .heading) }.joined(separator: "\n")
    }

    // MARK: Cells

    func render(_ cell: Cell) -> String {
        switch cell {
        case let .picture(picture):
            return renderPicture(picture)
        default:
            // Everything but pictures (drawn to fit) passes a last check that no line is too wide.
            return fitLines(renderText(cell), width: width) + "\n"
        }
    }

    private func renderText(_ cell: Cell) -> String {
        switch cell {
        case let .heading(text):
            return wrapWords(unmarked(text), width: width).map { style($0, .bold) }.joined(separator: "\n")
        case let .prose(text):
            return wrap(emphasized(text), width: Swift.min(width, 100))
        case let .math(unicode, _):
            return unicode.split(separator: "\n", omittingEmptySubsequences: false)
                .flatMap { formulaLines(String($0)) }
                .map { style($0, .math) }.joined(separator: "\n")
        case let .tensor(name, value, caption):
            var head = style(name, .bold)
            if let caption { head += style("  — " + unmarked(caption), .dim) }
            let headLines = wrapWords(head, width: width, indent: "    ")
            // A stack of maps shows its first and last two, each by its corners, so that a
            // [512, 7, 7] tensor takes a screen, not three.
            let summary = NotebookWords.tensor(value.formatted(full: verbose, maxPerAxis: value.rank >= 3 ? 4 : 6))
            return (headLines + tensorLines(summary)).joined(separator: "\n")
        case let .table(title, headers, rows, limit):
            return String(renderTable(title: title, headers: headers, rows: rows, limit: limit).dropLast())
        case let .check(check):
            return renderCheck(check)
        case .picture:
            return ""
        }
    }

    /// Prose with its Markdown emphasis shown as the terminal can: bold and italic with
    /// escape codes, or (without colour) the plain words, never the asterisks.
    func emphasized(_ text: String) -> String {
        inlineSpans(text).map { span in
            switch span.style {
            case .plain: return span.text
            case .code: return "`" + span.text + "`"
            case .bold: return color ? "\u{1B}[1m" + span.text + "\u{1B}[22m" : span.text
            case .italic: return color ? "\u{1B}[3m" + span.text + "\u{1B}[23m" : span.text
            }
        }.joined()
    }

    /// Text that is bold or dim as a whole (titles, captions), without emphasis marks.
    func unmarked(_ text: String) -> String {
        inlineSpans(text).map { $0.style == .code ? "`" + $0.text + "`" : $0.text }.joined()
    }

    /// A formula indented by 4; one too wide breaks where it has a wide space ("a = b,   c = d")
    /// or else before a " = ", " + " or " − ", and its later lines are indented by 6.
    private func formulaLines(_ formula: String) -> [String] {
        let available = width - 4
        guard displayWidth(formula) > available else { return ["    " + formula] }
        var pieces = formula.components(separatedBy: "   ").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        var lines: [String] = []
        for var piece in pieces {
            while displayWidth(piece) > available - (lines.isEmpty ? 0 : 2) {
                // Break before the last operator that leaves a head short enough.
                let limit = available - (lines.isEmpty ? 0 : 2)
                var cut: String.Index?
                for separator in [" = ", " + ", " − ", " - ", ", ", " · ", " "] {
                    var searchEnd = piece.endIndex
                    while let range = piece.range(of: separator, options: .backwards, range: piece.startIndex..<searchEnd) {
                        if range.lowerBound > piece.startIndex, displayWidth(String(piece[..<range.lowerBound])) <= limit {
                            cut = range.lowerBound
                            break
                        }
                        searchEnd = range.lowerBound
                    }
                    if cut != nil { break }
                }
                guard let at = cut else { break }
                lines.append(String(piece[..<at]))
                piece = String(piece[at...]).trimmingCharacters(in: .whitespaces)
            }
            lines.append(piece)
        }
        pieces = lines
        return pieces.enumerated().map { ($0.offset == 0 ? "    " : "      ") + $0.element }
    }

    /// A tensor's printout with rows wider than the terminal wrapped: every number keeps its
    /// width, so wrapped rows still line up in columns, and continuation lines are indented
    /// four more columns than their row.
    private func tensorLines(_ text: String) -> [String] {
        text.split(separator: "\n", omittingEmptySubsequences: false).flatMap { line -> [String] in
            let line = String(line)
            guard displayWidth(line) > width else { return [line] }
            let indent = String(line.prefix { $0 == " " })
            // Fields are "  " + a number right-aligned in its width, or the "…" of an elided run.
            var fields: [String] = []
            var rest = Substring(line.dropFirst(indent.count))
            while !rest.isEmpty {
                let spaces = rest.prefix { $0 == " " }
                let word = rest.dropFirst(spaces.count).prefix { $0 != " " }
                fields.append(String(spaces) + String(word))
                rest = rest.dropFirst(spaces.count + word.count)
            }
            var lines: [String] = []
            var current = indent
            var currentHasField = false
            for var field in fields {
                if currentHasField && displayWidth(current + field) > width {
                    lines.append(current)
                    current = indent + "    "
                    currentHasField = false
                    // The two spaces that separated it from the previous number are not needed.
                    if field.hasPrefix("  ") { field.removeFirst(2) }
                }
                current += field
                currentHasField = true
            }
            lines.append(current)
            return lines
        }
    }

    // MARK: Tables

    /// A table in the width of the terminal. Numbers are right-aligned and never broken.
    /// When the columns do not fit, headers and words wrap inside their columns; when even
    /// that is too wide, the table is split into parts that each repeat the first column; and
    /// a row that cannot fit beside its first column becomes a block of "header  value" lines.
    func renderTable(title: String?, headers: [String], rows: [[String]], limit: RowLimit? = nil) -> String {
        let shown = ShownRows(headers: headers, rows: rows, limit: limit, verbose: verbose)
        let columnCount = ([headers.count] + rows.map(\.count)).max() ?? 0
        func filled(_ row: [String]) -> [String] { row + Array(repeating: "", count: columnCount - row.count) }
        let layout = TableLayout(
            header: filled(headers),
            entries: shown.entries.map { entry in
                if case let .row(row) = entry { return .row(filled(row)) }
                return entry
            },
            gap: { count in self.style("  " + NotebookWords.gap(count, rankedBy: shown.rankedBy), .dim) },
            bold: { self.style($0, .bold) },
            width: width)
        var lines: [String] = []
        if let title { lines += wrapWords(unmarked(title), width: width).map { style($0, .bold) } }
        lines += layout.lines(columns: Array(0..<columnCount))
        if shown.hidden > 0 { lines += wrapWords(NotebookWords.rowsNote(shown), width: width - 2).map { style("  " + $0, .dim) } }
        return lines.joined(separator: "\n") + "\n"
    }

    // MARK: Pictures

    /// A picture's panels side by side (as many as fit), their captions below, and a legend
    /// of each colour map: half blocks in 24-bit colour with `color`, else characters.
    public func renderPicture(_ picture: Picture) -> String {
        var lines = wrapWords(unmarked(picture.title), width: width).map { style($0, .bold) }
        let panels = picture.panels
        guard !panels.isEmpty else { return lines.joined(separator: "\n") + "\n" }
        let gap = 3
        // As many panels side by side as fit at 12 characters or more each; the rest below.
        let perRow = Swift.max(1, Swift.min(panels.count, (width - 2 + gap) / (12 + gap)))
        let rowsOfPanels = stride(from: 0, to: panels.count, by: perRow).map { Array(panels[$0..<Swift.min($0 + perRow, panels.count)]) }
        let columns = Swift.max(4, Swift.min(panelWidth, (width - 2 - gap * (Swift.min(perRow, panels.count) - 1)) / Swift.min(perRow, panels.count)))
        for (index, row) in rowsOfPanels.enumerated() {
            if index > 0 { lines.append("") }
            lines += panelRow(row, columns: columns, gap: gap)
        }
        var maps: [ColorMap] = []
        for case let map? in panels.map(\.colorMap) where !maps.contains(map) { maps.append(map) }
        lines += maps.map(legend)
        return lines.map { $0.replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression) }
            .joined(separator: "\n") + "\n"
    }

    /// Panels side by side, each `columns` characters wide, with their captions below.
    private func panelRow(_ panels: [Panel], columns: Int, gap: Int) -> [String] {
        // Each panel as text rows exactly `columns` characters wide (escape codes aside).
        let blocks: [[String]] = panels.map { panel in
            let natural = panel.rendered()
            // A small heatmap gets a whole number of characters per cell, so cells look equal.
            var panelColumns = columns
            if case .heatmap = panel.content, natural.width > 0, natural.width <= columns {
                panelColumns = (columns / natural.width) * natural.width
            }
            let aspect = natural.width > 0 ? Double(natural.height) / Double(natural.width) : 1
            // Two pixels per character row: pixel rows = columns · aspect, rounded to even.
            let pixelRows = Swift.max(2, Int((Double(panelColumns) * aspect / 2).rounded()) * 2)
            let rows = color
                ? halfBlockRows(panel, natural: natural, columns: panelColumns, pixelRows: pixelRows)
                : asciiRows(panel, columns: panelColumns, characterRows: pixelRows / 2)
            let left = String(repeating: " ", count: (columns - panelColumns) / 2)
            let right = String(repeating: " ", count: columns - panelColumns - left.count)
            return rows.map { left + $0 + right }
        }
        var lines: [String] = []
        let height = blocks.map(\.count).max() ?? 0
        let blank = String(repeating: " ", count: columns)
        let spacer = String(repeating: " ", count: gap)
        for row in 0..<height {
            lines.append("  " + blocks.map { row < $0.count ? $0[row] : blank }.joined(separator: spacer))
        }
        // Captions wrap onto as many lines as the longest needs, each centred under its panel.
        let captions = panels.map { wrapWords($0.caption, width: columns) }
        for line in 0..<(captions.map(\.count).max() ?? 0) {
            let pieces = captions.map { caption -> String in
                let piece = line < caption.count ? caption[line] : ""
                let left = (columns - displayWidth(piece)) / 2
                return padded(String(repeating: " ", count: left) + piece, to: columns)
            }
            lines.append(style("  " + pieces.joined(separator: spacer), .dim))
        }
        return lines
    }

    /// Rows of `▀`: foreground = upper pixel, background = lower pixel.
    private func halfBlockRows(_ panel: Panel, natural: RGBImage, columns: Int, pixelRows: Int) -> [String] {
        // Heatmap cells stay crisp squares (nearest); photos are averaged when shrunk.
        let interpolation: Interpolation
        if case .heatmap = panel.content {
            interpolation = .nearest
        } else {
            interpolation = natural.width >= columns ? .area : .bilinear
        }
        let image = natural.scaled(width: columns, height: pixelRows, interpolation: interpolation)
        return stride(from: 0, to: pixelRows, by: 2).map { top in
            var row = ""
            for x in 0..<columns {
                let upper = (top * columns + x) * 3
                let lower = ((top + 1) * columns + x) * 3
                let p = image.pixels
                row += "\u{1B}[38;2;\(p[upper]);\(p[upper + 1]);\(p[upper + 2])m"
                    + "\u{1B}[48;2;\(p[lower]);\(p[lower + 1]);\(p[lower + 2])m▀"
            }
            return row + "\u{1B}[0m"
        }
    }

    /// Shading ramps, from nothing to full.
    static let shading = Array(" .:-=+*#%@")
    static let negativeShading = Array(" .,;~ox")

    /// One ASCII character per cell (a cell is about twice as tall as wide, like 2 pixels).
    private func asciiRows(_ panel: Panel, columns: Int, characterRows: Int) -> [String] {
        let values = panel.intensities(width: columns, height: characterRows)
        let signed = panel.colorMap == .diverging
        return (0..<characterRows).map { row in
            String((0..<columns).map { column -> Character in
                let value = values[row * columns + column]
                let ramp = signed && value < 0 ? Self.negativeShading : Self.shading
                let level = Int(Swift.min(1, Swift.max(0, abs(value))) * Float(ramp.count - 1) + 0.5)
                return ramp[level]
            })
        }
    }

    private func legend(_ map: ColorMap) -> String {
        let steps = 16
        switch (map, color) {
        case (.jet, true):
            let bar = (0..<steps).map { swatch(map.color(Float($0) / Float(steps - 1))) }.joined()
            return style("  jet  0 ", .dim) + bar + style(" 1", .dim)
        case (.diverging, true):
            let bar = (0..<steps).map { swatch(map.color(Float($0) / Float(steps - 1) * 2 - 1)) }.joined()
            return style("  −max|v| ", .dim) + bar + style(" +max|v|   (" + NotebookWords.text("legend.diverging") + ")", .dim)
        case (.whiteToBlack, true):
            let bar = (0..<steps).map { swatch(map.color(Float($0) / Float(steps - 1))) }.joined()
            return style("  0 ", .dim) + bar + style(" 1   (" + NotebookWords.text("legend.white-to-black") + ")", .dim)
        case (.jet, false), (.whiteToBlack, false):
            return "  " + NotebookWords.text("legend.shading", ["ramp": String(Self.shading)])
        case (.diverging, false):
            return "  " + NotebookWords.text("legend.shading.signed", ["positive": String(Self.shading), "negative": String(Self.negativeShading)])
        }
    }

    private func swatch(_ rgb: (red: UInt8, green: UInt8, blue: UInt8)) -> String {
        "\u{1B}[48;2;\(rgb.red);\(rgb.green);\(rgb.blue)m \u{1B}[0m"
    }

    // MARK: Checks

    /// One check: on one line when it fits, otherwise its name, then each side and the
    /// residual on lines of their own; the tolerance's making goes below.
    ///
    ///     ✓ Σ P_c = 1   Σ P_c 1.000000   1 1.000000   |Δ| 6.0e-08 ≤ 3.58e-07
    ///         tolerance γ₃ · Σ|terms| 1 · safety 2
    public func renderCheck(_ check: Check) -> String {
        let mark = check.ok ? style("✓", .pass) : style("✗", .fail)
        var pieces: [String]
        if check.kind == .truth {
            pieces = [check.leftLabel + (check.ok ? "" : "   " + NotebookWords.text("check.fails"))]
        } else {
            let comparison = check.ok ? "≤" : ">"
            pieces = ["\(check.leftLabel) \(formatCheckValue(check.left))",
                      "\(check.rightLabel) \(formatCheckValue(check.right))",
                      "|Δ| \(formatResidual(check.residual)) \(comparison) \(formatTolerance(check.tolerance))"]
        }
        let note = check.note.map { style("(\($0))", .dim) }
        let detail = (pieces + (note.map { [$0] } ?? [])).joined(separator: "   ")
        var lines: [String]
        if displayWidth(mark + " " + check.name + "   " + detail) <= width {
            lines = [mark + " " + check.name + "   " + detail]
        } else {
            lines = wrapWords(check.name, width: width - 2, indent: "  ").enumerated().map { ($0.offset == 0 ? mark + " " : "  ") + $0.element }
            if displayWidth(detail) <= width - 4 {
                lines.append("    " + detail)
            } else {
                // The two sides, then the residual (with the note when it fits), each on a line.
                var rows = pieces
                if let note {
                    if displayWidth(rows[rows.count - 1] + "   " + note) <= width - 4 { rows[rows.count - 1] += "   " + note } else { rows.append(note) }
                }
                for row in rows { lines += wrapWords(row, width: width - 4, indent: "    ").map { "    " + $0 } }
            }
        }
        // How the tolerance was made, on lines of its own below the numbers it bounds.
        guard let model = check.model, check.kind != .truth else { return lines.joined(separator: "\n") }
        // A long sum of routes breaks before a " + ", so that it fits the terminal.
        var rows = [NotebookWords.text("check.tolerance")]
        var rowHasRoute = false
        for (index, route) in NotebookWords.tolerance(model).components(separatedBy: " + ").enumerated() {
            let piece = index == 0 ? route : "+ " + route
            if rowHasRoute && displayWidth(rows[rows.count - 1]) + 1 + displayWidth(piece) > width - 4 {
                rows.append("  " + piece)
            } else {
                rows[rows.count - 1] += " " + piece
            }
            rowHasRoute = true
        }
        if check.isCoarse { rows.append(NotebookWords.text("check.coarse")) }
        for row in rows {
            lines += wrapWords(row, width: width - 4, indent: "    ").map { "    " + style($0, .dim) }
        }
        return lines.joined(separator: "\n")
    }

    private func summary(of checks: [Check]) -> String {
        let words = NotebookWords.checkSummary(checks)
        guard !checks.isEmpty else { return style(words, .dim) }
        let failed = checks.filter { !$0.ok }
        if failed.isEmpty {
            return style("✓", .pass) + " " + wrapWords(words, width: width - 2, indent: "  ").map { style($0, .bold) }.joined(separator: "\n")
        }
        let text = words + " " + failed.map(\.name).joined(separator: "; ")
        let lines = wrapWords(text, width: width - 2, indent: "  ")
        return style("✗", .fail) + " " + lines.map { style($0, .bold) }.joined(separator: "\n")
    }

    // MARK: Text helpers

    enum Style { case bold, dim, heading, math, pass, fail }

    func style(_ text: String, _ style: Style) -> String {
        guard color, !text.isEmpty else { return text }
        let code: String
        switch style {
        case .bold: code = "1"
        case .dim: code = "2"
        case .heading: code = "1;36"
        case .math: code = "1;33"
        case .pass: code = "1;32"
        case .fail: code = "1;31"
        }
        return "\u{1B}[\(code)m\(text)\u{1B}[0m"
    }
}

/// 3.141593 for ordinary magnitudes, 1.234568e-09 for tiny or huge ones.
func formatCheckValue(_ value: Double) -> String {
    if value.isNaN { return "nan" }
    if value.isInfinite { return value > 0 ? "inf" : "-inf" }
    if value == 0 { return "0" }
    let magnitude = abs(value)
    return (magnitude >= 1e-4 && magnitude < 1e7) ? String(format: "%.6f", value) : String(format: "%.6e", value)
}

/// 3.1416, as the lessons' tables print numbers; 1.235e-05 or 1.235e+08 when four decimals
/// would hide the value or make it long.
public func formatLessonNumber(_ value: Double) -> String {
    if value.isNaN { return "nan" }
    if value.isInfinite { return value > 0 ? "inf" : "-inf" }
    let magnitude = abs(value)
    return value == 0 || (magnitude >= 1e-3 && magnitude < 1e7) ? String(format: "%.4f", value) : String(format: "%.3e", value)
}

/// 2.4e-07
func formatResidual(_ value: Double) -> String {
    if value.isNaN { return "nan" }
    if value.isInfinite { return "inf" }
    return value == 0 ? "0" : String(format: "%.1e", value)
}

/// 1e-05
func formatTolerance(_ value: Double) -> String { String(format: "%.3g", value) }

/// Lays a table's rows out in columns that fit `width` (see `TerminalRenderer.renderTable`).
struct TableLayout {
    var header: [String]
    /// Rows already padded to the header's length, and gaps where rows are left out.
    var entries: [ShownRows.Entry]
    /// The line that stands for `count` rows left out.
    var gap: (Int) -> String
    var bold: (String) -> String
    var width: Int

    let indent = 2

    private var rows: [[String]] {
        entries.compactMap { entry in
            if case let .row(row) = entry { return row }
            return nil
        }
    }

    /// Numbers read best right-aligned (decimal points and signs line up), words left-aligned.
    private func isNumeric(_ column: Int) -> Bool {
        rows.allSatisfy { $0[column].isEmpty || $0[column] == "—" || Double($0[column]) != nil }
    }

    private func longestWord(_ text: String) -> Int {
        text.split(separator: " ").map { displayWidth(String($0)) }.max() ?? 0
    }

    /// Column widths and the gap between columns, if these columns fit side by side, and
    /// whether some cells had to wrap.
    private func fit(_ columns: [Int]) -> (widths: [Int], gap: Int, wraps: Bool)? {
        let natural = columns.map { column in ([header] + rows).map { displayWidth($0[column]) }.max() ?? 0 }
        for gap in [3, 2] where indent + natural.reduce(0, +) + gap * (columns.count - 1) <= width {
            return (natural, gap, false)
        }
        // Headers wrap at spaces, words at spaces; numbers stay whole.
        let narrowest = columns.map { column -> Int in
            let cells = rows.map { isNumeric(column) ? displayWidth($0[column]) : longestWord($0[column]) }
            return Swift.max(longestWord(header[column]), cells.max() ?? 0, 1)
        }
        let available = width - indent - 2 * (columns.count - 1)
        guard narrowest.reduce(0, +) <= available else { return nil }
        // Narrow the widest column that can still wrap, one column at a time.
        var widths = natural
        while widths.reduce(0, +) > available,
              let index = widths.indices.filter({ widths[$0] > narrowest[$0] }).max(by: { widths[$0] < widths[$1] }) {
            widths[index] -= 1
        }
        return (widths, 2, true)
    }

    /// The table in as few lines as fit: all columns side by side (with cells wrapped if
    /// need be), or split into parts keyed by the first column, whichever is shorter; a block
    /// per row when neither fits.
    func lines(columns: [Int]) -> [String] {
        var candidates: [[String]] = []
        if let layout = fit(columns) {
            let single = grid(columns, widths: layout.widths, spacing: layout.gap)
            if !layout.wraps { return single }
            candidates.append(single)
        }
        // Split: as many columns as fit without wrapping (else with), then the rest.
        let prefixes = columns.count > 2 ? Array((2..<columns.count).reversed()) : []
        if let count = prefixes.first(where: { fit(Array(columns.prefix($0)))?.wraps == false })
            ?? prefixes.first(where: { fit(Array(columns.prefix($0))) != nil }) {
            candidates.append(lines(columns: Array(columns.prefix(count))) + [""]
                              + lines(columns: [columns[0]] + columns.dropFirst(count)))
        }
        return candidates.min { $0.count < $1.count } ?? stacked(columns)
    }

    private func grid(_ columns: [Int], widths: [Int], spacing: Int) -> [String] {
        let separator = String(repeating: " ", count: spacing)
        func rowLines(_ row: [String], isHeader: Bool) -> [String] {
            let cells = columns.indices.map { wrapWords(row[columns[$0]], width: widths[$0]) }
            let height = cells.map(\.count).max() ?? 1
            return (0..<height).map { line in
                let text = "  " + columns.indices.map { index in
                    let piece = line < cells[index].count ? cells[index][line] : ""
                    return padded(piece, to: widths[index], right: isNumeric(columns[index]))
                }.joined(separator: separator)
                let trimmed = text.replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression)
                return isHeader ? bold(trimmed) : trimmed
            }
        }
        var lines = rowLines(header, isHeader: true)
        lines.append("  " + widths.map { String(repeating: "─", count: $0) }.joined(separator: separator))
        for entry in entries {
            switch entry {
            case let .row(row): lines += rowLines(row, isHeader: false)
            case let .gap(count): lines.append(gap(count))
            }
        }
        return lines
    }

    /// One block per row, the headers down the left.
    private func stacked(_ columns: [Int]) -> [String] {
        let labelWidth = Swift.min(columns.map { displayWidth(header[$0]) }.max() ?? 0, width / 3)
        let valueWidth = width - indent - labelWidth - 2
        var lines: [String] = []
        for (index, entry) in entries.enumerated() {
            if index > 0 { lines.append("") }
            switch entry {
            case let .row(row):
                for column in columns {
                    let labels = wrapWords(header[column], width: labelWidth)
                    let values = wrapWords(row[column], width: valueWidth)
                    for line in 0..<Swift.max(labels.count, values.count) {
                        let label = line < labels.count ? labels[line] : ""
                        let value = line < values.count ? values[line] : ""
                        let text = "  " + bold(padded(label, to: labelWidth)) + "  " + value
                        lines.append(text.replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression))
                    }
                }
            case let .gap(count):
                lines.append(gap(count))
            }
        }
        return lines
    }
}

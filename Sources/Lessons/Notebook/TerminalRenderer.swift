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
        write(style(rule, .bold) + "\n" + style(" " + notebook.title, .bold) + "\n" + style(rule, .bold) + "\n")
        for (position, step) in notebook.steps.enumerated() {
            var text = ""
            if step.number > 0 {
                let label = "── Step \(step.number) · \(step.title) "
                let fill = String(repeating: "─", count: Swift.max(3, Swift.min(width, 72) - label.count))
                text += "\n" + style(label + fill, .heading) + "\n"
            }
            for cell in step.cells { text += "\n" + render(cell) }
            write(text)
            if position < notebook.steps.count - 1 { betweenSteps?(step) }
        }
        write("\n" + summary(of: notebook.checks) + "\n")
    }

    // MARK: Cells

    func render(_ cell: Cell) -> String {
        switch cell {
        case let .heading(text):
            return style(text, .bold) + "\n"
        case let .prose(text):
            return wrap(text, width: Swift.min(width, 100)) + "\n"
        case let .math(unicode, _):
            return unicode.split(separator: "\n", omittingEmptySubsequences: false)
                .map { "    " + style(String($0), .math) }.joined(separator: "\n") + "\n"
        case let .tensor(name, value, caption):
            var text = style(name, .bold)
            if let caption { text += style("  — " + caption, .dim) }
            return text + "\n" + value.formatted(full: verbose) + "\n"
        case let .table(title, headers, rows):
            return renderTable(title: title, headers: headers, rows: rows)
        case let .picture(picture):
            return renderPicture(picture)
        case let .check(check):
            return renderCheck(check) + "\n"
        }
    }

    func renderTable(title: String?, headers: [String], rows: [[String]]) -> String {
        let columnCount = ([headers.count] + rows.map(\.count)).max() ?? 0
        let padded = ([headers] + rows).map { row in row + Array(repeating: "", count: columnCount - row.count) }
        let widths = (0..<columnCount).map { column in padded.map { $0[column].count }.max() ?? 0 }
        // Numbers read best right-aligned (decimal points and signs line up), words left-aligned.
        let numeric = (0..<columnCount).map { column in
            rows.allSatisfy { row in column >= row.count || row[column].isEmpty || Double(row[column]) != nil }
        }
        func line(_ row: [String]) -> String {
            let cells = row.enumerated().map { column, text in
                let padding = String(repeating: " ", count: widths[column] - text.count)
                return numeric[column] ? padding + text : text + padding
            }
            return "  " + cells.joined(separator: "   ")
        }
        var lines: [String] = []
        if let title { lines.append(style(title, .bold)) }
        lines.append(style(line(padded[0]), .bold))
        lines.append("  " + widths.map { String(repeating: "─", count: $0) }.joined(separator: "   "))
        lines += padded.dropFirst().map(line)
        return lines.joined(separator: "\n") + "\n"
    }

    // MARK: Pictures

    func renderPicture(_ picture: Picture) -> String {
        var lines = [style(picture.title, .bold)]
        let panels = picture.panels
        guard !panels.isEmpty else { return lines[0] + "\n" }
        let gap = 3
        let available = width - 2 - gap * (panels.count - 1)
        let columns = Swift.max(4, Swift.min(panelWidth, available / panels.count))

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
        let height = blocks.map(\.count).max() ?? 0
        let blank = String(repeating: " ", count: columns)
        let spacer = String(repeating: " ", count: gap)
        for row in 0..<height {
            lines.append("  " + blocks.map { row < $0.count ? $0[row] : blank }.joined(separator: spacer))
        }
        let captions = panels.map { panel -> String in
            let caption = panel.caption.count > columns ? String(panel.caption.prefix(columns - 1)) + "…" : panel.caption
            let left = (columns - caption.count) / 2
            return String(repeating: " ", count: left) + caption + String(repeating: " ", count: columns - caption.count - left)
        }
        lines.append(style("  " + captions.joined(separator: spacer), .dim))
        var maps: [ColorMap] = []
        for case let map? in panels.map(\.colorMap) where !maps.contains(map) { maps.append(map) }
        lines += maps.map(legend)
        return lines.map { $0.replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression) }
            .joined(separator: "\n") + "\n"
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
            return style("  −max|v| ", .dim) + bar + style(" +max|v|   (negative blue, 0 white, positive red)", .dim)
        case (.jet, false):
            return "  shading: \"\(String(Self.shading))\" from 0 to 1"
        case (.diverging, false):
            return "  shading: \"\(String(Self.shading))\" 0 to +max|v|, \"\(String(Self.negativeShading))\" 0 to −max|v|"
        }
    }

    private func swatch(_ rgb: (red: UInt8, green: UInt8, blue: UInt8)) -> String {
        "\u{1B}[48;2;\(rgb.red);\(rgb.green);\(rgb.blue)m \u{1B}[0m"
    }

    // MARK: Checks

    func renderCheck(_ check: Check) -> String {
        let mark = check.ok ? style("✓", .pass) : style("✗", .fail)
        let head = mark + " " + check.name
        var detail: String
        if check.kind == .truth {
            detail = check.leftLabel + (check.ok ? "" : "   does not hold")
        } else {
            let comparison = check.ok ? "≤" : ">"
            let residual = "|Δ| \(formatResidual(check.residual)) \(comparison) \(formatTolerance(check.tolerance))"
            detail = "\(check.leftLabel) \(formatCheckValue(check.left))   "
                + "\(check.rightLabel) \(formatCheckValue(check.right))   " + residual
        }
        if let note = check.note { detail += style("   (\(note))", .dim) }
        let plainLength = 2 + check.name.count + 3 + visibleLength(detail)
        let line = plainLength <= width ? head + "   " + detail : head + "\n    " + detail
        // How the tolerance was made, on a line of its own below the numbers it bounds.
        guard let model = check.model, check.kind != .truth else { return line }
        // A long sum of routes breaks before a " + ", so that it fits the terminal.
        var rows = ["tolerance"]
        let pieces = model.description.components(separatedBy: " + ")
        for (index, piece) in pieces.enumerated() {
            let joined = index == 0 ? piece : "+ " + piece
            if visibleLength(rows[rows.count - 1]) + 1 + visibleLength(joined) > width - 4 && rows[rows.count - 1] != "tolerance" {
                rows.append("  " + joined)
            } else {
                rows[rows.count - 1] += " " + joined
            }
        }
        return line + rows.map { "\n    " + style($0, .dim) }.joined()
    }

    private func summary(of checks: [Check]) -> String {
        guard !checks.isEmpty else { return style("No checks in this lesson.", .dim) }
        let failed = checks.filter { !$0.ok }
        if failed.isEmpty {
            let noun = checks.count == 1 ? "check" : "checks"
            return style("✓", .pass) + style(" All \(checks.count) \(noun) passed.", .bold)
        }
        return style("✗", .fail) + style(" \(failed.count) of \(checks.count) checks failed: ", .bold)
            + failed.map(\.name).joined(separator: "; ")
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

    private func visibleLength(_ text: String) -> Int {
        text.replacingOccurrences(of: "\u{1B}\\[[0-9;]*m", with: "", options: .regularExpression).count
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

/// 2.4e-07
func formatResidual(_ value: Double) -> String {
    if value.isNaN { return "nan" }
    if value.isInfinite { return "inf" }
    return value == 0 ? "0" : String(format: "%.1e", value)
}

/// 1e-05
func formatTolerance(_ value: Double) -> String { String(format: "%.3g", value) }

/// Wraps paragraphs (separated by blank lines) to `width` columns. Lines starting with
/// "- " are bullets whose continuation lines are indented under the text.
func wrap(_ text: String, width: Int) -> String {
    var output: [String] = []
    for paragraph in text.components(separatedBy: "\n\n") {
        if !output.isEmpty { output.append("") }
        // Gather lines into logical lines: a bullet starts a new one, other lines continue.
        var logical: [(prefix: String, words: [Substring])] = []
        for line in paragraph.split(separator: "\n", omittingEmptySubsequences: true) {
            let trimmed = line.drop { $0 == " " }
            if trimmed.hasPrefix("- ") || trimmed.hasPrefix("• ") {
                logical.append(("  • ", trimmed.dropFirst(2).split(separator: " ")))
            } else if logical.isEmpty {
                logical.append(("", trimmed.split(separator: " ")))
            } else {
                logical[logical.count - 1].words += trimmed.split(separator: " ")
            }
        }
        for (prefix, words) in logical {
            let indent = String(repeating: " ", count: prefix.count)
            var line = prefix
            var lineHasWord = false
            for word in words {
                if lineHasWord && line.count + 1 + word.count > width {
                    output.append(line)
                    line = indent
                    lineHasWord = false
                }
                line += (lineHasWord ? " " : "") + word
                lineHasWord = true
            }
            output.append(line)
        }
    }
    return output.joined(separator: "\n")
}

import Foundation
import MiniNet

/// Renders a notebook as a Markdown page (GitHub flavour: tables, `$$…$$` math) and
/// writes its pictures as PNG files beside it.
///
/// Each panel of each picture becomes one PNG named from lesson, step and position,
/// e.g. `grad-cam-step3-picture1-panel2.png`, so re-rendering overwrites the same files.
/// Small pictures (a 7×7 CAM) are enlarged by a whole factor until at least
/// `minimumPictureSize` pixels wide: heatmaps with crisp cells (nearest), photos smoothly.
///
///     let renderer = MarkdownRenderer(imageDirectory: "docs/lessons/images", imageLinkPrefix: "images/")
///     let page = try renderer.render(notebook)      // writes docs/lessons/images/*.png
///     try page.write(toFile: "docs/lessons/grad-cam.md", atomically: true, encoding: .utf8)
public struct MarkdownRenderer: NotebookRenderer {
    /// Folder the PNG files are written to (created if missing).
    public var imageDirectory: String
    /// Put before each file name in links, e.g. "images/" (a "/" is added if missing).
    public var imageLinkPrefix: String
    /// Print tensors in full instead of eliding their middles.
    public var verbose: Bool
    public var minimumPictureSize: Int

    public init(imageDirectory: String, imageLinkPrefix: String = "", verbose: Bool = false, minimumPictureSize: Int = 192) {
        self.imageDirectory = imageDirectory
        self.imageLinkPrefix = imageLinkPrefix
        self.verbose = verbose
        self.minimumPictureSize = minimumPictureSize
    }

    /// `<lesson>-step<S>-picture<P>-panel<Q>.png` (lesson reduced to a-z, 0-9, "-", "_").
    public static func imageFileName(lesson: String, step: Int, picture: Int, panel: Int) -> String {
        let safe = String(lesson.lowercased().map { character -> Character in
            (character.isASCII && (character.isLetter || character.isNumber)) || character == "_" ? character : "-"
        })
        return "\(safe.isEmpty ? "lesson" : safe)-step\(step)-picture\(picture)-panel\(panel).png"
    }

    /// The link prefix from a page in `pageFolder` to pictures in `folder`, e.g. "images/" or
    /// "../../images/lessons/", so that the links work wherever the page is written. Both are
    /// taken relative to the current folder when they are not absolute; symbolic links are
    /// resolved, and characters a Markdown link cannot hold (spaces, brackets) are
    /// percent-encoded.
    public static func relativeLink(toFolder folder: String, fromPageFolder pageFolder: String) -> String {
        func components(_ path: String) -> [String] {
            let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
            return URL(fileURLWithPath: absolute).standardizedFileURL.resolvingSymlinksInPath().pathComponents.filter { $0 != "/" }
        }
        let target = components(folder)
        let page = components(pageFolder)
        var common = 0
        while common < target.count && common < page.count && target[common] == page[common] { common += 1 }
        let steps = Array(repeating: "..", count: page.count - common) + target[common...]
        var allowed = CharacterSet.urlPathAllowed
        allowed.remove(charactersIn: "()[]<> ")
        return steps.map { $0.addingPercentEncoding(withAllowedCharacters: allowed) ?? $0 }
            .map { $0 + "/" }.joined()
    }

    public func render(_ notebook: Notebook) throws -> String {
        var blocks = ["# " + notebook.title]
        for step in notebook.steps {
            if step.number > 0 { blocks.append("## " + NotebookWords.step(step)) }
            var pictureNumber = 0
            var pendingChecks: [Check] = []
            func flushChecks() {
                if !pendingChecks.isEmpty { blocks.append(checkTable(pendingChecks)) }
                pendingChecks = []
            }
            for cell in step.cells {
                if case let .check(check) = cell {
                    pendingChecks.append(check)
                    continue
                }
                flushChecks()
                switch cell {
                case let .heading(text):
                    blocks.append("### " + text)
                case let .prose(text):
                    blocks.append(text)
                case let .math(_, latex):
                    blocks.append("$$\n" + latex + "\n$$")
                case let .tensor(name, value, caption):
                    let title = "**\(name)**" + (caption.map { " — " + $0 } ?? "")
                    blocks.append(title + "\n\n```text\n" + NotebookWords.tensor(value.formatted(full: verbose)) + "\n```")
                case let .table(title, headers, rows, limit):
                    let shown = ShownRows(headers: headers, rows: rows, limit: limit, verbose: verbose)
                    blocks.append(table(title: title, headers: headers, rows: shown))
                case let .picture(picture):
                    pictureNumber += 1
                    blocks.append(try render(picture, lesson: notebook.lesson, step: step.number, number: pictureNumber))
                case .check:
                    break
                }
            }
            flushChecks()
        }
        let checks = notebook.checks
        if !checks.isEmpty {
            let verdict = (checks.allSatisfy(\.ok) ? "✓ " : "✗ ") + NotebookWords.pageVerdict(checks)
            blocks.append("## " + NotebookWords.text("checks.title") + "\n\n" + verdict + "\n\n" + checkTable(checks))
        }
        return blocks.joined(separator: "\n\n") + "\n"
    }

    // MARK: Pieces

    private func cell(_ text: String) -> String {
        text.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ")
    }

    private func table(title: String?, headers: [String], rows: [[String]]) -> String {
        table(title: title, headers: headers, rows: ShownRows(headers: headers, rows: rows, limit: nil, verbose: true))
    }

    /// A GitHub table; rows left out show as "⋮ 990 more rows" in the first column, and a
    /// line below says how to see them.
    private func table(title: String?, headers: [String], rows: ShownRows) -> String {
        let columns = ([headers.count] + rows.entries.map { entry in
            if case let .row(row) = entry { return row.count }
            return 1
        }).max() ?? 0
        func line(_ row: [String]) -> String {
            let padded = row + Array(repeating: "", count: columns - row.count)
            return "| " + padded.map(cell).joined(separator: " | ") + " |"
        }
        var lines: [String] = []
        if let title { lines += ["**\(title)**", ""] }
        lines.append(line(headers))
        lines.append("|" + Array(repeating: "---|", count: columns).joined())
        for entry in rows.entries {
            switch entry {
            case let .row(row): lines.append(line(row))
            case let .gap(count): lines.append(line([NotebookWords.gap(count, rankedBy: rows.rankedBy)]))
            }
        }
        if rows.hidden > 0 { lines += ["", "*" + NotebookWords.rowsNote(rows) + "*"] }
        return lines.joined(separator: "\n")
    }

    private func checkTable(_ checks: [Check]) -> String {
        let rows = checks.map { check -> [String] in
            let mark = check.ok ? "✓" : "✗"
            if check.kind == .truth {
                return [mark, check.name, check.leftLabel, NotebookWords.text(check.ok ? "check.holds" : "check.fails"), "", ""]
            }
            let note = check.note.map { " (\($0))" } ?? ""
            return [mark, check.name,
                    "\(check.leftLabel) = \(formatCheckValue(check.left))",
                    "\(check.rightLabel) = \(formatCheckValue(check.right))",
                    formatResidual(check.residual) + note,
                    (check.model.map(NotebookWords.tolerance) ?? formatTolerance(check.tolerance))
                        + (check.isCoarse ? " (" + NotebookWords.text("check.coarse") + ")" : "")]
        }
        let headers = ["check", "left", "right", "residual", "tolerance"].map { NotebookWords.text("checks.column." + $0) }
        return table(title: nil, headers: [""] + headers, rows: rows)
    }

    private func render(_ picture: Picture, lesson: String, step: Int, number: Int) throws -> String {
        do {
            try FileManager.default.createDirectory(atPath: imageDirectory, withIntermediateDirectories: true)
        } catch {
            throw MiniNetError.file(imageDirectory, "could not create the picture folder (\(error.localizedDescription))")
        }
        var links: [String] = []
        for (index, panel) in picture.panels.enumerated() {
            let name = Self.imageFileName(lesson: lesson, step: step, picture: number, panel: index + 1)
            try enlarged(panel).write(to: (imageDirectory as NSString).appendingPathComponent(name))
            let prefix = imageLinkPrefix.isEmpty || imageLinkPrefix.hasSuffix("/") ? imageLinkPrefix : imageLinkPrefix + "/"
            links.append("![\(cell(panel.caption))](\(prefix)\(name))")
        }
        var text = "**\(picture.title)**\n\n"
        text += "| " + picture.panels.map { cell($0.caption) }.joined(separator: " | ") + " |\n"
        text += "|" + Array(repeating: ":---:|", count: picture.panels.count).joined() + "\n"
        text += "| " + links.joined(separator: " | ") + " |"
        var maps: [ColorMap] = []
        for case let map? in picture.panels.map(\.colorMap) where !maps.contains(map) { maps.append(map) }
        let legends = maps.map { map -> String in
            switch map {
            case .jet: return NotebookWords.text("legend.jet.page")
            case .diverging: return NotebookWords.text("legend.diverging.page")
            case .whiteToBlack: return NotebookWords.text("legend.white-to-black.page")
            }
        }
        if !legends.isEmpty { text += "\n\n*" + legends.joined(separator: "; ") + "*" }
        return text
    }

    /// The panel's pixels, enlarged by a whole factor to at least `minimumPictureSize` wide.
    private func enlarged(_ panel: Panel) -> RGBImage {
        let image = panel.rendered()
        guard image.width > 0, image.width < minimumPictureSize else { return image }
        let factor = (minimumPictureSize + image.width - 1) / image.width
        let interpolation: Interpolation
        if case .heatmap = panel.content { interpolation = .nearest } else { interpolation = .bilinear }
        return image.scaled(width: image.width * factor, height: image.height * factor, interpolation: interpolation)
    }
}

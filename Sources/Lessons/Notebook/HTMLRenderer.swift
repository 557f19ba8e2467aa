import Foundation
import MiniNet

/// Renders a notebook as one self-contained HTML page for a projector: large type, pictures
/// inlined as `data:` PNGs, formulas as MathML (drawn by the browser itself), no script, no
/// font or style from the network. Open the file anywhere, even offline.
///
///     let page = try HTMLRenderer().render(notebook)
///     try writeFileAtomically(Data(page.utf8), to: "gradcam.html")
///
/// The page keeps the notebook's structure: a `<section id="step-N">` per step, `<table>`s
/// with numbers right-aligned, `<figure class="picture">` rows of panels, and one
/// `<div class="check pass|fail">` per check.
public struct HTMLRenderer: NotebookRenderer {
    /// Every table row and every tensor value instead of the summaries.
    public var verbose: Bool
    /// Each panel is shown at least this many CSS pixels wide (small heatmaps are enlarged
    /// with crisp cells).
    public var panelWidth: Int

    public init(verbose: Bool = false, panelWidth: Int = 240) {
        self.verbose = verbose
        self.panelWidth = panelWidth
    }

    public func render(_ notebook: Notebook) throws -> String {
        var body: [String] = []
        let checks = notebook.checks
        body.append("<header><h1>\(inline(notebook.title))</h1>")
        body.append("<p class=\"verdict \(notebook.allChecksPass ? "pass" : "fail")\">\(verdict(checks))</p>")
        let numbered = notebook.steps.filter { $0.number > 0 }
        if !numbered.isEmpty {
            body.append("<nav><ol>" + numbered.map { step in
                "<li><a href=\"#step-\(step.number)\">\(inline(step.title))</a></li>"
            }.joined() + "</ol></nav>")
        }
        body.append("</header>")
        for step in notebook.steps {
            body.append(step.number > 0 ? "<section class=\"step\" id=\"step-\(step.number)\">" : "<section class=\"intro\">")
            if step.number > 0 { body.append("<h2>\(inline(NotebookWords.step(step)))</h2>") }
            var pictureNumber = 0
            for cell in step.cells {
                if case .picture = cell { pictureNumber += 1 }
                body.append(try render(cell, pictureNumber: pictureNumber, step: step.number))
            }
            body.append("</section>")
        }
        body.append("<footer><p class=\"verdict \(notebook.allChecksPass ? "pass" : "fail")\">\(verdict(checks))</p>"
                    + "<p>\(inline(NotebookWords.text("page.generated")))</p></footer>")
        return """
        <!DOCTYPE html>
        <html lang="\(Language.current.rawValue)">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(escapeHTML(notebook.title))</title>
        <style>\(Self.styleSheet)</style>
        </head>
        <body>
        <main>
        \(body.joined(separator: "\n"))
        </main>
        </body>
        </html>

        """
    }

    private func verdict(_ checks: [Check]) -> String {
        let failed = checks.filter { !$0.ok }
        let words = escapeHTML(NotebookWords.checkSummary(checks))
        if checks.isEmpty { return words }
        if failed.isEmpty { return "✓ " + words }
        return "✗ " + words + " " + escapeHTML(failed.map(\.name).joined(separator: "; "))
    }

    // MARK: Cells

    func render(_ cell: Cell, pictureNumber: Int, step: Int) throws -> String {
        switch cell {
        case let .heading(text):
            return "<h3>\(inline(text))</h3>"
        case let .prose(text):
            return prose(text)
        case let .math(unicode, latex):
            return "<div class=\"math\">" + MathML.convert(latex, alternative: unicode).markup + "</div>"
        case let .tensor(name, value, caption):
            let title = "<b>\(escapeHTML(name))</b>" + (caption.map { " — " + inline($0) } ?? "")
            let text = NotebookWords.tensor(value.formatted(full: verbose))
            guard value.rank >= 3 else {
                return "<figure class=\"tensor\"><figcaption>\(title)</figcaption><pre>\(escapeHTML(text))</pre></figure>"
            }
            // A stack of maps fills screens: its header (shape and statistics) is shown, the
            // numbers open on a click (already open with --verbose).
            let lines = text.split(separator: "\n", maxSplits: 1).map(String.init)
            return "<figure class=\"tensor\"><figcaption>\(title)</figcaption><details\(verbose ? " open" : "")>"
                + "<summary><code>\(escapeHTML(lines[0]))</code></summary><pre>\(escapeHTML(lines.count > 1 ? lines[1] : ""))</pre></details></figure>"
        case let .table(title, headers, rows, limit):
            return table(title: title, headers: headers, rows: ShownRows(headers: headers, rows: rows, limit: limit, verbose: verbose))
        case let .picture(picture):
            return try self.picture(picture, id: "step\(step)-picture\(pictureNumber)")
        case let .check(check):
            return self.check(check)
        }
    }

    /// Paragraphs (blank lines between), bullet lists ("- "), and inline emphasis.
    func prose(_ text: String) -> String {
        var html: [String] = []
        for paragraph in text.components(separatedBy: "\n\n") {
            var items: [String] = []
            var plain: [String] = []
            for line in paragraph.split(separator: "\n", omittingEmptySubsequences: true) {
                let trimmed = line.drop { $0 == " " }
                if trimmed.hasPrefix("- ") || trimmed.hasPrefix("• ") {
                    items.append(String(trimmed.dropFirst(2)))
                } else if !items.isEmpty {
                    items[items.count - 1] += " " + trimmed
                } else {
                    plain.append(String(trimmed))
                }
            }
            if !plain.isEmpty { html.append("<p>" + inline(plain.joined(separator: " ")) + "</p>") }
            if !items.isEmpty { html.append("<ul>" + items.map { "<li>" + inline($0) + "</li>" }.joined() + "</ul>") }
        }
        return html.joined(separator: "\n")
    }

    /// Text with its Markdown emphasis as HTML elements and web addresses as links (which
    /// fetch nothing until followed); everything else escaped.
    func inline(_ text: String) -> String {
        inlineSpans(text).map { span in
            let text = escapeHTML(span.text)
            switch span.style {
            case .plain: return linked(text)
            case .bold: return "<strong>\(text)</strong>"
            case .italic: return "<em>\(text)</em>"
            case .code: return "<code>\(text)</code>"
            }
        }.joined()
    }

    /// "https://…" in escaped text as a link; a trailing full stop, comma or bracket is not
    /// part of the address.
    private func linked(_ text: String) -> String {
        guard text.contains("http") else { return text }
        let expression = try! NSRegularExpression(pattern: #"https?://[^\s<>"]*[^\s<>".,;:)\]]"#)
        return expression.stringByReplacingMatches(in: text, range: NSRange(text.startIndex..., in: text),
                                                   withTemplate: "<a href=\"$0\">$0</a>")
    }

    private func table(title: String?, headers: [String], rows: ShownRows) -> String {
        let columnCount = ([headers.count] + rows.entries.map { entry in
            if case let .row(row) = entry { return row.count }
            return 0
        }).max() ?? 0
        let visible = rows.entries.compactMap { entry -> [String]? in
            if case let .row(row) = entry { return row }
            return nil
        }
        let numeric = (0..<columnCount).map { column in
            visible.allSatisfy { row in column >= row.count || row[column].isEmpty || row[column] == "—" || Double(row[column]) != nil }
        }
        var html = "<figure class=\"table\">"
        if let title { html += "<figcaption>\(inline(title))</figcaption>" }
        html += "<table><thead><tr>"
        for column in 0..<columnCount {
            let header = column < headers.count ? headers[column] : ""
            html += "<th\(numeric[column] ? " class=\"num\"" : "")>\(escapeHTML(header))</th>"
        }
        html += "</tr></thead><tbody>"
        for entry in rows.entries {
            switch entry {
            case let .row(row):
                html += "<tr>" + (0..<columnCount).map { column in
                    let text = column < row.count ? row[column] : ""
                    return "<td\(numeric[column] ? " class=\"num\"" : "")>\(escapeHTML(text))</td>"
                }.joined() + "</tr>"
            case let .gap(count):
                html += "<tr class=\"gap\"><td colspan=\"\(Swift.max(1, columnCount))\">\(escapeHTML(NotebookWords.gap(count, rankedBy: rows.rankedBy)))</td></tr>"
            }
        }
        html += "</tbody></table>"
        if rows.hidden > 0 { html += "<p class=\"note\">\(escapeHTML(NotebookWords.rowsNote(rows)))</p>" }
        return html + "</figure>"
    }

    private func picture(_ picture: Picture, id: String) throws -> String {
        var html = "<figure class=\"picture\" id=\"\(id)\"><figcaption>\(inline(picture.title))</figcaption><div class=\"panels\">"
        for panel in picture.panels {
            let image = panel.rendered()
            let png = try image.pngData(naming: "picture '\(panel.caption)'")
            // Heatmap cells stay crisp squares when the browser enlarges them.
            let crisp: Bool
            if case .heatmap = panel.content { crisp = true } else { crisp = image.width < panelWidth / 2 }
            let height = image.width > 0 ? panelWidth * image.height / image.width : panelWidth
            html += "<figure class=\"panel\"><img\(crisp ? " class=\"crisp\"" : "") alt=\"\(escapeHTML(panel.caption))\""
                + " width=\"\(panelWidth)\" height=\"\(height)\""
                + " src=\"data:image/png;base64,\(png.base64EncodedString())\">"
                + "<figcaption>\(escapeHTML(panel.caption))</figcaption></figure>"
        }
        html += "</div>"
        var maps: [ColorMap] = []
        for case let map? in picture.panels.map(\.colorMap) where !maps.contains(map) { maps.append(map) }
        for map in maps { html += legend(map) }
        return html + "</figure>"
    }

    /// A colour bar drawn with a CSS gradient sampled from the colour map itself.
    private func legend(_ map: ColorMap) -> String {
        let signed = map == .diverging
        let stops = (0...16).map { index -> String in
            let t = Float(index) / 16
            let rgb = map.color(signed ? 2 * t - 1 : t)
            return "rgb(\(rgb.red),\(rgb.green),\(rgb.blue)) \(index * 100 / 16)%"
        }.joined(separator: ",")
        let (low, high, words) = signed
            ? ("−max|v|", "+max|v|", NotebookWords.text("legend.diverging"))
            : ("0", "1", map == .jet ? "jet" : NotebookWords.text("legend.white-to-black"))
        return "<p class=\"legend\"><span>\(escapeHTML(low))</span><span class=\"bar\" style=\"background:linear-gradient(to right,\(stops))\"></span>"
            + "<span>\(escapeHTML(high))</span> <span class=\"words\">\(escapeHTML(words))</span></p>"
    }

    private func check(_ check: Check) -> String {
        let mark = check.ok ? "✓" : "✗"
        var parts: [String]
        if check.kind == .truth {
            parts = [escapeHTML(check.leftLabel) + (check.ok ? "" : " — " + escapeHTML(NotebookWords.text("check.fails")))]
        } else {
            parts = ["\(escapeHTML(check.leftLabel)) = \(formatCheckValue(check.left))",
                     "\(escapeHTML(check.rightLabel)) = \(formatCheckValue(check.right))",
                     "|Δ| \(formatResidual(check.residual)) \(check.ok ? "≤" : ">") \(formatTolerance(check.tolerance))"]
        }
        if let note = check.note { parts.append("(\(escapeHTML(note)))") }
        var html = "<div class=\"check \(check.ok ? "pass" : "fail")\"><span class=\"mark\">\(mark)</span> "
            + "<span class=\"name\">\(escapeHTML(check.name))</span><span class=\"sides\">"
            + parts.map { "<span>\($0)</span>" }.joined() + "</span>"
        if let model = check.model, check.kind != .truth {
            html += "<span class=\"tolerance\">\(escapeHTML(NotebookWords.text("check.tolerance"))) \(escapeHTML(NotebookWords.tolerance(model)))</span>"
            if check.isCoarse { html += "<span class=\"tolerance\">\(escapeHTML(NotebookWords.text("check.coarse")))</span>" }
        }
        return html + "</div>"
    }

    /// Large, high-contrast type that reads from the back of a room; nothing is fetched.
    static let styleSheet = """
    :root{--ink:#111;--muted:#555;--rule:#ccc;--pass:#0a6b2d;--fail:#b3001b;--math:#5b3a00}
    html{font-size:22px}
    body{margin:0;background:#fff;color:var(--ink);font-family:"DejaVu Sans","Noto Sans",Helvetica,Arial,sans-serif;line-height:1.45}
    main{max-width:52rem;margin:0 auto;padding:1.5rem 1.5rem 4rem}
    h1{font-size:2rem;margin:.5rem 0}
    h2{font-size:1.45rem;margin:2.5rem 0 .8rem;padding-bottom:.3rem;border-bottom:3px solid var(--ink)}
    h3{font-size:1.15rem;margin:1.5rem 0 .5rem}
    nav ol{columns:2;font-size:.8rem;color:var(--muted)}
    nav a{color:inherit}
    p,ul{margin:.6rem 0}
    code,pre{font-family:"DejaVu Sans Mono","Noto Sans Mono",Menlo,Consolas,monospace;font-size:.85em}
    pre{background:#f5f5f5;padding:.6rem;overflow-x:auto;line-height:1.3}
    details summary{cursor:pointer;background:#f5f5f5;padding:.4rem .6rem}
    details pre{margin-top:0}
    .math{margin:1rem 0;font-size:1.2rem;overflow-x:auto;color:var(--math)}
    math{font-family:"Latin Modern Math","STIX Two Math","DejaVu Math TeX Gyre",math}
    figure{margin:1rem 0}
    figcaption{font-weight:bold}
    .tensor figcaption{font-weight:normal}
    table{border-collapse:collapse;margin:.4rem 0;font-size:.9rem}
    th,td{padding:.15rem .7rem;border-bottom:1px solid var(--rule);text-align:left;vertical-align:top}
    th{border-bottom:2px solid var(--ink)}
    .num{text-align:right;font-variant-numeric:tabular-nums}
    tr.gap td{color:var(--muted);font-style:italic}
    .note{color:var(--muted);font-size:.8rem}
    .panels{display:flex;flex-wrap:wrap;gap:1rem}
    .panel{margin:0;text-align:center}
    .panel img{display:block;max-width:100%;height:auto;border:1px solid var(--rule)}
    .panel figcaption{font-weight:normal;font-size:.8rem;max-width:240px}
    img.crisp{image-rendering:pixelated}
    .legend{display:flex;align-items:center;gap:.5rem;font-size:.8rem;color:var(--muted)}
    .legend .bar{display:inline-block;width:12rem;height:.8rem;border:1px solid var(--rule)}
    .check{margin:.5rem 0;padding:.4rem .6rem;border-left:6px solid var(--pass);background:#f3faf5;font-size:.9rem}
    .check.fail{border-left-color:var(--fail);background:#fdf0f2}
    .check .mark{font-weight:bold;color:var(--pass)}
    .check.fail .mark{color:var(--fail)}
    .check .name{font-weight:bold}
    .check .sides{display:flex;flex-wrap:wrap;gap:.2rem 1.5rem;font-family:"DejaVu Sans Mono",monospace;font-size:.85em}
    .check .tolerance{display:block;color:var(--muted);font-size:.75rem}
    .verdict.pass{color:var(--pass);font-weight:bold}
    .verdict.fail{color:var(--fail);font-weight:bold}
    footer{margin-top:3rem;border-top:1px solid var(--rule);color:var(--muted);font-size:.8rem}
    @media print{html{font-size:12pt}h2{break-after:avoid}figure,.check{break-inside:avoid}}
    """
}

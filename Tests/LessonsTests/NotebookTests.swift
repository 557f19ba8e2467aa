import Foundation
import XCTest
import MiniNet
@testable import Lessons

final class NotebookTests: XCTestCase {
    private func demo() throws -> Notebook { try EngineDemo.notebook() }

    private func temporaryDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "notebook-tests-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }

    // MARK: The model

    func testDemoUsesEveryCellKindAndPasses() throws {
        let notebook = try demo()
        var kinds = Set<String>()
        for step in notebook.steps {
            for cell in step.cells {
                switch cell {
                case .heading: kinds.insert("heading")
                case .prose: kinds.insert("prose")
                case .math: kinds.insert("math")
                case .tensor: kinds.insert("tensor")
                case .table: kinds.insert("table")
                case .picture: kinds.insert("picture")
                case .check: kinds.insert("check")
                }
            }
        }
        notebook.heading("A heading")  // the demo has none; add one so every kind is rendered below
        kinds.insert("heading")
        XCTAssertEqual(kinds.count, 7)
        XCTAssertEqual(notebook.steps.map(\.number), [0, 1, 2, 3, 4])
        XCTAssertEqual(notebook.checks.count, 3)
        XCTAssertTrue(notebook.allChecksPass, notebook.checks.filter { !$0.ok }.map(\.name).joined(separator: ", "))
    }

    func testFailingCheckMakesNotebookFailAndRendersCross() throws {
        let notebook = try demo()
        let ok = notebook.check(.equal("1 + 1 = 3", "1 + 1", 2, "three", 3, tolerance: .sum(of: [1.0, 1.0])))
        XCTAssertFalse(ok)
        XCTAssertFalse(notebook.allChecksPass)
        let terminal = TerminalRenderer(color: false).render(notebook)
        XCTAssertTrue(terminal.contains("✗ 1 + 1 = 3"))
        XCTAssertTrue(terminal.contains("|Δ| 1.0e+00 > 9.54e-07"), terminal)
        XCTAssertTrue(terminal.contains("\n    tolerance 4·γ₂·Σ|a| (Σ|a| = 2) = 9.54e-07"), terminal)
        XCTAssertTrue(terminal.contains("1 of 4 checks failed"))
        let markdown = try MarkdownRenderer(imageDirectory: try temporaryDirectory()).render(notebook)
        XCTAssertTrue(markdown.contains("| ✗ | 1 + 1 = 3 |"))
        let json = try JSONRenderer().render(notebook)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        XCTAssertEqual(object["all_checks_pass"] as? Bool, false)
    }

    /// A check whose tolerance exceeds both sides passes with a wrong sign: every view says so,
    /// and the summary counts it. A check that a value vanishes is not coarse.
    func testCoarseChecksAreNamed() throws {
        let notebook = try demo()
        let loose = Tolerance.sum(count: 9217, magnitude: 5e4)
        XCTAssertTrue(notebook.check(.equal("a deep ledger", "f(x)", 2.27, "Σ R", 2.26, tolerance: loose)))
        XCTAssertTrue(notebook.check(.equal("a residual vanishes", "r", 1e-9, "0", 0, tolerance: loose)))
        XCTAssertEqual(notebook.checks.map(\.isCoarse).filter { $0 }.count, 1)
        let terminal = TerminalRenderer(color: false).render(notebook)
        XCTAssertEqual(terminal.components(separatedBy: "coarse: the tolerance exceeds both sides").count, 2, terminal)
        XCTAssertTrue(terminal.contains("(1 of them coarse: a tolerance larger than both sides.)"), terminal)
        let markdown = try MarkdownRenderer(imageDirectory: try temporaryDirectory()).render(notebook)
        XCTAssertTrue(markdown.contains("coarse: the tolerance exceeds both sides"), markdown)
        let json = try JSONRenderer().render(notebook)
        // Each check appears in its step and in the list of all checks.
        XCTAssertEqual(json.components(separatedBy: "\"coarse\": true").count,
                       json.components(separatedBy: "\"name\": \"a deep ledger\"").count, json)
        XCTAssertTrue(json.contains("\"coarse\": true"), json)
    }

    func testToleranceFollowsTheErrorModel() {
        // γₙ = n·u / (1 − n·u), u = 2⁻²⁴
        XCTAssertEqual(Tolerance.gamma(1), 0x1p-24 / (1 - 0x1p-24))
        XCTAssertEqual(Tolerance.gamma(1000), 1000 * 0x1p-24 / (1 - 1000 * 0x1p-24))
        let one = Tolerance.sum(of: [3.0, -1, 0.5], depth: 2, safety: 4)
        XCTAssertEqual(one.value, 4 * 2 * Tolerance.gamma(3) * 4.5)
        XCTAssertEqual(one.largestTerm, 3)
        XCTAssertEqual((one + one).value, 2 * one.value)
        XCTAssertEqual(one.scaled(by: 10).value, 10 * one.value, accuracy: 1e-18)
        XCTAssertEqual(one.deeper(by: 3).value, 3 * one.value, accuracy: 1e-18)
        XCTAssertEqual((one + one).description, "2 × 4·2·γ₃·Σ|a| (Σ|a| = 4.5) = 1.29e-05")
        XCTAssertEqual(Tolerance.exact.value, 0)
        XCTAssertEqual(Tolerance.exact.description, "exact")
        let quadrature = Tolerance.absolute(0.25, because: "quadrature")
        XCTAssertEqual((one + quadrature).value, one.value + 0.25)
        XCTAssertTrue((one + quadrature).description.hasSuffix("+ 0.25 (quadrature) = 0.25"))
    }

    func testCheckConstructors() {
        let absolute = Check.equal("a", "x", 1.0, "y", 1.0 + 1e-7, tolerance: .sum(of: [0.5, 0.5]))
        XCTAssertTrue(absolute.ok)
        XCTAssertEqual(absolute.residual, 1e-7, accuracy: 1e-12)
        XCTAssertEqual(absolute.kind, .absolute)
        XCTAssertFalse(Check.equal("a", "x", 1000, "y", 1000.01, tolerance: .sum(of: [500.0, 500.0])).ok)
        XCTAssertTrue(Check.equal("r", "x", 1000, "y", 1000.0005, tolerance: .sum(count: 16, magnitude: 1000)).ok)
        XCTAssertFalse(Check.equal("nan", "x", .nan, "y", .nan, tolerance: .absolute(1, because: "test")).ok)
        XCTAssertTrue(Check.equal("same", "x", 3, "y", 3, tolerance: .exact).ok)
        XCTAssertFalse(Check.equal("same", "x", 3, "y", 3.0000001, tolerance: .exact).ok)

        let left = Tensor(shape: [2, 3], data: [0, 1, 2, 3, 4, 5])
        var right = left
        right[1, 2] = 5.5
        let tensors = Check.equal("t", "left", left, "right", right, tolerance: .absolute(0.1, because: "test"))
        XCTAssertFalse(tensors.ok)
        XCTAssertEqual(tensors.residual, 0.5)
        XCTAssertEqual(tensors.left, 5)
        XCTAssertEqual(tensors.right, 5.5)
        XCTAssertEqual(tensors.note, "max |Δ| at [1, 2] of [2, 3]")
        XCTAssertTrue(Check.equal("t", "l", left, "r", right, tolerance: .absolute(0.6, because: "test")).ok)
        XCTAssertFalse(Check.equal("shape", "l", left, "r", left.reshaped([3, 2]), tolerance: .absolute(1, because: "test")).ok)

        let truth = Check.truth("channel 3 ranks first", "argmax = 3", true)
        XCTAssertTrue(truth.ok)
        XCTAssertEqual(truth.kind, .truth)
        XCTAssertFalse(Check.truth("no", "false", false).ok)
    }

    // MARK: Terminal

    func testTerminalWithoutColorHasNoEscapeCodes() throws {
        let notebook = try demo()
        notebook.heading("A heading")
        let text = TerminalRenderer(color: false, width: 80).render(notebook)
        XCTAssertFalse(text.utf8.contains(0x1B))
        XCTAssertFalse(text.contains("▀"))
        XCTAssertTrue(text.contains("Step 3 · Check: the score is the average of the CAM"))
        XCTAssertTrue(text.contains("    yᶜ = Σₖ wᶜₖ"))
        XCTAssertTrue(text.contains("tensor [2, 6, 6]"))
        XCTAssertTrue(text.contains("✓ score = mean of CAM   yᶜ "))
        XCTAssertTrue(text.contains("✓ All 3 checks passed."))
        XCTAssertTrue(text.contains("@"), "pictures are ASCII-shaded")
        // Prose is wrapped to the width.
        for line in text.split(separator: "\n") where !line.hasPrefix("  ") && !line.hasPrefix("tensor") {
            XCTAssertLessThanOrEqual(line.count, 80, String(line))
        }
    }

    func testTerminalWithColorDrawsHalfBlocks() throws {
        let text = TerminalRenderer(color: true).render(try demo())
        XCTAssertTrue(text.contains("▀"))
        XCTAssertTrue(text.contains("\u{1B}[38;2;"))
        XCTAssertTrue(text.contains("\u{1B}[48;2;"))
    }

    func testPauseIsCalledBetweenSteps() throws {
        let notebook = try demo()
        var paused: [Int] = []
        var chunks = 0
        let renderer = TerminalRenderer(color: false, betweenSteps: { paused.append($0.number) })
        renderer.render(notebook) { _ in chunks += 1 }
        XCTAssertEqual(paused, [0, 1, 2, 3])
        XCTAssertGreaterThan(chunks, notebook.steps.count)
    }

    func testTerminalTablesAlignNumbersRight() {
        let text = TerminalRenderer(color: false).renderTable(
            title: "scores", headers: ["class", "logit"], rows: [["cat", "3.25"], ["dog", "-10.50"]])
        XCTAssertEqual(text, """
            scores
              class    logit
              ─────   ──────
              cat       3.25
              dog     -10.50

            """)
    }

    func testWrapKeepsParagraphsAndBullets() {
        let text = wrap("one two three four\nfive\n\n- a bullet that is long\n- b", width: 12)
        XCTAssertEqual(text, "one two\nthree four\nfive\n\n  • a bullet\n    that is\n    long\n  • b")
    }

    // MARK: Markdown

    func testMarkdownWritesThePNGsItLinks() throws {
        let directory = try temporaryDirectory()
        let notebook = try demo()
        notebook.heading("A heading")
        let markdown = try MarkdownRenderer(imageDirectory: directory, imageLinkPrefix: "images").render(notebook)
        XCTAssertTrue(markdown.hasPrefix("# Notebook engine demo"))
        XCTAssertTrue(markdown.contains("## Step 2 · Weigh the maps: the CAM"))
        XCTAssertTrue(markdown.contains("### A heading"))
        XCTAssertTrue(markdown.contains("$$\nM^c(i,j) = \\sum_k"))
        XCTAssertTrue(markdown.contains("```text\ntensor [2, 6, 6]"))
        XCTAssertTrue(markdown.contains("| k | wᶜₖ |"))
        XCTAssertTrue(markdown.contains("| ✓ | score = mean of CAM |"))

        let pattern = try NSRegularExpression(pattern: #"!\[[^\]]*\]\(images/([^)]+\.png)\)"#)
        let matches = pattern.matches(in: markdown, range: NSRange(markdown.startIndex..., in: markdown))
        let names = matches.compactMap { Range($0.range(at: 1), in: markdown).map { String(markdown[$0]) } }
        XCTAssertEqual(names, (1...4).map { "engine-demo-step4-picture1-panel\($0).png" })
        for name in names {
            let image = try RGBImage.read(from: directory + "/" + name)
            XCTAssertGreaterThanOrEqual(image.width, 192)
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory).count, 4, "no stray files")
    }

    // MARK: JSON

    func testJSONParsesBackWithEveryCheckAndTensor() throws {
        let notebook = try demo()
        let json = try JSONRenderer().render(notebook)
        XCTAssertEqual(json, try JSONRenderer().render(try demo()), "deterministic")
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        XCTAssertEqual(object["lesson"] as? String, "engine-demo")
        XCTAssertEqual(object["all_checks_pass"] as? Bool, true)

        let checks = try XCTUnwrap(object["checks"] as? [[String: Any]])
        XCTAssertEqual(checks.count, notebook.checks.count)
        for (check, original) in zip(checks, notebook.checks) {
            for key in ["name", "left_label", "left", "right_label", "right", "residual", "tolerance", "ok"] {
                XCTAssertNotNil(check[key], "check \(original.name) lacks \(key)")
            }
            if original.kind != .truth { XCTAssertNotNil(check["tolerance_model"], "check \(original.name) lacks how its tolerance was made") }
            // (Foundation's JSON parser may be off in the last digit; the text itself is exact.)
            XCTAssertEqual(try XCTUnwrap(check["left"] as? Double), original.left, accuracy: 1e-15)
            XCTAssertEqual(try XCTUnwrap(check["right"] as? Double), original.right, accuracy: 1e-15)
        }

        let steps = try XCTUnwrap(object["steps"] as? [[String: Any]])
        let cells = steps.flatMap { ($0["cells"] as? [[String: Any]]) ?? [] }
        XCTAssertEqual(Set(cells.compactMap { $0["kind"] as? String }),
                       ["prose", "math", "tensor", "table", "picture", "check"])
        let tensor = try XCTUnwrap(cells.first { $0["kind"] as? String == "tensor" })
        XCTAssertEqual(tensor["name"] as? String, "A")
        XCTAssertEqual(tensor["shape"] as? [Int], [2, 6, 6])
        XCTAssertEqual((tensor["data"] as? [Double])?.count, 72)
        let picture = try XCTUnwrap(cells.first { $0["kind"] as? String == "picture" })
        let panels = try XCTUnwrap(picture["panels"] as? [[String: Any]])
        XCTAssertEqual(panels.map { $0["caption"] as? String }, ["input", "CAM (jet)", "CAM over input", "signed CAM"])
        XCTAssertEqual((panels[1]["heatmap"] as? [String: Any])?["shape"] as? [Int], [6, 6])
    }

    func testJSONWritesNonFiniteNumbersAsNull() throws {
        let notebook = Notebook(lesson: "x", title: "x")
        notebook.check(.equal("nan", "a", .nan, "b", 1, tolerance: .absolute(1, because: "test")))
        let object = try JSONSerialization.jsonObject(with: Data(try JSONRenderer(pretty: false).render(notebook).utf8))
        let check = try XCTUnwrap(((object as? [String: Any])?["checks"] as? [[String: Any]])?.first)
        XCTAssertTrue(check["left"] is NSNull)
        XCTAssertEqual(check["ok"] as? Bool, false)
    }

    // MARK: Colour maps and pictures

    /// cv2.applyColorMap(levels 0…255, COLORMAP_JET) as RGB (tools/notebook_reference.py).
    private let openCVJet = "00008000008400008800008c00009000009400009800009c0000a00000a40000a80000ac0000b00000b40000b80000bc0000c00000c40000c80000cc0000d00000d40000d80000dc0000e00000e40000e80000ec0000f00000f40000f80000fc0000ff0004ff0008ff000cff0010ff0014ff0018ff001cff0020ff0024ff0028ff002cff0030ff0034ff0038ff003cff0040ff0044ff0048ff004cff0050ff0054ff0058ff005cff0060ff0064ff0068ff006cff0070ff0074ff0078ff007cff0080ff0084ff0088ff008cff0090ff0094ff0098ff009cff00a0ff00a4ff00a8ff00acff00b0ff00b4ff00b8ff00bcff00c0ff00c4ff00c8ff00ccff00d0ff00d4ff00d8ff00dcff00e0ff00e4ff00e8ff00ecff00f0ff00f4ff00f8ff00fcff02fffe06fffa0afff60efff212ffee16ffea1affe61effe222ffde26ffda2affd62effd232ffce36ffca3affc63effc242ffbe46ffba4affb64effb252ffae56ffaa5affa65effa262ff9e66ff9a6aff966eff9272ff8e76ff8a7aff867eff8282ff7e86ff7a8aff768eff7292ff6e96ff6a9aff669eff62a2ff5ea6ff5aaaff56aeff52b2ff4eb6ff4abaff46beff42c2ff3ec6ff3acaff36ceff32d2ff2ed6ff2adaff26deff22e2ff1ee6ff1aeaff16eeff12f2ff0ef6ff0afaff06feff01fffc00fff800fff400fff000ffec00ffe800ffe400ffe000ffdc00ffd800ffd400ffd000ffcc00ffc800ffc400ffc000ffbc00ffb800ffb400ffb000ffac00ffa800ffa400ffa000ff9c00ff9800ff9400ff9000ff8c00ff8800ff8400ff8000ff7c00ff7800ff7400ff7000ff6c00ff6800ff6400ff6000ff5c00ff5800ff5400ff5000ff4c00ff4800ff4400ff4000ff3c00ff3800ff3400ff3000ff2c00ff2800ff2400ff2000ff1c00ff1800ff1400ff1000ff0c00ff0800ff0400ff0000fc0000f80000f40000f00000ec0000e80000e40000e00000dc0000d80000d40000d00000cc0000c80000c40000c00000bc0000b80000b40000b00000ac0000a80000a40000a000009c00009800009400009000008c0000880000840000800000"

    func testJetEqualsOpenCVByteForByte() {
        let ours = (0..<256).map { level -> String in
            String(format: "%02x%02x%02x", ColorMap.jetRed(level), ColorMap.jetGreen(level), ColorMap.jetBlue(level))
        }.joined()
        XCTAssertEqual(ours, openCVJet)
        XCTAssertTrue(ColorMap.jet.color(0) == (0, 0, 128), "0 is dark blue")
        XCTAssertTrue(ColorMap.jet.color(1) == (128, 0, 0), "1 is dark red")
        XCTAssertTrue(ColorMap.jet.color(0.5) == (126, 255, 130), "0.5 is green-cyan, level 127")
        XCTAssertTrue(ColorMap.jet.color(-3) == ColorMap.jet.color(0), "clamped")
        XCTAssertTrue(ColorMap.jet.color(7) == ColorMap.jet.color(1), "clamped")
    }

    func testDivergingEndpointsAndMidpoints() {
        XCTAssertTrue(ColorMap.diverging.color(-1) == (0, 0, 255))
        XCTAssertTrue(ColorMap.diverging.color(0) == (255, 255, 255))
        XCTAssertTrue(ColorMap.diverging.color(1) == (255, 0, 0))
        XCTAssertTrue(ColorMap.diverging.color(0.5) == (255, 128, 128))
        XCTAssertTrue(ColorMap.diverging.color(-0.5) == (128, 128, 255))
        // colorize scales by max |value|, so 0 stays white and the strongest side saturates.
        let heatmap = Tensor(shape: [1, 3], data: [-2, 0, 1])
        XCTAssertEqual(colorize(heatmap, map: .diverging).pixels, [0, 0, 255, 255, 255, 255, 255, 128, 128])
        XCTAssertEqual(colorize(Tensor(zeros: [1, 2]), map: .diverging).pixels, [UInt8](repeating: 255, count: 6))
    }

    func testJetOverlayMatchesShowCamOnImage() {
        // pytorch-grad-cam show_cam_on_image(image / 255, mask, use_rgb=True), tools/notebook_reference.py.
        let image = RGBImage(width: 4, height: 3, pixels: (0..<36).map { UInt8($0 * 7 % 256) })
        let mask = Tensor(shape: [3, 4], data: [0.0, 0.09090909361839294, 0.1818181872367859, 0.27272728085517883,
                                                0.3636363744735718, 0.4545454680919647, 0.5454545617103577,
                                                0.6363636255264282, 0.7272727489471436, 0.8181818127632141,
                                                0.9090909361839294, 1.0])
        let expected: [UInt8] = [0, 4, 81, 12, 16, 146, 24, 60, 178, 36, 125, 190, 48, 190, 202, 105, 210, 170,
                                 172, 222, 127, 230, 228, 92, 242, 187, 104, 255, 147, 116, 249, 124, 128, 206, 136, 140]
        XCTAssertEqual(overlay(mask, on: image, map: .jet).pixels, expected)
    }

    func testDivergingOverlayKeepsZeroTransparent() {
        let image = RGBImage(width: 2, height: 1, pixels: [10, 20, 30, 10, 20, 30])
        let result = overlay(Tensor(shape: [1, 2], data: [0, -4]), on: image, map: .diverging)
        XCTAssertEqual(Array(result.pixels[0..<3]), [10, 20, 30])
        // α = 0.75: 0.25 · image + 0.75 · blue.
        XCTAssertEqual(Array(result.pixels[3..<6]), [3, 5, 199])
    }

    func testBilinearResizeMatchesOpenCV() {
        let small = Tensor(shape: [2, 3], data: [0, 1, 2, 3, 4, 8])
        let expected: [Float] = [0.0, 0.4, 1.0, 1.6, 2.0, 0.75, 1.15, 1.75, 2.8, 3.5,
                                 2.25, 2.65, 3.25, 5.2, 6.5, 3.0, 3.4, 4.0, 6.4, 8.0]
        let resized = bilinearResize(small, height: 4, width: 5)
        XCTAssertEqual(resized.shape, [4, 5])
        for (ours, theirs) in zip(resized.data, expected) { XCTAssertEqual(ours, theirs, accuracy: 1e-5) }
    }

    func testImageScaling() {
        let image = RGBImage(width: 2, height: 1, pixels: [0, 0, 0, 200, 100, 50])
        let nearest = image.scaled(width: 4, height: 2, interpolation: .nearest)
        XCTAssertEqual(nearest.pixels, [0, 0, 0, 0, 0, 0, 200, 100, 50, 200, 100, 50,
                                        0, 0, 0, 0, 0, 0, 200, 100, 50, 200, 100, 50])
        XCTAssertEqual(image.scaled(width: 1, height: 1, interpolation: .area).pixels, [100, 50, 25])
        let bilinear = image.scaled(width: 4, height: 1, interpolation: .bilinear)
        XCTAssertEqual(bilinear.pixels, [0, 0, 0, 50, 25, 13, 150, 75, 38, 200, 100, 50])
    }

    // MARK: Lesson text

    func testEveryResourceFileIsWellFormed() throws {
        XCTAssertGreaterThanOrEqual(try LessonText.validateAllResources(), 1)
        XCTAssertFalse(try LessonText.availableTexts().isEmpty)
    }

    func testDemoUsesOnlyExistingKeys() throws {
        // Every text a lesson shows comes from its file: a missing key would print a marker.
        let all = TerminalRenderer(color: false).render(try demo())
        XCTAssertFalse(all.contains("⟦missing"), all)
        XCTAssertFalse(all.contains("{"), "every placeholder filled")
    }

    func testLessonTextPlaceholdersAndMissingKeys() throws {
        let text = try LessonText(lesson: "engine-demo")
        XCTAssertEqual(text("title"), "Notebook engine demo: a class activation map by hand")
        XCTAssertEqual(text.placeholders("intro"), ["channels", "height", "width"])
        XCTAssertTrue(text("intro", ["channels": "2", "height": "6", "width": "7"]).contains("2\nfeature maps of 6×7 cells"))
        XCTAssertEqual(text("no.such.key"), "⟦missing text: en/engine-demo.md ## no.such.key⟧")
        XCTAssertThrowsError(try text.text("no.such.key"))
        XCTAssertThrowsError(try text.text("intro", ["channels": "2"]), "strict: unfilled placeholder")
        XCTAssertThrowsError(try LessonText(lesson: "no-such-lesson"))

        let braces = try LessonText(lesson: "x", source: "## set\nthe set {{{a}, {b}}}")
        XCTAssertEqual(braces("set", ["a": "1", "b": "2"]), "the set {1, 2}")
    }

    func testLessonTextSyntaxErrorsNameTheLine() {
        let broken = [
            "## a\nfine\n## a\nagain": "line 3: section '## a' appears twice",
            "stray text\n## a\nbody": "line 1: text before the first",
            "## a\n\n## b\nbody": "section '## a' is empty",
            "## Bad Key\nbody": "must use only",
            "## a\nhello {name": "'{' without '}'",
            "## a\nhello {two words}": "is not a placeholder name",
            "## a\nclose } alone": "'}' without '{'",
        ]
        for (source, problem) in broken {
            XCTAssertThrowsError(try LessonText(lesson: "x", source: source, file: "x.md")) { error in
                XCTAssertTrue("\(error)".hasPrefix("x.md: "), "\(error)")
                XCTAssertTrue("\(error)".contains(problem), "\(error) should mention \(problem)")
            }
        }
        XCTAssertNoThrow(try LessonText(lesson: "x", source: "# Title\n<!-- note -->\n\n## a\nbody\n<!-- x -->\n"))
    }

    // MARK: Looking at it

    /// Writes the demo as terminal text (plain and coloured), Markdown and PNGs to
    /// $NOTEBOOK_PREVIEW (a folder), for a person to look at. Does nothing otherwise.
    func testWritePreviewWhenAsked() throws {
        guard let folder = ProcessInfo.processInfo.environment["NOTEBOOK_PREVIEW"] else { return }
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let notebook = try demo()
        try TerminalRenderer(color: false).render(notebook).write(toFile: folder + "/plain.txt", atomically: true, encoding: .utf8)
        try TerminalRenderer(color: true).render(notebook).write(toFile: folder + "/color.txt", atomically: true, encoding: .utf8)
        try MarkdownRenderer(imageDirectory: folder + "/images", imageLinkPrefix: "images/").render(notebook)
            .write(toFile: folder + "/demo.md", atomically: true, encoding: .utf8)
        try JSONRenderer().render(notebook).write(toFile: folder + "/demo.json", atomically: true, encoding: .utf8)

        // Lesson-sized: a 224×224 photo, a 7×7 CAM, 512 feature maps.
        let large = Notebook(lesson: "large", title: "Lesson-sized pictures")
        let photo = EngineDemo.syntheticPhoto(width: 224, height: 224)
        let cam = Tensor(shape: [7, 7], data: (0..<49).map { (index: Int) -> Float in
            let dy = Double(index / 7 - 2)
            let dx = Double(index % 7 - 2)
            return Float(exp(-(dx * dx + dy * dy) / 4))
        })
        large.tensor("A", Tensor(shape: [512, 7, 7], data: (0..<(512 * 49)).map { Float(sin(Double($0))) }))
        large.picture("Grad-CAM", [.image("input", photo), .heatmap("Grad-CAM", cam),
                                   .overlay("overlay", heatmap: cam, on: photo),
                                   .overlay("signed", heatmap: cam.map { $0 - 0.3 }, on: photo, map: .diverging)])
        for color in [false, true] {
            try TerminalRenderer(color: color, width: 120).render(large)
                .write(toFile: folder + "/large-\(color ? "color" : "plain").txt", atomically: true, encoding: .utf8)
        }
    }
}

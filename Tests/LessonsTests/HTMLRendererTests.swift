import Foundation
import MiniNet
import XCTest
@testable import Lessons

/// The projector page, checked without a browser: well nested, self-contained, every formula
/// converted to MathML, every picture a decodable PNG. (scripts/html-check.sh draws each
/// lesson in a real headless Chromium.)
final class HTMLRendererTests: XCTestCase {
    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    func testEveryFormulaOfEveryLessonConvertsWithoutUnknownCommands() throws {
        let classifier = try ImageClassifier.load(from: Self.repositoryRoot.appendingPathComponent("models/mininet.safetensors").path)
        let context = LessonContext(classifier: classifier)
        var formulas = 0
        for lesson in LessonCatalog.all {
            for step in try lesson.build(context).steps {
                for case let .math(unicode, latex) in step.cells {
                    formulas += 1
                    let mathML = MathML.convert(latex, alternative: unicode)
                    XCTAssertEqual(mathML.unknownCommands, [], "\(lesson.id): \(latex)")
                    XCTAssertFalse(text(of: mathML.markup).contains("\\"), "\(lesson.id): raw LaTeX left in \(mathML.markup)")
                    try assertWellNested(mathML.markup, "\(lesson.id): \(latex)")
                }
            }
        }
        XCTAssertGreaterThan(formulas, 20)
    }

    func testMathMLOfAFractionWithScriptsAndSums() {
        let markup = MathML.convert(#"\alpha^c_k = \frac{1}{Z}\sum_{i,j} \frac{\partial y^c}{\partial A^k_{ij}}"#).markup
        XCTAssertTrue(markup.contains("<msubsup><mi>α</mi><mi>k</mi><mi>c</mi></msubsup>"), markup)
        XCTAssertTrue(markup.contains("<mfrac><mrow><mn>1</mn></mrow><mrow><mi>Z</mi></mrow></mfrac>"), markup)
        XCTAssertTrue(markup.contains("<munder><mo>∑</mo><mrow><mi>i</mi><mo>,</mo><mi>j</mi></mrow></munder>"), markup)
        let text = MathML.convert(#"\sum_{\text{layers}} \left(\text{bias kept} + \epsilon\text{ kept}\right) - x'_i"#).markup
        XCTAssertTrue(text.contains("<mtext>bias kept</mtext>"), text)
        XCTAssertTrue(text.contains("<mtext>\u{A0}kept</mtext>"), text)
        XCTAssertTrue(text.contains("<mo fence=\"true\" stretchy=\"true\">(</mo>"), text)
        XCTAssertTrue(text.contains("<mo>−</mo>"), text)
        XCTAssertTrue(text.contains("<msubsup><mi>x</mi><mi>i</mi><mrow><mo>′</mo></mrow></msubsup>"), text)
        let unknown = MathML.convert(#"\overbrace{x}"#)
        XCTAssertEqual(unknown.unknownCommands, ["overbrace"])
        XCTAssertFalse(unknown.markup.contains("\\"))
    }

    func testEveryLessonPageIsSelfContainedAndWellFormed() throws {
        let classifier = try ImageClassifier.load(from: Self.repositoryRoot.appendingPathComponent("models/mininet.safetensors").path)
        let biasFree = try? ImageClassifier.load(from: Self.repositoryRoot.appendingPathComponent("models/mininet-nobias.safetensors").path)
        let context = LessonContext(classifier: classifier, biasFreeClassifier: biasFree)
        for lesson in LessonCatalog.all {
            let notebook = try lesson.build(context)
            let page = try HTMLRenderer().render(notebook)
            XCTAssertTrue(page.hasPrefix("<!DOCTYPE html>"), lesson.id)
            try assertWellNested(page, lesson.id)
            // Nothing is fetched: no script, no external style, font or picture (links to the
            // references fetch nothing until followed).
            for needle in ["<script", "src=\"http", "<link", "@import", "url(", "<iframe", "<object"] {
                XCTAssertFalse(page.contains(needle), "\(lesson.id) page contains \(needle)")
            }
            XCTAssertFalse(text(of: page).contains("\\frac"), lesson.id)
            XCTAssertFalse(text(of: page).contains("$$"), lesson.id)
            XCTAssertFalse(text(of: page).contains("**"), "\(lesson.id): emphasis left as asterisks")
            // One section per step, one <math> per formula, one decodable PNG per panel.
            let steps = notebook.steps.filter { $0.number > 0 }.count
            XCTAssertEqual(count("<section class=\"step\"", in: page), steps, lesson.id)
            let formulas = notebook.steps.flatMap(\.cells).filter { if case .math = $0 { return true }; return false }.count
            XCTAssertEqual(count("<math ", in: page), formulas, lesson.id)
            let panels = notebook.steps.flatMap(\.cells).reduce(0) { total, cell in
                if case let .picture(picture) = cell { return total + picture.panels.count }
                return total
            }
            let sources = matches(#"src="data:image/png;base64,([A-Za-z0-9+/=]+)""#, in: page)
            XCTAssertEqual(sources.count, panels, lesson.id)
            for source in sources.prefix(3) {
                let data = try XCTUnwrap(Data(base64Encoded: source), lesson.id)
                let file = NSTemporaryDirectory() + "html-test-\(UUID().uuidString).png"
                try data.write(to: URL(fileURLWithPath: file))
                defer { try? FileManager.default.removeItem(atPath: file) }
                XCTAssertGreaterThan(try RGBImage.read(from: file).width, 0, lesson.id)
            }
            XCTAssertEqual(count("<div class=\"check ", in: page), notebook.checks.count, lesson.id)
        }
    }

    func testProseEmphasisAndEscaping() {
        let renderer = HTMLRenderer()
        XCTAssertEqual(renderer.prose("A **square** <b> & *x*\n\n- one `code`\n- two"),
                       "<p>A <strong>square</strong> &lt;b&gt; &amp; <em>x</em></p>\n<ul><li>one <code>code</code></li><li>two</li></ul>")
    }

    // MARK: Helpers

    private func count(_ needle: String, in text: String) -> Int {
        text.components(separatedBy: needle).count - 1
    }

    private func matches(_ pattern: String, in text: String) -> [String] {
        let expression = try! NSRegularExpression(pattern: pattern)
        return expression.matches(in: text, range: NSRange(text.startIndex..., in: text)).compactMap {
            Range($0.range(at: 1), in: text).map { String(text[$0]) }
        }
    }

    /// The text between tags, as a browser's textContent would hold it (style sheet aside).
    private func text(of html: String) -> String {
        let withoutStyle = html.replacingOccurrences(of: "<style>[\\s\\S]*?</style>", with: "", options: .regularExpression)
        return withoutStyle.replacingOccurrences(of: "<[^>]*>", with: " ", options: .regularExpression)
    }

    /// Every opened element is closed in order (void elements aside).
    private func assertWellNested(_ html: String, _ message: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let void: Set<String> = ["meta", "img", "br", "hr", "link", "input", "!doctype"]
        var stack: [String] = []
        let withoutStyle = html.replacingOccurrences(of: "<style>[\\s\\S]*?</style>", with: "<style></style>", options: .regularExpression)
        for tag in matches(#"<(/?[A-Za-z!][A-Za-z0-9]*)"#, in: withoutStyle) {
            let name = tag.lowercased()
            if name.hasPrefix("/") {
                guard stack.last == String(name.dropFirst()) else {
                    XCTFail("\(message): </\(name.dropFirst())> closes <\(stack.last ?? "nothing")>", file: file, line: line)
                    return
                }
                stack.removeLast()
            } else if !void.contains(name) {
                stack.append(name)
            }
        }
        XCTAssertEqual(stack, [], "\(message): unclosed elements", file: file, line: line)
    }
}

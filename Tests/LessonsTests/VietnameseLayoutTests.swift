import Foundation
import MiniNet
import XCTest
@testable import Lessons

/// The Vietnamese lessons fit an 80-column terminal (issue 14), as the English ones do
/// (`TerminalWidthTests`). A Vietnamese letter may carry two marks, and a text may store it
/// precomposed ("ệ", U+1EC7) or as a base letter with combining marks ("e", U+0323, U+0302);
/// either way it takes one column, so both forms must wrap into the same lines.
final class VietnameseLayoutTests: XCTestCase {
    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    // MARK: Display width of Vietnamese letters

    func testAVietnameseLetterTakesOneColumnPrecomposedOrWithCombiningMarks() {
        let precomposed = "\u{1EC7}"                     // ệ
        let combining = "e\u{323}\u{302}"                 // e, dot below, circumflex
        XCTAssertEqual(precomposed.unicodeScalars.count, 1)
        XCTAssertEqual(combining.unicodeScalars.count, 3)
        XCTAssertEqual(precomposed, combining, "one grapheme, canonically equal")
        XCTAssertEqual(displayWidth(precomposed), 1)
        XCTAssertEqual(displayWidth(combining), 1)
        // Every letter of the alphabet with a tone, both ways: ư, ơ, ă, â, ê, ô, đ and the five marks.
        let letters = "aàáảãạăằắẳẵặâầấẩẫậeèéẻẽẹêềếểễệiìíỉĩịoòóỏõọôồốổỗộơờớởỡợuùúủũụưừứửữựyỳýỷỹỵđ"
        for letter in letters + letters.uppercased() {
            let decomposed = String(letter).decomposedStringWithCanonicalMapping
            XCTAssertEqual(displayWidth(String(letter)), 1, "\(letter)")
            XCTAssertEqual(displayWidth(decomposed), 1, "\(letter) as \(decomposed.unicodeScalars.map { String($0.value, radix: 16) })")
        }
        let sentence = "Bản đồ kích hoạt theo class cho biết bằng chứng nằm ở đâu trong bức ảnh."
        XCTAssertEqual(displayWidth(sentence), sentence.count)
        XCTAssertEqual(displayWidth(sentence.decomposedStringWithCanonicalMapping), sentence.count)
        XCTAssertGreaterThan(sentence.decomposedStringWithCanonicalMapping.unicodeScalars.count, sentence.count + 10)
    }

    func testWrappingIsTheSameForBothFormsAndNeverTooWide() {
        let text = """
            Phép gộp trung bình toàn cục (GAP) biến mỗi bản đồ đặc trưng thành một con số, rồi một \
            lớp kết nối đầy đủ (FC) biến các con số đó thành logit, tức là điểm của từng class; \
            những điểm ảnh ở rìa được nội suy song tuyến từ các ô lân cận.
            """
        let decomposed = text.decomposedStringWithCanonicalMapping
        for width in [12, 20, 33, 47, 80] {
            let lines = wrapWords(text, width: width, indent: "  ")
            let decomposedLines = wrapWords(decomposed, width: width, indent: "  ")
            XCTAssertEqual(decomposedLines.map(\.precomposedStringWithCanonicalMapping), lines, "width \(width)")
            for line in lines + decomposedLines {
                XCTAssertLessThanOrEqual(displayWidth(line), width, "width \(width): \(line)")
            }
        }
    }

    // MARK: Class names stay as they are

    /// A table's headers are translated, its class names are not: ImageNet's class 769 is
    /// called "rule", a word that is also a column header ("quy tắc").
    func testClassNamesInATableAreNotTranslated() throws {
        XCTAssertTrue(ImageNetClasses.names.contains("rule"))
        let notebook = Notebook(lesson: "t", title: "T")
        Language.$override.withValue(.vi) {
            notebook.table(headers: ["rule", "class"], rows: [["reshape", "rule"]], dataColumns: [1])
        }
        guard case let .table(_, headers, rows, _) = notebook.steps[0].cells[0] else { return XCTFail("no table") }
        XCTAssertEqual(headers, ["quy tắc", "class"])
        XCTAssertEqual(rows, [["đổi kích thước", "rule"]])
    }

    // MARK: Every lesson in Vietnamese at 80 columns

    private func assertFits(_ text: String, _ width: Int, _ message: String, file: StaticString = #filePath, line: UInt = #line) {
        for (number, row) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() where displayWidth(String(row)) > width {
            XCTFail("\(message) line \(number + 1) is \(displayWidth(String(row))) columns: \(row)", file: file, line: line)
            return
        }
    }

    private func assertEveryLessonFitsInVietnamese(_ context: LessonContext, name: String) throws {
        try Language.$override.withValue(.vi) {
            for lesson in LessonCatalog.all {
                let notebook = try lesson.build(context)
                for (color, verbose) in [(false, false), (true, false), (false, true)] {
                    let text = TerminalRenderer(color: color, verbose: verbose, width: 80).render(notebook)
                    assertFits(text, 80, "\(name) \(lesson.id) color \(color) verbose \(verbose):")
                    XCTAssertTrue(text.contains("Bước 1 · "), "\(name) \(lesson.id) is not in Vietnamese")
                }
            }
        }
    }

    func testEveryLessonInVietnameseFitsEightyColumnsOnTheSmallNetwork() throws {
        let root = Self.repositoryRoot
        let classifier = try ImageClassifier.load(from: root.appendingPathComponent("models/mininet.safetensors").path)
        let biasFree = try? ImageClassifier.load(from: root.appendingPathComponent("models/mininet-nobias.safetensors").path)
        try assertEveryLessonFitsInVietnamese(LessonContext(classifier: classifier, biasFreeClassifier: biasFree, language: "vi"),
                                              name: "small CNN")
    }

    /// A ResNet-18 of full width (512 channels, 1000 ImageNet classes with their long names) and
    /// seeded random weights, on a 64×64 photo, as in `TerminalWidthTests`.
    func testEveryLessonInVietnameseFitsEightyColumnsOnAFullWidthResNet() throws {
        let classifier = try ImageClassifier(spec: .resNet(ResNetShape(.resnet18), classNames: ImageNetClasses.names, imageSize: 64))
        Trainer.initialize(classifier, seed: 3)
        let photo = try RGBImage.read(from: Self.repositoryRoot.appendingPathComponent("images/photos/chelsea.png").path)
        let picture = try ImageNetPreprocessing(resizeShorterSide: 64, cropSize: 64).resizeAndCrop(photo).toTensor()
        try assertEveryLessonFitsInVietnamese(LessonContext(classifier: classifier, image: picture, language: "vi"), name: "ResNet-18")
    }

    /// The engine demo, the worked example for lesson writers, in Vietnamese: no English
    /// sentence (terminal and Markdown) and no line over 80 columns.
    func testTheEngineDemoInVietnamese() throws {
        let pictures = NSTemporaryDirectory() + "engine-demo-vi-\(UUID().uuidString)"
        addTeardownBlock { try? FileManager.default.removeItem(atPath: pictures) }
        try Language.$override.withValue(.vi) {
            let notebook = try EngineDemo.notebook(language: "vi")
            XCTAssertTrue(notebook.allChecksPass)
            let text = TerminalRenderer(color: false, width: 80).render(notebook)
            assertFits(text, 80, "engine demo:")
            let page = try MarkdownRenderer(imageDirectory: pictures).render(notebook)
            for output in [text, page] {
                let english = EnglishDetector().englishLines(in: output)
                XCTAssertTrue(english.isEmpty, "engine demo: \(english.count) English lines:\n" + english.joined(separator: "\n"))
            }
            if ProcessInfo.processInfo.environment["PRINT_ENGINE_DEMO"] != nil { print(text + "\n" + page) }
        }
    }

    /// A lesson whose every text is stored with combining marks prints the same lines, letter
    /// for letter, as the precomposed one: the marks take no column anywhere (prose, tables,
    /// checks, captions, step titles).
    func testALessonWithCombiningMarksLaysOutLikeThePrecomposedOne() throws {
        let root = Self.repositoryRoot
        let classifier = try ImageClassifier.load(from: root.appendingPathComponent("models/mininet.safetensors").path)
        let context = LessonContext(classifier: classifier, language: "vi")
        try Language.$override.withValue(.vi) {
            for lesson in [CAMLesson.self, AblationCAMLesson.self] as [Lesson.Type] {
                let notebook = try lesson.build(context)
                let decomposed = Self.decomposed(notebook)
                XCTAssertNotEqual(decomposed.steps[1].title.unicodeScalars.count, notebook.steps[1].title.unicodeScalars.count)
                for color in [false, true] {
                    let renderer = TerminalRenderer(color: color, width: 80)
                    let expected = renderer.render(notebook)
                    let got = renderer.render(decomposed)
                    assertFits(got, 80, "\(lesson.id) with combining marks, color \(color):")
                    XCTAssertEqual(got.precomposedStringWithCanonicalMapping, expected.precomposedStringWithCanonicalMapping,
                                   "\(lesson.id), color \(color)")
                }
            }
        }
    }

    /// The same notebook with every text in canonical decomposition (NFD).
    static func decomposed(_ notebook: Notebook) -> Notebook {
        func nfd(_ text: String) -> String { text.decomposedStringWithCanonicalMapping }
        let copy = Notebook(lesson: notebook.lesson, title: nfd(notebook.title))
        for step in notebook.steps {
            if step.number > 0 { copy.step(nfd(step.title), id: step.id) }
            for cell in step.cells {
                switch cell {
                case let .heading(text): copy.add(.heading(nfd(text)))
                case let .prose(text): copy.add(.prose(nfd(text)))
                case .math: copy.add(cell)
                case let .tensor(name, value, caption): copy.add(.tensor(name: nfd(name), value: value, caption: caption.map(nfd)))
                case let .table(title, headers, rows, limit):
                    copy.add(.table(title: title.map(nfd), headers: headers.map(nfd), rows: rows.map { $0.map(nfd) }, limit: limit))
                case let .picture(picture):
                    var changed = picture
                    changed.title = nfd(picture.title)
                    for index in changed.panels.indices { changed.panels[index].caption = nfd(changed.panels[index].caption) }
                    copy.add(.picture(changed))
                case let .check(check):
                    var changed = check
                    changed.name = nfd(check.name)
                    changed.leftLabel = nfd(check.leftLabel)
                    changed.rightLabel = nfd(check.rightLabel)
                    changed.note = check.note.map(nfd)
                    copy.add(.check(changed))
                }
            }
        }
        return copy
    }
}

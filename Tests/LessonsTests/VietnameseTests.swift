import Foundation
import Lessons
import MiniNet
import XCTest

/// The Vietnamese tutor (issue 14): every lesson and homework text rendered in Vietnamese
/// holds no English sentence outside code, identifiers and formulas; the text files and the
/// phrase book are complete and well formed; the language is chosen as documented.
final class VietnameseTests: XCTestCase {
    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Terms that stay English in Vietnamese text: method and library names, and the names of
    /// the classes, which are data of the model.
    static func detector(classNames: [String]) -> EnglishDetector {
        EnglishDetector(allowedTerms: classNames + ["Integrated Gradients", "Layer-wise Relevance Propagation"])
    }

    // MARK: Choosing the language

    func testTheLanguageComesFromTheFlagThenTUTOR_LANGThenTheLocale() {
        XCTAssertEqual(Language.choose(arguments: ["lesson", "cam", "--lang", "vi"], environment: ["TUTOR_LANG": "en"]),
                       .chosen(.vi, from: "--lang"))
        XCTAssertEqual(Language.choose(arguments: ["--lang=en"], environment: ["LANG": "vi_VN.UTF-8"]), .chosen(.en, from: "--lang"))
        XCTAssertEqual(Language.choose(arguments: [], environment: ["TUTOR_LANG": "vi", "LANG": "en_US.UTF-8"]), .chosen(.vi, from: "TUTOR_LANG"))
        XCTAssertEqual(Language.choose(arguments: [], environment: ["LC_ALL": "vi_VN.UTF-8", "LANG": "en_US.UTF-8"]), .chosen(.vi, from: "LC_ALL"))
        XCTAssertEqual(Language.choose(arguments: [], environment: ["LANG": "vi_VN.UTF-8"]), .chosen(.vi, from: "LANG"))
        XCTAssertEqual(Language.choose(arguments: [], environment: ["LANG": "fr_FR.UTF-8"]), .chosen(.en, from: "LANG"))
        XCTAssertEqual(Language.choose(arguments: [], environment: [:]), .chosen(.en, from: "default"))
        XCTAssertEqual(Language.choose(arguments: ["--lang", "fr"], environment: [:]), .unknown(value: "fr", from: "--lang"))
        XCTAssertEqual(Language.choose(arguments: [], environment: ["TUTOR_LANG": "klingon"]), .unknown(value: "klingon", from: "TUTOR_LANG"))
        // After "--" every word is an operand, even one spelled like the flag.
        XCTAssertEqual(Language.choose(arguments: ["--", "--lang", "vi"], environment: [:]), .chosen(.en, from: "default"))
    }

    // MARK: The phrase book

    func testAPhraseWithHolesIsMatchedAndItsValuesReordered() throws {
        let book = try Phrasebook.parsing("""
            # holes may change order in the translation
            en: What is L^c at row {$1}, column {$2}?
            vi: Ở cột {$2}, hàng {$1}, L^c bằng bao nhiêu?
            en: mass in {$1} mask
            vi: khối lượng trong mặt nạ {$1}
            en: circle
            vi: hình tròn
            en: {$1} passes counted
            vi: số lượt đã đếm: {$1}
            """, language: .vi)
        XCTAssertEqual(book.translate("What is L^c at row 2, column 0?"), "Ở cột 0, hàng 2, L^c bằng bao nhiêu?")
        XCTAssertEqual(book.translate("mass in circle mask"), "khối lượng trong mặt nạ hình tròn", "a hole's English value is translated too")
        XCTAssertEqual(book.translate("12 passes counted"), "số lượt đã đếm: 12")
        XCTAssertEqual(book.translate("something else"), "something else", "no phrase: the English stays")
        XCTAssertEqual(book.translate("0.25"), "0.25")
        XCTAssertEqual(Phrasebook.identity.translate("mass in circle mask"), "mass in circle mask")
    }

    /// A hole between two equal quotes holds what a person typed: it may be empty, and it stays
    /// as typed (the value `yes` of a bad flag is not turned into `có`).
    func testAQuotedHoleMayBeEmptyAndIsNeverTranslated() throws {
        let book = try Phrasebook.parsing("""
            en: The value '{$1}' is invalid for '{$2}'
            vi: Giá trị '{$1}' không hợp lệ cho '{$2}'
            en: `{$1}` is not a JSON value
            vi: `{$1}` không phải một giá trị JSON
            en: yes
            vi: có
            """, language: .vi)
        XCTAssertEqual(book.translate("The value 'yes' is invalid for '--top <top>'"), "Giá trị 'yes' không hợp lệ cho '--top <top>'")
        XCTAssertEqual(book.translate("`` is not a JSON value"), "`` không phải một giá trị JSON")
        XCTAssertEqual(book.translate("`]` is not a JSON value"), "`]` không phải một giá trị JSON")
        XCTAssertEqual(book.translate("yes"), "có", "outside quotes the word is still a phrase")
    }

    func testABrokenPhraseFileIsReportedWithItsLine() {
        let cases = [
            ("en: a\nen: b\nvi: c", "line 1: 'en:' without its translation"),
            ("vi: c", "line 1: a translation without an 'en:' line before it"),
            ("en: row {$1}\nvi: hàng", "must use each hole"),
            ("en: {$1}{$2}\nvi: {$1}{$2}", "two holes need fixed text between them"),
            ("en: a\nvi: b\nen: a\nvi: c", "already translated"),
        ]
        for (source, problem) in cases {
            XCTAssertThrowsError(try Phrasebook.parsing(source, language: .vi, file: "t.txt"), source) { error in
                XCTAssertTrue("\(error)".contains(problem), "\(source): \(error)")
            }
        }
    }

    func testTheVietnamesePhraseBookAndTextFilesAreCompleteAndWellFormed() throws {
        XCTAssertGreaterThan(try Phrasebook.load(.vi).count, 0)
        try LessonText.validateAllResources()
        let texts = try LessonText.availableTexts()
        for (language, lesson) in texts where language == "en" {
            XCTAssertTrue(texts.contains { $0 == ("vi", lesson) }, "vi/\(lesson).md is missing")
            let english = try LessonText(lesson: lesson, language: "en")
            let vietnamese = try LessonText(lesson: lesson, language: "vi")
            XCTAssertEqual(Set(vietnamese.sections.keys).symmetricDifference(english.sections.keys), [], "vi/\(lesson).md keys")
        }
    }

    // MARK: No English left

    func testTheDetectorFindsEnglishAndPassesVietnameseWithTerms() {
        let detector = EnglishDetector()
        XCTAssertTrue(detector.isEnglish("The gradient of the class score at each cell"))
        XCTAssertTrue(detector.isEnglish("  head passes counted: 12 = one full pass"))
        XCTAssertFalse(detector.isEnglish("Gradient ∂y^c/∂A^k cho biết điểm thay đổi bao nhiêu khi ô (i, j) tăng"))
        XCTAssertFalse(detector.isEnglish("bản đồ đặc trưng (feature map) tại `layer4.2`, với logit y^c"))
        XCTAssertFalse(detector.isEnglish("α^c_k = (1/Z) Σ_{i,j} ∂y^c/∂A^k_{ij}"))
        XCTAssertFalse(EnglishDetector(allowedTerms: ["golden retriever"]).isEnglish("class golden retriever (c = 207)"))
    }

    /// Every lesson in Vietnamese, as Markdown, on the small CNN and a narrow ResNet-18: no
    /// English line before the references (whose paper titles stay as published).
    func testEveryLessonInVietnameseHasNoEnglishSentence() throws {
        let root = Self.repositoryRoot
        let photo = try RGBImage.read(from: root.appendingPathComponent("images/photos/chelsea.png").path)
        let picture = try ImageNetPreprocessing(resizeShorterSide: 64, cropSize: 64).resizeAndCrop(photo).toTensor()
        let resnet = try PretrainedResNet.load(from: root.appendingPathComponent("Tests/MiniNetTests/Fixtures/resnet/resnet18-narrow.safetensors").path, imageSize: 64)
        let contexts = [
            ("small CNN", LessonContext(
                classifier: try ImageClassifier.load(from: root.appendingPathComponent("models/mininet.safetensors").path),
                biasFreeClassifier: try ImageClassifier.load(from: root.appendingPathComponent("models/mininet-nobias.safetensors").path),
                language: "vi")),
            ("ResNet-18", LessonContext(classifier: resnet, image: picture, language: "vi")),
        ]
        let pictures = NSTemporaryDirectory() + "vietnamese-\(UUID().uuidString)"
        addTeardownBlock { try? FileManager.default.removeItem(atPath: pictures) }
        let references = try LessonText(lesson: "cam", language: "vi")("references.title")
        let glossary = try GlossaryRules(contentsOf: root.appendingPathComponent("docs/glossary.md"))
        for (model, context) in contexts {
            let detector = Self.detector(classNames: context.classifier.classNames)
            for lesson in LessonCatalog.all {
                let page = try Language.$override.withValue(.vi) {
                    try MarkdownRenderer(imageDirectory: pictures).render(try lesson.build(context))
                }
                let body = page.components(separatedBy: references).first ?? page
                let english = detector.englishLines(in: body)
                XCTAssertTrue(english.isEmpty, "\(lesson.id), \(model): \(english.count) English lines:\n" + english.joined(separator: "\n"))
                let offTerms = glossary.violations(in: body)
                XCTAssertTrue(offTerms.isEmpty, "\(lesson.id), \(model): terms not as docs/glossary.md says:\n" + offTerms.joined(separator: "\n"))
            }
        }
    }
}

/// The rules of docs/glossary.md that a test can check in a Vietnamese page: a term glossed
/// with its English in parentheses ("bản đồ nhiệt (heatmap)") never shows that English bare,
/// and no word of the "Avoid" table appears.
struct GlossaryRules {
    /// English words allowed only inside parentheses, with the Vietnamese term to use.
    var glossedEnglish: [(english: String, vietnamese: String)] = []
    var avoided: [(word: String, use: String)] = []

    init(contentsOf url: URL) throws {
        let source = try String(contentsOf: url, encoding: .utf8)
        var inAvoidTable = false
        for line in source.components(separatedBy: "\n") {
            guard line.hasPrefix("|") else { inAvoidTable = false; continue }
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count >= 4, !cells[1].hasPrefix("---") else { continue }
            if cells[1].hasPrefix("Avoid") { inAvoidTable = true; continue }
            if cells[1] == "English" { continue }
            if inAvoidTable {
                avoided.append((cells[1], cells[2]))
                continue
            }
            let vietnamese = cells[2]
            for gloss in Self.parenthesised(vietnamese) {
                // Acronyms and CamelCase names (CAM, BatchNorm) are names, used bare; so is an
                // English word the Vietnamese cell itself uses bare ("class, nhãn (class)").
                let isName = gloss.dropFirst().contains(where: \.isUppercase)
                let usedBare = Self.removingParentheses(vietnamese).range(of: gloss, options: .caseInsensitive) != nil
                if !isName && !usedBare { glossedEnglish.append((gloss, vietnamese)) }
            }
        }
    }

    /// The English inside each "(…)" that is written in plain ASCII letters.
    static func parenthesised(_ text: String) -> [String] {
        var found: [String] = []
        var rest = text[...]
        while let open = rest.firstIndex(of: "("), let close = rest[open...].firstIndex(of: ")") {
            let inside = rest[rest.index(after: open)..<close].trimmingCharacters(in: .whitespaces)
            if !inside.isEmpty, inside.allSatisfy({ $0.isASCII && ($0.isLetter || $0 == " " || $0 == "-") }) { found.append(inside) }
            rest = rest[rest.index(after: close)...]
        }
        return found
    }

    static func removingParentheses(_ text: String) -> String {
        text.replacingOccurrences(of: "\\([^()]*\\)", with: " ", options: .regularExpression)
    }

    /// Each breach in `page`, as "line: what is wrong".
    func violations(in page: String) -> [String] {
        var problems: [String] = []
        for line in page.components(separatedBy: "\n") {
            var text = line
            for pattern in ["`[^`]*`", "\\$[^$]*\\$", "https?://\\S+"] {
                text = text.replacingOccurrences(of: pattern, with: " ", options: .regularExpression)
            }
            let lowered = text.lowercased()
            for (word, use) in avoided where lowered.contains(word.lowercased()) {
                problems.append("\(line.trimmingCharacters(in: .whitespaces)): \"\(word)\" (use \"\(use)\")")
            }
            let bare = Self.removingParentheses(text)
            for (english, vietnamese) in glossedEnglish {
                let pattern = "(?<![\\w-])" + NSRegularExpression.escapedPattern(for: english) + "(?![\\w-])"
                if bare.range(of: pattern, options: [.regularExpression, .caseInsensitive]) != nil {
                    problems.append("\(line.trimmingCharacters(in: .whitespaces)): bare \"\(english)\" (write \"\(vietnamese)\")")
                }
            }
        }
        return problems
    }
}

import Foundation
import XCTest
import MiniNet
@testable import Lessons

final class LRPLessonTests: XCTestCase {
    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func model(_ name: String) throws -> ImageClassifier {
        try ImageClassifier.load(from: repositoryRoot.appendingPathComponent("models/\(name).safetensors").path)
    }

    func context(seed: UInt64 = 7, targetClass: Int? = nil, layer: String? = nil) throws -> LessonContext {
        LessonContext(classifier: try Self.model("mininet"), biasFreeClassifier: try Self.model("mininet-nobias"),
                      targetClass: targetClass, layer: layer, seed: seed)
    }

    private func assertAllChecksPass(_ notebook: Notebook, _ label: String, file: StaticString = #filePath, line: UInt = #line) {
        let failed = notebook.checks.filter { !$0.ok }
            .map { "\($0.name): \($0.left) vs \($0.right), |Δ| \($0.residual) > \($0.tolerance)" }
        XCTAssertTrue(failed.isEmpty, "\(label): \(failed.joined(separator: "; "))", file: file, line: line)
    }

    func testDefaultContextPassesAllChecks() throws {
        try forEachArithmeticVariant { _ in
            let notebook = try LRPLesson.build(try context())
            assertAllChecksPass(notebook, "default")
            // score, rule, conservation (the first layer, every layer, the whole), gradient × input,
            // ledger, heatmap, the article three ways, control.
            XCTAssertEqual(notebook.checks.count, 11)
            XCTAssertEqual(notebook.steps.map(\.number), [0, 1, 2, 3, 4, 5, 6, 7, 8])
        }
    }

    func testSeedsAndClassesPassAllChecks() throws {
        let base = try context()
        for seed in UInt64(0)..<8 {
            for target in 0..<base.classifier.classNames.count {
                var variant = base
                variant.seed = seed
                variant.targetClass = target
                assertAllChecksPass(try LRPLesson.build(variant), "seed \(seed) class \(target)")
            }
        }
    }

    func testWithoutBiasFreeModelStillBuilds() throws {
        try forEachArithmeticVariant { _ in
            var variant = try context()
            variant.biasFreeClassifier = nil
            let notebook = try LRPLesson.build(variant)
            assertAllChecksPass(notebook, "no bias-free model")
            XCTAssertEqual(notebook.checks.count, 7)
        }
    }

    func testBadClassOrLayerThrows() throws {
        XCTAssertThrowsError(try LRPLesson.build(try context(targetClass: 3))) { error in
            XCTAssertTrue("\(error)".contains("class 3"))
        }
        XCTAssertThrowsError(try LRPLesson.build(try context(targetClass: -1)))
        XCTAssertThrowsError(try LRPLesson.build(try context(layer: "features.99"))) { error in
            XCTAssertTrue("\(error)".contains("features.99"))
        }
    }

    func testRendersInAllThreeRenderers() throws {
        let notebook = try LRPLesson.build(try context())
        let terminal = TerminalRenderer(color: false).render(notebook)
        XCTAssertTrue(terminal.contains("Σ_i R_i = f(x)"))
        let directory = NSTemporaryDirectory() + "lrp-lesson-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let markdown = try MarkdownRenderer(imageDirectory: directory).render(notebook)
        XCTAssertTrue(markdown.hasPrefix("# Layer-wise relevance propagation"))
        let json = try JSONRenderer().render(notebook)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        XCTAssertEqual(object["all_checks_pass"] as? Bool, true)
    }

    func testTextHasEveryKeyTheLessonUses() throws {
        let text = try LessonText(lesson: LRPLesson.id)
        for key in ["title", "intro", "ledger.check", "heatmap.overlay", "conservation.missing"] {
            XCTAssertTrue(text.keys.contains(key), key)
        }
    }
}

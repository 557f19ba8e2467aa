import Foundation
import MiniNet
import XCTest
@testable import Lessons

final class AblationCAMLessonTests: XCTestCase {
    /// The shipped model, found from this file: Tests/LessonsTests/ → repository root.
    static let classifier: ImageClassifier? = {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return try? ImageClassifier.load(from: root.appendingPathComponent("models/mininet.safetensors").path)
    }()

    func model() throws -> ImageClassifier {
        try XCTUnwrap(Self.classifier, "models/mininet.safetensors could not be loaded")
    }

    func assertAllChecksPass(_ notebook: Notebook, _ label: String, file: StaticString = #filePath, line: UInt = #line) {
        for check in notebook.checks where !check.ok {
            XCTFail("\(label): check '\(check.name)' failed: \(check.leftLabel) = \(check.left), \(check.rightLabel) = \(check.right), residual \(check.residual), tolerance \(check.tolerance) \(check.note ?? "")",
                    file: file, line: line)
        }
        XCTAssertGreaterThanOrEqual(notebook.checks.count, 8, label, file: file, line: line)
    }

    func testDefaultContextPassesEveryCheck() throws {
        try forEachArithmeticVariant { _ in
            let notebook = try AblationCAMLesson.build(LessonContext(classifier: try model()))
            assertAllChecksPass(notebook, "default")
            XCTAssertLessThanOrEqual(notebook.steps.filter { $0.number > 0 }.count, 8)
        }
    }

    func testEverySeedAndClassPassesEveryCheck() throws {
        let classifier = try model()
        for seed in UInt64(0)..<8 {
            for targetClass in [nil] + classifier.classNames.indices.map(Optional.some) {
                let context = LessonContext(classifier: classifier, targetClass: targetClass, seed: seed)
                assertAllChecksPass(try AblationCAMLesson.build(context), "seed \(seed), class \(String(describing: targetClass))")
            }
        }
    }

    func testBiasFreeModelPassesEveryCheck() throws {
        try forEachArithmeticVariant { _ in
            let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent()
            let classifier = try ImageClassifier.load(from: root.appendingPathComponent("models/mininet-nobias.safetensors").path)
            for seed in UInt64(0)..<4 {
                assertAllChecksPass(try AblationCAMLesson.build(LessonContext(classifier: classifier, seed: seed)), "bias-free, seed \(seed)")
            }
        }
    }

    func testEarlierLayerSkipsTheLinearIdentityButBuilds() throws {
        let notebook = try AblationCAMLesson.build(LessonContext(classifier: try model(), layer: "features.6"))
        XCTAssertFalse(notebook.checks.contains { $0.name.contains("Wᶜₖ · mean") })
        XCTAssertTrue(notebook.checks.contains { $0.name.contains("by hand") && $0.ok })
    }

    func testBadLayerAndClassThrowOneLineErrors() throws {
        let classifier = try model()
        for context in [LessonContext(classifier: classifier, layer: "features.99"),
                        LessonContext(classifier: classifier, targetClass: 3),
                        LessonContext(classifier: classifier, targetClass: -1)] {
            XCTAssertThrowsError(try AblationCAMLesson.build(context)) { error in
                XCTAssertTrue(error is MiniNetError)
                XCTAssertFalse("\(error)".contains("\n"))
            }
        }
    }

    /// A score too close to 0 throws AblationCAM's one-line error, and the lesson shows it.
    func testScoreNearZeroThrowsInsteadOfDividing() throws {
        let classifier = try model()
        let input = classifier.normalize(LessonContext(classifier: classifier).pictureOrDefault(imageSize: classifier.inputSize[1]))
        let method = AblationCAM(classifier: classifier)
        method.minimumScore = 1e6
        XCTAssertThrowsError(try method.explain(input: input, layer: "features.10", target: .logit(0))) { error in
            XCTAssertTrue("\(error)".contains("too close to 0"))
        }
        let notebook = try AblationCAMLesson.build(LessonContext(classifier: classifier))
        let shown = notebook.steps.flatMap(\.cells).contains { cell in
            if case let .prose(text) = cell { return text.contains("too close to 0 for Ablation-CAM") }
            return false
        }
        XCTAssertTrue(shown, "the lesson shows AblationCAM's error message")
    }

    func testRendersInAllThreeRenderers() throws {
        let notebook = try AblationCAMLesson.build(LessonContext(classifier: try model()))
        let terminal = TerminalRenderer(color: false).render(notebook)
        XCTAssertFalse(terminal.contains("⟦missing text"))
        XCTAssertFalse(terminal.contains("{"), "an unfilled placeholder")
        let directory = NSTemporaryDirectory() + "ablationcam-tests-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let markdown = try MarkdownRenderer(imageDirectory: directory).render(notebook)
        XCTAssertTrue(markdown.contains("Ablation-CAM"))
        let json = try JSONRenderer().render(notebook)
        XCTAssertNotNil(try JSONSerialization.jsonObject(with: Data(json.utf8)))
    }
}

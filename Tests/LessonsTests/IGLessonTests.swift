import Foundation
import XCTest
import MiniNet
import Lessons

final class IGLessonTests: XCTestCase {
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().path
    static let classifier = try? ImageClassifier.load(from: repositoryRoot + "/models/mininet.safetensors")

    func context(seed: UInt64 = 7, targetClass: Int? = nil, layer: String? = nil) throws -> LessonContext {
        let classifier = try XCTUnwrap(Self.classifier, "models/mininet.safetensors should load")
        return LessonContext(classifier: classifier, targetClass: targetClass, layer: layer, seed: seed)
    }

    func assertAllChecksPass(_ notebook: Notebook, _ label: String, file: StaticString = #filePath, line: UInt = #line) {
        for check in notebook.checks where !check.ok {
            XCTFail("\(label): \(check.name): \(check.left) vs \(check.right), residual \(check.residual) > \(check.tolerance)",
                    file: file, line: line)
        }
        XCTAssertFalse(notebook.checks.isEmpty, label, file: file, line: line)
    }

    func testDefaultContextPassesAllChecks() throws {
        try forEachArithmeticVariant { _ in
            let notebook = try IGLesson.build(try context())
            assertAllChecksPass(notebook, "default")
            // completeness per rule, Gauss–Legendre at 50 steps, per baseline; the claim about the
            // gaps table; a flat map's mass on the mask (IG beside LRP).
            XCTAssertEqual(notebook.checks.count, IntegrationMethod.allCases.count + 1 + 3 + 1 + 1)
        }
    }

    func testSeedsPassAllChecks() throws {
        for seed in UInt64(0)..<8 {
            assertAllChecksPass(try IGLesson.build(try context(seed: seed)), "seed \(seed)")
        }
    }

    func testEveryClassPassesAllChecks() throws {
        for c in 0..<3 {
            assertAllChecksPass(try IGLesson.build(try context(targetClass: c)), "class \(c)")
        }
    }

    func testBadClassAndLayerThrowOneLineErrors() throws {
        for bad in [try context(targetClass: 3), try context(targetClass: -1), try context(layer: "features.99")] {
            XCTAssertThrowsError(try IGLesson.build(bad)) { error in
                XCTAssertTrue(error is MiniNetError, "\(error)")
                XCTAssertFalse("\(error)".contains("\n"))
            }
        }
    }

    func testRendersInAllRenderers() throws {
        let notebook = try IGLesson.build(try context())
        XCTAssertFalse(TerminalRenderer(color: false).render(notebook).isEmpty)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ig-lesson-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        XCTAssertFalse(try MarkdownRenderer(imageDirectory: directory).render(notebook).isEmpty)
        XCTAssertFalse(try JSONRenderer().render(notebook).isEmpty)
    }
}

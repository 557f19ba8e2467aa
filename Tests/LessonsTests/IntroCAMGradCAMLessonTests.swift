import Foundation
import XCTest
import MiniNet
@testable import Lessons

final class IntroCAMGradCAMLessonTests: XCTestCase {
    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func model(_ name: String) throws -> ImageClassifier {
        try ImageClassifier.load(from: repositoryRoot.appendingPathComponent("models/\(name).safetensors").path)
    }

    static let lessons: [Lesson.Type] = [IntroLesson.self, CAMLesson.self, GradCAMLesson.self]

    func failures(_ notebook: Notebook) -> String {
        notebook.checks.filter { !$0.ok }
            .map { "\($0.name): \($0.leftLabel)=\($0.left) \($0.rightLabel)=\($0.right) residual \($0.residual) tol \($0.tolerance) \($0.note ?? "")" }
            .joined(separator: "\n")
    }

    func testDefaultContextPassesAllChecks() throws {
        try forEachArithmeticVariant { _ in
            let context = LessonContext(classifier: try Self.model("mininet"), biasFreeClassifier: try Self.model("mininet-nobias"))
            for lesson in Self.lessons {
                let notebook = try lesson.build(context)
                XCTAssertFalse(notebook.checks.isEmpty, lesson.id)
                XCTAssertTrue(notebook.allChecksPass, "\(lesson.id):\n\(failures(notebook))")
            }
        }
    }

    func testSeedsAndClassesPassAllChecks() throws {
        let classifier = try Self.model("mininet")
        for lesson in Self.lessons {
            for seed in UInt64(0)..<8 {
                for target in [nil] + classifier.classNames.indices.map(Optional.some) {
                    let context = LessonContext(classifier: classifier, targetClass: target, seed: seed)
                    let notebook = try lesson.build(context)
                    XCTAssertTrue(notebook.allChecksPass, "\(lesson.id) seed \(seed) class \(String(describing: target)):\n\(failures(notebook))")
                }
            }
        }
    }

    func testBiasFreeModelPassesAllChecks() throws {
        try forEachArithmeticVariant { _ in
            let classifier = try Self.model("mininet-nobias")
            for lesson in Self.lessons {
                for seed in UInt64(0)..<4 {
                    let notebook = try lesson.build(LessonContext(classifier: classifier, seed: seed))
                    XCTAssertTrue(notebook.allChecksPass, "\(lesson.id) (no bias) seed \(seed):\n\(failures(notebook))")
                }
            }
        }
    }

    func testGradCAMAtAnEarlierLayerPassesItsChecks() throws {
        let classifier = try Self.model("mininet")
        for seed in UInt64(0)..<8 {
            for target in classifier.classNames.indices {
                let context = LessonContext(classifier: classifier, targetClass: target, layer: "features.6", seed: seed)
                let notebook = try GradCAMLesson.build(context)
                XCTAssertTrue(notebook.allChecksPass, "seed \(seed) class \(target):\n\(failures(notebook))")
            }
        }
    }

    func testBadClassAndLayerThrowOneLineErrors() throws {
        let classifier = try Self.model("mininet")
        for lesson in Self.lessons where lesson != IntroLesson.self {
            XCTAssertThrowsError(try lesson.build(LessonContext(classifier: classifier, targetClass: 7))) { error in
                XCTAssertTrue("\(error)".contains("out of range"), "\(error)")
            }
            XCTAssertThrowsError(try lesson.build(LessonContext(classifier: classifier, layer: "features.99"))) { error in
                XCTAssertTrue("\(error)".contains("no layer named"), "\(error)")
            }
        }
        XCTAssertThrowsError(try CAMLesson.build(LessonContext(classifier: classifier, layer: "features.6")))
        XCTAssertThrowsError(try GradCAMLesson.build(LessonContext(classifier: classifier, layer: "classifier")))
        XCTAssertThrowsError(try IntroLesson.build(LessonContext(classifier: classifier, image: Tensor(zeros: [3, 5, 5]))))
    }

    func testNotebooksRenderInEveryRenderer() throws {
        let context = LessonContext(classifier: try Self.model("mininet"))
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("intro-cam-gradcam-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        for lesson in Self.lessons {
            let notebook = try lesson.build(context)
            let terminal = TerminalRenderer(color: false).render(notebook)
            XCTAssertFalse(terminal.contains("⟦missing text"), "\(lesson.id) uses a key its .md file lacks")
            XCTAssertFalse(terminal.isEmpty)
            XCTAssertFalse(try JSONRenderer().render(notebook).isEmpty)
            let markdown = try MarkdownRenderer(imageDirectory: directory.path).render(notebook)
            XCTAssertTrue(markdown.contains(notebook.title))
        }
    }

    func testTextsHaveEveryKeyTheLessonsUse() throws {
        for id in ["intro", "cam", "gradcam"] {
            let text = try LessonText(lesson: id)
            XCTAssertTrue(text.keys.contains("title"), id)
        }
    }
}

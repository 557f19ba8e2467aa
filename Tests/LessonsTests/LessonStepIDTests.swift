import Foundation
import XCTest
import MiniNet
@testable import Lessons

/// Homework hints name lesson steps by a stable id (issue 12, item 6). Step numbers differ
/// between models, so every id a hint names must be a step of the lesson built on the small CNN
/// and on a ResNet (the narrow ResNet-18 fixture at 64×64, as in ResNetLessonTests).
final class LessonStepIDTests: XCTestCase {
    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func smallCNN() throws -> LessonContext {
        let model = { (name: String) in
            try ImageClassifier.load(from: repositoryRoot.appendingPathComponent("models/\(name).safetensors").path)
        }
        // As `tutor lesson` runs it: with the bias-free twin when it is there.
        return LessonContext(classifier: try model("mininet"), biasFreeClassifier: try model("mininet-nobias"))
    }

    /// The lessons that have homework, built on `context`.
    static func notebooks(_ context: LessonContext) throws -> [HomeworkLesson: Notebook] {
        var notebooks = [HomeworkLesson: Notebook]()
        for lesson in HomeworkLesson.allCases {
            let type = try XCTUnwrap(LessonCatalog.lesson(id: lesson.rawValue), lesson.rawValue)
            notebooks[lesson] = try type.build(context)
        }
        return notebooks
    }

    func assertHintsResolve(_ notebooks: [HomeworkLesson: Notebook], model: String) {
        for (lesson, notebook) in notebooks {
            let ids = notebook.steps.filter { $0.number > 0 }.map(\.id)
            XCTAssertTrue(ids.allSatisfy { $0 != nil }, "\(model) \(lesson): a step without an id")
            XCTAssertEqual(Set(ids.compactMap { $0 }).count, ids.count, "\(model) \(lesson): step ids repeat")
            XCTAssertTrue(ids.allSatisfy { $0?.hasPrefix(lesson.rawValue + ".") ?? false }, "\(model) \(lesson): \(ids)")
        }
        var named = LessonStep.all
        for template in HomeworkCatalog.templates {
            named += template.make(student: "alice").questions.map(\.hints.step)
        }
        for step in named {
            let notebook = notebooks[step.lesson]
            XCTAssertNotNil(notebook?.step(id: step.id), "\(model): hints name \(step.id), which `tutor lesson \(step.lesson.rawValue)` does not have")
            // The hint quotes the title the lesson prints (on the small CNN every step is there).
            if model == "small CNN", let printed = notebook?.step(id: step.id)?.title {
                XCTAssertEqual(step.title, printed, step.id)
            }
        }
    }

    func testEveryHintNamesAStepOfTheSmallCNNLesson() throws {
        assertHintsResolve(try Self.notebooks(Self.smallCNN()), model: "small CNN")
    }

    func testEveryHintNamesAStepOfTheResNetLesson() throws {
        let context = try ResNetLessonTests.context("resnet18-narrow.safetensors")
        XCTAssertFalse(context.usesShapesData)
        assertHintsResolve(try Self.notebooks(context), model: "ResNet-18")
    }

    /// Why ids and not numbers: on the two models the same step has different numbers.
    func testStepNumbersDifferBetweenModelsButIDsDoNot() throws {
        let small = try LRPLesson.build(Self.smallCNN())
        let resnet = try LRPLesson.build(ResNetLessonTests.context("resnet18-narrow.safetensors"))
        let smallLedger = try XCTUnwrap(small.step(id: "lrp.ledger")), resnetLedger = try XCTUnwrap(resnet.step(id: "lrp.ledger"))
        XCTAssertNotEqual(smallLedger.number, resnetLedger.number)
        XCTAssertEqual(smallLedger.title, resnetLedger.title)
    }

    func testTheJSONOfALessonCarriesTheStepIDs() throws {
        let notebook = Notebook(lesson: "demo", title: "Demo")
        notebook.prose("introduction")
        notebook.step("First", id: "demo.first")
        let json = try JSONRenderer(pretty: false).render(notebook)
        XCTAssertTrue(json.contains("\"id\":\"demo.first\""), json)
        XCTAssertTrue(json.contains("\"id\":null"), json)  // step 0, the introduction
    }
}

import Foundation
import XCTest
import MiniNet
@testable import Lessons

/// The lesson "evaluate": deletion and insertion built point by point, confidence and ROAD,
/// localisation with its controls, the sanity checks, the table of methods × metrics and the
/// planted shortcut. (TerminalWidthTests, VietnameseTests and the other tests that build every
/// lesson cover its layout and its Vietnamese as well.)
final class EvaluateLessonTests: XCTestCase {
    static func model(_ name: String) throws -> ImageClassifier { try IntroCAMGradCAMLessonTests.model(name) }

    static let stepIDs = ["evaluate.why", "evaluate.deletion", "evaluate.confidence", "evaluate.localisation",
                          "evaluate.sanity", "evaluate.table", "evaluate.shortcut"]

    /// The lesson as `tutor lesson evaluate` builds it on the small CNN, built once for the tests
    /// that read it (a build takes seconds in a debug build).
    static let defaultNotebook = Result {
        try Language.$override.withValue(.en) {
            try EvaluateLesson.build(LessonContext(classifier: try model("mininet"), biasFreeClassifier: try model("mininet-nobias"),
                                                   language: "en"))
        }
    }

    func failures(_ notebook: Notebook) -> String {
        notebook.checks.filter { !$0.ok }
            .map { "\($0.name): \($0.leftLabel)=\($0.left) \($0.rightLabel)=\($0.right) residual \($0.residual) tol \($0.tolerance) \($0.note ?? "")" }
            .joined(separator: "\n")
    }

    func testTheLessonOnTheSmallCNNPassesItsChecksAndTheyCatchBrokenIdentities() throws {
        let notebook = try Self.defaultNotebook.get()
        XCTAssertTrue(notebook.allChecksPass, failures(notebook))
        // The points built by hand, the trapezoids, the two far ends, ROAD's imputation, the
        // random map's mass and rank, Grad-CAM with a random head, the paired pictures.
        XCTAssertEqual(notebook.checks.count, 9, notebook.checks.map(\.name).joined(separator: "\n"))
        CheckMutations.assertChecksCatchBugs(notebook, "small CNN evaluate")
        XCTAssertEqual(notebook.steps.compactMap(\.id), Self.stepIDs)
        // Every number is in the text: no placeholder is left unfilled, no section missing.
        let page = TerminalRenderer(color: false, width: 80).render(notebook)
        XCTAssertFalse(page.contains("⟦"), page)
    }

    func testStepIDsAreTheSameOnAResNet() throws {
        let notebook = try EvaluateLesson.build(try ResNetLessonTests.context("resnet18-narrow.safetensors"))
        XCTAssertEqual(notebook.steps.compactMap(\.id), Self.stepIDs)
        XCTAssertTrue(notebook.allChecksPass, failures(notebook))
        // A photo has no mask: no localisation table, no table of methods × metrics.
        let page = TerminalRenderer(color: false, width: 80).render(notebook)
        XCTAssertFalse(page.contains("⟦"), page)
        let table = try XCTUnwrap(notebook.step(id: "evaluate.table"))
        XCTAssertFalse(table.cells.contains { if case .table = $0 { return true } else { return false } })
        // Fewer passes on a photo network, said at the start; the cascade goes by stages.
        XCTAssertTrue(page.contains("--every-pass"), page)
        XCTAssertTrue(page.contains("one per stage"), page)
    }

    /// --every-pass: the full curves, ROAD's five percentages and the cascade block by block.
    func testEveryPassOnAResNetRunsTheFullSteps() throws {
        var context = try ResNetLessonTests.context("resnet18-narrow.safetensors")
        context.everyPass = true
        let notebook = try EvaluateLesson.build(context)
        XCTAssertEqual(notebook.steps.compactMap(\.id), Self.stepIDs)
        XCTAssertTrue(notebook.allChecksPass, failures(notebook))
        let page = TerminalRenderer(color: false, width: 80).render(notebook)
        XCTAssertFalse(page.contains("--every-pass"), page)
        XCTAssertTrue(page.contains("one per block"), page)
        XCTAssertTrue(page.contains("s_0 … s_\(EvaluateLesson.curveSteps)"), page)
    }

    func testAnotherSeedAndClassPassTheirChecks() throws {
        let classifier = try Self.model("mininet")
        let notebook = try EvaluateLesson.build(LessonContext(classifier: classifier, targetClass: 0, seed: 11))
        XCTAssertTrue(notebook.allChecksPass, failures(notebook))
        XCTAssertThrowsError(try EvaluateLesson.build(LessonContext(classifier: classifier, targetClass: 5))) { error in
            XCTAssertTrue("\(error)".contains("out of range"), "\(error)")
        }
    }

    /// The lesson's own deleted pictures: exactly the first n pixels of the order, in every
    /// channel, become the fill 0; and the area check fails for a wrong area.
    func testDeletedPicturesAndTheAreaCheck() throws {
        let input = Tensor(shape: [3, 2, 2], data: (1...12).map(Float.init))
        let deleted = EvaluateLesson.deletedPicture(input, order: [3, 0, 2, 1], count: 2, channels: 3)
        XCTAssertEqual(deleted.data, [0, 2, 3, 0, 0, 6, 7, 0, 0, 10, 11, 0])
        let text = try LessonText(lesson: "evaluate")
        let classifier = try Self.model("mininet")
        let setup = try LessonSetup(LessonContext(classifier: classifier))
        var curve = try Faithfulness.deletionCurve(classifier: classifier, input: setup.input,
                                                   heatmap: ControlMaps.random(height: 32, width: 32, seed: 1),
                                                   target: .probability(setup.target), steps: 8)
        XCTAssertTrue(EvaluateLesson.areaCheck(text, curve).ok)
        // The mean of the points instead of the trapezoids.
        curve.area = curve.scores.reduce(0) { $0 + Double($1) } / Double(curve.scores.count)
        XCTAssertFalse(EvaluateLesson.areaCheck(text, curve).ok)
    }

    /// The network with the planted mark learns it, and at least one method puts its peak on
    /// the mark in most marked pictures, while the random map does not.
    func testThePlantedMarkIsLearnedAndFound() throws {
        let options = EvaluateLessonSupport.shortcutTraining
        let trained = try EvaluateLessonSupport.trained(options)
        // Trained once per process: the same network again.
        XCTAssertTrue(try EvaluateLessonSupport.trained(options).classifier === trained.classifier)
        let evaluation = Trainer.evaluateShortcut(trained.classifier, on: try XCTUnwrap(Trainer.shortcutTestSet(options)))
        XCTAssertGreaterThan(evaluation.otherClassCalledShortcutClassWithMark, evaluation.otherClassCalledShortcutClassWithoutMark + 0.5)

        let step = try XCTUnwrap(try Self.defaultNotebook.get().step(id: "evaluate.shortcut"))
        let rows = step.cells.compactMap { cell -> [[String]]? in
            if case let .table(_, headers, rows, _) = cell, headers.first == "map" { return rows }
            return nil
        }.first ?? []
        func percent(_ text: String) -> Double { Double(text.replacingOccurrences(of: " %", with: "")) ?? -1 }
        let methods = rows.filter { $0[0] != "random map" }
        XCTAssertEqual(methods.count, EvaluateLessonSupport.tableMethods.count)
        XCTAssertTrue(methods.contains { percent($0[3]) >= 50 }, "\(rows)")
        let random = try XCTUnwrap(rows.first { $0[0] == "random map" })
        XCTAssertLessThan(percent(random[3]), 50)
    }

    /// Every short text the lesson's code writes is translated, except names and formulas.
    func testTheCodeTextsAreTranslated() throws {
        let names: Set<String> = ["Grad", "CAM", "IG", "LRP", "AD", "IC", "ij", "guided", "backprop", "input", "gradient", "MoRF", "LeRF", "AUC",
                                  "SSIM", "Sobel", "Faithfulness", "deletionCurve", "classifier", "features", "max", "circle",
                                  "square", "triangle"]
        func texts(_ notebook: Notebook) -> [String] {
            notebook.steps.flatMap { step in
                [step.title] + step.cells.flatMap { cell -> [String] in
                    switch cell {
                    case let .table(title, headers, rows, _): return [title ?? ""] + headers + rows.flatMap { $0 }
                    case let .picture(picture): return [picture.title] + picture.panels.map(\.caption)
                    case let .check(check): return [check.name, check.leftLabel, check.rightLabel]
                    case let .heading(text): return [text]
                    default: return []
                    }
                }
            }
        }
        let english = texts(try Self.defaultNotebook.get())
        let context = LessonContext(classifier: try Self.model("mininet"), biasFreeClassifier: try Self.model("mininet-nobias"),
                                    language: "vi")
        let vietnamese = texts(try Language.$override.withValue(.vi) { try EvaluateLesson.build(context) })
        XCTAssertEqual(english.count, vietnamese.count)
        let untranslated = zip(english, vietnamese).filter { original, translation in
            original == translation && EnglishDetector.words(in: original).contains { $0.count > 1 && !names.contains($0) }
        }.map(\.0)
        XCTAssertEqual(untranslated, [], untranslated.joined(separator: "\n"))
    }
}

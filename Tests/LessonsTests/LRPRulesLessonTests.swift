import Foundation
import XCTest
import MiniNet
@testable import Lessons

/// The lesson "lrprules": ε, z⁺, αβ and γ and Zennit's composites on one picture, each with its
/// conservation checked and its positive and negative relevance.
final class LRPRulesLessonTests: XCTestCase {
    static func model(_ name: String) throws -> ImageClassifier { try LRPLessonTests.model(name) }

    func failures(_ notebook: Notebook) -> String {
        notebook.checks.filter { !$0.ok }
            .map { "\($0.name): \($0.leftLabel)=\($0.left) \($0.rightLabel)=\($0.right) residual \($0.residual) tol \($0.tolerance)" }
            .joined(separator: "\n")
    }

    func testDefaultContextPassesAllChecksAndCatchesBrokenIdentities() throws {
        try forEachArithmeticVariant { variant in
            let notebook = try LRPRulesLesson.build(LessonContext(classifier: try Self.model("mininet")))
            XCTAssertTrue(notebook.allChecksPass, "\(variant):\n\(failures(notebook))")
            // Six conservation checks, the z⁺ bound and αβ(1, 0) = z⁺.
            XCTAssertEqual(notebook.checks.count, 8)
            CheckMutations.assertChecksCatchBugs(notebook, "\(variant) lrprules")
        }
        let notebook = try LRPRulesLesson.build(LessonContext(classifier: try Self.model("mininet")))
        XCTAssertEqual(notebook.steps.compactMap(\.id), ["lrprules.rules", "lrprules.compare", "lrprules.composites",
                                                         "lrprules.why", "lrprules.gamma", "lrprules.box"])
    }

    func testSeedsClassesAndTheBiasFreeModelPassAllChecks() throws {
        for name in ["mininet", "mininet-nobias"] {
            let classifier = try Self.model(name)
            for seed in UInt64(0)..<4 {
                for target in classifier.classNames.indices {
                    let notebook = try LRPRulesLesson.build(LessonContext(classifier: classifier, targetClass: target, seed: seed))
                    XCTAssertTrue(notebook.allChecksPass, "\(name) seed \(seed) class \(target):\n\(failures(notebook))")
                }
            }
        }
        XCTAssertThrowsError(try LRPRulesLesson.build(LessonContext(classifier: try Self.model("mininet"), targetClass: 3)))
        XCTAssertThrowsError(try LRPRulesLesson.build(LessonContext(classifier: try Self.model("mininet"), layer: "nope")))
    }

    /// The checks of the "why" step are not true of every rule: αβ puts more negative relevance
    /// on the pixels than leaves the linear layer, and its relevance is not z⁺'s.
    func testTheWhyChecksSeparateTheRules() throws {
        let classifier = try Self.model("mininet")
        let input = classifier.normalize(LessonContext(classifier: classifier).pictureOrDefault(imageSize: 32))
        let logits = classifier.forward(input.reshaped([1, 3, 32, 32])).data
        let c = Tensor(shape: [logits.count], data: logits).argmax
        let results = try layerwiseRelevance(classifier: classifier, input: input, target: c, ruleMaps: [
            LRPRulesLesson.withConvolutionRule(.zPlus), LRPRulesLesson.withConvolutionRule(.alpha2Beta1)])
        let plus = LRPRulesLesson.Run(label: "z⁺", result: results[0])
        let alphaBeta = LRPRulesLesson.Run(label: "αβ", result: results[1])
        let head = try XCTUnwrap(classifier.network.allLayers.last { $0 is Linear }?.name)
        for run in [plus, alphaBeta] {
            let top = try XCTUnwrap(run.result.steps.first { $0.layer == head })
            let negativeAtTop = -(try XCTUnwrap(top.relevance)).data.reduce(0) { $0 + Double(min($1, 0)) }
            XCTAssertEqual(LRPRulesLesson.negativeRelevance(top), negativeAtTop, accuracy: 1e-12 * max(1, top.relevanceMagnitude))
            let bound = negativeAtTop + run.result.conservationTolerance(classifier: classifier, input: input).value
            if run.label == "z⁺" {
                XCTAssertLessThanOrEqual(-run.negative, bound)
            } else {
                XCTAssertGreaterThan(-run.negative, bound, "αβ creates negative relevance below the linear layer")
            }
        }
        XCTAssertNotEqual(alphaBeta.result.relevance, plus.result.relevance)
        // The composites' maps are the ones the lesson builds by hand.
        XCTAssertEqual(LRPComposite.epsilonPlus().ruleMap, LRPRulesLesson.withConvolutionRule(.zPlus))
        XCTAssertEqual(LRPComposite.epsilonAlpha2Beta1().ruleMap, LRPRulesLesson.withConvolutionRule(.alpha2Beta1))
        XCTAssertEqual(LRPComposite.epsilon().ruleMap, LRPRulesLesson.withConvolutionRule(.epsilon(LRPComposite.defaultEpsilon)))
    }

    func testResNetBuilds() throws {
        let notebook = try LRPRulesLesson.build(ResNetLessonTests.context("resnet18-narrow.safetensors"))
        XCTAssertTrue(notebook.allChecksPass, failures(notebook))
        // No z⁺ bound on a ResNet (residual sums can flip signs): one check fewer.
        XCTAssertEqual(notebook.checks.count, 7)
        let terminal = TerminalRenderer(color: false).render(notebook)
        XCTAssertFalse(terminal.contains("⟦"), terminal)
        XCTAssertTrue(terminal.contains("layer4"), terminal)
    }
    /// As ResNetLessonTests does for every lesson: the narrow ResNets under every arithmetic
    /// variant, every check passing and catching its planted bugs.
    func testTheNarrowResNetsPassAndCatchBrokenIdentities() throws {
        try forEachArithmeticVariant { variant in
            for file in ["resnet18-narrow.safetensors", "resnet34-narrow.pth", "resnet50-narrow.pth"] {
                let notebook = try LRPRulesLesson.build(ResNetLessonTests.context(file))
                XCTAssertTrue(notebook.allChecksPass, "\(variant) \(file):\n\(failures(notebook))")
                let room = CheckMutations.assertChecksCatchBugs(notebook, "\(variant) \(file) lrprules")
                print("room used: \(variant) \(file) lrprules \(String(format: "%.3g", room))")
            }
        }
    }
}

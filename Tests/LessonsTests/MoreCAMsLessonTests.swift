import Foundation
import XCTest
import MiniNet
@testable import Lessons

/// The lesson "morecams": Grad-CAM++ from Y = exp(S), HiResCAM = Grad-CAM at the last layer,
/// where the methods part, and every CAM method of the registry on one picture.
final class MoreCAMsLessonTests: XCTestCase {
    static func model(_ name: String) throws -> ImageClassifier { try IntroCAMGradCAMLessonTests.model(name) }

    func failures(_ notebook: Notebook) -> String {
        notebook.checks.filter { !$0.ok }
            .map { "\($0.name): \($0.leftLabel)=\($0.left) \($0.rightLabel)=\($0.right) residual \($0.residual) tol \($0.tolerance) \($0.note ?? "")" }
            .joined(separator: "\n")
    }

    func testDefaultContextPassesAllChecksAndCatchesBrokenIdentities() throws {
        try forEachArithmeticVariant { variant in
            let context = LessonContext(classifier: try Self.model("mininet"), biasFreeClassifier: try Self.model("mininet-nobias"))
            let notebook = try MoreCAMsLesson.build(context)
            XCTAssertTrue(notebook.allChecksPass, "\(variant):\n\(failures(notebook))")
            XCTAssertEqual(notebook.checks.count, 12, "\(variant)")
            CheckMutations.assertChecksCatchBugs(notebook, "\(variant) morecams")
        }
    }

    func testStepsHaveStableIDs() throws {
        let notebook = try MoreCAMsLesson.build(LessonContext(classifier: try Self.model("mininet")))
        XCTAssertEqual(notebook.steps.compactMap(\.id), ["morecams.family", "morecams.plusplus", "morecams.derivatives", "morecams.last",
                                                         "morecams.earlier", "morecams.scene", "morecams.table"])
    }

    func testSeedsClassesAndTheBiasFreeModelPassAllChecks() throws {
        for name in ["mininet", "mininet-nobias"] {
            let classifier = try Self.model(name)
            for seed in UInt64(0)..<4 {
                for target in [nil] + classifier.classNames.indices.map(Optional.some) {
                    let notebook = try MoreCAMsLesson.build(LessonContext(classifier: classifier, targetClass: target, seed: seed))
                    XCTAssertTrue(notebook.allChecksPass, "\(name) seed \(seed) class \(String(describing: target)):\n\(failures(notebook))")
                }
            }
        }
    }

    /// --layer chooses the earlier layer; the derivations stay at the last one.
    func testTheChosenLayerIsTheEarlierOne() throws {
        let classifier = try Self.model("mininet")
        for layer in ["features.2", "features.6"] {
            let notebook = try MoreCAMsLesson.build(LessonContext(classifier: classifier, layer: layer))
            XCTAssertTrue(notebook.allChecksPass, "\(layer):\n\(failures(notebook))")
            let earlier = try XCTUnwrap(notebook.step(id: "morecams.earlier"))
            let prose = earlier.cells.compactMap { cell -> String? in if case let .prose(text) = cell { return text } else { return nil } }
            XCTAssertTrue(prose.joined().contains("`\(layer)`"), layer)
        }
        XCTAssertThrowsError(try MoreCAMsLesson.build(LessonContext(classifier: classifier, layer: "features.99"))) { error in
            XCTAssertTrue("\(error)".contains("no layer named"), "\(error)")
        }
        XCTAssertThrowsError(try MoreCAMsLesson.build(LessonContext(classifier: classifier, targetClass: 7))) { error in
            XCTAssertTrue("\(error)".contains("out of range"), "\(error)")
        }
    }

    /// The derivatives of S along one cell are those of a linear function (S″ = S‴ = 0 up to
    /// rounding), and the coefficient a from them equals the powers of g. Planted bugs: g² for g³,
    /// the mean of A for its sum, and the derivatives of S instead of Y = exp(S) all miss the
    /// check's tolerance by far.
    func testTheCoefficientCheckCatchesTheWrongPowerAndTheWrongOutput() throws {
        let classifier = try Self.model("mininet")
        let context = LessonContext(classifier: classifier)
        let input = classifier.normalize(context.pictureOrDefault(imageSize: 32))
        let layer = classifier.defaultCAMLayer
        let logits = classifier.forward(input.reshaped([1, 3, 32, 32])).data
        let c = Tensor(shape: [logits.count], data: logits).argmax
        let probe = try LayerProbe(classifier: classifier, input: input, layer: layer, target: .logit(c))
        let derivatives = try MoreCAMsLesson.channelDerivatives(classifier: classifier, probe: probe, layer: layer, target: c,
                                                                input: input, cell: 27)
        XCTAssertGreaterThan(derivatives.count, 3)
        for d in derivatives {
            XCTAssertLessThanOrEqual(abs(d.second), d.secondBound, "channel \(d.channel): S″")
            XCTAssertLessThanOrEqual(abs(d.third), d.thirdBound, "channel \(d.channel): S‴")
            XCTAssertLessThanOrEqual(abs(d.first - d.gradient), d.firstBound + 4 * Tolerance.unitRoundoff * d.gradient, "channel \(d.channel): S′")
            XCTAssertLessThanOrEqual(abs(d.coefficientFromDerivatives - d.coefficientFromPowers), d.coefficientBound)
            // a = 1/(2 + g ΣA): the cube forgotten (g² in place of g³), or the mean of A for its sum.
            let g = d.gradient
            let squareForCube = g * g / (2 * g * g + d.activationSum * g * g)
            let meanForSum = g * g / (2 * g * g + d.activationSum / Double(probe.activations.shape[1] * probe.activations.shape[2]) * g * g * g)
            for (name, wrong) in [("g² for g³", squareForCube), ("mean for ΣA", meanForSum)] {
                XCTAssertGreaterThan(abs(wrong - d.coefficientFromDerivatives), 10 * d.coefficientBound, "channel \(d.channel): \(name)")
            }
            // Without the exponential, ∂²Y = S″ and ∂³Y = S‴: a is rounding over rounding, nowhere near.
            let withoutExponential = d.second / (2 * d.second + d.activationSum * d.third)
            XCTAssertFalse(abs(withoutExponential - d.coefficientFromPowers) <= d.coefficientBound, "channel \(d.channel)")
        }
    }

    /// On the ImageNet ResNets (no masks): the photo and its two most likely classes.
    func testResNetBuildsWithThePhotoTable() throws {
        let notebook = try MoreCAMsLesson.build(ResNetLessonTests.context("resnet18-narrow.safetensors"))
        XCTAssertTrue(notebook.allChecksPass, failures(notebook))
        XCTAssertEqual(notebook.steps.compactMap(\.id).count, 7)
        let markdown = try MarkdownRenderer(imageDirectory: NSTemporaryDirectory() + "morecams-\(UUID().uuidString)").render(notebook)
        XCTAssertTrue(markdown.contains("peak of the map of"), markdown)
        // A photo network leaves Score-CAM out (one pass of the whole network per channel) and
        // says so, with the flag that puts it back.
        let table = try XCTUnwrap(notebook.step(id: "morecams.table"))
        XCTAssertFalse(table.cells.contains { if case let .check(check) = $0 { return check.name.contains("Score-CAM") } else { return false } })
        XCTAssertTrue(markdown.contains("--every-pass"), markdown)
        XCTAssertFalse(table.cells.contains { if case let .table(_, _, rows, _) = $0 { return rows.contains { $0.first == "scorecam" } } else { return false } })
    }

    /// With --every-pass a photo network gets every method, Score-CAM's softmax check included,
    /// and Score-CAM and Ablation-CAM at the earlier layer; the methods that ran either way
    /// give the same maps, as each shared probe is what the method would have made itself.
    func testEveryPassPutsScoreCAMBackAndChangesNothingElse() throws {
        var context = try ResNetLessonTests.context("resnet18-narrow.safetensors")
        let trimmed = try MoreCAMsLesson.build(context)
        context.everyPass = true
        let full = try MoreCAMsLesson.build(context)
        XCTAssertTrue(full.allChecksPass, failures(full))
        XCTAssertGreaterThan(full.checks.count, trimmed.checks.count)
        XCTAssertTrue(full.checks.contains { $0.name.contains("Score-CAM") }, full.checks.map(\.name).joined(separator: "\n"))
        let markdown = try MarkdownRenderer(imageDirectory: NSTemporaryDirectory() + "morecams-\(UUID().uuidString)").render(full)
        XCTAssertFalse(markdown.contains("--every-pass"), markdown)
        // Every check of the trimmed page is on the full one (the pipeline's counts one map more).
        let fullNames = Set(full.checks.map(\.name))
        let missing = trimmed.checks.map(\.name).filter { !fullNames.contains($0) }
        XCTAssertEqual(missing.count, 1, missing.joined(separator: "\n"))
        XCTAssertTrue(missing.allSatisfy { $0.contains("one pipeline") }, missing.joined(separator: "\n"))
    }

    func testEveryRendererAndNoMissingText() throws {
        let notebook = try MoreCAMsLesson.build(LessonContext(classifier: try Self.model("mininet")))
        let terminal = TerminalRenderer(color: false).render(notebook)
        XCTAssertFalse(terminal.contains("⟦"), terminal)
        XCTAssertFalse(try JSONRenderer().render(notebook).isEmpty)
    }
    /// As ResNetLessonTests does for every lesson: the narrow ResNets under every arithmetic
    /// variant, every check passing and catching its planted bugs.
    func testTheNarrowResNetsPassAndCatchBrokenIdentities() throws {
        try forEachArithmeticVariant { variant in
            for file in ["resnet18-narrow.safetensors", "resnet34-narrow.pth", "resnet50-narrow.pth"] {
                let notebook = try MoreCAMsLesson.build(ResNetLessonTests.context(file))
                XCTAssertTrue(notebook.allChecksPass, "\(variant) \(file):\n\(failures(notebook))")
                let room = CheckMutations.assertChecksCatchBugs(notebook, "\(variant) \(file) morecams")
                print("room used: \(variant) \(file) morecams \(String(format: "%.3g", room))")
            }
        }
    }
}

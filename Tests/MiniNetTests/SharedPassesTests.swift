import Foundation
import XCTest
import MiniNet

/// `explain(input:layer:targets:)` runs Score-CAM's masked inputs and Ablation-CAM's ablated
/// copies once for every target: each result must be the one a call per target gives.
final class SharedPassesTests: XCTestCase {
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().path

    func testSeveralTargetsAtOnceEqualOneCallPerTarget() throws {
        let classifier = try ImageClassifier.load(from: Self.repositoryRoot + "/models/mininet.safetensors")
        let picture = ShapesDataset(count: 8, seed: 2026, imageSize: classifier.inputSize[1]).sample(at: 5).image
        let input = classifier.normalize(picture)
        let layer = classifier.defaultCAMLayer
        let targets: [ExplanationTarget] = [.logit(0), .logit(2), .probability(1)]
        let methods: [ClassActivationMapMethod] = [ScoreCAM(classifier: classifier), AblationCAM(classifier: classifier),
                                                   GradCAM(classifier: classifier)]
        for method in methods {
            let together = try method.explain(input: input, layer: layer, targets: targets)
            XCTAssertFalse(method.isSharingPasses, "\(method.name): sharing ends with the call")
            XCTAssertEqual(together.count, targets.count)
            for (target, result) in zip(targets, together) {
                let alone = try method.explain(input: input, layer: layer, target: target)
                // The same passes on the same data, read at another logit: the same bits.
                XCTAssertEqual(result.weights, alone.weights, "\(method.name), \(target)")
                XCTAssertEqual(result.map, alone.map, "\(method.name), \(target)")
                XCTAssertEqual(result.score, alone.score, "\(method.name), \(target)")
            }
        }
    }

    /// One probe shared by every CAM variant of the registry (as the morecams lesson does) gives
    /// each the bits its own probe gives; a probe without gradients is refused where they are read.
    func testASharedProbeGivesWhatEachMethodsOwnProbeGives() throws {
        let classifier = try ImageClassifier.load(from: Self.repositoryRoot + "/models/mininet.safetensors")
        let picture = ShapesDataset(count: 8, seed: 2026, imageSize: classifier.inputSize[1]).sample(at: 3).image
        let input = classifier.normalize(picture)
        let layer = classifier.defaultCAMLayer
        let targets: [ExplanationTarget] = [.logit(1), .probability(2)]
        let probes = try targets.map { try LayerProbe(classifier: classifier, input: input, layer: layer, target: $0) }
        for explainer in ExplainerRegistry.all.compactMap({ $0 as? CAMFamilyExplainer }) {
            let method = explainer.method(classifier)
            let shared = try method.explain(input: input, probes: probes)
            for (target, result) in zip(targets, shared) {
                let alone = try method.explain(input: input, layer: layer, target: target)
                XCTAssertEqual(result.layer, layer)
                XCTAssertEqual(result.target, target)
                XCTAssertEqual(result.weights, alone.weights, "\(explainer.id), \(target)")
                XCTAssertEqual(result.map, alone.map, "\(explainer.id), \(target)")
            }
        }
        let forwardOnly = try LayerProbe(classifier: classifier, input: input, layer: layer, target: .logit(1), backward: false)
        XCTAssertThrowsError(try GradCAM(classifier: classifier).explain(input: input, probe: forwardOnly))
        XCTAssertNoThrow(try EigenCAM(classifier: classifier).explain(input: input, probe: forwardOnly))
    }
    /// Gradient methods sharing one forward pass (`SharedGradientPass`) give, each, the bits its
    /// explainer gives alone: with a CAM's probe and without one, on the small CNN and a ResNet.
    func testGradientMethodsSharingOnePassEqualEachAlone() throws {
        let small = try ImageClassifier.load(from: Self.repositoryRoot + "/models/mininet.safetensors")
        let smallInput = small.normalize(ShapesDataset(count: 8, seed: 2026, imageSize: small.inputSize[1]).sample(at: 4).image)
        let resNet = try SanityCheckTests.narrowResNet18()
        let resNetInput = try NumpyFile.read(from: try XCTUnwrap(Bundle.module.url(forResource: "input", withExtension: "npy",
                                                                                   subdirectory: "Fixtures/resnet")).path)
        let groups = [["gradcam", "saliency", "input-x-gradient", "guided-backprop"], ["saliency", "guided-backprop"],
                      ["gradcam++", "guided-backprop"], ["input-x-gradient", "gradcam"]]
        for (classifier, input) in [(small, smallInput), (resNet, resNetInput.rank == 4 ? resNetInput.slice(0) : resNetInput)] {
            for ids in groups {
                let explainers = try ids.map { try XCTUnwrap(ExplainerRegistry.explainer(id: $0)) }
                XCTAssertTrue(SharedGradientPass.serves(explainers), "\(ids)")
                let settings = ExplainerSettings()
                let together = try SharedGradientPass.explain(explainers, input: input, classifier: classifier, target: .logit(2), settings: settings)
                for (explainer, shared) in zip(explainers, together) {
                    let alone = try explainer.explain(input, classifier: classifier, target: .logit(2), settings: settings)
                    let label = "\(explainer.id) with \(ids)"
                    XCTAssertEqual(shared.method, alone.method, label)
                    XCTAssertEqual(shared.score.bitPattern, alone.score.bitPattern, label)
                    XCTAssertEqual(shared.logits.map(\.bitPattern), alone.logits.map(\.bitPattern), label)
                    XCTAssertEqual(shared.raw.data.map(\.bitPattern), alone.raw.data.map(\.bitPattern), label)
                    XCTAssertEqual(shared.heatmap.data.map(\.bitPattern), alone.heatmap.data.map(\.bitPattern), label)
                    XCTAssertEqual(shared.figures.map(\.value), alone.figures.map(\.value), label)
                    XCTAssertEqual(shared.layer, alone.layer, label)
                }
            }
        }
        let ig = try XCTUnwrap(ExplainerRegistry.explainer(id: "ig"))
        let gradCAM = try XCTUnwrap(ExplainerRegistry.explainer(id: "gradcam"))
        XCTAssertFalse(SharedGradientPass.serves([gradCAM]), "one method has nothing to share")
        XCTAssertFalse(SharedGradientPass.serves([gradCAM, ig]), "Integrated Gradients runs passes of its own")
    }
}

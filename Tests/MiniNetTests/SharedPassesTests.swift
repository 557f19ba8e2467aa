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
}

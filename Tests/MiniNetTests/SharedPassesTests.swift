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
}

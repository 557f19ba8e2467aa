import Foundation
import XCTest
@testable import MiniNet

/// The sanity checks: the order of the cascade, the re-initialisation rule, SSIM on hand-made
/// examples, that the classifier is left as it was, and that results depend neither on the
/// other inputs nor on the thread count.
final class SanityCheckTests: XCTestCase {
    static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    static func smallCNN() throws -> ImageClassifier {
        try ImageClassifier.load(from: repositoryRoot.appendingPathComponent("models/mininet.safetensors").path)
    }

    static func narrowResNet18() throws -> ImageClassifier {
        let path = try XCTUnwrap(Bundle.module.url(forResource: "resnet18-narrow", withExtension: "safetensors", subdirectory: "Fixtures/resnet")).path
        return try PretrainedResNet.load(from: path, variant: .resnet18, imageSize: 64)
    }

    /// Three shapes pictures, normalised for the small CNN, with their true classes as targets.
    static func pictures(for classifier: ImageClassifier) -> (inputs: [Tensor], targets: [ExplanationTarget]) {
        let data = ShapesDataset(count: 3, seed: 777)
        let samples = (0..<3).map(data.sample(at:))
        return (samples.map { classifier.normalize($0.image) }, samples.map { .logit($0.label) })
    }

    /// Every parameter and buffer, by name.
    static func state(_ classifier: ImageClassifier) -> [String: Tensor] {
        Dictionary(classifier.stateDict, uniquingKeysWith: { first, _ in first })
    }

    // MARK: the steps

    func testTheCascadeGoesFromTheHeadDownToTheFirstConvolution() throws {
        let small = try Self.smallCNN()
        XCTAssertEqual(SanityChecks.cascade(of: small).map(\.name),
                       ["classifier", "features.9", "features.8", "features.5", "features.4", "features.1", "features.0"])
        let resnet = try Self.narrowResNet18()
        let blocks = SanityChecks.cascade(of: resnet, granularity: .blocks)
        XCTAssertEqual(blocks.map(\.name), ["fc", "layer4.1", "layer4.0", "layer3.1", "layer3.0", "layer2.1", "layer2.0",
                                            "layer1.1", "layer1.0", "bn1", "conv1"])
        XCTAssertEqual(blocks[2].layers, ["layer4.0.conv1", "layer4.0.bn1", "layer4.0.conv2", "layer4.0.bn2",
                                          "layer4.0.downsample.0", "layer4.0.downsample.1"])
        let stages = SanityChecks.cascade(of: resnet, granularity: .stages)
        XCTAssertEqual(stages.map(\.name), ["fc", "layer4", "layer3", "layer2", "layer1", "conv1 + bn1"])
        XCTAssertEqual(stages[5].layers, ["conv1", "bn1"])
        XCTAssertEqual(stages[1].layers, blocks[2].layers + blocks[1].layers)
        // Every granularity re-initialises the same layers in the end.
        XCTAssertEqual(Set(blocks.flatMap(\.layers)), Set(SanityChecks.cascade(of: resnet).flatMap(\.layers)))
        XCTAssertEqual(Set(stages.flatMap(\.layers)), Set(blocks.flatMap(\.layers)))
    }

    // MARK: re-initialising

    /// Running the rule over the layers in order with the generator `Trainer.initialize` uses
    /// gives exactly its weights: the two are the same initialiser.
    func testReinitialisingEveryLayerInOrderIsTrainerInitialize() throws {
        let spec = ModelSpec.miniNet(classNames: ShapesDataset.classNames)
        let trained = try ImageClassifier(spec: spec)
        Trainer.initialize(trained, seed: 9)
        let rebuilt = try ImageClassifier(spec: spec)
        var generator = SeededGenerator(seed: 9, stream: 1)
        for layer in rebuilt.network.allLayers { SanityChecks.reinitialise(layer, generator: &generator) }
        XCTAssertEqual(Self.state(rebuilt), Self.state(trained))
    }

    func testALayersRandomWeightsDependOnlyOnTheSeedAndItsName() throws {
        let first = try Self.smallCNN(), second = try Self.smallCNN()
        for layer in SanityChecks.cascade(of: second).flatMap(\.layers).reversed() {
            SanityChecks.reinitialise(try XCTUnwrap(second.layer(named: layer)), seed: 5)   // bottom-up, all of them
        }
        let head = try XCTUnwrap(first.layer(named: "classifier") as? Linear)
        SanityChecks.reinitialise(head, seed: 5)
        XCTAssertEqual(head.weight.value, (second.layer(named: "classifier") as? Linear)?.weight.value)
        XCTAssertEqual(head.bias?.value, Tensor(zeros: [3]))
        SanityChecks.reinitialise(head, seed: 6)
        XCTAssertNotEqual(head.weight.value, (second.layer(named: "classifier") as? Linear)?.weight.value)
        XCTAssertEqual(SanityChecks.stream(ofLayerNamed: ""), 0xcbf2_9ce4_8422_2325)
        XCTAssertEqual(SanityChecks.stream(ofLayerNamed: "a"), 0xaf63_dc4c_8601_ec8c)   // FNV-1a's published value for "a"
    }

    func testBatchNormIsResetToAFreshLayer() throws {
        let classifier = try Self.smallCNN()
        let norm = try XCTUnwrap(classifier.layer(named: "features.1") as? BatchNorm2d)
        XCTAssertNotEqual(norm.runningVariance, Tensor(repeating: 1, shape: [8]), "the shipped network has trained statistics")
        SanityChecks.reinitialise(norm, seed: 1)
        let fresh = BatchNorm2d(channels: 8)
        XCTAssertEqual(norm.weight.value, fresh.weight.value)
        XCTAssertEqual(norm.bias.value, fresh.bias.value)
        XCTAssertEqual(norm.runningMean, fresh.runningMean)
        XCTAssertEqual(norm.runningVariance, fresh.runningVariance)
    }

    // MARK: the classifier is left as it was

    func testTheCascadeLeavesTheClassifierAsItWas() throws {
        let classifier = try Self.smallCNN()
        let (inputs, targets) = Self.pictures(for: classifier)
        let explainer = try XCTUnwrap(ExplainerRegistry.explainer(id: "gradcam"))
        let before = Self.state(classifier)
        let mapBefore = try explainer.explain(inputs[0], classifier: classifier, target: targets[0], settings: ExplainerSettings()).heatmap
        let result = try SanityChecks.cascadingRandomisation(classifier, explainer: explainer, inputs: inputs, targets: targets,
                                                             keepingHeatmaps: true)
        XCTAssertEqual(Self.state(classifier), before, "every parameter and buffer, bit for bit")
        let mapAfter = try explainer.explain(inputs[0], classifier: classifier, target: targets[0], settings: ExplainerSettings()).heatmap
        XCTAssertEqual(mapAfter, mapBefore)
        XCTAssertEqual(result.originalHeatmaps[0], mapBefore, "the cascade starts from the trained network's map")
        XCTAssertEqual(result.steps.count, 7)
        XCTAssertEqual(result.steps[0].heatmaps.count, 3)
    }

    /// An explainer that fails on its `failAt`-th call, to stop a cascade half-way.
    final class FailingExplainer: Explainer, @unchecked Sendable {
        let id = "failing", summary = "fails on purpose"
        let settings: Set<ExplainerSetting> = []
        let inner: any Explainer
        let failAt: Int
        var calls = 0
        init(_ inner: any Explainer, failAt: Int) { (self.inner, self.failAt) = (inner, failAt) }
        func explain(_ input: Tensor, classifier: ImageClassifier, target: ExplanationTarget, settings: ExplainerSettings) throws -> Explanation {
            calls += 1
            if calls == failAt { throw MiniNetError.invalidArgument("stopped on purpose") }
            return try inner.explain(input, classifier: classifier, target: target, settings: settings)
        }
    }

    func testTheClassifierIsUnchangedWhenTheCascadeStopsHalfWay() throws {
        let classifier = try Self.smallCNN()
        let (inputs, targets) = Self.pictures(for: classifier)
        let before = Self.state(classifier)
        let failing = FailingExplainer(try XCTUnwrap(ExplainerRegistry.explainer(id: "saliency")), failAt: 10)
        XCTAssertThrowsError(try SanityChecks.cascadingRandomisation(classifier, explainer: failing, inputs: inputs, targets: targets))
        XCTAssertEqual(failing.calls, 10)
        XCTAssertEqual(Self.state(classifier), before)
    }

    // MARK: independence of batch and threads

    func testEachInputsResultIsTheSameAloneOrWithOthers() throws {
        let classifier = try Self.smallCNN()
        let (inputs, targets) = Self.pictures(for: classifier)
        // Integrated Gradients runs its path points as one batch: a method with batched passes.
        let explainer = try XCTUnwrap(ExplainerRegistry.explainer(id: "ig"))
        var settings = ExplainerSettings()
        settings.steps = 8
        let together = try SanityChecks.cascadingRandomisation(classifier, explainer: explainer, inputs: inputs, targets: targets,
                                                               settings: settings)
        for index in inputs.indices {
            let alone = try SanityChecks.cascadingRandomisation(classifier, explainer: explainer, inputs: [inputs[index]],
                                                                targets: [targets[index]], settings: settings)
            XCTAssertEqual(alone.steps.map { $0.similarities[0] }, together.steps.map { $0.similarities[index] }, "input \(index)")
            XCTAssertEqual(alone.originalScores[0], together.originalScores[index])
        }
    }

    /// Several methods in one cascade give, each, the result of a cascade of its own.
    func testSeveralMethodsAtOnceEqualEachAlone() throws {
        let classifier = try Self.narrowResNet18()
        let input = try NumpyFile.read(from: try XCTUnwrap(Bundle.module.url(forResource: "input", withExtension: "npy", subdirectory: "Fixtures/resnet")).path)
        let explainers = try ["gradcam", "guided-backprop", "input-x-gradient"].map { try XCTUnwrap(ExplainerRegistry.explainer(id: $0)) }
        let together = try SanityChecks.cascadingRandomisation(classifier, explainers: explainers, inputs: [input], targets: [.logit(3)],
                                                               granularity: .blocks, keepingHeatmaps: true)
        XCTAssertEqual(together.map(\.method), explainers.map(\.id))
        for (explainer, shared) in zip(explainers, together) {
            let alone = try SanityChecks.cascadingRandomisation(classifier, explainer: explainer, inputs: [input], targets: [.logit(3)],
                                                                granularity: .blocks, keepingHeatmaps: true)
            XCTAssertEqual(shared.originalScores, alone.originalScores, explainer.id)
            XCTAssertEqual(shared.steps.map(\.scores), alone.steps.map(\.scores), explainer.id)
            XCTAssertEqual(shared.steps.map { $0.heatmaps.map(\.data) }, alone.steps.map { $0.heatmaps.map(\.data) }, explainer.id)
        }
    }

    func testTheResultDoesNotDependOnTheThreadCount() throws {
        let classifier = try Self.narrowResNet18()
        let input = try NumpyFile.read(from: try XCTUnwrap(Bundle.module.url(forResource: "input", withExtension: "npy", subdirectory: "Fixtures/resnet")).path)
        let explainer = try XCTUnwrap(ExplainerRegistry.explainer(id: "gradcam"))
        let run = {
            try SanityChecks.cascadingRandomisation(classifier, explainer: explainer, inputs: [input], targets: [.logit(3)], granularity: .blocks)
        }
        let one = try GemmTests.withThreads(1, run)
        let two = try GemmTests.withThreads(2, run)
        XCTAssertEqual(one.steps.map(\.similarities), two.steps.map(\.similarities))
        XCTAssertEqual(one.steps.map(\.scores), two.steps.map(\.scores))
    }

    // MARK: similarity

    func testAMapComparedWithItselfIsPerfectlySimilar() throws {
        let map = ControlMaps.random(height: 9, width: 11, seed: 1)
        let same = try Similarity.compare(map, map * 3)
        XCTAssertEqual(same.rankCorrelationOfAbsolute, 1)
        XCTAssertEqual(same.rankCorrelation, 1)
        XCTAssertEqual(same.structuralSimilarity, 1, accuracy: 1e-12, "a map scaled by 3 is the same map after normalising")
        let flipped = try Similarity.compare(map, map * -1)
        XCTAssertEqual(flipped.rankCorrelationOfAbsolute, 1, "|a| = |−a|")
        XCTAssertEqual(try XCTUnwrap(flipped.rankCorrelation), -1, accuracy: 1e-12)
        XCTAssertNil(try Similarity.compare(map, Tensor(zeros: [9, 11])).rankCorrelation, "ρ with a constant map is undefined")
    }

    func testSSIMOnHandMadeExamples() throws {
        let a = ControlMaps.random(height: 7, width: 7, seed: 1), b = ControlMaps.random(height: 7, width: 7, seed: 2)
        XCTAssertEqual(try Similarity.structuralSimilarity(a, a), 1, accuracy: 1e-12)
        XCTAssertEqual(try Similarity.structuralSimilarity(a, b), try Similarity.structuralSimilarity(b, a), accuracy: 1e-15)
        XCTAssertEqual(try Similarity.structuralSimilarity(Tensor(repeating: 2, shape: [8, 8]), Tensor(repeating: 2, shape: [8, 8])), 1)
        // One 7 × 7 window, by the formula: a constant image against b. μ_a = 0.5, σ_a = 0, L = 1,
        // so S = (2·0.5·μ_b + C₁)·C₂ / ((0.25 + μ_b² + C₁)(σ_b² + C₂)).
        let flat = Tensor(repeating: 0.5, shape: [7, 7])
        let range = Double(max(b.max, 0.5) - min(b.min, 0.5))
        let mean = b.mean(), n = 49.0
        let variance = b.data.map { (Double($0) - mean) * (Double($0) - mean) }.reduce(0, +) / (n - 1)
        let (c1, c2) = ((0.01 * range) * (0.01 * range), (0.03 * range) * (0.03 * range))
        let expected = (2 * 0.5 * mean + c1) * c2 / ((0.25 + mean * mean + c1) * (variance + c2))
        XCTAssertEqual(try Similarity.structuralSimilarity(flat, b), expected, accuracy: 1e-12)
        XCTAssertThrowsError(try Similarity.structuralSimilarity(Tensor(zeros: [6, 9]), Tensor(zeros: [6, 9])))
    }

    // MARK: data randomisation

    func testDataRandomisationComparesTheTwoNetworksMapsPerPicture() throws {
        let trained = try Self.smallCNN()
        let (inputs, targets) = Self.pictures(for: trained)
        let explainer = try XCTUnwrap(ExplainerRegistry.explainer(id: "saliency"))
        let itself = try SanityChecks.dataRandomisation(trained: trained, shuffledLabels: try SanityChecks.copy(of: trained),
                                                        explainer: explainer, inputs: inputs, targets: targets)
        XCTAssertEqual(itself.map(\.rankCorrelation), [1, 1, 1])
        // A stand-in for a network trained on shuffled labels: the same one with a random head.
        let other = try SanityChecks.copy(of: trained)
        SanityChecks.reinitialise(try XCTUnwrap(other.layer(named: "classifier")), seed: 1)
        let similarities = try SanityChecks.dataRandomisation(trained: trained, shuffledLabels: other, explainer: explainer,
                                                              inputs: inputs, targets: targets)
        XCTAssertEqual(similarities.count, 3)
        XCTAssertTrue(similarities.allSatisfy { $0.rankCorrelation! < 1 && $0.structuralSimilarity < 1 })

        let wider = try ImageClassifier(spec: .miniNet(classNames: ["a", "b", "c", "d"]))
        XCTAssertThrowsError(try SanityChecks.dataRandomisation(trained: trained, shuffledLabels: wider, explainer: explainer,
                                                                inputs: inputs, targets: targets))
    }

    /// Fractional ranks from sorted integer keys are the ranks of sorting indices by value:
    /// ties (many zeros, −0 among them) share the mean of their ranks.
    func testFractionalRanksByKeysAreTheRanksByValue() {
        XCTAssertEqual(fractionalRanks([10, 20, 20, 5]), [2, 3.5, 3.5, 1])
        XCTAssertEqual(fractionalRanks([0, -0.0, 1, -1, 0]), [3, 3, 5, 1, 3])
        var generator = SeededGenerator(seed: 9)
        let values: [Float] = (0..<5000).map { _ in
            let value = (generator.uniform(-1, 1) * 8).rounded() / 8      // many ties
            return value == 0 && generator.nextUniform() < 0.5 ? -0.0 : value
        }
        let order = values.indices.sorted { values[$0] < values[$1] }
        var expected = [Double](repeating: 0, count: values.count)
        var start = 0
        while start < order.count {
            var end = start
            while end + 1 < order.count && values[order[end + 1]] == values[order[start]] { end += 1 }
            for position in start...end { expected[order[position]] = Double(start + end) / 2 + 1 }
            start = end + 1
        }
        XCTAssertEqual(fractionalRanks(values), expected)
        XCTAssertEqual(fractionalRanks([]), [])
    }

    /// The radix sort under the ranks is `sorted()` for keys above their positions: every byte
    /// of the high half varying, only the lowest varying (the skipped passes), or none.
    func testTheRadixSortOfRankKeysIsSorted() {
        var generator = SeededGenerator(seed: 3)
        let spreads: [(UInt64) -> UInt64] = [{ $0 }, { $0 & 0xFF }, { _ in 7 }, { $0 & 0xFF00_0000 }]
        for spread in spreads {
            let keys = (0..<3000).map { index -> UInt64 in
                spread(generator.next() >> 32) << 32 | UInt64(index)
            }
            XCTAssertEqual(sortedByRadix(keys), keys.sorted())
        }
        XCTAssertEqual(sortedByRadix([]), [])
    }
}

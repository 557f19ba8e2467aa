import XCTest
@testable import MiniNet

/// `layerwiseRelevance(…ruleMaps:)` merges BatchNorm and records the forward pass once for all
/// its rule maps, which then walk the network together, sharing the runs of the parts their
/// rules have in common; each result must be bit for bit the one a call of its own gives,
/// ledger included, because no rule changes what the recording holds and a shared run is the
/// run the map would have made. A map that sends all of R into the residual bodies (and so
/// skips the shortcuts the others visit) is among them.
final class SharedLRPRecordingTests: XCTestCase {
    func ruleMaps(for classifier: ImageClassifier) throws -> [LRPRuleMap] {
        try LRPComposite.ids.map { try LRPComposite.named($0, for: classifier).ruleMap }
            + [LRPRuleMap(linear: .gamma(0.25)), LRPRuleMap(linear: try .alphaBeta(alpha: 1, beta: 0)),
               LRPRuleMap(linear: .epsilon(0.01), batchNormPassThrough: true, residualBodyOnly: true)]
    }

    func assertSharedEqualsSeparate(_ classifier: ImageClassifier, _ input: Tensor, maps: [LRPRuleMap]? = nil,
                                    file: StaticString = #filePath, line: UInt = #line) throws {
        let logits = classifier.forward(input.reshaped([1] + input.shape))
        let target = logits.argmax
        let maps = try maps ?? ruleMaps(for: classifier)
        let shared = try layerwiseRelevance(classifier: classifier, input: input, target: target, ruleMaps: maps)
        XCTAssertEqual(shared.count, maps.count, file: file, line: line)
        for (map, together) in zip(maps, shared) {
            let alone = try layerwiseRelevance(classifier: classifier, input: input, target: target, ruleMap: map)
            XCTAssertEqual(together.relevance.data, alone.relevance.data, file: file, line: line)
            XCTAssertEqual(together.score, alone.score, file: file, line: line)
            XCTAssertEqual(together.steps.map(\.layer), alone.steps.map(\.layer), file: file, line: line)
            XCTAssertEqual(together.steps.map(\.absorbedByBias), alone.steps.map(\.absorbedByBias), file: file, line: line)
            XCTAssertEqual(together.steps.map(\.absorbedByStabilizer), alone.steps.map(\.absorbedByStabilizer), file: file, line: line)
            XCTAssertEqual(together.steps.map(\.termMagnitude), alone.steps.map(\.termMagnitude), file: file, line: line)
            XCTAssertEqual(together.sums.keys.sorted(), alone.sums.keys.sorted(), file: file, line: line)
            for (layer, sums) in together.sums {
                XCTAssertTrue(sums == alone.sums[layer] ?? (.nan, .nan), "\(layer)", file: file, line: line)
            }
        }
    }

    func testSharedRecordingOnTheSmallCNN() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let classifier = try ImageClassifier.load(from: root.appendingPathComponent("models/mininet.safetensors").path)
        let sample = ShapesDataset(count: 4, seed: 2026, imageSize: classifier.inputSize[1]).sample(at: 1)
        try assertSharedEqualsSeparate(classifier, classifier.normalize(sample.image))
    }

    func testSharedRecordingOnANarrowResNet18() throws {
        let (classifier, input) = try CAMMethodsParityTests.narrowResNet(.resnet18)
        try assertSharedEqualsSeparate(classifier, input)
    }

    /// The merged network is made once and kept while the weights and the running statistics
    /// stay as they were; any change to either makes it again, and LRP then follows the change.
    func testTheMergedNetworkIsKeptUntilTheNetworkChanges() throws {
        let (classifier, input) = try CAMMethodsParityTests.narrowResNet(.resnet18)
        let first = try classifier.mergedBatchNorm()
        XCTAssertTrue(first === (try classifier.mergedBatchNorm()))
        XCTAssertFalse(first === (try classifier.mergedBatchNorm(leavingNeutral: true)))
        let target = classifier.forward(input.reshaped([1] + input.shape)).argmax
        let before = try layerwiseRelevance(classifier: classifier, input: input, target: target, rule: .epsilon(1e-6))

        let conv = try XCTUnwrap(classifier.network.allLayers.compactMap { $0 as? Conv2d }.first)
        for index in stride(from: 0, to: conv.weight.value.count, by: 3) { conv.weight.value.data[index] *= -1 }
        let afterWeight = try classifier.mergedBatchNorm()
        XCTAssertFalse(first === afterWeight)
        let changed = try layerwiseRelevance(classifier: classifier, input: input, target: target, rule: .epsilon(1e-6))
        let fresh = try layerwiseRelevance(classifier: classifier, input: input, target: target,
                                           ruleMap: LRPRuleMap(linear: .epsilon(1e-6)))
        XCTAssertEqual(changed.relevance.data, fresh.relevance.data)
        XCTAssertNotEqual(changed.relevance.data, before.relevance.data)

        let norm = try XCTUnwrap(classifier.network.allLayers.compactMap { $0 as? BatchNorm2d }.last)
        norm.runningMean.data[0] += 0.25
        XCTAssertFalse(afterWeight === (try classifier.mergedBatchNorm()))
        let merged = try mergingBatchNorm(classifier.network)
        let kept = try classifier.mergedBatchNorm()
        let batch = input.reshaped([1] + input.shape)
        XCTAssertEqual(kept.forward(batch).data, merged.forward(batch).data)
    }

    func testNoRuleMapsGiveNoResults() throws {
        let (classifier, input) = try CAMMethodsParityTests.narrowResNet(.resnet18)
        XCTAssertTrue(try layerwiseRelevance(classifier: classifier, input: input, target: 0, ruleMaps: []).isEmpty)
    }

    /// The lrprules lesson's maps, whose walks share backward passes (equal shares bit for bit:
    /// z⁺ and αβ with β = 0, γ and EpsilonGammaBox above the first layer), skip αβ's term of
    /// coefficient 0, and take the layer itself for γ = 0 on a⁺ = a: each still bit for bit alone.
    func testMapsThatShareBackwardPassesGiveWhatEachGivesAlone() throws {
        let (classifier, input) = try CAMMethodsParityTests.narrowResNet(.resnet18)
        let epsilon = LRPRule.epsilon(LRPRule.defaultStabilizer)
        func onConvolutions(_ rule: LRPRule) -> LRPRuleMap {
            LRPRuleMap(convolution: rule, dense: .epsilon(LRPComposite.defaultEpsilon), averagePool: epsilon, residualSum: epsilon)
        }
        let maps = [LRPComposite.epsilonPlus().ruleMap, onConvolutions(try .alphaBeta(alpha: 1, beta: 0)),
                    onConvolutions(.gamma(0)), onConvolutions(.gamma(0.25)),
                    try LRPComposite.named("epsilon-gamma-box", for: classifier, gamma: 0.25).ruleMap,
                    LRPComposite.epsilonPlusFlat().ruleMap]
        try assertSharedEqualsSeparate(classifier, input, maps: maps)
        let target = classifier.forward(input.reshaped([1] + input.shape)).argmax
        let results = try layerwiseRelevance(classifier: classifier, input: input, target: target, ruleMaps: maps)
        XCTAssertEqual(results[0].relevance.data, results[1].relevance.data, "αβ (1, 0) is z⁺")
    }

    /// Keeping only each layer's totals changes nothing else: the same relevance, the same
    /// ledger, and each step's Σ|R| is the one of the tensor a kept run holds.
    func testTotalsAloneGiveTheSameLedger() throws {
        let (classifier, input) = try CAMMethodsParityTests.narrowResNet(.resnet18)
        let target = classifier.forward(input.reshaped([1] + input.shape)).argmax
        let maps = try ruleMaps(for: classifier)
        let kept = try layerwiseRelevance(classifier: classifier, input: input, target: target, ruleMaps: maps)
        let totals = try layerwiseRelevance(classifier: classifier, input: input, target: target, ruleMaps: maps,
                                            keepingLayerRelevance: false)
        for (full, light) in zip(kept, totals) {
            XCTAssertEqual(full.relevance.data, light.relevance.data)
            XCTAssertEqual(full.steps.map(\.layer), light.steps.map(\.layer))
            XCTAssertEqual(full.steps.map(\.relevanceAtInput), light.steps.map(\.relevanceAtInput))
            XCTAssertEqual(full.steps.map(\.relevanceMagnitude), light.steps.map(\.relevanceMagnitude))
            XCTAssertEqual(full.steps.map { $0.relevance?.magnitudeSum() }, full.steps.map(\.relevanceMagnitude))
            XCTAssertTrue(light.steps.allSatisfy { $0.relevance == nil })
            XCTAssertEqual(full.conservationTolerance(classifier: classifier, input: input).value,
                           light.conservationTolerance(classifier: classifier, input: input).value)
        }
    }

    func testSameBitsTellsSignedZerosAndShapesApart() {
        XCTAssertTrue(Tensor(shape: [2], data: [1, .nan]).hasSameBits(as: Tensor(shape: [2], data: [1, .nan])))
        XCTAssertFalse(Tensor(shape: [2], data: [1, 0]).hasSameBits(as: Tensor(shape: [2], data: [1, -0.0])))
        XCTAssertFalse(Tensor(shape: [2], data: [1, 2]).hasSameBits(as: Tensor(shape: [1, 2], data: [1, 2])))
        XCTAssertTrue(Tensor(zeros: [0]).hasSameBits(as: Tensor(zeros: [0])))
    }
}

import Foundation
import XCTest
import MiniNet

/// MiniNet's faithfulness metrics against the references, on the shipped small CNN (the
/// two-shapes picture) and the narrow ResNet-18 (Fixtures/resnet/input.npy). The fixtures
/// Fixtures/evaluation-faith/faithfulness-<model>.json (tools/parity/make_faithfulness_parity.py)
/// hold two maps, so that both sides rank the same float32 numbers, and
///
///     rise      RISE's deletion (zeros) and insertion (its blur) curves, their AUC and the blur
///               kernel (Petsiuk et al.'s evaluation code), over the signed gradient map
///     quantus   Quantus 0.6.0's PixelFlipping (every third point removes whole pixels) and the
///               pieces of its ROAD (its ranking and noisy_linear_imputation; quantus.ROAD itself
///               fails on 3-channel pictures), over the gradient map
///     gradcam   pytorch-grad-cam 1.5.7's confidence metrics and ROAD (noise 0 at every
///               percentile; noise 0.01 drawn by MiniNet's generator for MoRF 80 and LeRF 20),
///               over its Grad-CAM map
///
/// Agreement: max |a − b| ≤ 1e-4 · max |b| + 1e-6 over each curve (a single number against
/// itself). All of it is forward passes and well-conditioned sums, so float32 runs land far
/// closer than that (MININET_PARITY_REPORT prints the largest relative differences).
final class FaithfulnessParityTests: XCTestCase {
    struct RISE: Decodable {
        var kernel: [Float]
        var deletion: [Float]
        var deletionAUC: Double
        var insertion: [Float]
        var insertionAUC: Double
    }

    struct Quantus: Decodable {
        var featuresInStep: Int
        var pixelFlipping: [Float]
        var roadError: String
        var roadPercentages: [Double]
        var roadScores: [Float]
        var roadPredicted: [Int]
    }

    struct GradCAMMetrics: Decodable {
        var confidenceChange: Float
        var dropInConfidence: Float
        var increaseInConfidence: Float
        var confidenceChangeLogit: Float
        var percentiles: [Double]
        var roadMoRF: [Float]
        var roadLeRF: [Float]
        var roadMoRFLogit: [Float]
        var roadCombined: Float
        var roadMoRF80Noisy: Float
        var roadLeRF20Noisy: Float
        var noise: Noise
        struct Noise: Decodable { var seed: UInt64; var sigma: Float }
    }

    struct Fixture: Decodable {
        var `class`: Int
        var logits: [Float]
        var steps: Int
        var gradcamMap: [Float]
        var gradientMap: [Float]
        var rise: RISE
        var quantus: Quantus
        var gradcam: GradCAMMetrics
    }

    static func fixture(_ model: String) throws -> Fixture {
        let url = try XCTUnwrap(Bundle.module.url(forResource: "faithfulness-\(model)", withExtension: "json",
                                                  subdirectory: "Fixtures/evaluation-faith"),
                                "missing fixture Fixtures/evaluation-faith/faithfulness-\(model).json")
        return try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
    }

    private static var worstRelative: [String: Double] = [:]

    override class func tearDown() {
        if ProcessInfo.processInfo.environment["MININET_PARITY_REPORT"] != nil {
            for key in worstRelative.keys.sorted() {
                print(String(format: "faithfulness parity: %@: max |a − b|/max |b| %.3g", key, worstRelative[key]!))
            }
        }
        super.tearDown()
    }

    /// max |a − b| ≤ 1e-4 · max |b| + 1e-6.
    private func assertClose(_ ours: [Float], _ reference: [Float], _ label: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(ours.count, reference.count, "\(label): sizes differ", file: file, line: line)
        guard ours.count == reference.count, !reference.isEmpty else { return }
        let scale = Double(reference.map { abs($0) }.max() ?? 0)
        var worst = (difference: 0.0, index: 0)
        for index in reference.indices where abs(Double(ours[index]) - Double(reference[index])) > worst.difference {
            worst = (abs(Double(ours[index]) - Double(reference[index])), index)
        }
        let key = label.split(separator: ":").first.map(String.init) ?? label
        if scale > 0 { Self.worstRelative[key] = max(Self.worstRelative[key] ?? 0, worst.difference / scale) }
        XCTAssertLessThanOrEqual(worst.difference, 1e-4 * scale + 1e-6,
                                 "\(label): worst at [\(worst.index)]: MiniNet \(ours[worst.index]), reference \(reference[worst.index])",
                                 file: file, line: line)
    }

    private func model(_ name: String) throws -> (ImageClassifier, Tensor) {
        name == "mininet" ? try CAMMethodsParityTests.smallCNN() : try CAMMethodsParityTests.narrowResNet(.resnet18)
    }

    private func maps(_ fixture: Fixture, _ input: Tensor) -> (gradcam: Tensor, gradient: Tensor) {
        let pixels = Array(input.shape.dropFirst())
        return (Tensor(shape: pixels, data: fixture.gradcamMap), Tensor(shape: pixels, data: fixture.gradientMap))
    }

    // MARK: RISE (Petsiuk et al.)

    private func compareWithRISE(_ name: String) throws {
        let fixture = try Self.fixture(name)
        let (classifier, input) = try model(name)
        let (_, gradient) = maps(fixture, input)
        let target = ExplanationTarget.probability(fixture.class)
        assertClose(try PetsiukBlur().kernel.data, fixture.rise.kernel, "\(name) RISE blur kernel")
        let deletion = try Faithfulness.deletionCurve(classifier: classifier, input: input, heatmap: gradient, target: target,
                                                      steps: fixture.steps, fill: .mean, batchSize: 5)
        assertClose(deletion.scores, fixture.rise.deletion, "\(name) RISE deletion: scores")
        assertClose([Float(deletion.area)], [Float(fixture.rise.deletionAUC)], "\(name) RISE deletion: AUC")
        let insertion = try Faithfulness.insertionCurve(classifier: classifier, input: input, heatmap: gradient, target: target,
                                                        steps: fixture.steps, batchSize: 5)
        assertClose(insertion.scores, fixture.rise.insertion, "\(name) RISE insertion: scores")
        assertClose([Float(insertion.area)], [Float(fixture.rise.insertionAUC)], "\(name) RISE insertion: AUC")
        XCTAssertTrue(deletion.allChecksPass && insertion.allChecksPass, "\(deletion.checks + insertion.checks)")
    }

    func testDeletionAndInsertionMatchRISEOnTheSmallCNN() throws { try compareWithRISE("mininet") }
    func testDeletionAndInsertionMatchRISEOnTheNarrowResNet() throws { try compareWithRISE("resnet18") }

    // MARK: Quantus

    private func compareWithQuantus(_ name: String) throws {
        let fixture = try Self.fixture(name)
        let (classifier, input) = try model(name)
        let (_, gradient) = maps(fixture, input)
        let target = ExplanationTarget.probability(fixture.class)
        // PixelFlipping removes featuresInStep = H·W/steps of the C·H·W values per step: after
        // every C-th step, whole pixels, the deletion curve's points 1 … steps.
        let channels = input.shape[0]
        XCTAssertEqual(fixture.quantus.featuresInStep * fixture.steps, gradient.count)
        let deletion = try Faithfulness.deletionCurve(classifier: classifier, input: input, heatmap: gradient, target: target,
                                                      steps: fixture.steps, fill: .mean)
        let aligned = stride(from: channels - 1, to: fixture.quantus.pixelFlipping.count, by: channels).map { fixture.quantus.pixelFlipping[$0] }
        assertClose(Array(deletion.scores.dropFirst()), aligned, "\(name) Quantus PixelFlipping: whole-pixel points")

        XCTAssertTrue(fixture.quantus.roadError.hasPrefix("IndexError"), "quantus.ROAD on RGB: \(fixture.quantus.roadError)")
        let road = try ROAD.curve(classifier: classifier, input: input, heatmap: gradient, target: target, order: .mostRelevantFirst,
                                  percentages: fixture.quantus.roadPercentages, selection: .rank, noise: .none)
        assertClose(road.scores, fixture.quantus.roadScores, "\(name) Quantus ROAD: scores")
        XCTAssertEqual(road.predictedClasses, fixture.quantus.roadPredicted, "\(name) Quantus ROAD: predicted classes")
        XCTAssertEqual(road.removedCounts, fixture.quantus.roadPercentages.map { Int(Double(gradient.count) * $0 / 100) })
        XCTAssertTrue(road.allChecksPass, "\(road.checks.filter { !$0.ok })")
    }

    func testDeletionAndROADMatchQuantusOnTheSmallCNN() throws { try compareWithQuantus("mininet") }
    func testDeletionAndROADMatchQuantusOnTheNarrowResNet() throws { try compareWithQuantus("resnet18") }

    // MARK: pytorch-grad-cam

    private func compareWithPyTorchGradCAM(_ name: String) throws {
        let fixture = try Self.fixture(name)
        let expected = fixture.gradcam
        let (classifier, input) = try model(name)
        let (cam, _) = maps(fixture, input)
        let probability = ExplanationTarget.probability(fixture.class), logit = ExplanationTarget.logit(fixture.class)

        let confidence = try Faithfulness.confidenceChange(classifier: classifier, input: input, heatmap: cam, target: probability,
                                                           scaling: .asGiven)
        assertClose([confidence.change], [expected.confidenceChange], "\(name) CamMultImageConfidenceChange")
        assertClose([confidence.drop], [expected.dropInConfidence], "\(name) DropInConfidence")
        XCTAssertEqual(confidence.increased ? 1 : 0, expected.increaseInConfidence, "\(name) IncreaseInConfidence")
        let confidenceLogit = try Faithfulness.confidenceChange(classifier: classifier, input: input, heatmap: cam, target: logit,
                                                                scaling: .asGiven)
        assertClose([confidenceLogit.change], [expected.confidenceChangeLogit], "\(name) CamMultImageConfidenceChange, logit")

        // pytorch-grad-cam's percentile p removes 100 − p percent.
        let removed = expected.percentiles.map { 100 - $0 }
        func road(_ order: ROAD.Order, _ target: ExplanationTarget, _ percentages: [Double], noise: ImputationNoise = .none) throws -> ROADCurve {
            try ROAD.curve(classifier: classifier, input: input, heatmap: cam, target: target, order: order,
                           percentages: percentages, noise: noise, batchSize: 4)
        }
        let morf = try road(.mostRelevantFirst, probability, removed)
        let lerf = try road(.leastRelevantFirst, probability, removed)
        assertClose(morf.changes, expected.roadMoRF, "\(name) ROADMostRelevantFirst")
        assertClose(lerf.changes, expected.roadLeRF, "\(name) ROADLeastRelevantFirst")
        assertClose(try road(.mostRelevantFirst, logit, removed).changes, expected.roadMoRFLogit, "\(name) ROADMostRelevantFirst, logit")
        let combined = try ROAD.combined(classifier: classifier, input: input, heatmap: cam, target: probability, noise: .none)
        assertClose([Float(combined.score)], [expected.roadCombined], "\(name) ROADCombined")
        XCTAssertTrue(morf.allChecksPass && lerf.allChecksPass, "\((morf.checks + lerf.checks).filter { !$0.ok })")

        let noise = ImputationNoise(standardDeviation: expected.noise.sigma, seed: expected.noise.seed)
        assertClose(try road(.mostRelevantFirst, probability, [20], noise: noise).changes, [expected.roadMoRF80Noisy],
                    "\(name) ROADMostRelevantFirst(80), noise 0.01")
        assertClose(try road(.leastRelevantFirst, probability, [80], noise: noise).changes, [expected.roadLeRF20Noisy],
                    "\(name) ROADLeastRelevantFirst(20), noise 0.01")
    }

    func testConfidenceAndROADMatchPyTorchGradCAMOnTheSmallCNN() throws { try compareWithPyTorchGradCAM("mininet") }
    func testConfidenceAndROADMatchPyTorchGradCAMOnTheNarrowResNet() throws { try compareWithPyTorchGradCAM("resnet18") }
}

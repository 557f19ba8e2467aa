import Foundation
import XCTest
@testable import MiniNet

/// MiniNet's LRP composites against Zennit 0.5.1's (fixtures from
/// tools/parity/make_lrp_composites_parity.py, described in Fixtures/lrp-composites/manifest.json):
/// EpsilonPlus, EpsilonPlusFlat, EpsilonGammaBox and EpsilonAlpha2Beta1 (and the epsilon
/// composite on the small CNN) on the lessons' small CNN and the narrow ResNet-18/34/50.
///
/// Both sides merge BatchNorm as Zennit 0.5.1 does (`leavingNeutralBatchNorm`: a neutral BatchNorm
/// computing y/√(1 + eps) stays behind), start with R = one-hot · y^c at the logits, and take
/// zB's bounds from the model's normalisation ((0 − mean)/std, (1 − mean)/std per channel).
///
/// The relevance is compared with Zennit's float64 twin by the project's error model
/// (ConditionedParity, docs/numerics.md): within 4 × the spread of Zennit's own float32 runs plus
/// a floor. The γ and zB denominators can cancel and the residual sums divide by body + shortcut,
/// so these are not well-conditioned enough for a fixed 1e-4 (although most land far inside it).
final class LRPCompositeParityTests: XCTestCase {
    struct Manifest: Decodable {
        struct Model: Decodable {
            var input: String
            var target: Int
            var depth: Int
            var low: [Float]
            var high: [Float]
        }
        struct Entry: Decodable {
            var file: String
            var model: String
            var composite: String
            var zennit: String
            var target: Int
            var canonized_logit: Float
            var float32_spread: Double
        }
        var models: [String: Model]
        var files: [Entry]
    }

    func manifest() throws -> Manifest {
        let url = try XCTUnwrap(Bundle.module.url(forResource: "Fixtures/lrp-composites/manifest", withExtension: "json"))
        return try JSONDecoder().decode(Manifest.self, from: Data(contentsOf: url))
    }

    func fixture(_ name: String) throws -> String {
        try XCTUnwrap(Bundle.module.url(forResource: "Fixtures/lrp-composites/\(name)", withExtension: nil), name).path
    }

    func classifier(_ model: String) throws -> ImageClassifier {
        if model == "mininet" {
            return try ImageClassifier.load(from: LRPTests.repositoryRoot.appendingPathComponent("models/mininet.safetensors").path)
        }
        let path = try XCTUnwrap(Bundle.module.url(forResource: "Fixtures/resnet/\(model)-narrow", withExtension: "pth")).path
        return try PretrainedResNet.load(from: path, imageSize: 32)
    }

    /// One fixture: MiniNet's composite against Zennit's, by the error model; the ledger of our
    /// own result; and the epsilon composite in its place must fail (the comparison sees rules).
    func checkParity(_ model: String, _ composite: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let manifest = try manifest()
        let settings = try XCTUnwrap(manifest.models[model])
        let entry = try XCTUnwrap(manifest.files.first { $0.model == model && $0.composite == composite }, "\(model) \(composite)")
        let classifier = try classifier(model)
        let input = try NumpyFile.read(from: try fixture(settings.input)).slice(0)          // [3, 32, 32]
        let reference = try NumpyFile.read(from: try fixture(entry.file))                    // [2, 3, 32, 32]
        let (expected, twin) = (reference.slice(0), reference.slice(1))

        // The bounds zB gets from the model's normalisation are those Zennit was given.
        let bounds = LRPInputBounds(classifier: classifier)
        for (ours, theirs) in zip(bounds.low + bounds.high, settings.low + settings.high) {
            XCTAssertEqual(ours, theirs, accuracy: 4 * Float.ulpOfOne * abs(theirs), "\(model): zB bounds", file: file, line: line)
        }

        let lrp = try LRPComposite.named(composite, for: classifier)
        let result = try layerwiseRelevance(classifier: classifier, input: input, target: .logit(entry.target), composite: lrp,
                                            leavingNeutralBatchNorm: true)
        // The canonized logit: two float32 forward passes of the same network.
        let side = classifier.forwardTolerance(input: input)
        assertWithin(Double(result.score), Double(entry.canonized_logit), side + side, "\(model) \(composite): y^c", file: file, line: line)

        let label = "\(model) \(lrp.zennitName)"
        let parity = ConditionedParity.check(label, ours: result.relevance.data, reference32: expected.data,
                                             float64MinusFloat32: twin.data, spread: entry.float32_spread,
                                             depth: settings.depth, file: file, line: line)
        if ProcessInfo.processInfo.environment["MININET_PARITY_REPORT"] != nil {
            let relative = Double(result.relevance.maxAbsDifference(expected)) / parity.largest
            print("composite parity: \(label): max |ours − ref32| / max |ref64| = \(String(format: "%.2g", relative))")
        }

        // Our own ledger: f(x) = Σ_i R_i + what biases and stabilisers kept.
        assertWithin(result.relevance.sum() + result.totalAbsorbed, Double(result.score),
                     result.conservationTolerance(classifier: classifier, input: input), "\(label): ledger", file: file, line: line)

        if composite != "epsilon" {
            let other = try layerwiseRelevance(classifier: classifier, input: input, target: .logit(entry.target),
                                               composite: .epsilon(), leavingNeutralBatchNorm: true)
            let wrong = ConditionedParity(ours: other.relevance.data, reference32: expected.data, float64MinusFloat32: twin.data,
                                          spread: entry.float32_spread, depth: settings.depth)
            XCTAssertFalse(wrong.holds, "\(label): the epsilon composite passes too (\(wrong.summary))", file: file, line: line)
        }
    }

    func testSmallCNN() throws {
        try forEachArithmeticVariant { _ in for composite in LRPComposite.ids { try checkParity("mininet", composite) } }
    }

    func testResNet18() throws {
        try forEachArithmeticVariant { _ in for composite in LRPComposite.ids.dropFirst() { try checkParity("resnet18", composite) } }
    }

    func testResNet34() throws {
        try forEachArithmeticVariant { _ in for composite in LRPComposite.ids.dropFirst() { try checkParity("resnet34", composite) } }
    }

    func testResNet50() throws {
        try forEachArithmeticVariant { _ in for composite in LRPComposite.ids.dropFirst() { try checkParity("resnet50", composite) } }
    }

    /// The epsilon composite on the ResNets is what ResNetLRPParityTests checks at 64 × 64 through
    /// `LRPRuleMap.zennitEpsilon`; the composite is that rule map.
    func testEpsilonCompositeIsZennitEpsilonRuleMap() {
        XCTAssertEqual(LRPComposite.epsilon(1e-6).ruleMap, LRPRuleMap.zennitEpsilon(1e-6))
        XCTAssertEqual(try LRPComposite.named("epsilon", epsilon: 0.01).ruleMap, LRPRuleMap.zennitEpsilon(0.01))
    }

    /// Every id resolves, under Zennit's name; an unknown id names the known ones.
    func testCompositeIds() throws {
        let bounds = LRPInputBounds(mean: [0.5], std: [0.25])
        XCTAssertEqual(bounds.low, [-2])
        XCTAssertEqual(bounds.high, [2])
        let names = try LRPComposite.ids.map { try LRPComposite.named($0, inputBounds: bounds).zennitName }
        XCTAssertEqual(names, ["Epsilon", "EpsilonPlus", "EpsilonPlusFlat", "EpsilonGammaBox", "EpsilonAlpha2Beta1"])
        XCTAssertEqual(try LRPComposite.ids.map { try LRPComposite.named($0, inputBounds: bounds).id }, LRPComposite.ids)
        XCTAssertThrowsError(try LRPComposite.named("epsilon-gamma-box")) { error in
            XCTAssertTrue("\(error)".contains("bounds"), "\(error)")
        }
        XCTAssertThrowsError(try LRPComposite.named("gamma")) { error in
            XCTAssertTrue("\(error)".contains("epsilon-plus-flat"), "\(error)")
        }
    }
}

import Foundation
import XCTest
@testable import MiniNet

/// MiniNet's LRP on torchvision ResNets against Zennit 0.5.1 (fixtures from
/// tools/fixtures/resnet_fixtures.py, described in Fixtures/resnet/resnet-manifest.json).
///
/// Zennit's side: `ResNetCanonizer` (BatchNorm merged into the convolution before it; the
/// residual addition becomes a Sum layer), and the composite Epsilon(1e-6) on Conv2d and Linear,
/// Norm(1e-6) on the Sum and on AdaptiveAvgPool2d, Pass on ReLU, the plain gradient through
/// MaxPool. Relevance starts as output × one-hot(target). MiniNet's side: `mergingBatchNorm`
/// with `leavingNeutralBatchNorm` (Zennit leaves each merged BatchNorm computing y/√(1 + eps),
/// which moves the relevance by about 1e-4 here) and `LRPRuleMap.zennitEpsilon(1e-6)`.
///
/// The relevance at the input is compared with Zennit's float64 twin (the same canonizer and
/// composite on a `.double()` copy), not with a fixed tolerance: ε = 1e-6 is small against the
/// rounding of the denominators z, so Zennit's own float32 results land up to ~2e-4 of max |R|
/// away from it on ResNet-50 (see ConditionedParity and docs/numerics.md).
final class ResNetLRPParityTests: XCTestCase {
    struct Manifest: Decodable {
        struct Model: Decodable { var target: Int }
        struct Entry: Decodable {
            var file: String
            var kind: String
            var model: String?
            var epsilon: Float?
            /// float32(ref64 − ref32), the float64 twin of `file`
            var float64_twin: String?
            /// max |ref32 − ref64| over several float32 runs (ConditionedParity)
            var float32_spread: Double?
            var canonized_logit: Float?
            var relevance_sum: Double?
            var relevance_sum_at_module_output: [String: Double]?
            var relevance_sum_at_module_output_float64: [String: Double]?
            /// per module, max |Σ R (float32) − Σ R (float64)| over the float32 runs of float32_spread
            var relevance_sum_at_module_output_spread: [String: Double]?
        }
        var models: [String: Model]
        var files: [Entry]
    }

    static let fixtures = LRPTests.repositoryRoot.appendingPathComponent("Tests/MiniNetTests/Fixtures/resnet")

    func manifest() throws -> Manifest {
        let url = try XCTUnwrap(Bundle.module.url(forResource: "Fixtures/resnet/resnet-manifest", withExtension: "json"))
        return try JSONDecoder().decode(Manifest.self, from: Data(contentsOf: url))
    }

    func fixture(_ name: String) throws -> String {
        try XCTUnwrap(Bundle.module.url(forResource: "Fixtures/resnet/\(name)", withExtension: nil)).path
    }

    /// The number of weighted layers on the longest path, 18, 34 or 50: the depth of ConditionedParity's floor.
    func depth(_ model: String) throws -> Int { try XCTUnwrap(Int(model.dropFirst("resnet".count)), model) }

    /// Zennit's float32 relevance and float64 twin, [1, 3, 64, 64] each, and the model's depth.
    func references(_ model: String, _ entry: Manifest.Entry) throws -> (float32: Tensor, float64MinusFloat32: Tensor) {
        let twin = try XCTUnwrap(entry.float64_twin, "\(model): no float64 twin in the manifest")
        return (try NumpyFile.read(from: try fixture(entry.file)), try NumpyFile.read(from: try fixture(twin)))
    }

    func checkParity(_ model: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let manifest = try manifest()
        let target = try XCTUnwrap(manifest.models[model]).target
        let entry = try XCTUnwrap(manifest.files.first { $0.kind == "lrp relevance" && $0.model == model })
        let epsilon = try XCTUnwrap(entry.epsilon)

        let classifier = try PretrainedResNet.load(from: try fixture("\(model)-narrow.pth"))
        classifier.network.setTraining(false)
        let input = try NumpyFile.read(from: try fixture("input.npy"))                  // [1, 3, 64, 64]
        let (expected, twin) = try references(model, entry)                               // [1, 3, 64, 64]
        let network = try mergingBatchNorm(classifier.network, leavingNeutralBatchNorm: true)
        let result = try propagateRelevance(through: network, input: input, ruleMap: .zennitEpsilon(epsilon)) { logits in
            var start = Tensor(zeros: logits.shape)
            start.data[target] = logits.data[target]
            return start
        }

        if let logit = entry.canonized_logit {
            XCTAssertEqual(result.topActivation.data[target], logit, accuracy: 1e-4 * max(1, abs(logit)),
                           "\(model): canonized logit", file: file, line: line)
        }
        XCTAssertEqual(result.relevance.shape, expected.shape, file: file, line: line)
        _ = ConditionedParity.check("\(model) LRP-ε relevance", ours: result.relevance.data, reference32: expected.data,
                                    float64MinusFloat32: twin.data, spread: entry.float32_spread, depth: try depth(model),
                                    file: file, line: line)
        if let total = entry.relevance_sum {
            XCTAssertEqual(result.relevance.sum(), total, accuracy: 1e-4 * max(1, abs(total), expected.magnitudeSum()),
                           "\(model): Σ R", file: file, line: line)
        }

        // Σ R reaching each module's output (a block's output is its activation's). These sums
        // cancel a lot (Σ R swings from layer to layer), so their rounding is set by the size of
        // what they add up, Σ |R|, not by their value: 1e-5 of Σ |R| at the input. On ResNet-50 the
        // ε rule's small denominators move them much further (up to 1e-5 of Σ |R| for Zennit's own
        // float32 runs), so as for the relevance they are compared with the float64 twin, within
        // c times the spread of Zennit's float32 runs on top of that.
        let scale = max(1, expected.magnitudeSum())
        let references = try XCTUnwrap(entry.relevance_sum_at_module_output_float64)
        let spreads = try XCTUnwrap(entry.relevance_sum_at_module_output_spread)
        XCTAssertFalse(references.isEmpty, file: file, line: line)
        for (module, reference) in references.sorted(by: { $0.key < $1.key }) {
            let ours = try XCTUnwrap(result.sums[module]?.output, "\(model): no relevance recorded at \(module)", file: file, line: line)
            let spread = try XCTUnwrap(spreads[module])
            if ProcessInfo.processInfo.environment["MININET_PARITY_REPORT"] != nil {
                print("module sums: \(model) \(module): |ours − ref64| \(abs(ours - reference)), spread \(spread), 1e-5·Σ|R| \(1e-5 * scale)")
            }
            XCTAssertEqual(ours, reference, accuracy: ConditionedParity.factor * spread + 1e-5 * scale,
                           "\(model): Σ R at the output of \(module) (float32 spread \(spread))", file: file, line: line)
        }
    }

    func testResNet18MatchesZennit() throws { try forEachArithmeticVariant { _ in try checkParity("resnet18") } }
    func testResNet34MatchesZennit() throws { try forEachArithmeticVariant { _ in try checkParity("resnet34") } }
    func testResNet50MatchesZennit() throws { try forEachArithmeticVariant { _ in try checkParity("resnet50") } }

    /// What `tutor explain --method lrp-epsilon --batchnorm-merge zennit` calls: the whole
    /// layerwiseRelevance with Zennit's merge gives Zennit's relevance; the exact merge differs by
    /// more than rounding on ResNet-50 (many BatchNorms, each dividing by √(1 + eps) in Zennit).
    func testLayerwiseRelevanceWithZennitsMergeMatchesZennitOnResNet50() throws { try forEachArithmeticVariant { _ in try checkLayerwiseRelevanceWithZennitsMergeMatchesZennitOnResNet50() } }

    func checkLayerwiseRelevanceWithZennitsMergeMatchesZennitOnResNet50() throws {
        let manifest = try manifest()
        let target = try XCTUnwrap(manifest.models["resnet50"]).target
        let entry = try XCTUnwrap(manifest.files.first { $0.kind == "lrp relevance" && $0.model == "resnet50" })
        let classifier = try PretrainedResNet.load(from: try fixture("resnet50-narrow.pth"), imageSize: 64)
        let input = try NumpyFile.read(from: try fixture("input.npy")).slice(0)         // [3, 64, 64]
        let (expected, twin) = try references("resnet50", entry)
        let ruleMap = LRPRuleMap.zennitEpsilon(try XCTUnwrap(entry.epsilon))
        let zennitMerge = try layerwiseRelevance(classifier: classifier, input: input, target: target, ruleMap: ruleMap,
                                                 leavingNeutralBatchNorm: true)
        _ = ConditionedParity.check("resnet50 layerwiseRelevance, Zennit's merge", ours: zennitMerge.relevance.data,
                                    reference32: expected.data, float64MinusFloat32: twin.data, spread: entry.float32_spread, depth: 50)
        // The exact merge lands well outside what rounding explains.
        let exactMerge = try layerwiseRelevance(classifier: classifier, input: input, target: target, ruleMap: ruleMap)
        let exact = ConditionedParity(ours: exactMerge.relevance.data, reference32: expected.data,
                                      float64MinusFloat32: twin.data, spread: entry.float32_spread, depth: 50)
        XCTAssertGreaterThan(exact.ourDistance, 2 * exact.bound, "exact merge: \(exact.summary)")
        if ProcessInfo.processInfo.environment["MININET_PARITY_REPORT"] != nil { print("exact merge: \(exact.summary)") }
    }

    /// The article's shortcuts are options of the rule map: BatchNorm hands R on unchanged, and a
    /// residual block sends everything into its body (the downsample branch is never visited).
    func testArticleTreatmentSendsEverythingIntoTheBody() throws {
        let classifier = try PretrainedResNet.load(from: try fixture("resnet18-narrow.pth"))
        classifier.network.setTraining(false)
        let input = try NumpyFile.read(from: try fixture("input.npy"))
        let backbone = try networkPrefix(try XCTUnwrap(classifier.network as Sequential?), through: "layer3")
        let ruleMap = LRPRuleMap(linear: .epsilon(1e-6), batchNormPassThrough: true, residualBodyOnly: true)
        let result = try propagateRelevance(through: backbone, input: input, ruleMap: ruleMap) { $0 }
        XCTAssertEqual(result.relevance.shape, input.shape)
        XCTAssertFalse(result.steps.contains { $0.layer.contains("downsample") })
        let split = try XCTUnwrap(result.steps.first { $0.layer == "layer2.0 (sum)" })
        XCTAssertEqual(split.relevanceAtInput, split.relevanceAtOutput)
        XCTAssertNil(result.sums["layer4.0"])
        // Without the flag BatchNorm stays an error.
        XCTAssertThrowsError(try propagateRelevance(through: backbone, input: input, ruleMap: LRPRuleMap(linear: .zero)) { $0 })
    }
}

import Foundation
import XCTest
@testable import MiniNet

/// MiniNet's LRP against Zennit 0.5.1 (fixtures from tools/parity/make_lrp_parity.py).
///
/// The configuration both sides use: BatchNorm merged into the convolutions
/// (SequentialMergeBatchNorm), Epsilon(1e-6) on Conv2d and Linear, Pass on ReLU, Zennit's Norm
/// rule on AdaptiveAvgPool2d (= `.epsilon(1e-6)` on weights 1/Z), and for MaxPool2d and
/// Flatten no rule, i.e. the gradient: relevance goes to each window's winner / is reshaped.
final class LRPParityTests: XCTestCase {
    struct Fixture: Decodable {
        var epsilon: Float
        var target: Int
        var logits: [Float]
        var canonized_logits: [Float]
        var input_shape: [Int]
        var input: [Float]
        var relevance: [Float]
    }

    func fixture(_ name: String) throws -> Fixture {
        let url = try XCTUnwrap(Bundle.module.url(forResource: "Fixtures/parity/\(name)", withExtension: "json"))
        return try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
    }

    func checkParity(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let reference = try fixture(name)
        let classifier = try ImageClassifier.load(from: LRPTests.repositoryRoot.appendingPathComponent("models/mininet.safetensors").path)
        let input = Tensor(shape: reference.input_shape, data: reference.input)
        let ruleMap = LRPRuleMap(linear: .epsilon(reference.epsilon), averagePool: .epsilon(1e-6))
        let result = try layerwiseRelevance(classifier: classifier, input: input, target: reference.target,
                                            ruleMap: ruleMap, canonize: true)
        // The canonized network's logits: two float32 forward passes (BatchNorm merged on both
        // sides, in other orders), each within `forwardTolerance`.
        let side = classifier.forwardTolerance(input: input)
        assertWithin(result.logits, reference.canonized_logits, side + side, "\(name): logits", file: file, line: line)
        // The relevance: the field's "match to 1e-4 relative" standard. LRP-ε divides by
        // pre-activations that may cancel, so its float32 conditioning is not bounded by the
        // forward pass; the fixture has no float64 twin to measure it (ConditionedParity does that
        // for the ResNets). The 1e-7 floor is for an all-but-zero relevance.
        let expected = Tensor(shape: reference.input_shape, data: reference.relevance)
        let largest = max(abs(expected.max), abs(expected.min))
        let difference = result.relevance.maxAbsDifference(expected)
        XCTAssertLessThanOrEqual(difference, 1e-4 * largest + 1e-7,
                                 "\(name): max |Δ| \(difference), max |R| \(largest)", file: file, line: line)
    }

    func testEpsilonOnSquareMatchesZennit() throws { try forEachArithmeticVariant { _ in try checkParity("lrp-epsilon-square") } }
    func testEpsilonOnDiscMatchesZennit() throws { try forEachArithmeticVariant { _ in try checkParity("lrp-epsilon-disc") } }
}

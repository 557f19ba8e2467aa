import Foundation
import XCTest
@testable import MiniNet

final class LRPTests: XCTestCase {
    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    func model(_ name: String) throws -> ImageClassifier {
        try ImageClassifier.load(from: Self.repositoryRoot.appendingPathComponent("models/\(name).safetensors").path)
    }

    func picture(_ classifier: ImageClassifier, index: Int) -> Tensor {
        let sample = ShapesDataset(count: 16, seed: 2026, imageSize: classifier.inputSize[1]).sample(at: index)
        return classifier.normalize(sample.image)
    }

    // MARK: rules against the matrix form, with plain loops

    /// R_j = Σ_k a_j w_jk / (z_k + ε·sign z_k) · R_k, z_k = Σ_j a_j w_jk + b_k, for W [K, J],
    /// in float32 plain loops (another summation order than the rule's), with the tolerance of
    /// comparing it with the rule, from the float32 error model:
    ///
    /// z_k adds J + 1 terms, so it is off by γ_{J+1}·M_k, M_k = Σ_j |a_j w_jk| + |b_k|; that moves
    /// the share a_j w_jk R_k / d_k by the relative amount γ_{J+1}·M_k / |d_k| (the division
    /// amplifies the error of a cancelling z_k). The product, the division and the multiplication
    /// by R_k round 3 more times, and R_j adds K shares. So per element
    ///
    ///     |error of R_j| ≤ γ_{J+K+4} · Σ_k |a_j w_jk R_k / d_k| · (1 + M_k / |d_k|)
    ///
    /// (nested γ's add: γ_p + γ_q ≤ γ_{p+q}), the largest over j, and both sides round this way.
    /// The largest term is the largest single |a_j w_jk R_k / d_k|: leaving it out must fail.
    func referenceRelevance(a: [Float], w: [[Float]], b: [Float], relevance: [Float], epsilon: Float)
        -> (relevance: [Float], tolerance: Tolerance, largest: (index: Int, term: Float)) {
        var result = [Float](repeating: 0, count: a.count)
        var magnitudes = [Double](repeating: 0, count: a.count)
        var largest: (index: Int, term: Float) = (0, 0)
        for k in w.indices {
            var z = b[k]
            for j in a.indices { z += a[j] * w[k][j] }
            let denominator = z + (z >= 0 ? epsilon : -epsilon)
            let termsOfZ = zip(a, w[k]).reduce(Double(abs(b[k]))) { $0 + Double(abs($1.0 * $1.1)) }
            let conditioning = 1 + termsOfZ / Double(abs(denominator))
            for j in a.indices {
                let share = a[j] * w[k][j] / denominator * relevance[k]
                result[j] += share
                magnitudes[j] += Double(abs(share)) * conditioning
                if abs(share) > abs(largest.term) { largest = (j, share) }
            }
        }
        let count = a.count + w.count + 4
        let side = Tolerance.sum(count: count, magnitude: magnitudes.max() ?? 0, largestTerm: Double(abs(largest.term)))
        return (result, side + side, largest)
    }

    /// The rule's R against the reference, and the same R with its largest share left out must fail.
    func assertMatchesReference(_ ours: Tensor, _ reference: (relevance: [Float], tolerance: Tolerance, largest: (index: Int, term: Float)),
                                _ label: String, file: StaticString = #filePath, line: UInt = #line) {
        assertWithin(ours.data, reference.relevance, reference.tolerance, "\(label): R_j rule vs matrix form", file: file, line: line)
        var broken = ours.data
        broken[reference.largest.index] -= reference.largest.term
        let check = Check.equal(label, "broken", Double(broken[reference.largest.index]),
                                "reference", Double(reference.relevance[reference.largest.index]), tolerance: reference.tolerance)
        XCTAssertFalse(check.ok, "\(label): a share left out passes \(reference.tolerance)", file: file, line: line)
    }

    /// A rule's ledger, Σ_k R_k = Σ_j R_j + bias kept + ε kept: the float32 rounding is at most
    /// γ_sumLength times what the rule added up (Σ_jk |a_j w_jk s_k| + Σ_k |s_k| (|b_k| + ε)).
    func ledgerTolerance(_ outcome: RuleOutcome) -> Tolerance {
        .sum(count: outcome.sumLength, magnitude: (outcome.termMagnitudes?.sum() ?? 0) + outcome.absorbedMagnitude)
    }

    func denseLayer(_ w: [[Float]], _ b: [Float]) -> Linear {
        let layer = Linear(inputFeatures: w[0].count, outputFeatures: w.count)
        layer.weight.value = Tensor(shape: [w.count, w[0].count], data: w.flatMap { $0 })
        layer.bias?.value = Tensor(shape: [b.count], data: b)
        return layer
    }

    let a: [Float] = [1.0, -0.5, 2.0, 0.25]
    let w: [[Float]] = [[0.5, -1.0, 0.25, 2.0], [-0.75, 0.5, 1.0, -0.5], [0.1, 0.2, -0.3, 0.4]]
    let b: [Float] = [0.1, -0.2, 0.05]
    let relevanceOut: [Float] = [1.5, -0.5, 0.75]

    func testRulesMatchMatrixForm() throws {
        let input = Tensor(shape: [1, 4], data: a)
        let relevance = Tensor(shape: [1, 3], data: relevanceOut)
        let layer = denseLayer(w, b)
        for (rule, epsilon) in [(LRPRule.zero, Float(0)), (.epsilon(0.25), 0.25)] {
            let outcome = try rule.apply(to: layer, input: input, relevance: relevance)
            let expected = referenceRelevance(a: a, w: w, b: b, relevance: relevanceOut, epsilon: epsilon)
            assertMatchesReference(outcome.relevance, expected, "\(rule)")
            // Σ R_out = Σ R_in + bias + ε, exactly in exact arithmetic.
            let ledger = assertWithin(outcome.relevance.sum() + outcome.absorbedByBias + outcome.absorbedByStabilizer, relevance.sum(),
                                      ledgerTolerance(outcome), "\(rule) ledger")
            // The bias's share forgotten must show.
            assertCatches(ledger, broken: outcome.relevance.sum() + outcome.absorbedByStabilizer, "the bias's share left out")
        }
        // z⁺: only w⁺ and b⁺.
        let plusW = w.map { $0.map { max($0, 0) } }
        let plusB = b.map { max($0, 0) }
        let positiveInput: [Float] = a.map(abs)
        let outcome = try LRPRule.zPlus.apply(to: layer, input: Tensor(shape: [1, 4], data: positiveInput), relevance: relevance)
        let expected = referenceRelevance(a: positiveInput, w: plusW, b: plusB, relevance: relevanceOut, epsilon: 1e-6)
        assertMatchesReference(outcome.relevance, expected, "z+")
        // The rule worked on a copy: the layer's own gradients are untouched.
        XCTAssertEqual(layer.weight.gradient.sum(), 0)
    }

    func testEpsilonSignConventionFollowsZennit() {
        XCTAssertEqual(LRPRule.epsilon(0.1).stabilize(0), 0.1)        // sign(0) = +1
        XCTAssertEqual(LRPRule.epsilon(0.1).stabilize(-2), -2.1)
        XCTAssertEqual(LRPRule.epsilon(0.1).stabilize(2), 2.1)
        XCTAssertNil(LRPRule.zero.stabilize(0))
    }

    /// A convolution under a rule equals the same rule on its unrolled dense matrix.
    func testConvolutionRuleMatchesLoops() throws {
        let conv = Conv2d(inputChannels: 1, outputChannels: 2, kernelSize: 2, padding: 0, bias: true,
                          weight: Tensor(shape: [2, 1, 2, 2], data: [0.5, -1, 0.25, 2, -0.75, 0.5, 1, -0.5]),
                          biasValue: Tensor(shape: [2], data: [0.1, -0.2]))
        let input = Tensor(shape: [1, 1, 3, 3], data: [1, -0.5, 2, 0.25, 0.5, -1, 1.5, 0.75, -0.25])
        let relevance = Tensor(shape: [1, 2, 2, 2], data: [1, -0.5, 0.75, 0.2, -0.3, 0.4, 0.6, -0.1])
        let outcome = try LRPRule.epsilon(0.1).apply(to: conv, input: input, relevance: relevance)
        // The unrolled matrix: output (o, i, j) reads input (i + u, j + v) with weight w[o, 0, u, v].
        var rows: [[Float]] = []
        var biases: [Float] = []
        var relevanceOut: [Float] = []
        for o in 0..<2 {
            for i in 0..<2 {
                for j in 0..<2 {
                    var row = [Float](repeating: 0, count: 9)
                    for u in 0..<2 { for v in 0..<2 { row[(i + u) * 3 + j + v] = conv.weight.value[o, 0, u, v] } }
                    rows.append(row)
                    biases.append(conv.bias!.value.data[o])
                    relevanceOut.append(relevance[0, o, i, j])
                }
            }
        }
        let expected = referenceRelevance(a: input.data, w: rows, b: biases, relevance: relevanceOut, epsilon: 0.1)
        assertMatchesReference(outcome.relevance, expected, "convolution ε")
        assertWithin(outcome.relevance.sum() + outcome.absorbedByBias + outcome.absorbedByStabilizer, relevance.sum(),
                     ledgerTolerance(outcome), "convolution ledger")
    }

    // MARK: the whole network

    func testLRPZeroIsGradientTimesInputAndConservesOnBiasFreeNetwork() throws {
        let classifier = try model("mininet-nobias")
        for index in 0..<4 {
            let input = picture(classifier, index: index)
            for target in 0..<classifier.classNames.count {
                let result = try layerwiseRelevance(classifier: classifier, input: input, target: target, rule: .zero)
                // Gradient × input.
                let logits = classifier.forward(input.reshaped([1] + input.shape))
                var seed = Tensor(zeros: logits.shape)
                seed.data[target] = 1
                let gradient = classifier.backward(seed).slice(0)
                let gradientTimesInput = gradient * input
                assertWithin(result.relevance, gradientTimesInput, lrpAgainstGradientTolerance(result, classifier: classifier, input: input),
                             "R = x ⊙ ∇f, sample \(index), class \(target)")
                // Σ_i R_i = f(x), and every layer passes on what it received.
                let conservation = result.conservationTolerance(classifier: classifier, input: input)
                let conserved = assertWithin(result.relevance.sum(), Double(logits.data[target]), conservation,
                                             "Σ R = f(x), sample \(index), class \(target)")
                assertCatches(conserved, broken: result.relevance.sum() - Double(result.relevance.data.max(by: { abs($0) < abs($1) }) ?? 0),
                              "the largest R_i left out")
                for total in result.layerTotals {
                    assertWithin(total.total, Double(result.score), conservation, "Σ R at \(total.layer)")
                }
            }
        }
        classifier.network.zeroGradients()
    }

    /// R = x ⊙ ∇f on a bias-free network under LRP-0, element by element. The two routes differ
    /// at every layer: LRP divides by z_k and multiplies by a_j where the gradient only multiplies
    /// by w. An error made at any layer reaches R_j through the same shares, so to first order
    /// (as in `forwardTolerance`) each layer contributes γₙ times the magnitude of R_j's own terms,
    /// Σ_k |a_j w_jk s_k| at the first layer (`termMagnitudes`): depth · γₙ · max_j Σ_k |a_j w_jk s_k|
    /// for each route, with n the largest fan-in and depth the layers that add (`forwardTolerance`).
    func lrpAgainstGradientTolerance(_ result: LRPResult, classifier: ImageClassifier, input: Tensor) -> Tolerance {
        let network = classifier.forwardTolerance(input: input, target: 0)
        let first = result.steps.last { $0.termMagnitudes != nil }
        let side = Tolerance.elementwise(count: network.count, magnitudes: first?.termMagnitudes ?? result.relevance,
                                         depth: network.parts.first?.depth ?? 1)
        return side + side
    }

    func testLedgerAddsUpOnBiasedModel() throws {
        let classifier = try model("mininet")
        let input = picture(classifier, index: 3)
        for rule in [LRPRule.zero, .epsilon(0.01), .zPlus] {
            let result = try layerwiseRelevance(classifier: classifier, input: input, target: 1, rule: rule)
            let ledger = assertWithin(result.relevance.sum() + result.totalAbsorbed, Double(result.score),
                                      result.conservationTolerance(classifier: classifier, input: input), "\(rule) ledger")
            // One layer's bias share forgotten must show.
            let biggestBias = result.steps.map(\.absorbedByBias).max { abs($0) < abs($1) } ?? 0
            if abs(biggestBias) > 0 {
                assertCatches(ledger, broken: result.relevance.sum() + result.totalAbsorbed - biggestBias, "\(rule): a bias share left out")
            }
            XCTAssertEqual(result.relevance.shape, classifier.inputSize)
            XCTAssertEqual(result.layerTotals.first?.layer, "output")
            XCTAssertFalse(result.steps.contains { $0.typeName == "BatchNorm2d" })
        }
    }

    func testBatchNormMergingPreservesLogits() throws {
        let classifier = try model("mininet")
        classifier.network.setTraining(false)
        let merged = try mergingBatchNorm(classifier.network)
        XCTAssertFalse(merged.allLayers.contains { $0 is BatchNorm2d })
        XCTAssertTrue(classifier.network.allLayers.contains { $0 is BatchNorm2d })
        for index in 0..<4 {
            let batch = picture(classifier, index: index).reshaped([1] + classifier.inputSize)
            let original = classifier.forward(batch)
            let canonized = merged.forward(batch)
            // Both are float32 forward passes of the same function by different arithmetic (BatchNorm
            // merged into the convolutions or not): each side rounds as `forwardTolerance` says.
            let side = classifier.forwardTolerance(input: batch.slice(0))
            assertWithin(canonized, original, side + side, "merged BatchNorm, sample \(index)")
        }
    }

    func testBatchNormWithoutCanonizingIsAnError() throws {
        let classifier = try model("mininet")
        XCTAssertThrowsError(try layerwiseRelevance(classifier: classifier, input: picture(classifier, index: 0),
                                                    target: 0, rule: .zero, canonize: false)) { error in
            XCTAssertTrue("\(error)".contains("BatchNorm2d"))
        }
        XCTAssertThrowsError(try layerwiseRelevance(classifier: classifier, input: picture(classifier, index: 0),
                                                    target: 7, rule: .zero))
    }

    func testResidualSplitConserves() throws {
        // x [1, 2, 3, 3] → Residual(conv, relu, conv; identity shortcut; relu) → GAP → flatten → linear
        func conv(_ seed: Float) -> Conv2d {
            let weights = (0..<(2 * 2 * 9)).map { Float(sin(Double($0) * 1.7 + Double(seed))) * 0.5 }
            return Conv2d(inputChannels: 2, outputChannels: 2, kernelSize: 3, padding: 1, bias: false,
                          weight: Tensor(shape: [2, 2, 3, 3], data: weights))
        }
        let block = Residual(body: [("conv1", conv(0.3)), ("relu1", ReLU()), ("conv2", conv(1.1))],
                             activation: ("relu2", ReLU()))
        let head = Linear(inputFeatures: 2, outputFeatures: 1, bias: false)
        head.weight.value = Tensor(shape: [1, 2], data: [0.8, 0.6])
        let network = Sequential(named: [("block", block), ("pool", GlobalAveragePool()), ("flatten", Flatten()), ("fc", head)])
        network.assignNames()
        let input = Tensor(shape: [1, 2, 3, 3], data: (0..<18).map { Float(cos(Double($0) * 0.9)) + 0.6 })
        let output = network.forward(input)
        var propagator = RelevancePropagator(ruleMap: LRPRuleMap(linear: .zero))
        let relevance = try propagator.propagate(through: network, input: input, relevance: output)
        // Each step rounds γ_sumLength times what it added up; the steps' errors add.
        let conservation = propagator.steps.reduce(Tolerance.exact) { $0 + .sum(count: $1.sumLength, magnitude: $1.termMagnitude) }
        let total = assertWithin(relevance.sum(), Double(output.data[0]), conservation, "Σ R = f(x) through a residual block")
        assertCatches(total, broken: -relevance.sum(), "a sign flipped")
        let split = try XCTUnwrap(propagator.steps.first { $0.layer == "block (sum)" })
        assertWithin(split.relevanceAtInput, split.relevanceAtOutput, .sum(count: split.sumLength, magnitude: split.termMagnitude),
                     "residual split: R_body + R_shortcut = R")
        // The split itself: each branch in proportion to its contribution.
        let parts = splitResidualRelevance(body: Tensor(shape: [2], data: [3, -1]), shortcut: Tensor(shape: [2], data: [1, 3]),
                                           relevance: Tensor(shape: [2], data: [2, 4]))
        XCTAssertEqual(parts.body.data, [1.5, -2])
        XCTAssertEqual(parts.shortcut.data, [0.5, 6])
    }
}

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

    /// R_j = Σ_k a_j w_jk / (z_k + ε·sign z_k) · R_k, z_k = Σ_j a_j w_jk + b_k, for W [K, J].
    func referenceRelevance(a: [Float], w: [[Float]], b: [Float], relevance: [Float], epsilon: Float) -> [Float] {
        var result = [Float](repeating: 0, count: a.count)
        for k in w.indices {
            var z = b[k]
            for j in a.indices { z += a[j] * w[k][j] }
            let denominator = z + (z >= 0 ? epsilon : -epsilon)
            for j in a.indices { result[j] += a[j] * w[k][j] / denominator * relevance[k] }
        }
        return result
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
            for j in a.indices { XCTAssertEqual(outcome.relevance.data[j], expected[j], accuracy: 1e-5, "\(rule) j=\(j)") }
            // Σ R_out = Σ R_in + bias + ε, exactly in exact arithmetic.
            XCTAssertEqual(relevance.sum(), outcome.relevance.sum() + outcome.absorbedByBias + outcome.absorbedByStabilizer,
                           accuracy: 1e-5, "\(rule) ledger")
        }
        // z⁺: only w⁺ and b⁺.
        let plusW = w.map { $0.map { max($0, 0) } }
        let plusB = b.map { max($0, 0) }
        let positiveInput: [Float] = a.map(abs)
        let outcome = try LRPRule.zPlus.apply(to: layer, input: Tensor(shape: [1, 4], data: positiveInput), relevance: relevance)
        let expected = referenceRelevance(a: positiveInput, w: plusW, b: plusB, relevance: relevanceOut, epsilon: 1e-6)
        for j in a.indices { XCTAssertEqual(outcome.relevance.data[j], expected[j], accuracy: 1e-5, "z+ j=\(j)") }
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
        var expected = [Float](repeating: 0, count: 9)
        for o in 0..<2 {
            for i in 0..<2 {
                for j in 0..<2 {
                    var z = conv.bias!.value.data[o]
                    for u in 0..<2 { for v in 0..<2 { z += input[0, 0, i + u, j + v] * conv.weight.value[o, 0, u, v] } }
                    let denominator = z + (z >= 0 ? 0.1 : -0.1)
                    for u in 0..<2 {
                        for v in 0..<2 {
                            expected[(i + u) * 3 + j + v] += input[0, 0, i + u, j + v] * conv.weight.value[o, 0, u, v]
                                / denominator * relevance[0, o, i, j]
                        }
                    }
                }
            }
        }
        for index in 0..<9 { XCTAssertEqual(outcome.relevance.data[index], expected[index], accuracy: 1e-5) }
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
                let scale = max(abs(result.relevance.max), abs(result.relevance.min), 1e-6)
                XCTAssertLessThanOrEqual(result.relevance.maxAbsDifference(gradientTimesInput), 1e-4 * scale)
                // Σ_i R_i = f(x), and every layer passes on what it received.
                XCTAssertEqual(result.relevance.sum(), Double(logits.data[target]), accuracy: 1e-4 * max(1, abs(Double(result.score))))
                for total in result.layerTotals {
                    XCTAssertEqual(total.total, Double(result.score), accuracy: 1e-4 * max(1, abs(Double(result.score))), total.layer)
                }
            }
        }
        classifier.network.zeroGradients()
    }

    func testLedgerAddsUpOnBiasedModel() throws {
        let classifier = try model("mininet")
        let input = picture(classifier, index: 3)
        for rule in [LRPRule.zero, .epsilon(0.01), .zPlus] {
            let result = try layerwiseRelevance(classifier: classifier, input: input, target: 1, rule: rule)
            XCTAssertEqual(Double(result.score), result.relevance.sum() + result.totalAbsorbed,
                           accuracy: 1e-4 * max(1, abs(Double(result.score))), "\(rule)")
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
            XCTAssertLessThanOrEqual(original.maxAbsDifference(canonized), 1e-4 * max(1, abs(original.max), abs(original.min)))
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
        XCTAssertEqual(relevance.sum(), Double(output.data[0]), accuracy: 1e-5 * max(1, abs(Double(output.data[0]))))
        let split = try XCTUnwrap(propagator.steps.first { $0.layer == "block (sum)" })
        XCTAssertEqual(split.relevanceAtInput, split.relevanceAtOutput, accuracy: 1e-5)
        // The split itself: each branch in proportion to its contribution.
        let parts = splitResidualRelevance(body: Tensor(shape: [2], data: [3, -1]), shortcut: Tensor(shape: [2], data: [1, 3]),
                                           relevance: Tensor(shape: [2], data: [2, 4]))
        XCTAssertEqual(parts.body.data, [1.5, -2])
        XCTAssertEqual(parts.shortcut.data, [0.5, 6])
    }
}

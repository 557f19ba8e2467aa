import Foundation
import XCTest
@testable import MiniNet

/// Every LRP rule against its formula written out by hand in matrix form, on a tiny dense layer
/// and on a tiny convolution unrolled into its matrix; conservation where the rule conserves.
///
/// The references are computed in float64 from the formulas of Rules.swift (not from the rule's
/// data), so they test both the data and the one function that applies it.
final class LRPRuleTests: XCTestCase {
    /// A linear layer in matrix form: output k = Σ_j a_j w_jk + b_k over the inputs j it sees.
    struct MatrixLayer {
        var a: [Double]
        /// [K][J]
        var w: [[Double]]
        /// [K][J]: whether output k sees input j (a convolution's window; padding is not seen)
        var sees: [[Bool]]
        var b: [Double]
        /// R_k at the output
        var relevance: [Double]
        /// zB's bounds l_j, h_j of every input
        var low: [Double]
        var high: [Double]

        var inputs: Int { a.count }
        var outputs: Int { w.count }
        /// z_k = Σ_j a_j w_jk + b_k
        func z(_ k: Int) -> Double { (0..<inputs).reduce(b[k]) { $0 + a[$1] * w[k][$1] } }
    }

    /// One term of a rule, by hand: input j's share of output k, the term's bias, where it applies.
    struct ReferenceTerm {
        var coefficient = 1.0
        /// Whether the term handles output k, from z_k (the γ rule splits z > 0 and z < 0).
        var handles: (Double) -> Bool = { _ in true }
        var contribution: (_ j: Int, _ k: Int) -> Double
        var bias: (_ k: Int) -> Double
    }

    static func plus(_ x: Double) -> Double { max(x, 0) }
    static func minus(_ x: Double) -> Double { min(x, 0) }

    /// The formulas of Rules.swift for `layer`, term by term.
    static func referenceTerms(_ rule: String, _ layer: MatrixLayer) -> [ReferenceTerm] {
        let (a, w, b) = (layer.a, layer.w, layer.b)
        let γ = 0.25
        switch rule {
        case "0", "epsilon":           // a_j w_jk / (z_k + ε·sign z_k)
            return [ReferenceTerm(contribution: { j, k in a[j] * w[k][j] }, bias: { b[$0] })]
        case "z+":                     // (a⁺w⁺ + a⁻w⁻) / (Σ_j (a⁺w⁺ + a⁻w⁻) + b⁺)
            return [ReferenceTerm(contribution: { j, k in plus(a[j]) * plus(w[k][j]) + minus(a[j]) * minus(w[k][j]) },
                                  bias: { plus(b[$0]) })]
        case "alpha2beta1":            // 2·z⁺_jk/z⁺_k − 1·z⁻_jk/z⁻_k
            return [ReferenceTerm(coefficient: 2, contribution: { j, k in plus(a[j]) * plus(w[k][j]) + minus(a[j]) * minus(w[k][j]) },
                                  bias: { plus(b[$0]) }),
                    ReferenceTerm(coefficient: -1, contribution: { j, k in plus(a[j]) * minus(w[k][j]) + minus(a[j]) * plus(w[k][j]) },
                                  bias: { minus(b[$0]) })]
        case "gamma":                  // z > 0: a⁺(w + γw⁺) + a⁻(w + γw⁻), b + γb⁺;  z < 0: a⁺(w + γw⁻) + a⁻(w + γw⁺), b + γb⁻
            return [ReferenceTerm(handles: { $0 > 0 },
                                  contribution: { j, k in plus(a[j]) * (w[k][j] + γ * plus(w[k][j])) + minus(a[j]) * (w[k][j] + γ * minus(w[k][j])) },
                                  bias: { b[$0] + γ * plus(b[$0]) }),
                    ReferenceTerm(handles: { $0 < 0 },
                                  contribution: { j, k in plus(a[j]) * (w[k][j] + γ * minus(w[k][j])) + minus(a[j]) * (w[k][j] + γ * plus(w[k][j])) },
                                  bias: { b[$0] + γ * minus(b[$0]) })]
        case "zB":                     // (a w − l w⁺ − h w⁻) / Σ_j (a w − l w⁺ − h w⁻)
            return [ReferenceTerm(contribution: { j, k in a[j] * w[k][j] - layer.low[j] * plus(w[k][j]) - layer.high[j] * minus(w[k][j]) },
                                  bias: { _ in 0 })]
        case "flat":                   // 1 / (number of inputs output k sees)
            return [ReferenceTerm(contribution: { j, k in layer.sees[k][j] ? 1 : 0 }, bias: { _ in 0 })]
        default:
            preconditionFailure(rule)
        }
    }

    static let epsilon = 0.1            // for the ε rule; the others use 1e-6 as Zennit
    static func rule(_ name: String, _ layer: MatrixLayer, channelBounds: (low: [Float], high: [Float])) throws -> LRPRule {
        switch name {
        case "0": return .zero
        case "epsilon": return .epsilon(Float(epsilon))
        case "z+": return .zPlus
        case "alpha2beta1": return try .alphaBeta(alpha: 2, beta: 1)
        case "gamma": return .gamma(0.25)
        case "zB": return .zBox(low: channelBounds.low, high: channelBounds.high)
        case "flat": return .flat
        default: preconditionFailure(name)
        }
    }
    static let rules = ["0", "epsilon", "z+", "alpha2beta1", "gamma", "zB", "flat"]

    /// R_j = Σ_terms coefficient · Σ_{k it handles} contribution(j, k) / (z_k + ε·sign z_k) · R_k with
    /// z_k = Σ_j contribution(j, k) + bias(k), in float64; and for every j the size of its float32
    /// rounding, Σ_terms Σ_k |coefficient · share_jk| · (1 + M_k / |d_k|), M_k = Σ_j |contribution| + |bias|
    /// (the denominator's rounding, amplified where it cancels; as in LRPTests.referenceRelevance).
    /// Also the relevance ε keeps, Σ_k ε |R_k| / |d_k| over the terms.
    struct Reference {
        var relevance: [Double]
        var magnitudes: [Double]
        var largest: (index: Int, share: Double)
        var keptByEpsilon: Double
    }

    static func reference(_ terms: [ReferenceTerm], _ layer: MatrixLayer, epsilon: Double) -> Reference {
        var result = Reference(relevance: Array(repeating: 0, count: layer.inputs), magnitudes: Array(repeating: 0, count: layer.inputs),
                               largest: (0, 0), keptByEpsilon: 0)
        for term in terms {
            for k in 0..<layer.outputs where term.handles(layer.z(k)) {
                let z = (0..<layer.inputs).reduce(term.bias(k)) { $0 + term.contribution($1, k) }
                let size = (0..<layer.inputs).reduce(abs(term.bias(k))) { $0 + abs(term.contribution($1, k)) }
                let denominator = epsilon == 0 ? z : z + (z >= 0 ? epsilon : -epsilon)
                result.keptByEpsilon += abs(term.coefficient) * epsilon * abs(layer.relevance[k] / denominator)
                for j in 0..<layer.inputs {
                    let share = term.coefficient * term.contribution(j, k) / denominator * layer.relevance[k]
                    result.relevance[j] += share
                    result.magnitudes[j] += abs(share) * (1 + size / abs(denominator))
                    if abs(share) > abs(result.largest.share) { result.largest = (j, share) }
                }
            }
        }
        return result
    }

    /// The float32 rounding of the rule against the float64 reference: at most 3 parts per term
    /// of J + 1 terms each in a denominator, K terms in each c_j per part, 2 terms of 3 parts
    /// added up, and the product, division and multiplications (+ 4).
    static func tolerance(_ reference: Reference, _ layer: MatrixLayer) -> Tolerance {
        .sum(count: 3 * (layer.inputs + 1) + layer.outputs + 6 + 4, magnitude: reference.magnitudes.max() ?? 0,
             largestTerm: abs(reference.largest.share))
    }

    // MARK: the layers

    /// 4 inputs of both signs, 3 outputs whose z_k are 2.1, 0.675 and −0.45 (far from 0, both signs).
    static func denseMatrix(bias: Bool = true) -> MatrixLayer {
        let w: [[Double]] = [[0.5, -1.0, 0.25, 2.0], [-0.75, 0.5, 1.0, -0.5], [0.1, 0.2, -0.3, 0.4]]
        return MatrixLayer(a: [1.0, -0.5, 2.0, 0.25], w: w, sees: w.map { $0.map { _ in true } },
                           b: bias ? [0.1, -0.2, 0.05] : [0, 0, 0], relevance: [1.5, -0.5, 0.75],
                           low: Array(repeating: -1, count: 4), high: Array(repeating: 2, count: 4))
    }

    static func dense(_ matrix: MatrixLayer) -> (Linear, Tensor, Tensor) {
        let layer = Linear(inputFeatures: matrix.inputs, outputFeatures: matrix.outputs)
        layer.weight.value = Tensor(shape: [matrix.outputs, matrix.inputs], data: matrix.w.flatMap { $0.map(Float.init) })
        layer.bias?.value = Tensor(shape: [matrix.outputs], data: matrix.b.map(Float.init))
        return (layer, Tensor(shape: [1, matrix.inputs], data: matrix.a.map(Float.init)),
                Tensor(shape: [1, matrix.outputs], data: matrix.relevance.map(Float.init)))
    }

    /// Conv2d 2 → 2 channels, kernel 2, padding 1, on a 3 × 3 input (4 × 4 output), and its
    /// unrolled matrix: output (o, i, j) sees input (c, i + u − 1, j + v − 1) where that is inside.
    /// zB's bounds per input channel: [−1, 2] and [−1.5, 1.5].
    static let convolutionBounds: (low: [Float], high: [Float]) = ([-1, -1.5], [2, 1.5])

    static func convolution(bias: Bool = true) -> (Conv2d, Tensor, Tensor, MatrixLayer) {
        let weights: [Float] = [0.5, -1, 0.25, 2, -0.3, 0.6, 0.9, -0.2,
                                -0.75, 0.5, 1, -0.5, 0.4, -0.8, 0.3, 0.7]
        let conv = Conv2d(inputChannels: 2, outputChannels: 2, kernelSize: 2, padding: 1, bias: bias,
                          weight: Tensor(shape: [2, 2, 2, 2], data: weights),
                          biasValue: bias ? Tensor(shape: [2], data: [0.1, -0.2]) : nil)
        let input = Tensor(shape: [1, 2, 3, 3], data: [1, -0.5, 2, 0.25, 0.5, -1, 1.5, 0.75, -0.25,
                                                       -1.2, 0.3, 0.9, 1.4, -0.6, 0.2, -0.1, 1.1, 0.45])
        let relevance = Tensor(shape: [1, 2, 4, 4], data: (0..<32).map { Float(sin(Double($0) * 1.3)) })
        var matrix = MatrixLayer(a: input.data.map(Double.init), w: [], sees: [], b: [], relevance: relevance.data.map(Double.init),
                                 low: (0..<18).map { Double(convolutionBounds.low[$0 / 9]) },
                                 high: (0..<18).map { Double(convolutionBounds.high[$0 / 9]) })
        for o in 0..<2 {
            for i in 0..<4 {
                for j in 0..<4 {
                    var row = [Double](repeating: 0, count: 18), sees = [Bool](repeating: false, count: 18)
                    for c in 0..<2 {
                        for u in 0..<2 {
                            for v in 0..<2 {
                                let (y, x) = (i + u - 1, j + v - 1)
                                guard (0..<3).contains(y) && (0..<3).contains(x) else { continue }
                                row[c * 9 + y * 3 + x] = Double(conv.weight.value[o, c, u, v])
                                sees[c * 9 + y * 3 + x] = true
                            }
                        }
                    }
                    matrix.w.append(row)
                    matrix.sees.append(sees)
                    matrix.b.append(bias ? Double(conv.bias!.value.data[o]) : 0)
                }
            }
        }
        return (conv, input, relevance, matrix)
    }

    // MARK: the rules against their formulas

    func checkAgainstFormula(_ name: String, layer: Layer, input: Tensor, relevance: Tensor, matrix: MatrixLayer,
                             bounds: (low: [Float], high: [Float]), label: String) throws {
        let rule = try Self.rule(name, matrix, channelBounds: bounds)
        let outcome = try rule.apply(to: layer, input: input, relevance: relevance)
        let reference = Self.reference(Self.referenceTerms(name, matrix), matrix, epsilon: Double(rule.stabilizerEpsilon))
        let tolerance = Self.tolerance(reference, matrix)
        assertWithin(outcome.relevance.data, reference.relevance.map(Float.init), tolerance, "\(label) \(rule): R_j against the formula")
        // Leaving out the largest share must show.
        var broken = outcome.relevance.data.map(Double.init)
        broken[reference.largest.index] -= reference.largest.share
        let check = Check.equal(label, "broken", broken[reference.largest.index], "formula",
                                reference.relevance[reference.largest.index], tolerance: tolerance)
        XCTAssertFalse(check.ok, "\(label) \(rule): a share left out passes \(tolerance)")
        // The ledger always balances: Σ_k R_k = Σ_j R_j + what biases and ε kept.
        assertWithin(outcome.relevance.sum() + outcome.absorbedByBias + outcome.absorbedByStabilizer, relevance.sum(),
                     .sum(count: outcome.sumLength, magnitude: (outcome.termMagnitudes?.sum() ?? 0) + outcome.absorbedMagnitude),
                     "\(label) \(rule): ledger")
    }

    func testDenseRulesMatchTheirFormulas() throws {
        let matrix = Self.denseMatrix()
        let (layer, input, relevance) = Self.dense(matrix)
        for name in Self.rules {
            try checkAgainstFormula(name, layer: layer, input: input, relevance: relevance, matrix: matrix,
                                    bounds: ([-1], [2]), label: "dense")
        }
        XCTAssertEqual(layer.weight.gradient.sum(), 0, "the rules leave the layer's gradients alone")
    }

    func testConvolutionRulesMatchTheirFormulas() throws {
        let (conv, input, relevance, matrix) = Self.convolution()
        for name in Self.rules {
            try checkAgainstFormula(name, layer: conv, input: input, relevance: relevance, matrix: matrix,
                                    bounds: Self.convolutionBounds, label: "convolution")
        }
    }

    // MARK: conservation

    /// Without biases every rule hands on Σ_k R_k up to what ε keeps (for αβ because α − β = 1;
    /// for γ because no z_k is exactly 0): |Σ_j R_j − Σ_k R_k| ≤ Σ_k ε |R_k| / |d_k| + rounding.
    /// zB conserves with biases too: b − b⁺ − b⁻ = 0.
    func testRulesConserveWithoutBias() throws {
        let (conv, input, relevance, matrix) = Self.convolution(bias: false)
        let (_, _, _, biased) = Self.convolution(bias: true)
        let (biasedConv, _, _, _) = Self.convolution(bias: true)
        for name in Self.rules where name != "epsilon" {      // ε = 0.1 absorbs on purpose
            let rule = try Self.rule(name, matrix, channelBounds: Self.convolutionBounds)
            let outcome = try rule.apply(to: conv, input: input, relevance: relevance)
            XCTAssertEqual(outcome.absorbedByBias, 0, "\(rule): no bias, nothing kept by it")
            let reference = Self.reference(Self.referenceTerms(name, matrix), matrix, epsilon: Double(rule.stabilizerEpsilon))
            let rounding = Tolerance.sum(count: outcome.sumLength, magnitude: outcome.termMagnitudes?.sum() ?? 0)
            let conserved = assertWithin(outcome.relevance.sum(), relevance.sum(),
                                         rounding + .absolute(reference.keptByEpsilon, because: "ε keeps Σ ε|R_k|/|d_k|"),
                                         "\(rule): Σ R_in = Σ R_out without bias")
            assertCatches(conserved, broken: outcome.relevance.sum() - reference.largest.share, "the largest share left out")
        }
        let zBox = LRPRule.zBox(low: Self.convolutionBounds.low, high: Self.convolutionBounds.high)
        let outcome = try zBox.apply(to: biasedConv, input: input, relevance: relevance)
        XCTAssertEqual(outcome.absorbedByBias, 0, "zB: the biases of its three parts cancel")
        let reference = Self.reference(Self.referenceTerms("zB", biased), biased, epsilon: 1e-6)
        assertWithin(outcome.relevance.sum(), relevance.sum(),
                     .sum(count: outcome.sumLength, magnitude: outcome.termMagnitudes?.sum() ?? 0)
                        + .absolute(reference.keptByEpsilon, because: "ε keeps Σ ε|R_k|/|d_k|"),
                     "zB conserves with biases")
    }

    /// With biases the rules other than zB and flat keep a share in the biases, and the ledger says
    /// how much: forgetting it breaks the balance.
    func testBiasShareIsInTheLedger() throws {
        let (conv, input, relevance, matrix) = Self.convolution(bias: true)
        for name in ["0", "epsilon", "z+", "alpha2beta1", "gamma"] {
            let rule = try Self.rule(name, matrix, channelBounds: Self.convolutionBounds)
            let outcome = try rule.apply(to: conv, input: input, relevance: relevance)
            let ledger = assertWithin(outcome.relevance.sum() + outcome.absorbedByBias + outcome.absorbedByStabilizer, relevance.sum(),
                                      .sum(count: outcome.sumLength, magnitude: (outcome.termMagnitudes?.sum() ?? 0) + outcome.absorbedMagnitude),
                                      "\(rule): ledger with biases")
            assertCatches(ledger, broken: outcome.relevance.sum() + outcome.absorbedByStabilizer, "\(rule): the bias share left out")
        }
    }

    /// αβ where a neuron has no negative contribution (a ≥ 0, w ≥ 0, b ≥ 0: z⁻_k = 0): the β term
    /// has nothing to share R_k among, so the layer hands on α·R_k, not R_k. The ledger books the
    /// difference −β·R_k under the stabiliser (it divided by ε alone).
    func testAlphaBetaCreatesRelevanceWithoutNegativeContributions() throws {
        let layer = Linear(inputFeatures: 3, outputFeatures: 1)
        layer.weight.value = Tensor(shape: [1, 3], data: [0.5, 1, 0.25])
        layer.bias?.value = Tensor(shape: [1], data: [0])
        let input = Tensor(shape: [1, 3], data: [1, 2, 4])
        let relevance = Tensor(shape: [1, 1], data: [3])
        let outcome = try LRPRule.alpha2Beta1.apply(to: layer, input: input, relevance: relevance)
        let rounding = Tolerance.sum(count: outcome.sumLength, magnitude: outcome.termMagnitudes?.sum() ?? 0)
        let kept = Tolerance.absolute(2 * 1e-6 * 3 / 3.5, because: "α ε R / (z⁺ + ε)")
        assertWithin(outcome.relevance.sum(), 2 * 3, rounding + kept, "αβ hands on α·R where z⁻ = 0")
        assertWithin(outcome.absorbedByStabilizer, -1 * 3, rounding + kept, "the ledger books −β·R under the stabiliser")
    }

    // MARK: special cases and parameters

    func testAlphaMinusBetaMustBeOne() {
        XCTAssertThrowsError(try LRPRule.alphaBeta(alpha: 2, beta: 2)) { error in
            XCTAssertTrue("\(error)".contains("α − β must equal 1"), "\(error)")
        }
        XCTAssertThrowsError(try LRPRule.alphaBeta(alpha: 0.5, beta: -0.5)) { error in
            XCTAssertTrue("\(error)".contains("≥ 0"), "\(error)")
        }
        XCTAssertNoThrow(try LRPRule.alphaBeta(alpha: 3, beta: 2))
        XCTAssertEqual(LRPRule.alpha2Beta1.description, "αβ (α = 2, β = 1)")
    }

    /// αβ with α = 1, β = 0 is z⁺ (Zennit says so of its ZPlus), bit for bit: the β term adds −0.
    func testAlphaOneBetaZeroIsZPlus() throws {
        let (conv, input, relevance, _) = Self.convolution()
        let zPlus = try LRPRule.zPlus.apply(to: conv, input: input, relevance: relevance)
        let alphaBeta = try LRPRule.alphaBeta(alpha: 1, beta: 0).apply(to: conv, input: input, relevance: relevance)
        XCTAssertEqual(zPlus.relevance.data, alphaBeta.relevance.data)
    }

    /// γ = 0 is LRP-ε with Zennit's ε = 1e-6 wherever z_k ≠ 0: both divide by z_k ± ε.
    func testGammaZeroIsEpsilon() throws {
        let (conv, input, relevance, matrix) = Self.convolution()
        let gamma = try LRPRule.gamma(0).apply(to: conv, input: input, relevance: relevance)
        let epsilon = try LRPRule.epsilon(1e-6).apply(to: conv, input: input, relevance: relevance)
        let reference = Self.reference(Self.referenceTerms("epsilon", matrix), matrix, epsilon: 1e-6)
        let side = Self.tolerance(reference, matrix)
        assertWithin(gamma.relevance, epsilon.relevance, side + side, "γ = 0 against ε = 1e-6")
    }

    /// zB with a bound count that matches neither 1 nor the channels is an error, not a crash.
    func testZBoxBoundsMustMatchTheChannels() throws {
        let (conv, input, relevance, _) = Self.convolution()
        XCTAssertThrowsError(try LRPRule.zBox(low: [-1, -1, -1], high: [1, 1, 1]).apply(to: conv, input: input, relevance: relevance))
    }

    // MARK: composites on a network

    /// The first-layer rules land on the first layer only, the others where the composite says.
    func testCompositesPutEachRuleWhereZennitDoes() throws {
        let classifier = try ImageClassifier.load(from: LRPTests.repositoryRoot.appendingPathComponent("models/mininet.safetensors").path)
        let input = classifier.normalize(ShapesDataset(count: 4, seed: 2026, imageSize: classifier.inputSize[1]).sample(at: 1).image)
        let bounds = LRPInputBounds(classifier: classifier)
        let expected: [String: [String: String]] = [
            "epsilon": ["features.0": "LRP-ε (ε = 1e-06)", "features.4": "LRP-ε (ε = 1e-06)", "classifier": "LRP-ε (ε = 1e-06)"],
            "epsilon-plus": ["features.0": "z⁺", "features.4": "z⁺", "classifier": "LRP-ε (ε = 1e-06)"],
            "epsilon-plus-flat": ["features.0": "flat", "features.4": "z⁺", "classifier": "LRP-ε (ε = 1e-06)"],
            "epsilon-gamma-box": ["features.0": "zᴮ", "features.4": "γ (γ = 0.25)", "classifier": "LRP-ε (ε = 1e-06)"],
            "epsilon-alpha2-beta1": ["features.0": "αβ (α = 2, β = 1)", "features.8": "αβ (α = 2, β = 1)", "classifier": "LRP-ε (ε = 1e-06)"],
        ]
        for id in LRPComposite.ids {
            let composite = try LRPComposite.named(id, inputBounds: bounds)
            let result = try layerwiseRelevance(classifier: classifier, input: input, target: .logit(2), composite: composite)
            let treatments = Dictionary(uniqueKeysWithValues: result.steps.map { ($0.layer, $0.treatment) })
            for (layer, treatment) in try XCTUnwrap(expected[id]) {
                XCTAssertEqual(treatments[layer], treatment, "\(id): \(layer)")
            }
            XCTAssertEqual(treatments["pool"], "LRP-ε (ε = 1e-06)", "\(id): Norm on average pooling")
            assertWithin(result.relevance.sum() + result.totalAbsorbed, Double(result.score),
                         result.conservationTolerance(classifier: classifier, input: input), "\(id): ledger")
        }
        XCTAssertThrowsError(try layerwiseRelevance(classifier: classifier, input: input, target: .probability(2),
                                                    composite: .epsilonPlus())) { error in
            XCTAssertTrue("\(error)".contains("logit"), "\(error)")
        }
    }
}

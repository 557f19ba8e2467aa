import Foundation
import XCTest
import MiniNet

final class IntegratedGradientsTests: XCTestCase {
    /// The repository root, three levels above this file.
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().path

    func loadModel() throws -> ImageClassifier {
        try ImageClassifier.load(from: Self.repositoryRoot + "/models/mininet.safetensors")
    }

    /// A deterministic picture from the shapes data set, normalised.
    func sampleInput(_ classifier: ImageClassifier, index: Int = 3) -> Tensor {
        let picture = ShapesDataset(count: 16, seed: 2026, imageSize: classifier.inputSize[1]).sample(at: index).image
        return classifier.normalize(picture)
    }

    /// Σ_m weight_m · p(α_m) for p(α) = α^degree
    func quadrature(_ method: IntegrationMethod, steps: Int, degree: Int) -> Double {
        let (alphas, weights) = method.pointsAndWeights(steps: steps)
        return zip(alphas, weights).reduce(0) { $0 + $1.1 * pow($1.0, Double(degree)) }
    }

    // The quadrature tests below are Double-precision identities of well-conditioned sums of at
    // most 1000 terms of size ≤ 2 (nodes and weights computed in Double), so 1e-12 to 1e-15 is
    // rounding in Double (u = 2⁻⁵³ ≈ 1.1e-16), not float32; they stay fixed.
    func testGaussLegendreIsExactUpToDegreeTwoNMinusOne() {
        for n in [1, 2, 3, 5, 8, 13, 50] {
            for degree in 0...(2 * n - 1) {
                XCTAssertEqual(quadrature(.gaussLegendre, steps: n, degree: degree), 1 / Double(degree + 1),
                               accuracy: 1e-12, "n = \(n), degree \(degree)")
            }
            // Degree 2n is where exactness ends (visibly so for small n).
            if n <= 5 { XCTAssertGreaterThan(abs(quadrature(.gaussLegendre, steps: n, degree: 2 * n) - 1 / Double(2 * n + 1)), 1e-14,
                                 "n = \(n) should not be exact at degree \(2 * n)") }
        }
    }

    func testGaussLegendreMatchesNumpyLeggauss() {
        // numpy.polynomial.legendre.leggauss(3): nodes ±√(3/5), 0; weights 5/9, 8/9, 5/9.
        let (nodes, weights) = gaussLegendreNodesAndWeights(count: 3)
        let expectedNodes = [-(3.0 / 5).squareRoot(), 0, (3.0 / 5).squareRoot()]
        for (a, b) in zip(nodes, expectedNodes) { XCTAssertEqual(a, b, accuracy: 1e-15) }
        for (a, b) in zip(weights, [5.0 / 9, 8.0 / 9, 5.0 / 9]) { XCTAssertEqual(a, b, accuracy: 1e-15) }
        let large = gaussLegendreNodesAndWeights(count: 1000)
        XCTAssertEqual(large.weights.reduce(0, +), 2, accuracy: 1e-12)
        XCTAssertEqual(large.nodes, large.nodes.sorted())
    }

    func testRiemannRules() {
        // Trapezoid with Captum's weights (1/n, halved at the ends) integrates a linear
        // function exactly up to its total weight 1 − 1/n: Σ w·(a + bα) = (1 − 1/n)(a + b/2).
        for n in [2, 3, 10, 50] {
            let (alphas, weights) = IntegrationMethod.riemannTrapezoid.pointsAndWeights(steps: n)
            let total = zip(alphas, weights).reduce(0) { $0 + $1.1 * (2 + 3 * $1.0) }
            // The points are float32 (torch.linspace), so the sum is off by u·Σ|w·(2 + 3α)| ≤ 5u.
            assertWithin(total, (1 - 1 / Double(n)) * (2 + 1.5), .sum(count: 1, magnitude: 5), "trapezoid, n = \(n)")
            XCTAssertEqual(alphas.first, 0)
            XCTAssertEqual(alphas.last, 1)
        }
        // Midpoint is exact on linear functions; left and right are exact on constants.
        // Float32 points α_m (torch.linspace), Double sums: one rounding of each α, Σ w·α ≤ 1.
        let pointRounding = Tolerance.sum(count: 1, magnitude: 1)
        assertWithin(quadrature(.riemannMiddle, steps: 7, degree: 1), 0.5, pointRounding, "midpoint, degree 1")
        XCTAssertEqual(quadrature(.riemannLeft, steps: 7, degree: 0), 1, accuracy: 1e-12)
        XCTAssertEqual(quadrature(.riemannRight, steps: 7, degree: 0), 1, accuracy: 1e-12)
        // Left underestimates and right overestimates an increasing function by 1/(2n).
        assertWithin(quadrature(.riemannLeft, steps: 10, degree: 1), 0.5 - 0.05, pointRounding, "left, degree 1")
        assertWithin(quadrature(.riemannRight, steps: 10, degree: 1), 0.5 + 0.05, pointRounding, "right, degree 1")
        // The points are torch.linspace's float32 values.
        XCTAssertEqual(IntegrationMethod.riemannLeft.pointsAndWeights(steps: 3).alphas,
                       [0, Double(Float(1.0 / 3)), Double(Float(2.0 / 3))])
    }

    func testCompletenessGapShrinksWithSteps() throws {
        let classifier = try loadModel()
        let input = sampleInput(classifier)
        let baseline = Baseline.zero.make(for: input, classifier: classifier)
        let predicted = classifier.forward(input.reshaped([1] + input.shape)).argmax
        for method in IntegrationMethod.allCases {
            var gaps: [Double] = []
            var scoreChange = 0.0
            for steps in [4, 128] {
                let result = try integratedGradients(classifier: classifier, input: input, baseline: baseline,
                                                     target: .logit(predicted), steps: steps, method: method)
                gaps.append(result.completenessGap)
                scoreChange = abs(Double(result.scoreAtInput) - Double(result.scoreAtBaseline))
                if steps == 128 {
                    // Koksma's quadrature bound plus the rounding of both scores and of Σ IG.
                    assertWithin(result.totalAttribution, Double(result.scoreAtInput) - Double(result.scoreAtBaseline),
                                 result.completenessTolerance(classifier: classifier, input: input, baseline: baseline),
                                 "\(method.rawValue), 128 steps: Σ IG = f(x) − f(x′)")
                }
            }
            XCTAssertGreaterThan(scoreChange, 1, "the picture should move the score")
            XCTAssertLessThan(gaps[1], gaps[0], "\(method.rawValue): gaps \(gaps)")
        }
    }

    func testGaussLegendreCompletenessOnEveryClassAndBaseline() throws {
        let classifier = try loadModel()
        for index in 0..<2 {
            let input = sampleInput(classifier, index: index)
            for baseline in Baseline.allCases {
                let start = baseline.make(for: input, classifier: classifier)
                for c in 0..<classifier.classNames.count {
                    let result = try integratedGradients(classifier: classifier, input: input, baseline: start,
                                                         target: .logit(c), steps: 100)
                    let change = Double(result.scoreAtInput) - Double(result.scoreAtBaseline)
                    let tolerance = result.completenessTolerance(classifier: classifier, input: input, baseline: start)
                    let check = assertWithin(result.totalAttribution, change, tolerance, "Σ IG = f(x) − f(x′), sample \(index), \(baseline), class \(c)")
                    // The quadrature bound dominates, so the check is asked to notice a sign
                    // flipped and a mean taken for a sum, not a single small term.
                    if abs(change) > tolerance.value {
                        assertCatches(check, broken: -result.totalAttribution, "a sign flipped")
                        assertCatches(check, broken: result.totalAttribution / Double(input.count), "a mean for a sum")
                    }
                }
            }
        }
    }

    func testBatchSizeDoesNotChangeTheResult() throws {
        let classifier = try loadModel()
        let input = sampleInput(classifier)
        let baseline = Baseline.black.make(for: input, classifier: classifier)
        let one = try integratedGradients(classifier: classifier, input: input, baseline: baseline,
                                          target: .logit(1), steps: 20, batchSize: 1)
        let many = try integratedGradients(classifier: classifier, input: input, baseline: baseline,
                                           target: .logit(1), steps: 20, batchSize: 7)
        // Another batch size is another shape for every product, so other blocks and another
        // order of summation: each IG_i comes out of a backward pass as deep as the network, and
        // each route rounds depth · γₙ times the size of IG_i (as `completenessTolerance` takes the
        // rounding of the gradients), n the largest fan-in.
        let network = classifier.forwardTolerance(input: input, target: 1)
        let depth = network.parts.first?.depth ?? 1
        let side = Tolerance.elementwise(count: network.count, magnitudes: one.attributions, depth: depth)
            + Tolerance.elementwise(count: network.count, magnitudes: many.attributions, depth: depth)
        assertWithin(many.attributions, one.attributions, side, "IG with batch size 7 against 1")
    }

    func testBaselines() throws {
        let classifier = try loadModel()
        let input = sampleInput(classifier)
        XCTAssertEqual(Baseline.zero.make(for: input, classifier: classifier), Tensor(zeros: input.shape))
        let black = Baseline.black.make(for: input, classifier: classifier)
        // (0 − μ)/σ, then ·σ + μ: three float32 roundings on values of size |μ|.
        let largestMean = Double(classifier.spec.mean.map(abs).max() ?? 0)
        assertWithin(classifier.denormalize(black), Tensor(zeros: input.shape), .sum(count: 3, magnitude: largestMean),
                     "denormalize(black) = 0")
        let blurred = Baseline.blurred.make(for: input, classifier: classifier)
        XCTAssertEqual(blurred.shape, input.shape)
        // Not rounding: the blur clamps at the borders, which moves the mean by up to a few
        // percent of the contrast; 0.05 is that qualitative "roughly", not a float32 bound.
        XCTAssertEqual(blurred.mean(), input.mean(), accuracy: 0.05, "a blur keeps the average colour roughly")
        XCTAssertLessThan(blurred.max - blurred.min, input.max - input.min, "a blur lowers the contrast")
        // A constant picture is unchanged by the blur.
        let flat = Tensor(repeating: 0.3, shape: [3, 8, 8])
        // Two passes, each a Double sum rounded once to float32 (the kernel adds up to 1 in Double).
        assertWithin(gaussianBlur(flat, sigma: 2), flat, .sum(count: 1, magnitude: 0.3, depth: 2), "blur of a flat picture")
    }

    func testSaliencyIsTheInputGradient() throws {
        let classifier = try loadModel()
        let input = sampleInput(classifier)
        let signed = try saliency(classifier: classifier, input: input, target: .logit(2), absolute: false)
        let absolute = try saliency(classifier: classifier, input: input, target: .logit(2))
        XCTAssertEqual(absolute, signed.map { abs($0) })
        let probe = try LayerProbe(classifier: classifier, input: input, layer: "features.8", target: .logit(2),
                                   throughToInput: true)
        // The same forward and backward passes on the same data (the probe's hooks only record):
        // the same bits, whatever the thread count.
        assertWithin(signed, probe.inputGradient, .exact, "saliency = the probe's input gradient")
        // First-order check along the gradient: f(x + εg) − f(x) ≈ ε|g|².
        let epsilon: Float = 1e-3
        let scores = classifier.forward(Tensor.stack([input, input + signed * epsilon])).data
        let classes = classifier.classNames.count
        let predictedChange = Double(epsilon) * (signed * signed).sum()
        // Two kinds of error. Not rounding: f is piecewise linear, and along a step ε·g ReLUs and
        // max-pool windows may switch, so the first-order prediction is off by a model error
        // we cannot bound from g alone; 20 % of the prediction is that stated allowance (a wrong
        // gradient, e.g. the wrong class or sign, is off by 100 % or more). Rounding: each of the
        // two scores is a float32 forward pass (`forwardTolerance`), which replaces the old 1e-4.
        let tolerance = Tolerance.absolute(0.2 * predictedChange, because: "first-order model along ε·g, ReLU switches")
            + classifier.forwardTolerance(input: input, target: 2)
            + classifier.forwardTolerance(input: input + signed * epsilon, target: 2)
        let actual = Double(scores[classes + 2]) - Double(scores[2])
        let check = assertWithin(actual, predictedChange, tolerance, "f(x + εg) − f(x) = ε|g|²")
        assertCatches(check, broken: -actual, "a gradient of the wrong sign")
    }

    func testBadArgumentsThrowOneLineErrors() throws {
        let classifier = try loadModel()
        let input = sampleInput(classifier)
        let baseline = Tensor(zeros: input.shape)
        func message(_ body: () throws -> Void) -> String {
            do { try body(); return "" } catch { return "\(error)" }
        }
        let cases: [String] = [
            message { _ = try integratedGradients(classifier: classifier, input: input, baseline: baseline, target: .logit(0), steps: 0) },
            message { _ = try integratedGradients(classifier: classifier, input: input, baseline: baseline, target: .logit(0), steps: 1, method: .riemannLeft) },
            message { _ = try integratedGradients(classifier: classifier, input: input, baseline: baseline, target: .logit(0), steps: 100_001) },
            message { _ = try integratedGradients(classifier: classifier, input: input, baseline: baseline, target: .logit(5)) },
            message { _ = try integratedGradients(classifier: classifier, input: input, baseline: Tensor(zeros: [3, 4, 4]), target: .logit(0)) },
            message { _ = try integratedGradients(classifier: classifier, input: Tensor(zeros: [1, 32, 32]), baseline: baseline, target: .logit(0)) },
            message { _ = try saliency(classifier: classifier, input: input, target: .logit(-1)) },
        ]
        for text in cases {
            XCTAssertFalse(text.isEmpty, "should throw")
            XCTAssertFalse(text.contains("\n"), text)
        }
        XCTAssertTrue(cases[0].contains("steps"), cases[0])
        XCTAssertTrue(cases[3].contains("class 5"), cases[3])
    }
}

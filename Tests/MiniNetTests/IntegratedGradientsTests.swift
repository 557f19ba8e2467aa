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
            XCTAssertEqual(total, (1 - 1 / Double(n)) * (2 + 1.5), accuracy: 1e-6, "n = \(n)")
            XCTAssertEqual(alphas.first, 0)
            XCTAssertEqual(alphas.last, 1)
        }
        // Midpoint is exact on linear functions; left and right are exact on constants.
        XCTAssertEqual(quadrature(.riemannMiddle, steps: 7, degree: 1), 0.5, accuracy: 1e-6)
        XCTAssertEqual(quadrature(.riemannLeft, steps: 7, degree: 0), 1, accuracy: 1e-12)
        XCTAssertEqual(quadrature(.riemannRight, steps: 7, degree: 0), 1, accuracy: 1e-12)
        // Left underestimates and right overestimates an increasing function by 1/(2n).
        XCTAssertEqual(quadrature(.riemannLeft, steps: 10, degree: 1), 0.5 - 0.05, accuracy: 1e-6)
        XCTAssertEqual(quadrature(.riemannRight, steps: 10, degree: 1), 0.5 + 0.05, accuracy: 1e-6)
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
            }
            XCTAssertGreaterThan(scoreChange, 1, "the picture should move the score")
            XCTAssertLessThan(gaps[1], gaps[0], "\(method.rawValue): gaps \(gaps)")
            XCTAssertLessThan(gaps[1], 0.02 * scoreChange, "\(method.rawValue): gaps \(gaps)")
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
                    XCTAssertEqual(result.totalAttribution, change, accuracy: 0.05 * max(1, abs(change)),
                                   "sample \(index), \(baseline), class \(c)")
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
        XCTAssertLessThan(one.attributions.maxAbsDifference(many.attributions), 1e-5)
    }

    func testBaselines() throws {
        let classifier = try loadModel()
        let input = sampleInput(classifier)
        XCTAssertEqual(Baseline.zero.make(for: input, classifier: classifier), Tensor(zeros: input.shape))
        let black = Baseline.black.make(for: input, classifier: classifier)
        XCTAssertEqual(classifier.denormalize(black).maxAbsDifference(Tensor(zeros: input.shape)), 0, accuracy: 1e-6)
        let blurred = Baseline.blurred.make(for: input, classifier: classifier)
        XCTAssertEqual(blurred.shape, input.shape)
        XCTAssertEqual(blurred.mean(), input.mean(), accuracy: 0.05, "a blur keeps the average colour roughly")
        XCTAssertLessThan(blurred.max - blurred.min, input.max - input.min, "a blur lowers the contrast")
        // A constant picture is unchanged by the blur.
        let flat = Tensor(repeating: 0.3, shape: [3, 8, 8])
        XCTAssertLessThan(gaussianBlur(flat, sigma: 2).maxAbsDifference(flat), 1e-6)
    }

    func testSaliencyIsTheInputGradient() throws {
        let classifier = try loadModel()
        let input = sampleInput(classifier)
        let signed = try saliency(classifier: classifier, input: input, target: .logit(2), absolute: false)
        let absolute = try saliency(classifier: classifier, input: input, target: .logit(2))
        XCTAssertEqual(absolute, signed.map { abs($0) })
        let probe = try LayerProbe(classifier: classifier, input: input, layer: "features.8", target: .logit(2))
        XCTAssertLessThan(signed.maxAbsDifference(probe.inputGradient), 1e-6)
        // First-order check along the gradient: f(x + εg) − f(x) ≈ ε|g|².
        let epsilon: Float = 1e-3
        let scores = classifier.forward(Tensor.stack([input, input + signed * epsilon])).data
        let classes = classifier.classNames.count
        let predictedChange = Double(epsilon) * (signed * signed).sum()
        XCTAssertEqual(Double(scores[classes + 2] - scores[2]), predictedChange, accuracy: 0.2 * predictedChange + 1e-4)
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

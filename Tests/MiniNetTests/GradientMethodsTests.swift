import Foundation
import XCTest
import MiniNet

/// The identities of input × gradient, SmoothGrad, VarGrad and guided backpropagation that
/// hold by construction, on small networks built for them; parity with Captum is in
/// GradientMethodsParityTests.
final class GradientMethodsTests: XCTestCase {
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().path

    func shippedModel() throws -> ImageClassifier {
        try ImageClassifier.load(from: Self.repositoryRoot + "/models/mininet.safetensors")
    }

    /// A picture of the shapes data set, normalised.
    func sampleInput(_ classifier: ImageClassifier) -> Tensor {
        classifier.normalize(ShapesDataset(count: 8, seed: 2026, imageSize: classifier.inputSize[1]).sample(at: 5).image)
    }

    /// A classifier for [3, 4, 4] inputs from `layers`, every parameter seeded uniform in ±0.5.
    func smallClassifier(_ layers: [LayerSpec], seed: UInt64) throws -> ImageClassifier {
        let spec = ModelSpec(architecture: "test", layers: layers, inputSize: [3, 4, 4], mean: [0.5, 0.5, 0.5],
                             std: [0.25, 0.25, 0.25], classNames: ["a", "b", "c"])
        let classifier = try ImageClassifier(spec: spec)
        for (offset, (_, parameter)) in classifier.network.namedParameters.enumerated() {
            parameter.value = GradientCheck.uniform(parameter.value.shape, seed: seed &+ UInt64(offset), -0.5, 0.5)
        }
        return classifier
    }

    // MARK: input × gradient

    /// y = W x + b: ∂y_c/∂x = W_c, so input × gradient is W_c ⊙ x. The backward pass computes
    /// Σ_j [j = c] W_j,i, which is W_c,i plus exact zeros, and the product rounds as W_c,i · x_i
    /// does: the same bits.
    func testInputTimesGradientOfALinearModelIsWeightTimesInput() throws {
        let classifier = try smallClassifier([LayerSpec(name: "flatten", type: "Flatten"), .linear("classifier", 48, 3, bias: true)],
                                             seed: 11)
        let weights = try XCTUnwrap(classifier.network.namedParameters.first { $0.name == "classifier.weight" }).parameter.value
        let input = GradientCheck.uniform([3, 4, 4], seed: 12, -2, 2)
        for c in 0..<3 {
            let attributions = try inputTimesGradient(classifier: classifier, input: input, target: .logit(c))
            let expected = Tensor(shape: input.shape, data: (0..<48).map { weights.data[c * 48 + $0] * input.data[$0] })
            assertWithin(attributions, expected, .exact, "class \(c): input × gradient = W_c ⊙ x")
            // And they add up to y_c − b_c (each side a float32 sum of the 48 products).
            let logits = classifier.forward(input.reshaped([1, 3, 4, 4])).data
            let bias = try XCTUnwrap(classifier.network.namedParameters.first { $0.name == "classifier.bias" }).parameter.value.data[c]
            let tolerance = Tolerance.sum(of: expected.data.map(Double.init) + [Double(bias)])
            assertWithin(attributions.sum(), Double(logits[c]) - Double(bias), tolerance + tolerance, "class \(c): Σ = y_c − b_c")
        }
    }

    // MARK: SmoothGrad and VarGrad

    /// σ = 0: every noisy input is x itself (x + 0·ε rounds to x), so with one sample per batch
    /// each gradient is saliency's, bit for bit; their mean is that gradient and their variance 0.
    func testSmoothGradWithoutNoiseIsTheGradient() throws {
        let classifier = try shippedModel()
        let input = sampleInput(classifier)
        let gradient = try saliency(classifier: classifier, input: input, target: .logit(1), absolute: false)
        let result = try smoothGrad(classifier: classifier, input: input, target: .logit(1), samples: 3, noise: 0, seed: 5, batchSize: 1)
        XCTAssertEqual(result.noise.sigma, 0)
        assertWithin(result.smoothGrad, gradient, .exact, "SmoothGrad with σ = 0")
        assertWithin(result.varGrad, Tensor(zeros: input.shape), .exact, "VarGrad with σ = 0")
    }

    /// With noise, SmoothGrad and VarGrad are the mean and the (population) variance of the
    /// saliency maps of the noisy inputs `SmoothGradNoise` makes. With one sample per batch each
    /// gradient is saliency's, bit for bit; the statistics are then taken in Double on both sides
    /// (Welford's update here, two passes in the test) and rounded once to float32, so each side
    /// carries one float32 rounding of a value at most max E[|g|] (mean) or max E[g²] (variance).
    /// (Batches of several rounds each gradient differently, and a ReLU may switch on that:
    /// GradientMethodsParityTests compares batched runs with Captum's float64 twin.)
    func testSmoothGradIsTheMeanOfTheNoisySaliencyMaps() throws {
        let classifier = try shippedModel()
        let input = sampleInput(classifier)
        let samples = 5
        let noise = SmoothGradNoise(fraction: 0.2, of: input, seed: 9)
        XCTAssertEqual(Double(noise.sigma), 0.2 * Double(input.max - input.min), accuracy: Double(noise.sigma) * 0x1p-23)
        let maps = try (0..<samples).map {
            try saliency(classifier: classifier, input: noise.noisyInput(input, sample: $0), target: .logit(2), absolute: false)
        }
        var mean = Tensor(zeros: input.shape), variance = Tensor(zeros: input.shape)
        var meanAbsolute = Tensor(zeros: input.shape), meanSquare = Tensor(zeros: input.shape)
        for i in 0..<input.count {
            let values = maps.map { Double($0.data[i]) }
            let average = values.reduce(0, +) / Double(samples)
            mean.data[i] = Float(average)
            variance.data[i] = Float(values.reduce(0) { $0 + ($1 - average) * ($1 - average) } / Double(samples))
            meanAbsolute.data[i] = Float(values.reduce(0) { $0 + abs($1) } / Double(samples))
            meanSquare.data[i] = Float(values.reduce(0) { $0 + $1 * $1 } / Double(samples))
        }
        let result = try smoothGrad(classifier: classifier, input: input, target: .logit(2), samples: samples, noise: 0.2, seed: 9,
                                    batchSize: 1)
        let meanRounding = Tolerance.elementwise(count: 1, magnitudes: meanAbsolute)
        let varianceRounding = Tolerance.elementwise(count: 1, magnitudes: meanSquare)
        assertWithin(result.smoothGrad, mean, meanRounding + meanRounding, "SmoothGrad = mean of the saliency maps")
        assertWithin(result.varGrad, variance, varianceRounding + varianceRounding, "VarGrad = their variance")
        // The tolerances are tight enough to see a sum taken for a mean, or the sample variance
        // (÷ (n − 1)) taken for the population one.
        XCTAssertFalse(Check.equal("", "", result.smoothGrad * Float(samples), "", mean, tolerance: meanRounding + meanRounding).ok)
        XCTAssertFalse(Check.equal("", "", result.varGrad * (Float(samples) / Float(samples - 1)), "", variance,
                                   tolerance: varianceRounding + varianceRounding).ok)
        XCTAssertEqual(result.noisyScores.count, samples)
    }

    func testSmoothGradIsReproducibleAndTheSeedMatters() throws {
        let classifier = try shippedModel()
        let input = sampleInput(classifier)
        let first = try smoothGrad(classifier: classifier, input: input, target: .logit(0), samples: 3, noise: 0.15, seed: 1)
        let again = try smoothGrad(classifier: classifier, input: input, target: .logit(0), samples: 3, noise: 0.15, seed: 1)
        let other = try smoothGrad(classifier: classifier, input: input, target: .logit(0), samples: 3, noise: 0.15, seed: 2)
        XCTAssertEqual(first.smoothGrad, again.smoothGrad)
        XCTAssertEqual(first.varGrad, again.varGrad)
        XCTAssertNotEqual(first.smoothGrad, other.smoothGrad)
        // Sample m's noise is its own stream: sample 1 of 3 is sample 1 of 2.
        let noise = SmoothGradNoise(fraction: 0.15, of: input, seed: 1)
        XCTAssertEqual(noise.standardNormals(sample: 1, count: 7), Array(noise.standardNormals(sample: 1, count: 8).prefix(7)))
        XCTAssertNotEqual(noise.standardNormals(sample: 0, count: 8), noise.standardNormals(sample: 1, count: 8))
        XCTAssertGreaterThanOrEqual(first.varGrad.min, 0, "a variance")
    }

    func testSmoothGradRefusesBadSettingsWithOneLineErrors() throws {
        let classifier = try shippedModel()
        let input = sampleInput(classifier)
        for (samples, noise, batchSize) in [(0, 0.1, 4), (100_001, 0.1, 4), (4, -0.1, 4), (4, .nan, 4), (4, 11, 4), (4, 0.1, 0)] {
            XCTAssertThrowsError(try smoothGrad(classifier: classifier, input: input, target: .logit(0), samples: samples,
                                                noise: noise, batchSize: batchSize)) { error in
                XCTAssertFalse("\(error)".contains("\n"))
            }
        }
    }

    // MARK: guided backpropagation

    func testReLUGuidedRuleKeepsOnlyPositiveSignalsWhereTheInputWasPositive() {
        let relu = ReLU()
        _ = relu.forward(Tensor(shape: [5], data: [-1, 0, 2, 3, 4]))
        let signal = Tensor(shape: [5], data: [5, 5, -4, 1, 0])
        XCTAssertEqual(relu.backward(signal).data, [0, 0, -4, 1, 0], "gradient: g · [x > 0]")
        relu.gradientRule = .guided
        XCTAssertEqual(relu.backward(signal).data, [0, 0, 0, 1, 0], "guided: max(g, 0) · [x > 0]")
    }

    /// Without ReLUs the guided rule changes nothing: the same backward pass, the same bits.
    func testGuidedBackpropWithoutReLUIsTheGradient() throws {
        let classifier = try smallClassifier([
            .conv2d("features.0", 3, 4, kernelSize: 3, padding: 1, bias: true), .batchNorm2d("features.1", 4),
            .maxPool2d("features.2", kernelSize: 2, stride: 2), .conv2d("features.3", 4, 5, kernelSize: 3, padding: 1, bias: true),
            .globalAveragePool("pool"), LayerSpec(name: "flatten", type: "Flatten"), .linear("classifier", 5, 3, bias: true),
        ], seed: 21)
        let input = GradientCheck.uniform([3, 4, 4], seed: 22)
        for target in [ExplanationTarget.logit(0), .probability(2)] {
            let gradient = try saliency(classifier: classifier, input: input, target: target, absolute: false)
            let guided = try guidedBackpropagation(classifier: classifier, input: input, target: target)
            assertWithin(guided, gradient, .exact, "guided backprop without ReLU, \(target)")
        }
    }

    /// With ReLUs it differs, and every ReLU is back on the gradient afterwards, also after an error.
    func testGuidedBackpropDiffersWithReLUAndPutsTheRuleBack() throws {
        let classifier = try shippedModel()
        let input = sampleInput(classifier)
        let before = try saliency(classifier: classifier, input: input, target: .logit(0), absolute: false)
        let guided = try guidedBackpropagation(classifier: classifier, input: input, target: .logit(0))
        XCTAssertNotEqual(guided, before)
        let relus = classifier.network.allLayers.compactMap { $0 as? ReLU }
        XCTAssertFalse(relus.isEmpty)
        XCTAssertTrue(relus.allSatisfy { $0.gradientRule == .gradient })
        assertWithin(try saliency(classifier: classifier, input: input, target: .logit(0), absolute: false), before, .exact,
                     "saliency after guided backprop")
        struct Stop: Error {}
        XCTAssertThrowsError(try classifier.withReLUGradientRule(.guided) {
            XCTAssertTrue(relus.allSatisfy { $0.gradientRule == .guided })
            throw Stop()
        })
        XCTAssertTrue(relus.allSatisfy { $0.gradientRule == .gradient }, "the rule is put back after an error")
    }

    // MARK: thread count

    /// The products are cut into blocks by shape alone, never by thread count (Gemm), and the
    /// noise is drawn per sample: 1 thread and 4 give the same bits for every method.
    func testResultsDoNotDependOnTheThreadCount() throws {
        let root = Self.repositoryRoot
        let models = [
            ("small CNN", try shippedModel()),
            ("ResNet-18", try PretrainedResNet.load(from: root + "/Tests/MiniNetTests/Fixtures/resnet/resnet18-narrow.safetensors",
                                                    imageSize: 64)),
        ]
        var settings = ExplainerSettings()
        settings.samples = 6
        settings.seed = 3
        for (name, classifier) in models {
            let input = Tensor(shape: classifier.inputSize,
                               data: (0..<classifier.inputSize.reduce(1, *)).map { Float(sin(Double($0) * 0.37)) })
            for id in ["input-x-gradient", "smoothgrad", "vargrad", "guided-backprop"] {
                let explainer = try XCTUnwrap(ExplainerRegistry.explainer(id: id), id)
                let results = try [1, 4].map { threads in
                    try GemmTests.withThreads(threads) {
                        try explainer.explain(input, classifier: classifier, target: .logit(1), settings: settings).raw
                    }
                }
                XCTAssertEqual(results[0], results[1], "\(id) on \(name): 1 thread and 4")
            }
        }
    }
}

import Foundation
import XCTest
import MiniNet

/// Input × gradient, SmoothGrad, VarGrad and guided backpropagation against Captum 0.9
/// (InputXGradient; NoiseTunnel around Saliency(abs=False) with nt_type "smoothgrad" and
/// "vargrad"; GuidedBackprop): fixtures Fixtures/parity/gradient-methods-<model>.json and
/// -float64.npy, made by tools/parity/make_gradient_methods_parity.py on the shipped CNN
/// (two-shapes.png) and the narrow ResNet-18 (the centre 48×48 of Fixtures/resnet/input.npy), at
/// the predicted class, with 4 noisy samples, noise 0.15 of the input's range and seed 7.
///
/// The script draws MiniNet's noise itself (SplitMix64 and Box–Muller with MiniNet's portable
/// log and cos, re-implemented in Python) and runs Captum's NoiseTunnel on those noisy inputs,
/// so both sides average the gradient over the same points; `testNoiseIsTheScriptsNoise` checks
/// that the inputs agree bit for bit.
///
/// Input gradients are compared with Captum's float64 twin (ConditionedParity): MiniNet may land
/// at most c times as far from it as Captum's float32 runs do, plus a float32 floor. The fixture
/// stores the twin rounded once to float32 (u/2 relative, a quarter of one layer's share of the
/// floor), and Captum's float32 distance from it as `float32_spread`.
final class GradientMethodsParityTests: XCTestCase {
    struct Fixture: Decodable {
        struct NoiseCheck: Decodable {
            var first: [Float]
            var bits_checksum: UInt64
        }
        struct Method: Decodable {
            var method: String
            var shape: [Int]
            var float32_distance: Double
            var float32_spread: Double
            var max_abs_float64: Double
        }
        var model: String
        var target: Int
        var logits: [Float]
        var samples: Int
        var noise: Double
        var seed: UInt64
        var sigma: Float
        var noise_check: [NoiseCheck]
        /// Fixtures/parity/<float64>: [4, C, H, W], the float64 twins rounded to float32, in the order of `methods`
        var float64: String
        var methods: [Method]
    }

    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().path

    func fixture(_ model: String) throws -> Fixture {
        let url = try XCTUnwrap(Bundle.module.url(forResource: "gradient-methods-\(model)", withExtension: "json",
                                                  subdirectory: "Fixtures/parity"),
                                "missing fixture Fixtures/parity/gradient-methods-\(model).json")
        return try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
    }

    /// The classifier, the input [C, H, W] and the network's depth (weighted layers, for the floor).
    func setting(_ model: String) throws -> (classifier: ImageClassifier, input: Tensor, depth: Int) {
        let root = Self.repositoryRoot
        if model == "mininet" {
            let classifier = try ImageClassifier.load(from: root + "/models/mininet.safetensors")
            let input = try classifier.preprocess(try RGBImage.read(from: root + "/images/shapes/two-shapes.png"))
            return (classifier, input, 4)
        }
        let resnet = root + "/Tests/MiniNetTests/Fixtures/resnet/"
        let side = 48
        let classifier = try PretrainedResNet.load(from: resnet + "resnet18-narrow.safetensors", imageSize: side)
        let full = try NumpyFile.read(from: resnet + "input.npy")                    // [1, 3, 64, 64]
        let (fullSide, offset) = (full.shape[3], (full.shape[3] - side) / 2)
        var crop = Tensor(zeros: [3, side, side])
        for c in 0..<3 {
            for y in 0..<side {
                for x in 0..<side {
                    crop.data[(c * side + y) * side + x] = full.data[(c * fullSide + y + offset) * fullSide + x + offset]
                }
            }
        }
        return (classifier, crop, 18)
    }

    /// Σ_i (i + 1) · bits(v_i) mod 2⁶⁴, as the script computes it.
    func bitsChecksum(_ values: [Float]) -> UInt64 {
        values.enumerated().reduce(UInt64(0)) { $0 &+ UInt64($1.offset + 1) &* UInt64($1.element.bitPattern) }
    }

    func testNoiseIsTheScriptsNoise() throws {
        for model in ["mininet", "resnet18"] {
            let reference = try fixture(model)
            let (_, input, _) = try setting(model)
            let noise = SmoothGradNoise(fraction: reference.noise, of: input, seed: reference.seed)
            XCTAssertEqual(noise.sigma, reference.sigma, "\(model): σ = noise · (max x − min x)")
            XCTAssertEqual(reference.noise_check.count, reference.samples)
            for (m, check) in reference.noise_check.enumerated() {
                let noisy = noise.noisyInput(input, sample: m).data
                XCTAssertEqual(Array(noisy.prefix(check.first.count)), check.first, "\(model) sample \(m)")
                XCTAssertEqual(bitsChecksum(noisy), check.bits_checksum, "\(model) sample \(m): the noisy input's bits")
            }
        }
    }

    func testGradientMethodsMatchCaptum() throws {
        try forEachArithmeticVariant { _ in
            for model in ["mininet", "resnet18"] { try checkMatchesCaptum(model) }
        }
    }

    func checkMatchesCaptum(_ model: String) throws {
        let reference = try fixture(model)
        let (classifier, input, depth) = try setting(model)
        classifier.prepareForExplanation()
        XCTAssertEqual(classifier.forward(input.reshaped([1] + input.shape)).argmax, reference.target, model)
        let twinsURL = try XCTUnwrap(Bundle.module.url(forResource: reference.float64, withExtension: nil,
                                                       subdirectory: "Fixtures/parity"), "missing \(reference.float64)")
        let twins = try NumpyFile.read(from: twinsURL.path)                             // [4, C, H, W]
        XCTAssertEqual(twins.shape, [reference.methods.count] + input.shape)
        let target = ExplanationTarget.logit(reference.target)
        // All 4 samples in one batch, and batches of 3 + 1: the batching must not change the result
        // beyond rounding.
        var results: [String: [Tensor]] = [:]
        for batchSize in [nil, 3] as [Int?] {
            let noisy = try smoothGrad(classifier: classifier, input: input, target: target, samples: reference.samples,
                                       noise: reference.noise, seed: reference.seed, batchSize: batchSize)
            results["smoothgrad", default: []].append(noisy.smoothGrad)
            results["vargrad", default: []].append(noisy.varGrad)
        }
        results["input-x-gradient"] = [try inputTimesGradient(classifier: classifier, input: input, target: target)]
        results["guided-backprop"] = [try guidedBackpropagation(classifier: classifier, input: input, target: target)]
        // What a mistake would give, each of which must fail the bound: the gradient without the
        // input for input × gradient, the plain gradient for guided backpropagation, another
        // seed's noise for SmoothGrad, the sample variance (÷ (n − 1)) for VarGrad's population one.
        let otherSeed = try smoothGrad(classifier: classifier, input: input, target: target, samples: reference.samples,
                                       noise: reference.noise, seed: reference.seed + 1)
        let mistakes: [String: Tensor] = [
            "guided-backprop": try saliency(classifier: classifier, input: input, target: target, absolute: false),
            "smoothgrad": otherSeed.smoothGrad,
            "vargrad": try XCTUnwrap(results["vargrad"]?.first) * (Float(reference.samples) / Float(reference.samples - 1)),
            "input-x-gradient": try saliency(classifier: classifier, input: input, target: target, absolute: false),
        ]
        for (index, method) in reference.methods.enumerated() {
            let twin = twins.slice(index)
            if let mistake = mistakes[method.method] {
                let broken = ConditionedParity(ours: mistake.data, reference32: twin.data,
                                               float64MinusFloat32: [Float](repeating: 0, count: twin.count),
                                               spread: method.float32_spread, depth: depth)
                XCTAssertFalse(broken.holds, "\(model) \(method.method): a mistake passes: \(broken.summary)")
            }
            for (run, ours) in try XCTUnwrap(results[method.method], method.method).enumerated() {
                XCTAssertEqual(ours.shape, method.shape, "\(model) \(method.method)")
                let label = "\(model) \(method.method)\(run == 1 ? " (batches of 3)" : "")"
                _ = ConditionedParity.check(label, ours: ours.data, reference32: twin.data,
                                            float64MinusFloat32: [Float](repeating: 0, count: twin.count),
                                            spread: method.float32_spread, depth: depth)
                if ProcessInfo.processInfo.environment["MININET_PARITY_REPORT"] != nil {
                    let relative = Double(ours.maxAbsDifference(twin)) / method.max_abs_float64
                    print("relative error: \(label): max |ours − ref64| / max |ref64| = \(String(format: "%.2g", relative)), "
                          + "Captum float32: \(String(format: "%.2g", method.float32_distance / method.max_abs_float64))")
                }
            }
        }
    }
}

import Foundation
import XCTest
import MiniNet

/// Integrated Gradients against Captum 0.9: fixtures Fixtures/parity/ig-*.json, made by
/// tools/parity/make_ig_parity.py (shipped model, zero baseline, predicted class).
final class IGParityTests: XCTestCase {
    struct Fixture: Decodable {
        struct Run: Decodable {
            var method: String
            var steps: Int
            var alphas: [Double]
            var weights: [Double]
            var delta: Double
            var shape: [Int]
            var attributions: [Float]
            /// Fixtures/parity/<float64_twin>.npy: float32(ref64 − ref32), Captum's float64 twin of `attributions`
            var float64_twin: String
            /// max |ref32 − ref64| over several float32 runs (ConditionedParity)
            var float32_spread: Double
        }
        var image: String
        var target: Int
        var logits: [Float]
        var runs: [Run]
    }

    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().path

    func fixture(_ name: String) throws -> Fixture {
        let url = try XCTUnwrap(Bundle.module.url(forResource: "ig-\(name)", withExtension: "json", subdirectory: "Fixtures/parity"),
                                "missing fixture Fixtures/parity/ig-\(name).json")
        return try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
    }

    /// Attributions are compared with Captum's float64 twin (ConditionedParity): MiniNet may land
    /// at most c times as far from it as Captum's float32 result does, plus a float32 floor. Near
    /// the zero baseline some 2×2 max-pooling windows tie up to rounding, and which pixel gets the
    /// gradient is then decided by float noise (two-shapes, Gauss–Legendre, is such a case); the
    /// float64 twin measures how far that moves a correct float32 result, where a fixed relative
    /// tolerance could only guess.
    func testAttributionsMatchCaptum() throws { try forEachArithmeticVariant { _ in try checkAttributionsMatchCaptum() } }

    func checkAttributionsMatchCaptum() throws {
        let classifier = try ImageClassifier.load(from: Self.repositoryRoot + "/models/mininet.safetensors")
        for name in ["circle", "square", "triangle", "two-shapes"] {
            let reference = try fixture(name)
            let input = try classifier.preprocess(try RGBImage.read(from: Self.repositoryRoot + "/" + reference.image))
            let logits = classifier.forward(input.reshaped([1] + input.shape))
            XCTAssertEqual(logits.argmax, reference.target, name)
            for run in reference.runs {
                let method = try XCTUnwrap(IntegrationMethod(rawValue: run.method), run.method)
                let result = try integratedGradients(classifier: classifier, input: input, baseline: Tensor(zeros: input.shape),
                                                     target: .logit(reference.target), steps: run.steps, method: method)
                // The quadrature points and weights are Captum's (numpy's leggauss; torch's float32 linspace).
                for (ours, theirs) in zip(result.alphas, run.alphas) { XCTAssertEqual(ours, theirs, accuracy: 1e-12, "\(name) \(run.method) α") }
                for (ours, theirs) in zip(result.weights, run.weights) { XCTAssertEqual(ours, theirs, accuracy: 1e-12, "\(name) \(run.method) w") }
                XCTAssertEqual(result.attributions.shape, run.shape, "\(name) \(run.method)")
                // 3 convolutions and a linear layer: depth 4.
                let twinURL = try XCTUnwrap(Bundle.module.url(forResource: run.float64_twin, withExtension: nil,
                                                              subdirectory: "Fixtures/parity"), "missing \(run.float64_twin)")
                let twin = try NumpyFile.read(from: twinURL.path)
                _ = ConditionedParity.check("\(name) \(run.method)", ours: result.attributions.data, reference32: run.attributions,
                                            float64MinusFloat32: twin.data, spread: run.float32_spread, depth: 4)
                // Captum's convergence delta is Σ IG − (f(x) − f(x′)).
                let delta = result.totalAttribution - (Double(result.scoreAtInput) - Double(result.scoreAtBaseline))
                XCTAssertEqual(delta, run.delta, accuracy: 1e-3 * max(1, abs(Double(result.scoreAtInput))), "\(name) \(run.method) delta")
            }
        }
    }
}

import Foundation
import XCTest
import MiniNet

/// MiniNet's Grad-CAM and Ablation-CAM against pytorch-grad-cam 1.5.7 on the shipped model.
/// Each fixture Fixtures/parity/cam-<shape>.json (made by tools/parity/make_cam_parity.py) holds
/// the preprocessed picture images/shapes/<shape>.png, PyTorch's logits, and for every
/// (method, layer, class) with ClassifierOutputTarget(class) the channel weights
/// (get_cam_weights) and the raw map ReLU(Σ_k weights_k · A^k) at the layer's resolution.
/// The logits and the preprocessed picture are compared within the float32 error model (two
/// forward passes, `forwardTolerance`; a few roundings of the normalisation). The channel
/// weights and maps must agree within
///
///     max |a − b| ≤ 1e-4 · max |b| + 1e-6
///
/// the field's standard for matching PyTorch ("match PyTorch to 1e-4 relative"): a map goes through
/// gradients or ablated forward passes whose float32 conditioning the fixture does not record (no
/// float64 twin, unlike ConditionedParity), so an error-model bound here would be a guess too.
/// The 1e-6 floor is for maps whose largest value is near 0.
final class CAMParityTests: XCTestCase {
    private struct StoredTensor: Decodable {
        var shape: [Int]
        var data: [Float]
        var tensor: Tensor { Tensor(shape: shape, data: data) }
    }

    private struct Result: Decodable {
        var method: String
        var layer: String
        var `class`: Int
        var weights: [Float]
        var map: StoredTensor
    }

    private struct Fixture: Decodable {
        var image: String
        var activationMinimum: Float
        var ablationValue: Float
        var input: StoredTensor
        var logits: [Float]
        var results: [Result]
    }

    private static let shapes = ["circle", "square", "triangle"]

    private static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    private func classifier() throws -> ImageClassifier {
        try ImageClassifier.load(from: Self.repositoryRoot.appendingPathComponent("models/mininet.safetensors").path)
    }

    private func fixture(_ shape: String) throws -> Fixture {
        let url = try XCTUnwrap(Bundle.module.url(forResource: "cam-\(shape)", withExtension: "json", subdirectory: "Fixtures/parity"),
                                "missing fixture Fixtures/parity/cam-\(shape).json")
        return try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
    }

    /// max |a − b| ≤ 1e-4 · max |b| + 1e-6, reported with the worst element.
    private func assertClose(_ actual: [Float], _ expected: [Float], _ label: String,
                             file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(actual.count, expected.count, "\(label): sizes differ", file: file, line: line)
        guard actual.count == expected.count, !expected.isEmpty else { return }
        let scale = expected.map { abs($0) }.max() ?? 0
        var worst: (difference: Float, index: Int) = (0, 0)
        for index in expected.indices where abs(actual[index] - expected[index]) > worst.difference {
            worst = (abs(actual[index] - expected[index]), index)
        }
        XCTAssertLessThanOrEqual(worst.difference, 1e-4 * scale + 1e-6,
                                 "\(label): worst at [\(worst.index)]: MiniNet \(actual[worst.index]), PyTorch \(expected[worst.index]) (max |b| \(scale))",
                                 file: file, line: line)
    }

    /// The fixture's input is ImageClassifier.preprocess of the PNG, so the pictures agree too.
    func testPreprocessingMatchesTheFixtureInput() throws {
        let classifier = try classifier()
        for shape in Self.shapes {
            let fixture = try fixture(shape)
            let image = try RGBImage.read(from: Self.repositoryRoot.appendingPathComponent(fixture.image).path)
            let input = try classifier.preprocess(image)
            XCTAssertEqual(input.shape, fixture.input.shape)
            // byte/255, − μ, ÷ σ: three float32 roundings of values up to (1 + |μ|)/σ, on each side.
            let size = Double(zip(classifier.spec.mean, classifier.spec.std).map { (1 + abs($0)) / $1 }.max() ?? 1)
            let side = Tolerance.sum(count: 3, magnitude: size)
            assertWithin(input.data, fixture.input.data, side + side, "\(shape): preprocessed input")
        }
    }

    func testLogitsMatchPyTorch() throws {
        try forEachArithmeticVariant { _ in
            let classifier = try classifier()
            for shape in Self.shapes {
                let fixture = try fixture(shape)
                let logits = classifier.forward(fixture.input.tensor.reshaped([1] + fixture.input.shape))
                // Two float32 forward passes of one network, in other orders: each rounds as
                // `forwardTolerance` says (every logit, BatchNorm unmerged on both sides).
                let side = classifier.forwardTolerance(input: fixture.input.tensor)
                assertWithin(logits.data, fixture.logits, side + side, "\(shape): logits")
            }
        }
    }

    /// pytorch-grad-cam ablates with 0 only when the layer's minimum is 0 (else minimum − 1e7);
    /// at features.10, a ReLU, the minimum is 0, so both libraries ablate with 0.
    func testAblationValueIsZeroAtTheReLU() throws {
        for shape in Self.shapes {
            let fixture = try fixture(shape)
            XCTAssertEqual(fixture.activationMinimum, 0, shape)
            XCTAssertEqual(fixture.ablationValue, 0, shape)
        }
    }

    func testGradCAMAndAblationCAMMatchPyTorchGradCAM() throws {
        try forEachArithmeticVariant { _ in
            let classifier = try classifier()
            var compared = 0
            for shape in Self.shapes {
                let fixture = try fixture(shape)
                for expected in fixture.results {
                    let method: ClassActivationMapMethod
                    switch expected.method {
                    case "GradCAM": method = GradCAM(classifier: classifier)
                    case "AblationCAM": method = AblationCAM(classifier: classifier)
                    default: XCTFail("unknown method \(expected.method)"); continue
                    }
                    let result = try method.explain(input: fixture.input.tensor, layer: expected.layer, target: .logit(expected.class))
                    let label = "\(shape) \(expected.method) \(expected.layer) class \(expected.class)"
                    assertClose(result.weights, expected.weights, label + " weights")
                    XCTAssertEqual(result.map.shape, expected.map.shape, label + " map shape")
                    assertClose(result.map.data, expected.map.data, label + " map")
                    compared += 1
                }
            }
            XCTAssertEqual(compared, Self.shapes.count * 9, "3 configurations × 3 classes per picture")
        }
    }
}

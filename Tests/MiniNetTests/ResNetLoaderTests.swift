import Foundation
import XCTest
@testable import MiniNet

/// Narrow torchvision ResNet-18/34/50 (planes 4, 8, 16, 32; 10 classes) saved by PyTorch as a
/// zip .pth, a legacy .pth and a .safetensors, with PyTorch's logits and pytorch-grad-cam's and
/// Captum's results on one 64×64 input (tools/fixtures/resnet_fixtures.py; see
/// Fixtures/resnet/resnet-manifest.json). Agreement: max |a − b| ≤ 1e-4 · max |b| + 1e-6, except
/// for Integrated Gradients, compared with Captum's float64 twin (ConditionedParity).
final class ResNetLoaderTests: XCTestCase {
    static let variants: [ResNetVariant] = [.resnet18, .resnet34, .resnet50]

    private func fixturePath(_ name: String) throws -> String {
        let url = try XCTUnwrap(Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Fixtures/resnet"),
                                "missing fixture Fixtures/resnet/\(name)")
        return url.path
    }

    private func array(_ name: String) throws -> Tensor { try NumpyFile.read(from: try fixturePath(name)) }

    private func input() throws -> Tensor {
        let batch = try array("input.npy")   // [1, 3, 64, 64]
        return batch.reshaped(Array(batch.shape.dropFirst()))
    }

    private func load(_ file: String, _ variant: ResNetVariant? = nil) throws -> ImageClassifier {
        let classifier = try PretrainedResNet.load(from: try fixturePath(file), variant: variant, imageSize: 64)
        classifier.prepareForExplanation()
        return classifier
    }

    private func assertClose(_ actual: [Float], _ expected: [Float], _ label: String,
                             file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(actual.count, expected.count, "\(label): sizes differ", file: file, line: line)
        guard actual.count == expected.count, !expected.isEmpty else { return }
        let scale = expected.map { abs($0) }.max() ?? 0
        let worst = expected.indices.max { abs(actual[$0] - expected[$0]) < abs(actual[$1] - expected[$1]) } ?? 0
        XCTAssertLessThanOrEqual(abs(actual[worst] - expected[worst]), 1e-4 * scale + 1e-6,
                                 "\(label): worst at [\(worst)]: MiniNet \(actual[worst]), PyTorch \(expected[worst]) (max |b| \(scale))",
                                 file: file, line: line)
    }

    func testArchitectureIsReadFromTheKeys() throws {
        for variant in Self.variants {
            let classifier = try load("\(variant.rawValue)-narrow.safetensors")
            XCTAssertEqual(classifier.spec.architecture, variant.rawValue)
            XCTAssertEqual(classifier.classNames.count, 10)
            XCTAssertNotNil(classifier.layer(named: "layer4.\(variant.blocks[3] - 1)"))
        }
    }

    func testLogitsMatchPyTorchInEveryFormat() throws { try forEachArithmeticVariant { _ in try checkLogitsMatchPyTorchInEveryFormat() } }

    func checkLogitsMatchPyTorchInEveryFormat() throws {
        let input = try input().reshaped([1, 3, 64, 64])
        for variant in Self.variants {
            let expected = try array("\(variant.rawValue)-logits.npy")
            for suffix in ["narrow.pth", "narrow-legacy.pth", "narrow.safetensors"] {
                let classifier = try load("\(variant.rawValue)-\(suffix)", variant)
                assertClose(classifier.forward(input).data, expected.data, "\(variant.rawValue)-\(suffix) logits")
            }
        }
    }

    func testHalfPrecisionSafetensors() throws { try forEachArithmeticVariant { _ in try checkHalfPrecisionSafetensors() } }

    func checkHalfPrecisionSafetensors() throws {
        let classifier = try load("resnet18-narrow-f16.safetensors", .resnet18)
        let logits = classifier.forward(try input().reshaped([1, 3, 64, 64]))
        assertClose(logits.data, try array("resnet18-f16-logits.npy").data, "float16 logits")
    }

    func testGradCAMAndAblationCAMMatchPyTorchGradCAM() throws { try forEachArithmeticVariant { _ in try checkGradCAMAndAblationCAMMatchPyTorchGradCAM() } }

    func checkGradCAMAndAblationCAMMatchPyTorchGradCAM() throws {
        let input = try input()
        for variant in Self.variants {
            let classifier = try load("\(variant.rawValue)-narrow.pth")
            let layer = "layer4.\(variant.blocks[3] - 1)"
            let logits = classifier.forward(input.reshaped([1] + input.shape)).data
            let target = logits.indices.max { logits[$0] < logits[$1] }!
            for (method, file) in [(GradCAM(classifier: classifier) as ClassActivationMapMethod, "gradcam"),
                                   (AblationCAM(classifier: classifier), "ablationcam")] {
                let result = try method.explain(input: input, layer: layer, target: .logit(target))
                let label = "\(variant.rawValue) \(file)"
                assertClose(result.weights, try array("\(variant.rawValue)-\(file)-weights.npy").data, label + " weights")
                assertClose(result.map.data, try array("\(variant.rawValue)-\(file)-map.npy").data, label + " map")
            }
        }
    }

    func testIntegratedGradientsMatchCaptum() throws { try forEachArithmeticVariant { _ in try checkIntegratedGradientsMatchCaptum() } }

    func checkIntegratedGradientsMatchCaptum() throws {
        let input = try input()
        let classifier = try load("resnet18-narrow.safetensors")
        let logits = classifier.forward(input.reshaped([1] + input.shape)).data
        let target = logits.indices.max { logits[$0] < logits[$1] }!
        for (file, method, steps) in [("resnet18-ig-gl50.npy", IntegrationMethod.gaussLegendre, 50),
                                      ("resnet18-ig-trap200.npy", .riemannTrapezoid, 200)] {
            let result = try integratedGradients(classifier: classifier, input: input, baseline: Tensor(zeros: input.shape),
                                                 target: .logit(target), steps: steps, method: method)
            // Input gradients of an 18-layer network are ill-conditioned in float32: compared with
            // Captum's float64 twin, not with 1e-4 relative (ConditionedParity, docs/numerics.md).
            _ = ConditionedParity.check("resnet18 " + file, ours: result.attributions.data, reference32: try array(file).data,
                                        float64MinusFloat32: try array(file.replacingOccurrences(of: ".npy", with: "-f64-minus-f32.npy")).data,
                                        spread: try ConditionedParity.resnetSpread(file), depth: 18)
        }
    }

    /// A torchvision-width checkpoint of another depth is named by its variant, which the reader
    /// can pass as --model instead.
    func testAnotherTorchvisionVariantIsNamed() throws {
        let classNames = (0..<10).map { "class \($0)" }
        let resnet18 = try ImageClassifier(spec: .resNet(ResNetShape(.resnet18, classCount: 10), classNames: classNames))
        let stateDict = Dictionary(resnet18.stateDict, uniquingKeysWith: { first, _ in first })
        XCTAssertThrowsError(try PretrainedResNet.load(stateDict: stateDict, path: "r18.pth", variant: .resnet34)) { error in
            XCTAssertEqual("\(error)", "r18.pth: holds a resnet18 (BasicBlock blocks [2, 2, 2, 2], 10 classes), "
                           + "not a resnet34 (BasicBlock blocks [3, 4, 6, 3])")
        }
    }

    func testStatedVariantMustMatchTheFile() throws {
        XCTAssertThrowsError(try load("resnet50-narrow.pth", .resnet34)) { error in
            let message = "\(error)"
            XCTAssertTrue(message.contains("Bottleneck") && message.contains("not a resnet34"), message)
            XCTAssertFalse(message.contains("\n"))
        }
    }

    func testBadCheckpointsGiveOneLine() throws {
        for (file, expected) in [("truncated.pth", "truncated.pth"), ("evil-global.pth", "evil-global.pth"),
                                 ("overrun.safetensors", "overrun.safetensors"), ("input.npy", "input.npy")] {
            XCTAssertThrowsError(try load(file)) { error in
                let message = "\(error)"
                XCTAssertTrue(message.contains(expected), message)
                XCTAssertFalse(message.contains("\n"), message)
            }
        }
    }

    func testMissingAndMisshapenKeysAreNamed() throws {
        var tensors = try PretrainedResNet.readStateDict(from: try fixturePath("resnet18-narrow.safetensors"))
        tensors["layer2.1.conv2.weight"] = Tensor(zeros: [8, 8, 1, 1])
        let classifier = try ImageClassifier(spec: .resNet(try PretrainedResNet.inferShape(tensors, path: "x"), classNames: (0..<10).map(String.init), imageSize: 64))
        XCTAssertThrowsError(try classifier.loadStateDict(tensors, source: "x.pth")) { error in
            XCTAssertTrue("\(error)".contains("layer2.1.conv2.weight") && "\(error)".contains("[8, 8, 1, 1]") && "\(error)".contains("[8, 8, 3, 3]"), "\(error)")
        }
        tensors.removeValue(forKey: "layer2.1.conv2.weight")
        XCTAssertThrowsError(try classifier.loadStateDict(tensors, source: "x.pth")) { error in
            XCTAssertTrue("\(error)".contains("missing tensor 'layer2.1.conv2.weight'"), "\(error)")
        }
        XCTAssertThrowsError(try PretrainedResNet.inferShape(["conv1.weight": Tensor(zeros: [4, 3, 7, 7])], path: "y.pth")) { error in
            XCTAssertTrue("\(error)".contains("y.pth") && "\(error)".contains("fc.weight"), "\(error)")
        }
    }

    func testPaddedMaxPoolMatchesPyTorchsShapeRule() throws {
        let pool = MaxPool2d(kernelSize: 3, stride: 2, padding: 1)
        var input = Tensor(zeros: [1, 1, 4, 4])
        for index in input.data.indices { input.data[index] = -Float(index) }   // all ≤ 0: padding must never win
        let output = pool.forward(input)
        XCTAssertEqual(output.shape, [1, 1, 2, 2])
        XCTAssertEqual(output.data, [0, -1, -4, -5])   // with zero padding every window would give 0
    }
}

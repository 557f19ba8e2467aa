import Foundation
import XCTest
import MiniNet

/// MiniNet's Grad-CAM++, XGrad-CAM, HiResCAM, element-wise Grad-CAM, LayerCAM, Score-CAM and
/// Eigen-CAM against pytorch-grad-cam 1.5.7. The fixtures Fixtures/parity/cam-methods-<model>.json
/// (tools/parity/make_cam_methods_parity.py) hold, for the shipped small CNN on the two-shapes
/// picture (two layers, every class at the last one) and for the narrow ResNet-18/34/50 on
/// Fixtures/resnet/input.npy (layer4[-1] and layer3[-1], the predicted class), each method's
///
///     map      ReLU(cam) at the layer's resolution (`CAMResult.map`)
///     weights  get_cam_weights, for the methods that weight channels (`CAMResult.weights`)
///     final    the library's returned map at sampled rows and columns (`CAMResult.normalized`),
///              for the first layer and the predicted class
///     cam      Eigen-CAM only: the signed projection before the ReLU (`CAMResult.weightedSum`)
///
/// Every result records `float32Gap`: how far correct float32 runs of the library (the stored
/// one, its parameters and input rounded once more with 8 seeds, oneDNN off, channels_last) land
/// from its float64 run, max over the quantities of max |q32 − q64| / max |q64|. Where that gap is
/// at most 1e-5, the float32 reference is certain to a tenth of CAMParityTests' criterion for
/// well-conditioned results, and agreement is that criterion,
///
///     max |a − b| ≤ 1e-4 · max |b| + 1e-6
///
/// (the small CNN, and most results on the narrow ResNet-18). Where it is larger, the reference is
/// itself uncertain at the criterion's scale, and the result carries the float64 twin and the
/// spread of each quantity: MiniNet is then compared with float64 by ConditionedParity (d_ours ≤
/// 4 · d_ref + floor), as the IG and LRP parity tests are. Gradients 18 to 50 layers deep lose a
/// few 1e-5 of their size to rounding; Score-CAM on the narrow ResNet-50 loses 5e-3: its masks come
/// from activations 50 layers deep, and the score of a masked input reacts to the mask by far
/// more than the score itself (its gradient times the input adds up many terms of both signs).
///
/// Eigen-CAM's principal direction is only as well determined as the gap between the two largest
/// singular values σ₁, σ₂ of the centred activations (Davis–Kahan: a change δ of the activations,
/// relative to σ₁, turns it by about 2κδ with κ = σ₁²/(σ₁² − σ₂²));
/// `testEigenCAMIsWellConditioned` checks that κ stays small in the fixtures, so that the gap
/// above measures all of it.
///
/// With MININET_PARITY_REPORT set, the largest max |a − b| / max |b| of each method against the
/// float32 reference, and d_ours/d_ref where the twin is used, are printed.
final class CAMMethodsParityTests: XCTestCase {
    struct StoredTensor: Decodable {
        var shape: [Int]
        var data: [Float]
    }

    struct Result: Decodable {
        var method: String
        var layer: String
        var `class`: Int
        var map: StoredTensor
        var weights: [Float]?
        var final: StoredTensor?
        var cam: StoredTensor?
        var librarySign: Int?
        var singularValues: [Double]?
        var float32Gap: Double
        var map64Minus32: [Float]?
        var mapSpread: Double?
        var weights64Minus32: [Float]?
        var weightsSpread: Double?
        var final64Minus32: [Float]?
        var finalSpread: Double?
        var cam64Minus32: [Float]?
        var camSpread: Double?
    }

    /// The most a float32 reference may be off, relative to its size, for the plain 1e-4 criterion.
    static let gapLimit = 1e-5

    struct Fixture: Decodable {
        var image: String?
        var logits: [Float]
        var predicted: Int
        var finalRows: [Int]
        var finalColumns: [Int]
        var results: [Result]
    }

    static let methodIDs = ["gradcam++", "xgradcam", "hirescam", "gradcam-elementwise", "layercam", "scorecam", "eigencam"]

    static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    static func fixture(_ model: String) throws -> Fixture {
        let url = try XCTUnwrap(Bundle.module.url(forResource: "cam-methods-\(model)", withExtension: "json", subdirectory: "Fixtures/parity"),
                                "missing fixture Fixtures/parity/cam-methods-\(model).json")
        return try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
    }

    /// The variant with this id, from the registry.
    static func method(_ id: String, classifier: ImageClassifier) throws -> ClassActivationMapMethod {
        let explainer = try XCTUnwrap(ExplainerRegistry.explainer(id: id) as? CAMFamilyExplainer, "no CAM method with id \(id)")
        return explainer.method(classifier)
    }

    static func smallCNN() throws -> (ImageClassifier, Tensor) {
        let classifier = try ImageClassifier.load(from: repositoryRoot.appendingPathComponent("models/mininet.safetensors").path)
        let picture = try RGBImage.read(from: repositoryRoot.appendingPathComponent("images/shapes/two-shapes.png").path)
        return (classifier, try classifier.preprocess(picture))
    }

    static func narrowResNet(_ variant: ResNetVariant) throws -> (ImageClassifier, Tensor) {
        func path(_ name: String) throws -> String {
            try XCTUnwrap(Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Fixtures/resnet"), "missing \(name)").path
        }
        let classifier = try PretrainedResNet.load(from: try path("\(variant.rawValue)-narrow.safetensors"), variant: variant, imageSize: 64)
        let batch = try NumpyFile.read(from: try path("input.npy"))
        return (classifier, batch.reshaped(Array(batch.shape.dropFirst())))
    }

    /// The largest max |a − b| / max |b| (and d_ours/d_ref) seen per "method quantity", for the report.
    private static var worstRelative: [String: Double] = [:]
    /// The largest d_ours/d_ref seen per "method quantity" compared with the float64 twin.
    private static var worstRatio: [String: Double] = [:]

    override class func tearDown() {
        if ProcessInfo.processInfo.environment["MININET_PARITY_REPORT"] != nil {
            for key in worstRelative.keys.sorted() {
                let ratio = worstRatio[key].map { String(format: ", d_ours/d_ref at most %.2f", $0) } ?? ""
                print(String(format: "cam methods parity: %@: max |a − b|/max |b| %.3g", key, worstRelative[key]!) + ratio)
            }
        }
        super.tearDown()
    }

    /// max |a − b| ≤ 1e-4 · max |b| + 1e-6, reported with the worst element.
    private func assertClose(_ actual: [Float], _ expected: [Float], _ label: String, key: String,
                             file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(actual.count, expected.count, "\(label): sizes differ", file: file, line: line)
        guard actual.count == expected.count, !expected.isEmpty else { return }
        let scale = Double(expected.map { abs($0) }.max() ?? 0)
        var worst: (difference: Double, index: Int) = (0, 0)
        for index in expected.indices where abs(Double(actual[index]) - Double(expected[index])) > worst.difference {
            worst = (abs(Double(actual[index]) - Double(expected[index])), index)
        }
        if scale > 0 { Self.worstRelative[key] = max(Self.worstRelative[key] ?? 0, worst.difference / scale) }
        XCTAssertLessThanOrEqual(worst.difference, 1e-4 * scale + 1e-6,
                                 "\(label): worst at [\(worst.index)]: MiniNet \(actual[worst.index]), pytorch-grad-cam \(expected[worst.index]) (max |b| \(scale))",
                                 file: file, line: line)
    }

    /// Ours against the float32 reference at 1e-4 when the fixture says the reference is certain
    /// to 1e-5 (`float32Gap`), else against its float64 twin (ConditionedParity).
    private func compare(_ ours: [Float], _ reference: [Float], twin: [Float]?, spread: Double?, gap: Double,
                         depth: Int, _ label: String, key: String, file: StaticString = #filePath, line: UInt = #line) {
        guard let twin else {
            XCTAssertLessThanOrEqual(gap, Self.gapLimit, "\(label): a float32 gap this large needs the float64 twin", file: file, line: line)
            assertClose(ours, reference, label, key: key, file: file, line: line)
            return
        }
        let scale = Double(reference.map { abs($0) }.max() ?? 0)
        let difference = zip(ours, reference).map { abs(Double($0) - Double($1)) }.max() ?? 0
        if scale > 0 { Self.worstRelative[key] = max(Self.worstRelative[key] ?? 0, difference / scale) }
        let check = ConditionedParity.check(label, ours: ours, reference32: reference, float64MinusFloat32: twin,
                                            spread: spread, depth: depth, file: file, line: line)
        if check.referenceDistance > 0 { Self.worstRatio[key] = max(Self.worstRatio[key] ?? 0, check.ratio) }
    }

    private func compare(_ model: String, classifier: ImageClassifier, input: Tensor) throws {
        let fixture = try Self.fixture(model)
        let logits = classifier.forward(input.reshaped([1] + input.shape)).data
        let side = classifier.forwardTolerance(input: input)
        assertWithin(logits, fixture.logits, side + side, "\(model): logits")
        XCTAssertEqual(Tensor(shape: [logits.count], data: logits).argmax, fixture.predicted, "\(model): predicted class")
        // The layers that add many numbers up, for ConditionedParity's floor.
        let depth = classifier.network.allLayers.filter { $0 is Conv2d || $0 is Linear }.count
        var compared = Set<String>()
        for expected in fixture.results {
            let method = try Self.method(expected.method, classifier: classifier)
            let result = try method.explain(input: input, layer: expected.layer, target: .logit(expected.class))
            let label = "\(model) \(expected.method) \(expected.layer) class \(expected.class)"
            let gap = expected.float32Gap
            XCTAssertEqual(result.map.shape, expected.map.shape, label + " map shape")
            compare(result.map.data, expected.map.data, twin: expected.map64Minus32, spread: expected.mapSpread, gap: gap,
                    depth: depth, label + " map", key: "\(model) \(expected.method)" + " map")
            if let weights = expected.weights {
                compare(result.weights, weights, twin: expected.weights64Minus32, spread: expected.weightsSpread, gap: gap,
                        depth: depth, label + " weights", key: "\(model) \(expected.method)" + " weights")
            }
            if let signed = expected.cam {
                compare(result.weightedSum.data, signed.data, twin: expected.cam64Minus32, spread: expected.camSpread, gap: gap,
                        depth: depth, label + " signed projection", key: "\(model) \(expected.method)" + " signed projection")
                XCTAssert(expected.librarySign == 1 || expected.librarySign == -1, label + ": librarySign")
            }
            if let final = expected.final {
                let width = result.normalized.shape[1]
                let sampled = fixture.finalRows.flatMap { row in fixture.finalColumns.map { result.normalized.data[row * width + $0] } }
                compare(sampled, final.data, twin: expected.final64Minus32, spread: expected.finalSpread, gap: gap,
                        depth: depth, label + " final map", key: "\(model) \(expected.method)" + " final")
            }
            compared.insert(expected.method)
        }
        XCTAssertEqual(compared, Set(Self.methodIDs), "\(model): every method has a reference")
    }

    func testSmallCNNMatchesPyTorchGradCAM() throws {
        try forEachArithmeticVariant { _ in
            let (classifier, input) = try Self.smallCNN()
            try compare("mininet", classifier: classifier, input: input)
        }
    }

    func testNarrowResNetsMatchPyTorchGradCAM() throws {
        try forEachArithmeticVariant { _ in
            for variant in [ResNetVariant.resnet18, .resnet34, .resnet50] {
                let (classifier, input) = try Self.narrowResNet(variant)
                try compare(variant.rawValue, classifier: classifier, input: input)
            }
        }
    }

    /// κ = σ₁²/(σ₁² − σ₂²) of every Eigen-CAM reference: the factor by which the principal
    /// direction (and so the map) amplifies a relative change of the activations. Two float32
    /// forward passes give activations within about 1e-6 of each other relative to σ₁ (docs/numerics.md),
    /// so 2κ · 1e-6 must stay well below the criterion's 1e-4; κ ≤ 10 leaves a factor 5.
    func testEigenCAMIsWellConditioned() throws {
        for model in ["mininet", "resnet18", "resnet34", "resnet50"] {
            for result in try Self.fixture(model).results where result.method == "eigencam" {
                let values = try XCTUnwrap(result.singularValues, "\(model) \(result.layer): singular values")
                let kappa = values[0] * values[0] / (values[0] * values[0] - values[1] * values[1])
                XCTAssertLessThanOrEqual(kappa, 10, "\(model) \(result.layer): σ = \(values), κ = \(kappa)")
            }
        }
    }
}

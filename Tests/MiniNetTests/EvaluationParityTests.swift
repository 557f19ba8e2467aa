import Foundation
import XCTest
import MiniNet

/// MiniNet's localisation metrics, control maps and sanity checks against Quantus 0.6.0,
/// scikit-image and TorchRay's pointing-game rule. The fixtures Fixtures/evaluation-locsan/*.json
/// come from tools/parity/make_localisation_parity.py (its docstring says what each holds).
///
/// Agreement: scores that are fractions of pixels (pointing game, rank accuracy, mask sizes)
/// must be equal; the relevance mass and the Sobel map within 1e-4 of their size; Spearman's ρ
/// and SSIM, numbers in −1…1 that may be near 0, within 1e-4 absolute (1e-4 of their range).
/// Where MiniNet's convention differs from Quantus's on purpose (docs/evaluation.md), the test
/// asserts the difference, so that the documentation stays true.
final class EvaluationParityTests: XCTestCase {
    struct LocalisationCase: Decodable {
        var name: String
        var shape: [Int]
        var map: [Float]
        var coverage: [Float]
        var maskSize: Int
        var quantusPointingGame: Double
        var quantusRelevanceMassPositivePart: Double
        var quantusRelevanceMassSigned: Double
        var quantusRelevanceRank: Double
        var torchRayHits: [String: Bool]
    }

    struct SimilarityPair: Decodable {
        var name: String
        var shape: [Int]
        var a: [Float]
        var b: [Float]
        var rankCorrelationOfAbsolute: Double?
        var rankCorrelation: Double?
        var structuralSimilarity: Double
        var skimageStructuralSimilarity: Double
        var rawStructuralSimilarity: Double
    }

    struct SobelCase: Decodable {
        var picture: String
        var shape: [Int]
        var edges: [Float]
    }

    struct SimilarityFixture: Decodable {
        var pairs: [SimilarityPair]
        var sobel: [SobelCase]
    }

    struct MPRTFixture: Decodable {
        var model: String
        var seed: UInt64
        var inputShape: [Int]
        /// The small CNN's inputs; the narrow ResNet's is Fixtures/resnet/input.npy.
        var inputs: [[Float]]?
        var targets: [Int]
        var logits: [[Float]]
        var layers: [String]
        var rankCorrelationOfAbsolute: [[Double]]
        var rankCorrelation: [[Double]]
        var structuralSimilarity: [[Double]]
    }

    static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    static func fixture<T: Decodable>(_ name: String, as type: T.Type) throws -> T {
        let url = try XCTUnwrap(Bundle.module.url(forResource: name, withExtension: "json", subdirectory: "Fixtures/evaluation-locsan"),
                                "missing fixture Fixtures/evaluation-locsan/\(name).json")
        return try JSONDecoder().decode(T.self, from: Data(contentsOf: url))
    }

    // MARK: localisation

    func testLocalisationAgreesWithQuantusAndTorchRay() throws {
        struct File: Decodable { var cases: [LocalisationCase] }
        for item in try Self.fixture("localisation", as: File.self).cases {
            let heatmap = Tensor(shape: item.shape, data: item.map)
            let mask = ObjectMask(coverage: Tensor(shape: item.shape, data: item.coverage))
            XCTAssertEqual(mask.count, item.maskSize, "\(item.name): mask size")

            let pointing = Localisation.pointingGame(heatmap, mask: mask)
            if item.name == "tied maxima, first outside" {
                // Quantus hits when any of the equal maxima is inside; MiniNet takes the first.
                XCTAssertEqual(item.quantusPointingGame, 1, item.name)
                XCTAssertFalse(pointing.hit, "\(item.name): the first maximum is outside")
            } else {
                XCTAssertEqual(pointing.hit ? 1 : 0, item.quantusPointingGame, "\(item.name): pointing game")
            }
            for (tolerance, hit) in item.torchRayHits {
                XCTAssertEqual(Localisation.pointingGame(heatmap, mask: mask, tolerance: Int(tolerance)!).hit, hit,
                               "\(item.name): pointing game with tolerance \(tolerance)")
            }

            let mass = try XCTUnwrap(Localisation.relevanceMass(heatmap, mask: mask), item.name)
            XCTAssertEqual(mass, item.quantusRelevanceMassPositivePart, accuracy: 1e-4 * abs(item.quantusRelevanceMassPositivePart) + 1e-7,
                           "\(item.name): relevance mass")
            if heatmap.data.contains(where: { $0 < 0 }) {
                // Quantus sums R, negative values included; MiniNet sums R⁺ only.
                XCTAssertGreaterThan(abs(mass - item.quantusRelevanceMassSigned), 1e-3, "\(item.name): signed mass should differ")
            }
            XCTAssertEqual(try XCTUnwrap(Localisation.relevanceRank(heatmap, mask: mask)), item.quantusRelevanceRank,
                           "\(item.name): relevance rank accuracy")
        }
    }

    // MARK: similarity and Sobel

    func testRankCorrelationAndSSIMAgreeWithQuantusAndSkimage() throws {
        for pair in try Self.fixture("similarity", as: SimilarityFixture.self).pairs {
            let (a, b) = (Tensor(shape: pair.shape, data: pair.a), Tensor(shape: pair.shape, data: pair.b))
            let similarity = try Similarity.compare(a, b)
            assertClose(similarity.rankCorrelationOfAbsolute, pair.rankCorrelationOfAbsolute, "\(pair.name): ρ of |a|, |b|")
            assertClose(similarity.rankCorrelation, pair.rankCorrelation, "\(pair.name): ρ of a, b")
            XCTAssertEqual(pair.structuralSimilarity, pair.skimageStructuralSimilarity, accuracy: 1e-12, "\(pair.name): Quantus's ssim is skimage's")
            XCTAssertEqual(similarity.structuralSimilarity, pair.structuralSimilarity, accuracy: 1e-4, "\(pair.name): SSIM")
            XCTAssertEqual(try Similarity.structuralSimilarity(a, b), pair.rawStructuralSimilarity, accuracy: 1e-4,
                           "\(pair.name): SSIM of the raw maps")
        }
    }

    func testSobelEdgesAgreeWithSkimage() throws {
        for item in try Self.fixture("similarity", as: SimilarityFixture.self).sobel {
            let picture = try RGBImage.read(from: Self.repositoryRoot.appendingPathComponent(item.picture).path).toTensor()
            let edges = ControlMaps.sobelEdges(picture)
            XCTAssertEqual(edges.shape, item.shape)
            let scale = Double(item.edges.map(abs).max() ?? 0)
            let worst = zip(edges.data, item.edges).map { abs(Double($0) - Double($1)) }.max() ?? 0
            XCTAssertLessThanOrEqual(worst, 1e-4 * scale + 1e-6, "\(item.picture): max |Δ| \(worst) of max \(scale)")
        }
    }

    // MARK: MPRT

    func testCascadingRandomisationAgreesWithQuantusMPRTOnTheSmallCNN() throws {
        let classifier = try ImageClassifier.load(from: Self.repositoryRoot.appendingPathComponent("models/mininet.safetensors").path)
        let fixture = try Self.fixture("mprt-mininet", as: MPRTFixture.self)
        try checkCascade(classifier, fixture, inputs: try XCTUnwrap(fixture.inputs).map { Tensor(shape: fixture.inputShape, data: $0) })
    }

    func testCascadingRandomisationAgreesWithQuantusMPRTOnANarrowResNet18() throws {
        let path = try XCTUnwrap(Bundle.module.url(forResource: "resnet18-narrow", withExtension: "safetensors", subdirectory: "Fixtures/resnet")).path
        let classifier = try PretrainedResNet.load(from: path, variant: .resnet18, imageSize: 64)
        let input = try NumpyFile.read(from: try XCTUnwrap(Bundle.module.url(forResource: "input", withExtension: "npy", subdirectory: "Fixtures/resnet")).path)
        try checkCascade(classifier, try Self.fixture("mprt-resnet18", as: MPRTFixture.self), inputs: [input.reshaped(Array(input.shape.dropFirst()))])
    }

    /// Quantus's step names and order, then every similarity of every step and input.
    private func checkCascade(_ classifier: ImageClassifier, _ fixture: MPRTFixture, inputs: [Tensor]) throws {
        XCTAssertEqual(inputs.map(\.shape), Array(repeating: fixture.inputShape, count: fixture.targets.count))
        for (input, logits) in zip(inputs, fixture.logits) {
            let ours = classifier.forward(input.reshaped([1] + input.shape)).data
            let scale = Double(logits.map(abs).max() ?? 1)
            XCTAssertLessThanOrEqual(zip(ours, logits).map { abs(Double($0) - Double($1)) }.max() ?? 0, 1e-4 * scale,
                                     "\(fixture.model): the network differs from the reference before any randomisation")
        }
        let explainer = try XCTUnwrap(ExplainerRegistry.explainer(id: "saliency"))
        let result = try SanityChecks.cascadingRandomisation(classifier, explainer: explainer, inputs: inputs,
                                                             targets: fixture.targets.map { .logit($0) }, seed: fixture.seed)
        XCTAssertEqual(result.steps.map(\.step.name), fixture.layers, "\(fixture.model): the cascade's steps")
        for (index, step) in result.steps.enumerated() where index < fixture.layers.count {
            for (input, similarity) in step.similarities.enumerated() {
                let label = "\(fixture.model), step \(step.step.name), input \(input)"
                assertClose(similarity.rankCorrelationOfAbsolute, fixture.rankCorrelationOfAbsolute[index][input], "\(label): ρ of |a|, |b|")
                assertClose(similarity.rankCorrelation, fixture.rankCorrelation[index][input], "\(label): ρ of a, b")
                XCTAssertEqual(similarity.structuralSimilarity, fixture.structuralSimilarity[index][input], accuracy: 1e-4, "\(label): SSIM")
            }
        }
    }

    private func assertClose(_ actual: Double?, _ expected: Double?, _ label: String, file: StaticString = #filePath, line: UInt = #line) {
        switch (actual, expected) {
        case (nil, nil): break
        case let (actual?, expected?): XCTAssertEqual(actual, expected, accuracy: 1e-4, label, file: file, line: line)
        default: XCTFail("\(label): MiniNet \(String(describing: actual)), reference \(String(describing: expected))", file: file, line: line)
        }
    }
}

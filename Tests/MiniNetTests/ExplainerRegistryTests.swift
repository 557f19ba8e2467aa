import Foundation
import MiniNet
import XCTest

/// Every method of the registry on the small CNN and a narrow ResNet: the common interface
/// gives a heatmap at the input's size, a raw result of the documented shape, the score of the
/// target, and checks that pass; the ids are unique and are what the command line offers.
final class ExplainerRegistryTests: XCTestCase {
    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    func classifiers() throws -> [(name: String, classifier: ImageClassifier)] {
        let root = Self.repositoryRoot
        return [
            ("small CNN", try ImageClassifier.load(from: root.appendingPathComponent("models/mininet.safetensors").path)),
            ("ResNet-18", try PretrainedResNet.load(
                from: root.appendingPathComponent("Tests/MiniNetTests/Fixtures/resnet/resnet18-narrow.safetensors").path, imageSize: 64)),
        ]
    }

    /// A smooth test input of `shape`: value i is `wave(i · frequency)`.
    static func input(_ shape: [Int], _ wave: (Double) -> Double, frequency: Double) -> Tensor {
        Tensor(shape: shape, data: (0..<shape.reduce(1, *)).map { Float(wave(Double($0) * frequency)) })
    }

    /// The class the network predicts for `input` [C, H, W].
    static func predictedClass(_ classifier: ImageClassifier, _ input: Tensor) -> Int {
        let logits = classifier.forward(input.reshaped([1] + input.shape)).data
        return Tensor(shape: [logits.count], data: logits).argmax
    }

    func testIdsAreUniqueAndKeepTheCommandLineNames() {
        let ids = ExplainerRegistry.ids
        XCTAssertEqual(Set(ids).count, ids.count)
        for id in ["cam", "gradcam", "ablationcam", "lrp-0", "lrp-epsilon", "ig", "saliency",
                   "input-x-gradient", "smoothgrad", "vargrad", "guided-backprop"] {
            XCTAssertNotNil(ExplainerRegistry.explainer(id: id), id)
        }
        XCTAssertNil(ExplainerRegistry.explainer(id: "gradcam-"))
        for id in ["gradcam++", "xgradcam", "hirescam", "gradcam-elementwise", "layercam", "scorecam", "eigencam"] {
            XCTAssertNotNil(ExplainerRegistry.explainer(id: id), id)
        }
    }

    /// A CAM explainer's id is its method's id.
    func testEachCAMExplainerNamesItsMethod() throws {
        let classifier = try classifiers()[0].classifier
        for case let explainer as CAMFamilyExplainer in ExplainerRegistry.all {
            XCTAssertEqual(explainer.method(classifier).id, explainer.id)
        }
    }

    func testEveryExplainerGivesAMapAtTheInputSizeAndPassesItsChecks() throws {
        for (name, classifier) in try classifiers() {
            let input = Self.input(classifier.inputSize, sin, frequency: 0.37)
            let logits = classifier.forward(input.reshaped([1] + input.shape)).data
            let c = Tensor(shape: [logits.count], data: logits).argmax
            var settings = ExplainerSettings()
            settings.steps = 8
            settings.samples = 4
            for explainer in ExplainerRegistry.all {
                // CAM needs GAP → linear after its layer, which the default layer has.
                let explanation = try explainer.explain(input, classifier: classifier, target: .logit(c), settings: settings)
                let context = "\(explainer.id) on \(name)"
                XCTAssertEqual(explanation.method, explainer.id, context)
                XCTAssertEqual(explanation.heatmap.shape, Array(classifier.inputSize.dropFirst()), context)
                XCTAssertEqual(Double(explanation.score), Double(logits[c]), accuracy: 1e-3 * max(1, abs(Double(logits[c]))), context)
                if explanation.layer == nil {
                    XCTAssertEqual(explanation.raw.shape, classifier.inputSize, "\(context): an attribution to the input")
                    if !explanation.isSigned { XCTAssertGreaterThanOrEqual(explanation.heatmap.min, 0, context) }
                } else {
                    XCTAssertFalse(explanation.isSigned, context)
                    XCTAssertEqual(explanation.raw.rank, 2, context)
                    XCTAssertEqual(explanation.layer, classifier.defaultCAMLayer, context)
                    XCTAssertGreaterThanOrEqual(explanation.raw.min, 0, "\(context): a CAM is cut at 0")
                }
                for check in explanation.checks {
                    XCTAssertTrue(check.ok, "\(context): \(check.name): residual \(check.residual) > \(check.tolerance)")
                }
            }
        }
    }

    /// The saliency explainer takes the logits from the forward pass of its gradient: the same
    /// numbers, bit for bit, as `saliency` and a forward pass of its own.
    func testSaliencyExplainerGivesSaliencyAndTheLogits() throws {
        for (name, classifier) in try classifiers() {
            let input = Self.input(classifier.inputSize, cos, frequency: 0.23)
            let logits = classifier.forward(input.reshaped([1] + input.shape)).data
            let c = Tensor(shape: [logits.count], data: logits).argmax
            for target in [ExplanationTarget.logit(c), .probability(c)] {
                let explanation = try SaliencyExplainer().explain(input, classifier: classifier, target: target,
                                                                  settings: ExplainerSettings())
                let gradient = try saliency(classifier: classifier, input: input, target: target, absolute: false)
                XCTAssertEqual(explanation.raw.shape, gradient.shape, name)
                XCTAssertEqual(explanation.raw.data, gradient.data, "\(name), \(target)")
                XCTAssertEqual(explanation.logits, logits, "\(name), \(target)")
                XCTAssertEqual(explanation.score, target.valueAndGradient(logits: logits).value, "\(name), \(target)")
            }
        }
    }

    func testLRPRefusesAProbabilityTarget() throws {
        let classifier = try classifiers()[0].classifier
        XCTAssertThrowsError(try LRPExplainer.epsilon.explain(Tensor(zeros: classifier.inputSize), classifier: classifier,
                                                                target: .probability(0), settings: ExplainerSettings()))
    }

    /// At the layer that feeds pooling and the linear head, the CAMs whose weights are known
    /// there check them: CAM and the gradient CAMs that the score is the pooled map plus b_c,
    /// Ablation-CAM that each drop is w^c_k F^k. Elsewhere (another layer, a probability) they
    /// check nothing, and a map or weight off by a little fails.
    func testCAMsCheckTheirIdentityAtThePoolingLayerOnly() throws {
        for (name, classifier) in try classifiers() {
            let input = Self.input(classifier.inputSize, sin, frequency: 0.11)
            let c = Self.predictedClass(classifier, input)
            let earlier = classifier.featureMapLayers.dropLast().last!
            for (id, identity) in [("cam", "S_c = (1/Z)"), ("gradcam", "S_c = Σ_{x,y} L^c"), ("xgradcam", "S_c = Σ_{x,y} L^c"),
                                   ("hirescam", "S_c = Σ_{x,y} L^c"), ("ablationcam", "y^c − y^c_k = w^c_k F^k"),
                                   ("layercam", "Σ_{x,y} L^c = Σ_{k: w^c_k > 0}"), ("gradcam-elementwise", "Σ_{x,y} L^c = Σ_{k: w^c_k > 0}"),
                                   ("gradcam++", "w_k = Z g³")] {
                let explainer = try XCTUnwrap(ExplainerRegistry.explainer(id: id) as? CAMFamilyExplainer)
                let context = "\(id) on \(name)"
                let explanation = try explainer.explain(input, classifier: classifier, target: .logit(c), settings: ExplainerSettings())
                XCTAssertEqual(explanation.checks.count, 1, context)
                XCTAssertTrue(explanation.checks[0].name.hasPrefix(identity), context)
                XCTAssertTrue(explanation.checks[0].ok, "\(context): \(explanation.checks[0].residual) > \(explanation.checks[0].tolerance)")
                XCTAssertFalse(explanation.checks[0].isCoarse, context)

                var result = try explainer.method(classifier).explain(input: input, layer: classifier.defaultCAMLayer, target: .logit(c))
                if id == "ablationcam" || id == "gradcam++" {
                    let top = result.weights.indices.max { abs(result.weights[$0]) < abs(result.weights[$1]) }!
                    result.weights[top] *= 1.01
                } else {
                    result.weightedSum = result.weightedSum * 1.01
                }
                XCTAssertFalse(explainer.checks(result, classifier).allSatisfy(\.ok), "\(context): 1 % off must fail")

                if id != "cam" {
                    var settings = ExplainerSettings()
                    settings.layer = earlier
                    XCTAssertEqual(try explainer.explain(input, classifier: classifier, target: .logit(c), settings: settings).checks.count, 0,
                                   "\(context) at \(earlier)")
                }
                XCTAssertEqual(try explainer.explain(input, classifier: classifier, target: .probability(c), settings: ExplainerSettings()).checks.count, 0,
                               "\(context) for a probability")
            }
        }
    }

    /// Score-CAM's weights add up to 1 and Eigen-CAM's projection of centred activations to 0,
    /// with ‖v‖ = 1 and v an eigenvector, at any layer; a weight or a map off by a little fails.
    func testScoreCAMAndEigenCAMCheckTheirOwnIdentitiesAtAnyLayer() throws {
        let classifier = try classifiers()[0].classifier
        let input = Self.input(classifier.inputSize, cos, frequency: 0.17)
        for layer in [classifier.defaultCAMLayer, classifier.featureMapLayers.dropLast().last!] {
            var settings = ExplainerSettings()
            settings.layer = layer
            for (id, count) in [("scorecam", 1), ("eigencam", 3)] {
                let explainer = try XCTUnwrap(ExplainerRegistry.explainer(id: id) as? CAMFamilyExplainer)
                let explanation = try explainer.explain(input, classifier: classifier, target: .logit(1), settings: settings)
                XCTAssertEqual(explanation.checks.count, count, "\(id) at \(layer)")
                for check in explanation.checks { XCTAssertTrue(check.ok, "\(id) at \(layer): \(check.name) \(check.residual) > \(check.tolerance)") }
                var result = try explainer.method(classifier).explain(input: input, layer: layer, target: .logit(1))
                if id == "scorecam" {
                    let top = result.weights.indices.max { result.weights[$0] < result.weights[$1] }!
                    result.weights[top] *= 1.01
                } else {
                    result.weightedSum = result.weightedSum + Tensor(shape: result.weightedSum.shape, data: [Float](repeating: 0.01 * result.weightedSum.map(abs).max, count: result.weightedSum.count))
                }
                XCTAssertFalse(explainer.checks(result, classifier).allSatisfy(\.ok), "\(id) at \(layer): off by a little must fail")
            }
        }
    }

    /// The CAM identities apply where a layer's maps reach the logits through global average
    /// pooling and the final linear layer alone: not through a BatchNorm, a max-pooling, a
    /// second linear layer, or a ReLU that could change negative maps.
    func testOnlyALayerThatFeedsPoolingAndTheHeadCountsAsOne() {
        func network(_ head: [(String, Layer)]) -> Sequential {
            let features = Sequential(named: [("0", Conv2d(inputChannels: 3, outputChannels: 4, kernelSize: 3, padding: 1)), ("1", ReLU())])
            let network = Sequential(named: [("features", features)] + head)
            network.assignNames()
            return network
        }
        let pooled: [(String, Layer)] = [("pool", GlobalAveragePool()), ("flatten", Flatten()), ("fc", Linear(inputFeatures: 4, outputFeatures: 2))]
        let plain = network(pooled)
        XCTAssertTrue(plain.feedsPoolingAndLinearHead(after: "features.1", nonNegative: true))
        XCTAssertTrue(plain.feedsPoolingAndLinearHead(after: "features", nonNegative: false), "the same maps under the container's name")
        XCTAssertFalse(plain.feedsPoolingAndLinearHead(after: "features.0", nonNegative: false), "a ReLU comes first")
        XCTAssertFalse(plain.feedsPoolingAndLinearHead(after: "pool", nonNegative: true))
        XCTAssertFalse(plain.feedsPoolingAndLinearHead(after: "missing", nonNegative: true))
        XCTAssertTrue(network([("relu", ReLU())] + pooled).feedsPoolingAndLinearHead(after: "features", nonNegative: true))
        XCTAssertFalse(network([("relu", ReLU())] + pooled).feedsPoolingAndLinearHead(after: "features", nonNegative: false))
        XCTAssertFalse(network([("bn", BatchNorm2d(channels: 4))] + pooled).feedsPoolingAndLinearHead(after: "features", nonNegative: true))
        XCTAssertFalse(network([("max", MaxPool2d(kernelSize: 2))] + pooled).feedsPoolingAndLinearHead(after: "features", nonNegative: true))
        XCTAssertFalse(network(pooled + [("relu", ReLU()), ("fc2", Linear(inputFeatures: 2, outputFeatures: 2))])
            .feedsPoolingAndLinearHead(after: "features", nonNegative: true))
        XCTAssertTrue(network([("head", Sequential(named: pooled))]).feedsPoolingAndLinearHead(after: "features", nonNegative: true),
                      "a head in a container of its own")
    }

    /// A ReLU of a two-layer head, after the pooling, has no map: the default CAM layer is the
    /// last one before the pooling, where a CAM can run (it has no identity to check there).
    func testTheDefaultCAMLayerIsBeforeThePooling() throws {
        let spec = ModelSpec(architecture: "test", layers: [
            .conv2d("features.0", 3, 4, kernelSize: 3, padding: 1, bias: true), LayerSpec(name: "features.1", type: "ReLU"),
            .globalAveragePool("pool"), LayerSpec(name: "flatten", type: "Flatten"), .linear("head.0", 4, 4, bias: true),
            LayerSpec(name: "head.1", type: "ReLU"), .linear("head.2", 4, 3, bias: true),
        ], inputSize: [3, 8, 8], mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25], classNames: ["a", "b", "c"])
        let classifier = try ImageClassifier(spec: spec)
        XCTAssertEqual(classifier.featureMapLayers, ["features.1"])
        XCTAssertEqual(classifier.defaultCAMLayer, "features.1")
        let explanation = try CAMFamilyExplainer.gradCAM.explain(Self.input([3, 8, 8], sin, frequency: 1),
                                                                 classifier: classifier, target: .logit(0), settings: ExplainerSettings())
        XCTAssertEqual(explanation.checks.count, 0, "two linear layers after the pooling: no identity")
    }

    /// A last block that ends in a convolution: the default CAM layer is that convolution, whose
    /// maps the head pools, not the ReLU before it.
    func testTheDefaultCAMLayerIsTheOneThePoolingReads() throws {
        let spec = ModelSpec(architecture: "test", layers: [
            .conv2d("features.0", 3, 4, kernelSize: 3, padding: 1, bias: true), LayerSpec(name: "features.1", type: "ReLU"),
            .conv2d("features.2", 4, 5, kernelSize: 3, padding: 1, bias: true),
            .globalAveragePool("pool"), LayerSpec(name: "flatten", type: "Flatten"), .linear("classifier", 5, 3, bias: true),
        ], inputSize: [3, 8, 8], mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25], classNames: ["a", "b", "c"])
        let classifier = try ImageClassifier(spec: spec)
        XCTAssertEqual(classifier.featureMapLayers, ["features.1"])
        XCTAssertEqual(classifier.defaultCAMLayer, "features.2")
        let input = Self.input([3, 8, 8], cos, frequency: 0.7)
        let explanation = try CAMFamilyExplainer.gradCAM.explain(input, classifier: classifier, target: .logit(1), settings: ExplainerSettings())
        XCTAssertEqual(explanation.layer, "features.2")
        XCTAssertEqual(explanation.checks.count, 1, "the maps the head pools: Grad-CAM's identity holds")
        XCTAssertTrue(explanation.checks[0].ok)
    }
}

import XCTest
@testable import MiniNet

/// A pass that records nothing for backward runs each convolution, BatchNorm and ReLU (and a
/// block's sum) as one pass (InferenceFusion.swift); it must give the bits of the layers run one
/// by one, which a recording pass still does.
final class InferenceFusionTests: XCTestCase {
    /// A ResNet with seeded weights and BatchNorm statistics far from the identity.
    private func network(_ shape: ResNetShape, imageSize: Int, seed: UInt64) throws -> ImageClassifier {
        let classifier = try ImageClassifier(spec: .resNet(shape, classNames: (0..<shape.classCount).map { "class \($0)" },
                                                           imageSize: imageSize))
        Trainer.initialize(classifier, seed: seed)
        for (index, layer) in classifier.network.allLayers.enumerated() {
            guard let batchNorm = layer as? BatchNorm2d else { continue }
            let channels = batchNorm.channels
            let salt = seed &+ UInt64(index) &* 4
            batchNorm.weight.value = GradientCheck.uniform([channels], seed: salt, 0.5, 1.5)
            batchNorm.bias.value = GradientCheck.uniform([channels], seed: salt + 1, -0.5, 0.5)
            batchNorm.runningMean = GradientCheck.uniform([channels], seed: salt + 2, -0.2, 0.2)
            batchNorm.runningVariance = GradientCheck.uniform([channels], seed: salt + 3, 0.5, 2)
        }
        classifier.prepareForExplanation()
        return classifier
    }

    private func assertFusedPassKeepsTheBits(_ classifier: ImageClassifier, batch: Int, imageSize: Int, seed: UInt64,
                                             _ message: String) {
        let images = GradientCheck.uniform([batch, 3, imageSize, imageSize], seed: seed)
        let layerByLayer = classifier.forward(images)             // records, so nothing is fused
        let fused = classifier.inferenceLogits(images)
        XCTAssertEqual(fused.shape, layerByLayer.shape, message)
        XCTAssertEqual(fused.data.map(\.bitPattern), layerByLayer.data.map(\.bitPattern), message)
    }

    func testBasicAndBottleneckBlocksGiveTheSameBits() throws {
        let basic = ResNetShape(usesBottleneck: false, blocks: [1, 2, 1, 1], stemChannels: 8, planes: [8, 16, 16, 32], classCount: 5)
        let bottleneck = ResNetShape(usesBottleneck: true, blocks: [1, 1, 2, 1], stemChannels: 8, planes: [4, 8, 8, 16], classCount: 5)
        for (shape, name) in [(basic, "basic blocks"), (bottleneck, "bottleneck blocks")] {
            let classifier = try network(shape, imageSize: 40, seed: 5)
            for batch in [1, 3] {
                assertFusedPassKeepsTheBits(classifier, batch: batch, imageSize: 40, seed: 6, "\(name), batch \(batch)")
            }
        }
    }

    /// Full width at 224 × 224: the convolutions take Winograd's F(2×2) and F(4×4), the row dot
    /// products and the phase split, and every one of them is followed by the fused pass.
    func testFullWidthStagesGiveTheSameBits() throws {
        let shape = ResNetShape(usesBottleneck: false, blocks: [1, 1, 1, 1], classCount: 10)
        let classifier = try network(shape, imageSize: 224, seed: 7)
        for smallStages in [true, false] {
            let previous = Conv2d.smallStagesTakeWinograd
            defer { Conv2d.smallStagesTakeWinograd = previous }
            Conv2d.smallStagesTakeWinograd = smallStages
            assertFusedPassKeepsTheBits(classifier, batch: 1, imageSize: 224, seed: 8, "one picture, small stages by Winograd: \(smallStages)")
        }
        assertFusedPassKeepsTheBits(classifier, batch: 2, imageSize: 224, seed: 9, "two pictures")
    }

    /// A layer with a forward hook is run on its own, so the hook sees its own output, and what
    /// the hook returns goes on.
    func testAHookedLayerIsNotFused() throws {
        let shape = ResNetShape(usesBottleneck: false, blocks: [1, 1, 1, 1], stemChannels: 8, planes: [8, 8, 16, 16], classCount: 4)
        let classifier = try network(shape, imageSize: 32, seed: 11)
        let images = GradientCheck.uniform([1, 3, 32, 32], seed: 12)
        for name in ["layer1.0.bn1", "layer2.0.bn2", "layer3.0.relu1", "layer4.0.conv2", "bn1"] {
            let layer = try XCTUnwrap(classifier.layer(named: name))
            var seen: Tensor?
            layer.hooks.forward = { output in seen = output; return output * 2 }
            let recorded = classifier.forward(images)
            let recordedSeen = try XCTUnwrap(seen, name)
            seen = nil
            let fused = classifier.inferenceLogits(images)
            layer.hooks.forward = nil
            XCTAssertEqual(try XCTUnwrap(seen, "\(name): the hook runs in an inference pass").data.map(\.bitPattern),
                           recordedSeen.data.map(\.bitPattern), name)
            XCTAssertEqual(fused.data.map(\.bitPattern), recorded.data.map(\.bitPattern), name)
        }
    }
}

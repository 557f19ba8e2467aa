import Foundation
import XCTest
import MiniNet

/// Integrated Gradients on a (narrow) torchvision ResNet-18 against Captum 0.9: fixtures
/// Fixtures/resnet/resnet18-ig-*.npy, made by tools/fixtures/resnet_fixtures.py (zero baseline,
/// the predicted class, input Fixtures/resnet/input.npy [1, 3, 64, 64]), with Captum's float64
/// twin resnet18-ig-gl50-f64-minus-f32.npy (see ConditionedParity).
final class ResNetIGTests: XCTestCase {
    func fixturePath(_ name: String) throws -> String {
        try XCTUnwrap(Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Fixtures/resnet"),
                      "missing fixture Fixtures/resnet/\(name)").path
    }

    /// The narrow ResNet-18 of the fixtures, declared for their 64×64 input.
    func loadNarrowResNet() throws -> ImageClassifier {
        let path = try fixturePath("resnet18-narrow.pth")
        let stateDict = try PretrainedResNet.readStateDict(from: path)
        let shape = try PretrainedResNet.inferShape(stateDict, path: path)
        let classifier = try ImageClassifier(spec: .resNet(shape, classNames: (0..<shape.classCount).map { "class \($0)" },
                                                          imageSize: 64, resizeShorterSide: nil))
        try classifier.loadStateDict(stateDict, source: path)
        return classifier
    }

    func testIGOnResNetMatchesCaptumForAnyBatchSize() throws { try forEachArithmeticVariant { _ in try checkIGOnResNetMatchesCaptumForAnyBatchSize() } }

    func checkIGOnResNetMatchesCaptumForAnyBatchSize() throws {
        let classifier = try loadNarrowResNet()
        let input = try NumpyFile.read(from: try fixturePath("input.npy")).reshaped([3, 64, 64])
        let target = 8     // the manifest's models.resnet18.target (the predicted class)
        classifier.prepareForExplanation()
        XCTAssertEqual(classifier.forward(input.reshaped([1, 3, 64, 64])).argmax, target)
        let expected = try NumpyFile.read(from: try fixturePath("resnet18-ig-gl50.npy"))
        let twin = try NumpyFile.read(from: try fixturePath("resnet18-ig-gl50-f64-minus-f32.npy"))
        for batchSize in [7, 32] {
            let result = try integratedGradients(classifier: classifier, input: input, baseline: Tensor(zeros: input.shape),
                                                 target: .logit(target), steps: 50, method: .gaussLegendre, batchSize: batchSize)
            XCTAssertEqual(result.attributions.count, expected.count)
            // Input gradients of an 18-layer network: compared with Captum's float64 twin (ConditionedParity).
            _ = ConditionedParity.check("resnet18 IG gauss-legendre 50, batch size \(batchSize)", ours: result.attributions.data,
                                        reference32: expected.data, float64MinusFloat32: twin.data,
                                        spread: try ConditionedParity.resnetSpread("resnet18-ig-gl50.npy"), depth: 18)
        }
    }
}

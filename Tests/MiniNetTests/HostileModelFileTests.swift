import Foundation
import XCTest
@testable import MiniNet

/// Regressions for hostile model files and torchvision weights (issue 11): every declared size
/// is compared with the architecture and with `CheckpointLimits` before any layer is
/// allocated, and numbers that cannot be trusted are refused where they enter.
final class HostileModelFileTests: XCTestCase {
    /// The small CNN of the lessons, 2 classes, 32×32 input.
    let base = ModelSpec.miniNet(channels: [4, 8, 8], classNames: ["circle", "square"])

    /// A scratch folder, removed when the test ends.
    lazy var folder: URL = {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("model-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }()

    /// A model file declaring `spec` and holding `tensors` (by default, the base model's).
    func modelFile(_ spec: ModelSpec, tensors: [(name: String, tensor: Tensor)]? = nil) throws -> String {
        let weights = try tensors ?? ImageClassifier(spec: base).stateDict
        let json = String(decoding: try JSONEncoder().encode(spec), as: UTF8.self)
        let path = folder.appendingPathComponent("model-\(UUID().uuidString).safetensors").path
        try SafeTensorsFile(tensors: weights, metadata: ["format": "pt", ImageClassifier.metadataKey: json]).write(to: path)
        return path
    }

    /// Loads `path` expecting a one-line error naming the file; returns the message.
    func failure(_ load: (String) throws -> ImageClassifier, _ path: String,
                 file: StaticString = #filePath, line: UInt = #line) -> String {
        do {
            _ = try load(path)
            XCTFail("\(path) loaded but should fail", file: file, line: line)
        } catch let error as MiniNetError {
            let message = error.description
            XCTAssertTrue(message.hasPrefix(path + ": "), message, file: file, line: line)
            XCTAssertFalse(message.contains("\n"), message, file: file, line: line)
            return message
        } catch {
            XCTFail("threw \(error), not a MiniNetError", file: file, line: line)
        }
        return ""
    }

    func modelFailure(_ spec: ModelSpec, tensors: [(name: String, tensor: Tensor)]? = nil,
                      file: StaticString = #filePath, line: UInt = #line) throws -> String {
        failure(ImageClassifier.load(from:), try modelFile(spec, tensors: tensors), file: file, line: line)
    }

    func testTheUntouchedFileLoads() throws {
        XCTAssertNoThrow(try ImageClassifier.load(from: try modelFile(base)))
    }

    /// The shapes the planner works out are exactly those of the layers once built.
    func testPlannedTensorsMatchTheBuiltNetwork() throws {
        let narrow = ResNetShape(usesBottleneck: true, blocks: [1, 2, 1, 1], stemChannels: 4, planes: [2, 4, 4, 8], classCount: 3)
        for spec in [base, ModelSpec.miniNet(classNames: ["a", "b"], bias: false),
                     ModelSpec.resNet(narrow, classNames: ["a", "b", "c"], imageSize: 64)] {
            let built = try ImageClassifier(spec: spec).stateDict
            let planned = try spec.plannedTensors()
            XCTAssertEqual(planned.map(\.name), built.map(\.name), spec.architecture)
            XCTAssertEqual(planned.map(\.shape), built.map(\.tensor.shape), spec.architecture)
        }
    }

    // MARK: 3. Declared sizes

    /// Regression: a kernel size of 2²⁰ asked for petabytes; padding 1023 for a huge output.
    func testAbsurdLayerSizesAreRefusedBeforeAllocation() throws {
        var kernel = base
        kernel.layers[0].kernelSize = 1 << 20
        XCTAssertTrue(try modelFailure(kernel).contains("layer 'features.0' (Conv2d) needs kernel_size in 1…31, not 1048576"))
        var padding = base
        padding.layers[0].padding = 1023
        XCTAssertTrue(try modelFailure(padding).contains("needs padding in 0…2, not 1023"))
        var channels = base
        channels.layers[0].outChannels = 1 << 20
        XCTAssertTrue(try modelFailure(channels).contains("needs out_channels in 1…65536"))
        var wide = base
        wide.layers[0].outChannels = 1 << 16
        wide.layers[1].numFeatures = 1 << 16
        wide.layers[4].inChannels = 1 << 16
        wide.layers[4].outChannels = 1 << 16  // 2³² · 9 weights
        XCTAssertTrue(try modelFailure(wide).contains("limit maximumParameterCount"))
        var mismatch = base
        mismatch.layers[4].inChannels = 5
        XCTAssertTrue(try modelFailure(mismatch).contains("expects 5 input channels but receives shape [4, 16, 16]"))
        var linear = base
        linear.layers[linear.layers.count - 1].inFeatures = 9
        XCTAssertTrue(try modelFailure(linear).contains("expects 9 features but receives shape [8]"))
        var long = base
        long.layers += Array(repeating: LayerSpec(name: "relu", type: "ReLU"), count: CheckpointLimits.maximumLayerCount)
        XCTAssertTrue(try modelFailure(long).contains("limit maximumLayerCount"))
    }

    /// Regression: a 3×4096×4096 input was accepted; 1- or 4-channel and non-square inputs
    /// trapped later in Classifier, Conv2d and Linear preconditions.
    func testInputSizesTheTutorCannotFeedAreRefused() throws {
        for size in [[3, 4096, 4096], [1, 32, 32], [4, 32, 32], [3, 32, 16], [3, 0, 0], [3, 32]] {
            var spec = base
            spec.inputSize = size
            if size.first != 3 {
                spec.mean = Array(repeating: 0.5, count: size[0])
                spec.std = Array(repeating: 0.25, count: size[0])
            }
            let message = try modelFailure(spec)
            XCTAssertTrue(message.contains("input size") && message.contains("limit maximumInputSide"), message)
        }
        var tooFewClasses = base
        tooFewClasses.classNames = ["only one"]
        XCTAssertTrue(try modelFailure(tooFewClasses).contains("gives shape [2] per picture but there are 1 class names"))
    }

    // MARK: 7. Numbers that cannot be trusted

    /// Regression: a denormal std made `lesson ig` trap in the picture writer.
    func testNormalisationMustBeUsable() throws {
        for std: Float in [0, -0.25, Float.leastNormalMagnitude / 2] {
            var spec = base
            spec.std[1] = std
            XCTAssertTrue(try modelFailure(spec).contains("normalisation std"), "std \(std)")
        }
    }

    /// Regression: a model with BatchNorm eps −1e6 loaded.
    func testBatchNormEpsAndMomentumMustBeSane() throws {
        for eps: Float in [-1e6, 0] {
            var spec = base
            spec.layers[1].eps = eps
            XCTAssertTrue(try modelFailure(spec).contains("layer 'features.1' (BatchNorm2d) has eps"), "eps \(eps)")
        }
        var momentum = base
        momentum.layers[1].momentum = 7
        XCTAssertTrue(try modelFailure(momentum).contains("has momentum 7.0"))
    }

    func testNonFiniteWeightsAndNegativeVariancesAreRefused() throws {
        let good = try ImageClassifier(spec: base).stateDict
        for (bad, expected) in [(Float.nan, "holds nan at index 5"), (.infinity, "holds inf at index 5")] {
            var tensors = good
            tensors[0].tensor.data[5] = bad
            let message = try modelFailure(base, tensors: tensors)
            XCTAssertTrue(message.contains("tensor 'features.0.weight' \(expected); weights must be finite"), message)
        }
        var tensors = good
        let index = try XCTUnwrap(tensors.firstIndex { $0.name == "features.1.running_var" })
        tensors[index].tensor.data[2] = -1
        XCTAssertTrue(try modelFailure(base, tensors: tensors)
            .contains("tensor 'features.1.running_var' holds the negative variance -1.0 at index 2"))
        var nanMean = good
        let meanIndex = try XCTUnwrap(nanMean.firstIndex { $0.name == "features.1.running_mean" })
        nanMean[meanIndex].tensor.data[0] = .nan
        XCTAssertTrue(try modelFailure(base, tensors: nanMean).contains("tensor 'features.1.running_mean' holds nan at index 0"))
    }

    /// Regression (CI's fuzzer): a num_batches_tracked of 2⁶³ − 1 trapped converting to Int.
    func testBatchCounterMustBeOneWholeNumber() throws {
        let good = try ImageClassifier(spec: base).stateDict
        let index = try XCTUnwrap(good.firstIndex { $0.name == "features.1.num_batches_tracked" })
        for (bad, shown) in [(Tensor(scalar: 9.223372e18), "9.223372e+18"), (Tensor(scalar: -1), "-1.0"),
                             (Tensor(scalar: 2.5), "2.5")] {
            var tensors = good
            tensors[index].tensor = bad
            let message = try modelFailure(base, tensors: tensors)
            XCTAssertTrue(message.contains("features.1.num_batches_tracked is \(shown), expected one whole number of batches ≥ 0"), message)
        }
        var counted = good
        counted[index].tensor = Tensor(scalar: 12345)
        XCTAssertNoThrow(try ImageClassifier.load(from: try modelFile(base, tensors: counted)))
    }

    // MARK: torchvision weights

    func resNetFile(changing change: (inout [String: Tensor]) -> Void) throws -> String {
        let fixture = try XCTUnwrap(Bundle.module.url(forResource: "resnet18-narrow", withExtension: "safetensors",
                                                      subdirectory: "Fixtures/resnet")).path
        var tensors = try PretrainedResNet.readStateDict(from: fixture)
        change(&tensors)
        let path = folder.appendingPathComponent("resnet-\(UUID().uuidString).safetensors").path
        try SafeTensorsFile(tensors: tensors.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }).write(to: path)
        return path
    }

    func resNetFailure(changing change: (inout [String: Tensor]) -> Void,
                       file: StaticString = #filePath, line: UInt = #line) throws -> String {
        failure({ try PretrainedResNet.load(from: $0, imageSize: 64) }, try resNetFile(changing: change), file: file, line: line)
    }

    /// Regression: empty tensors claiming thousands of planes made the loader build layers
    /// with millions of weights before comparing anything.
    func testEmptyTensorsClaimingHugeWidthsAreRefused() throws {
        let planes = try resNetFailure { $0["layer1.0.conv1.weight"] = Tensor(shape: [5000, 0, 3, 3], data: []) }
        XCTAssertTrue(planes.contains("limit maximumParameterCount") || planes.contains("[5000, 0, 3, 3]"), planes)
        let stem = try resNetFailure { $0["conv1.weight"] = Tensor(shape: [0, 3, 7, 7], data: []) }
        XCTAssertTrue(stem.contains("needs out_channels in 1…65536, not 0"), stem)
        let classes = try resNetFailure { $0["fc.weight"] = Tensor(shape: [1_000_000_000, 0], data: []) }
        XCTAssertTrue(classes.contains("fc.weight declares 1000000000 classes"), classes)
        let narrowFC = try resNetFailure { $0["fc.weight"] = Tensor(shape: [10, 0], data: []) }
        XCTAssertTrue(narrowFC.contains("tensor 'fc.weight' has shape [10, 0], the architecture expects [10, 32]"), narrowFC)
    }

    /// Regression (found while writing tools/hostile/make_minimal_files.py): a safetensors file
    /// whose header length is 128 more than a multiple of 256 starts with the byte 0x80, and
    /// was taken for a pickle ("pickle protocol 23 is not supported").
    func testSafetensorsWhoseLengthStartsLikeAPickleIsReadAsSafetensors() throws {
        let fixture = try XCTUnwrap(Bundle.module.url(forResource: "resnet18-narrow", withExtension: "safetensors",
                                                      subdirectory: "Fixtures/resnet")).path
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: fixture)))
        let length = bytes[0..<8].reversed().reduce(0) { $0 << 8 | Int($1) }
        let padding = (128 - length % 256 + 256) % 256  // spaces after the JSON, as the format allows
        bytes.insert(contentsOf: [UInt8](repeating: UInt8(ascii: " "), count: padding), at: 8 + length)
        bytes.replaceSubrange(0..<8, with: (0..<8).map { UInt8(truncatingIfNeeded: (length + padding) >> (8 * $0)) })
        XCTAssertEqual(bytes[0], 0x80)
        let path = folder.appendingPathComponent("length-0x80.safetensors").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        XCTAssertEqual(try PretrainedResNet.readStateDict(from: path), try PretrainedResNet.readStateDict(from: fixture))
    }

    func testNonFiniteResNetWeightsAreRefused() throws {
        let message = try resNetFailure { $0["fc.bias"]!.data[3] = -.infinity }
        XCTAssertTrue(message.contains("tensor 'fc.bias' holds -inf at index 3"), message)
        let variance = try resNetFailure { $0["layer2.0.bn1.running_var"]!.data[0] = -0.5 }
        XCTAssertTrue(variance.contains("negative variance -0.5 at index 0"), variance)
    }
}

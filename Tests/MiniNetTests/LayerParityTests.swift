import Foundation
import XCTest
import MiniNet

/// MiniNet's layers against PyTorch: each fixture under Fixtures/layers (made by
/// tools/fixtures/make_layer_fixtures.py) holds torch's input, weights, output, input gradient
/// and parameter gradients for a fixed outputGradient. MiniNet gets the same weights and must
/// agree within
///
///     max |a − b| ≤ 1e-4 · max |b| + 1e-6
///
/// (Float32 sums in a different order differ by a few ulps of the largest magnitude involved).
/// That is the field's standard for matching PyTorch ("match PyTorch to 1e-4 relative"), kept
/// on purpose for these single small layers (sums of at most Cin·k² = 147 terms forward, a few
/// hundred for the parameter gradients): the residuals are one layer's float32 rounding, a
/// few 1e-7 relative, and a wrong stride, padding, transpose or a missing term is off by far
/// more than 1e-4. The 1e-6 floor is for outputs whose largest value is near 0.
final class LayerParityTests: XCTestCase {
    // MARK: Fixture loading

    private struct StoredTensor: Decodable {
        var shape: [Int]
        var data: [Float]
    }

    private struct Fixture: Decodable {
        var layer: String
        var config: [String: Int]
        private var tensors: [String: StoredTensor]

        func tensor(_ name: String) throws -> Tensor {
            guard let stored = tensors[name] else { throw MiniNetError.invalidModel("fixture has no tensor \(name)") }
            return Tensor(shape: stored.shape, data: stored.data)
        }

        /// Names starting with `prefix`, with the prefix removed.
        func names(after prefix: String) -> Set<String> {
            Set(tensors.keys.filter { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)) })
        }

        var isTraining: Bool { config["training"] == 1 }
    }

    private func load(_ name: String) throws -> Fixture {
        let url = try XCTUnwrap(Bundle.module.url(forResource: name, withExtension: "json", subdirectory: "Fixtures/layers"),
                                "missing fixture Fixtures/layers/\(name).json")
        return try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
    }

    private func assertClose(_ actual: Tensor, _ expected: Tensor, _ what: String,
                             file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(actual.shape, expected.shape, "\(what): shape", file: file, line: line)
        guard actual.shape == expected.shape else { return }
        let scale = expected.data.map(abs).max() ?? 0
        let difference = actual.maxAbsDifference(expected)
        XCTAssertLessThanOrEqual(difference, 1e-4 * scale + 1e-6, "\(what): max |MiniNet − PyTorch| = \(difference), max |PyTorch| = \(scale)",
                                 file: file, line: line)
    }

    // MARK: Building the layers

    /// A torchvision BasicBlock: conv3×3 → BN → ReLU → conv3×3 → BN, plus the identity or a
    /// strided 1×1 conv + BN "downsample", then ReLU.
    static func makeBasicBlock(channels: Int, outputChannels: Int, stride: Int) -> Residual {
        let body: [(String, Layer)] = [
            ("conv1", Conv2d(inputChannels: channels, outputChannels: outputChannels, kernelSize: 3, stride: stride, padding: 1, bias: false)),
            ("bn1", BatchNorm2d(channels: outputChannels)),
            ("relu", ReLU()),
            ("conv2", Conv2d(inputChannels: outputChannels, outputChannels: outputChannels, kernelSize: 3, padding: 1, bias: false)),
            ("bn2", BatchNorm2d(channels: outputChannels)),
        ]
        var shortcut: (String, Layer)?
        if stride != 1 || channels != outputChannels {
            shortcut = ("downsample", Sequential([
                Conv2d(inputChannels: channels, outputChannels: outputChannels, kernelSize: 1, stride: stride, bias: false),
                BatchNorm2d(channels: outputChannels),
            ]))
        }
        // torchvision reuses one ReLU module; a separately named one holds no parameters.
        return Residual(body: body, shortcut: shortcut, activation: ("relu_out", ReLU()))
    }

    /// The network of `small_network()` in the fixture script.
    static func makeNetwork() -> Sequential {
        Sequential(named: [
            ("features", Sequential([
                Conv2d(inputChannels: 3, outputChannels: 4, kernelSize: 3, padding: 1, bias: false),
                BatchNorm2d(channels: 4),
                ReLU(),
                MaxPool2d(kernelSize: 2),
                makeBasicBlock(channels: 4, outputChannels: 4, stride: 1),
                Conv2d(inputChannels: 4, outputChannels: 5, kernelSize: 3, stride: 2, padding: 1),
                ReLU(),
            ])),
            ("pool", GlobalAveragePool()),
            ("flatten", Flatten()),
            ("classifier", Linear(inputFeatures: 5, outputFeatures: 3)),
        ])
    }

    private func makeLayer(_ fixture: Fixture) throws -> Layer {
        let config = fixture.config
        func value(_ key: String) throws -> Int {
            guard let value = config[key] else { throw MiniNetError.invalidModel("fixture config has no \(key)") }
            return value
        }
        switch fixture.layer {
        case "conv2d":
            return Conv2d(inputChannels: try value("inputChannels"), outputChannels: try value("outputChannels"),
                          kernelSize: try value("kernelSize"), stride: try value("stride"), padding: try value("padding"),
                          bias: try value("bias") == 1)
        case "linear":
            return Linear(inputFeatures: try value("inputFeatures"), outputFeatures: try value("outputFeatures"),
                          bias: try value("bias") == 1)
        case "relu": return ReLU()
        case "maxpool2d": return MaxPool2d(kernelSize: try value("kernelSize"), stride: try value("stride"))
        case "globalAveragePool": return GlobalAveragePool()
        case "flatten": return Flatten()
        case "batchnorm2d": return BatchNorm2d(channels: try value("channels"))
        case "residual":
            return Self.makeBasicBlock(channels: try value("channels"), outputChannels: try value("outputChannels"),
                                       stride: try value("stride"))
        case "network": return Self.makeNetwork()
        default: throw MiniNetError.invalidModel("unknown fixture layer \(fixture.layer)")
        }
    }

    // MARK: The comparison

    /// Loads the fixture's weights and buffers into the layer, runs forward and backward, and
    /// compares the output, the input gradient, every parameter gradient and (after a
    /// training-mode pass) every buffer with PyTorch's.
    private func checkParity(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let fixture = try load(name)
        let layer = try makeLayer(fixture)
        layer.assignNames()

        // The parameter names must be PyTorch's, one for one.
        let parameterNames = Set(layer.namedParameters.map(\.name))
        XCTAssertEqual(parameterNames, fixture.names(after: "param."), "\(name): parameter names", file: file, line: line)
        for (parameterName, parameter) in layer.namedParameters {
            let value = try fixture.tensor("param." + parameterName)
            XCTAssertEqual(value.shape, parameter.value.shape, "\(name): \(parameterName) shape", file: file, line: line)
            parameter.value = value
        }
        XCTAssertEqual(Set(layer.namedBuffers.map(\.name)), fixture.names(after: "buffer."), "\(name): buffer names",
                       file: file, line: line)
        for bufferName in fixture.names(after: "buffer.") {
            // "features.1.running_mean" → layer "features.1", buffer "running_mean"
            let parts = bufferName.split(separator: ".")
            let owner = parts.dropLast().joined(separator: ".")
            let sublayer = try XCTUnwrap(layer.layer(named: owner), "\(name): no layer \(owner)", file: file, line: line)
            try sublayer.setBuffer(String(parts.last ?? ""), try fixture.tensor("buffer." + bufferName))
        }
        layer.setTraining(fixture.isTraining)
        layer.zeroGradients()

        let output = layer.run(try fixture.tensor("input"))
        assertClose(output, try fixture.tensor("output"), "\(name) output", file: file, line: line)
        let inputGradient = layer.runBackward(try fixture.tensor("outputGradient"))
        assertClose(inputGradient, try fixture.tensor("inputGradient"), "\(name) input gradient", file: file, line: line)
        for (parameterName, parameter) in layer.namedParameters {
            assertClose(parameter.gradient, try fixture.tensor("grad." + parameterName), "\(name) \(parameterName) gradient",
                        file: file, line: line)
        }
        for (bufferName, value) in layer.namedBuffers {
            assertClose(value, try fixture.tensor("bufferAfter." + bufferName), "\(name) \(bufferName) after the pass",
                        file: file, line: line)
        }
    }

    // MARK: Tests

    func testConv2d() throws {
        for name in ["conv2d_k3_s1_p1", "conv2d_k5_s2_p3_nobias", "conv2d_k7_s2_p3", "conv2d_k1_s2_p0"] {
            try checkParity(name)
        }
    }

    func testLinear() throws {
        try checkParity("linear_bias")
        try checkParity("linear_nobias")
    }

    func testReLUWithZeros() throws {
        XCTAssert(try load("relu").tensor("input").data.contains(0), "the fixture should contain exact zeros")
        try checkParity("relu")
    }

    /// The inputs take only the values −1, 0, 1, so most windows tie; the gradient must go to
    /// the same tied input as in PyTorch.
    func testMaxPool2dTies() throws {
        for name in ["maxpool2d_k2_s2_ties", "maxpool2d_k3_s2_ties", "maxpool2d_k3_s1_ties"] {
            let fixture = try load(name)
            let (kernelSize, stride) = (fixture.config["kernelSize"] ?? 0, fixture.config["stride"] ?? 0)
            XCTAssertGreaterThan(tiedWindowCount(try fixture.tensor("input"), kernelSize: kernelSize, stride: stride), 0,
                                 "\(name) should contain windows whose maximum is tied")
            try checkParity(name)
        }
    }

    /// How many pooling windows hold their maximum more than once.
    private func tiedWindowCount(_ input: Tensor, kernelSize: Int, stride: Int) -> Int {
        let (planes, height, width) = (input.shape[0] * input.shape[1], input.shape[2], input.shape[3])
        var count = 0
        for plane in 0..<planes {
            for top in Swift.stride(from: 0, through: height - kernelSize, by: stride) {
                for left in Swift.stride(from: 0, through: width - kernelSize, by: stride) {
                    var window: [Float] = []
                    for u in 0..<kernelSize {
                        for v in 0..<kernelSize { window.append(input.data[(plane * height + top + u) * width + left + v]) }
                    }
                    let largest = window.max() ?? 0
                    if window.filter({ $0 == largest }).count > 1 { count += 1 }
                }
            }
        }
        return count
    }

    func testGlobalAveragePool() throws {
        try checkParity("global_average_pool")
    }

    func testFlatten() throws {
        try checkParity("flatten")
    }

    /// Training mode: batch statistics, and running_mean/running_var (unbiased σ²) and
    /// num_batches_tracked updated as torch does. Eval mode: the running statistics.
    func testBatchNorm2d() throws {
        try checkParity("batchnorm2d_train")
        try checkParity("batchnorm2d_eval")
    }

    func testResidualBlocks() throws {
        for name in ["residual_identity_train", "residual_identity_eval", "residual_downsample_train", "residual_downsample_eval"] {
            try checkParity(name)
        }
    }

    func testSequentialNetwork() throws {
        try checkParity("network_eval")
        try checkParity("network_train")
    }

    func testSoftmaxAndCrossEntropy() throws {
        let fixture = try load("cross_entropy")
        let logits = try fixture.tensor("input")
        let labels = try fixture.tensor("labels").data.map { Int($0) }
        assertClose(softmax(logits), try fixture.tensor("softmax"), "softmax")
        let (loss, gradient) = crossEntropy(logits: logits, labels: labels)
        assertClose(Tensor(scalar: loss), try fixture.tensor("loss"), "cross-entropy loss")
        assertClose(gradient, try fixture.tensor("inputGradient"), "cross-entropy gradient")
    }
}

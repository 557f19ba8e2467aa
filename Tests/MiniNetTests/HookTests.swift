import XCTest
@testable import MiniNet

/// Forward and backward hooks addressed by PyTorch-style dotted names, and resuming a
/// Sequential after a named layer (what Grad-CAM and Ablation-CAM rely on).
final class HookTests: XCTestCase {
    /// A ResNet-shaped tree:
    ///
    ///     features  Sequential [conv, BN, ReLU, MaxPool]
    ///     layer1    Sequential [BasicBlock with downsample, BasicBlock with identity]
    ///     avgpool, flatten, fc
    private func makeNetwork() -> Sequential {
        let network = Sequential(named: [
            ("features", Sequential([
                Conv2d(inputChannels: 3, outputChannels: 4, kernelSize: 3, padding: 1),
                BatchNorm2d(channels: 4),
                ReLU(),
                MaxPool2d(kernelSize: 2),
            ])),
            ("layer1", Sequential([
                LayerParityTests.makeBasicBlock(channels: 4, outputChannels: 6, stride: 2),
                LayerParityTests.makeBasicBlock(channels: 6, outputChannels: 6, stride: 1),
            ])),
            ("avgpool", GlobalAveragePool()),
            ("flatten", Flatten()),
            ("fc", Linear(inputFeatures: 6, outputFeatures: 3)),
        ])
        for (offset, (_, parameter)) in network.namedParameters.enumerated() {
            parameter.value = GradientCheck.uniform(parameter.value.shape, seed: 40 + UInt64(offset), -0.8, 0.8)
        }
        network.assignNames()
        network.setTraining(false)
        return network
    }

    private let input = GradientCheck.uniform([2, 3, 10, 9], seed: 41)

    /// Names reachable through Sequentials only, so that forward(after:) can resume there.
    private let sequentialPathNames = ["features", "features.0", "features.1", "features.2", "features.3",
                                       "layer1", "layer1.0", "layer1.1", "avgpool", "flatten", "fc"]

    /// Runs a forward pass and returns the output of the layer `name` (as seen by a hook).
    private func activation(of name: String, in network: Sequential, input: Tensor) throws -> Tensor {
        let layer = try XCTUnwrap(network.layer(named: name), "no layer \(name)")
        var seen: Tensor?
        layer.hooks.forward = { seen = $0; return $0 }
        defer { layer.hooks.forward = nil }
        _ = network.run(input)
        return try XCTUnwrap(seen, "\(name)'s forward hook did not run")
    }

    func testNamesArePyTorchStyle() throws {
        let network = makeNetwork()
        let names = network.allLayers.map(\.name)
        for expected in ["", "features", "features.0", "features.3", "layer1", "layer1.0", "layer1.0.conv1",
                         "layer1.0.bn2", "layer1.0.downsample", "layer1.0.downsample.0", "layer1.0.downsample.1",
                         "layer1.1.conv2", "avgpool", "fc"] {
            XCTAssert(names.contains(expected), "missing layer \(expected) in \(names)")
        }
        XCTAssertNil(network.layer(named: "layer1.1.downsample"), "an identity shortcut has no module")
        XCTAssert(network.layer(named: "features.3") is MaxPool2d)
        XCTAssert(network.layer(named: "layer1.0.downsample.0") is Conv2d)
        XCTAssertEqual(Set(network.namedParameters.map(\.name)).count, network.namedParameters.count, "parameter names are unique")
        XCTAssert(network.namedParameters.map(\.name).contains("layer1.0.downsample.1.weight"))
        XCTAssert(network.namedParameters.map(\.name).contains("fc.bias"))
    }

    func testForwardHookReadsTheActivation() throws {
        let network = makeNetwork()
        // features.1's output, computed by running features.0 and features.1 by hand.
        let features = try XCTUnwrap(network.layer(named: "features") as? Sequential)
        let expected = features.layers[1].layer.forward(features.layers[0].layer.forward(input))
        XCTAssertEqual(try activation(of: "features.1", in: network, input: input), expected)
        // A layer inside a residual block: its output has the block's width and stride.
        XCTAssertEqual(try activation(of: "layer1.0.conv1", in: network, input: input).shape, [2, 6, 3, 2])
        // Removing the hooks leaves no trace.
        network.removeAllHooks()
        XCTAssert(network.allLayers.allSatisfy { $0.hooks.forward == nil && $0.hooks.backward == nil })
    }

    func testForwardHookReplacesTheActivation() throws {
        let network = makeNetwork()
        let plain = network.run(input)
        // Inside a residual block: zero conv2's output; bn2 must then see zeros.
        let conv2 = try XCTUnwrap(network.layer(named: "layer1.1.conv2"))
        let bn2 = try XCTUnwrap(network.layer(named: "layer1.1.bn2"))
        conv2.hooks.forward = { Tensor(zeros: $0.shape) }
        var bn2Output: Tensor?
        bn2.hooks.forward = { bn2Output = $0; return $0 }
        let ablated = network.run(input)
        let seen = try XCTUnwrap(bn2Output)
        XCTAssertEqual(seen, bn2.forward(Tensor(zeros: seen.shape)))
        // Not a tolerance between two routes: a lower bound on a real change, far above rounding.
        XCTAssertGreaterThan(ablated.maxAbsDifference(plain), 1e-3, "replacing an activation must change the output")
        network.removeAllHooks()
        XCTAssertEqual(network.run(input), plain)

        // On a Sequential path the replaced activation flows on exactly like forward(after:).
        let doubledSource = try activation(of: "features.2", in: network, input: input) * 2
        try XCTUnwrap(network.layer(named: "features.2")).hooks.forward = { $0 * 2 }
        let doubled = network.run(input)
        XCTAssertEqual(doubled, try XCTUnwrap(network.forward(after: "features.2", activation: doubledSource)))
    }

    /// ∂L/∂(output of a layer) seen by its backward hook, against central differences of L
    /// with respect to an offset δ added to that output by a forward hook.
    func testBackwardHookSeesOutputGradient() throws {
        for name in ["features.1", "layer1.0.conv1", "layer1.0.downsample.1", "layer1.1", "fc"] {
            let network = makeNetwork()
            let layer = try XCTUnwrap(network.layer(named: name))
            var seenGradient: Tensor?
            layer.hooks.backward = { seenGradient = $0 }
            let shape = try activation(of: name, in: network, input: input).shape
            var options = GradientCheck.Options()
            options.allowedNonSmoothFraction = 0.5
            options.minimumGradientScale = 0.01
            GradientCheck.check(
                forward: { offset in
                    layer.hooks.forward = { $0 + offset }
                    return network.run(input)
                },
                backward: { outputGradient in
                    _ = network.runBackward(outputGradient)
                    return seenGradient ?? Tensor(zeros: [0])
                },
                pieceSignature: { GradientCheck.pieceSignature(network) },
                input: Tensor(zeros: shape), options: options)
        }
    }

    func testForwardAfterEqualsTailOfFullForward() throws {
        let network = makeNetwork()
        let full = network.run(input)
        for name in sequentialPathNames {
            let resumed = network.forward(after: name, activation: try activation(of: name, in: network, input: input))
            XCTAssertEqual(resumed, full, "forward(after: \(name))")
        }
        // Not reachable through Sequentials (inside a residual block), or no such layer.
        XCTAssertNil(network.forward(after: "layer1.0.conv1", activation: Tensor(zeros: [1])))
        XCTAssertNil(network.forward(after: "layer9", activation: Tensor(zeros: [1])))
    }

    func testBackwardAfterEqualsGradientSeenByHook() throws {
        let network = makeNetwork()
        let output = network.run(input)
        let outputGradient = GradientCheck.uniform(output.shape, seed: 42)
        var seen: [String: Tensor] = [:]
        for name in sequentialPathNames + ["layer1.0.bn1"] {
            try XCTUnwrap(network.layer(named: name)).hooks.backward = { seen[name] = $0 }
        }
        _ = network.runBackward(outputGradient)
        for name in sequentialPathNames {
            let expected = try XCTUnwrap(seen[name], "\(name)'s backward hook did not run")
            XCTAssertEqual(network.backward(after: name, outputGradient: outputGradient), expected, "backward(after: \(name))")
        }
        XCTAssertNotNil(seen["layer1.0.bn1"], "backward hooks run inside residual blocks")
        XCTAssertNil(network.backward(after: "layer1.0.conv1", outputGradient: outputGradient))
        XCTAssertNil(network.backward(after: "layer9", outputGradient: outputGradient))
    }

    /// Hooks on the containers along the path run in forward(after:) and backward(after:)
    /// as they do in the full passes.
    func testResumingRunsContainerHooks() throws {
        let network = makeNetwork()
        let layer1 = try XCTUnwrap(network.layer(named: "layer1"))
        layer1.hooks.forward = { $0 * 0.5 }
        var containerGradients: [Tensor] = []
        layer1.hooks.backward = { containerGradients.append($0) }

        let activation = try activation(of: "layer1.0", in: network, input: input)
        let full = network.run(input)
        XCTAssertEqual(network.forward(after: "layer1.0", activation: activation), full)

        let outputGradient = GradientCheck.uniform(full.shape, seed: 43)
        var seen: Tensor?
        try XCTUnwrap(network.layer(named: "layer1.0")).hooks.backward = { seen = $0 }
        _ = network.runBackward(outputGradient)
        XCTAssertEqual(network.backward(after: "layer1.0", outputGradient: outputGradient), try XCTUnwrap(seen))
        XCTAssertEqual(containerGradients.count, 2, "layer1's backward hook runs in both backward passes")
        if containerGradients.count == 2 { XCTAssertEqual(containerGradients[0], containerGradients[1]) }
    }
}

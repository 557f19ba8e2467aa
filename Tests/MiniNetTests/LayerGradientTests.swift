import XCTest
@testable import MiniNet

/// Every layer's backward pass against central differences (see `GradientCheck`), over a sweep
/// of shapes and hyper-parameters.
final class LayerGradientTests: XCTestCase {
    /// Fills every parameter with uniform values in ±scale (deterministic per seed).
    private func randomize(_ layer: Layer, seed: UInt64, scale: Float = 1) {
        for (offset, (_, parameter)) in layer.namedParameters.enumerated() {
            parameter.value = GradientCheck.uniform(parameter.value.shape, seed: seed &+ UInt64(offset) &* 977, -scale, scale)
        }
    }

    // MARK: Conv2d

    func testConv2dSweep() {
        // Every kernel × stride × padding × bias combination; batch, channels and the
        // (odd/even, non-square) image size cycle through their ranges so all values occur.
        let sizes = [(7, 8), (8, 9), (9, 7), (10, 10), (7, 7), (8, 11)]
        var configuration = 0
        for kernelSize in [1, 3, 5, 7] {
            for stride in [1, 2] {
                for padding in [0, 1, 3] {
                    for hasBias in [true, false] {
                        let batch = 1 + configuration % 3
                        let inputChannels = 1 + configuration % 4
                        let outputChannels = 1 + (configuration / 4) % 4
                        let (height, width) = sizes[configuration % sizes.count]
                        configuration += 1
                        let conv = Conv2d(inputChannels: inputChannels, outputChannels: outputChannels,
                                          kernelSize: kernelSize, stride: stride, padding: padding, bias: hasBias)
                        let fanIn = Float(inputChannels * kernelSize * kernelSize)
                        randomize(conv, seed: UInt64(configuration), scale: 2 / fanIn.squareRoot())
                        let input = GradientCheck.uniform([batch, inputChannels, height, width], seed: UInt64(100 + configuration))
                        let output = conv.forward(input)
                        let expected = conv.outputSize(height: height, width: width)
                        XCTAssertEqual(output.shape, [batch, outputChannels, expected.height, expected.width])
                        var options = GradientCheck.Options()
                        options.maximumSamples = 60  // 48 configurations: keep the sweep quick
                        options.seed = UInt64(configuration)
                        GradientCheck.check(conv, input: input, options: options)
                    }
                }
            }
        }
    }

    /// The full 200-sample check on one ResNet-stem-like configuration.
    func testConv2dStem() {
        let conv = Conv2d(inputChannels: 3, outputChannels: 4, kernelSize: 7, stride: 2, padding: 3, bias: false)
        randomize(conv, seed: 3, scale: 0.2)
        GradientCheck.check(conv, input: GradientCheck.uniform([2, 3, 12, 9], seed: 4))
    }

    /// Without the input gradient (a network's first layer in training), the parameter
    /// gradients are bit for bit the same, on the im2col path and on Winograd's.
    func testConv2dWithoutInputGradientKeepsParameterGradients() {
        for (channels, size) in [(3, 9), (64, 56)] {          // small: im2col; large: Winograd F(2×2)
            var gradients: [[Float]] = []
            for computesInputGradient in [true, false] {
                let conv = Conv2d(inputChannels: channels, outputChannels: channels, kernelSize: 3, padding: 1)
                randomize(conv, seed: 5, scale: 0.1)
                conv.computesInputGradient = computesInputGradient
                let input = GradientCheck.uniform([2, channels, size, size], seed: 6)
                let output = conv.forward(input)
                let inputGradient = conv.backward(GradientCheck.uniform(output.shape, seed: 7))
                XCTAssertEqual(inputGradient.shape, computesInputGradient ? input.shape : [0])
                gradients.append(conv.weight.gradient.data + (conv.bias?.gradient.data ?? []))
            }
            XCTAssertEqual(gradients[0], gradients[1], "\(channels) channels")
        }
    }

    // MARK: Linear

    func testLinear() {
        for (batch, inputFeatures, outputFeatures, hasBias) in [(1, 1, 1, true), (3, 5, 4, true), (2, 7, 3, false), (4, 16, 10, true)] {
            let linear = Linear(inputFeatures: inputFeatures, outputFeatures: outputFeatures, bias: hasBias)
            randomize(linear, seed: UInt64(inputFeatures))
            let input = GradientCheck.uniform([batch, inputFeatures], seed: UInt64(outputFeatures))
            XCTAssertEqual(linear.forward(input).shape, [batch, outputFeatures])
            GradientCheck.check(linear, input: input)
        }
    }

    // MARK: Element-wise and pooling

    func testReLU() {
        // Spaced values keep every input ≥ 0.025 away from the kink at 0.
        for shape in [[7], [2, 5], [2, 3, 4, 5]] {
            GradientCheck.check(ReLU(), input: GradientCheck.spacedValues(shape, seed: UInt64(shape.count)))
        }
    }

    func testReLUGradientIsZeroAtZero() {
        let relu = ReLU()
        _ = relu.forward(Tensor(shape: [3], data: [-1, 0, 2]))
        XCTAssertEqual(relu.backward(Tensor(shape: [3], data: [5, 5, 5])).data, [0, 0, 5])
    }

    func testMaxPool2d() {
        for (kernelSize, stride) in [(2, 2), (2, 1), (3, 2), (3, 1)] {
            for (batch, channels, height, width) in [(1, 1, 6, 7), (2, 3, 7, 6), (3, 2, 9, 8)] {
                let pool = MaxPool2d(kernelSize: kernelSize, stride: stride)
                let input = GradientCheck.spacedValues([batch, channels, height, width], seed: UInt64(kernelSize * 10 + stride))
                let output = pool.forward(input)
                XCTAssertEqual(output.shape, [batch, channels, (height - kernelSize) / stride + 1, (width - kernelSize) / stride + 1])
                GradientCheck.check(pool, input: input)
            }
        }
    }

    func testGlobalAveragePool() {
        for shape in [[1, 1, 1, 1], [2, 3, 4, 5], [3, 2, 7, 3]] {
            let pool = GlobalAveragePool()
            let input = GradientCheck.uniform(shape, seed: 9)
            XCTAssertEqual(pool.forward(input).shape, [shape[0], shape[1], 1, 1])
            var options = GradientCheck.Options()
            // ∂L/∂x = R/(H·W): for 7×3 planes that is at most 1/21.
            options.minimumGradientScale = 0.01
            GradientCheck.check(pool, input: input, options: options)
        }
    }

    func testFlatten() {
        let flatten = Flatten()
        let input = GradientCheck.uniform([2, 3, 2, 4], seed: 1)
        XCTAssertEqual(flatten.forward(input).shape, [2, 24])
        GradientCheck.check(flatten, input: input)
    }

    // MARK: BatchNorm2d

    func testBatchNorm2dTraining() {
        for (batch, channels, height, width) in [(2, 1, 3, 3), (3, 4, 5, 2), (1, 3, 4, 4)] {
            let norm = BatchNorm2d(channels: channels)
            randomize(norm, seed: UInt64(channels), scale: 1.5)
            norm.setTraining(true)
            // A per-channel offset and spread, so μ and σ² are not trivially 0 and 1.
            var input = GradientCheck.uniform([batch, channels, height, width], seed: UInt64(batch))
            for index in input.data.indices {
                let channel = (index / (height * width)) % channels
                input.data[index] = input.data[index] * Float(1 + channel) + Float(channel) - 1
            }
            GradientCheck.check(norm, input: input)
        }
    }

    func testBatchNorm2dEval() {
        let norm = BatchNorm2d(channels: 3)
        randomize(norm, seed: 5, scale: 1.5)
        norm.runningMean = Tensor(shape: [3], data: [0.5, -0.2, 1])
        norm.runningVariance = Tensor(shape: [3], data: [0.3, 2, 1.1])
        norm.setTraining(false)
        GradientCheck.check(norm, input: GradientCheck.uniform([2, 3, 4, 3], seed: 6))
        // Eval mode reads the running statistics and does not change them.
        XCTAssertEqual(norm.runningMean.data, [0.5, -0.2, 1])
        XCTAssertEqual(norm.runningVariance.data, [0.3, 2, 1.1])
    }

    // MARK: Containers

    private func residualBlock(channels: Int, outputChannels: Int, stride: Int, seed: UInt64) -> Residual {
        let body: [(String, Layer)] = [
            ("conv1", Conv2d(inputChannels: channels, outputChannels: outputChannels, kernelSize: 3, stride: stride, padding: 1, bias: false)),
            ("bn1", BatchNorm2d(channels: outputChannels)),
            ("relu", ReLU()),
            ("conv2", Conv2d(inputChannels: outputChannels, outputChannels: outputChannels, kernelSize: 3, padding: 1, bias: false)),
            ("bn2", BatchNorm2d(channels: outputChannels)),
        ]
        let shortcut: (String, Layer)? = (channels == outputChannels && stride == 1) ? nil : ("downsample", Sequential([
            Conv2d(inputChannels: channels, outputChannels: outputChannels, kernelSize: 1, stride: stride, bias: false),
            BatchNorm2d(channels: outputChannels),
        ]))
        let block = Residual(body: body, shortcut: shortcut, activation: ("relu2", ReLU()))
        randomize(block, seed: seed, scale: 0.8)
        return block
    }

    private var networkOptions: GradientCheck.Options {
        var options = GradientCheck.Options()
        // Hidden ReLU/MaxPool kinks cannot be placed. They are detected exactly, so skipping is
        // safe; a BatchNorm γ or β moves a whole channel and may meet one even at h/16.
        options.allowedNonSmoothFraction = 0.5
        return options
    }

    func testResidualIdentityShortcut() {
        for training in [false, true] {
            let block = residualBlock(channels: 3, outputChannels: 3, stride: 1, seed: 11)
            block.assignNames()
            block.setTraining(training)
            GradientCheck.check(block, input: GradientCheck.uniform([2, 3, 5, 6], seed: 12), options: networkOptions)
        }
    }

    func testResidualConvShortcut() {
        for training in [false, true] {
            let block = residualBlock(channels: 2, outputChannels: 4, stride: 2, seed: 13)
            block.assignNames()
            block.setTraining(training)
            GradientCheck.check(block, input: GradientCheck.uniform([2, 2, 7, 6], seed: 14), options: networkOptions)
        }
    }

    func testResidualWithoutActivationOrBody() {
        // y = x + x through an empty body and identity shortcut: ∂L/∂x = 2R.
        let doubling = Residual(body: [])
        GradientCheck.check(doubling, input: GradientCheck.uniform([1, 2, 3, 3], seed: 15))
        let linearBlock = Residual(body: [("0", Conv2d(inputChannels: 2, outputChannels: 2, kernelSize: 3, padding: 1))])
        randomize(linearBlock, seed: 16, scale: 0.5)
        linearBlock.assignNames()
        GradientCheck.check(linearBlock, input: GradientCheck.uniform([2, 2, 4, 5], seed: 17))
    }

    func testSequentialNetwork() {
        for training in [false, true] {
            let network = Sequential(named: [
                ("features", Sequential([
                    Conv2d(inputChannels: 3, outputChannels: 4, kernelSize: 3, padding: 1, bias: false),
                    BatchNorm2d(channels: 4),
                    ReLU(),
                    MaxPool2d(kernelSize: 2),
                    residualBlock(channels: 4, outputChannels: 4, stride: 1, seed: 21),
                    Conv2d(inputChannels: 4, outputChannels: 5, kernelSize: 3, stride: 2, padding: 1),
                    ReLU(),
                ])),
                ("pool", GlobalAveragePool()),
                ("flatten", Flatten()),
                ("classifier", Linear(inputFeatures: 5, outputFeatures: 3)),
            ])
            randomize(network, seed: 22, scale: 0.8)
            network.assignNames()
            network.setTraining(training)
            var options = networkOptions
            options.seed = training ? 2 : 1
            GradientCheck.check(network, input: GradientCheck.uniform([2, 3, 9, 8], seed: 23), options: options)
        }
    }

    // MARK: Loss

    func testCrossEntropyGradient() {
        let labels = [2, 0, 4]
        let logits = GradientCheck.uniform([3, 5], seed: 31, -3, 3)
        var options = GradientCheck.Options()
        options.minimumGradientScale = 0.01
        // The loss is a scalar: y = [loss], so ∂L/∂logits = R[0]·∂loss/∂logits.
        GradientCheck.check(
            forward: { Tensor(shape: [1], data: [crossEntropy(logits: $0, labels: labels).loss]) },
            backward: { crossEntropy(logits: logits, labels: labels).logitsGradient * $0.data[0] },
            input: logits, options: options)
    }

    func testSoftmaxRowsAreDistributionsAndShiftInvariant() {
        // Logits on a 1/256 grid so that adding 512 is exact in Float32.
        let logits = GradientCheck.uniform([4, 6], seed: 32, -20, 20).map { ($0 * 256).rounded() / 256 }
        let probabilities = softmax(logits)
        let shifted = softmax(logits.map { $0 + 512 })
        for row in 0..<4 {
            // softmax works in Double and rounds each p_i to float32 once (error ≤ u·p_i); the
            // test adds the row in Double: within the bound of a sum of those 6 terms.
            let terms = probabilities.slice(row).data
            let check = assertWithin(probabilities.slice(row).sum(), 1, .sum(of: terms), "Σ_j p_j = 1, row \(row)")
            assertCatches(check, broken: probabilities.slice(row).sum() - Double(terms.max() ?? 0), "the largest p_j left out")
        }
        // On the 1/256 grid x + 512 and (x + 512) − (max + 512) = x − max are exact in float32, and
        // softmax subtracts the row's max first: the same numbers go into the same code.
        assertWithin(shifted, probabilities, .exact, "softmax(x + 512) = softmax(x)")
        XCTAssert(probabilities.data.allSatisfy { $0 >= 0 && $0 <= 1 })
    }
}

import XCTest
@testable import MiniNet

/// Stride-1 convolutions with short patches computed directly (Conv2dDirect.swift) against
/// im2col done by plain loops, within the error model; on any number of threads; against central
/// differences; and which layers take the path.
final class DirectConvolutionTests: XCTestCase {
    /// (Cin, Cout, k, p, H, W, N): the small network's first two layers, a partial last vector of
    /// positions, output channels that are not a multiple of 8, no padding, k = 5 and k = 1.
    private let shapes = [(3, 8, 3, 1, 32, 32, 2), (8, 16, 3, 1, 16, 16, 3), (5, 11, 3, 0, 20, 19, 2),
                          (2, 9, 5, 2, 17, 18, 1), (4, 3, 1, 0, 5, 21, 2)]

    /// A layer of shape (Cin, Cout, k, p, H, W, N) with seeded uniform weights and bias.
    static func convolution(_ shape: (Int, Int, Int, Int, Int, Int, Int), stride: Int = 1, bias: Bool, seed: UInt64) -> Conv2d {
        let (inputChannels, outputChannels, kernelSize, padding, _, _, _) = shape
        return Conv2d(inputChannels: inputChannels, outputChannels: outputChannels, kernelSize: kernelSize, stride: stride,
                      padding: padding, bias: bias,
                      weight: GradientCheck.uniform([outputChannels, inputChannels, kernelSize, kernelSize], seed: seed),
                      biasValue: GradientCheck.uniform([outputChannels], seed: seed + 1))
    }

    private func convolution(_ shape: (Int, Int, Int, Int, Int, Int, Int), bias: Bool, seed: UInt64) -> Conv2d {
        Self.convolution(shape, bias: bias, seed: seed)
    }

    /// Forward and backward of `conv`: output, ∂L/∂W, ∂L/∂b (or []), ∂L/∂x.
    private func pass(_ conv: Conv2d, _ input: Tensor, _ outputGradient: Tensor) -> (Tensor, [Float], [Float], Tensor) {
        conv.zeroGradients()
        let output = conv.forward(input)
        let inputGradient = conv.backward(outputGradient)
        return (output, conv.weight.gradient.data, conv.bias?.gradient.data ?? [], inputGradient)
    }

    /// Every value is a float32 sum: an output of Cin·k·k products and the bias, a weight gradient
    /// of N·OH·OW products added into zero, an input gradient of at most Cout·k·k products. The
    /// magnitudes Σ|terms| are the same computation on |W|, |x|, |∂L/∂y| (and |b|); the two routes,
    /// direct and im2col, each round within them, so their tolerances add.
    func testDirectConvolutionAgreesWithIm2colByPlainLoops() {
        for (index, shape) in shapes.enumerated() {
            let (inputChannels, outputChannels, kernelSize, padding, height, width, batch) = shape
            let label = "\(inputChannels)→\(outputChannels), k \(kernelSize), p \(padding), \(batch)×\(height)×\(width)"
            let conv = convolution(shape, bias: index % 2 == 0, seed: UInt64(10 + index))
            let outputSize = conv.outputSize(height: height, width: width)
            XCTAssertTrue(Conv2d.takesDirectConvolution(inputChannels: inputChannels, kernelSize: kernelSize, stride: 1, padding: padding,
                                                        outputWidth: outputSize.width), label)
            let input = GradientCheck.uniform([batch, inputChannels, height, width], seed: UInt64(20 + index))
            let outputGradient = GradientCheck.uniform([batch, outputChannels, outputSize.height, outputSize.width], seed: UInt64(30 + index))
            let direct = pass(conv, input, outputGradient)
            let reference = ArithmeticVariant.with(.referenceGemm) { pass(conv, input, outputGradient) }
            let magnitudes = ArithmeticVariant.with(.referenceGemm) {
                pass(Conv2d(inputChannels: inputChannels, outputChannels: outputChannels, kernelSize: kernelSize, padding: padding,
                            bias: conv.bias != nil, weight: conv.weight.value.magnitudes, biasValue: conv.bias?.value.magnitudes),
                     input.magnitudes, outputGradient.magnitudes)
            }
            let patch = inputChannels * kernelSize * kernelSize
            let positions = batch * outputSize.height * outputSize.width
            func twice(count: Int, _ magnitudes: Tensor) -> Tolerance {
                .elementwise(count: count, magnitudes: magnitudes) + .elementwise(count: count, magnitudes: magnitudes)
            }
            assertWithin(direct.0, reference.0, twice(count: patch + 1, magnitudes.0), "\(label): output")
            assertWithin(direct.1, reference.1, twice(count: positions + 1, Tensor(shape: [magnitudes.1.count], data: magnitudes.1)),
                         "\(label): ∂L/∂W")
            if conv.bias != nil {
                assertWithin(direct.2, reference.2, twice(count: positions + 1, Tensor(shape: [magnitudes.2.count], data: magnitudes.2)),
                             "\(label): ∂L/∂b")
            }
            assertWithin(direct.3, reference.3, twice(count: outputChannels * kernelSize * kernelSize, magnitudes.3), "\(label): ∂L/∂x")
        }
    }

    /// The pictures and output channels shared out over the threads: the same bits on any count.
    func testDirectConvolutionGivesTheSameBitsOnAnyNumberOfThreads() {
        for (index, shape) in shapes.enumerated() {
            let (inputChannels, outputChannels, _, _, height, width, batch) = shape
            let conv = convolution(shape, bias: true, seed: UInt64(40 + index))
            let input = GradientCheck.uniform([batch, inputChannels, height, width], seed: UInt64(50 + index))
            let size = conv.outputSize(height: height, width: width)
            let outputGradient = GradientCheck.uniform([batch, outputChannels, size.height, size.width], seed: UInt64(60 + index))
            func bits(_ result: (Tensor, [Float], [Float], Tensor)) -> [[UInt32]] {
                [result.0.data, result.1, result.2, result.3.data].map { $0.map(\.bitPattern) }
            }
            let one = GemmTests.withThreads(1) { bits(pass(conv, input, outputGradient)) }
            for threads in [2, 3] {
                XCTAssertEqual(GemmTests.withThreads(threads) { bits(pass(conv, input, outputGradient)) }, one, "shape \(index): \(threads) threads")
            }
        }
    }

    /// The backward pass against central differences, and parameter gradients that accumulate.
    func testDirectConvolutionAgainstCentralDifferences() {
        for (index, shape) in [(2, 3, 3, 1, 5, 16, 2), (3, 9, 5, 2, 4, 17, 1), (2, 2, 3, 0, 4, 19, 2)].enumerated() {
            let (inputChannels, _, kernelSize, padding, height, width, batch) = shape
            let conv = convolution(shape, bias: index != 1, seed: UInt64(70 + index))
            conv.weight.value = conv.weight.value * (1 / Float(inputChannels * kernelSize * kernelSize).squareRoot())
            XCTAssertTrue(Conv2d.takesDirectConvolution(inputChannels: inputChannels, kernelSize: kernelSize, stride: 1, padding: padding,
                                                        outputWidth: conv.outputSize(height: height, width: width).width))
            GradientCheck.check(conv, input: GradientCheck.uniform([batch, inputChannels, height, width], seed: UInt64(80 + index)))
        }
    }

    /// An input that is ±∞ or NaN only past the last output position of a row (no padding, so the
    /// kernel's last columns read it for no output) changes no weight gradient entry.
    func testValuesPastTheLastPositionStayOutOfTheWeightGradient() {
        let conv = convolution((2, 3, 3, 0, 6, 20, 1), bias: false, seed: 90)
        var input = GradientCheck.uniform([1, 2, 6, 20], seed: 91)
        let outputGradient = GradientCheck.uniform([1, 3, 4, 18], seed: 92)
        let finite = pass(conv, input, outputGradient).1
        // For an output, column 19 is read only at position 17 through v = 2; the vector lanes of
        // positions 18 … 31, which are no outputs, read it through v = 0 and v = 1.
        for row in 0..<6 { input.data[(1 * 6 + row) * 20 + 19] = row % 2 == 0 ? .infinity : .nan }
        let withSpecials = pass(conv, input, outputGradient).1
        for (o, entry) in withSpecials.enumerated() where (o % 9) % 3 != 2 || (o / 9) % 2 == 0 {
            XCTAssertEqual(entry.bitPattern, finite[o].bitPattern, "entry \(o) does not read column 19 of channel 1")
        }
    }

    func testWhichConvolutionsComputeDirectly() {
        // The small network of the lessons: 3 → 8 on 32 × 32, 8 → 16 on 16 × 16; its last layer
        // (16 → 32 on 8 × 8) has rows of only 8 positions.
        XCTAssertTrue(Conv2d.takesDirectConvolution(inputChannels: 3, kernelSize: 3, stride: 1, padding: 1, outputWidth: 32))
        XCTAssertTrue(Conv2d.takesDirectConvolution(inputChannels: 8, kernelSize: 3, stride: 1, padding: 1, outputWidth: 16))
        XCTAssertFalse(Conv2d.takesDirectConvolution(inputChannels: 16, kernelSize: 3, stride: 1, padding: 1, outputWidth: 8))
        // A ResNet: the stem has stride 2; every 3 × 3 layer has at least 64 input channels.
        XCTAssertFalse(Conv2d.takesDirectConvolution(inputChannels: 3, kernelSize: 7, stride: 2, padding: 3, outputWidth: 112))
        XCTAssertFalse(Conv2d.takesDirectConvolution(inputChannels: 64, kernelSize: 3, stride: 1, padding: 1, outputWidth: 56))
        XCTAssertFalse(ArithmeticVariant.with(.referenceGemm) {
            Conv2d.takesDirectConvolution(inputChannels: 3, kernelSize: 3, stride: 1, padding: 1, outputWidth: 32)
        }, "the plain-loop arithmetic keeps im2col, the reference")
    }
}

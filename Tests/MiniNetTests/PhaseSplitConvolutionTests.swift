import XCTest
@testable import MiniNet

/// Stride-2 convolutions with short patches computed through the input's four phases
/// (Conv2dPhaseSplit.swift) against im2col done by plain loops, within the error model; on any
/// number of threads; against central differences (the backward pass is im2col's, so this also
/// checks that the two routes compute the same function); and which layers take the path.
final class PhaseSplitConvolutionTests: XCTestCase {
    /// (Cin, Cout, k, p, H, W, N): a ResNet's stem on a small picture, odd sizes that leave a
    /// partial last vector of positions and output channels that are not a multiple of 8, an even
    /// kernel, no padding.
    private let shapes = [(3, 64, 7, 3, 40, 38, 1), (3, 11, 7, 3, 35, 41, 2), (2, 9, 5, 2, 33, 36, 2),
                          (3, 5, 6, 1, 34, 37, 1), (1, 8, 5, 0, 37, 39, 2)]

    private func convolution(_ shape: (Int, Int, Int, Int, Int, Int, Int), bias: Bool, seed: UInt64) -> Conv2d {
        DirectConvolutionTests.convolution(shape, stride: 2, bias: bias, seed: seed)
    }

    /// Each output is a float32 sum of Cin·k·k products (the phases add (2⌈k/2⌉)² − k² exact
    /// zeros among them) and the bias; the magnitudes Σ|terms| are the same convolution of |W|
    /// and |x| (and |b|). The two routes each round within them, so their tolerances add.
    func testPhasesAgreeWithIm2colByPlainLoops() {
        for (index, shape) in shapes.enumerated() {
            let (inputChannels, outputChannels, kernelSize, padding, height, width, batch) = shape
            let label = "\(inputChannels)→\(outputChannels), k \(kernelSize), p \(padding), \(batch)×\(height)×\(width)"
            let conv = convolution(shape, bias: index % 2 == 1, seed: UInt64(10 + index))
            let size = conv.outputSize(height: height, width: width)
            XCTAssertTrue(Conv2d.takesPhaseSplit(inputChannels: inputChannels, kernelSize: kernelSize, stride: 2, padding: padding,
                                                 outputWidth: size.width), label)
            let input = GradientCheck.uniform([batch, inputChannels, height, width], seed: UInt64(20 + index))
            let phases = conv.forward(input)
            let reference = ArithmeticVariant.with(.referenceGemm) { conv.forward(input) }
            let magnitudes = ArithmeticVariant.with(.referenceGemm) {
                Conv2d(inputChannels: inputChannels, outputChannels: outputChannels, kernelSize: kernelSize, stride: 2, padding: padding,
                       bias: conv.bias != nil, weight: conv.weight.value.magnitudes, biasValue: conv.bias?.value.magnitudes)
                    .forward(input.magnitudes)
            }
            let phaseKernel = (kernelSize + 1) / 2
            let tolerance = Tolerance.elementwise(count: 4 * inputChannels * phaseKernel * phaseKernel + 1, magnitudes: magnitudes)
                + .elementwise(count: inputChannels * kernelSize * kernelSize + 1, magnitudes: magnitudes)
            assertWithin(phases, reference, tolerance, label)
        }
    }

    /// The pictures and output channels shared out over the threads: the same bits on any count.
    func testPhasesGiveTheSameBitsOnAnyNumberOfThreads() {
        for (index, shape) in shapes.enumerated() {
            let (inputChannels, _, _, _, height, width, batch) = shape
            let conv = convolution(shape, bias: true, seed: UInt64(40 + index))
            let input = GradientCheck.uniform([batch, inputChannels, height, width], seed: UInt64(50 + index))
            let one = GemmTests.withThreads(1) { conv.forward(input).data.map(\.bitPattern) }
            for threads in [2, 3] {
                XCTAssertEqual(GemmTests.withThreads(threads) { conv.forward(input).data.map(\.bitPattern) }, one,
                               "shape \(index): \(threads) threads")
            }
        }
    }

    /// im2col's backward pass against central differences of the phases' forward pass.
    func testPhasesAgainstCentralDifferences() {
        for (index, shape) in [(2, 3, 7, 3, 6, 34, 1), (1, 4, 5, 2, 5, 33, 2)].enumerated() {
            let (inputChannels, _, kernelSize, _, height, width, batch) = shape
            let conv = convolution(shape, bias: index == 0, seed: UInt64(70 + index))
            conv.weight.value = conv.weight.value * (1 / Float(inputChannels * kernelSize * kernelSize).squareRoot())
            XCTAssertTrue(Conv2d.takesPhaseSplit(inputChannels: inputChannels, kernelSize: kernelSize, stride: 2, padding: conv.padding,
                                                 outputWidth: conv.outputSize(height: height, width: width).width))
            GradientCheck.check(conv, input: GradientCheck.uniform([batch, inputChannels, height, width], seed: UInt64(80 + index)))
        }
    }

    func testWhichConvolutionsSplitIntoPhases() {
        // A ResNet's stem: 3 → 64, 7 × 7, stride 2, padding 3, 112 outputs a row.
        XCTAssertTrue(Conv2d.takesPhaseSplit(inputChannels: 3, kernelSize: 7, stride: 2, padding: 3, outputWidth: 112))
        // Its other stride-2 layers: 3 × 3 over 64 channels and more, and 1 × 1 downsampling.
        XCTAssertFalse(Conv2d.takesPhaseSplit(inputChannels: 64, kernelSize: 3, stride: 2, padding: 1, outputWidth: 28))
        XCTAssertFalse(Conv2d.takesPhaseSplit(inputChannels: 64, kernelSize: 1, stride: 2, padding: 0, outputWidth: 28))
        // Stride 1, rows shorter than a vector, too many terms.
        XCTAssertFalse(Conv2d.takesPhaseSplit(inputChannels: 3, kernelSize: 7, stride: 1, padding: 3, outputWidth: 112))
        XCTAssertFalse(Conv2d.takesPhaseSplit(inputChannels: 3, kernelSize: 7, stride: 2, padding: 3, outputWidth: 15))
        XCTAssertFalse(Conv2d.takesPhaseSplit(inputChannels: 4, kernelSize: 7, stride: 2, padding: 3, outputWidth: 112))
        XCTAssertFalse(ArithmeticVariant.with(.referenceGemm) {
            Conv2d.takesPhaseSplit(inputChannels: 3, kernelSize: 7, stride: 2, padding: 3, outputWidth: 112)
        }, "the plain-loop arithmetic keeps im2col, the reference")
    }
}

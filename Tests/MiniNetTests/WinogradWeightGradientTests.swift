import XCTest
@testable import MiniNet

/// Winograd's F(2×2, 3×3) weight gradient against im2col's over odd and even, tiny and
/// multi-chunk sizes, against central differences, on any thread count; and a Conv2d that
/// trains through it.
final class WinogradWeightGradientTests: XCTestCase {
    /// How far Winograd's weight gradient may be from im2col's, from the float32 error model.
    ///
    /// im2col sums, for every weight (k, c, a, b), the N·H·W products ∂L/∂y · x of its
    /// receptive fields: n = N·H·W + 1 terms (the +1 adds into the zero gradient), whose
    /// magnitudes Σ|∂L/∂y · x| are what the same gradient gives on |x| and |∂L/∂y|.
    ///
    /// Winograd computes the same number as Σ_ξ (G ⊗ G)[ξ, ab] · Σ_t ∂L/∂M_kt[ξ] · V_ct[ξ]:
    ///
    /// - V = Bᵀ d B, two passes of at most 2 terms (the rows of Bᵀ have two entries ±1), so V
    ///   carries a rounding of γ₄ relative to V̄ = |Bᵀ| |d| |B|; likewise ∂L/∂M = A ∂L/∂Y Aᵀ
    ///   relative to M̄ = |A| |∂L/∂Y| |Aᵀ|;
    /// - the product sums T terms (T tiles), one rounding more for each product;
    /// - (G ⊗ G)ᵀ adds 16 terms, one rounding more for each product.
    ///
    /// To first order these add: n = 4 + 4 + (T + 1) + (16 + 1) = T + 26 terms, every one
    /// relative to Σ_ξ |(G ⊗ G)[ξ, ab]| · Σ_t M̄_kt[ξ] · V̄_ct[ξ], computed here in Double from
    /// the data (the largest over all weights). The two routes add.
    private func weightGradientTolerance(input: Tensor, outputGradient: Tensor, im2colMagnitudes: Tensor) -> Tolerance {
        let (batch, inputChannels, height, width) = (input.shape[0], input.shape[1], input.shape[2], input.shape[3])
        let outputChannels = outputGradient.shape[1]
        let geometry = Winograd.TileGeometry(height: height, width: width)
        let tiles = batch * geometry.tilesPerImage
        // |Bᵀ| [4, 4] and |A| [4, 2].
        let absoluteBT: [[Double]] = [[1, 0, 1, 0], [0, 1, 1, 0], [0, 1, 1, 0], [0, 1, 0, 1]]
        let absoluteA: [[Double]] = [[1, 0], [1, 1], [1, 1], [0, 1]]
        /// |L| |patch| |L|ᵀ for a patch of `side` × `side` values read by `value(p, q)`.
        func absoluteTransform(_ left: [[Double]], side: Int, _ value: (Int, Int) -> Double) -> [Double] {
            var result = [Double](repeating: 0, count: 16)
            for i in 0..<4 { for j in 0..<4 { for p in 0..<side { for q in 0..<side {
                result[4 * i + j] += left[i][p] * value(p, q) * left[j][q]
            } } } }
            return result
        }
        func at(_ tensor: Tensor, _ n: Int, _ channel: Int, _ row: Int, _ column: Int) -> Double {
            guard row >= 0, row < height, column >= 0, column < width else { return 0 }
            return Double(abs(tensor.data[((n * tensor.shape[1] + channel) * height + row) * width + column]))
        }
        // V̄ [T, Cin, 16] and M̄ [T, Cout, 16].
        var inputBars = [Double](repeating: 0, count: tiles * inputChannels * 16)
        var gradientBars = [Double](repeating: 0, count: tiles * outputChannels * 16)
        for n in 0..<batch {
            for tileRow in 0..<geometry.tilesHigh {
                for tileColumn in 0..<geometry.tilesWide {
                    let t = (n * geometry.tilesHigh + tileRow) * geometry.tilesWide + tileColumn
                    for c in 0..<inputChannels {
                        let bar = absoluteTransform(absoluteBT, side: 4) { at(input, n, c, 2 * tileRow - 1 + $0, 2 * tileColumn - 1 + $1) }
                        for xi in 0..<16 { inputBars[(t * inputChannels + c) * 16 + xi] = bar[xi] }
                    }
                    for k in 0..<outputChannels {
                        let bar = absoluteTransform(absoluteA, side: 2) { at(outputGradient, n, k, 2 * tileRow + $0, 2 * tileColumn + $1) }
                        for xi in 0..<16 { gradientBars[(t * outputChannels + k) * 16 + xi] = bar[xi] }
                    }
                }
            }
        }
        let kernelMatrix = Winograd.kernelTransformMatrix(.two).map { Double(abs($0)) }
        var largest = 0.0
        for k in 0..<outputChannels {
            for c in 0..<inputChannels {
                var products = [Double](repeating: 0, count: 16)
                for t in 0..<tiles {
                    for xi in 0..<16 {
                        products[xi] += gradientBars[(t * outputChannels + k) * 16 + xi] * inputBars[(t * inputChannels + c) * 16 + xi]
                    }
                }
                for weight in 0..<9 {
                    largest = max(largest, (0..<16).reduce(0.0) { $0 + kernelMatrix[$1 * 9 + weight] * products[$1] })
                }
            }
        }
        return .sum(count: tiles + 26, magnitude: largest)
            + .elementwise(count: batch * height * width + 1, magnitudes: im2colMagnitudes)
    }

    /// A Conv2d with random weights and a bias.
    private func convolution(inputChannels: Int, outputChannels: Int, seed: UInt64) -> Conv2d {
        let conv = Conv2d(inputChannels: inputChannels, outputChannels: outputChannels, kernelSize: 3, padding: 1,
                          weight: GradientCheck.uniform([outputChannels, inputChannels, 3, 3], seed: seed),
                          biasValue: GradientCheck.uniform([outputChannels], seed: seed + 1))
        conv.setParameterGradients(true)
        return conv
    }

    /// im2col's weight gradient of `conv` for this input and output gradient, from zero.
    private func im2colWeightGradient(_ conv: Conv2d, input: Tensor, outputGradient: Tensor) -> Tensor {
        ArithmeticVariant.with(.noWinograd) {
            conv.zeroGradients()
            _ = conv.run(input)
            _ = conv.runBackward(outputGradient)
            defer { conv.zeroGradients() }
            return conv.weight.gradient
        }
    }

    /// Winograd's weight gradient, from zero, and the V its forward pass kept.
    private func winogradWeightGradient(_ conv: Conv2d, input: Tensor, outputGradient: Tensor) -> (gradient: [Float], transformedInput: [Float]) {
        let kernel = Winograd.transformKernel(conv.weight.value.data, outputChannels: conv.outputChannels, inputChannels: conv.inputChannels)
        let (_, transformedInput) = Winograd.forwardKeepingTransformedInput(input, transformedKernel: kernel, bias: conv.bias?.value.data,
                                                                           outputChannels: conv.outputChannels)
        var gradient = [Float](repeating: 0, count: conv.weight.value.count)
        Winograd.weightGradient(outputGradient, transformedInput: transformedInput, inputChannels: conv.inputChannels, addingInto: &gradient)
        return (gradient, transformedInput)
    }

    func testWeightGradientMatchesIm2colOverShapes() {
        // Odd and even, a plane smaller than one tile, non-square; the last size has 100 tiles
        // per image, so its 6 images go in two chunks (5 and 1).
        let sizes = [(1, 1), (1, 2), (2, 3), (3, 3), (4, 5), (7, 8), (9, 6), (13, 10), (20, 20)]
        for (offset, (height, width)) in sizes.enumerated() {
            let batch = offset == sizes.count - 1 ? 6 : 1 + offset % 3
            let inputChannels = 1 + offset % 4
            let outputChannels = 1 + (offset + 2) % 5
            let geometry = Winograd.TileGeometry(height: height, width: width)
            if offset == sizes.count - 1 { XCTAssertEqual(Winograd.chunks(batch: batch, geometry: geometry).count, 2) }
            let conv = convolution(inputChannels: inputChannels, outputChannels: outputChannels, seed: 60 + UInt64(offset))
            let input = GradientCheck.uniform([batch, inputChannels, height, width], seed: 160 + UInt64(offset))
            let outputGradient = GradientCheck.uniform([batch, outputChannels, height, width], seed: 260 + UInt64(offset))
            let expected = im2colWeightGradient(conv, input: input, outputGradient: outputGradient)
            let (gradient, transformedInput) = winogradWeightGradient(conv, input: input, outputGradient: outputGradient)
            XCTAssertEqual(transformedInput, Winograd.transformedInput(input), "V made again equals the forward pass's V")

            let label = "N \(batch), Cin \(inputChannels), Cout \(outputChannels), \(height)×\(width)"
            let magnitudes = im2colWeightGradient(conv, input: input.map(abs), outputGradient: outputGradient.map(abs))
            let tolerance = weightGradientTolerance(input: input, outputGradient: outputGradient, im2colMagnitudes: magnitudes)
            let ours = Tensor(shape: expected.shape, data: gradient)
            let check = assertWithin(ours, expected, tolerance, "weight gradient, \(label)")
            // An image left out of the sum (its output gradient zeroed) must fail the tolerance.
            if batch > 1 {
                var dropped = outputGradient
                let imageSize = outputChannels * height * width
                for index in ((batch - 1) * imageSize)..<(batch * imageSize) { dropped.data[index] = 0 }
                let broken = winogradWeightGradient(conv, input: input, outputGradient: dropped).gradient
                XCTAssertFalse(Check.equal("", "", Tensor(shape: expected.shape, data: broken), "", expected, tolerance: tolerance).ok,
                               "weight gradient, \(label): an image left out passes \(check.model?.description ?? "")")
            }
        }
    }

    func testWeightGradientAgainstCentralDifferences() {
        for (height, width) in [(3, 4), (5, 5), (6, 7)] {
            let conv = convolution(inputChannels: 2, outputChannels: 3, seed: UInt64(17 * height + width))
            var transformedInput: [Float] = []
            GradientCheck.check(
                forward: { input in
                    let kernel = Winograd.transformKernel(conv.weight.value.data, outputChannels: 3, inputChannels: 2)
                    let (output, kept) = Winograd.forwardKeepingTransformedInput(input, transformedKernel: kernel, bias: conv.bias?.value.data,
                                                                                outputChannels: 3)
                    transformedInput = kept
                    return output
                },
                backward: { outputGradient in
                    Winograd.weightGradient(outputGradient, transformedInput: transformedInput, inputChannels: 2,
                                            addingInto: &conv.weight.gradient.data)
                    let kernel = Winograd.transformKernel(conv.weight.value.data, outputChannels: 3, inputChannels: 2)
                    return Winograd.inputGradient(outputGradient, transformedKernel: kernel, inputChannels: 2)
                },
                parameters: [("weight", conv.weight)], zeroGradients: { conv.zeroGradients() },
                input: GradientCheck.uniform([2, 2, height, width], seed: 70))
        }
    }

    /// Thread counts only share out the transforms and the 16 products, each of which one
    /// thread computes whole, and the chunks add into ∂L/∂U in a fixed order: the gradient is
    /// the same to the bit.
    func testWeightGradientIsBitIdenticalOnAnyThreadCount() {
        let conv = convolution(inputChannels: 24, outputChannels: 40, seed: 5)
        let input = GradientCheck.uniform([3, 24, 27, 30], seed: 6)
        let outputGradient = GradientCheck.uniform([3, 40, 27, 30], seed: 7)
        XCTAssertGreaterThan(Winograd.chunks(batch: 3, geometry: Winograd.TileGeometry(height: 27, width: 30)).count, 1)
        let gradients = [1, 2, 16].map { threads in
            GemmTests.withThreads(threads) { winogradWeightGradient(conv, input: input, outputGradient: outputGradient).gradient }
        }
        XCTAssertEqual(gradients[0], gradients[1], "1 and 2 threads")
        XCTAssertEqual(gradients[0], gradients[2], "1 and 16 threads")
    }

    /// A layer large enough for Winograd's path trains through it: forward keeps V and no im2col
    /// columns, backward gives exactly what the Winograd functions give, the gradients add up
    /// over backward calls, and the bias gradient is im2col's sum.
    func testConv2dWithParameterGradientsTakesWinograd() {
        let (channels, batch, height, width) = (32, 8, 47, 50)
        XCTAssertGreaterThanOrEqual(channels * channels * batch * height * width, Conv2d.winogradTrainingThreshold)
        let conv = convolution(inputChannels: channels, outputChannels: channels, seed: 21)
        let input = GradientCheck.uniform([batch, channels, height, width], seed: 22)
        let outputGradient = GradientCheck.uniform([batch, channels, height, width], seed: 23)

        let output = conv.run(input)
        XCTAssertNil(conv.cache?.columns, "Winograd's path keeps no im2col columns")
        XCTAssertNotNil(conv.cache?.transformedInput, "Winograd's path keeps V for the weight gradient")
        let inputGradient = conv.runBackward(outputGradient)

        let kernel = Winograd.transformKernel(conv.weight.value.data, outputChannels: channels, inputChannels: channels)
        XCTAssertEqual(output, Winograd.forward(input, transformedKernel: kernel, bias: conv.bias?.value.data, outputChannels: channels),
                       "forward is F(2×2, 3×3)")
        XCTAssertEqual(inputGradient, Winograd.inputGradient(outputGradient, transformedKernel: kernel, inputChannels: channels))
        let weightGradient = conv.weight.gradient
        let bias = conv.bias!
        let biasGradient = bias.gradient
        XCTAssertEqual(weightGradient.data, winogradWeightGradient(conv, input: input, outputGradient: outputGradient).gradient)

        // A second backward adds the same gradient again (β = 1 and +=, from the same values).
        _ = conv.runBackward(outputGradient)
        XCTAssertEqual(conv.weight.gradient.data, weightGradient.data.map { $0 + $0 }, "weight gradient accumulates")
        XCTAssertEqual(bias.gradient.data, biasGradient.data.map { $0 + $0 }, "bias gradient accumulates")

        // The bias gradient is the sum of N·H·W values, as im2col takes it.
        let expectedBias: Tensor = ArithmeticVariant.with(.noWinograd) {
            conv.zeroGradients()
            _ = conv.run(input)
            _ = conv.runBackward(outputGradient)
            return bias.gradient
        }
        var magnitudes = Tensor(zeros: [channels])
        for n in 0..<batch {
            for o in 0..<channels {
                for p in 0..<(height * width) { magnitudes.data[o] += abs(outputGradient.data[(n * channels + o) * height * width + p]) }
            }
        }
        assertWithin(biasGradient, expectedBias, .elementwise(count: batch * height * width, magnitudes: magnitudes)
                     + .elementwise(count: batch * height * width, magnitudes: magnitudes),
                     "bias gradient (two routes)")

        // Without recording (an evaluation), nothing is kept.
        GradientRecording.disabled { _ = conv.run(input) }
        XCTAssertNil(conv.cache)
    }
}

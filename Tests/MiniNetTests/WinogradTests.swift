import XCTest
@testable import MiniNet
import CKernels

/// Winograd's F(2×2, 3×3) against the im2col convolution it replaces, and its input gradient
/// against central differences, over odd and even, tiny and non-square sizes.
final class WinogradTests: XCTestCase {
    /// How far Winograd's F(2×2, 3×3) may be from the im2col convolution, from the float32 error
    /// model. Winograd computes each 2×2 output tile as Y = Aᵀ [Σ_c (G g_c Gᵀ) ⊙ (Bᵀ d_c B)] A:
    ///
    /// - V = Bᵀ d B: B has entries 0, ±1, two per row, so each V is ±4 inputs: |V| ≤ 4·max|d|;
    /// - U = G g Gᵀ: G's rows have |entries| adding up to at most 1.5, so |U| ≤ 2.25·max|g_c|;
    /// - M = Σ_c U ⊙ V over the summed channels, then Aᵀ M A adds up to 9 entries of M.
    ///
    /// To first order every rounding (2 stages of ≤ 3 additions in each transform, the channel
    /// sum, the bias) is relative to the same Σ_c Σ_ξ |U_ξc|·|V_ξc| ≤ 9 · 2.25 · 4 · max|d| · Σ_c max|g_c|
    /// = 81 · max|d| · Σ_c max|g_c|: n = C + 13 terms (C the channels summed), that magnitude.
    /// im2col adds 9·C + 1 terms of Σ|g d| ≤ 9 · max|d| · Σ_c max|g_c| + |b|. The two routes add.
    /// `transposed` is for the input gradient: the sum runs over the output channels.
    private func winogradTolerance(_ data: Tensor, weight: Tensor, bias: Tensor?, transposed: Bool) -> Tolerance {
        let channels = transposed ? weight.shape[0] : weight.shape[1]
        let channelSum = largestChannelSum(weight, transposed: transposed)
        let largestInput = Double(data.data.map(abs).max() ?? 0)
        let largestBias = transposed ? 0 : Double(bias?.data.map(abs).max() ?? 0)
        return .sum(count: channels + 13, magnitude: 81 * largestInput * channelSum + largestBias)
            + .sum(count: 9 * channels + 1, magnitude: 9 * largestInput * channelSum + largestBias)
    }

    /// A Conv2d with random weights and parameter gradients on; below `Conv2d.winogradThreshold`
    /// (every test here but the large layer's, which runs it under `.noWinograd`) it takes im2col.
    private func im2colConvolution(inputChannels: Int, outputChannels: Int, bias: Bool, seed: UInt64) -> Conv2d {
        let conv = Conv2d(inputChannels: inputChannels, outputChannels: outputChannels, kernelSize: 3, padding: 1, bias: bias,
                          weight: GradientCheck.uniform([outputChannels, inputChannels, 3, 3], seed: seed),
                          biasValue: bias ? GradientCheck.uniform([outputChannels], seed: seed + 1) : nil)
        conv.setParameterGradients(true)
        return conv
    }

    func testForwardAndInputGradientMatchIm2colOverShapes() {
        // The last size has more tiles per image than a chunk holds, so each image is a chunk.
        let sizes = [(1, 1), (1, 2), (2, 3), (3, 3), (4, 5), (7, 8), (8, 8), (9, 6), (47, 45)]
        XCTAssertGreaterThan(24 * 23, Winograd.tilesPerChunk)
        for (offset, (height, width)) in sizes.enumerated() {
            let batch = 1 + offset % 3
            let inputChannels = 1 + offset % 4
            let outputChannels = 1 + (offset + 2) % 5
            let hasBias = offset % 2 == 0
            let conv = im2colConvolution(inputChannels: inputChannels, outputChannels: outputChannels, bias: hasBias, seed: UInt64(offset))
            let input = GradientCheck.uniform([batch, inputChannels, height, width], seed: 100 + UInt64(offset))
            let outputGradient = GradientCheck.uniform([batch, outputChannels, height, width], seed: 200 + UInt64(offset))
            let expectedOutput = conv.forward(input)
            let expectedInputGradient = conv.backward(outputGradient)

            let kernel = Winograd.transformKernel(conv.weight.value.data, outputChannels: outputChannels, inputChannels: inputChannels)
            let output = Winograd.forward(input, transformedKernel: kernel, bias: conv.bias?.value.data, outputChannels: outputChannels)
            let inputGradient = Winograd.inputGradient(outputGradient, transformedKernel: kernel, inputChannels: inputChannels)
            let label = "N \(batch), Cin \(inputChannels), Cout \(outputChannels), \(height)×\(width)"
            let forwardTolerance = winogradTolerance(input, weight: conv.weight.value, bias: conv.bias?.value, transposed: false)
            let check = assertWithin(output, expectedOutput, forwardTolerance, "forward, \(label)")
            assertWithin(inputGradient, expectedInputGradient,
                         winogradTolerance(outputGradient, weight: conv.weight.value, bias: nil, transposed: true), "input gradient, \(label)")
            // An input channel left out of the sum (its weights zeroed) must fail the tolerance.
            if inputChannels > 1 {
                var dropped = conv.weight.value
                for o in 0..<outputChannels { for t in 0..<9 { dropped.data[(o * inputChannels + inputChannels - 1) * 9 + t] = 0 } }
                let broken = Winograd.forward(input, transformedKernel: Winograd.transformKernel(dropped.data, outputChannels: outputChannels,
                                                                                                 inputChannels: inputChannels),
                                              bias: conv.bias?.value.data, outputChannels: outputChannels)
                XCTAssertFalse(Check.equal("", "", broken, "", expectedOutput, tolerance: forwardTolerance).ok,
                               "forward, \(label): a channel left out passes \(check.model?.description ?? "")")
            }
        }
    }

    /// How far F(4×4, 3×3) may be from im2col, by the same reasoning with its larger matrices:
    ///
    /// - V = Bᵀ d B: each row of Bᵀ has |entries| adding up to at most 10, so |V| ≤ 100·max|d|;
    /// - U = G g Gᵀ: each row of G has |entries| adding up to at most 1, so |U| ≤ max|g_c|;
    /// - Aᵀ M A: the rows of Aᵀ have |entries| adding up to at most 19 (1, 1, −1, 8, −8, 1), so
    ///   an output weighs the 36 entries of M by at most 19² = 361 in all.
    ///
    /// Every rounding is then relative to at most 361 · 100 · max|d| · Σ_c max|g_c|, over
    /// n = C + 30 terms: the channel sum, and two passes of up to 6 terms and their products in
    /// each of the three transforms. The bound is loose (its worst cases do not all meet in one
    /// output), so it guards the algorithm, not the last digits; the parity tests against
    /// PyTorch hold the whole network to 1e-4. `transposed` is for the input gradient, as above.
    private func winograd4Tolerance(_ data: Tensor, weight: Tensor, bias: Tensor?, transposed: Bool = false) -> Tolerance {
        let channels = transposed ? weight.shape[0] : weight.shape[1]
        let channelSum = largestChannelSum(weight, transposed: transposed)
        let largestInput = Double(data.data.map(abs).max() ?? 0)
        let largestBias = Double(bias?.data.map(abs).max() ?? 0)
        return .sum(count: channels + 30, magnitude: 36100 * largestInput * channelSum + largestBias)
            + .sum(count: 9 * channels + 1, magnitude: 9 * largestInput * channelSum + largestBias)
    }

    /// max over the outputs of Σ_c max|g_oc| for g [Cout, Cin, 3, 3]; `transposed`, with the
    /// roles swapped (the input gradient sums over the output channels).
    private func largestChannelSum(_ weight: Tensor, transposed: Bool) -> Double {
        let (outputs, inputs) = (weight.shape[0], weight.shape[1])
        var largest = 0.0
        for outer in 0..<(transposed ? inputs : outputs) {
            var total = 0.0
            for inner in 0..<(transposed ? outputs : inputs) {
                let (o, c) = transposed ? (inner, outer) : (outer, inner)
                total += Double((0..<9).map { abs(weight.data[(o * inputs + c) * 9 + $0]) }.max() ?? 0)
            }
            largest = max(largest, total)
        }
        return largest
    }

    func testFourByFourTilesMatchIm2colOverShapes() {
        // Sizes that are and are not multiples of 4, a plane smaller than one tile, one with
        // more tiles per image than a chunk holds, and a batch of small planes that fills two
        // chunks of several images and a shorter last one.
        let sizes = [(1, 1), (2, 3), (4, 4), (5, 7), (8, 8), (9, 6), (13, 10), (90, 93), (7, 7)]
        XCTAssertGreaterThan(23 * 24, Winograd.fourByFourTilesPerChunk)
        XCTAssertEqual(Winograd.chunks(batch: 37, geometry: .init(height: 7, width: 7, tile: .four)).map(\.images), [16, 16, 5])
        for (offset, (height, width)) in sizes.enumerated() {
            let batch = height == 7 ? 37 : 1 + offset % 3
            let inputChannels = 1 + offset % 4
            let outputChannels = 1 + (offset + 2) % 5
            let hasBias = offset % 2 == 0
            let conv = im2colConvolution(inputChannels: inputChannels, outputChannels: outputChannels, bias: hasBias, seed: 40 + UInt64(offset))
            let input = GradientCheck.uniform([batch, inputChannels, height, width], seed: 140 + UInt64(offset))
            let expected = conv.forward(input)
            let kernel = Winograd.transformKernel(conv.weight.value.data, outputChannels: outputChannels, inputChannels: inputChannels,
                                                  tile: .four)
            let output = Winograd.forward(input, transformedKernel: kernel, bias: conv.bias?.value.data,
                                          outputChannels: outputChannels, tile: .four)
            assertWithin(output, expected, winograd4Tolerance(input, weight: conv.weight.value, bias: conv.bias?.value),
                         "F(4×4, 3×3), N \(batch), Cin \(inputChannels), Cout \(outputChannels), \(height)×\(width)")
            // The input gradient by F(4×4, 3×3), the plane turned and U[ξ]ᵀ: the forward pass's error
            // model, summing over the output channels.
            let outputGradient = GradientCheck.uniform([batch, outputChannels, height, width], seed: 240 + UInt64(offset))
            let expectedInputGradient = conv.backward(outputGradient)
            assertWithin(Winograd.inputGradientFourByFour(outputGradient, transformedKernel: kernel, inputChannels: inputChannels),
                         expectedInputGradient, winograd4Tolerance(outputGradient, weight: conv.weight.value, bias: nil, transposed: true),
                         "F(4×4, 3×3) input gradient, N \(batch), Cin \(inputChannels), Cout \(outputChannels), \(height)×\(width)")
            // The error actually left, against the direct method's own scale: F(4×4, 3×3)'s
            // rounding stays within a few hundred units in the last place of Σ|w·x|.
            let largestInput: Float = input.data.map(abs).max() ?? 0
            let largestWeight: Float = conv.weight.value.data.map(abs).max() ?? 0
            let scale = Double(largestInput) * Double(largestWeight) * Double(9 * inputChannels)
            var largestError = 0.0
            for (got, want) in zip(output.data, expected.data) { largestError = max(largestError, Double(abs(got - want))) }
            let allowed: Double = 512 * Double(Float.ulpOfOne) * scale
            XCTAssertLessThanOrEqual(largestError, allowed, "F(4×4, 3×3), \(height)×\(width)")
        }
    }

    /// `tutor_multiply_narrow` against the product accumulated in Double, A read in both layouts,
    /// with blocks of 32 and 16 columns, fewer than 16 left over, and rows past the last block of 8:
    /// one chain of `inner` fused multiply-adds per entry, the rounding of a float32 sum of
    /// `inner` terms.
    func testNarrowProductsMatchTheReferenceProduct() {
        for (offset, (rows, inner, columns)) in [(16, 40, 32), (13, 7, 53), (9, 300, 16), (3, 5, 5), (24, 64, 64)].enumerated() {
            let a = GradientCheck.uniform([rows, inner], seed: 700 + UInt64(offset)).data
            let b = GradientCheck.uniform([inner, columns], seed: 800 + UInt64(offset)).data
            for transposed in [false, true] {
                // Aᵀ stored [inner, rows] holds the same matrix A.
                let stored = transposed ? (0..<(inner * rows)).map { a[($0 % rows) * inner + $0 / rows] } : a
                var expected = [Float](repeating: 0, count: rows * columns)
                Gemm.referenceMultiply(a, b, into: &expected, m: rows, n: columns, k: inner)
                var got = [Float](repeating: .nan, count: rows * columns)
                stored.withUnsafeBufferPointer { a in
                    b.withUnsafeBufferPointer { b in
                        got.withUnsafeMutableBufferPointer { c in
                            tutor_multiply_narrow(a.baseAddress!, transposed ? 1 : inner, transposed ? rows : 1, b.baseAddress!,
                                                  c.baseAddress!, rows, inner, columns)
                        }
                    }
                }
                // |a|, |b| < 1: each entry's terms add up to at most `inner`.
                assertWithin(got, expected, .sum(count: inner, magnitude: Double(inner), largestTerm: 1),
                             "narrow product \(rows)×\(inner)×\(columns), A \(transposed ? "transposed" : "by rows")")
            }
        }
    }

    /// A deep layer's F(4×4) (U[ξ] of 256 × 260, 16 to 64 tiles) takes the narrow products; it
    /// stays within the same error model against im2col, forward and input gradient, with a
    /// column count that leaves 4 tiles over (5 images of 4 tiles) and rows past the last block.
    func testDeepLayersTakeNarrowProductsWithinTheErrorModel() {
        XCTAssertTrue(Winograd.takesNarrowProducts(positions: 36, rows: 260, inner: 256, columns: 20, transposingFirst: false, ownLoopsWider: false))
        XCTAssertFalse(Winograd.takesNarrowProducts(positions: 36, rows: 128, inner: 128, columns: 49, transposingFirst: false, ownLoopsWider: false))
        for (batch, side) in [(5, 7), (4, 14)] {
            let conv = ArithmeticVariant.with(.noWinograd) { im2colConvolution(inputChannels: 256, outputChannels: 260, bias: true, seed: 90) }
            let input = GradientCheck.uniform([batch, 256, side, side], seed: 91)
            let outputGradient = GradientCheck.uniform([batch, 260, side, side], seed: 92)
            let (expected, expectedInputGradient) = ArithmeticVariant.with(.noWinograd) { (conv.forward(input), conv.backward(outputGradient)) }
            let kernel = Winograd.transformKernel(conv.weight.value.data, outputChannels: 260, inputChannels: 256, tile: .four)
            assertWithin(Winograd.forward(input, transformedKernel: kernel, bias: conv.bias?.value.data, outputChannels: 260, tile: .four),
                         expected, winograd4Tolerance(input, weight: conv.weight.value, bias: conv.bias?.value),
                         "narrow F(4×4), N \(batch), \(side)×\(side)")
            assertWithin(Winograd.inputGradientFourByFour(outputGradient, transformedKernel: kernel, inputChannels: 256),
                         expectedInputGradient, winograd4Tolerance(outputGradient, weight: conv.weight.value, bias: nil, transposed: true),
                         "narrow F(4×4) input gradient, N \(batch), \(side)×\(side)")
        }
    }

    /// Which tile a layer takes without parameter gradients: F(4×4) from 32 4×4 tiles, F(2×2)
    /// below (one 14 × 14 picture has 16) and in training.
    /// Where MiniNet's loops are wider than OpenBLAS's kernels, the narrow kernel takes every
    /// product of 16 columns or more, F(2×2) and F(4×4), but for U[ξ] stored by columns against a
    /// multiple of 512 columns or fewer than 16 rows; otherwise only the deep F(4×4) shapes.
    func testWhichProductsTheNarrowKernelTakes() {
        func takes(_ positions: Int, _ rows: Int, _ inner: Int, _ columns: Int, transposed: Bool = false, wider: Bool) -> Bool {
            Winograd.takesNarrowProducts(positions: positions, rows: rows, inner: inner, columns: columns, transposingFirst: transposed,
                                         ownLoopsWider: wider)
        }
        XCTAssertTrue(takes(36, 64, 64, 196, wider: true))
        XCTAssertTrue(takes(16, 256, 256, 49, wider: true))
        XCTAssertTrue(takes(16, 8, 3, 512, wider: true))
        XCTAssertTrue(takes(16, 64, 64, 784, transposed: true, wider: true))
        XCTAssertFalse(takes(16, 64, 64, 512, transposed: true, wider: true))
        XCTAssertFalse(takes(16, 8, 16, 100, transposed: true, wider: true))
        XCTAssertFalse(takes(36, 512, 512, 4, wider: true))
        XCTAssertFalse(takes(36, 64, 64, 196, wider: false))
        XCTAssertFalse(takes(16, 256, 256, 49, wider: false))
        XCTAssertTrue(takes(36, 512, 512, 32, transposed: true, wider: false))
    }

    /// The shapes of the two tests above again, with the products on each side of
    /// `takesNarrowProducts`'s first rule, whichever side this machine's OpenBLAS puts them on.
    func testShapesMatchIm2colWhicheverKernelTakesTheProducts() {
        onEachSideOfTheOwnProductsRule { _ in
            testForwardAndInputGradientMatchIm2colOverShapes()
            testFourByFourTilesMatchIm2colOverShapes()
            testDeepLayersTakeNarrowProductsWithinTheErrorModel()
        }
    }

    func testFourByFourTilesWhereTheyPayOff() {
        func tile(_ channels: Int, batch: Int, side: Int, training: Bool = false) -> Winograd.Tile {
            Conv2d(inputChannels: channels, outputChannels: channels, kernelSize: 3, padding: 1)
                .forwardTile(batch: batch, height: side, width: side, withParameterGradients: training)
        }
        XCTAssertEqual(tile(256, batch: 1, side: 14), .two, "16 tiles")
        XCTAssertEqual(tile(256, batch: 2, side: 14), .four, "32 tiles")
        XCTAssertEqual(tile(128, batch: 1, side: 28), .four, "49 tiles")
        XCTAssertEqual(tile(512, batch: 2, side: 7), .two, "8 tiles")
        XCTAssertEqual(tile(256, batch: 2, side: 14, training: true), .two, "training")
    }

    func testInputGradientAgainstCentralDifferences() {
        for (height, width) in [(3, 4), (5, 5), (6, 7)] {
            let conv = im2colConvolution(inputChannels: 2, outputChannels: 3, bias: true, seed: UInt64(height * width))
            let kernel = Winograd.transformKernel(conv.weight.value.data, outputChannels: 3, inputChannels: 2)
            GradientCheck.check(
                forward: { Winograd.forward($0, transformedKernel: kernel, bias: conv.bias?.value.data, outputChannels: 3) },
                backward: { Winograd.inputGradient($0, transformedKernel: kernel, inputChannels: 2) },
                input: GradientCheck.uniform([2, 2, height, width], seed: 7))
        }
    }

    /// A layer large enough to take Winograd's path gives im2col's numbers, and notices new weights.
    func testConv2dTakesWinogradForLargeLayersAndFollowsWeightChanges() {
        let (channels, batch, height, width) = (32, 2, 47, 50)
        XCTAssertGreaterThanOrEqual(channels * channels * batch * height * width, Conv2d.winogradThreshold)
        let reference = im2colConvolution(inputChannels: channels, outputChannels: channels, bias: true, seed: 11)
        let fast = Conv2d(inputChannels: channels, outputChannels: channels, kernelSize: 3, padding: 1,
                          weight: reference.weight.value, biasValue: reference.bias?.value)
        fast.setParameterGradients(false)
        let input = GradientCheck.uniform([batch, channels, height, width], seed: 12)
        let outputGradient = GradientCheck.uniform([batch, channels, height, width], seed: 13)

        // Parameter gradients on would take Winograd too (WinogradWeightGradientTests): the
        // reference is held to im2col.
        func im2col<Result>(_ body: () -> Result) -> Result { ArithmeticVariant.with(.noWinograd, body) }
        assertWithin(fast.forward(input), im2col { reference.forward(input) },
                     winogradTolerance(input, weight: reference.weight.value, bias: reference.bias?.value, transposed: false), "forward")
        // 2 × 12 × 13 4×4 tiles: the input gradient takes F(4×4, 3×3).
        assertWithin(fast.backward(outputGradient), im2col { reference.backward(outputGradient) },
                     winograd4Tolerance(outputGradient, weight: reference.weight.value, bias: nil, transposed: true), "input gradient")

        // New weights must not reuse the kernel transformed from the old ones.
        for index in stride(from: 0, to: fast.weight.value.count, by: 7) {
            fast.weight.value.data[index] *= -2
            reference.weight.value.data[index] *= -2
        }
        assertWithin(fast.forward(input), im2col { reference.forward(input) },
                     winogradTolerance(input, weight: reference.weight.value, bias: reference.bias?.value, transposed: false), "forward, new weights")
        assertWithin(fast.backward(outputGradient), im2col { reference.backward(outputGradient) },
                     winograd4Tolerance(outputGradient, weight: reference.weight.value, bias: nil, transposed: true), "input gradient, new weights")
    }

    /// F(2×2)'s input transform of several planes at once (an image's channels, or one channel
    /// in several images) gives, at every vector width, the bits of one plane at a time.
    func testInputTransformOfSeveralPlanesGivesTheBitsOfOnePlaneAtATime() {
        for (height, width) in [(1, 1), (2, 3), (5, 7), (7, 7), (8, 8), (14, 14), (13, 10), (9, 16)] {
            for planes in [1, 3, 17] {
                let (tilesHigh, tilesWide) = ((height + 1) / 2, (width + 1) / 2)
                let tiles = tilesHigh * tilesWide
                // Planes 2 values apart beyond their size, to check that the stride is followed.
                let imageStride = height * width + 2
                let x = GradientCheck.uniform([planes * imageStride], seed: UInt64(height * 31 + width + planes)).data
                let stride = planes * tiles + 5
                var alone = [Float](repeating: .nan, count: 16 * stride)
                x.withUnsafeBufferPointer { x in
                    alone.withUnsafeMutableBufferPointer { v in
                        for plane in 0..<planes {
                            tutor_winograd_transform_input(x.baseAddress! + plane * imageStride, height, width, v.baseAddress! + plane * tiles, stride)
                        }
                    }
                }
                for width2 in VectorWidth.available {
                    var together = [Float](repeating: .nan, count: 16 * stride)
                    VectorWidth.with(width2) {
                        x.withUnsafeBufferPointer { x in
                            together.withUnsafeMutableBufferPointer { v in
                                tutor_winograd_transform_input_images(x.baseAddress!, imageStride, planes, height, width, v.baseAddress!, stride)
                            }
                        }
                    }
                    XCTAssertEqual(together.map(\.bitPattern), alone.map(\.bitPattern), "\(height)×\(width), \(planes) planes, \(width2)")
                }
            }
        }
    }

    /// The same for the output transform, with a bias per plane (an image's channels) or one for
    /// all (one channel in several images).
    func testOutputTransformOfSeveralPlanesGivesTheBitsOfOnePlaneAtATime() {
        for (height, width) in [(1, 1), (2, 3), (5, 7), (7, 7), (8, 8), (14, 14), (13, 10), (9, 16)] {
            for planes in [1, 3, 17] {
                let tiles = ((height + 1) / 2) * ((width + 1) / 2)
                let stride = planes * tiles + 5
                let m = GradientCheck.uniform([16 * stride], seed: UInt64(height * 37 + width + planes)).data
                let biases = GradientCheck.uniform([planes], seed: UInt64(planes)).data + [-0.0]
                let imageStride = height * width + 2
                for biasStride in [0, 1] {
                    func plane(_ n: Int) -> Int { biasStride == 0 ? planes : n }   // the shared bias is the last, −0
                    var alone = [Float](repeating: .nan, count: planes * imageStride)
                    m.withUnsafeBufferPointer { m in
                        alone.withUnsafeMutableBufferPointer { y in
                            for n in 0..<planes {
                                tutor_winograd_transform_output(m.baseAddress! + n * tiles, stride, height, width, biases[plane(n)],
                                                                y.baseAddress! + n * imageStride)
                            }
                        }
                    }
                    for vectorWidth in VectorWidth.available {
                        var together = [Float](repeating: .nan, count: planes * imageStride)
                        VectorWidth.with(vectorWidth) {
                            m.withUnsafeBufferPointer { m in
                                biases.withUnsafeBufferPointer { b in
                                    together.withUnsafeMutableBufferPointer { y in
                                        tutor_winograd_transform_output_images(m.baseAddress!, stride, planes, height, width,
                                                                               b.baseAddress! + (biasStride == 0 ? planes : 0), biasStride,
                                                                               y.baseAddress!, imageStride)
                                    }
                                }
                            }
                        }
                        XCTAssertEqual(together.map(\.bitPattern), alone.map(\.bitPattern),
                                       "\(height)×\(width), \(planes) planes, bias stride \(biasStride), \(vectorWidth)")
                    }
                }
            }
        }
    }

    /// One picture's 7 × 7 stage (16 2×2 tiles) takes F(2×2, 3×3) while
    /// `smallStagesTakeWinograd` is on, forward and backward, within the error model of im2col;
    /// turned off (as `tutor explain` and `tutor predict` turn it), it takes the row dot products,
    /// the same bits as with Winograd off altogether.
    func testSmallStagesTakeWinogradOnlyWhileTheSettingIsOn() {
        let (channels, side) = (300, 7)
        XCTAssertGreaterThanOrEqual(channels * channels * side * side, Conv2d.winogradThreshold)
        let reference = im2colConvolution(inputChannels: channels, outputChannels: channels, bias: true, seed: 21)
        let layer = Conv2d(inputChannels: channels, outputChannels: channels, kernelSize: 3, padding: 1,
                           weight: reference.weight.value, biasValue: reference.bias?.value)
        layer.setParameterGradients(false)
        let input = GradientCheck.uniform([1, channels, side, side], seed: 22)
        let outputGradient = GradientCheck.uniform([1, channels, side, side], seed: 23)
        func im2col<Result>(_ body: () -> Result) -> Result { ArithmeticVariant.with(.noWinograd, body) }
        let previous = Conv2d.smallStagesTakeWinograd
        defer { Conv2d.smallStagesTakeWinograd = previous }

        Conv2d.smallStagesTakeWinograd = true
        let forward = layer.forward(input)
        let inputGradient = layer.backward(outputGradient)
        assertWithin(forward, im2col { reference.forward(input) },
                     winogradTolerance(input, weight: reference.weight.value, bias: reference.bias?.value, transposed: false), "forward")
        assertWithin(inputGradient, im2col { reference.backward(outputGradient) },
                     winogradTolerance(outputGradient, weight: reference.weight.value, bias: nil, transposed: true), "input gradient")
        XCTAssertNotEqual(forward.data.map(\.bitPattern), im2col { layer.forward(input) }.data.map(\.bitPattern),
                          "with the setting on, the 7 × 7 stage is not computed by row dot products")

        Conv2d.smallStagesTakeWinograd = false
        XCTAssertEqual(layer.forward(input).data.map(\.bitPattern), im2col { layer.forward(input) }.data.map(\.bitPattern),
                       "with the setting off, the row dot products")
        XCTAssertEqual(layer.backward(outputGradient).data.map(\.bitPattern),
                       im2col { () -> Tensor in _ = layer.forward(input); return layer.backward(outputGradient) }.data.map(\.bitPattern),
                       "with the setting off, im2col's input gradient")
    }

    func testConcurrentProductsEqualSequentialOnes() {
        let (m, n, k, count) = (37, 29, 41, 16)
        let a = GradientCheck.uniform([count, m, k], seed: 1).data
        let b = GradientCheck.uniform([count, k, n], seed: 2).data
        var concurrent = [Float](repeating: 0, count: count * m * n)
        a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                concurrent.withUnsafeMutableBufferPointer { c in
                    let (a, b, c) = (SendablePointer(a.baseAddress!), SendablePointer(b.baseAddress!), SendableMutablePointer(c.baseAddress!))
                    Gemm.concurrently(count) { index in
                        Gemm.multiply(a.pointer + index * m * k, b.pointer + index * k * n, into: c.pointer + index * m * n, m: m, n: n, k: k)
                    }
                }
            }
        }
        for index in 0..<count {
            var expected = [Float](repeating: 0, count: m * n)
            Gemm.referenceMultiply(Array(a[(index * m * k)..<((index + 1) * m * k)]), Array(b[(index * k * n)..<((index + 1) * k * n)]),
                                   into: &expected, m: m, n: n, k: k)
            let got = Array(concurrent[(index * m * n)..<((index + 1) * m * n)])
            GemmTests.assertProductsAgree(self, actual: got, expected: expected,
                                          a: Array(a[(index * m * k)..<((index + 1) * m * k)]), b: Array(b[(index * k * n)..<((index + 1) * k * n)]),
                                          start: [Float](repeating: 0, count: m * n), m: m, n: n, k: k,
                                          transposeA: false, transposeB: false, alpha: 1, beta: 0, "product \(index)")
        }
    }
}

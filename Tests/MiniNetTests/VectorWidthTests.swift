import XCTest
@testable import MiniNet
import CKernels

/// MiniNet's C loops (Sources/CKernels) at every vector width this processor has: the narrowest
/// (SSE2) and the widest must give the same bits, since every loop is element-wise with the
/// same operations in the same order and no fused multiply-add (or, in the narrow products,
/// fused multiply-adds at every width). (OpenBLAS's products, which
/// choose their own kernels, are the same at every width here, since the width does not reach
/// them.) Also: choosing a width, and falling back when the processor lacks one.
final class VectorWidthTests: XCTestCase {
    /// SSE2 first, then every wider width this processor has.
    private let widths = VectorWidth.available

    /// The bits of every float, so that NaNs and the sign of zero count too.
    private func bits(_ tensors: [Tensor]) -> [[UInt32]] { tensors.map { $0.data.map(\.bitPattern) } }

    /// Runs body at every width and checks that each gives SSE2's bits.
    private func assertSameBitsAtEveryWidth(_ label: String, file: StaticString = #filePath, line: UInt = #line,
                                            _ body: () -> [Tensor]) {
        XCTAssertEqual(widths.first, .sse)
        let narrowest = VectorWidth.with(.sse) { bits(body()) }
        for width in widths.dropFirst() {
            let wide = VectorWidth.with(width) { bits(body()) }
            XCTAssertEqual(wide.count, narrowest.count, "\(label): \(width)", file: file, line: line)
            for (index, (expected, actual)) in zip(narrowest, wide).enumerated() {
                let differing = zip(expected, actual).filter { $0 != $1 }.count
                XCTAssertTrue(expected == actual, "\(label): result \(index) at \(width): \(differing) of \(expected.count) values differ from sse",
                              file: file, line: line)
            }
        }
    }

    /// Uniform values in [−1, 1) with the cases a select or a comparison can get wrong mixed in:
    /// ±0, ±∞, NaN, the smallest subnormal, and repeated values (ties for max pooling).
    private func awkwardValues(_ shape: [Int], seed: UInt64) -> Tensor {
        var tensor = GradientCheck.uniform(shape, seed: seed)
        let specials: [Float] = [0, -0.0, .infinity, -.infinity, .nan, .leastNonzeroMagnitude, -.leastNonzeroMagnitude, 0.5, 0.5]
        for index in stride(from: 0, to: tensor.count, by: 7) {
            tensor.data[index] = specials[(index / 7) % specials.count]
        }
        return tensor
    }

    func testReLUGivesTheSameBitsAtEveryWidth() {
        // 16·257 + 5 values: a remainder after the widest vectors, and after SSE2's.
        let input = awkwardValues([3, 7, 199], seed: 1)
        let outputGradient = awkwardValues([3, 7, 199], seed: 2)
        for rule in ReLUGradientRule.allCases {
            assertSameBitsAtEveryWidth("ReLU \(rule)") {
                let relu = ReLU()
                relu.gradientRule = rule
                let output = relu.forward(input)
                return [output, relu.backward(outputGradient)]
            }
        }
    }

    /// The dot products of rows (C = A·Bᵀ, Sources/CKernels/product_kernels.c): 16 partial sums
    /// per entry whatever the width, so the same bits, with a k that leaves a tail and partial
    /// 4 × 4 blocks. With the awkward values, NaN and ±∞ land in the same entries; which NaN a
    /// sum of two NaNs gives depends on the order of an addition's operands, which the compiler
    /// chooses, so there only the finite entries must have the same bits.
    func testRowsByRowsProductGivesTheSameBitsAtEveryWidth() {
        let (m, n, k) = (6, 11, 2063)
        let a = GradientCheck.uniform([m, k], seed: 5), start = GradientCheck.uniform([m, n], seed: 7)
        func product(_ b: Tensor) -> Tensor {
            var c = start
            a.data.withUnsafeBufferPointer { a in
                b.data.withUnsafeBufferPointer { b in
                    c.data.withUnsafeMutableBufferPointer { c in
                        Gemm.multiplyRowsByRows(a.baseAddress!, b.baseAddress!, into: c.baseAddress!, m: m, n: n, k: k, beta: 1)
                    }
                }
            }
            return c
        }
        let b = GradientCheck.uniform([n, k], seed: 6)
        assertSameBitsAtEveryWidth("A·Bᵀ by rows") { [product(b)] }
        let awkward = awkwardValues([n, k], seed: 6)
        let narrowest = VectorWidth.with(.sse) { product(awkward) }
        for width in widths.dropFirst() {
            let wide = VectorWidth.with(width) { product(awkward) }
            for (index, (expected, actual)) in zip(narrowest.data, wide.data).enumerated() {
                XCTAssertTrue(expected.isNaN ? actual.isNaN : expected.bitPattern == actual.bitPattern,
                              "A·Bᵀ by rows, awkward values, entry \(index) at \(width): \(actual) against sse's \(expected)")
            }
        }
    }

    /// ROAD's skyline Cholesky sums its dot products in C at the width in use: every width gives
    /// the bits of the order its documentation states, written out here in Swift, for every
    /// length around the 16-lane and 4-lane blocks.
    func testTheCholeskyDotProductHasItsStatedOrderAtEveryWidth() {
        let a: [Double] = GradientCheck.uniform([70], seed: 1).data.enumerated().map { index, value in
            let scaled: Double = Double(value) * 1e3
            return scaled + 1e-3 * Double(index)
        }
        let b: [Double] = GradientCheck.uniform([70], seed: 2).data.map { Double($0) / 7 }
        func stated(_ start: Double, _ count: Int) -> Double {
            var sums = [Double](repeating: 0, count: 16)
            var k = 0
            while k + 16 <= count { for lane in 0..<16 { sums[lane] += a[k + lane] * b[k + lane] }; k += 16 }
            while k + 4 <= count { for lane in 0..<4 { sums[lane] += a[k + lane] * b[k + lane] }; k += 4 }
            var lanes = [Double](repeating: 0, count: 4)
            for lane in 0..<4 {
                let low: Double = sums[lane] + sums[4 + lane]
                let high: Double = sums[8 + lane] + sums[12 + lane]
                lanes[lane] = low + high
            }
            var total = start - ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3]))
            while k < count { total -= a[k] * b[k]; k += 1 }
            return total
        }
        for width in widths {
            for count in 0...70 {
                let dot = VectorWidth.with(width) {
                    NoisyLinearImputation.SkylineCholesky.subtractingDot(from: 0.5, a, b, count: count)
                }
                XCTAssertEqual(dot.bitPattern, stated(0.5, count).bitPattern, "\(count) terms at \(width)")
            }
        }
    }

    /// One block of ROAD's blocked Cholesky (`tutor_skyline_cholesky_block`) at every width,
    /// against its documented order written out here: eight lanes of fused multiply-adds, four
    /// more terms in lanes 0–3, the lanes added as ((0 + 1) + (2 + 3)) + ((4 + 5) + (6 + 7)),
    /// the last terms one by one; then each entry (A_ij − common − Σ_t L_it L_jt) / L_jj, column
    /// by column, √ on the diagonal. Full, partial and diagonal blocks, counts 0 … 37.
    func testSkylineCholeskyBlockFollowsItsStatedOrderAtEveryWidth() {
        var generator = SeededGenerator(seed: 11)
        let length = 48
        let rowsI = (0..<4).map { _ in (0..<length).map { _ in Double(generator.uniform(-1, 1)) } }
        var rowsJ = (0..<4).map { _ in (0..<length).map { _ in Double(generator.uniform(-1, 1)) } }
        for c in 0..<4 { for t in 0..<length { rowsJ[c][t] += 3 } }     // diagonals well away from 0
        func stated(_ count: Int, rows: Int, columns: Int, diagonal: Bool) -> [[Double]] {
            var a = rowsI
            let b = diagonal ? rowsI : rowsJ
            var sums = [[Double]](repeating: [Double](repeating: 0, count: 4), count: 4)
            for r in 0..<4 {
                for c in 0..<4 {
                    let (x, y) = (a[Swift.min(r, rows - 1)], b[Swift.min(c, columns - 1)])
                    var lanes = [Double](repeating: 0, count: 8)
                    var k = 0
                    while k + 8 <= count { for lane in 0..<8 { lanes[lane].addProduct(x[k + lane], y[k + lane]) }; k += 8 }
                    if k + 4 <= count { for lane in 0..<4 { lanes[lane].addProduct(x[k + lane], y[k + lane]) }; k += 4 }
                    let low: Double = (lanes[0] + lanes[1]) + (lanes[2] + lanes[3])
                    let high: Double = (lanes[4] + lanes[5]) + (lanes[6] + lanes[7])
                    var sum = low + high
                    while k < count { sum.addProduct(x[k], y[k]); k += 1 }
                    sums[r][c] = sum
                }
            }
            for c in 0..<columns {
                for r in (diagonal ? c : 0)..<rows {
                    var total = a[r][count + c] - sums[r][c]
                    for t in 0..<c {
                        let product = a[r][count + t] * (diagonal ? a[c][count + t] : b[c][count + t])
                        total -= product
                    }
                    a[r][count + c] = diagonal && r == c ? total.squareRoot() : total / (diagonal ? a[c][count + c] : b[c][count + c])
                }
            }
            return a
        }
        for width in widths {
            for count in 0...37 {
                for (rows, columns, diagonal) in [(4, 4, false), (4, 4, true), (3, 4, false), (2, 2, true), (1, 1, true)] {
                    let a = UnsafeMutablePointer<Double>.allocate(capacity: 4 * length)
                    let b = UnsafeMutablePointer<Double>.allocate(capacity: 4 * length)
                    defer { a.deallocate(); b.deallocate() }
                    for r in 0..<4 { for t in 0..<length { a[r * length + t] = rowsI[r][t]; b[r * length + t] = rowsJ[r][t] } }
                    let i: [UnsafeMutablePointer<Double>?] = (0..<4).map { a + $0 * length }
                    let j: [UnsafePointer<Double>?] = (0..<4).map { UnsafePointer(diagonal ? a + $0 * length : b + $0 * length) }
                    VectorWidth.with(width) { tutor_skyline_cholesky_block(i, j, count, rows, columns, diagonal ? 1 : 0) }
                    let result = (0..<4).map { r in (0..<length).map { a[r * length + $0] } }
                    let expected = stated(count, rows: rows, columns: columns, diagonal: diagonal)
                    XCTAssertEqual(result.map { $0.map(\.bitPattern) }, expected.map { $0.map(\.bitPattern) },
                                   "\(count) terms, \(rows) × \(columns)\(diagonal ? ", diagonal" : "") at \(width)")
                }
            }
        }
    }

    /// The re-initialisation's normal samples, many at a time in C: at every width the bits of
    /// `normal() * scale` one call after another, and the generator ends where those calls leave it.
    func testManyNormalsAreOneAfterAnotherAtEveryWidth() {
        for (seed, count) in [(UInt64(1), 0), (2, 1), (3, 17), (4, 1000)] {
            var oneByOne = SeededGenerator(seed: seed, stream: 5)
            let expected = (0..<count).map { _ in oneByOne.normal() * 0.37 }
            let expectedNext = oneByOne.next()
            for width in widths {
                var together = SeededGenerator(seed: seed, stream: 5)
                let values = VectorWidth.with(width) { together.normals(count: count, scale: 0.37) }
                XCTAssertEqual(values.map(\.bitPattern), expected.map(\.bitPattern), "\(count) samples at \(width)")
                XCTAssertEqual(together.next(), expectedNext, "the state after \(count) samples at \(width)")
            }
        }
    }

    func testBatchNormGivesTheSameBitsAtEveryWidth() {
        let input = GradientCheck.uniform([3, 5, 7, 9], seed: 3, -2, 3)
        let outputGradient = GradientCheck.uniform([3, 5, 7, 9], seed: 4)
        for training in [true, false] {
            assertSameBitsAtEveryWidth("BatchNorm2d, training \(training)") {
                let norm = BatchNorm2d(channels: 5)
                norm.weight.value = GradientCheck.uniform([5], seed: 5, 0.5, 2)
                norm.bias.value = GradientCheck.uniform([5], seed: 6)
                norm.runningMean = GradientCheck.uniform([5], seed: 7)
                norm.runningVariance = GradientCheck.uniform([5], seed: 8, 0.5, 2)
                norm.setTraining(training)
                let output = norm.forward(input)
                let inputGradient = norm.backward(outputGradient)
                return [output, inputGradient, norm.weight.gradient, norm.bias.gradient, norm.runningMean, norm.runningVariance]
            }
        }
    }

    /// Convolutions through im2col and col2im (the parameter gradients' products are OpenBLAS's).
    func testIm2colConvolutionGivesTheSameBitsAtEveryWidth() {
        // (kernel, stride, padding, height, width): ResNet's stem, its 3×3 and 1×1 downsampling,
        // odd sizes, and a kernel wider than the padded plane's interior.
        let shapes = [(7, 2, 3, 23, 19), (3, 1, 1, 13, 17), (3, 2, 1, 15, 14), (1, 2, 0, 9, 11), (5, 1, 2, 6, 21), (3, 1, 0, 4, 3), (5, 3, 1, 5, 5)]
        for (offset, (kernelSize, stride, padding, height, width)) in shapes.enumerated() {
            let seed = UInt64(10 * offset)
            let conv = Conv2d(inputChannels: 3, outputChannels: 4, kernelSize: kernelSize, stride: stride, padding: padding, bias: true,
                              weight: GradientCheck.uniform([4, 3, kernelSize, kernelSize], seed: seed),
                              biasValue: GradientCheck.uniform([4], seed: seed + 1))
            conv.setParameterGradients(true)
            let input = GradientCheck.uniform([2, 3, height, width], seed: seed + 2)
            let outputHeight = (height + 2 * padding - kernelSize) / stride + 1
            let outputWidth = (width + 2 * padding - kernelSize) / stride + 1
            let outputGradient = GradientCheck.uniform([2, 4, outputHeight, outputWidth], seed: seed + 3)
            assertSameBitsAtEveryWidth("Conv2d k\(kernelSize) s\(stride) p\(padding) \(height)×\(width)") {
                ArithmeticVariant.with(.noWinograd) {
                    conv.zeroGradients()
                    let output = conv.forward(input)
                    return [output, conv.backward(outputGradient), conv.weight.gradient]
                }
            }
        }
    }

    /// Max pooling, and which input wins each window, against a window-at-a-time reference:
    /// the first maximum in row-major order, a NaN only as a window's first real entry.
    func testMaxPoolGivesTheSameBitsAtEveryWidthAndTheReferenceWinners() {
        let shapes = [(3, 2, 1, 17, 23), (2, 2, 0, 8, 9), (3, 1, 1, 6, 7), (3, 3, 0, 10, 11), (4, 2, 2, 9, 9), (3, 2, 1, 2, 3)]
        for (offset, (kernelSize, stride, padding, height, width)) in shapes.enumerated() {
            var input = awkwardValues([2, 3, height, width], seed: UInt64(30 + offset))
            // Coarse values, so that windows hold ties.
            for index in input.data.indices where input.data[index].isFinite { input.data[index] = (input.data[index] * 3).rounded() }
            let pool = MaxPool2d(kernelSize: kernelSize, stride: stride, padding: padding)
            let (outputHeight, outputWidth) = pool.outputSize(height: height, width: width)
            let outputGradient = GradientCheck.uniform([2, 3, outputHeight, outputWidth], seed: UInt64(40 + offset))
            let label = "MaxPool2d k\(kernelSize) s\(stride) p\(padding) \(height)×\(width)"
            assertSameBitsAtEveryWidth(label) {
                let output = pool.forward(input)
                return [output, pool.backward(outputGradient), Tensor(shape: [output.count], data: pool.cache!.winners.map { Float($0) })]
            }
            // Without recording no winners are kept, and the outputs are the same.
            let recorded = pool.forward(input)
            let (referenceOutput, referenceWinners) = referenceMaxPool(input, kernelSize: kernelSize, stride: stride, padding: padding)
            XCTAssertEqual(bits([recorded]), bits([referenceOutput]), label)
            XCTAssertEqual(pool.cache!.winners, referenceWinners, label)
            for width in widths {
                let unrecorded = VectorWidth.with(width) { GradientRecording.disabled { pool.forward(input) } }
                XCTAssertEqual(bits([unrecorded]), bits([referenceOutput]), "\(label) without recording at \(width)")
            }
        }
    }

    private func referenceMaxPool(_ input: Tensor, kernelSize: Int, stride: Int, padding: Int) -> (Tensor, [Int]) {
        let (planes, height, width) = (input.shape[0] * input.shape[1], input.shape[2], input.shape[3])
        let outputHeight = (height + 2 * padding - kernelSize) / stride + 1
        let outputWidth = (width + 2 * padding - kernelSize) / stride + 1
        var output: [Float] = [], winners: [Int] = []
        for plane in 0..<planes {
            for i in 0..<outputHeight {
                for j in 0..<outputWidth {
                    var best: Int?
                    for u in 0..<kernelSize {
                        for v in 0..<kernelSize {
                            let (row, column) = (i * stride + u - padding, j * stride + v - padding)
                            guard (0..<height).contains(row), (0..<width).contains(column) else { continue }
                            let index = (plane * height + row) * width + column
                            if best == nil || input.data[index] > input.data[best!] { best = index }
                        }
                    }
                    output.append(input.data[best!])
                    winners.append(best!)
                }
            }
        }
        return (Tensor(shape: [input.shape[0], input.shape[1], outputHeight, outputWidth], data: output), winners)
    }

    /// The four transforms of F(2×2, 3×3) (forward and input gradient) and the two of F(4×4, 3×3).
    func testWinogradTransformsGiveTheSameBitsAtEveryWidth() {
        for (height, width) in [(1, 1), (5, 7), (8, 8), (13, 30), (34, 33)] {
            let input = GradientCheck.uniform([2, 3, height, width], seed: UInt64(height * 100 + width))
            let outputGradient = GradientCheck.uniform([2, 5, height, width], seed: UInt64(height * 100 + width + 1))
            let weight = GradientCheck.uniform([5, 3, 3, 3], seed: 50).data
            let bias = GradientCheck.uniform([5], seed: 51).data
            assertSameBitsAtEveryWidth("Winograd \(height)×\(width)") {
                let two = Winograd.transformKernel(weight, outputChannels: 5, inputChannels: 3, tile: .two)
                let four = Winograd.transformKernel(weight, outputChannels: 5, inputChannels: 3, tile: .four)
                return [Winograd.forward(input, transformedKernel: two, bias: bias, outputChannels: 5, tile: .two),
                        Winograd.forward(input, transformedKernel: four, bias: bias, outputChannels: 5, tile: .four),
                        Winograd.inputGradient(outputGradient, transformedKernel: two, inputChannels: 3)]
            }
        }
    }

    /// A deep layer's F(4×4) goes through `tutor_multiply_narrow` (fused multiply-adds at every
    /// width, fmaf's under SSE2): forward and input gradient, 16 and 20 tiles.
    func testNarrowWinogradProductsGiveTheSameBitsAtEveryWidth() {
        let weight = GradientCheck.uniform([260, 256, 3, 3], seed: 60).data
        let kernel = Winograd.transformKernel(weight, outputChannels: 260, inputChannels: 256, tile: .four)
        for batch in [4, 5] {
            XCTAssertTrue(Winograd.takesNarrowProducts(positions: 36, rows: 260, inner: 256, columns: 4 * batch, transposingFirst: false,
                                                       ownLoopsWider: false))
            let input = GradientCheck.uniform([batch, 256, 7, 7], seed: 61)
            let outputGradient = GradientCheck.uniform([batch, 260, 7, 7], seed: 62)
            assertSameBitsAtEveryWidth("narrow Winograd products, N \(batch)") {
                [Winograd.forward(input, transformedKernel: kernel, bias: nil, outputChannels: 260, tile: .four),
                 Winograd.inputGradientFourByFour(outputGradient, transformedKernel: kernel, inputChannels: 256)]
            }
        }
    }

    /// Where MiniNet's loops are wider than OpenBLAS's kernels, every Winograd product of 16
    /// columns or more goes through `tutor_multiply_narrow`: F(2×2) and F(4×4), forward and input
    /// gradient, the same bits at every width (the choice does not follow `VectorWidth.current`).
    func testWinogradProductsOfWiderLoopsGiveTheSameBitsAtEveryWidth() {
        defer { Gemm.ownLoopsWiderForTesting = nil }
        Gemm.ownLoopsWiderForTesting = true
        let weight = GradientCheck.uniform([24, 32, 3, 3], seed: 66).data
        let bias = GradientCheck.uniform([24], seed: 67).data
        let input = GradientCheck.uniform([2, 32, 10, 11], seed: 68)
        let outputGradient = GradientCheck.uniform([2, 24, 10, 11], seed: 69)
        let two = Winograd.transformKernel(weight, outputChannels: 24, inputChannels: 32, tile: .two)
        let four = Winograd.transformKernel(weight, outputChannels: 24, inputChannels: 32, tile: .four)
        XCTAssertTrue(Winograd.takesNarrowProducts(positions: 16, rows: 32, inner: 24, columns: 2 * 30, transposingFirst: true,
                                                   ownLoopsWider: Gemm.ownLoopsWiderThanOpenBLAS))
        assertSameBitsAtEveryWidth("Winograd products of wider loops") {
            [Winograd.forward(input, transformedKernel: two, bias: bias, outputChannels: 24, tile: .two),
             Winograd.forward(input, transformedKernel: four, bias: bias, outputChannels: 24, tile: .four),
             Winograd.inputGradient(outputGradient, transformedKernel: two, inputChannels: 32),
             Winograd.inputGradientFourByFour(outputGradient, transformedKernel: four, inputChannels: 32)]
        }
    }

    func testOnePictureConvolutionByDotProductsGivesTheSameBitsAtEveryWidth() {
        let conv = Conv2d(inputChannels: 130, outputChannels: 70, kernelSize: 3, padding: 1, bias: true,
                          weight: GradientCheck.uniform([70, 130, 3, 3], seed: 63), biasValue: GradientCheck.uniform([70], seed: 64))
        let input = GradientCheck.uniform([1, 130, 6, 6], seed: 65)
        XCTAssertTrue(Conv2d.takesRowDotProducts(outputChannels: 70, positions: 36, patchSize: 130 * 9))
        assertSameBitsAtEveryWidth("one picture by dot products of rows") { [conv.forward(input)] }
    }

    func testDirectConvolutionGivesTheSameBitsAtEveryWidth() {
        // 5 → 11 channels (a group of 8 and one of 3), rows of 19 positions (a partial vector).
        let conv = Conv2d(inputChannels: 5, outputChannels: 11, kernelSize: 3, padding: 1, bias: true,
                          weight: GradientCheck.uniform([11, 5, 3, 3], seed: 66), biasValue: GradientCheck.uniform([11], seed: 67))
        let input = GradientCheck.uniform([2, 5, 7, 19], seed: 68)
        let outputGradient = GradientCheck.uniform([2, 11, 7, 19], seed: 69)
        XCTAssertTrue(Conv2d.takesDirectConvolution(inputChannels: 5, kernelSize: 3, stride: 1, padding: 1, outputWidth: 19))
        assertSameBitsAtEveryWidth("direct convolution") {
            conv.zeroGradients()
            let output = conv.forward(input)
            let inputGradient = conv.backward(outputGradient)
            return [output, inputGradient, conv.weight.gradient, conv.bias!.gradient]
        }
    }

    func testWithChoosesAWidthAndRestoresThePreviousOne() {
        let before = VectorWidth.current
        XCTAssertEqual(before, VectorWidth.widest, "without a choice the widest width runs")
        for width in widths {
            VectorWidth.with(width) {
                XCTAssertEqual(VectorWidth.current, width)
                XCTAssertEqual(MiniNet.kernels.loops, width.rawValue)
            }
            XCTAssertEqual(VectorWidth.current, before)
        }
        XCTAssertEqual(VectorWidth.available.first, .sse)
        XCTAssertEqual(VectorWidth.available, VectorWidth.allCases.filter { $0 <= VectorWidth.widest })
    }

    /// TUTOR_SIMD: a width the processor has is used; one it lacks, or a name that is no width,
    /// leaves the widest it has, with the reason.
    func testTheEnvironmentChoosesAWidthAndFallsBackWithTheReason() {
        let before = VectorWidth.current
        defer {
            VectorWidth.processorLimitForTesting = nil
            VectorWidth.choose(before.rawValue)
        }
        XCTAssertNil(VectorWidth.apply(environment: [:]))
        XCTAssertEqual(VectorWidth.current, before)
        XCTAssertNil(VectorWidth.apply(environment: ["TUTOR_SIMD": "sse"]))
        XCTAssertEqual(VectorWidth.current, .sse)
        XCTAssertEqual(MiniNet.kernels.loops, "sse")

        XCTAssertEqual(VectorWidth.apply(environment: ["TUTOR_SIMD": "avx3"]),
                       "TUTOR_SIMD=avx3 → \(VectorWidth.widest.rawValue) (sse | avx2 | avx512)")
        XCTAssertEqual(VectorWidth.current, VectorWidth.widest)
        XCTAssertEqual(VectorWidth.choose("avx3"), .unknownName("avx3"))

        // A processor with AVX2 and no AVX-512 (this one, or one simulated).
        VectorWidth.processorLimitForTesting = .avx2
        if VectorWidth.widest == .avx2 {
            XCTAssertEqual(VectorWidth.available, [.sse, .avx2])
            XCTAssertEqual(VectorWidth.apply(environment: ["TUTOR_SIMD": "AVX512"]), "TUTOR_SIMD=AVX512 → avx2 (avx512f ∉ CPUID)")
            XCTAssertEqual(VectorWidth.current, .avx2)
            XCTAssertEqual(MiniNet.kernels.loops, "avx2 (TUTOR_SIMD=AVX512 → avx2)")
            XCTAssertEqual(VectorWidth.choose("avx512"), .unsupported(.avx512))
            XCTAssertEqual(VectorWidth.choose("avx512")?.description, "this processor has no avx512f, which avx512 needs")
            XCTAssertNil(VectorWidth.choose("avx2"))
            XCTAssertEqual(MiniNet.kernels.loops, "avx2")
        }
        // A processor with SSE2 only.
        VectorWidth.processorLimitForTesting = .sse
        XCTAssertEqual(VectorWidth.available, [.sse])
        XCTAssertEqual(VectorWidth.choose("avx2"), .unsupported(.avx2))
        XCTAssertEqual(VectorWidth.current, .sse)
    }
}

import Dispatch

/// Winograd's minimal filtering F(2×2, 3×3): the 3×3, stride-1, padding-1 convolution of Conv2d
/// with 16 multiplications for every 2×2 block of outputs instead of 36 (Lavin and Gray, "Fast
/// Algorithms for Convolutional Neural Networks", 2016).
///
/// The output is cut into 2×2 tiles. Tile t of channel o needs the 4×4 input patch d_c that
/// starts one row and one column before it (the padding). In one dimension, two outputs of a
/// 3-tap filter g over four inputs d are
///
///     y = Aᵀ [ (G g) ⊙ (Bᵀ d) ]        Bᵀ = [ 1  0 −1  0 ]   G = [ 1    0    0  ]   Aᵀ = [ 1  1  1  0 ]
///                                           [ 0  1  1  0 ]       [ ½    ½    ½  ]        [ 0  1 −1 −1 ]
///                                           [ 0 −1  1  0 ]       [ ½   −½    ½  ]
///                                           [ 0  1  0 −1 ]       [ 0    0    1  ]
///
/// and nesting it in both dimensions gives, for each tile,
///
///     Y_o = Aᵀ [ Σ_c U_oc ⊙ V_c ] A,    U_oc = G g_oc Gᵀ (4×4),   V_c = Bᵀ d_c B (4×4).
///
/// For each of the 16 positions ξ of a 4×4 block, the sum over c is a matrix product:
///
///     M[ξ] [Cout, T] = U[ξ] [Cout, Cin] × V[ξ] [Cin, T]      (T = N·tilesHigh·tilesWide)
///
/// so the work is 16 products of Cin·Cout·T multiply-adds against im2col's one product of
/// 9·Cin·Cout·4T: 2.25 times fewer. The transforms only add and subtract.
///
/// The input gradient is the adjoint of the same three linear steps, taken in reverse order:
///
///     ∂L/∂M[ξ] = (A ∂L/∂Y Aᵀ)[ξ]        (the adjoint of y = Aᵀ m A)
///     ∂L/∂V[ξ] = U[ξ]ᵀ × ∂L/∂M[ξ]        (the adjoint of the product)
///     ∂L/∂d    = B ∂L/∂V Bᵀ              (the adjoint of V = Bᵀ d B), added into the input, since
///                                         neighbouring patches overlap by two rows and columns.
///
/// U does not depend on the input, so it is computed once per weight tensor and kept.
enum Winograd {
    /// Whether a convolution has the one shape this algorithm handles.
    static func applies(kernelSize: Int, stride: Int, padding: Int) -> Bool {
        kernelSize == 3 && stride == 1 && padding == 1
    }

    /// G ⊗ G [16, 9]: U = G g Gᵀ read as one linear map of the nine kernel weights,
    /// U[4·i + j] = Σ_a Σ_b G[i][a] · G[j][b] · g[3·a + b].
    static let kernelTransformMatrix: [Float] = {
        let g: [[Float]] = [[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]]
        var matrix = [Float](repeating: 0, count: 16 * 9)
        for i in 0..<4 { for j in 0..<4 { for a in 0..<3 { for b in 0..<3 {
            matrix[(4 * i + j) * 9 + 3 * a + b] = g[i][a] * g[j][b]
        } } } }
        return matrix
    }()

    /// weight [Cout, Cin, 3, 3] → U [16, Cout, Cin], U[ξ][o][c] = (G g_oc Gᵀ)[ξ]: for every kernel
    /// at once, one product U [16, Cout·Cin] = (G ⊗ G) [16, 9] × weightᵀ [9, Cout·Cin].
    static func transformKernel(_ weight: [Float], outputChannels: Int, inputChannels: Int) -> [Float] {
        let pairs = outputChannels * inputChannels
        return [Float](unsafeUninitializedCapacity: 16 * pairs) { u, count in
            weight.withUnsafeBufferPointer { w in
                kernelTransformMatrix.withUnsafeBufferPointer { matrix in
                    Gemm.multiply(matrix.baseAddress!, w.baseAddress!, transposeB: true, into: u.baseAddress!,
                                  m: 16, n: pairs, k: 9)
                }
            }
            count = 16 * pairs
        }
    }

    /// input [N, Cin, H, W], U [16, Cout, Cin], bias [Cout] → output [N, Cout, H, W]
    static func forward(_ input: Tensor, transformedKernel u: [Float], bias: [Float]?, outputChannels: Int) -> Tensor {
        let (batch, inputChannels, height, width) = (input.shape[0], input.shape[1], input.shape[2], input.shape[3])
        let geometry = TileGeometry(batch: batch, height: height, width: width)
        let tileCount = geometry.tileCount

        // V [16, Cin, T]
        var v = [Float](unsafeUninitializedCapacity: 16 * inputChannels * tileCount) { _, count in count = 16 * inputChannels * tileCount }
        input.data.withUnsafeBufferPointer { x in
            v.withUnsafeMutableBufferPointer { v in
                let (x, v) = (SendablePointer(x.baseAddress!), SendableMutablePointer(v.baseAddress!))
                inParallel(over: batch * inputChannels) { plane in
                    let (n, c) = plane.quotientAndRemainder(dividingBy: inputChannels)
                    transformInput(x.pointer + plane * height * width, geometry: geometry,
                                   into: v.pointer + c * tileCount + n * geometry.tilesPerImage, stride: inputChannels * tileCount)
                }
            }
        }
        // M[ξ] [Cout, T] = U[ξ] [Cout, Cin] × V[ξ] [Cin, T]
        let m = productsAtEveryPosition(u, rows: outputChannels, inner: inputChannels, v, columns: tileCount)
        // Y = Aᵀ M A, plus the bias.
        var output = [Float](unsafeUninitializedCapacity: batch * outputChannels * height * width) { _, count in count = batch * outputChannels * height * width }
        m.withUnsafeBufferPointer { m in
            output.withUnsafeMutableBufferPointer { y in
                let (m, y) = (SendablePointer(m.baseAddress!), SendableMutablePointer(y.baseAddress!))
                inParallel(over: batch * outputChannels) { plane in
                    let (n, o) = plane.quotientAndRemainder(dividingBy: outputChannels)
                    transformOutput(m.pointer + o * tileCount + n * geometry.tilesPerImage, stride: outputChannels * tileCount,
                                    geometry: geometry, bias: bias?[o] ?? 0, into: y.pointer + plane * height * width)
                }
            }
        }
        return Tensor(shape: [batch, outputChannels, height, width], data: output)
    }

    /// outputGradient [N, Cout, H, W], U [16, Cout, Cin] → inputGradient [N, Cin, H, W]
    static func inputGradient(_ outputGradient: Tensor, transformedKernel u: [Float], inputChannels: Int) -> Tensor {
        let (batch, outputChannels, height, width) = (outputGradient.shape[0], outputGradient.shape[1], outputGradient.shape[2], outputGradient.shape[3])
        let geometry = TileGeometry(batch: batch, height: height, width: width)
        let tileCount = geometry.tileCount

        // ∂L/∂M [16, Cout, T] = A ∂L/∂Y Aᵀ, tile by tile.
        var mGradient = [Float](unsafeUninitializedCapacity: 16 * outputChannels * tileCount) { _, count in count = 16 * outputChannels * tileCount }
        outputGradient.data.withUnsafeBufferPointer { dy in
            mGradient.withUnsafeMutableBufferPointer { dm in
                let (dy, dm) = (SendablePointer(dy.baseAddress!), SendableMutablePointer(dm.baseAddress!))
                inParallel(over: batch * outputChannels) { plane in
                    let (n, o) = plane.quotientAndRemainder(dividingBy: outputChannels)
                    transformOutputAdjoint(dy.pointer + plane * height * width, geometry: geometry,
                                           into: dm.pointer + o * tileCount + n * geometry.tilesPerImage, stride: outputChannels * tileCount)
                }
            }
        }
        // ∂L/∂V[ξ] [Cin, T] = U[ξ]ᵀ [Cin, Cout] × ∂L/∂M[ξ] [Cout, T]
        let vGradient = productsAtEveryPosition(u, rows: inputChannels, inner: outputChannels, transposingFirst: true,
                                                mGradient, columns: tileCount)
        // ∂L/∂x: B ∂L/∂V Bᵀ, patches added where they overlap.
        var inputGradient = [Float](unsafeUninitializedCapacity: batch * inputChannels * height * width) { _, count in count = batch * inputChannels * height * width }
        vGradient.withUnsafeBufferPointer { dv in
            inputGradient.withUnsafeMutableBufferPointer { dx in
                let (dv, dx) = (SendablePointer(dv.baseAddress!), SendableMutablePointer(dx.baseAddress!))
                inParallel(over: batch * inputChannels) { plane in
                    let (n, c) = plane.quotientAndRemainder(dividingBy: inputChannels)
                    transformInputAdjoint(dv.pointer + c * tileCount + n * geometry.tilesPerImage, stride: inputChannels * tileCount,
                                          geometry: geometry, into: dx.pointer + plane * height * width)
                }
            }
        }
        return Tensor(shape: [batch, inputChannels, height, width], data: inputGradient)
    }

    /// How an H×W plane is cut into 2×2 output tiles, and where tile t of image n sits in T.
    struct TileGeometry {
        let height: Int, width: Int
        let tilesHigh: Int, tilesWide: Int
        let tilesPerImage: Int, tileCount: Int

        init(batch: Int, height: Int, width: Int) {
            self.height = height
            self.width = width
            tilesHigh = (height + 1) / 2
            tilesWide = (width + 1) / 2
            tilesPerImage = tilesHigh * tilesWide
            tileCount = batch * tilesPerImage
        }
        /// The input plane with a border of zeros, 2·tilesHigh + 2 rows of 2·tilesWide + 2: the
        /// padding row and column before, the padding (and, for odd sizes, one more) after.
        var paddedWidth: Int { 2 * tilesWide + 2 }
        var paddedHeight: Int { 2 * tilesHigh + 2 }
    }

    // The four transforms below work one plane at a time, and apply each 4×4 (or 2×4, 4×2)
    // matrix in two passes, one along the rows and one along the columns, so that the inner loops
    // run along a row of tiles over contiguous memory, which the compiler turns into vector code.
    // In V, M and their gradients, ξ = 4·i + j: i counts down the 4×4 block, j across it.

    /// One input plane x [H, W] → v[ξ·stride + t] = (Bᵀ d_t B)[ξ] for each of its tiles t.
    private static func transformInput(_ x: UnsafePointer<Float>, geometry: TileGeometry,
                                       into v: UnsafeMutablePointer<Float>, stride: Int) {
        let (tilesWide, paddedWidth, paddedHeight) = (geometry.tilesWide, geometry.paddedWidth, geometry.paddedHeight)
        withScratch(paddedHeight * paddedWidth + 4 * paddedHeight * tilesWide) { scratch in
            let padded = scratch
            for row in 0..<geometry.height {
                (padded + (row + 1) * paddedWidth + 1).update(from: x + row * geometry.width, count: geometry.width)
            }
            // d B, along each padded row: h_j[r][tc] for the tile columns, with d_k = row[2·tc + k]:
            // h0 = d0 − d2, h1 = d1 + d2, h2 = d2 − d1, h3 = d1 − d3.
            let h = scratch + paddedHeight * paddedWidth
            for r in 0..<paddedHeight {
                let row = padded + r * paddedWidth
                let (h0, h1, h2, h3) = (h + r * tilesWide, h + (paddedHeight + r) * tilesWide,
                                        h + (2 * paddedHeight + r) * tilesWide, h + (3 * paddedHeight + r) * tilesWide)
                for tc in 0..<tilesWide {
                    let (d0, d1, d2, d3) = (row[2 * tc], row[2 * tc + 1], row[2 * tc + 2], row[2 * tc + 3])
                    h0[tc] = d0 - d2; h1[tc] = d1 + d2; h2[tc] = d2 - d1; h3[tc] = d1 - d3
                }
            }
            // Bᵀ (d B), down each column j, for the tile row tr: rows 2·tr … 2·tr + 3 of h_j.
            for tr in 0..<geometry.tilesHigh {
                for j in 0..<4 {
                    let r0 = h + (j * paddedHeight + 2 * tr) * tilesWide
                    let (r1, r2, r3) = (r0 + tilesWide, r0 + 2 * tilesWide, r0 + 3 * tilesWide)
                    let out = v + tr * tilesWide
                    let (v0, v1, v2, v3) = (out + j * stride, out + (4 + j) * stride, out + (8 + j) * stride, out + (12 + j) * stride)
                    for tc in 0..<tilesWide {
                        v0[tc] = r0[tc] - r2[tc]; v1[tc] = r1[tc] + r2[tc]; v2[tc] = r2[tc] - r1[tc]; v3[tc] = r1[tc] - r3[tc]
                    }
                }
            }
        }
    }

    /// The adjoint of `transformInput`: ∂L/∂d_t = B ∂L/∂V_t Bᵀ, added into the plane dx [H, W]
    /// (the padding's share is dropped: it is not an input).
    private static func transformInputAdjoint(_ dv: UnsafePointer<Float>, stride: Int, geometry: TileGeometry,
                                              into dx: UnsafeMutablePointer<Float>) {
        let (tilesWide, paddedWidth, paddedHeight) = (geometry.tilesWide, geometry.paddedWidth, geometry.paddedHeight)
        withScratch(paddedHeight * paddedWidth + 16 * tilesWide) { scratch in
            let padded = scratch
            let p = scratch + paddedHeight * paddedWidth       // p[(4·i + j)·tilesWide + tc]
            for tr in 0..<geometry.tilesHigh {
                // B g, down each column j, with g_i = ∂L/∂V[4·i + j]:
                // p0 = g0, p1 = g1 − g2 + g3, p2 = −g0 + g1 + g2, p3 = −g3.
                for j in 0..<4 {
                    let g = dv + tr * tilesWide
                    let (g0, g1, g2, g3) = (g + j * stride, g + (4 + j) * stride, g + (8 + j) * stride, g + (12 + j) * stride)
                    let (p0, p1, p2, p3) = (p + j * tilesWide, p + (4 + j) * tilesWide, p + (8 + j) * tilesWide, p + (12 + j) * tilesWide)
                    for tc in 0..<tilesWide {
                        p0[tc] = g0[tc]; p1[tc] = g1[tc] - g2[tc] + g3[tc]; p2[tc] = -g0[tc] + g1[tc] + g2[tc]; p3[tc] = -g3[tc]
                    }
                }
                // (B g) Bᵀ, along each row i, added at columns 2·tc … 2·tc + 3 of padded row 2·tr + i:
                // q0, q1 − q2 + q3, −q0 + q1 + q2, −q3. Neighbouring tiles overlap by two columns,
                // so the first two columns and the last two are added in separate passes.
                for i in 0..<4 {
                    let row = padded + (2 * tr + i) * paddedWidth
                    let (q0, q1, q2, q3) = (p + 4 * i * tilesWide, p + (4 * i + 1) * tilesWide, p + (4 * i + 2) * tilesWide, p + (4 * i + 3) * tilesWide)
                    for tc in 0..<tilesWide {
                        row[2 * tc] += q0[tc]
                        row[2 * tc + 1] += q1[tc] - q2[tc] + q3[tc]
                    }
                    for tc in 0..<tilesWide {
                        row[2 * tc + 2] += -q0[tc] + q1[tc] + q2[tc]
                        row[2 * tc + 3] += -q3[tc]
                    }
                }
            }
            for row in 0..<geometry.height {
                (dx + row * geometry.width).update(from: padded + (row + 1) * paddedWidth + 1, count: geometry.width)
            }
        }
    }

    /// M for one output plane → y [H, W]: each tile's Aᵀ m A + bias (the parts of the last tile
    /// row or column that fall outside an odd-sized plane are dropped).
    private static func transformOutput(_ m: UnsafePointer<Float>, stride: Int, geometry: TileGeometry,
                                        bias: Float, into y: UnsafeMutablePointer<Float>) {
        let (height, width, tilesWide) = (geometry.height, geometry.width, geometry.tilesWide)
        withScratch(12 * tilesWide) { scratch in
            let (top, bottom) = (scratch, scratch + 4 * tilesWide)     // top[j·tilesWide + tc]
            let (upperRow, lowerRow) = (scratch + 8 * tilesWide, scratch + 10 * tilesWide)
            for tr in 0..<geometry.tilesHigh {
                // Aᵀ m, down each column j, with m_i = M[4·i + j]: top = m0 + m1 + m2, bottom = m1 − m2 − m3.
                for j in 0..<4 {
                    let base = m + tr * tilesWide
                    let (m0, m1, m2, m3) = (base + j * stride, base + (4 + j) * stride, base + (8 + j) * stride, base + (12 + j) * stride)
                    let (topJ, bottomJ) = (top + j * tilesWide, bottom + j * tilesWide)
                    for tc in 0..<tilesWide {
                        topJ[tc] = m0[tc] + m1[tc] + m2[tc]
                        bottomJ[tc] = m1[tc] - m2[tc] - m3[tc]
                    }
                }
                // (Aᵀ m) A, along each of the two rows: c0 + c1 + c2 and c1 − c2 − c3, plus the bias.
                for (rows, out) in [(top, upperRow), (bottom, lowerRow)] {
                    let (c0, c1, c2, c3) = (rows, rows + tilesWide, rows + 2 * tilesWide, rows + 3 * tilesWide)
                    for tc in 0..<tilesWide {
                        out[2 * tc] = c0[tc] + c1[tc] + c2[tc] + bias
                        out[2 * tc + 1] = c1[tc] - c2[tc] - c3[tc] + bias
                    }
                }
                (y + 2 * tr * width).update(from: upperRow, count: width)
                if 2 * tr + 1 < height { (y + (2 * tr + 1) * width).update(from: lowerRow, count: width) }
            }
        }
    }

    /// The adjoint of `transformOutput`: one plane dy [H, W] → ∂L/∂m_t = A ∂L/∂Y_t Aᵀ for each tile.
    private static func transformOutputAdjoint(_ dy: UnsafePointer<Float>, geometry: TileGeometry,
                                               into dm: UnsafeMutablePointer<Float>, stride: Int) {
        let (height, width, tilesWide) = (geometry.height, geometry.width, geometry.tilesWide)
        withScratch(12 * tilesWide) { scratch in
            // The tile row's two rows of ∂L/∂Y, zero where they fall outside the plane.
            let (upper, lower) = (scratch, scratch + 2 * tilesWide)
            let (upperRows, lowerRows) = (scratch + 4 * tilesWide, scratch + 8 * tilesWide)   // [j·tilesWide + tc]
            for tr in 0..<geometry.tilesHigh {
                upper.update(from: dy + 2 * tr * width, count: width)
                if 2 * tr + 1 < height {
                    lower.update(from: dy + (2 * tr + 1) * width, count: width)
                } else {
                    lower.update(repeating: 0, count: width)
                }
                // ∂L/∂Y Aᵀ, along each of the two rows: each pair (a, b) becomes (a, a + b, a − b, −b).
                for (row, out) in [(upper, upperRows), (lower, lowerRows)] {
                    let (e0, e1, e2, e3) = (out, out + tilesWide, out + 2 * tilesWide, out + 3 * tilesWide)
                    for tc in 0..<tilesWide {
                        let (a, b) = (row[2 * tc], row[2 * tc + 1])
                        e0[tc] = a; e1[tc] = a + b; e2[tc] = a - b; e3[tc] = -b
                    }
                }
                // A (∂L/∂Y Aᵀ), down each column j: rows u, u + l, u − l, −l.
                for j in 0..<4 {
                    let (u, l) = (upperRows + j * tilesWide, lowerRows + j * tilesWide)
                    let base = dm + tr * tilesWide
                    let (m0, m1, m2, m3) = (base + j * stride, base + (4 + j) * stride, base + (8 + j) * stride, base + (12 + j) * stride)
                    for tc in 0..<tilesWide {
                        m0[tc] = u[tc]; m1[tc] = u[tc] + l[tc]; m2[tc] = u[tc] - l[tc]; m3[tc] = -l[tc]
                    }
                }
            }
        }
    }

    /// The 16 products P[ξ] [rows, columns] = op(U[ξ]) × Q[ξ] [inner, columns], shared out over
    /// the threads; U[ξ] is stored [rows, inner], or [inner, rows] when `transposingFirst`.
    private static func productsAtEveryPosition(_ u: [Float], rows: Int, inner: Int, transposingFirst: Bool = false,
                                                _ q: [Float], columns: Int) -> [Float] {
        var p = [Float](unsafeUninitializedCapacity: 16 * rows * columns) { _, count in count = 16 * rows * columns }
        u.withUnsafeBufferPointer { u in
            q.withUnsafeBufferPointer { q in
                p.withUnsafeMutableBufferPointer { p in
                    let (u, q, p) = (SendablePointer(u.baseAddress!), SendablePointer(q.baseAddress!), SendableMutablePointer(p.baseAddress!))
                    Gemm.concurrently(16) { position in
                        Gemm.multiply(u.pointer + position * rows * inner, transposeA: transposingFirst,
                                      q.pointer + position * inner * columns,
                                      into: p.pointer + position * rows * columns, m: rows, n: columns, k: inner)
                    }
                }
            }
        }
        return p
    }

    /// Runs body(plane) for every plane, the planes split into one contiguous share per thread.
    private static func inParallel(over planes: Int, _ body: (Int) -> Void) {
        let shares = Swift.min(Gemm.maximumThreads, planes)
        if shares <= 1 {
            for plane in 0..<planes { body(plane) }
            return
        }
        DispatchQueue.concurrentPerform(iterations: shares) { share in
            for plane in (share * planes / shares)..<((share + 1) * planes / shares) { body(plane) }
        }
    }

    /// A zeroed scratch buffer of `count` floats, for the duration of body.
    private static func withScratch(_ count: Int, _ body: (UnsafeMutablePointer<Float>) -> Void) {
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: count)
        scratch.initialize(repeating: 0, count: count)
        body(scratch)
        scratch.deallocate()
    }
}

/// A pointer handed to the threads of `concurrentPerform`, each of which reads its own part.
struct SendablePointer: @unchecked Sendable {
    let pointer: UnsafePointer<Float>
    init(_ pointer: UnsafePointer<Float>) { self.pointer = pointer }
}

/// A pointer handed to the threads of `concurrentPerform`, each of which writes its own part.
struct SendableMutablePointer: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<Float>
    init(_ pointer: UnsafeMutablePointer<Float>) { self.pointer = pointer }
}

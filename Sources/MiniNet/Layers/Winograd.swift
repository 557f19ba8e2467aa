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
        var output = [Float](unsafeUninitializedCapacity: batch * outputChannels * height * width) { _, count in count = batch * outputChannels * height * width }
        input.data.withUnsafeBufferPointer { x in
            output.withUnsafeMutableBufferPointer { y in
                inChunks(batch: batch, height: height, width: width, sourceChannels: inputChannels, resultChannels: outputChannels,
                         source: x.baseAddress!, result: y.baseAddress!,
                         // V [16, Cin, T] from each input plane,
                         transformSource: { plane, geometry, v, stride in transformInput(plane, geometry: geometry, into: v, stride: stride) },
                         // M[ξ] [Cout, T] = U[ξ] [Cout, Cin] × V[ξ] [Cin, T],
                         multiply: { v, m, tiles in
                             productsAtEveryPosition(u, rows: outputChannels, inner: inputChannels, v, into: m, columns: tiles)
                         },
                         // Y = Aᵀ M A + b_o for each output plane.
                         transformResult: { m, stride, geometry, o, plane in
                             transformOutput(m, stride: stride, geometry: geometry, bias: bias?[o] ?? 0, into: plane)
                         })
            }
        }
        return Tensor(shape: [batch, outputChannels, height, width], data: output)
    }

    /// outputGradient [N, Cout, H, W], U [16, Cout, Cin] → inputGradient [N, Cin, H, W]
    static func inputGradient(_ outputGradient: Tensor, transformedKernel u: [Float], inputChannels: Int) -> Tensor {
        let (batch, outputChannels, height, width) = (outputGradient.shape[0], outputGradient.shape[1], outputGradient.shape[2], outputGradient.shape[3])
        var inputGradient = [Float](unsafeUninitializedCapacity: batch * inputChannels * height * width) { _, count in count = batch * inputChannels * height * width }
        outputGradient.data.withUnsafeBufferPointer { dy in
            inputGradient.withUnsafeMutableBufferPointer { dx in
                inChunks(batch: batch, height: height, width: width, sourceChannels: outputChannels, resultChannels: inputChannels,
                         source: dy.baseAddress!, result: dx.baseAddress!,
                         // ∂L/∂M [16, Cout, T] = A ∂L/∂Y Aᵀ from each output-gradient plane,
                         transformSource: { plane, geometry, dm, stride in
                             transformOutputAdjoint(plane, geometry: geometry, into: dm, stride: stride)
                         },
                         // ∂L/∂V[ξ] [Cin, T] = U[ξ]ᵀ [Cin, Cout] × ∂L/∂M[ξ] [Cout, T],
                         multiply: { dm, dv, tiles in
                             productsAtEveryPosition(u, rows: inputChannels, inner: outputChannels, transposingFirst: true, dm, into: dv, columns: tiles)
                         },
                         // ∂L/∂x = B ∂L/∂V Bᵀ, patches added where they overlap, for each input plane.
                         transformResult: { dv, stride, geometry, _, plane in
                             transformInputAdjoint(dv, stride: stride, geometry: geometry, into: plane)
                         })
            }
        }
        return Tensor(shape: [batch, inputChannels, height, width], data: inputGradient)
    }

    /// About this many tiles go through the three steps together: enough columns for efficient
    /// products, few enough that the transformed tensors (16 values per tile and channel) stay in
    /// the processor's caches between the steps instead of going out to memory and back.
    static let tilesPerChunk = 512

    /// Runs transform → 16 products → transform over the batch, a few whole images at a time.
    /// source [N, sourceChannels, H, W] → result [N, resultChannels, H, W]; in between, the
    /// transformed source [16, sourceChannels, T] and the products [16, resultChannels, T],
    /// where T counts the tiles of the images in the chunk.
    private static func inChunks(
        batch: Int, height: Int, width: Int, sourceChannels: Int, resultChannels: Int,
        source: UnsafePointer<Float>, result: UnsafeMutablePointer<Float>,
        transformSource: (_ plane: UnsafePointer<Float>, TileGeometry, _ into: UnsafeMutablePointer<Float>, _ stride: Int) -> Void,
        multiply: (_ transformed: UnsafePointer<Float>, _ into: UnsafeMutablePointer<Float>, _ tiles: Int) -> Void,
        transformResult: (_ products: UnsafePointer<Float>, _ stride: Int, TileGeometry, _ channel: Int, _ plane: UnsafeMutablePointer<Float>) -> Void
    ) {
        let geometry = TileGeometry(height: height, width: width)
        let imagesPerChunk = Swift.max(1, Swift.min(batch, tilesPerChunk / geometry.tilesPerImage))
        let chunkTiles = imagesPerChunk * geometry.tilesPerImage
        let planeSize = height * width
        let transformed = UnsafeMutablePointer<Float>.allocate(capacity: 16 * sourceChannels * chunkTiles)
        let products = UnsafeMutablePointer<Float>.allocate(capacity: 16 * resultChannels * chunkTiles)
        defer { transformed.deallocate(); products.deallocate() }
        let (sharedSource, sharedResult) = (SendablePointer(source), SendableMutablePointer(result))
        let (sharedTransformed, sharedProducts) = (SendableMutablePointer(transformed), SendableMutablePointer(products))
        for firstImage in stride(from: 0, to: batch, by: imagesPerChunk) {
            let images = Swift.min(imagesPerChunk, batch - firstImage)
            let tiles = images * geometry.tilesPerImage
            // Tile t of image firstImage + i, channel c, position ξ sits at (ξ·channels + c)·tiles + i·tilesPerImage + t.
            inParallel(over: images * sourceChannels) { plane in
                let (image, channel) = plane.quotientAndRemainder(dividingBy: sourceChannels)
                transformSource(sharedSource.pointer + ((firstImage + image) * sourceChannels + channel) * planeSize, geometry,
                                sharedTransformed.pointer + channel * tiles + image * geometry.tilesPerImage, sourceChannels * tiles)
            }
            multiply(transformed, products, tiles)
            inParallel(over: images * resultChannels) { plane in
                let (image, channel) = plane.quotientAndRemainder(dividingBy: resultChannels)
                transformResult(sharedProducts.pointer + channel * tiles + image * geometry.tilesPerImage, resultChannels * tiles,
                                geometry, channel, sharedResult.pointer + ((firstImage + image) * resultChannels + channel) * planeSize)
            }
        }
    }

    /// How an H×W plane is cut into 2×2 output tiles.
    struct TileGeometry {
        let height: Int, width: Int
        let tilesHigh: Int, tilesWide: Int
        let tilesPerImage: Int

        init(height: Int, width: Int) {
            self.height = height
            self.width = width
            tilesHigh = (height + 1) / 2
            tilesWide = (width + 1) / 2
            tilesPerImage = tilesHigh * tilesWide
        }
        /// The rows of the input plane with its border of zeros, 2·tilesHigh + 2 of 2·tilesWide + 2
        /// entries each: the padding row and column before, the padding (and, for odd sizes, one
        /// more) after.
        var paddedHeight: Int { 2 * tilesHigh + 2 }
    }

    // The four transforms below work one plane at a time, and apply each 4×4 (or 2×4, 4×2)
    // matrix in two passes, one along the rows and one along the columns, so that the inner loops
    // run along a row of tiles over contiguous memory, which the compiler turns into vector code.
    // In V, M and their gradients, ξ = 4·i + j: i counts down the 4×4 block, j across it.

    /// One input plane x [H, W] → v[ξ·stride + t] = (Bᵀ d_t B)[ξ] for each of its tiles t.
    private static func transformInput(_ x: UnsafePointer<Float>, geometry: TileGeometry,
                                       into v: UnsafeMutablePointer<Float>, stride: Int) {
        let (tilesWide, paddedHeight) = (geometry.tilesWide, geometry.paddedHeight)
        let half = tilesWide + 1                                  // half of a padded row
        withScratch(2 * paddedHeight * half + 4 * paddedHeight * tilesWide) { scratch in
            // The padded plane with its even and odd columns apart (even[r][i] = padded[r][2i],
            // odd[r][i] = padded[r][2i + 1]), so that tile tc's four columns are even[tc],
            // odd[tc], even[tc + 1], odd[tc + 1]: contiguous in tc.
            let (even, odd) = (scratch, scratch + paddedHeight * half)
            for row in 0..<geometry.height {
                let source = x + row * geometry.width
                let (evenRow, oddRow) = (even + (row + 1) * half, odd + (row + 1) * half)
                for i in 1..<(geometry.width / 2 + 1) { evenRow[i] = source[2 * i - 1] }
                for i in 0..<((geometry.width + 1) / 2) { oddRow[i] = source[2 * i] }
            }
            // d B, along each padded row: h_j[r][tc] for the tile columns, with d_k = row[2·tc + k]:
            // h0 = d0 − d2, h1 = d1 + d2, h2 = d2 − d1, h3 = d1 − d3.
            let h = scratch + 2 * paddedHeight * half
            for r in 0..<paddedHeight {
                let (e, o) = (even + r * half, odd + r * half)
                let (h0, h1, h2, h3) = (h + r * tilesWide, h + (paddedHeight + r) * tilesWide,
                                        h + (2 * paddedHeight + r) * tilesWide, h + (3 * paddedHeight + r) * tilesWide)
                for tc in 0..<tilesWide {
                    let (d0, d1, d2, d3) = (e[tc], o[tc], e[tc + 1], o[tc + 1])
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
        let (tilesWide, paddedHeight) = (geometry.tilesWide, geometry.paddedHeight)
        let half = tilesWide + 1
        withScratch(2 * paddedHeight * half + 16 * tilesWide) { scratch in
            // The gradient of the padded plane, even and odd columns apart as in transformInput.
            let (even, odd) = (scratch, scratch + paddedHeight * half)
            let p = scratch + 2 * paddedHeight * half       // p[(4·i + j)·tilesWide + tc]
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
                // q0, q1 − q2 + q3, −q0 + q1 + q2, −q3, that is at even[tc], odd[tc], even[tc + 1],
                // odd[tc + 1]. Neighbouring tiles overlap by two columns, so the first two and the
                // last two are added in separate passes.
                for i in 0..<4 {
                    let (e, o) = (even + (2 * tr + i) * half, odd + (2 * tr + i) * half)
                    let (q0, q1, q2, q3) = (p + 4 * i * tilesWide, p + (4 * i + 1) * tilesWide, p + (4 * i + 2) * tilesWide, p + (4 * i + 3) * tilesWide)
                    for tc in 0..<tilesWide {
                        e[tc] += q0[tc]
                        o[tc] += q1[tc] - q2[tc] + q3[tc]
                    }
                    for tc in 0..<tilesWide {
                        e[tc + 1] += -q0[tc] + q1[tc] + q2[tc]
                        o[tc + 1] -= q3[tc]
                    }
                }
            }
            // dx[row][col] is padded[row + 1][col + 1]: even[…][(col + 1)/2] for odd col, odd[…][col/2] for even col.
            for row in 0..<geometry.height {
                let target = dx + row * geometry.width
                let (evenRow, oddRow) = (even + (row + 1) * half, odd + (row + 1) * half)
                for i in 1..<(geometry.width / 2 + 1) { target[2 * i - 1] = evenRow[i] }
                for i in 0..<((geometry.width + 1) / 2) { target[2 * i] = oddRow[i] }
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
                                                _ q: UnsafePointer<Float>, into p: UnsafeMutablePointer<Float>, columns: Int) {
        u.withUnsafeBufferPointer { u in
            let (u, q, p) = (SendablePointer(u.baseAddress!), SendablePointer(q), SendableMutablePointer(p))
            Gemm.concurrently(16) { position in
                Gemm.multiply(u.pointer + position * rows * inner, transposeA: transposingFirst,
                              q.pointer + position * inner * columns,
                              into: p.pointer + position * rows * columns, m: rows, n: columns, k: inner)
            }
        }
    }

    /// Runs body(plane) for every plane, the planes split into one contiguous share per thread.
    /// Each plane is transformed on its own, so how they are shared out changes no result.
    private static func inParallel(over planes: Int, _ body: (Int) -> Void) {
        let shares = Swift.min(Gemm.maximumThreads, planes)
        Gemm.concurrently(shares) { share in
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

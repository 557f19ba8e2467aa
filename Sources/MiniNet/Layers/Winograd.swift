import CKernels

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
///
/// The weight gradient goes back through the same steps to U, then through U = G g Gᵀ to g
/// (derived above `weightGradient`): 16 products ∂L/∂U[ξ] [Cout, Cin] = ∂L/∂M[ξ] [Cout, T] ×
/// V[ξ]ᵀ [T, Cin], the V of the forward pass kept for them. So training, which needs all three
/// (forward, input gradient, weight gradient), does each with 2.25 times fewer multiplications.
///
/// F(4×4, 3×3) does the same with 4×4 output tiles and 6×6 input patches: 36 products for every
/// 16 outputs instead of 144, 2.25 per output against F(2×2, 3×3)'s 4, with larger transform
/// coefficients (up to 8 in Aᵀ and 5 in Bᵀ) and so more rounding: the forward pass of a large
/// enough layer takes it (`Tile.four`, see Conv2d), and so does that layer's input gradient
/// when no parameter gradient is wanted: turned half a turn, it is the forward convolution of
/// ∂L/∂y with U[ξ]ᵀ (`inputGradientFourByFour`). Training keeps F(2×2, 3×3).
enum Winograd {
    /// The output tile: F(2×2, 3×3) or F(4×4, 3×3).
    enum Tile: Sendable {
        case two, four
        /// The side of an output tile, and of the input patch it needs (side + 2).
        var side: Int { self == .two ? 2 : 4 }
        /// The positions ξ of a transformed patch: (side + 2)².
        var positions: Int { (side + 2) * (side + 2) }
        /// G [side + 2, 3] of U = G g Gᵀ.
        var kernelMatrix: [[Float]] {
            switch self {
            case .two: return [[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]]
            case .four: return [[1.0 / 4, 0, 0], [-1.0 / 6, -1.0 / 6, -1.0 / 6], [-1.0 / 6, 1.0 / 6, -1.0 / 6],
                                [1.0 / 24, 1.0 / 12, 1.0 / 6], [1.0 / 24, -1.0 / 12, 1.0 / 6], [0, 0, 1]]
            }
        }
    }

    /// Whether a convolution has the one shape this algorithm handles.
    static func applies(kernelSize: Int, stride: Int, padding: Int) -> Bool {
        kernelSize == 3 && stride == 1 && padding == 1
    }

    /// G ⊗ G [P, 9] (P = 16 or 36 positions): U = G g Gᵀ read as one linear map of the nine
    /// kernel weights, U[s·i + j] = Σ_a Σ_b G[i][a] · G[j][b] · g[3·a + b], s = side + 2.
    static func kernelTransformMatrix(_ tile: Tile) -> [Float] {
        let (g, size) = (tile.kernelMatrix, tile.side + 2)
        var matrix = [Float](repeating: 0, count: tile.positions * 9)
        for i in 0..<size { for j in 0..<size { for a in 0..<3 { for b in 0..<3 {
            matrix[(size * i + j) * 9 + 3 * a + b] = g[i][a] * g[j][b]
        } } } }
        return matrix
    }

    /// weight [Cout, Cin, 3, 3] → U [P, Cout, Cin], U[ξ][o][c] = (G g_oc Gᵀ)[ξ]: for every kernel
    /// at once, one product U [P, Cout·Cin] = (G ⊗ G) [P, 9] × weightᵀ [9, Cout·Cin].
    static func transformKernel(_ weight: [Float], outputChannels: Int, inputChannels: Int, tile: Tile = .two) -> [Float] {
        let (pairs, positions) = (outputChannels * inputChannels, tile.positions)
        return [Float](unsafeUninitializedCapacity: positions * pairs) { u, count in
            weight.withUnsafeBufferPointer { w in
                kernelTransformMatrix(tile).withUnsafeBufferPointer { matrix in
                    Gemm.multiply(matrix.baseAddress!, w.baseAddress!, transposeB: true, into: u.baseAddress!,
                                  m: positions, n: pairs, k: 9)
                }
            }
            count = positions * pairs
        }
    }

    /// input [N, Cin, H, W], U [P, Cout, Cin] (made for `tile`), bias [Cout] → output [N, Cout, H, W]
    static func forward(_ input: Tensor, transformedKernel u: [Float], bias: [Float]?, outputChannels: Int, tile: Tile = .two) -> Tensor {
        forward(input, transformedKernel: u, bias: bias, outputChannels: outputChannels, tile: tile, keepingTransformedInputIn: nil)
    }

    /// The F(2×2, 3×3) forward pass that also hands back what it made of the input on the way,
    /// V [16, Cin, T] (laid out as `transformedInput` describes), for `weightGradient`.
    static func forwardKeepingTransformedInput(_ input: Tensor, transformedKernel u: [Float], bias: [Float]?,
                                               outputChannels: Int) -> (output: Tensor, transformedInput: [Float]) {
        let count = transformedInputCount(input.shape)
        var output: Tensor?
        let transformed = [Float](unsafeUninitializedCapacity: count) { v, written in
            output = forward(input, transformedKernel: u, bias: bias, outputChannels: outputChannels, tile: .two,
                             keepingTransformedInputIn: v.baseAddress!)
            written = count
        }
        return (output!, transformed)
    }

    /// `transposingKernel`: U is stored [P, Cin, Cout], as another convolution's U whose input
    /// and output channels are this one's output and input (`inputGradientFourByFour`), and each
    /// product takes U[ξ]ᵀ. `turned` (F(4×4) only): the convolution of the input turned half a
    /// turn, its output turned back, the turns taken by the transforms as they read and write.
    private static func forward(_ input: Tensor, transformedKernel u: [Float], bias: [Float]?, outputChannels: Int, tile: Tile,
                                transposingKernel: Bool = false, turned: Bool = false,
                                keepingTransformedInputIn kept: UnsafeMutablePointer<Float>?) -> Tensor {
        let (batch, inputChannels, height, width) = (input.shape[0], input.shape[1], input.shape[2], input.shape[3])
        var output = [Float](unsafeUninitializedCapacity: batch * outputChannels * height * width) { _, count in count = batch * outputChannels * height * width }
        input.data.withUnsafeBufferPointer { x in
            output.withUnsafeMutableBufferPointer { y in
                inChunks(batch: batch, height: height, width: width, tile: tile, sourceChannels: inputChannels, resultChannels: outputChannels,
                         source: x.baseAddress!, result: y.baseAddress!, keepingTransformedSourceIn: kept,
                         // V [P, Cin, T] from each input channel's planes,
                         transformSource: { planes, images, imageStride, geometry, v, stride in
                             transformInput(planes, images: images, imageStride: imageStride, geometry: geometry, turned: turned,
                                            into: v, stride: stride)
                         },
                         // M[ξ] [Cout, T] = U[ξ] [Cout, Cin] × V[ξ] [Cin, T],
                         multiply: { v, m, tiles in
                             productsAtEveryPosition(u, positions: tile.positions, rows: outputChannels, inner: inputChannels,
                                                     transposingFirst: transposingKernel, v, into: m, columns: tiles)
                         },
                         // Y = Aᵀ M A + b_o for each output channel's planes,
                         transformResult: { m, stride, geometry, o, images, planes, imageStride in
                             transformOutput(m, stride: stride, geometry: geometry, bias: bias?[o] ?? 0, images: images, turned: turned,
                                             into: planes, imageStride: imageStride)
                         },
                         // or, for one picture by F(2×2), for a range of its channels at once.
                         transformResultOfChannels: tile == .four ? nil : { m, stride, geometry, channels, planes in
                             let zero: [Float] = [0]
                             (bias ?? zero).withUnsafeBufferPointer { b in
                                 tutor_winograd_transform_output_images(m, stride, channels.count, geometry.height, geometry.width,
                                                                        b.baseAddress! + (bias == nil ? 0 : channels.lowerBound),
                                                                        bias == nil ? 0 : 1, planes, geometry.height * geometry.width)
                             }
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
                inChunks(batch: batch, height: height, width: width, tile: .two, sourceChannels: outputChannels, resultChannels: inputChannels,
                         source: dy.baseAddress!, result: dx.baseAddress!,
                         // ∂L/∂M [16, Cout, T] = A ∂L/∂Y Aᵀ from each output-gradient plane,
                         transformSource: { planes, images, imageStride, geometry, dm, stride in
                             for image in 0..<images {
                                 transformOutputAdjoint(planes + image * imageStride, geometry: geometry,
                                                        into: dm + image * geometry.tilesPerImage, stride: stride)
                             }
                         },
                         // ∂L/∂V[ξ] [Cin, T] = U[ξ]ᵀ [Cin, Cout] × ∂L/∂M[ξ] [Cout, T],
                         multiply: { dm, dv, tiles in
                             productsAtEveryPosition(u, positions: 16, rows: inputChannels, inner: outputChannels, transposingFirst: true, dm,
                                                     into: dv, columns: tiles)
                         },
                         // ∂L/∂x = B ∂L/∂V Bᵀ, patches added where they overlap, for each input plane.
                         transformResult: { dv, stride, geometry, _, images, planes, imageStride in
                             for image in 0..<images {
                                 transformInputAdjoint(dv + image * geometry.tilesPerImage, stride: stride, geometry: geometry,
                                                       into: planes + image * imageStride)
                             }
                         })
            }
        }
        return Tensor(shape: [batch, inputChannels, height, width], data: inputGradient)
    }

    /// The input gradient by F(4×4, 3×3). For stride 1 and padding 1, input pixel (i, j) of
    /// channel c feeds output (i − a + 1, j − b + 1) of channel o through g_oc[a][b], so
    ///
    ///     ∂L/∂x_c[i][j] = Σ_o Σ_{a,b} g_oc[a][b] · ∂L/∂y_o[i − a + 1][j − b + 1].
    ///
    /// Read with the plane turned half a turn, x̃[i][j] = x[H − 1 − i][W − 1 − j] (likewise ỹ),
    /// the offsets change sign:
    ///
    ///     ∂L/∂x̃_c[i][j] = Σ_o Σ_{a,b} g_oc[a][b] · ∂L/∂ỹ_o[i + a − 1][j + b − 1],
    ///
    /// the forward convolution (stride 1, padding 1) of the turned ∂L/∂y with the same kernel,
    /// its channels swapped: U[ξ]ᵀ [Cin, Cout] in place of U[ξ] [Cout, Cin]. So the forward
    /// F(4×4, 3×3) computes it with the forward pass's U, 2.25 multiplications per value against
    /// the F(2×2) adjoint's 4, with F(4×4)'s rounding (its error model is the forward pass's,
    /// over the Cout channels summed).
    ///
    /// outputGradient [N, Cout, H, W], U [36, Cout, Cin] (the forward pass's) → inputGradient [N, Cin, H, W]
    /// The transforms read ∂L/∂y turned and write ∂L/∂x turned back (`turned`), so no turned
    /// copy of either is made.
    static func inputGradientFourByFour(_ outputGradient: Tensor, transformedKernel u: [Float], inputChannels: Int) -> Tensor {
        forward(outputGradient, transformedKernel: u, bias: nil, outputChannels: inputChannels, tile: .four,
                transposingKernel: true, turned: true, keepingTransformedInputIn: nil)
    }

    /// The F(2×2, 3×3) weight gradient. The forward pass computed, for every tile t of the
    /// batch (T of them over the N images) and every output channel k,
    ///
    ///     Y_kt = Aᵀ M_kt A,    M_kt[ξ] = Σ_c U_kc[ξ] · V_ct[ξ],    U_kc = G g_kc Gᵀ,    V_ct = Bᵀ d_ct B.
    ///
    /// Going back one step at a time, from ∂L/∂Y to the 3×3 kernel g_kc:
    ///
    ///     (1) ∂L/∂M_kt     = A (∂L/∂Y_kt) Aᵀ              the adjoint of Y = Aᵀ M A, as for the input gradient;
    ///     (2) ∂L/∂U_kc[ξ]  = Σ_t ∂L/∂M_kt[ξ] · V_ct[ξ]    U_kc[ξ] multiplies V_ct[ξ] in every tile's M_kt[ξ],
    ///                                                      so its gradient sums over the tiles of every image;
    ///     (3) ∂L/∂g_kc     = Gᵀ (∂L/∂U_kc) G              the adjoint of U = G g Gᵀ.
    ///
    /// (2) is, for each of the 16 positions ξ, one matrix product over the tiles,
    ///
    ///     ∂L/∂U[ξ] [Cout, Cin] = ∂L/∂M[ξ] [Cout, T] × V[ξ]ᵀ [T, Cin],
    ///
    /// Cout·Cin·T multiply-adds each, 16·Cout·Cin·T in all, against the 9·Cin·Cout·4T of
    /// im2col's ∂L/∂Y [Cout, 4T] × columnsᵀ [4T, 9·Cin]: 2.25 times fewer. The chunks of images
    /// add their share into ∂L/∂U one after the other, so the order of every sum depends on
    /// the shape alone. V is the forward pass's (`forwardKeepingTransformedInput`) or is made
    /// again from the input (`transformedInput`).
    ///
    /// (3), read as one linear map of the nine weights, is the transpose of U = (G ⊗ G) g
    /// (`kernelTransformMatrix`): ∂L/∂g[ab] = Σ_ξ (G ⊗ G)[ξ, ab] · ∂L/∂U[ξ], for all kernels at
    /// once the small product ∂L/∂g [Cout·Cin, 9] = (∂L/∂U)ᵀ [Cout·Cin, 16] × (G ⊗ G) [16, 9].
    ///
    /// The tiles that stick out of an odd-sized plane add nothing: (1) gives them ∂L/∂Y = 0
    /// outside the plane, so the padding's inputs in V are multiplied by zero.
    ///
    /// outputGradient [N, Cout, H, W], V [16, Cin, T] → weightGradient [Cout, Cin, 3, 3], added
    /// into (+=), as parameter gradients are.
    static func weightGradient(_ outputGradient: Tensor, transformedInput v: [Float], inputChannels: Int,
                               addingInto weightGradient: inout [Float]) {
        let (batch, outputChannels, height, width) = (outputGradient.shape[0], outputGradient.shape[1], outputGradient.shape[2], outputGradient.shape[3])
        let pairs = outputChannels * inputChannels
        precondition(v.count == transformedInputCount([batch, inputChannels, height, width]), "V has \(v.count) values")
        precondition(weightGradient.count == pairs * 9, "weight gradient has \(weightGradient.count) values")
        let geometry = TileGeometry(height: height, width: width)
        let imageChunks = chunks(batch: batch, geometry: geometry)
        let largestChunk = imageChunks.map(\.tiles).max() ?? 0
        // ∂L/∂M [16, Cout, T] of one chunk, and ∂L/∂U [16, Cout, Cin] of the whole batch.
        let dm = UnsafeMutablePointer<Float>.allocate(capacity: 16 * outputChannels * largestChunk)
        let du = UnsafeMutablePointer<Float>.allocate(capacity: 16 * pairs)
        defer { dm.deallocate(); du.deallocate() }
        outputGradient.data.withUnsafeBufferPointer { dy in
            v.withUnsafeBufferPointer { v in
                let (dy, v) = (SendablePointer(dy.baseAddress!), SendablePointer(v.baseAddress!))
                let (sharedDm, sharedDu) = (SendableMutablePointer(dm), SendableMutablePointer(du))
                for chunk in imageChunks {
                    // (1) ∂L/∂M = A ∂L/∂Y Aᵀ from each output-gradient plane of the chunk,
                    transformPlanes(of: chunk, geometry: geometry, channels: outputChannels) { plane, offset, stride in
                        transformOutputAdjoint(dy.pointer + (chunk.firstImage * outputChannels + plane) * height * width,
                                               geometry: geometry, into: sharedDm.pointer + offset, stride: stride)
                    }
                    // (2) ∂L/∂U[ξ] [Cout, Cin] (+)= ∂L/∂M[ξ] [Cout, T] × V[ξ]ᵀ [T, Cin], the first chunk
                    // writing (β = 0), the others adding (β = 1).
                    let vChunk = v.pointer + 16 * inputChannels * chunk.firstImage * geometry.tilesPerImage
                    Gemm.concurrently(16) { position in
                        Gemm.multiply(sharedDm.pointer + position * outputChannels * chunk.tiles,
                                      vChunk + position * inputChannels * chunk.tiles, transposeB: true,
                                      into: sharedDu.pointer + position * pairs,
                                      m: outputChannels, n: inputChannels, k: chunk.tiles, beta: chunk.firstImage == 0 ? 0 : 1)
                    }
                }
            }
        }
        // (3) ∂L/∂g [Cout·Cin, 9] += (∂L/∂U)ᵀ [Cout·Cin, 16] × (G ⊗ G) [16, 9].
        kernelTransformMatrix(.two).withUnsafeBufferPointer { matrix in
            weightGradient.withUnsafeMutableBufferPointer { dg in
                Gemm.multiply(du, transposeA: true, matrix.baseAddress!, into: dg.baseAddress!, m: pairs, n: 9, k: 16, beta: 1)
            }
        }
    }

    /// V [16, Cin, T] of the F(2×2, 3×3) transform, for an input [N, Cin, H, W], as
    /// `forwardKeepingTransformedInput` keeps it: the chunks of images (`chunks`) one after the
    /// other, each [16, Cin, tiles of the chunk], so that the chunk starting at image n starts at
    /// 16·Cin·n·tilesPerImage and (ξ, c, t) sits at (ξ·Cin + c)·tiles + t within it.
    static func transformedInput(_ input: Tensor) -> [Float] {
        let (inputChannels, height, width) = (input.shape[1], input.shape[2], input.shape[3])
        let geometry = TileGeometry(height: height, width: width)
        let count = transformedInputCount(input.shape)
        return [Float](unsafeUninitializedCapacity: count) { v, written in
            input.data.withUnsafeBufferPointer { x in
                let (x, v) = (SendablePointer(x.baseAddress!), SendableMutablePointer(v.baseAddress!))
                for chunk in chunks(batch: input.shape[0], geometry: geometry) {
                    let vChunk = SendableMutablePointer(v.pointer + 16 * inputChannels * chunk.firstImage * geometry.tilesPerImage)
                    transformPlanes(of: chunk, geometry: geometry, channels: inputChannels) { plane, offset, stride in
                        transformInput(x.pointer + (chunk.firstImage * inputChannels + plane) * height * width, geometry: geometry,
                                       into: vChunk.pointer + offset, stride: stride)
                    }
                }
            }
            written = count
        }
    }

    /// How many values V [16, Cin, T] has for an input of this shape [N, Cin, H, W].
    static func transformedInputCount(_ shape: [Int]) -> Int {
        16 * shape[1] * shape[0] * TileGeometry(height: shape[2], width: shape[3]).tilesPerImage
    }

    /// About this many tiles go through the three steps together: enough columns for efficient
    /// products, few enough that the transformed tensors (16 values per tile and channel) stay in
    /// the processor's caches between the steps instead of going out to memory and back.
    static let tilesPerChunk = 512

    /// The same for F(4×4, 3×3), whose tiles hold 36 values per channel and cover 4 times the
    /// pixels: one image at a time wherever an image has 64 tiles or more (a ResNet's 56 × 56
    /// and 28 × 28 stages), a few small images together otherwise. Measured on a ResNet-34's
    /// stages in batches of 8: a 28 × 28 stage took 12.5–13.9 ms in chunks of 512 tiles and
    /// 4.9–5.5 ms one image at a time (docs/performance.md).
    static let fourByFourTilesPerChunk = 64

    /// How the batch is cut into chunks of whole images, about `tilesPerChunk` tiles each
    /// (`fourByFourTilesPerChunk` for F(4×4)): the first image, the number of images and of tiles
    /// of every chunk. It depends on the shape alone, never on the number of threads.
    static func chunks(batch: Int, geometry: TileGeometry) -> [(firstImage: Int, images: Int, tiles: Int)] {
        let chunkTiles = geometry.tile == .four ? fourByFourTilesPerChunk : tilesPerChunk
        let imagesPerChunk = Swift.max(1, Swift.min(batch, chunkTiles / geometry.tilesPerImage))
        return Swift.stride(from: 0, to: batch, by: imagesPerChunk).map { firstImage in
            let images = Swift.min(imagesPerChunk, batch - firstImage)
            return (firstImage, images, images * geometry.tilesPerImage)
        }
    }

    /// Runs transform → 16 products → transform over the batch, a few whole images at a time.
    /// source [N, sourceChannels, H, W] → result [N, resultChannels, H, W]; in between, the
    /// transformed source [16, sourceChannels, T] and the products [16, resultChannels, T],
    /// where T counts the tiles of the images in the chunk. With `kept`, the transformed source
    /// of every chunk stays there (laid out as `transformedInput` describes) instead of in a
    /// scratch buffer that the next chunk overwrites.
    private static func inChunks(
        batch: Int, height: Int, width: Int, tile: Tile, sourceChannels: Int, resultChannels: Int,
        source: UnsafePointer<Float>, result: UnsafeMutablePointer<Float>, keepingTransformedSourceIn kept: UnsafeMutablePointer<Float>? = nil,
        transformSource: (_ planes: UnsafePointer<Float>, _ images: Int, _ imageStride: Int, TileGeometry,
                          _ into: UnsafeMutablePointer<Float>, _ stride: Int) -> Void,
        multiply: (_ transformed: UnsafePointer<Float>, _ into: UnsafeMutablePointer<Float>, _ tiles: Int) -> Void,
        transformResult: (_ products: UnsafePointer<Float>, _ stride: Int, TileGeometry, _ channel: Int, _ images: Int,
                          _ planes: UnsafeMutablePointer<Float>, _ imageStride: Int) -> Void,
        transformResultOfChannels: ((_ products: UnsafePointer<Float>, _ stride: Int, TileGeometry, _ channels: Range<Int>,
                                     _ planes: UnsafeMutablePointer<Float>) -> Void)? = nil
    ) {
        let geometry = TileGeometry(height: height, width: width, tile: tile)
        let imageChunks = chunks(batch: batch, geometry: geometry)
        let chunkTiles = imageChunks.map(\.tiles).max() ?? 0
        let planeSize = height * width
        let scratch = kept == nil ? UnsafeMutablePointer<Float>.allocate(capacity: tile.positions * sourceChannels * chunkTiles) : nil
        let products = UnsafeMutablePointer<Float>.allocate(capacity: tile.positions * resultChannels * chunkTiles)
        defer { scratch?.deallocate(); products.deallocate() }
        let (sharedSource, sharedResult, sharedProducts) = (SendablePointer(source), SendableMutablePointer(result), SendableMutablePointer(products))
        for chunk in imageChunks {
            let transformed = kept.map { $0 + tile.positions * sourceChannels * chunk.firstImage * geometry.tilesPerImage } ?? scratch!
            let sharedTransformed = SendableMutablePointer(transformed)
            // Each channel's planes in the chunk's images go through a transform together, their
            // tiles side by side (a 7 × 7 plane has 4 tiles, too few for a vector on their own);
            // a chunk of one picture sends a range of its channels instead, as if they were the
            // images of one channel (channel c's tiles sit at c·tiles, where image c's would).
            if chunk.images == 1 {
                Parallel.forRanges(sourceChannels, cost: planeSize * 4) { channels in
                    transformSource(sharedSource.pointer + (chunk.firstImage * sourceChannels + channels.lowerBound) * planeSize, channels.count,
                                    planeSize, geometry, sharedTransformed.pointer + channels.lowerBound * chunk.tiles, sourceChannels * chunk.tiles)
                }
            } else {
                inParallel(over: sourceChannels, planeSize: chunk.images * planeSize) { channel in
                    transformSource(sharedSource.pointer + (chunk.firstImage * sourceChannels + channel) * planeSize, chunk.images,
                                    sourceChannels * planeSize, geometry, sharedTransformed.pointer + channel * chunk.tiles, sourceChannels * chunk.tiles)
                }
            }
            multiply(transformed, products, chunk.tiles)
            if chunk.images == 1, let transformResultOfChannels {
                Parallel.forRanges(resultChannels, cost: planeSize * 4) { channels in
                    transformResultOfChannels(sharedProducts.pointer + channels.lowerBound * chunk.tiles, resultChannels * chunk.tiles, geometry,
                                              channels, sharedResult.pointer + (chunk.firstImage * resultChannels + channels.lowerBound) * planeSize)
                }
            } else {
                inParallel(over: resultChannels, planeSize: chunk.images * planeSize) { channel in
                    transformResult(sharedProducts.pointer + channel * chunk.tiles, resultChannels * chunk.tiles, geometry, channel, chunk.images,
                                    sharedResult.pointer + (chunk.firstImage * resultChannels + channel) * planeSize, resultChannels * planeSize)
                }
            }
        }
    }

    /// Transforms the planes of one chunk, shared out over the threads: body(plane, offset,
    /// stride) for plane = image·channels + channel of the chunk, which must write tile t of
    /// position ξ at offset + ξ·stride + t, so that (ξ, channel, tile of the chunk) sits at
    /// (ξ·channels + channel)·tiles + image·tilesPerImage + t.
    private static func transformPlanes(of chunk: (firstImage: Int, images: Int, tiles: Int), geometry: TileGeometry, channels: Int,
                                        _ body: (_ plane: Int, _ offset: Int, _ stride: Int) -> Void) {
        inParallel(over: chunk.images * channels, planeSize: geometry.height * geometry.width) { plane in
            let (image, channel) = plane.quotientAndRemainder(dividingBy: channels)
            body(plane, channel * chunk.tiles + image * geometry.tilesPerImage, channels * chunk.tiles)
        }
    }

    /// How an H×W plane is cut into output tiles of `tile.side` × `tile.side`.
    struct TileGeometry {
        let height: Int, width: Int
        let tile: Tile
        let tilesHigh: Int, tilesWide: Int
        let tilesPerImage: Int

        init(height: Int, width: Int, tile: Tile = .two) {
            self.height = height
            self.width = width
            self.tile = tile
            tilesHigh = (height + tile.side - 1) / tile.side
            tilesWide = (width + tile.side - 1) / tile.side
            tilesPerImage = tilesHigh * tilesWide
        }
    }

    // The four transforms work one plane at a time. Their loops are in C
    // (Sources/CKernels/winograd_kernels.c), compiled for AVX-512, AVX2 and SSE2 and chosen when
    // the program starts; they only add and subtract, so every choice gives the same bits.
    // In V, M and their gradients, ξ = 4·i + j: i counts down the 4×4 block, j across it.

    /// One input plane x [H, W] → v[ξ·stride + t] = (Bᵀ d_t B)[ξ] for each of its tiles t,
    /// d_t the 4×4 patch of the plane padded with one row and column of zeros.
    private static func transformInput(_ x: UnsafePointer<Float>, geometry: TileGeometry,
                                       into v: UnsafeMutablePointer<Float>, stride: Int) {
        transformInput(x, images: 1, imageStride: 0, geometry: geometry, turned: false, into: v, stride: stride)
    }

    /// The same for one channel's planes in several images (plane n at x + n·imageStride), their
    /// tiles one after the other: tile t of image n at v[ξ·stride + n·tilesPerImage + t];
    /// `turned` (F(4×4) only): each plane read turned half a turn.
    private static func transformInput(_ x: UnsafePointer<Float>, images: Int, imageStride: Int, geometry: TileGeometry, turned: Bool,
                                       into v: UnsafeMutablePointer<Float>, stride: Int) {
        switch geometry.tile {
        case .two:
            precondition(!turned, "F(2×2, 3×3) has no turned transform")
            tutor_winograd_transform_input_images(x, imageStride, images, geometry.height, geometry.width, v, stride)
        case .four: tutor_winograd4_transform_input(x, imageStride, images, geometry.height, geometry.width, turned ? 1 : 0, v, stride)
        }
    }

    /// The adjoint of `transformInput`: ∂L/∂d_t = B ∂L/∂V_t Bᵀ, the overlapping patches added,
    /// written into the plane dx [H, W] (the padding's share is dropped: it is not an input).
    private static func transformInputAdjoint(_ dv: UnsafePointer<Float>, stride: Int, geometry: TileGeometry,
                                              into dx: UnsafeMutablePointer<Float>) {
        tutor_winograd_transform_input_adjoint(dv, stride, geometry.height, geometry.width, dx)
    }

    /// M for one output channel's planes in several images → y + n·imageStride [H, W]: each tile's
    /// Aᵀ m A + bias (the parts of the last tile row or column that fall outside an odd-sized plane
    /// are dropped), the tiles of image n at m[ξ·stride + n·tilesPerImage + t]; `turned` (F(4×4)
    /// only): each plane written turned half a turn.
    private static func transformOutput(_ m: UnsafePointer<Float>, stride: Int, geometry: TileGeometry, bias: Float,
                                        images: Int, turned: Bool, into y: UnsafeMutablePointer<Float>, imageStride: Int) {
        switch geometry.tile {
        case .two:
            precondition(!turned, "F(2×2, 3×3) has no turned transform")
            var shared = bias
            tutor_winograd_transform_output_images(m, stride, images, geometry.height, geometry.width, &shared, 0, y, imageStride)
        case .four: tutor_winograd4_transform_output(m, stride, images, geometry.height, geometry.width, bias, turned ? 1 : 0, y, imageStride)
        }
    }

    /// The adjoint of `transformOutput`: one plane dy [H, W] → ∂L/∂m_t = A ∂L/∂Y_t Aᵀ for each tile.
    private static func transformOutputAdjoint(_ dy: UnsafePointer<Float>, geometry: TileGeometry,
                                               into dm: UnsafeMutablePointer<Float>, stride: Int) {
        tutor_winograd_transform_output_adjoint(dy, geometry.height, geometry.width, dm, stride)
    }

    /// The products P[ξ] [rows, columns] = op(U[ξ]) × Q[ξ] [inner, columns], one per position,
    /// shared out over the threads; U[ξ] is stored [rows, inner], or [inner, rows] when `transposingFirst`.
    private static func productsAtEveryPosition(_ u: [Float], positions: Int, rows: Int, inner: Int, transposingFirst: Bool = false,
                                                _ q: UnsafePointer<Float>, into p: UnsafeMutablePointer<Float>, columns: Int) {
        // The first rule stands in for OpenBLAS; under `.referenceGemm` the plain loops do instead.
        let narrow = takesNarrowProducts(positions: positions, rows: rows, inner: inner, columns: columns, transposingFirst: transposingFirst,
                                         ownLoopsWider: Gemm.ownLoopsWiderThanOpenBLAS && ArithmeticVariant.current != .referenceGemm)
        u.withUnsafeBufferPointer { u in
            let (u, q, p) = (SendablePointer(u.baseAddress!), SendablePointer(q), SendableMutablePointer(p))
            Gemm.concurrently(positions) { position in
                let (uξ, qξ, pξ) = (u.pointer + position * rows * inner, q.pointer + position * inner * columns, p.pointer + position * rows * columns)
                if narrow {
                    tutor_multiply_narrow(uξ, transposingFirst ? 1 : inner, transposingFirst ? rows : 1, qξ, pξ, rows, inner, columns)
                } else {
                    Gemm.multiply(uξ, transposeA: transposingFirst, qξ, into: pξ, m: rows, n: columns, k: inner)
                }
            }
        }
    }

    /// Whether the products go to `tutor_multiply_narrow` (include/narrow_products.h) rather than
    /// to OpenBLAS. It depends on the shape and on two facts about the machine that do not change
    /// while the program runs (never on the thread count or on `VectorWidth.current`, so every
    /// width still gives the same bits):
    ///
    /// - Where MiniNet's own loops have wider registers than OpenBLAS's kernels in use
    ///   (`ownLoopsWider`: AVX-512 against OpenBLAS's 256-bit Haswell kernels, as when
    ///   OPENBLAS_CORETYPE=Haswell is set on an AVX-512 machine), every product
    ///   `Gemm.takesNarrowProduct` gives the narrow kernel: 16 columns or more, but U[ξ] stored by
    ///   columns against a multiple of 512 columns or with rows not a multiple of 16. There it ran
    ///   1.4 to 2.6 times OpenBLAS's speed on every Winograd shape of a ResNet, F(2×2) and F(4×4),
    ///   forward and transposed (tools/bench/narrow_products.c, docs/performance.md).
    /// - Otherwise F(4×4)'s products where U[ξ] is large (256 × 256 or more, a ResNet's last two
    ///   stages) and the tiles few (16 to 64: a 14 × 14 or 7 × 7 plane has 16 or 4, a batch of 8
    ///   has 128 or 32, and F(4×4) takes 64 at a time): OpenBLAS spends about as long copying
    ///   U[ξ] into its packed layout as multiplying, and the narrow kernel reads U[ξ] where it
    ///   lies. Measured alone on one thread (best of 40): 512 × 512 by 32 columns 143 µs against
    ///   OpenBLAS's 180 µs, 256 × 256 by 64 columns 72 µs against 83 µs, with U[ξ] already in
    ///   cache, which favours OpenBLAS; a ResNet-34's 7 × 7 stage in a batch of 8, six different
    ///   kernels in turn (U from memory), forward 8.2 ms against 11.4 ms and input gradient
    ///   11.1 ms against 12.5 ms.
    static func takesNarrowProducts(positions: Int, rows: Int, inner: Int, columns: Int, transposingFirst: Bool,
                                    ownLoopsWider: Bool) -> Bool {
        guard columns >= 16 else { return false }
        if ownLoopsWider { return Gemm.takesNarrowProduct(m: rows, n: columns, transposeA: transposingFirst, ownLoopsWider: true) }
        return positions == Tile.four.positions && rows * inner >= 1 << 16 && columns <= fourByFourTilesPerChunk
    }

    /// Runs body(plane) for every plane, the planes split into contiguous shares over the threads
    /// when there is enough work (`Parallel.forEach`; a transform costs a few operations per
    /// value). Each plane is transformed on its own, so how they are shared out changes no result.
    private static func inParallel(over planes: Int, planeSize: Int, _ body: (Int) -> Void) {
        Parallel.forEach(planes, cost: planeSize * 4, body)
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

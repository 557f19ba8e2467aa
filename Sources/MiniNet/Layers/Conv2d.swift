import CKernels

/// 2-D convolution, as torch.nn.Conv2d (groups = 1, dilation = 1).
///
///     y[n, o, i, j] = b[o] + Σ_c Σ_u Σ_v  W[o, c, u, v] · x[n, c, i·s + u − p, j·s + v − p]
///
/// with stride s, zero padding p, and OH = (H + 2p − kH)/s + 1 (likewise OW).
///
/// Computed as one matrix product (im2col): every receptive field of the batch becomes a
/// column of `columns` [Cin·kH·kW, N·OH·OW], and
///
///     Y [Cout, N·OH·OW] = Wmat [Cout, Cin·kH·kW] × columns
///
/// The backward pass is the same product, differentiated:
///
///     ∂L/∂Wmat    += ∂L/∂Y × columnsᵀ
///     ∂L/∂b       += Σ over n, i, j of ∂L/∂y
///     ∂L/∂columns  = Wmatᵀ × ∂L/∂Y, then col2im adds every column back onto the input
///                    positions it was copied from.
///
/// Large 3×3 convolutions with stride 1 and padding 1 (nearly all of a ResNet's work) take
/// Winograd's algorithm instead: the same numbers to float rounding, with 2.25 (F(2×2, 3×3))
/// or 4 (F(4×4, 3×3), for the forward pass and the input gradient of a layer with enough 4×4
/// tiles, when no parameter gradient is wanted) times fewer multiplications (see
/// Winograd.swift). With parameter gradients on (training), the forward pass, the input
/// gradient and the weight gradient all take F(2×2, 3×3), the weight gradient from the
/// transformed input V that forward keeps.
///
/// A stride-1 convolution with short patches (at most 160 terms per output: the small network's
/// first two layers) skips the columns and sums each output where the numbers lie, forward and
/// backward (`forwardDirectly`, `backwardDirectly` in Conv2dDirect.swift).
///
/// One picture with few output positions and long patches (a ResNet's 7 × 7 stage) writes its
/// columns by rows instead, columnsᵀ [OH·OW, Cin·kH·kW], and Y = Wmat × columns is computed as
/// dot products of rows (`forwardByRowDotProducts`): the same product, W read where it lies.
public final class Conv2d: Layer {
    public let inputChannels: Int
    public let outputChannels: Int
    public let kernelSize: Int
    public let stride: Int
    public let padding: Int
    /// [Cout, Cin, kH, kW]
    public let weight: Parameter
    /// [Cout], or nil when the layer has no bias.
    public let bias: Parameter?

    /// What backward needs from forward.
    struct Cache {
        /// [N, Cin, H, W]: the input (shared with the caller, not copied)
        var input: Tensor
        /// [Cin·kH·kW, N·OH·OW]: the receptive fields, one per column. Kept only when parameter
        /// gradients are on and forward took im2col; ∂L/∂x alone does not need them, and they
        /// are kH·kW times the input.
        var columns: [Float]?
        /// V [16, Cin, T] (T = N·⌈H/2⌉·⌈W/2⌉ tiles, in chunks of images, see
        /// `Winograd.transformedInput`): the F(2×2, 3×3) transform of the input, for the weight
        /// gradient. Kept only when parameter gradients are on and forward took Winograd's path;
        /// about 4 times the input, where im2col's columns are 9 times.
        var transformedInput: [Float]?
        /// [N, Cin, OH + k − 1, 16·⌈OW/16⌉ + k − 1]: the input zero-padded, for the weight
        /// gradient of a layer that computes directly (`Conv2dDirect.swift`). Kept only when
        /// parameter gradients are on and forward took that path.
        var padded: [Float]? = nil
        var outputHeight: Int
        var outputWidth: Int
    }
    var cache: Cache?

    /// Winograd's transformed kernels, U [16, Cout, Cin] for F(2×2, 3×3) and U [36, Cout, Cin]
    /// for F(4×4, 3×3), each with the `weight.version` and arithmetic it was made with (a
    /// product makes it, so another arithmetic rounds it differently).
    private var winogradKernels: [Winograd.Tile: (weightVersion: Int, arithmetic: ArithmeticVariant, values: [Float])] = [:]

    /// Whether `backward` computes ∂L/∂x. Training turns it off for the network's first layer:
    /// nothing below needs the gradient of the pictures (PyTorch leaves it out for an input
    /// without requires_grad), and it costs a product and a col2im the size of the input.
    /// `backward` then returns an empty tensor, shape [0].
    public var computesInputGradient = true

    /// The same convolution with |w| and no bias, and the `weight.version` it was made from:
    /// LRP measures the size of its terms with it on every call (`absoluteCopy`).
    private var absoluteWeights: (weightVersion: Int, layer: Conv2d)?

    /// This convolution with |w| in place of w and no bias, without parameter gradients: kept
    /// while the weights stay, so that its Winograd kernels are transformed once.
    func absoluteCopy() -> Conv2d {
        if let kept = absoluteWeights, kept.weightVersion == weight.version { return kept.layer }
        let copy = Conv2d(inputChannels: inputChannels, outputChannels: outputChannels, kernelSize: kernelSize,
                          stride: stride, padding: padding, bias: false, weight: weight.value.magnitudes)
        copy.name = name
        copy.setParameterGradients(false)
        absoluteWeights = (weight.version, copy)
        return copy
    }

    /// Below this many multiply-adds per output position (Cin·Cout·N·H·W), the transforms cost
    /// more than they save, so the small network of the lessons keeps im2col.
    static let winogradThreshold = 1 << 22

    /// The same with parameter gradients on (training): there Winograd's path also replaces
    /// im2col's weight-gradient product ∂L/∂Y [Cout, 4T] × columnsᵀ [4T, 9·Cin] by 16 products
    /// [Cout, T] × [T, Cin], whose small results (Cout·Cin, 9 times fewer entries) OpenBLAS fills
    /// at a lower rate, and the forward pass writes V out for it (4 values per input value).
    /// Measured on 2 threads (forward and backward of one layer, Winograd's time over im2col's,
    /// the best of 21, two runs on a shared machine): 1.5–1.9 at 2²² (Cin 16 → Cout 32 on
    /// 32 × 16²); 0.5–1.9 at 2²³, worst on 8 × 8 planes (16 → 32 on 256 × 8²: 1.3–1.9);
    /// 0.5–1.2 at 2²⁴ (64 → 128 on 32 × 8²: 1.03–1.08); 0.3–0.96 from 2²⁵ to a ResNet's
    /// stages at 2²⁶·⁶. The small network of the lessons (at most 2²⁰ at a batch of 32) trains
    /// through im2col.
    static let winogradTrainingThreshold = 1 << 24

    /// Below this many 2×2 output tiles (N·⌈H/2⌉·⌈W/2⌉), each of Winograd's 16 products has so few
    /// columns that it is bound by reading U [16, Cout, Cin], 16/9 the size of the kernel, rather
    /// than by arithmetic; im2col reads the kernel once. A ResNet's last stage on one picture
    /// (7 × 7, 16 tiles) is such a case; the same stage on a batch of 16 pictures is not.
    static let winogradMinimumTiles = 32

    /// The same minimum while `smallStagesTakeWinograd` is on: 16 tiles, a ResNet's 7 × 7 stage
    /// on one picture.
    static let winogradMinimumTilesForSmallStages = 16

    /// Whether a large layer with 16 to 31 2×2 tiles (a ResNet's 7 × 7 stage on one picture)
    /// takes F(2×2, 3×3) too when no parameter gradient is wanted, its U [16, Cout, Cin] kept
    /// like every other layer's. Its products have only 16 columns and read all of U (16/9 the
    /// kernel), yet a kept U makes the stage faster than the row dot products of im2col: on a
    /// 2-core AVX-512 machine, the 7 × 7 stage of a ResNet-34 took 4.0–4.1 ms against 5.3–5.8
    /// ms, one whole forward pass 17 ms against 19 (docs/performance.md, 2026-12-06). Making U
    /// costs about as much as one pass saves, and 84 MB for a ResNet-34's five 512 → 512
    /// layers, so a process that runs the network once or twice (`tutor explain`, `tutor
    /// predict`) turns this off; it is on for the many passes of lessons, benchmarks and
    /// evaluations. Not meant to change while a network runs.
    public nonisolated(unsafe) static var smallStagesTakeWinograd = true

    /// Whether this call goes through Winograd's algorithm rather than im2col; for a pass whose
    /// parameter gradients will be computed, by the training threshold.
    private func usesWinograd(batch: Int, height: Int, width: Int, withParameterGradients: Bool) -> Bool {
        ArithmeticVariant.current != .noWinograd
            && Winograd.applies(kernelSize: kernelSize, stride: stride, padding: padding)
            && inputChannels * outputChannels * batch * height * width
                >= (withParameterGradients ? Conv2d.winogradTrainingThreshold : Conv2d.winogradThreshold)
            && batch * ((height + 1) / 2) * ((width + 1) / 2)
                >= (Conv2d.smallStagesTakeWinograd && !withParameterGradients ? Conv2d.winogradMinimumTilesForSmallStages
                                                                                : Conv2d.winogradMinimumTiles)
    }

    /// The forward pass's tile: F(4×4, 3×3) where it has as many 4×4 tiles as F(2×2, 3×3) needs
    /// 2×2 ones to pay off, F(2×2, 3×3) otherwise. (The input gradient follows it: `inputGradientTile`.)
    /// With parameter gradients on, always F(2×2, 3×3): its V is what the weight gradient
    /// needs, and F(4×4, 3×3)'s larger rounding would go into the gradient (and the training).
    ///
    /// A ResNet's 14 × 14 stage on one picture has 16 4×4 tiles and stays with F(2×2, 3×3), though
    /// its F(4×4) products would run faster (one 256 → 256 layer alone, best of 21: 0.50 ms
    /// against 0.72 ms; a whole ResNet-34 pass 28.1–28.5 ms against 29.8 ms): U [36, Cout, Cin]
    /// is 2.25 times the size of F(2×2)'s U, and a command that runs the network once or twice
    /// (`tutor explain … --method gradcam`) spent more on making it (0.20 → 0.25 s, 213 → 269 MB
    /// for the whole process) than its passes saved.
    func forwardTile(batch: Int, height: Int, width: Int, withParameterGradients: Bool) -> Winograd.Tile {
        !withParameterGradients && batch * ((height + 3) / 4) * ((width + 3) / 4) >= Conv2d.winogradMinimumTiles ? .four : .two
    }

    /// The input gradient's tile: F(4×4, 3×3) with the forward pass's U (`Winograd.inputGradientFourByFour`)
    /// where the forward pass of a pass without parameter gradients would take F(4×4, 3×3), the
    /// adjoint of F(2×2, 3×3) otherwise. Training keeps F(2×2, 3×3) throughout, so its gradients
    /// carry the smaller rounding.
    private func inputGradientTile(batch: Int, height: Int, width: Int) -> Winograd.Tile {
        forwardTile(batch: batch, height: height, width: width, withParameterGradients: computesParameterGradients)
    }

    private func transformedKernel(_ tile: Winograd.Tile = .two) -> [Float] {
        if let kernel = winogradKernels[tile], kernel.weightVersion == weight.version, kernel.arithmetic == ArithmeticVariant.current {
            return kernel.values
        }
        let values = Winograd.transformKernel(weight.value.data, outputChannels: outputChannels, inputChannels: inputChannels, tile: tile)
        winogradKernels[tile] = (weight.version, ArithmeticVariant.current, values)
        return values
    }

    /// Where the kept transformed kernels lie, by tile: for tests that two layers share them.
    var transformedKernelStorage: [String: UnsafeRawPointer] {
        var places: [String: UnsafeRawPointer] = [:]
        for (tile, kernel) in winogradKernels {
            kernel.values.withUnsafeBufferPointer { places["\(tile)"] = UnsafeRawPointer($0.baseAddress!) }
        }
        return places
    }

    /// Takes `original`'s transformed kernels, where this layer's weights are the original's
    /// own storage (a copy for another thread, `ImageClassifier.copySharingWeights`): they are then
    /// not made again, nor held twice.
    func adoptTransformedKernels(of original: Conv2d) {
        let sameStorage = weight.value.data.withUnsafeBufferPointer { mine in
            original.weight.value.data.withUnsafeBufferPointer { $0.baseAddress == mine.baseAddress && $0.count == mine.count }
        }
        guard sameStorage else { return }
        for (tile, kernel) in original.winogradKernels where kernel.weightVersion == original.weight.version {
            winogradKernels[tile] = (weight.version, kernel.arithmetic, kernel.values)
        }
    }

    public init(inputChannels: Int, outputChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
                bias: Bool = true, weight: Tensor? = nil, biasValue: Tensor? = nil) {
        self.inputChannels = inputChannels
        self.outputChannels = outputChannels
        self.kernelSize = kernelSize
        self.stride = stride
        self.padding = padding
        self.weight = Parameter(name: "weight", value: weight ?? Tensor(zeros: [outputChannels, inputChannels, kernelSize, kernelSize]))
        self.bias = bias ? Parameter(name: "bias", value: biasValue ?? Tensor(zeros: [outputChannels])) : nil
    }

    public override var typeName: String { "Conv2d" }
    public override var parameters: [Parameter] { bias.map { [weight, $0] } ?? [weight] }
    public override var summary: String {
        "\(inputChannels)→\(outputChannels), kernel \(kernelSize), stride \(stride), padding \(padding)\(bias == nil ? ", no bias" : "")"
    }

    public func outputSize(height: Int, width: Int) -> (height: Int, width: Int) {
        ((height + 2 * padding - kernelSize) / stride + 1, (width + 2 * padding - kernelSize) / stride + 1)
    }

    /// input [N, Cin, H, W] → output [N, Cout, OH, OW]
    public override func forward(_ input: Tensor) -> Tensor {
        precondition(input.rank == 4 && input.shape[1] == inputChannels, "\(name): Conv2d expects [N, \(inputChannels), H, W], got \(input.shape)")
        let (batch, height, width) = (input.shape[0], input.shape[2], input.shape[3])
        let (outputHeight, outputWidth) = outputSize(height: height, width: width)
        // A backward pass with parameter gradients follows only if forward records.
        let withParameterGradients = GradientRecording.isEnabled && computesParameterGradients
        if usesWinograd(batch: batch, height: height, width: width, withParameterGradients: withParameterGradients) {
            let tile = forwardTile(batch: batch, height: height, width: width, withParameterGradients: withParameterGradients)
            let (output, transformedInput) = withParameterGradients
                ? Winograd.forwardKeepingTransformedInput(input, transformedKernel: transformedKernel(), bias: bias?.value.data,
                                                          outputChannels: outputChannels)
                : (Winograd.forward(input, transformedKernel: transformedKernel(tile), bias: bias?.value.data,
                                    outputChannels: outputChannels, tile: tile), nil)
            cache = GradientRecording.isEnabled ? Cache(input: input, columns: nil, transformedInput: transformedInput,
                                                        outputHeight: outputHeight, outputWidth: outputWidth) : nil
            return output
        }
        if Conv2d.takesDirectConvolution(inputChannels: inputChannels, kernelSize: kernelSize, stride: stride, padding: padding,
                                         outputWidth: outputWidth) {
            let (output, padded) = forwardDirectly(input, outputHeight: outputHeight, outputWidth: outputWidth)
            cache = GradientRecording.isEnabled ? Cache(input: input, columns: nil, transformedInput: nil,
                                                        padded: withParameterGradients ? padded : nil,
                                                        outputHeight: outputHeight, outputWidth: outputWidth) : nil
            return output
        }
        if Conv2d.takesPhaseSplit(inputChannels: inputChannels, kernelSize: kernelSize, stride: stride, padding: padding,
                                  outputWidth: outputWidth) {
            cache = GradientRecording.isEnabled ? Cache(input: input, columns: nil, transformedInput: nil,
                                                        outputHeight: outputHeight, outputWidth: outputWidth) : nil
            return forwardByPhases(input, outputHeight: outputHeight, outputWidth: outputWidth)
        }
        let planeSize = outputHeight * outputWidth
        let patchSize = inputChannels * kernelSize * kernelSize
        let columnCount = batch * planeSize
        if batch == 1 && !withParameterGradients && Conv2d.takesRowDotProducts(outputChannels: outputChannels, positions: planeSize, patchSize: patchSize) {
            let output = forwardByRowDotProducts(input, outputHeight: outputHeight, outputWidth: outputWidth)
            cache = GradientRecording.isEnabled ? Cache(input: input, columns: nil, transformedInput: nil,
                                                        outputHeight: outputHeight, outputWidth: outputWidth) : nil
            return output
        }

        let columns = im2col(input, outputHeight: outputHeight, outputWidth: outputWidth)
        // Y [Cout, N·OH·OW] = Wmat × columns, fully written by the product (β = 0). For one image
        // this is already the output's layout [1, Cout, OH·OW]; for a batch it is reordered below.
        var product = [Float](unsafeUninitializedCapacity: outputChannels * columnCount) { _, count in count = outputChannels * columnCount }
        weight.value.data.withUnsafeBufferPointer { w in
            columns.withUnsafeBufferPointer { c in
                product.withUnsafeMutableBufferPointer { y in
                    Gemm.multiply(w.baseAddress!, c.baseAddress!, into: y.baseAddress!,
                                  m: outputChannels, n: columnCount, k: patchSize)
                }
            }
        }
        let biasValues = bias?.value.data
        var output: [Float]
        if batch == 1 {
            // The bias goes into `product` itself, which then becomes the output without a copy.
            if let biasValues {
                product.withUnsafeMutableBufferPointer { out in
                    for o in 0..<outputChannels {
                        for p in (o * planeSize)..<((o + 1) * planeSize) { out[p] += biasValues[o] }
                    }
                }
            }
            output = product
        } else {
            // Reorder [Cout, N, OH·OW] → [N, Cout, OH·OW] and add the bias.
            output = [Float](unsafeUninitializedCapacity: batch * outputChannels * planeSize) { _, count in count = batch * outputChannels * planeSize }
            product.withUnsafeBufferPointer { y in
                output.withUnsafeMutableBufferPointer { out in
                    for o in 0..<outputChannels {
                        let b = biasValues?[o] ?? 0
                        for n in 0..<batch {
                            let from = y.baseAddress! + (o * batch + n) * planeSize
                            let to = out.baseAddress! + (n * outputChannels + o) * planeSize
                            for p in 0..<planeSize { to[p] = from[p] + b }
                        }
                    }
                }
            }
        }
        cache = GradientRecording.isEnabled ? Cache(input: input, columns: computesParameterGradients ? columns : nil, transformedInput: nil,
                                                    outputHeight: outputHeight, outputWidth: outputWidth) : nil
        return Tensor(shape: [batch, outputChannels, outputHeight, outputWidth], data: output)
    }

    /// Whether one picture's forward pass goes through `tutor_multiply_dot_rows`
    /// (include/dot_products.h) rather than OpenBLAS: few output positions (a 7 × 7 plane has 49)
    /// against long patches, where OpenBLAS spends a large part of the product copying W into its
    /// packed layout, once per call, for only 49 columns. It depends on the shape alone.
    static func takesRowDotProducts(outputChannels: Int, positions: Int, patchSize: Int) -> Bool {
        ArithmeticVariant.current != .referenceGemm && positions <= 64 && patchSize >= 1024 && outputChannels >= 64
    }

    /// y[o, i] = Σ_q W[o, q] · columnsᵀ[i, q] + b[o]: the im2col product with the columns written
    /// by rows (one row of Cin·k·k values per output position), so that W and the columns are both
    /// read along q.
    ///
    /// input [1, Cin, H, W] → output [1, Cout, OH, OW]
    private func forwardByRowDotProducts(_ input: Tensor, outputHeight: Int, outputWidth: Int) -> Tensor {
        let (height, width) = (input.shape[2], input.shape[3])
        let positions = outputHeight * outputWidth
        let patchSize = inputChannels * kernelSize * kernelSize
        // columnsᵀ [OH·OW, Cin·k·k]
        let columnsByRows = [Float](unsafeUninitializedCapacity: positions * patchSize) { buffer, count in
            input.data.withUnsafeBufferPointer { x in
                Parallel.forRanges(positions, cost: patchSize) { range in
                    tutor_im2col_rows(x.baseAddress!, buffer.baseAddress!, inputChannels, height, width, kernelSize, stride, padding,
                                      outputHeight, outputWidth, range.lowerBound, range.upperBound)
                }
            }
            count = positions * patchSize
        }
        // y [Cout, OH·OW], every entry written; rows of W in pieces of 32 over the threads.
        var output = [Float](unsafeUninitializedCapacity: outputChannels * positions) { _, count in count = outputChannels * positions }
        weight.value.data.withUnsafeBufferPointer { w in
            columnsByRows.withUnsafeBufferPointer { columnsT in
                output.withUnsafeMutableBufferPointer { y in
                    let (w, columnsT, y) = (SendablePointer(w.baseAddress!), SendablePointer(columnsT.baseAddress!), SendableMutablePointer(y.baseAddress!))
                    let pieces = (outputChannels + 31) / 32
                    Gemm.concurrently(pieces) { piece in
                        tutor_multiply_dot_rows(w.pointer, columnsT.pointer, y.pointer, positions, positions, patchSize,
                                                piece * 32, Swift.min(outputChannels, (piece + 1) * 32))
                    }
                }
            }
        }
        if let biasValues = bias?.value.data {
            for o in 0..<outputChannels {
                for p in (o * positions)..<((o + 1) * positions) { output[p] += biasValues[o] }
            }
        }
        return Tensor(shape: [1, outputChannels, outputHeight, outputWidth], data: output)
    }

    /// ∂L/∂x alone, without a forward pass first: with parameter gradients off, backward reads
    /// only the input's shape and the weights. For a layer that is only ever run backwards (LRP
    /// sends |s| back through |w| to measure its terms).
    ///
    /// input [N, Cin, H, W] (only its shape is read), outputGradient [N, Cout, OH, OW] → [N, Cin, H, W]
    func inputGradient(_ outputGradient: Tensor, forInputOf input: Tensor) -> Tensor {
        precondition(!computesParameterGradients, "\(name): inputGradient(_:forInputOf:) computes no parameter gradient")
        let (outputHeight, outputWidth) = outputSize(height: input.shape[2], width: input.shape[3])
        let kept = cache
        defer { cache = kept }
        cache = Cache(input: input, columns: nil, transformedInput: nil, outputHeight: outputHeight, outputWidth: outputWidth)
        return backward(outputGradient)
    }

    /// outputGradient [N, Cout, OH, OW] → inputGradient [N, Cin, H, W]
    public override func backward(_ outputGradient: Tensor) -> Tensor {
        guard let cache else { preconditionFailure("\(name): backward before forward") }
        let inputShape = cache.input.shape
        let (batch, height, width) = (inputShape[0], inputShape[2], inputShape[3])
        let planeSize = cache.outputHeight * cache.outputWidth
        let patchSize = inputChannels * kernelSize * kernelSize
        let columnCount = batch * planeSize
        precondition(outputGradient.shape == [batch, outputChannels, cache.outputHeight, cache.outputWidth],
                     "\(name): outputGradient shape \(outputGradient.shape)")
        if usesWinograd(batch: batch, height: height, width: width, withParameterGradients: computesParameterGradients) {
            if computesParameterGradients {
                accumulateBiasGradient(outputGradient, batch: batch, planeSize: planeSize)
                // ∂L/∂W += Gᵀ (∂L/∂U) G, from the V forward kept (made again if forward ran
                // without parameter gradients, or took im2col).
                Winograd.weightGradient(outputGradient, transformedInput: cache.transformedInput ?? Winograd.transformedInput(cache.input),
                                        inputChannels: inputChannels, addingInto: &weight.gradient.data)
            }
            guard computesInputGradient else { return Tensor(zeros: [0]) }
            if inputGradientTile(batch: batch, height: height, width: width) == .four {
                return Winograd.inputGradientFourByFour(outputGradient, transformedKernel: transformedKernel(.four), inputChannels: inputChannels)
            }
            return Winograd.inputGradient(outputGradient, transformedKernel: transformedKernel(), inputChannels: inputChannels)
        }
        if Conv2d.takesDirectConvolution(inputChannels: inputChannels, kernelSize: kernelSize, stride: stride, padding: padding,
                                         outputWidth: cache.outputWidth) {
            return backwardDirectly(outputGradient, input: cache.input, padded: cache.padded)
        }

        // ∂L/∂Y reordered to [Cout, N·OH·OW], the layout of the forward product (for one image
        // it already is).
        var productGradient = outputGradient.data
        if batch > 1 {
            productGradient = [Float](unsafeUninitializedCapacity: outputChannels * columnCount) { _, count in count = outputChannels * columnCount }
            outputGradient.data.withUnsafeBufferPointer { dy in
                productGradient.withUnsafeMutableBufferPointer { dProduct in
                    for n in 0..<batch {
                        for o in 0..<outputChannels {
                            let from = dy.baseAddress! + (n * outputChannels + o) * planeSize
                            let to = dProduct.baseAddress! + (o * batch + n) * planeSize
                            to.update(from: from, count: planeSize)
                        }
                    }
                }
            }
        }
        // ∂L/∂b += Σ_{n,i,j} ∂L/∂y
        if let bias, computesParameterGradients {
            productGradient.withUnsafeBufferPointer { dProduct in
                for o in 0..<outputChannels {
                    bias.gradient.data[o] += sumOfValues(dProduct.baseAddress! + o * columnCount, count: columnCount)
                }
            }
        }
        // ∂L/∂Wmat += ∂L/∂Y × columnsᵀ   (β = 1 accumulates)
        if computesParameterGradients {
            // Forward kept the columns if parameter gradients were on then; rebuild them if not.
            let columns = cache.columns ?? im2col(cache.input, outputHeight: cache.outputHeight, outputWidth: cache.outputWidth)
            productGradient.withUnsafeBufferPointer { dProduct in
                columns.withUnsafeBufferPointer { c in
                    weight.gradient.data.withUnsafeMutableBufferPointer { dw in
                        Gemm.multiply(dProduct.baseAddress!, c.baseAddress!, transposeB: true, into: dw.baseAddress!,
                                      m: outputChannels, n: patchSize, k: columnCount, beta: 1)
                    }
                }
            }
        }
        guard computesInputGradient else { return Tensor(zeros: [0]) }
        // ∂L/∂columns = Wmatᵀ × ∂L/∂Y, then col2im.
        var columnsGradient = [Float](unsafeUninitializedCapacity: patchSize * columnCount) { _, count in count = patchSize * columnCount }
        weight.value.data.withUnsafeBufferPointer { w in
            productGradient.withUnsafeBufferPointer { dProduct in
                columnsGradient.withUnsafeMutableBufferPointer { dColumns in
                    Gemm.multiply(w.baseAddress!, transposeA: true, dProduct.baseAddress!, into: dColumns.baseAddress!,
                                  m: patchSize, n: columnCount, k: outputChannels)
                }
            }
        }
        var inputGradient = [Float](repeating: 0, count: batch * inputChannels * height * width)
        columnsGradient.withUnsafeBufferPointer { dColumns in
            inputGradient.withUnsafeMutableBufferPointer { dx in
                col2im(dColumns.baseAddress!, into: dx.baseAddress!, batch: batch, height: height, width: width,
                       outputHeight: cache.outputHeight, outputWidth: cache.outputWidth)
            }
        }
        return Tensor(shape: inputShape, data: inputGradient)
    }

    /// ∂L/∂b += Σ_{n,i,j} ∂L/∂y, the images taken in order (when the layer has a bias).
    ///
    /// outputGradient [N, Cout, OH, OW]
    func accumulateBiasGradient(_ outputGradient: Tensor, batch: Int, planeSize: Int) {
        guard let bias else { return }
        outputGradient.data.withUnsafeBufferPointer { dy in
            for o in 0..<outputChannels {
                var total: Float = 0
                for n in 0..<batch { total += sumOfValues(dy.baseAddress! + (n * outputChannels + o) * planeSize, count: planeSize) }
                bias.gradient.data[o] += total
            }
        }
    }

    /// columns[(c·kH + u)·kW + v, n·OH·OW + i·OW + j] = x[n, c, i·s + u − p, j·s + v − p] (0 outside).
    ///
    /// input [N, Cin, H, W] → columns [Cin·kH·kW, N·OH·OW]. Every entry is written, the zeros of
    /// the padding included, so the buffer needs no clearing first.
    private func im2col(_ input: Tensor, outputHeight: Int, outputWidth: Int) -> [Float] {
        let (batch, height, width) = (input.shape[0], input.shape[2], input.shape[3])
        let planeSize = outputHeight * outputWidth
        let columnCount = batch * planeSize
        let patchSize = inputChannels * kernelSize * kernelSize
        return [Float](unsafeUninitializedCapacity: patchSize * columnCount) { buffer, count in
            input.data.withUnsafeBufferPointer { source in
                im2col(source.baseAddress!, into: buffer.baseAddress!, batch: batch, height: height, width: width,
                       outputHeight: outputHeight, outputWidth: outputWidth)
            }
            count = patchSize * columnCount
        }
    }

    private func im2col(_ x: UnsafePointer<Float>, into columns: UnsafeMutablePointer<Float>,
                        batch: Int, height: Int, width: Int, outputHeight: Int, outputWidth: Int) {
        let columnCount = batch * outputHeight * outputWidth
        // Each input channel has its own rows of the columns and its own planes of x. The copy
        // itself is C (Sources/CKernels/layer_kernels.c), at the vector width in use.
        Parallel.forEach(inputChannels, cost: kernelSize * kernelSize * columnCount) { c in
            LayerKernels.im2col(channel: c, of: x, into: columns, channels: inputChannels, batch: batch,
                                height: height, width: width, kernelSize: kernelSize, stride: stride,
                                padding: padding, outputHeight: outputHeight, outputWidth: outputWidth)
        }
    }

    /// The adjoint of im2col: every column entry is added back to the input position it came
    /// from, for each entry in the order (u, v, n, i) of the columns' rows and columns.
    private func col2im(_ columns: UnsafePointer<Float>, into x: UnsafeMutablePointer<Float>,
                        batch: Int, height: Int, width: Int, outputHeight: Int, outputWidth: Int) {
        let columnCount = batch * outputHeight * outputWidth
        // Each input channel has its own rows of the columns and its own planes of x.
        Parallel.forEach(inputChannels, cost: kernelSize * kernelSize * columnCount) { c in
            LayerKernels.col2im(channel: c, of: columns, into: x, channels: inputChannels, batch: batch,
                                height: height, width: width, kernelSize: kernelSize, stride: stride,
                                padding: padding, outputHeight: outputHeight, outputWidth: outputWidth)
        }
    }
}

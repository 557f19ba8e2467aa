/// A stride-2 convolution with short patches (a ResNet's stem: 3 → 64 channels, 7 × 7, padding 3,
/// 147 terms per output) as a stride-1 one, which `tutor_convolve_direct` computes where the
/// numbers lie (Conv2dDirect.swift). Write each kernel offset as u = 2a + p and v = 2b + q, with
/// the phases p, q ∈ {0, 1} and a, b ∈ 0 ..< k' = ⌈k/2⌉:
///
///     y[n, o, i, j] = Σ_c Σ_u Σ_v  W[o, c, u, v] · xₚ[n, c, 2i + u, 2j + v]
///                   = Σ_(c,p,q) Σ_a Σ_b  W'[o, (c,p,q), a, b] · x'[n, (c,p,q), i + a, j + b]
///
///     x'[n, (c,p,q), r, s]   = xₚ[n, c, 2r + p, 2s + q]         the input's four phases, 4·Cin planes
///     W'[o, (c,p,q), a, b]   = W[o, c, 2a + p, 2b + q]          0 where 2a + p ≥ k or 2b + q ≥ k
///
/// with xₚ the input zero-padded by p on every side. im2col would write Cin·k·k = 147 copies of
/// the picture (7.4 MB for one 224 × 224 picture) for a product of only Cout = 64 rows; the phases
/// are one copy, and each output is one chain of fused multiply-adds over (c, p, q, a, b), 16
/// positions of a row at a time. The zeros of W' add (2k')²/k² − 1 = 15/49 more multiply-adds
/// for a 7 × 7 kernel, each adding an exact 0. The backward pass keeps im2col's (Conv2d.backward),
/// which makes the columns again from the input when parameter gradients want them.
extension Conv2d {
    /// Whether this layer's forward pass goes through the phases: stride 2, a kernel of at least 5
    /// (a smaller one would multiply mostly the zeros of W'), padding at most k − 1, at most 160
    /// terms per output (Cin·k·k) as for `takesDirectConvolution`, and rows of at least 16
    /// positions. Whether parameter gradients follow does not matter: a layer gives the same bits
    /// for the same input in every pass. MiniNet's plain-loop arithmetic (`referenceGemm`) keeps
    /// im2col, the reference this path is checked against.
    static func takesPhaseSplit(inputChannels: Int, kernelSize: Int, stride: Int, padding: Int, outputWidth: Int) -> Bool {
        ArithmeticVariant.current != .referenceGemm && stride == 2 && kernelSize >= 5 && padding < kernelSize
            && inputChannels * kernelSize * kernelSize <= 160 && outputWidth >= 16
    }

    /// input [N, Cin, H, W] → output [N, Cout, OH, OW]
    func forwardByPhases(_ input: Tensor, outputHeight: Int, outputWidth: Int) -> Tensor {
        let (batch, height, width) = (input.shape[0], input.shape[2], input.shape[3])
        let phaseKernel = (kernelSize + 1) / 2
        let phaseChannels = 4 * inputChannels
        let (paddedHeight, paddedWidth) = (outputHeight + phaseKernel - 1,
                                           Conv2d.paddedWidth(outputWidth: outputWidth, kernelSize: phaseKernel))
        let paddedPlane = paddedHeight * paddedWidth
        // x' [N, 4·Cin, OH + k' − 1, paddedWidth]: plane (n, c, p, q) at index (n·Cin + c)·4 + 2p + q.
        var phases = [Float](repeating: 0, count: batch * phaseChannels * paddedPlane)
        input.data.withUnsafeBufferPointer { x in
            phases.withUnsafeMutableBufferPointer { phases in
                Parallel.forEach(batch * phaseChannels, cost: paddedPlane) { plane in
                    let (source, p, q) = (plane / 4, plane % 4 / 2, plane % 2)
                    let from = x.baseAddress! + source * height * width
                    let to = phases.baseAddress! + plane * paddedPlane
                    for r in 0..<paddedHeight {
                        let row = 2 * r + p - padding
                        guard row >= 0 && row < height else { continue }
                        for s in 0..<paddedWidth {
                            let column = 2 * s + q - padding
                            if column >= 0 && column < width { to[r * paddedWidth + s] = from[row * width + column] }
                        }
                    }
                }
            }
        }
        // W' [Cout, 4·Cin, k', k'].
        var phaseWeight = [Float](repeating: 0, count: outputChannels * phaseChannels * phaseKernel * phaseKernel)
        for o in 0..<outputChannels {
            for c in 0..<inputChannels {
                for u in 0..<kernelSize {
                    for v in 0..<kernelSize {
                        let phaseChannel = c * 4 + (u % 2) * 2 + v % 2
                        phaseWeight[((o * phaseChannels + phaseChannel) * phaseKernel + u / 2) * phaseKernel + v / 2] =
                            weight.value.data[((o * inputChannels + c) * kernelSize + u) * kernelSize + v]
                    }
                }
            }
        }
        let output = Conv2d.convolveDirectly(padded: phases, weight: phaseWeight, bias: bias?.value.data, batch: batch,
                                             inputChannels: phaseChannels, outputChannels: outputChannels, kernelSize: phaseKernel,
                                             outputHeight: outputHeight, outputWidth: outputWidth)
        return Tensor(shape: [batch, outputChannels, outputHeight, outputWidth], data: output)
    }
}

import CKernels

/// A stride-1 convolution with short patches (the small network of the lessons: 3 → 8 channels
/// on 32 × 32 pictures, 27 terms per output), computed where the numbers lie.
///
///     y[n, o, i, j] = b[o] + Σ_c Σ_u Σ_v  W[o, c, u, v] · xₚ[n, c, i + u, j + v]
///
/// with xₚ the input zero-padded by p on every side. im2col would first write Cin·k·k copies of
/// every picture (3.5 MB for a batch of 32 such pictures) and hand OpenBLAS a product with only
/// Cout = 8 rows; here each output is one chain of fused multiply-adds over (c, u, v), 16 positions
/// of a row at a time (include/direct_convolution.h). The backward pass is the same sum, differentiated:
///
///     ∂L/∂W[o, c, u, v] += Σ_n Σ_i Σ_j ∂L/∂y[n, o, i, j] · xₚ[n, c, i + u, j + v]
///     ∂L/∂b[o]          += Σ_n Σ_i Σ_j ∂L/∂y[n, o, i, j]
///     ∂L/∂x[n, c, a, b]  = Σ_o Σ_u Σ_v  W[o, c, u, v] · ∂L/∂y[n, o, a + p − u, b + p − v]
///
/// and the last line is again a stride-1 convolution: of ∂L/∂y zero-padded by k − 1 − p, with the
/// kernel turned half a turn and its two channel axes swapped, W̃[c, o, u, v] = W[o, c, k−1−u, k−1−v].
extension Conv2d {
    /// Whether this layer computes directly rather than through im2col: stride 1, padding at most
    /// k − 1, and at most 160 terms per output (Cin·k·k), where a product through the columns is
    /// bound by writing and reading them. Rows of at least 16 positions, so that no vector of 16 is
    /// mostly empty. MiniNet's plain-loop arithmetic (`referenceGemm`) keeps im2col, the reference
    /// this path is checked against.
    static func takesDirectConvolution(inputChannels: Int, kernelSize: Int, stride: Int, padding: Int, outputWidth: Int) -> Bool {
        ArithmeticVariant.current != .referenceGemm && stride == 1 && padding < kernelSize
            && inputChannels * kernelSize * kernelSize <= 160 && outputWidth >= 16
    }

    /// The planes of a tensor zero-padded for `tutor_convolve_direct`: top and left by `offset`, to
    /// paddedHeight rows and paddedWidth = 16·⌈OW/16⌉ + k − 1 columns, zeros everywhere else.
    ///
    /// values [planes, height, width] → [planes, paddedHeight, paddedWidth]
    static func zeroPadded(_ values: [Float], planes: Int, height: Int, width: Int, offset: Int,
                           paddedHeight: Int, paddedWidth: Int) -> [Float] {
        let paddedPlane = paddedHeight * paddedWidth
        var padded = [Float](repeating: 0, count: planes * paddedPlane)
        values.withUnsafeBufferPointer { source in
            padded.withUnsafeMutableBufferPointer { target in
                Parallel.forEach(planes, cost: paddedPlane) { plane in
                    for row in 0..<height {
                        (target.baseAddress! + plane * paddedPlane + (row + offset) * paddedWidth + offset)
                            .update(from: source.baseAddress! + (plane * height + row) * width, count: width)
                    }
                }
            }
        }
        return padded
    }

    /// paddedWidth for rows of `outputWidth` positions read 16 at a time through a kernel of k.
    static func paddedWidth(outputWidth: Int, kernelSize: Int) -> Int {
        (outputWidth + 15) / 16 * 16 + kernelSize - 1
    }

    /// y = W ⋆ xₚ (+ b), by `tutor_convolve_direct`, the pictures and groups of 8 output channels
    /// shared out over the threads.
    ///
    /// padded [N, Cin, OH + k − 1, paddedWidth], weight [Cout, Cin, k, k] → [N, Cout, OH, OW]
    static func convolveDirectly(padded: [Float], weight: [Float], bias: [Float]?, batch: Int, inputChannels: Int,
                                 outputChannels: Int, kernelSize: Int, outputHeight: Int, outputWidth: Int) -> [Float] {
        let (paddedHeight, paddedWidth) = (outputHeight + kernelSize - 1, paddedWidth(outputWidth: outputWidth, kernelSize: kernelSize))
        let count = batch * outputChannels * outputHeight * outputWidth
        let groups = (outputChannels + 7) / 8
        return [Float](unsafeUninitializedCapacity: count) { buffer, written in
            let y = buffer.baseAddress!
            padded.withUnsafeBufferPointer { x in
                weight.withUnsafeBufferPointer { w in
                    func convolve(bias b: UnsafePointer<Float>?) {
                        Parallel.forRanges(batch * groups, cost: 8 * outputHeight * outputWidth * inputChannels * kernelSize * kernelSize) { items in
                            tutor_convolve_direct(x.baseAddress!, w.baseAddress!, b, y, inputChannels, paddedHeight, paddedWidth,
                                                  kernelSize, outputChannels, outputHeight, outputWidth, items.lowerBound, items.upperBound)
                        }
                    }
                    if let bias { bias.withUnsafeBufferPointer { convolve(bias: $0.baseAddress!) } } else { convolve(bias: nil) }
                }
            }
            written = count
        }
    }

    /// xₚ: the input padded by p for `tutor_convolve_direct`.
    ///
    /// input [N, Cin, H, W] → [N, Cin, OH + k − 1, paddedWidth]
    func paddedInput(_ input: Tensor, outputHeight: Int, outputWidth: Int) -> [Float] {
        Conv2d.zeroPadded(input.data, planes: input.shape[0] * inputChannels, height: input.shape[2], width: input.shape[3],
                          offset: padding, paddedHeight: outputHeight + kernelSize - 1,
                          paddedWidth: Conv2d.paddedWidth(outputWidth: outputWidth, kernelSize: kernelSize))
    }

    /// input [N, Cin, H, W] → (output [N, Cout, OH, OW], the padded input [N, Cin, OH + k − 1, paddedWidth])
    func forwardDirectly(_ input: Tensor, outputHeight: Int, outputWidth: Int) -> (output: Tensor, padded: [Float]) {
        let batch = input.shape[0]
        let padded = paddedInput(input, outputHeight: outputHeight, outputWidth: outputWidth)
        let output = Conv2d.convolveDirectly(padded: padded, weight: weight.value.data, bias: bias?.value.data, batch: batch,
                                             inputChannels: inputChannels, outputChannels: outputChannels, kernelSize: kernelSize,
                                             outputHeight: outputHeight, outputWidth: outputWidth)
        return (Tensor(shape: [batch, outputChannels, outputHeight, outputWidth], data: output), padded)
    }

    /// ∂L/∂W += ∂L/∂y ⋆ xₚ (by `tutor_convolve_direct_weight_gradient`, the output channels shared
    /// out over the threads), ∂L/∂b += Σ ∂L/∂y, and ∂L/∂x = W̃ ⋆ (∂L/∂y padded by k − 1 − p) when it is wanted.
    ///
    /// outputGradient [N, Cout, OH, OW], padded [N, Cin, OH + k − 1, paddedWidth] or nil (made
    /// again from `input` [N, Cin, H, W]) → inputGradient [N, Cin, H, W], or [0] when not computed
    func backwardDirectly(_ outputGradient: Tensor, input: Tensor, padded kept: [Float]?) -> Tensor {
        let (batch, height, width) = (input.shape[0], input.shape[2], input.shape[3])
        let (outputHeight, outputWidth) = (outputGradient.shape[2], outputGradient.shape[3])
        let planeSize = outputHeight * outputWidth
        if computesParameterGradients {
            accumulateBiasGradient(outputGradient, batch: batch, planeSize: planeSize)
            let paddedWidth = Conv2d.paddedWidth(outputWidth: outputWidth, kernelSize: kernelSize)
            let padded = kept ?? paddedInput(input, outputHeight: outputHeight, outputWidth: outputWidth)
            padded.withUnsafeBufferPointer { x in
                outputGradient.data.withUnsafeBufferPointer { dy in
                    weight.gradient.data.withUnsafeMutableBufferPointer { dw in
                        Parallel.forRanges(outputChannels, cost: batch * planeSize * inputChannels * kernelSize * kernelSize) { channels in
                            tutor_convolve_direct_weight_gradient(x.baseAddress!, dy.baseAddress!, dw.baseAddress!, batch, inputChannels,
                                                                  outputHeight + kernelSize - 1, paddedWidth, kernelSize, outputChannels,
                                                                  outputHeight, outputWidth, channels.lowerBound, channels.upperBound)
                        }
                    }
                }
            }
        }
        guard computesInputGradient else { return Tensor(zeros: [0]) }
        // W̃[c, o, u, v] = W[o, c, k−1−u, k−1−v]
        let taps = kernelSize * kernelSize
        var turned = [Float](repeating: 0, count: weight.value.count)
        weight.value.data.withUnsafeBufferPointer { w in
            for o in 0..<outputChannels {
                for c in 0..<inputChannels {
                    for tap in 0..<taps { turned[(c * outputChannels + o) * taps + taps - 1 - tap] = w[(o * inputChannels + c) * taps + tap] }
                }
            }
        }
        let paddedGradient = Conv2d.zeroPadded(outputGradient.data, planes: batch * outputChannels, height: outputHeight, width: outputWidth,
                                               offset: kernelSize - 1 - padding, paddedHeight: height + kernelSize - 1,
                                               paddedWidth: Conv2d.paddedWidth(outputWidth: width, kernelSize: kernelSize))
        let inputGradient = Conv2d.convolveDirectly(padded: paddedGradient, weight: turned, bias: nil, batch: batch,
                                                    inputChannels: outputChannels, outputChannels: inputChannels, kernelSize: kernelSize,
                                                    outputHeight: height, outputWidth: width)
        return Tensor(shape: input.shape, data: inputGradient)
    }
}

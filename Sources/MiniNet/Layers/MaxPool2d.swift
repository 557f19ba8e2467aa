/// Max pooling, as torch.nn.MaxPool2d (no dilation, floor mode).
///
///     y[n, c, i, j] = max over u, v < k of x[n, c, i·s − p + u, j·s − p + v]
///
/// Padding p (ResNet's stem uses p = 1) counts as −∞: a padded position never wins. PyTorch
/// allows p ≤ k/2 only, so every window holds at least one real input.
///
/// Only the winner of each window receives gradient:
///
///     ∂L/∂x[winner of (i, j)] += ∂L/∂y[n, c, i, j]
///
/// On ties the first maximum in row-major order wins, as in PyTorch.
public final class MaxPool2d: Layer {
    public let kernelSize: Int
    public let stride: Int
    public let padding: Int

    struct Cache {
        /// [N, C, H, W] of the input
        var inputShape: [Int]
        /// [N, C, OH, OW]: flat input index of each window's winner
        var winners: [Int]
    }
    var cache: Cache?

    public init(kernelSize: Int, stride: Int? = nil, padding: Int = 0) {
        precondition(padding >= 0 && 2 * padding <= kernelSize, "MaxPool2d padding \(padding) must be between 0 and kernel/2")
        self.kernelSize = kernelSize
        self.stride = stride ?? kernelSize
        self.padding = padding
    }

    /// OH = ⌊(H + 2p − k)/s⌋ + 1, and the same for the width.
    public func outputSize(height: Int, width: Int) -> (height: Int, width: Int) {
        ((height + 2 * padding - kernelSize) / stride + 1, (width + 2 * padding - kernelSize) / stride + 1)
    }

    public override var typeName: String { "MaxPool2d" }
    public override var summary: String {
        "kernel \(kernelSize), stride \(stride)" + (padding > 0 ? ", padding \(padding)" : "")
    }

    /// input [N, C, H, W] → output [N, C, OH, OW], OH = ⌊(H + 2p − k)/s⌋ + 1
    public override func forward(_ input: Tensor) -> Tensor {
        precondition(input.rank == 4, "\(name): MaxPool2d expects [N, C, H, W], got \(input.shape)")
        let (batch, channels, height, width) = (input.shape[0], input.shape[1], input.shape[2], input.shape[3])
        let (outputHeight, outputWidth) = outputSize(height: height, width: width)
        let outputCount = batch * channels * outputHeight * outputWidth
        var output = [Float](repeating: 0, count: outputCount)
        // The winners only matter to backward: without recording, none are kept.
        let recording = GradientRecording.isEnabled
        var winners = [Int](repeating: 0, count: recording ? outputCount : 1)
        input.data.withUnsafeBufferPointer { inputBuffer in
            output.withUnsafeMutableBufferPointer { outputBuffer in
                winners.withUnsafeMutableBufferPointer { winnerBuffer in
                    let (x, y, winner) = (inputBuffer.baseAddress!, outputBuffer.baseAddress!, winnerBuffer.baseAddress!)
                    // Each plane (image n, channel c) has its own outputs: the planes share out over the
                    // threads. The windows themselves are C (Sources/CKernels/layer_kernels.c), which
                    // takes the windows of an output row together, at the vector width in use.
                    let (planeSize, outputPlaneSize) = (height * width, outputHeight * outputWidth)
                    Parallel.forEach(batch * channels, cost: outputPlaneSize * kernelSize * kernelSize) { plane in
                        LayerKernels.maxPool(plane: x + plane * planeSize, height: height, width: width,
                                             kernelSize: kernelSize, stride: stride, padding: padding,
                                             outputHeight: outputHeight, outputWidth: outputWidth,
                                             into: y + plane * outputPlaneSize,
                                             winners: recording ? winner + plane * outputPlaneSize : nil,
                                             indexOffset: plane * planeSize)
                    }
                }
            }
        }
        cache = recording ? Cache(inputShape: input.shape, winners: winners) : nil
        return Tensor(shape: [batch, channels, outputHeight, outputWidth], data: output)
    }

    /// outputGradient [N, C, OH, OW] → inputGradient [N, C, H, W]
    public override func backward(_ outputGradient: Tensor) -> Tensor {
        guard let cache else { preconditionFailure("\(name): backward before forward") }
        precondition(outputGradient.count == cache.winners.count, "\(name): outputGradient shape \(outputGradient.shape)")
        var inputGradient = Tensor(zeros: cache.inputShape)
        inputGradient.data.withUnsafeMutableBufferPointer { dx in
            outputGradient.data.withUnsafeBufferPointer { dy in
                for (outputIndex, winner) in cache.winners.enumerated() { dx[winner] += dy[outputIndex] }
            }
        }
        return inputGradient
    }
}

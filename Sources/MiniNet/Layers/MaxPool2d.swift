/// Max pooling, as torch.nn.MaxPool2d (no padding, no dilation, floor mode).
///
///     y[n, c, i, j] = max over u, v < k of x[n, c, i·s + u, j·s + v]
///
/// Only the winner of each window receives gradient:
///
///     ∂L/∂x[winner of (i, j)] += ∂L/∂y[n, c, i, j]
///
/// On ties the first maximum in row-major order wins, as in PyTorch.
public final class MaxPool2d: Layer {
    public let kernelSize: Int
    public let stride: Int

    struct Cache {
        /// [N, C, H, W] of the input
        var inputShape: [Int]
        /// [N, C, OH, OW]: flat input index of each window's winner
        var winners: [Int]
    }
    var cache: Cache?

    public init(kernelSize: Int, stride: Int? = nil) {
        self.kernelSize = kernelSize
        self.stride = stride ?? kernelSize
    }

    public override var typeName: String { "MaxPool2d" }
    public override var summary: String { "kernel \(kernelSize), stride \(stride)" }

    /// input [N, C, H, W] → output [N, C, OH, OW], OH = (H − k)/s + 1
    public override func forward(_ input: Tensor) -> Tensor {
        precondition(input.rank == 4, "\(name): MaxPool2d expects [N, C, H, W], got \(input.shape)")
        let (batch, channels, height, width) = (input.shape[0], input.shape[1], input.shape[2], input.shape[3])
        let outputHeight = (height - kernelSize) / stride + 1
        let outputWidth = (width - kernelSize) / stride + 1
        var output = [Float](repeating: 0, count: batch * channels * outputHeight * outputWidth)
        var winners = [Int](repeating: 0, count: output.count)
        input.data.withUnsafeBufferPointer { x in
            var outputIndex = 0
            for plane in 0..<(batch * channels) {
                let planeStart = plane * height * width
                for i in 0..<outputHeight {
                    for j in 0..<outputWidth {
                        var best = planeStart + (i * stride) * width + j * stride
                        for u in 0..<kernelSize {
                            for v in 0..<kernelSize {
                                let index = planeStart + (i * stride + u) * width + (j * stride + v)
                                if x[index] > x[best] { best = index }
                            }
                        }
                        output[outputIndex] = x[best]
                        winners[outputIndex] = best
                        outputIndex += 1
                    }
                }
            }
        }
        cache = Cache(inputShape: input.shape, winners: winners)
        return Tensor(shape: [batch, channels, outputHeight, outputWidth], data: output)
    }

    /// outputGradient [N, C, OH, OW] → inputGradient [N, C, H, W]
    public override func backward(_ outputGradient: Tensor) -> Tensor {
        guard let cache else { preconditionFailure("\(name): backward before forward") }
        precondition(outputGradient.count == cache.winners.count, "\(name): outputGradient shape \(outputGradient.shape)")
        var inputGradient = Tensor(zeros: cache.inputShape)
        for (outputIndex, winner) in cache.winners.enumerated() {
            inputGradient.data[winner] += outputGradient.data[outputIndex]
        }
        return inputGradient
    }
}

/// Global average pooling, as torch.nn.AdaptiveAvgPool2d(1).
///
///     F[n, k] = (1/Z) Σ_{x,y} f[n, k, y, x]        with Z = H·W
///
/// (The CAM article writes F^k = Σ_{x,y} f_k(x, y), a sum; PyTorch, and this layer, take
/// the mean. The two differ only by the constant Z, which the CAM lesson tracks.)
///
///     ∂L/∂f[n, k, y, x] = ∂L/∂F[n, k] / Z
public final class GlobalAveragePool: Layer {
    struct Cache {
        /// [N, C, H, W] of the input
        var inputShape: [Int]
    }
    var cache: Cache?

    public override init() {}
    public override var typeName: String { "AdaptiveAvgPool2d" }
    public override var summary: String { "output size 1" }

    /// input [N, C, H, W] → output [N, C, 1, 1]
    public override func forward(_ input: Tensor) -> Tensor {
        precondition(input.rank == 4, "\(name): global average pooling expects [N, C, H, W], got \(input.shape)")
        let (batch, channels) = (input.shape[0], input.shape[1])
        let planeSize = input.shape[2] * input.shape[3]
        var output = [Float](repeating: 0, count: batch * channels)
        input.data.withUnsafeBufferPointer { x in
            for plane in 0..<(batch * channels) {
                var total: Float = 0
                for index in (plane * planeSize)..<((plane + 1) * planeSize) { total += x[index] }
                output[plane] = total / Float(planeSize)
            }
        }
        cache = Cache(inputShape: input.shape)
        return Tensor(shape: [batch, channels, 1, 1], data: output)
    }

    /// outputGradient [N, C, 1, 1] → inputGradient [N, C, H, W]
    public override func backward(_ outputGradient: Tensor) -> Tensor {
        guard let cache else { preconditionFailure("\(name): backward before forward") }
        let planeSize = cache.inputShape[2] * cache.inputShape[3]
        precondition(outputGradient.count * planeSize == cache.inputShape.reduce(1, *), "\(name): outputGradient shape \(outputGradient.shape)")
        var inputGradient = [Float](repeating: 0, count: outputGradient.count * planeSize)
        for plane in 0..<outputGradient.count {
            let share = outputGradient.data[plane] / Float(planeSize)
            for index in (plane * planeSize)..<((plane + 1) * planeSize) { inputGradient[index] = share }
        }
        return Tensor(shape: cache.inputShape, data: inputGradient)
    }
}

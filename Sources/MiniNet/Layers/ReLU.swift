/// Rectified linear unit, as torch.nn.ReLU.
///
///     y = max(0, x)          ∂L/∂x = ∂L/∂y · [x > 0]
///
/// At x = 0 the derivative is taken as 0, as PyTorch does.
public final class ReLU: Layer {
    struct Cache {
        /// Same shape as the input: the output, whose positive entries mark where x > 0.
        var output: Tensor
    }
    var cache: Cache?

    public override init() {}
    public override var typeName: String { "ReLU" }

    /// input [any shape] → output [same shape]
    public override func forward(_ input: Tensor) -> Tensor {
        var output = input
        output.data.withUnsafeMutableBufferPointer { y in
            for index in y.indices where !(y[index] > 0) { y[index] = 0 }
        }
        cache = Cache(output: output)
        return output
    }

    /// outputGradient [same shape] → inputGradient [same shape]
    public override func backward(_ outputGradient: Tensor) -> Tensor {
        guard let cache else { preconditionFailure("\(name): backward before forward") }
        precondition(outputGradient.shape == cache.output.shape, "\(name): outputGradient shape \(outputGradient.shape)")
        var inputGradient = outputGradient
        inputGradient.data.withUnsafeMutableBufferPointer { dx in
            cache.output.data.withUnsafeBufferPointer { y in
                for index in dx.indices where y[index] <= 0 { dx[index] = 0 }
            }
        }
        return inputGradient
    }
}

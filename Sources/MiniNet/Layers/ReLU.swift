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
        // A select rather than a branch, so that the loop vectorises; NaN also becomes 0.
        let output = Tensor(shape: input.shape) { y in
            input.data.withUnsafeBufferPointer { x in
                for index in x.indices { y[index] = x[index] > 0 ? x[index] : 0 }
            }
        }
        cache = Cache(output: output)
        return output
    }

    /// outputGradient [same shape] → inputGradient [same shape]
    public override func backward(_ outputGradient: Tensor) -> Tensor {
        guard let cache else { preconditionFailure("\(name): backward before forward") }
        precondition(outputGradient.shape == cache.output.shape, "\(name): outputGradient shape \(outputGradient.shape)")
        return Tensor(shape: outputGradient.shape) { dx in
            outputGradient.data.withUnsafeBufferPointer { dy in
                cache.output.data.withUnsafeBufferPointer { y in
                    for index in dx.indices {
                        // Load before the select: a load inside the condition would stop vectorisation.
                        let gradient = dy[index]
                        dx[index] = y[index] > 0 ? gradient : 0
                    }
                }
            }
        }
    }
}

/// Keeps the first (batch) axis and flattens the rest, as torch.nn.Flatten.
///
///     [N, d₁, d₂, …] → [N, d₁·d₂·…]        backward reshapes the gradient back.
public final class Flatten: Layer {
    struct Cache {
        /// [N, …] of the input
        var inputShape: [Int]
    }
    var cache: Cache?

    public override init() {}
    public override var typeName: String { "Flatten" }

    public override func forward(_ input: Tensor) -> Tensor {
        precondition(input.rank >= 1, "\(name): Flatten needs a batch axis")
        cache = Cache(inputShape: input.shape)
        return input.reshaped([input.shape[0], input.count / Swift.max(input.shape[0], 1)])
    }

    public override func backward(_ outputGradient: Tensor) -> Tensor {
        guard let cache else { preconditionFailure("\(name): backward before forward") }
        return outputGradient.reshaped(cache.inputShape)
    }
}

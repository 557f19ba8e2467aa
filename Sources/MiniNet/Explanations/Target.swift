/// The number an explanation explains, y^c, computed from the logits z [L] of one image,
/// together with its gradient ∂y^c/∂z for backpropagation.
public enum ExplanationTarget: Equatable, Sendable {
    /// y^c = z_c, the class score before softmax (what the articles and pytorch-grad-cam use).
    case logit(Int)
    /// y^c = P_c = softmax(z)_c, which saturates near 1 for a confident prediction.
    case probability(Int)

    public var classIndex: Int {
        switch self {
        case let .logit(index), let .probability(index): return index
        }
    }

    /// y^c and ∂y^c/∂z for logits [L]:
    ///
    ///     logit:        y = z_c                 ∂y/∂z_j = [j = c]
    ///     probability:  y = P_c                 ∂y/∂z_j = P_c·([j = c] − P_j)
    public func valueAndGradient(logits: [Float]) -> (value: Float, gradient: [Float]) {
        var gradient = [Float](repeating: 0, count: logits.count)
        switch self {
        case let .logit(c):
            gradient[c] = 1
            return (logits[c], gradient)
        case let .probability(c):
            let probabilities = softmax(Tensor(shape: [1, logits.count], data: logits)).data
            for j in logits.indices { gradient[j] = probabilities[c] * ((j == c ? 1 : 0) - probabilities[j]) }
            return (probabilities[c], gradient)
        }
    }

    /// y^c for each row of a batch of logits [N, L].
    public func values(batchLogits: Tensor) -> [Float] {
        let classes = batchLogits.shape[1]
        return (0..<batchLogits.shape[0]).map { n in
            valueAndGradient(logits: Array(batchLogits.data[(n * classes)..<((n + 1) * classes)])).value
        }
    }
}

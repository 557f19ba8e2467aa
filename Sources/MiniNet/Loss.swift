import Foundation

/// Softmax over the last axis of logits [N, L]:
///
///     P[n, c] = exp(z[n, c] − m) / Σ_j exp(z[n, j] − m),    m = max_j z[n, j]
///
/// (subtracting m changes nothing mathematically and keeps exp from overflowing).
public func softmax(_ logits: Tensor) -> Tensor {
    precondition(logits.rank == 2, "softmax expects [N, L], got \(logits.shape)")
    let (batch, classes) = (logits.shape[0], logits.shape[1])
    var probabilities = logits
    for n in 0..<batch {
        let row = (n * classes)..<((n + 1) * classes)
        let largest = logits.data[row].max() ?? 0
        var total: Double = 0
        for index in row { total += exp(Double(logits.data[index] - largest)) }
        for index in row { probabilities.data[index] = Float(exp(Double(logits.data[index] - largest)) / total) }
    }
    return probabilities
}

/// Mean cross-entropy of logits [N, L] against class labels, and its gradient:
///
///     loss = −(1/N) Σ_n log P[n, label_n]
///     ∂loss/∂z[n, c] = (P[n, c] − [c = label_n]) / N
public func crossEntropy(logits: Tensor, labels: [Int]) -> (loss: Float, logitsGradient: Tensor) {
    precondition(logits.rank == 2 && logits.shape[0] == labels.count, "crossEntropy: logits \(logits.shape) for \(labels.count) labels")
    let (batch, classes) = (logits.shape[0], logits.shape[1])
    let probabilities = softmax(logits)
    var loss = 0.0
    var gradient = probabilities
    for n in 0..<batch {
        let label = labels[n]
        precondition(label >= 0 && label < classes, "crossEntropy: label \(label) outside 0..<\(classes)")
        loss -= log(max(Double(probabilities.data[n * classes + label]), 1e-30))
        gradient.data[n * classes + label] -= 1
    }
    for index in gradient.data.indices { gradient.data[index] /= Float(batch) }
    return (Float(loss / Double(batch)), gradient)
}

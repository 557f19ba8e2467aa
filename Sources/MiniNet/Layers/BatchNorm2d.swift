import Foundation

/// Batch normalisation over channels, as torch.nn.BatchNorm2d (affine, running statistics).
///
/// With M = N·H·W values per channel c:
///
///     training:  μ = (1/M) Σ x,   σ² = (1/M) Σ (x − μ)²        (batch statistics)
///                running_mean ← (1 − m)·running_mean + m·μ
///                running_var  ← (1 − m)·running_var  + m·σ²·M/(M − 1)   (unbiased)
///     eval:      μ = running_mean,   σ² = running_var
///
///     x̂ = (x − μ) / √(σ² + ε)        y = γ·x̂ + β
///
/// Backward, with g = ∂L/∂y:
///
///     ∂L/∂γ += Σ g·x̂        ∂L/∂β += Σ g
///     eval:      ∂L/∂x = g·γ/√(σ² + ε)
///     training:  ∂L/∂x = γ/(M·√(σ² + ε)) · (M·g − Σ g − x̂·Σ g·x̂)
///                (μ and σ² depend on every x of the channel, which adds the two sums)
public final class BatchNorm2d: Layer {
    public let channels: Int
    public let epsilon: Float
    public let momentum: Float
    /// γ [C]
    public let weight: Parameter
    /// β [C]
    public let bias: Parameter
    /// [C]
    public var runningMean: Tensor
    /// [C]
    public var runningVariance: Tensor
    public var batchesTracked: Int = 0

    struct Cache {
        /// [N, C, H, W]: the normalised input x̂
        var normalized: Tensor
        /// [C]: 1/√(σ² + ε) with the σ² that was used
        var inverseStandardDeviation: [Float]
        var usedBatchStatistics: Bool
    }
    var cache: Cache?

    public init(channels: Int, epsilon: Float = 1e-5, momentum: Float = 0.1) {
        self.channels = channels
        self.epsilon = epsilon
        self.momentum = momentum
        self.weight = Parameter(name: "weight", value: Tensor(repeating: 1, shape: [channels]))
        self.bias = Parameter(name: "bias", value: Tensor(zeros: [channels]))
        self.runningMean = Tensor(zeros: [channels])
        self.runningVariance = Tensor(repeating: 1, shape: [channels])
    }

    public override var typeName: String { "BatchNorm2d" }
    public override var parameters: [Parameter] { [weight, bias] }
    public override var summary: String { "\(channels) channels, ε \(epsilon), momentum \(momentum)" }
    public override var buffers: [(name: String, value: Tensor)] {
        [("running_mean", runningMean), ("running_var", runningVariance),
         ("num_batches_tracked", Tensor(scalar: Float(batchesTracked)))]
    }

    public override func setBuffer(_ name: String, _ value: Tensor) throws {
        switch name {
        case "running_mean", "running_var":
            guard value.shape == [channels] else {
                throw MiniNetError.invalidModel("\(self.name).\(name) has shape \(value.shape), expected [\(channels)]")
            }
            if name == "running_mean" { runningMean = value } else { runningVariance = value }
        case "num_batches_tracked":
            batchesTracked = Int(value.data.first ?? 0)
        default:
            throw MiniNetError.invalidModel("\(self.name) has no buffer named \(name)")
        }
    }

    /// input [N, C, H, W] → output [N, C, H, W]
    public override func forward(_ input: Tensor) -> Tensor {
        precondition(input.rank == 4 && input.shape[1] == channels, "\(name): BatchNorm2d expects [N, \(channels), H, W], got \(input.shape)")
        let (batch, planeSize) = (input.shape[0], input.shape[2] * input.shape[3])
        let valuesPerChannel = batch * planeSize
        var mean = runningMean.data
        var variance = runningVariance.data
        if isTraining {
            for c in 0..<channels {
                var total = 0.0
                var totalSquares = 0.0
                for n in 0..<batch {
                    let start = (n * channels + c) * planeSize
                    for index in start..<(start + planeSize) {
                        total += Double(input.data[index])
                    }
                }
                let batchMean = total / Double(valuesPerChannel)
                for n in 0..<batch {
                    let start = (n * channels + c) * planeSize
                    for index in start..<(start + planeSize) {
                        let deviation = Double(input.data[index]) - batchMean
                        totalSquares += deviation * deviation
                    }
                }
                let batchVariance = totalSquares / Double(valuesPerChannel)
                mean[c] = Float(batchMean)
                variance[c] = Float(batchVariance)
                let unbiased = valuesPerChannel > 1 ? batchVariance * Double(valuesPerChannel) / Double(valuesPerChannel - 1) : batchVariance
                runningMean.data[c] = (1 - momentum) * runningMean.data[c] + momentum * Float(batchMean)
                runningVariance.data[c] = (1 - momentum) * runningVariance.data[c] + momentum * Float(unbiased)
            }
            batchesTracked += 1
        }
        let inverseStandardDeviation = variance.map { 1 / ($0 + epsilon).squareRoot() }
        var normalized = input
        var output = input
        input.data.withUnsafeBufferPointer { x in
            normalized.data.withUnsafeMutableBufferPointer { xHat in
                output.data.withUnsafeMutableBufferPointer { y in
                    for n in 0..<batch {
                        for c in 0..<channels {
                            let start = (n * channels + c) * planeSize
                            let (mu, inverse) = (mean[c], inverseStandardDeviation[c])
                            let (gamma, beta) = (weight.value.data[c], bias.value.data[c])
                            for index in start..<(start + planeSize) {
                                let normalizedValue = (x[index] - mu) * inverse
                                xHat[index] = normalizedValue
                                y[index] = gamma * normalizedValue + beta
                            }
                        }
                    }
                }
            }
        }
        cache = Cache(normalized: normalized, inverseStandardDeviation: inverseStandardDeviation, usedBatchStatistics: isTraining)
        return output
    }

    /// outputGradient [N, C, H, W] → inputGradient [N, C, H, W]
    public override func backward(_ outputGradient: Tensor) -> Tensor {
        guard let cache else { preconditionFailure("\(name): backward before forward") }
        precondition(outputGradient.shape == cache.normalized.shape, "\(name): outputGradient shape \(outputGradient.shape)")
        let (batch, planeSize) = (outputGradient.shape[0], outputGradient.shape[2] * outputGradient.shape[3])
        let valuesPerChannel = Float(batch * planeSize)
        var inputGradient = outputGradient
        outputGradient.data.withUnsafeBufferPointer { g in
            cache.normalized.data.withUnsafeBufferPointer { xHat in
                inputGradient.data.withUnsafeMutableBufferPointer { dx in
                    for c in 0..<channels {
                        // Σ g and Σ g·x̂ over the channel
                        var sumGradient: Float = 0
                        var sumGradientTimesNormalized: Float = 0
                        for n in 0..<batch {
                            let start = (n * channels + c) * planeSize
                            for index in start..<(start + planeSize) {
                                sumGradient += g[index]
                                sumGradientTimesNormalized += g[index] * xHat[index]
                            }
                        }
                        if computesParameterGradients {
                            weight.gradient.data[c] += sumGradientTimesNormalized
                            bias.gradient.data[c] += sumGradient
                        }
                        let gamma = weight.value.data[c]
                        let inverse = cache.inverseStandardDeviation[c]
                        for n in 0..<batch {
                            let start = (n * channels + c) * planeSize
                            if cache.usedBatchStatistics {
                                let scale = gamma * inverse / valuesPerChannel
                                for index in start..<(start + planeSize) {
                                    dx[index] = scale * (valuesPerChannel * g[index] - sumGradient - xHat[index] * sumGradientTimesNormalized)
                                }
                            } else {
                                let scale = gamma * inverse
                                for index in start..<(start + planeSize) { dx[index] = g[index] * scale }
                            }
                        }
                    }
                }
            }
        }
        return inputGradient
    }
}

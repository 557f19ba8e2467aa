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
        /// [N, C, H, W]: the input x (shared with the caller, not copied); backward recomputes
        /// x̂ = (x − μ)·(1/√(σ² + ε)) from it rather than forward storing a second tensor.
        var input: Tensor
        /// [C]: the μ that was used
        var mean: [Float]
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
            // A counter of batches: a whole number, stored as int64 in PyTorch and as a float here.
            guard value.data.count == 1, let count = value.data.first, count >= 0, count < 1e15,
                  let whole = Int(exactly: count) else {
                let shown = value.data.count == 1 ? "\(value.data[0])" : "\(value.data.count) values"
                throw MiniNetError.invalidModel("\(self.name).num_batches_tracked is \(shown), expected one whole number of batches ≥ 0")
            }
            batchesTracked = whole
        default:
            throw MiniNetError.invalidModel("\(self.name) has no buffer named \(name)")
        }
    }

    /// input [N, C, H, W] → output [N, C, H, W]
    ///
    /// Once μ and σ² are known, y = γ·(x − μ)/√(σ² + ε) + β is one scale and shift per channel:
    ///
    ///     y = scale·x + shift,   scale = γ/√(σ² + ε),   shift = β − μ·scale
    public override func forward(_ input: Tensor) -> Tensor {
        precondition(input.rank == 4 && input.shape[1] == channels, "\(name): BatchNorm2d expects [N, \(channels), H, W], got \(input.shape)")
        let (batch, planeSize) = (input.shape[0], input.shape[2] * input.shape[3])
        let valuesPerChannel = batch * planeSize
        var mean = runningMean.data
        var variance = runningVariance.data
        if isTraining {
            input.data.withUnsafeBufferPointer { x in
                for c in 0..<channels {
                    // Float sums within a plane (vectorised), Double across the planes.
                    var total = 0.0
                    for n in 0..<batch { total += Double(sumOfValues(x.baseAddress! + (n * channels + c) * planeSize, count: planeSize)) }
                    let batchMean = total / Double(valuesPerChannel)
                    var totalSquares = 0.0
                    for n in 0..<batch {
                        totalSquares += Double(Self.sumOfSquaredDeviations(x.baseAddress! + (n * channels + c) * planeSize,
                                                                           count: planeSize, from: Float(batchMean)))
                    }
                    let batchVariance = totalSquares / Double(valuesPerChannel)
                    mean[c] = Float(batchMean)
                    variance[c] = Float(batchVariance)
                    let unbiased = valuesPerChannel > 1 ? batchVariance * Double(valuesPerChannel) / Double(valuesPerChannel - 1) : batchVariance
                    runningMean.data[c] = (1 - momentum) * runningMean.data[c] + momentum * Float(batchMean)
                    runningVariance.data[c] = (1 - momentum) * runningVariance.data[c] + momentum * Float(unbiased)
                }
            }
            batchesTracked += 1
        }
        let (scales, shifts, inverseStandardDeviation) = scalesAndShifts(mean: mean, variance: variance)
        let output = Tensor(shape: input.shape) { y in
            input.data.withUnsafeBufferPointer { x in
                Parallel.forEach(batch * channels, cost: planeSize) { plane in      // plane = n·C + c
                    let (scale, shift) = (scales[plane % channels], shifts[plane % channels])
                    let start = plane * planeSize
                    LayerKernels.scaleShift(x.baseAddress! + start, y.baseAddress! + start, count: planeSize, scale: scale, shift: shift)
                }
            }
        }
        cache = GradientRecording.isEnabled
            ? Cache(input: input, mean: mean, inverseStandardDeviation: inverseStandardDeviation, usedBatchStatistics: isTraining) : nil
        return output
    }

    /// scale = γ/√(σ² + ε) and shift = β − μ·scale per channel [C], and 1/√(σ² + ε) [C], for
    /// the μ and σ² given: the one place they are computed, so that a pass that applies them
    /// elsewhere (InferenceFusion.swift) rounds them the same way.
    func scalesAndShifts(mean: [Float], variance: [Float]) -> (scales: [Float], shifts: [Float], inverseStandardDeviation: [Float]) {
        let inverseStandardDeviation = variance.map { 1 / ($0 + epsilon).squareRoot() }
        let scales = (0..<channels).map { weight.value.data[$0] * inverseStandardDeviation[$0] }
        let shifts = (0..<channels).map { bias.value.data[$0] - mean[$0] * scales[$0] }
        return (scales, shifts, inverseStandardDeviation)
    }

    /// outputGradient [N, C, H, W] → inputGradient [N, C, H, W]
    ///
    /// With x̂ = (x − μ)·r, r = 1/√(σ² + ε), the training formula is again one scale and shift
    /// per channel, now of g and x:
    ///
    ///     ∂L/∂x = γr/M · (M·g − Σg − (x − μ)·r·Σg·x̂) = a·g − b·x + d,
    ///     a = γr,   b = γr²·Σg·x̂ / M,   d = b·μ − γr·Σg / M
    public override func backward(_ outputGradient: Tensor) -> Tensor {
        guard let cache else { preconditionFailure("\(name): backward before forward") }
        precondition(outputGradient.shape == cache.input.shape, "\(name): outputGradient shape \(outputGradient.shape)")
        let (batch, planeSize) = (outputGradient.shape[0], outputGradient.shape[2] * outputGradient.shape[3])
        let valuesPerChannel = Float(batch * planeSize)
        let needsSums = cache.usedBatchStatistics || computesParameterGradients
        let weights = weight.value.data
        // Per channel Σ g and Σ g·x̂, kept for the parameter gradients, which are added after the
        // channels (shared out over the threads) are done.
        var channelSums = [Float](repeating: 0, count: 2 * channels)
        let inputGradient = Tensor(shape: outputGradient.shape) { dx in
            outputGradient.data.withUnsafeBufferPointer { g in
                cache.input.data.withUnsafeBufferPointer { x in
                  channelSums.withUnsafeMutableBufferPointer { sums in
                    Parallel.forEach(channels, cost: batch * planeSize) { c in
                        let (mu, inverse) = (cache.mean[c], cache.inverseStandardDeviation[c])
                        // Σ g and Σ g·x̂ over the channel, with Σ g·x̂ = r · Σ g·(x − μ)
                        var sumGradient: Float = 0
                        var sumGradientTimesNormalized: Float = 0
                        if needsSums {
                            for n in 0..<batch {
                                let start = (n * channels + c) * planeSize
                                sumGradient += sumOfValues(g.baseAddress! + start, count: planeSize)
                                sumGradientTimesNormalized += inverse * Self.sumOfProducts(
                                    g.baseAddress! + start, deviationsOf: x.baseAddress! + start, from: mu, count: planeSize)
                            }
                        }
                        (sums[c], sums[channels + c]) = (sumGradientTimesNormalized, sumGradient)
                        let a = weights[c] * inverse
                        // eval: ∂L/∂x = g·γr (μ and σ² are constants)
                        let b = cache.usedBatchStatistics ? a * inverse * sumGradientTimesNormalized / valuesPerChannel : 0
                        let d = cache.usedBatchStatistics ? b * mu - a * sumGradient / valuesPerChannel : 0
                        for n in 0..<batch {
                            let start = (n * channels + c) * planeSize
                            LayerKernels.batchNormInputGradient(g.baseAddress! + start, x.baseAddress! + start, dx.baseAddress! + start,
                                                                count: planeSize, a: a, b: b, d: d)
                        }
                    }
                  }
                }
            }
        }
        if computesParameterGradients {
            for c in 0..<channels {
                weight.gradient.data[c] += channelSums[c]
                bias.gradient.data[c] += channelSums[channels + c]
            }
        }
        return inputGradient
    }

    // Reductions over one plane in eight lanes at once, as `sumOfValues` (Tensor.swift) explains.

    /// Σ (values[i] − mean)²
    static func sumOfSquaredDeviations(_ values: UnsafePointer<Float>, count: Int, from mean: Float) -> Float {
        var lanes = SIMD8<Float>()
        var index = 0
        while index + 8 <= count {
            let deviation = UnsafeRawPointer(values + index).loadUnaligned(as: SIMD8<Float>.self) - mean
            lanes += deviation * deviation
            index += 8
        }
        var total = lanes.sum()
        while index < count { total += (values[index] - mean) * (values[index] - mean); index += 1 }
        return total
    }

    /// Σ g[i]·(x[i] − mean)
    static func sumOfProducts(_ g: UnsafePointer<Float>, deviationsOf x: UnsafePointer<Float>, from mean: Float, count: Int) -> Float {
        var lanes = SIMD8<Float>()
        var index = 0
        while index + 8 <= count {
            let gradient = UnsafeRawPointer(g + index).loadUnaligned(as: SIMD8<Float>.self)
            let deviation = UnsafeRawPointer(x + index).loadUnaligned(as: SIMD8<Float>.self) - mean
            lanes += gradient * deviation
            index += 8
        }
        var total = lanes.sum()
        while index < count { total += g[index] * (x[index] - mean); index += 1 }
        return total
    }
}

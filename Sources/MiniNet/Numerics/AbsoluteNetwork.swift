/// The size of what a network adds up, for the tolerance of a check that compares two float32
/// forward passes of it (`Tolerance.forwardPasses`).
///
/// A layer computes z = W a + b in float32 with an error of at most γₙ (|W| |a| + |b|), n its
/// fan-in. The error δ that earlier layers left in a passes on as W δ, at most |W| |δ| (ReLU and
/// max-pooling are 1-Lipschitz). Unrolled over the layers, to first order,
///
///     |δ_out| ≤ Σ_layers γₙ · |W_L| ⋯ |W_l+1| (|W_l| |a_l−1| + |b_l|) ≤ depth · γₙ · |f|(|x|),
///
/// where |f| is the same network with every weight, bias, BatchNorm scale and shift replaced by
/// its absolute value, run on |x|: its output bounds every |W_L| ⋯ (|W_l| |a| + |b|) above, and
/// it costs one more forward pass. BatchNorm y ↦ s·y + t (s = γ/√(σ² + eps), t = β − μ·s)
/// becomes y ↦ |s|·y + |t|, which also bounds the network with BatchNorm merged into the
/// convolutions, whose bias |(b − μ)·s + β| ≤ |s|·|b| + |t|.
public struct ForwardMagnitude {
    /// The output of |f| on |x|: for each output, the Σ|terms| its error is measured against.
    public var magnitudes: Tensor
    /// The most sums (Conv2d, Linear, average pooling) on one path from the input to the output.
    public var depth: Int
    /// The most terms in one of those sums: fan-in + 1 (the bias, or the rounding of the products).
    public var count: Int

    /// Runs |f| on |x|. Layers it does not know (e.g. a softmax) throw.
    /// - Parameter input: x, [N, …]
    public init(of network: Layer, input: Tensor) throws {
        (magnitudes, depth, count) = try Self.run(network, on: input.map(Swift.abs))
    }

    /// (|f|(a), depth, count) for a ≥ 0. Fresh layers are made for |W|, and for pooling too,
    /// so that the network's own layers keep the caches of their last real pass.
    static func run(_ layer: Layer, on input: Tensor) throws -> (Tensor, Int, Int) {
        switch layer {
        case let sequential as Sequential:
            return try chain(sequential.layers.map(\.layer), on: input)
        case let residual as Residual:
            // s = body(x) + shortcut(x): one more rounding of 2 terms, u·(|u| + |v|), far below γₙ.
            let (body, bodyDepth, bodyCount) = try chain(residual.body.map(\.layer), on: input)
            let (shortcut, shortcutDepth, shortcutCount) = try residual.shortcut.map { try run($0.layer, on: input) }
                ?? (input, 0, 0)
            return (body + shortcut, Swift.max(bodyDepth, shortcutDepth), Swift.max(bodyCount, shortcutCount))
        case let conv as Conv2d:
            let absolute = Conv2d(inputChannels: conv.inputChannels, outputChannels: conv.outputChannels,
                                  kernelSize: conv.kernelSize, stride: conv.stride, padding: conv.padding,
                                  bias: conv.bias != nil, weight: conv.weight.value.map(Swift.abs),
                                  biasValue: conv.bias?.value.map(Swift.abs))
            absolute.setParameterGradients(false)
            return (absolute.forward(input), 1, conv.inputChannels * conv.kernelSize * conv.kernelSize + 1)
        case let linear as Linear:
            let absolute = Linear(inputFeatures: linear.inputFeatures, outputFeatures: linear.outputFeatures,
                                  bias: linear.bias != nil)
            absolute.weight.value = linear.weight.value.map(Swift.abs)
            if let bias = linear.bias { absolute.bias?.value = bias.value.map(Swift.abs) }
            absolute.setParameterGradients(false)
            return (absolute.forward(input), 1, linear.inputFeatures + 1)
        case let batchNorm as BatchNorm2d:
            return (absoluteBatchNorm(batchNorm, on: input), 0, 0)
        case is GlobalAveragePool:
            let planeSize = input.count / Swift.max(input.shape[0] * input.shape[1], 1)   // h·w terms
            return (GlobalAveragePool().forward(input), 1, planeSize + 1)
        case let pool as MaxPool2d:
            return (MaxPool2d(kernelSize: pool.kernelSize, stride: pool.stride, padding: pool.padding).forward(input), 0, 0)
        case is ReLU:
            return (input, 0, 0)                    // the identity on a ≥ 0
        case is Flatten:
            return (Flatten().forward(input), 0, 0)
        default:
            throw MiniNetError.invalidArgument("\(layer.name): no error model for a \(layer.typeName) layer")
        }
    }

    static func chain(_ layers: [Layer], on input: Tensor) throws -> (Tensor, Int, Int) {
        var (activation, depth, count) = (input, 0, 0)
        for layer in layers {
            let (output, layerDepth, layerCount) = try run(layer, on: activation)
            (activation, depth, count) = (output, depth + layerDepth, Swift.max(count, layerCount))
        }
        return (activation, depth, count)
    }

    /// y ↦ |s|·y + |t| per channel, with s = γ/√(σ² + eps) and t = β − μ·s.
    static func absoluteBatchNorm(_ batchNorm: BatchNorm2d, on input: Tensor) -> Tensor {
        var output = input                                          // [N, C, H, W]
        let channels = batchNorm.channels
        let planeSize = input.count / Swift.max(input.shape[0] * channels, 1)
        for plane in 0..<(input.count / Swift.max(planeSize, 1)) {
            let c = plane % channels
            let scale = batchNorm.weight.value.data[c] / (batchNorm.runningVariance.data[c] + batchNorm.epsilon).squareRoot()
            let shift = batchNorm.bias.value.data[c] - batchNorm.runningMean.data[c] * scale
            for index in (plane * planeSize)..<((plane + 1) * planeSize) {
                output.data[index] = Swift.abs(scale) * input.data[index] + Swift.abs(shift)
            }
        }
        return output
    }
}

extension Tolerance {
    /// The rounding of one float32 forward pass through a network, for each of its outputs:
    /// safety · depth · γₙ · |f|(|x|) (see `ForwardMagnitude`), with n the largest fan-in.
    /// Two passes that take different arithmetic (e.g. BatchNorm merged or not) add two of these.
    /// - Parameter largestTerm: the largest single term of an output's last sum (e.g. max |W_cj a_j|).
    public static func forwardPass(_ magnitude: ForwardMagnitude, largestTerm: Double? = nil,
                                   safety: Double = 4) -> Tolerance {
        let largest = magnitude.magnitudes.data.reduce(0) { Swift.max($0, Double($1)) }
        return .sum(count: magnitude.count, magnitude: largest, largestTerm: largestTerm,
                    depth: magnitude.depth, safety: safety)
    }
}

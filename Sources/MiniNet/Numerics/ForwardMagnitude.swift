/// The size of what a network adds up, for the tolerance of a check that compares two float32
/// forward passes of it (`Tolerance.forwardPass`).
///
/// A layer computes z = W a + b in float32 with an error of at most γₙ (|W| |a| + |b|), n its
/// fan-in. The model of `Tolerance` lets the errors of the layers add up to first order,
///
///     |δ_out| ≤ depth · γₙ · M,    M = |W_L| |a_L−1| + |b_L|, the Σ|terms| of the output's last sum,
///
/// since ReLU and max-pooling are 1-Lipschitz and BatchNorm keeps activations at the scale of
/// their layer. (The rigorous first-order bound, the network run with |W|, |b| and |BatchNorm|
/// on |x|, multiplies the scales |γ/σ| of every BatchNorm on the way: on the narrow test
/// ResNet-18 it came to 10¹⁴ times the logits, no use as a tolerance.)
///
/// One pass through the network: every value carries the Σ|terms| of the last sum that made
/// it; BatchNorm y ↦ s·y + t scales it to |s|·M + |t|, a residual addition adds the two branches'.
public struct ForwardMagnitude {
    /// For each output, the Σ|terms| of the last sum that made it.
    public var magnitudes: Tensor
    /// The most sums (Conv2d, Linear, average pooling) on one path from the input to the output.
    public var depth: Int
    /// The most terms in one of those sums: fan-in + 1 (the bias, or the rounding of the products).
    public var count: Int

    /// Runs the network once more on `input` ([N, …]), with fresh pooling layers and copies of
    /// the summing layers, so that the network's own layers keep the caches of their last pass.
    /// Layers it does not know (e.g. a softmax) throw.
    public init(of network: Layer, input: Tensor) throws {
        let pass = try Self.run(network, on: Pass(value: input, magnitude: input.map(Swift.abs), depth: 0, count: 0))
        (magnitudes, depth, count) = (pass.magnitude, pass.depth, pass.count)
    }

    /// A value on its way through the network, with the Σ|terms| of the sum that made it.
    struct Pass {
        var value: Tensor
        var magnitude: Tensor
        var depth: Int
        var count: Int

        /// After a sum of `count` terms: the new value and its Σ|terms|.
        func summed(_ value: Tensor, _ magnitude: Tensor, count terms: Int) -> Pass {
            Pass(value: value, magnitude: magnitude, depth: depth + 1, count: Swift.max(count, terms))
        }
    }

    static func run(_ layer: Layer, on pass: Pass) throws -> Pass {
        switch layer {
        case let sequential as Sequential:
            return try sequential.layers.reduce(pass) { try run($1.layer, on: $0) }
        case let residual as Residual:
            // s = u + v: one more rounding of 2 terms, u·(|u| + |v|), far below γₙ.
            let body = try residual.body.reduce(pass) { try run($1.layer, on: $0) }
            let shortcut = try residual.shortcut.map { try run($0.layer, on: pass) } ?? pass
            let sum = Pass(value: body.value + shortcut.value, magnitude: body.magnitude + shortcut.magnitude,
                           depth: Swift.max(body.depth, shortcut.depth), count: Swift.max(body.count, shortcut.count))
            return try residual.activation.map { try run($0.layer, on: sum) } ?? sum
        case let conv as Conv2d:
            func copy(_ weight: Tensor, _ bias: Tensor?) -> Conv2d {
                let copy = Conv2d(inputChannels: conv.inputChannels, outputChannels: conv.outputChannels,
                                  kernelSize: conv.kernelSize, stride: conv.stride, padding: conv.padding,
                                  bias: bias != nil, weight: weight, biasValue: bias)
                copy.setParameterGradients(false)
                return copy
            }
            let value = copy(conv.weight.value, conv.bias?.value).forward(pass.value)
            let magnitude = copy(conv.weight.value.map(Swift.abs), conv.bias?.value.map(Swift.abs)).forward(pass.value.map(Swift.abs))
            return pass.summed(value, magnitude, count: conv.inputChannels * conv.kernelSize * conv.kernelSize + 1)
        case let linear as Linear:
            func copy(_ weight: Tensor, _ bias: Tensor?) -> Linear {
                let copy = Linear(inputFeatures: linear.inputFeatures, outputFeatures: linear.outputFeatures, bias: bias != nil)
                copy.weight.value = weight
                if let bias { copy.bias?.value = bias }
                copy.setParameterGradients(false)
                return copy
            }
            let value = copy(linear.weight.value, linear.bias?.value).forward(pass.value)
            let magnitude = copy(linear.weight.value.map(Swift.abs), linear.bias?.value.map(Swift.abs)).forward(pass.value.map(Swift.abs))
            return pass.summed(value, magnitude, count: linear.inputFeatures + 1)
        case let batchNorm as BatchNorm2d:
            var next = pass
            next.value = affineBatchNorm(batchNorm, on: pass.value, absolute: false)
            next.magnitude = affineBatchNorm(batchNorm, on: pass.magnitude, absolute: true)
            return next
        case is GlobalAveragePool:
            let planeSize = pass.value.count / Swift.max(pass.value.shape[0] * pass.value.shape[1], 1)   // h·w terms
            return pass.summed(GlobalAveragePool().forward(pass.value), GlobalAveragePool().forward(pass.value.map(Swift.abs)),
                               count: planeSize + 1)
        case let pool as MaxPool2d:
            // The winner's Σ|terms| is at most the largest in its window.
            func fresh() -> MaxPool2d { MaxPool2d(kernelSize: pool.kernelSize, stride: pool.stride, padding: pool.padding) }
            var next = pass
            (next.value, next.magnitude) = (fresh().forward(pass.value), fresh().forward(pass.magnitude))
            return next
        case is ReLU:
            var next = pass                           // 1-Lipschitz: the error and the terms stay
            next.value = pass.value.map { Swift.max($0, 0) }
            return next
        case is Flatten:
            var next = pass
            (next.value, next.magnitude) = (Flatten().forward(pass.value), Flatten().forward(pass.magnitude))
            return next
        default:
            throw MiniNetError.invalidArgument("\(layer.name): no error model for a \(layer.typeName) layer")
        }
    }

    /// y ↦ s·y + t per channel (s = γ/√(σ² + eps), t = β − μ·s), or |s|·y + |t| for magnitudes.
    static func affineBatchNorm(_ batchNorm: BatchNorm2d, on input: Tensor, absolute: Bool) -> Tensor {
        var output = input                                          // [N, C, H, W]
        let channels = batchNorm.channels
        let planeSize = input.count / Swift.max(input.shape[0] * channels, 1)
        for plane in 0..<(input.count / Swift.max(planeSize, 1)) {
            let c = plane % channels
            var scale = batchNorm.weight.value.data[c] / (batchNorm.runningVariance.data[c] + batchNorm.epsilon).squareRoot()
            var shift = batchNorm.bias.value.data[c] - batchNorm.runningMean.data[c] * scale
            if absolute { (scale, shift) = (Swift.abs(scale), Swift.abs(shift)) }
            for index in (plane * planeSize)..<((plane + 1) * planeSize) {
                output.data[index] = scale * input.data[index] + shift
            }
        }
        return output
    }
}

extension Tolerance {
    /// The rounding of one float32 forward pass through a network, for each of its outputs:
    /// safety · depth · γₙ · M (see `ForwardMagnitude`), with n the largest fan-in and M the
    /// largest Σ|terms| of an output's last sum.
    /// Two passes that take different arithmetic (e.g. BatchNorm merged or not) add two of these.
    /// - Parameter largestTerm: the largest single term of an output's last sum (e.g. max |W_cj a_j|).
    public static func forwardPass(_ magnitude: ForwardMagnitude, largestTerm: Double? = nil,
                                   safety: Double = 4) -> Tolerance {
        let largest = magnitude.magnitudes.data.reduce(0) { Swift.max($0, Double($1)) }
        return .sum(count: magnitude.count, magnitude: largest, largestTerm: largestTerm,
                    depth: magnitude.depth, safety: safety)
    }
}

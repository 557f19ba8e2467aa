/// LRP rules: how the relevance R_k at the output of a linear layer is shared out among its
/// inputs j (Bach et al. 2015; Montavon et al. 2019). With the contributions z_jk = a_j w_jk
/// and the pre-activation z_k = Σ_j z_jk + b_k (the bias is part of the denominator, as in Zennit):
///
///     LRP-0      R_j = Σ_k  a_j w_jk / z_k · R_k
///     epsilon    R_j = Σ_k  a_j w_jk / (z_k + ε·sign(z_k)) · R_k        sign(0) = +1
///     z⁺         R_j = Σ_k  a_j w⁺_jk / (z⁺_k + ε·sign(z⁺_k)) · R_k     w⁺ = max(0, w), z⁺_k = Σ_j a_j w⁺_jk + b⁺_k
///
/// Sign convention: ε is added with the sign of z (ε·sign z, sign 0 = +1), as Zennit's
/// `stabilize` does, so the denominator moves away from zero and never changes sign. (The
/// article writes ε + z; the two agree when z > 0.) z⁺ uses a tiny fixed ε = 1e-6, as Zennit's ZPlus.
///
/// All three are computed with the "gradient trick", as Zennit does, for any linear layer:
///
///     z = layer(a)                       forward pass (with bias)
///     s = R_out / (z + ε·sign z)         one number per output neuron
///     c = Wᵀ s                           = the layer's own backward pass applied to s
///     R_in = a ⊙ c
///
/// LRP-0 divides by z itself; where z_k = 0 exactly it passes nothing back (0/0 is taken as 0).
public enum LRPRule: Equatable, Sendable, CustomStringConvertible {
    /// LRP-0: share in proportion to z_jk = a_j w_jk.
    case zero
    /// LRP-ε: like LRP-0 with ε·sign(z) added to the denominator; absorbs part of the relevance.
    case epsilon(Float)
    /// z⁺: only the positive weights (and positive biases) count; meant for inputs a ≥ 0.
    case zPlus

    public var description: String {
        switch self {
        case .zero: return "LRP-0"
        case let .epsilon(epsilon): return "LRP-ε (ε = \(epsilon))"
        case .zPlus: return "z⁺"
        }
    }

    /// The ε of the denominator z + ε·sign(z): 0 for LRP-0.
    var stabilizerEpsilon: Float {
        switch self {
        case .zero: return 0
        case let .epsilon(value): return value
        case .zPlus: return 1e-6
        }
    }

    /// The stabilised denominator z + ε·sign(z) (sign 0 = +1), or nil where LRP-0 meets z = 0.
    func stabilize(_ z: Float) -> Float? {
        let epsilon: Float
        switch self {
        case .zero: return z == 0 ? nil : z
        case let .epsilon(value): epsilon = value
        case .zPlus: epsilon = 1e-6
        }
        return z + (z >= 0 ? epsilon : -epsilon)
    }
}

/// What a rule did at one layer: the relevance at the input, and where the rest went.
public struct RuleOutcome {
    /// Same shape as the layer's input: R_j.
    public var relevance: Tensor
    /// Σ_k b_k · R_k / (z_k + ε·sign z_k): the share the biases keep.
    public var absorbedByBias: Double
    /// Σ_k ε·sign(z_k) · R_k / (z_k + ε·sign z_k), plus any R_k that LRP-0 drops where z_k = 0.
    public var absorbedByStabilizer: Double
    /// Same shape as the input: Σ_k |a_j w_jk s_k| for every input j, the size of the terms the
    /// rule shared out to it (what the float32 rounding of R_j is measured against).
    public var termMagnitudes: Tensor? = nil
    /// Σ_k |s_k| · (|b_k| + ε): the size of the bias and ε terms of the ledger.
    public var absorbedMagnitude = 0.0
    /// The most terms in one float32 sum of the rule: z_k adds fan-in + 1 (with the bias), and
    /// c_j = Σ_k w_jk s_k adds fan-out; an error of either moves the ledger by γ · Σ|terms|.
    public var sumLength = 0
}

extension LRPRule {
    /// Applies the rule to a Conv2d, Linear or GlobalAveragePool layer (a pooling layer is a
    /// linear layer with weights 1/Z and no bias).
    ///
    /// Because z_k = Σ_j a_j w_jk + b_k, the relevance balances exactly:
    ///
    ///     Σ_k R_k = Σ_j R_j + Σ_k b_k s_k + Σ_k (ε·sign z_k) s_k          with s_k = R_k / (z_k + ε·sign z_k)
    ///
    /// - Parameters:
    ///   - input: a, the layer's input, [N, …]
    ///   - relevance: R_out, same shape as the layer's output, [N, …]
    ///   - output: z, the layer's output for this input when a recorded forward pass already
    ///     ran the layer on it (its backward cache is then still that pass's); nil to run it here.
    public func apply(to layer: Layer, input: Tensor, relevance: Tensor, output: Tensor? = nil) throws -> RuleOutcome {
        // The layer with the rule's weights (a copy for z⁺), run without parameter gradients:
        // only c = Wᵀ s is needed, not ∂/∂W.
        let (copy, bias) = try ruleLayer(for: layer)
        let hadParameterGradients = copy.computesParameterGradients
        copy.setParameterGradients(false)
        defer { copy.setParameterGradients(hadParameterGradients) }
        let z: Tensor
        if let output, copy === layer {
            z = output
        } else {
            z = copy.forward(input)
        }
        guard z.shape == relevance.shape else {
            throw MiniNetError.invalidArgument("\(layer.name): relevance shape \(relevance.shape) does not match the output \(z.shape)")
        }
        let channels = z.rank >= 2 ? z.shape[1] : 1
        let planeSize = z.rank >= 2 ? z.count / Swift.max(z.shape[0] * channels, 1) : 1
        let epsilon = stabilizerEpsilon
        let dropsZeros = self == .zero
        var share = Tensor(zeros: z.shape)       // s_k
        var absorbedByBias = 0.0
        var absorbedByStabilizer = 0.0
        z.data.withUnsafeBufferPointer { z in
            relevance.data.withUnsafeBufferPointer { relevance in
                share.data.withUnsafeMutableBufferPointer { share in
                    // One plane (image n, channel o) at a time, so that b_o is read once per plane.
                    for plane in 0..<(z.count / Swift.max(planeSize, 1)) {
                        let biasValue = Double(bias?.data[plane % channels] ?? 0)
                        var sharesInPlane = 0.0          // Σ s_k over the plane, for b_o · Σ s_k
                        for k in (plane * planeSize)..<((plane + 1) * planeSize) {
                            let zk = z[k]
                            if dropsZeros && zk == 0 {
                                absorbedByStabilizer += Double(relevance[k])   // LRP-0 at z_k = 0 drops R_k
                                continue
                            }
                            let denominator = zk + (zk >= 0 ? epsilon : -epsilon)    // z_k + ε·sign z_k
                            let s = relevance[k] / denominator
                            share[k] = s
                            sharesInPlane += Double(s)
                            absorbedByStabilizer += Double(denominator - zk) * Double(s)
                        }
                        absorbedByBias += biasValue * sharesInPlane
                    }
                }
            }
        }
        let contribution = copy.backward(share)     // c = Wᵀ s
        let (magnitudes, sumLength) = try Self.termMagnitudes(of: copy, input: input, shares: share)
        var absorbedMagnitude = 0.0                 // Σ_k |s_k| (|b_k| + ε)
        for k in share.data.indices {
            let biasSize = Double(Swift.abs(bias?.data[(k / Swift.max(planeSize, 1)) % channels] ?? 0))
            absorbedMagnitude += Double(Swift.abs(share.data[k])) * (biasSize + Double(epsilon))
        }
        return RuleOutcome(relevance: input * contribution, absorbedByBias: absorbedByBias,
                           absorbedByStabilizer: absorbedByStabilizer, termMagnitudes: magnitudes,
                           absorbedMagnitude: absorbedMagnitude, sumLength: sumLength)
    }

    /// |a| ⊙ (|W|ᵀ |s|): for every input j, Σ_k |a_j w_jk s_k|, by the layer's backward pass with
    /// |W| in place of W (one more forward and backward pass of the layer); and the rule's sum
    /// length, fan-in + 1 + fan-out (a convolution of stride σ reaches ⌈k/σ⌉² outputs per channel).
    static func termMagnitudes(of layer: Layer, input: Tensor, shares: Tensor) throws -> (Tensor, Int) {
        let absoluteInput = input.map(Swift.abs)
        let absoluteShares = shares.map(Swift.abs)
        switch layer {
        case let conv as Conv2d:
            let absolute = Conv2d(inputChannels: conv.inputChannels, outputChannels: conv.outputChannels,
                                  kernelSize: conv.kernelSize, stride: conv.stride, padding: conv.padding,
                                  bias: false, weight: conv.weight.value.map(Swift.abs))
            absolute.setParameterGradients(false)
            _ = absolute.forward(absoluteInput)
            let reach = (conv.kernelSize + conv.stride - 1) / conv.stride
            let length = conv.inputChannels * conv.kernelSize * conv.kernelSize + 1 + conv.outputChannels * reach * reach
            return (absoluteInput * absolute.backward(absoluteShares), length)
        case let linear as Linear:
            let absolute = Linear(inputFeatures: linear.inputFeatures, outputFeatures: linear.outputFeatures, bias: false)
            absolute.weight.value = linear.weight.value.map(Swift.abs)
            absolute.setParameterGradients(false)
            _ = absolute.forward(absoluteInput)
            return (absoluteInput * absolute.backward(absoluteShares), linear.inputFeatures + 1 + linear.outputFeatures)
        case is GlobalAveragePool:
            let pool = GlobalAveragePool()              // weights 1/Z are positive already
            _ = pool.forward(absoluteInput)
            let planeSize = input.count / Swift.max(input.shape[0] * input.shape[1], 1)
            return (absoluteInput * pool.backward(absoluteShares), planeSize + 1 + 1)
        default:
            throw MiniNetError.invalidArgument("\(layer.name): an LRP rule needs a linear layer, not \(layer.typeName)")
        }
    }

    /// The layer with the weights and bias this rule uses: the layer itself for LRP-0 and ε
    /// (weights w), a copy with w⁺ and b⁺ for z⁺; and that bias [Cout] (nil when there is none).
    func ruleLayer(for layer: Layer) throws -> (layer: Layer, bias: Tensor?) {
        if self != .zPlus {
            switch layer {
            case let conv as Conv2d: return (conv, conv.bias?.value)
            case let linear as Linear: return (linear, linear.bias?.value)
            default: break
            }
        }
        let keep: (Float) -> Float = self == .zPlus ? { Swift.max($0, 0) } : { $0 }
        switch layer {
        case let conv as Conv2d:
            let bias = conv.bias.map { $0.value.map(keep) }
            let copy = Conv2d(inputChannels: conv.inputChannels, outputChannels: conv.outputChannels,
                              kernelSize: conv.kernelSize, stride: conv.stride, padding: conv.padding,
                              bias: bias != nil, weight: conv.weight.value.map(keep), biasValue: bias)
            copy.name = conv.name
            return (copy, bias)
        case let linear as Linear:
            let copy = Linear(inputFeatures: linear.inputFeatures, outputFeatures: linear.outputFeatures,
                              bias: linear.bias != nil)
            copy.weight.value = linear.weight.value.map(keep)
            if let bias = linear.bias { copy.bias?.value = bias.value.map(keep) }
            copy.name = linear.name
            return (copy, copy.bias?.value)
        case is GlobalAveragePool:
            // Weights 1/Z are positive, so z⁺ changes nothing; no parameters to protect.
            let copy = GlobalAveragePool()
            copy.name = layer.name
            return (copy, nil)
        default:
            throw MiniNetError.invalidArgument("\(layer.name): an LRP rule needs a linear layer, not \(layer.typeName)")
        }
    }
}

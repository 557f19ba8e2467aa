/// Canonizers rewrite a network into an equivalent one (same outputs) whose layers LRP's rules
/// understand, as Zennit's canonizers do.

/// BatchNorm in evaluation mode is an affine map per channel,
///
///     BN(y) = γ·(y − μ)/√(σ² + eps) + β,
///
/// so after a convolution y = w∗x + b it folds into the convolution itself:
///
///     w' = w · γ/√(σ² + eps)                        (per output channel)
///     b' = (b − μ) · γ/√(σ² + eps) + β               (b = 0 when the convolution has none)
///
/// The merged convolution always has a bias. Its name is the convolution's.
public func mergeBatchNorm(_ batchNorm: BatchNorm2d, into conv: Conv2d) throws -> Conv2d {
    guard batchNorm.channels == conv.outputChannels else {
        throw MiniNetError.invalidModel("\(batchNorm.name) has \(batchNorm.channels) channels but \(conv.name) gives \(conv.outputChannels)")
    }
    let channels = conv.outputChannels
    let perChannel = conv.weight.value.count / Swift.max(channels, 1)
    let scales = (0..<channels).map { c in         // γ_c / √(σ²_c + eps)
        batchNorm.weight.value.data[c] / (batchNorm.runningVariance.data[c] + batchNorm.epsilon).squareRoot()
    }
    var bias = Tensor(zeros: [channels])          // [Cout]
    for c in 0..<channels {
        let convBias = conv.bias?.value.data[c] ?? 0
        bias.data[c] = (convBias - batchNorm.runningMean.data[c]) * scales[c] + batchNorm.bias.value.data[c]
    }
    // w'_c = w_c · scale_c, written once into new memory (a ResNet's weights are tens of MB).
    let weightData = conv.weight.value.data.withUnsafeBufferPointer { original in
        [Float](unsafeUninitializedCapacity: original.count) { merged, count in
            for c in 0..<channels {
                for index in (c * perChannel)..<((c + 1) * perChannel) { merged[index] = original[index] * scales[c] }
            }
            count = original.count
        }
    }
    let weight = Tensor(shape: conv.weight.value.shape, data: weightData)   // [Cout, Cin, kH, kW]
    let merged = Conv2d(inputChannels: conv.inputChannels, outputChannels: channels, kernelSize: conv.kernelSize,
                        stride: conv.stride, padding: conv.padding, bias: true, weight: weight, biasValue: bias)
    merged.name = conv.name
    return merged
}

/// A copy of the layer tree in which every BatchNorm2d that directly follows a Conv2d (in a
/// Sequential, or in a Residual's body) is merged into that convolution and removed (Zennit's
/// SequentialMergeBatchNorm). Other layers are shared with the original, not copied; names
/// stay those of the original network. The original network is not changed.
///
/// - Parameter leavingNeutralBatchNorm: do what Zennit 0.5 does instead of removing the
///   BatchNorm: leave it in place with μ = 0, σ² = 1, γ = 1, β = 0 but its own eps, so that
///   it still computes y/√(1 + eps) ≈ y·(1 − eps/2), and LRP passes relevance through it
///   unchanged (Zennit's Pass rule for BatchNorm; `LRPRuleMap` does the same for a neutral one).
///   The network then differs from the original by that factor at every BatchNorm. Only for
///   matching Zennit's numbers; the default (false) gives exactly the original network.
public func mergingBatchNorm(_ layer: Layer, leavingNeutralBatchNorm: Bool = false) throws -> Layer {
    /// Merges within one list of (local name, layer).
    func mergeList(_ layers: [(name: String, layer: Layer)]) throws -> [(String, Layer)] {
        var result: [(String, Layer)] = []
        var index = 0
        while index < layers.count {
            let (name, current) = layers[index]
            if let conv = current as? Conv2d, index + 1 < layers.count, let batchNorm = layers[index + 1].layer as? BatchNorm2d {
                result.append((name, try mergeBatchNorm(batchNorm, into: conv)))
                if leavingNeutralBatchNorm {
                    let neutral = BatchNorm2d(channels: batchNorm.channels, epsilon: batchNorm.epsilon)
                    neutral.name = batchNorm.name
                    result.append((layers[index + 1].name, neutral))
                }
                index += 2
            } else {
                result.append((name, try mergingBatchNorm(current, leavingNeutralBatchNorm: leavingNeutralBatchNorm)))
                index += 1
            }
        }
        return result
    }
    let copy: Layer
    switch layer {
    case let sequential as Sequential:
        copy = Sequential(named: try mergeList(sequential.layers))
    case let residual as Residual:
        copy = Residual(body: try mergeList(residual.body),
                        shortcut: try residual.shortcut.map { ($0.name, try mergingBatchNorm($0.layer, leavingNeutralBatchNorm: leavingNeutralBatchNorm)) },
                        activation: residual.activation.map { ($0.name, $0.layer) })
    default:
        return layer
    }
    // The original's name; the children keep theirs (not `assignNames`, which would rename shared leaves).
    copy.name = layer.name
    return copy
}

/// Whether `batchNorm` is what `mergingBatchNorm(_:leavingNeutralBatchNorm: true)` leaves behind:
/// μ = 0, σ² = 1, γ = 1, β = 0, i.e. y = x/√(1 + eps).
func isNeutral(_ batchNorm: BatchNorm2d) -> Bool {
    batchNorm.runningMean.data.allSatisfy { $0 == 0 } && batchNorm.runningVariance.data.allSatisfy { $0 == 1 }
        && batchNorm.weight.value.data.allSatisfy { $0 == 1 } && batchNorm.bias.value.data.allSatisfy { $0 == 0 }
}

/// Zennit's ResNet canonizer turns the addition of a residual block into a layer of its own,
/// so relevance can be split between the branches. With s = u + v (u = body(x), v = shortcut(x)):
///
///     R_u = u ⊙ R_s / (s + ε·sign s)        R_v = v ⊙ R_s / (s + ε·sign s)
///
/// each branch gets relevance in proportion to its contribution, so R_u + R_v = R_s up to
/// what ε absorbs (nothing for LRP-0, except where s = 0 exactly, whose relevance is dropped).
///
/// - Parameters: body, shortcut, relevance all [N, C, H, W]; `rule` is `.zero` or `.epsilon(ε)`.
/// - Returns: (R_u, R_v, the relevance the stabiliser absorbed).
public func splitResidualRelevance(body: Tensor, shortcut: Tensor, relevance: Tensor,
                                   rule: LRPRule = .zero) -> (body: Tensor, shortcut: Tensor, absorbed: Double) {
    precondition(body.shape == shortcut.shape && body.shape == relevance.shape,
                 "residual split of shapes \(body.shape), \(shortcut.shape), \(relevance.shape)")
    var bodyRelevance = Tensor(shape: body.shape) { _ in }        // every entry written below
    var shortcutRelevance = Tensor(shape: body.shape) { _ in }
    let stabilizer = rule.stabilizer
    // Each value on its own; what ε absorbs is added up in fixed blocks (`Parallel.blockSum`).
    let absorbed = body.data.withUnsafeBufferPointer { u in
        shortcut.data.withUnsafeBufferPointer { v in
            relevance.data.withUnsafeBufferPointer { r in
                bodyRelevance.data.withUnsafeMutableBufferPointer { ru in
                    shortcutRelevance.data.withUnsafeMutableBufferPointer { rv in
                        Parallel.blockSum(u.count) { range in
                            var absorbed = 0.0
                            for index in range {
                                let sum = u[index] + v[index]                     // s
                                guard let denominator = stabilizer.stabilize(sum) else {
                                    absorbed += Double(r[index])                  // LRP-0 at s = 0 drops R_s
                                    (ru[index], rv[index]) = (0, 0)
                                    continue
                                }
                                let share = r[index] / denominator                // R_s / (s + ε·sign s)
                                ru[index] = u[index] * share
                                rv[index] = v[index] * share
                                absorbed += Double(denominator - sum) * Double(share)
                            }
                            return absorbed
                        }
                    }
                }
            }
        }
    }
    return (bodyRelevance, shortcutRelevance, absorbed)
}

/// What a BatchNorm merge reads from a network: which layers it has, every parameter's
/// version, and each BatchNorm's running statistics (plain tensors, which keep no version).
struct MergeState: Equatable {
    var layers: [ObjectIdentifier]
    var versions: [Int]
    var statistics: [[Float]]

    init(_ network: Layer) {
        let all = network.allLayers
        layers = all.map(ObjectIdentifier.init)
        versions = all.flatMap { $0.parameters.map(\.version) }
        statistics = all.compactMap { $0 as? BatchNorm2d }.flatMap { [$0.runningMean.data, $0.runningVariance.data] }
    }
}

extension ImageClassifier {
    /// `mergingBatchNorm(network, leavingNeutralBatchNorm: leavingNeutral)`, made once and kept
    /// while nothing it read changes: the same layers, every parameter at the same version and
    /// every BatchNorm with the same running statistics (compared value by value). LRP merges on
    /// every call, as Zennit's canonizer does; keeping the merge spares a ResNet-34 a copy of
    /// its 21 million weights and their Winograd transforms per picture. The merged layers keep
    /// the caches of the last pass, like the network's own.
    public func mergedBatchNorm(leavingNeutral: Bool = false) throws -> Layer {
        mergedNetworksLock.lock()
        defer { mergedNetworksLock.unlock() }
        let state = MergeState(network)
        if let kept = mergedNetworks[leavingNeutral], kept.state == state { return kept.network }
        let merged = try mergingBatchNorm(network, leavingNeutralBatchNorm: leavingNeutral)
        mergedNetworks[leavingNeutral] = (state, merged)
        return merged
    }
}

/// The identities a CAM can be checked against at the layer that feeds global average pooling
/// and a linear head (every network's default CAM layer), where for a logit target
///
///     y^c = Σ_k w^c_k F^k + b_c,     F^k = (1/Z) Σ_{i,j} A^k_{ij}
///
/// so the score is known from the activations alone, and each method's weights are known too:
/// CAM's are w^c_k, Grad-CAM's α^c_k = w^c_k / Z (the gradient of a mean), Ablation-CAM's the
/// drop y^c − y^c_k = w^c_k F^k over y^c. At any other layer, or for a probability target,
/// these identities do not hold and no check is made.
enum CAMIdentities {
    /// w^c [K] and b_c when `result` explains a logit at a layer whose K channels feed the
    /// final linear layer through global average pooling alone; else nil.
    static func linearHead(of result: CAMResult, classifier: ImageClassifier) -> (row: [Float], bias: Float)? {
        guard case let .logit(c) = result.target,
              classifier.feedsPoolingAndLinearHead(result.layer, nonNegative: result.activations.min >= 0),
              let head = classifier.network.allLayers.last(where: { $0 is Linear }) as? Linear,
              head.inputFeatures == result.activations.shape[0], c < head.outputFeatures else { return nil }
        let channels = head.inputFeatures
        return (Array(head.weight.value.data[(c * channels)..<((c + 1) * channels)]), head.bias?.value.data[c] ?? 0)
    }

    /// CAM's identity, with M_c before its ReLU:
    ///
    ///     S_c = (1/Z) Σ_{x,y} M_c(x, y) + b_c
    ///
    /// Each side pools Z cells and adds K + 1 terms in float32, so each carries that rounding.
    @Sendable static func camPooling(_ result: CAMResult, _ classifier: ImageClassifier) -> [Check] {
        guard let (row, bias) = linearHead(of: result, classifier: classifier) else { return [] }
        let tolerance = Tolerance.pooledLogit(result.activations, weights: row, bias: bias)
        return [.equal("S_c = (1/Z) Σ M_c + b_c", "S_c", Double(result.score),
                       "(1/Z) Σ M_c + b_c", result.weightedSum.sum() / Double(result.weightedSum.count) + Double(bias),
                       tolerance: tolerance + tolerance)]
    }

    /// Grad-CAM, XGrad-CAM and HiResCAM at this layer: the gradient ∂y^c/∂A^k_{ij} = w^c_k / Z is
    /// the same at every cell, so each method's weight is w^c_k / Z and the map before its ReLU,
    /// L^c = Σ_k α^c_k A^k, adds up to the score:
    ///
    ///     S_c = Σ_{x,y} L^c(x, y) + b_c          (= (1/Z) Σ M_c + b_c: Grad-CAM is CAM / Z here)
    ///
    /// Rounding: S_c and the sum of L^c each pool Z cells and add K + 1 terms; the weights differ
    /// from w^c_k / Z by the division's rounding and a mean of Z equal gradients (XGrad-CAM's
    /// weighted mean: 2Z + 2 roundings), relative to each channel's share Σ_k |w^c_k| mean|A^k|;
    /// XGrad-CAM's ε in Σ A + ε takes at most ε |w^c_k| / Z more from each channel.
    static let gradientPooling = gradientPooling(stabilizer: 0)

    /// The same with XGrad-CAM's ε (`XGradCAM.stabilizer`); 0 for Grad-CAM and HiResCAM.
    static func gradientPooling(stabilizer: Double) -> @Sendable (CAMResult, ImageClassifier) -> [Check] {
        { result, classifier in gradientPooling(result, classifier, stabilizer: stabilizer) }
    }

    static func gradientPooling(_ result: CAMResult, _ classifier: ImageClassifier, stabilizer: Double) -> [Check] {
        guard let (row, bias) = linearHead(of: result, classifier: classifier) else { return [] }
        let (channels, cells) = (result.activations.shape[0], result.activations.count / max(result.activations.shape[0], 1))
        let logit = Tolerance.pooledLogit(result.activations, weights: row, bias: bias)
        var share = 0.0                                        // Σ_k |w^c_k| mean|A^k|
        var largestShare = 0.0
        var stabilizerShare = 0.0                              // Σ_k ε |w^c_k| / Z · Σ|A^k| / |Σ A^k + ε|
        for k in 0..<channels {
            let plane = result.activations.slice(k).data
            let absoluteSum = plane.reduce(0.0) { $0 + Double(abs($1)) }
            let term = Double(abs(row[k])) * absoluteSum / Double(cells)
            share += term
            largestShare = max(largestShare, term)
            if stabilizer > 0, absoluteSum > 0 {
                stabilizerShare += stabilizer * Double(abs(row[k])) / Double(cells) * absoluteSum / abs(plane.reduce(0.0) { $0 + Double($1) } + stabilizer)
            }
        }
        var tolerance = logit + logit + .sum(count: 2 * cells + 2, magnitude: share, largestTerm: largestShare)
        if stabilizerShare > 0 { tolerance = tolerance + .absolute(stabilizerShare, because: "XGrad-CAM's ε = 1e-7 in Σ A + ε") }
        return [.equal("S_c = Σ_{x,y} L^c + b_c (at the layer before pooling, α^c_k = w^c_k / Z)", "S_c", Double(result.score),
                       "Σ L^c + b_c", result.weightedSum.sum() + Double(bias), tolerance: tolerance)]
    }

    /// Ablation-CAM at this layer: zeroing A^k removes exactly its term of the score,
    ///
    ///     y^c − y^c_k = w^c_k F^k       for every channel k
    ///
    /// the drop read back from the weight as (y^c − y^c_k)/y^c · y^c. Rounding: y^c and y^c_k are
    /// two logits of the head, each within the pooled-logit bound; the subtraction, the division
    /// and the product back each round once more, relative to the drop.
    @Sendable static func ablationDrops(_ result: CAMResult, _ classifier: ImageClassifier) -> [Check] {
        guard let (row, bias) = linearHead(of: result, classifier: classifier) else { return [] }
        let channels = result.activations.shape[0]
        let score = Double(result.score)
        let drops = result.weights.map { Float(Double($0) * score) }                       // y^c − y^c_k
        let predicted = (0..<channels).map { Float(Double(row[$0]) * result.activations.slice($0).mean()) }   // w^c_k F^k
        let logit = Tolerance.pooledLogit(result.activations, weights: row, bias: bias)
        let largestDrop = drops.reduce(0.0) { max($0, Double(abs($1))) }
        return [.equal("y^c − y^c_k = w^c_k F^k for every channel k (a linear head after pooling)",
                       "(y^c − y^c_k) from the weights", Tensor(shape: [channels], data: drops),
                       "w^c_k F^k", Tensor(shape: [channels], data: predicted),
                       tolerance: logit + logit + .sum(count: 4, magnitude: largestDrop, largestTerm: largestDrop))]
    }

    /// LayerCAM and element-wise Grad-CAM at this layer, where A ≥ 0 (after a ReLU): each cell
    /// keeps ReLU(g) = ReLU(w^c_k)/Z of every channel, so the map before its ReLU adds up to the
    /// part of the score the positive weights give:
    ///
    ///     Σ_{x,y} L^c(x, y) = Σ_{k: w^c_k > 0} w^c_k F^k
    ///
    /// Rounding: each cell adds K float32 products whose weights are w^c_k / Z rounded once; the
    /// right side is computed in Double.
    @Sendable static func positivePooling(_ result: CAMResult, _ classifier: ImageClassifier) -> [Check] {
        guard let (row, _) = linearHead(of: result, classifier: classifier), result.activations.min >= 0 else { return [] }
        let channels = result.activations.shape[0]
        var positiveScore = 0.0                                // Σ_{w_k > 0} w^c_k F^k
        var largestTerm = 0.0
        for k in 0..<channels where row[k] > 0 {
            let term = Double(row[k]) * result.activations.slice(k).mean()
            positiveScore += term
            largestTerm = max(largestTerm, term)
        }
        return [.equal("Σ_{x,y} L^c = Σ_{k: w^c_k > 0} w^c_k F^k (at the layer before pooling, ReLU(g) = ReLU(w^c_k) / Z)",
                       "Σ L^c", result.weightedSum.sum(), "Σ_{w^c_k > 0} w^c_k F^k", positiveScore,
                       tolerance: .sum(count: channels + 1, magnitude: positiveScore, largestTerm: largestTerm))]
    }

    /// Grad-CAM++ at this layer: with g = w^c_k / Z on the whole plane and S_k = Z F^k,
    ///
    ///     w_k = Σ_{i,j} a · ReLU(g) = Z g³ / (2g² + S_k g³ + ε)       for w^c_k > 0, else 0
    ///
    /// (with ε = 0, ReLU(w^c_k) / (2 + w^c_k F^k)). Rounding: g is w^c_k / Z rounded once, and
    /// w_k changes at most 3 times as fast as g in relative terms; the sum and the final float32
    /// each round once more.
    static func gradCAMPlusPlusWeights(stabilizer: Double) -> @Sendable (CAMResult, ImageClassifier) -> [Check] {
        { result, classifier in
            // The sensitivity bound below needs S_k ≥ 0: activations after a ReLU.
            guard let (row, _) = linearHead(of: result, classifier: classifier), result.activations.min >= 0 else { return [] }
            let (channels, cells) = (result.activations.shape[0], Double(result.activations.count / max(result.activations.shape[0], 1)))
            let predicted = (0..<channels).map { k -> Float in
                guard row[k] > 0 else { return 0 }
                let g = Double(row[k]) / cells
                let sum = result.activations.slice(k).sum()              // S_k
                return Float(cells * g * g * g / (2 * g * g + sum * g * g * g + stabilizer))
            }
            let largest = predicted.reduce(0.0) { max($0, Double(abs($1))) }
            return [.equal("w_k = Z g³ / (2g² + S_k g³ + ε) with g = w^c_k / Z (Grad-CAM++ at the layer before pooling)",
                           "Grad-CAM++ weights", Tensor(shape: [channels], data: result.weights),
                           "Z g³ / (2g² + S_k g³ + ε)", Tensor(shape: [channels], data: predicted),
                           tolerance: .sum(count: 6, magnitude: largest, largestTerm: largest))]
        }
    }

    /// Score-CAM's weights are a softmax over the channels, at any layer: they add up to 1. Each
    /// weight is rounded once to float32 from Double, so the sum is off by at most u.
    @Sendable static func softmaxWeights(_ result: CAMResult, _ classifier: ImageClassifier) -> [Check] {
        let total = result.weights.reduce(0.0) { $0 + Double($1) }
        return [.equal("Σ_k w_k = 1 (the weights are a softmax of the masked scores)", "Σ_k w_k", total, "1", 1,
                       tolerance: .sum(count: 1, magnitude: 1))]
    }

    /// Eigen-CAM at any layer, with X̄ the centred activations [Z × K] and v the weights:
    ///
    ///     Σ_{x,y} (Σ_k v_k A^k(x, y) + b) = 0,  b = −Σ_k v_k μ_k      (X̄'s columns add up to 0)
    ///     ‖v‖ = 1,   X̄ᵀX̄ v = λ v with λ = ‖X̄v‖²                      (v is a principal direction)
    ///
    /// Rounding: each cell adds K products and b in float32, and v and b are Double values
    /// rounded once to float32 (Z·Σ_k |v_k| μ_k in all). v differs from the exact eigenvector by
    /// δ with ‖δ‖ ≤ u, and ‖(X̄ᵀX̄ − λ)δ‖ ≤ λ‖δ‖ since X̄ᵀX̄'s eigenvalues lie in 0…λ; the Double
    /// arithmetic of the solver and of this check is far below that. Where X̄ = 0 (a single cell,
    /// or every channel constant) there is no direction and v = 0: only the sum is checked.
    @Sendable static func centredProjection(_ result: CAMResult, _ classifier: ImageClassifier) -> [Check] {
        let channels = result.activations.shape[0]
        let cells = result.activations.count / max(channels, 1)
        let a = result.activations.data
        var magnitude = Double(cells) * Double(abs(result.offset))          // Σ_{x,y} (Σ_k |v_k A^k| + |b|)
        var centred = [Double](repeating: 0, count: a.count)                  // X̄ᵀ, channel by channel
        for k in 0..<channels {
            let plane = (k * cells)..<((k + 1) * cells)
            let mean = plane.reduce(0.0) { $0 + Double(a[$1]) } / Double(cells)
            for index in plane { centred[index] = Double(a[index]) - mean }
            magnitude += Double(abs(result.weights[k])) * plane.reduce(0.0) { $0 + Double(abs(a[$1])) }
        }
        var checks: [Check] = [.equal("Σ_{x,y} (Σ_k v_k A^k + b) = 0 (the activations are centred)", "Σ (Σ_k v_k A^k + b)",
                                      result.weightedSum.sum(), "0", 0, tolerance: .sum(count: channels + 2, magnitude: magnitude))]
        guard centred.contains(where: { $0 != 0 }) else { return checks }
        let v = result.weights.map(Double.init)
        let projection = (0..<cells).map { cell in (0..<channels).reduce(0.0) { $0 + centred[$1 * cells + cell] * v[$1] } }   // X̄v
        let eigenvalue = projection.reduce(0.0) { $0 + $1 * $1 }                                                         // λ = ‖X̄v‖²
        let residual = (0..<channels).map { k in
            (0..<cells).reduce(0.0) { $0 + centred[k * cells + $1] * projection[$1] } - eigenvalue * v[k]                // (X̄ᵀX̄v − λv)_k
        }.reduce(0.0) { $0 + $1 * $1 }.squareRoot()
        let norm = v.reduce(0.0) { $0 + $1 * $1 }.squareRoot()
        checks.append(.equal("‖v‖ = 1", "‖v‖", norm, "1", 1, tolerance: .sum(count: 1, magnitude: 1)))
        checks.append(.equal("X̄ᵀX̄ v = λ v, λ = ‖X̄v‖² (v is a principal direction of the centred activations)",
                             "‖X̄ᵀX̄ v − λ v‖", residual, "0", 0, tolerance: .sum(count: 1, magnitude: eigenvalue)))
        return checks
    }
}

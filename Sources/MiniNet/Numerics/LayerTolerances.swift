/// Tolerances of the sums the CAM family computes, from the float32 error model of `Tolerance`.
extension Tolerance {
    /// The rounding of a weighted sum Σ_k w_k A^k(i, j) computed cell by cell in float32
    /// ([K, h, w], [K]): n = K terms per cell, Σ|terms| the largest over the cells of
    /// Σ_k |w_k A^k(i, j)|, and the largest single |w_k A^k(i, j)|.
    public static func weightedSum(_ activations: Tensor, weights: [Float]) -> Tolerance {
        let (channels, cells) = (activations.shape[0], activations.count / Swift.max(activations.shape[0], 1))
        var largestMagnitude = 0.0
        var largestTerm = 0.0
        activations.data.withUnsafeBufferPointer { values in
            for cell in 0..<cells {
                var magnitude = 0.0
                for k in 0..<channels {
                    let term = abs(Double(weights[k]) * Double(values[k * cells + cell]))
                    magnitude += term
                    largestTerm = Swift.max(largestTerm, term)
                }
                largestMagnitude = Swift.max(largestMagnitude, magnitude)
            }
        }
        return .sum(count: channels, magnitude: largestMagnitude, largestTerm: largestTerm)
    }

    /// The rounding of a logit that global average pooling and a linear layer compute from the
    /// maps A [K, h, w]: Z = h·w terms in each mean, then K + 1 in the linear layer, so
    ///
    ///     |error| ≤ γ_{Z+K+1} · M,    M = Σ_k |w_k| · mean|A^k| + |b|
    ///
    /// (errors of nested sums add: γ_Z + γ_{K+1} ≤ γ_{Z+K+1}). `scale` multiplies M for an
    /// identity stated Z times larger (Σ_{x,y} M_c = Z·(S_c − b_c)).
    public static func pooledLogit(_ activations: Tensor, weights: [Float], bias: Float, scale: Double = 1) -> Tolerance {
        let channels = activations.shape[0]
        let cells = activations.count / Swift.max(channels, 1)
        var magnitude = Double(abs(bias))
        var largestTerm = Double(abs(bias))
        for k in 0..<channels {
            let term = Double(abs(weights[k])) * activations.slice(k).data.reduce(0.0) { $0 + Double(abs($1)) } / Double(cells)
            magnitude += term
            largestTerm = Swift.max(largestTerm, term)
        }
        return .sum(count: cells + channels + 1, magnitude: scale * magnitude, largestTerm: scale * largestTerm)
    }

    /// The rounding of bilinear upsampling of a map [h, w]: each output pixel mixes 4 cells with
    /// weights that add up to 1, so n = 4 and Σ|terms| ≤ max|map|.
    public static func upsampling(_ map: Tensor) -> Tolerance {
        let largest = Double(map.data.map(abs).max() ?? 0)
        return .sum(count: 4, magnitude: largest, largestTerm: largest)
    }

}

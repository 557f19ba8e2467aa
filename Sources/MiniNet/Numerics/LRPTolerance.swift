extension LRPResult {
    /// The tolerance of conservation, f(x) = Σ_i R_i + what biases and ε kept, layer by layer:
    ///
    ///     Σ_l γₙ · (Σ|R at layer l's input| + |kept at layer l|)
    ///
    /// Each layer hands its relevance on as sums of at most n shares (n its fan-in, the largest
    /// over the network), so each adds its own rounding on the magnitude of what it passed on;
    /// the layers' errors add up along the way back. `classifier` gives n; `input` is the
    /// picture the relevance was computed for.
    public func conservationTolerance(classifier: ImageClassifier, input: Tensor, safety: Double = 4) -> Tolerance {
        let count = ImageClassifier.summingLayers(classifier.network.allLayers[...],
                                                  pooledCells: pooledCells(in: classifier.network)).count
        var magnitude = Double(Swift.abs(score))
        for step in steps {
            magnitude += step.relevanceMagnitude
            magnitude += Swift.abs(step.absorbedByBias) + Swift.abs(step.absorbedByStabilizer)
        }
        let largestTerm = relevance.data.reduce(0.0) { Swift.max($0, Double(Swift.abs($1))) }
        return .sum(count: count, magnitude: magnitude, largestTerm: largestTerm, safety: safety)
    }

    /// h·w of the maps the network's global average pooling averaged in this pass: the size of
    /// the pooling layer's recorded input [1, K, h, w] (1 without one).
    public func pooledCells(in network: Layer) -> Int {
        let pool = network.allLayers.first { $0 is GlobalAveragePool }
        let poolInput = steps.first { $0.layer == pool?.name }?.activation.shape ?? []
        return poolInput.count == 4 ? poolInput[2] * poolInput[3] : 1
    }
}

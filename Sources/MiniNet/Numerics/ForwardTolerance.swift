extension ImageClassifier {
    /// The rounding a forward pass may leave in logit c, for a check whose two sides reach that
    /// logit by different arithmetic (BatchNorm merged into the convolutions or not, another
    /// summation order, a re-run from a middle layer):
    ///
    ///     tolerance = safety · depth · γₙ · M
    ///
    /// - depth: the layers after `layer` (all of them when nil) that add many numbers up:
    ///   convolutions, linear layers and global average pooling;
    /// - n: the most terms one of them adds into one value (Cin·kH·kW + 1 for a convolution,
    ///   Fin + 1 for a linear layer, h·w for the pooling);
    /// - M = Σ_j |W_cj · x_j| + |b_c| of the last linear layer: the magnitude of the logit's own
    ///   sum. An error made deeper down reaches the logit scaled as the activations are, so M
    ///   stands for the magnitude of every layer's sum once carried to the output.
    ///
    /// The network runs once more on `input` [C, H, W] to measure M and the pooled size. With
    /// no target, the tolerance holds for every logit: M is the largest over the classes, and
    /// the largest term the smallest (a term left out of any logit must show).
    public func forwardTolerance(input: Tensor, target: Int? = nil, after layer: String? = nil,
                                 safety: Double = 4) -> Tolerance {
        withForwardTolerance(target: target, after: layer, safety: safety) { _ = forward(input.reshaped([1] + input.shape)) }.tolerance
    }

    /// `pass`, a forward pass of one image through this network (`inferenceLogits` of [1, C, H, W],
    /// say), and the tolerance of its logits (`forwardTolerance(input:)`), measured from the
    /// pooled features that same pass made: the score and its tolerance for one pass, not two.
    public func withForwardTolerance<Result>(target: Int? = nil, after layer: String? = nil, safety: Double = 4,
                                             _ pass: () -> Result) -> (result: Result, tolerance: Tolerance) {
        let layers = network.allLayers
        guard layers.contains(where: { $0 is Linear }),
              let poolIndex = layers.lastIndex(where: { $0 is GlobalAveragePool }) else {
            return (pass(), .sum(count: 1, magnitude: 0))
        }
        // The pooled features x [Fin] (the head's input) and the size h·w of the pooled maps.
        var pooled: Tensor?
        var pooledCells = 1
        let pool = layers[poolIndex]
        let beforePool = layers[..<poolIndex].last { !($0 is Sequential) && !($0 is Residual) }
        let previousPoolHook = pool.hooks.forward
        let previousBeforeHook = beforePool?.hooks.forward
        pool.hooks.forward = { output in pooled = output; return previousPoolHook?(output) ?? output }
        beforePool?.hooks.forward = { output in
            if output.shape.count == 4 { pooledCells = output.shape[2] * output.shape[3] }
            return previousBeforeHook?(output) ?? output
        }
        let result = pass()
        pool.hooks.forward = previousPoolHook
        beforePool?.hooks.forward = previousBeforeHook
        return (result, forwardTolerance(pooledFeatures: pooled ?? Tensor(zeros: [0]), pooledCells: pooledCells, target: target,
                                         after: layer, safety: safety))
    }

    /// The same from a pass already made: `pooledFeatures` x [Fin] (the last linear layer's
    /// input, any shape) and `pooledCells`, the size h·w of the maps the pooling averaged.
    public func forwardTolerance(pooledFeatures: Tensor, pooledCells: Int, target: Int? = nil, after layer: String? = nil,
                                 safety: Double = 4) -> Tolerance {
        let layers = network.allLayers
        // The layers after `layer` and after everything inside it (allLayers is in pre-order).
        let start = layer.flatMap { name in layers.firstIndex { $0.name == name } }
            .map { $0 + layers[$0].allLayers.count } ?? 0
        guard let head = layers.last(where: { $0 is Linear }) as? Linear else {
            return .sum(count: 1, magnitude: 0)
        }
        let features = pooledFeatures.data
        let fanIn = head.inputFeatures
        var magnitude = 0.0
        var largestTerm = Double.infinity
        for c in target.map({ [$0] }) ?? Array(0..<head.outputFeatures) {
            var classMagnitude = Double(abs(head.bias?.value.data[c] ?? 0))
            var classLargestTerm = classMagnitude
            for j in 0..<Swift.min(fanIn, features.count) {
                let term = Double(abs(head.weight.value.data[c * fanIn + j] * features[j]))
                classMagnitude += term
                classLargestTerm = Swift.max(classLargestTerm, term)
            }
            magnitude = Swift.max(magnitude, classMagnitude)
            largestTerm = Swift.min(largestTerm, classLargestTerm)
        }
        let (count, depth) = Self.summingLayers(layers[Swift.min(start, layers.count)...], pooledCells: pooledCells)
        return .sum(count: count, magnitude: magnitude, largestTerm: largestTerm, depth: depth, safety: safety)
    }

    /// The layers among `layers` that add many numbers up (convolutions, linear layers, global
    /// average pooling of `pooledCells` values), and the most terms one of them adds into one
    /// value: the n and the depth of the error model. No pass through the network is needed.
    static func summingLayers(_ layers: ArraySlice<Layer>, pooledCells: Int) -> (count: Int, depth: Int) {
        var depth = 0
        var count = 1
        for layer in layers {
            switch layer {
            case let convolution as Conv2d:
                count = Swift.max(count, convolution.inputChannels * convolution.kernelSize * convolution.kernelSize + 1)
            case let linear as Linear:
                count = Swift.max(count, linear.inputFeatures + 1)
            case is GlobalAveragePool:
                count = Swift.max(count, pooledCells)
            default:
                // BatchNorm and a residual addition round 2 terms per value (γ₂, far below γₙ),
                // ReLU and max-pooling none: the safety factor covers them.
                continue
            }
            depth += 1
        }
        return (count, Swift.max(depth, 1))
    }
}

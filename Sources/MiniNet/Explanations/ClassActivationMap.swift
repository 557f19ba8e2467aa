/// What a CAM variant computes, step by step, for one image, class and layer.
public struct CAMResult {
    public var method: String
    public var layer: String
    public var target: ExplanationTarget
    /// y^c
    public var score: Float
    /// [L]
    public var logits: [Float]
    /// [K, h, w]: A^k
    public var activations: Tensor
    /// [K]: the channel weights (α^c_k for Grad-CAM, w^c_k for CAM and Ablation-CAM). For a
    /// variant that weights each element (`elementWeights` is set), the spatial mean
    /// (1/Z) Σ_{i,j} W^k_{ij} of its element weights, a summary per channel that the map does
    /// not use (for HiResCAM it is Grad-CAM's α^c_k).
    public var weights: [Float]
    /// [h, w]: the weighted sum before ReLU, Σ_k weight_k · A^k + offset, or Σ_k W^k ⊙ A^k
    public var weightedSum: Tensor
    /// [h, w]: ReLU(weightedSum), the raw map at the layer's resolution
    public var map: Tensor
    /// [H, W]: `map` upsampled to the input size (bilinear, align_corners = False)
    public var upsampled: Tensor
    /// [H, W]: `upsampled` scaled to 0…1 by (x − min)/(max − min + 1e-7), as pytorch-grad-cam does
    public var normalized: Tensor
    /// [K, h, w]: W^k_{ij}, for a variant that weights each element of A (HiResCAM, LayerCAM,
    /// element-wise Grad-CAM); nil for a variant that weights whole channels.
    public var elementWeights: Tensor? = nil
    /// b: a constant added to every cell of the weighted sum (Eigen-CAM's −Σ_k v_k μ_k, which
    /// centres the activations); 0 for every other variant.
    public var offset: Float = 0
}

/// How a CAM variant weights the activations A [K, h, w] before they are summed over k.
public enum CAMWeighting {
    /// One weight per channel and a constant for every cell:  Σ_k w_k · A^k + b
    case channels([Float], offset: Float)
    /// One weight per element, W [K, h, w]:  Σ_k W^k ⊙ A^k
    case elements(Tensor)
}

/// The shared pipeline of every CAM variant (a template method, like pytorch-grad-cam's
/// BaseCAM): a variant only says how to weight the activations; the rest is common.
///
///     L^c = ReLU( Σ_k weight^c_k · A^k + b )   or   ReLU( Σ_k W^k ⊙ A^k )
///
/// then upsample and normalise. Most variants weight whole channels and override
/// `channelWeights` (pytorch-grad-cam's get_cam_weights); a variant that weights each element
/// (HiResCAM, LayerCAM, element-wise Grad-CAM) or adds a constant (Eigen-CAM) overrides
/// `weighting` instead (pytorch-grad-cam overrides get_cam_image for these).
open class ClassActivationMapMethod {
    public let classifier: ImageClassifier

    public init(classifier: ImageClassifier) {
        self.classifier = classifier
    }

    open var name: String { "CAM" }

    /// The method's stable id, as `tutor explain --method` spells it ("gradcam", "scorecam", …).
    open var id: String { fatalError("\(type(of: self)) must override id") }

    /// Whether the variant reads ∂y^c/∂A. Score-CAM and Eigen-CAM do not, so the probe skips the
    /// backward pass for them (pytorch-grad-cam's uses_gradients).
    open var usesGradients: Bool { true }

    /// The variant's channel weights [K], from a probe of the layer.
    open func channelWeights(probe: LayerProbe, input: Tensor, layer: String, target: ExplanationTarget) throws -> [Float] {
        fatalError("\(type(of: self)) must override channelWeights or weighting")
    }

    /// Set while `explain(input:layer:targets:)` runs: nothing changes the network in between, so
    /// a variant whose extra passes do not depend on the target may run them once for all.
    public private(set) var isSharingPasses = false

    /// While sharing: the logits [K, L] of a variant's extra passes, with the layer and the
    /// tensors they were computed from.
    private var sharedPasses: (layer: String, sources: [Tensor], logits: Tensor)?

    /// The logits [K, L] of a variant's extra passes (Score-CAM's masked inputs, Ablation-CAM's
    /// ablated copies): `run()`, or, within one `explain(input:layer:targets:)`, the logits an
    /// earlier target's passes got from the same layer and the same `sources`.
    func logitsOfPasses(layer: String, from sources: [Tensor], _ run: () throws -> Tensor) rethrows -> Tensor {
        if isSharingPasses, let shared = sharedPasses, shared.layer == layer, shared.sources == sources {
            return shared.logits
        }
        let logits = try run()
        if isSharingPasses { sharedPasses = (layer, sources, logits) }
        return logits
    }

    /// Several targets on one picture and layer, each as `explain(input:layer:target:)` would
    /// give it. Score-CAM's masked inputs and Ablation-CAM's ablated copies are the same for
    /// every target (only which logit is read differs), so they run once.
    public func explain(input: Tensor, layer: String, targets: [ExplanationTarget]) throws -> [CAMResult] {
        try sharingPasses { try targets.map { try explain(input: input, layer: layer, target: $0) } }
    }

    /// The same with the probes already made, one per target (see `explain(input:probe:)`).
    public func explain(input: Tensor, probes: [LayerProbe]) throws -> [CAMResult] {
        try sharingPasses { try probes.map { try explain(input: input, probe: $0) } }
    }

    private func sharingPasses<Result>(_ body: () throws -> Result) rethrows -> Result {
        isSharingPasses = true
        defer {
            isSharingPasses = false
            sharedPasses = nil
        }
        return try body()
    }

    /// How the variant weights the activations; by default its channel weights, with b = 0.
    open func weighting(probe: LayerProbe, input: Tensor, layer: String, target: ExplanationTarget) throws -> CAMWeighting {
        .channels(try channelWeights(probe: probe, input: input, layer: layer, target: target), offset: 0)
    }

    /// input [C, H, W] → the whole pipeline's intermediate results.
    public func explain(input: Tensor, layer: String, target: ExplanationTarget) throws -> CAMResult {
        try explain(input: input, probe: LayerProbe(classifier: classifier, input: input, layer: layer, target: target,
                                                    backward: usesGradients))
    }

    /// The pipeline on a probe already made: one forward and backward pass that every variant
    /// run on the same picture, layer and target can share (a lesson that shows nine variants
    /// side by side makes one probe instead of nine). The probe must be of this classifier and
    /// `input` [C, H, W], and have its gradients if the variant reads them.
    public func explain(input: Tensor, probe: LayerProbe) throws -> CAMResult {
        let (layer, target) = (probe.layer, probe.target)
        if usesGradients && probe.gradients.count != probe.activations.count {
            throw MiniNetError.invalidArgument("\(name) reads ∂y/∂A, and the probe of '\(layer)' was made without its backward pass")
        }
        let weights: [Float]
        var elementWeights: Tensor?
        var offset: Float = 0
        let weightedSum: Tensor
        switch try weighting(probe: probe, input: input, layer: layer, target: target) {
        case let .channels(channelWeights, offset: constant):
            (weights, offset) = (channelWeights, constant)
            let sum = weightedChannelSum(probe.activations, weights: channelWeights)
            weightedSum = constant == 0 ? sum : sum.map { $0 + constant }
        case let .elements(perElement):
            (weights, elementWeights) = (spatialMeans(perElement), perElement)
            weightedSum = elementWeightedSum(probe.activations, weights: perElement)
        }
        let map = weightedSum.map { max($0, 0) }
        let upsampled = resizeBilinear(map.reshaped([1] + map.shape), height: input.shape[1], width: input.shape[2])
            .reshaped([input.shape[1], input.shape[2]])
        return CAMResult(method: name, layer: layer, target: target, score: probe.targetValue, logits: probe.logits,
                         activations: probe.activations, weights: weights, weightedSum: weightedSum, map: map,
                         upsampled: upsampled, normalized: minMaxNormalize(upsampled),
                         elementWeights: elementWeights, offset: offset)
    }
}

/// Σ_k weights[k] · A^k for activations [K, h, w] → [h, w]
public func weightedChannelSum(_ activations: Tensor, weights: [Float]) -> Tensor {
    let (channels, height, width) = (activations.shape[0], activations.shape[1], activations.shape[2])
    precondition(weights.count == channels, "\(weights.count) weights for \(channels) channels")
    var total = [Double](repeating: 0, count: height * width)
    for k in 0..<channels {
        let start = k * height * width
        for index in 0..<(height * width) { total[index] += Double(weights[k]) * Double(activations.data[start + index]) }
    }
    return Tensor(shape: [height, width], data: total.map { Float($0) })
}

/// Σ_k W^k_{ij} · A^k_{ij} for activations and element weights [K, h, w] → [h, w]
public func elementWeightedSum(_ activations: Tensor, weights: Tensor) -> Tensor {
    precondition(weights.shape == activations.shape, "element weights \(weights.shape) for activations \(activations.shape)")
    let (channels, planeSize) = (activations.shape[0], activations.shape[1] * activations.shape[2])
    var total = [Double](repeating: 0, count: planeSize)
    for k in 0..<channels {
        let start = k * planeSize
        for index in 0..<planeSize { total[index] += Double(weights.data[start + index]) * Double(activations.data[start + index]) }
    }
    return Tensor(shape: [activations.shape[1], activations.shape[2]], data: total.map { Float($0) })
}

/// (1/Z) Σ_{i,j} X^k_{ij} for each channel of X [K, h, w] → [K]
public func spatialMeans(_ planes: Tensor) -> [Float] {
    let (channels, planeSize) = (planes.shape[0], planes.shape[1] * planes.shape[2])
    return (0..<channels).map { k in
        var total = 0.0
        for index in (k * planeSize)..<((k + 1) * planeSize) { total += Double(planes.data[index]) }
        return Float(total / Double(planeSize))
    }
}

/// (x − min)/(max − min + 1e-7), pytorch-grad-cam's scale_cam_image.
public func minMaxNormalize(_ map: Tensor) -> Tensor {
    let (low, high) = (map.min, map.max)
    return map.map { ($0 - low) / (high - low + 1e-7) }
}

/// CAM (Zhou et al.), for a network whose explained layer feeds global average pooling and
/// then one linear layer: the weights are that layer's row for class c,
///
///     S_c = Σ_k w^c_k F^k + b_c,   F^k = (1/Z) Σ_{x,y} f_k(x, y)
///     M_c(x, y) = Σ_k w^c_k f_k(x, y)     so that   S_c = (1/Z) Σ_{x,y} M_c(x, y) + b_c
public final class CAM: ClassActivationMapMethod {
    public override var name: String { "CAM" }
    public override var id: String { "cam" }

    public override func channelWeights(probe: LayerProbe, input: Tensor, layer: String, target: ExplanationTarget) throws -> [Float] {
        guard let head = classifier.network.allLayers.last(where: { $0 is Linear }) as? Linear else {
            throw MiniNetError.invalidArgument("CAM needs a final linear layer")
        }
        guard head.inputFeatures == probe.activations.shape[0] else {
            throw MiniNetError.invalidArgument("CAM needs the layer that feeds global average pooling (\(head.inputFeatures) channels); '\(layer)' has \(probe.activations.shape[0])")
        }
        // The head's weights mean something only for the maps it pools: not for an earlier
        // layer that happens to have as many channels.
        guard classifier.feedsPoolingAndLinearHead(layer, nonNegative: probe.activations.min >= 0) else {
            if let suitable = classifier.featureMapLayers.last(where: { classifier.feedsPoolingAndLinearHead($0, nonNegative: true) }) {
                throw MiniNetError.invalidArgument("CAM needs the layer that feeds global average pooling and the final linear layer, such as '\(suitable)'; '\(layer)' does not")
            }
            throw MiniNetError.invalidArgument("CAM needs a layer that feeds global average pooling and then the final linear layer, and this network has none; use gradcam, which works at any layer")
        }
        let c = target.classIndex
        return Array(head.weight.value.data[(c * head.inputFeatures)..<((c + 1) * head.inputFeatures)])
    }
}

/// Grad-CAM (Selvaraju et al.): the weight of channel k is the spatial mean of the gradient,
///
///     α^c_k = (1/Z) Σ_{i,j} ∂y^c/∂A^k_{ij}
public final class GradCAM: ClassActivationMapMethod {
    public override var name: String { "Grad-CAM" }
    public override var id: String { "gradcam" }

    public override func channelWeights(probe: LayerProbe, input: Tensor, layer: String, target: ExplanationTarget) throws -> [Float] {
        spatialMeans(probe.gradients)
    }
}

/// Ablation-CAM (Desai & Ramaswamy): set A^k to 0, re-run the rest of the network to get
/// y^c_k, and weight the channel by the fraction the score drops,
///
///     w^c_k = (y^c − y^c_k) / y^c
///
/// Only the layers after the ablated one are re-run, for all K ablations as one batch.
public final class AblationCAM: ClassActivationMapMethod {
    public override var name: String { "Ablation-CAM" }
    public override var id: String { "ablationcam" }
    /// |y^c| below this is too close to 0 to divide by.
    public var minimumScore: Float = 1e-6
    /// How many ablated copies are pushed through the network at once.
    public var batchSize = 128

    public override func channelWeights(probe: LayerProbe, input: Tensor, layer: String, target: ExplanationTarget) throws -> [Float] {
        let ablated = try ablatedScores(activations: probe.activations, layer: layer, target: target)
        let score = probe.targetValue
        guard abs(score) >= minimumScore else {
            throw MiniNetError.invalidArgument("the target score y^c = \(score) is too close to 0 for Ablation-CAM's weights (y^c − y^c_k)/y^c; choose another class or layer")
        }
        return ablated.map { (score - $0) / score }
    }

    /// y^c_k for every channel k: the target with A^k = 0, the rest re-run from the layer on.
    public func ablatedScores(activations: Tensor, layer: String, target: ExplanationTarget) throws -> [Float] {
        target.values(batchLogits: try logitsOfPasses(layer: layer, from: [activations]) {
            try ablatedLogits(activations: activations, layer: layer)
        })
    }

    /// The logits [K, L] of the K ablated copies, in batches of `batchSize`.
    func ablatedLogits(activations: Tensor, layer: String) throws -> Tensor {
        let (channels, planeSize) = (activations.shape[0], activations.shape[1] * activations.shape[2])
        var allLogits: [Float] = []                                     // [K, L]
        var start = 0
        classifier.network.setTraining(false)
        while start < channels {
            let end = min(start + batchSize, channels)
            var batch = [Float]()
            batch.reserveCapacity((end - start) * activations.count)
            for k in start..<end {
                var copy = activations.data
                for index in (k * planeSize)..<((k + 1) * planeSize) { copy[index] = 0 }
                batch.append(contentsOf: copy)
            }
            let ablated = Tensor(shape: [end - start] + activations.shape, data: batch)
            guard let logits = GradientRecording.disabled({ classifier.network.forward(after: layer, activation: ablated) }) else {
                throw MiniNetError.invalidArgument("cannot re-run the network from inside '\(layer)'; choose a layer at the level of a block")
            }
            allLogits += logits.data
            start = end
        }
        return Tensor(shape: [channels, allLogits.count / max(channels, 1)], data: allLogits)
    }
}

import Foundation

/// How a heatmap becomes a mask M in 0…1 before it multiplies the input.
public enum MaskScaling: String, Sendable, CaseIterable {
    /// pytorch-grad-cam's scale_cam_image: M = (h − min h) / (1e-7 + max(h − min h)), in float32.
    case minMax
    /// The heatmap as it is (it must already lie in 0…1, as a CAM's `Explanation.heatmap` does).
    case asGiven
}

/// Where the mask multiplies the picture.
public enum MaskingSpace: String, Sendable, CaseIterable {
    /// x ⊙ M on the normalised input, as pytorch-grad-cam's `multiply_tensor_with_cam`: a masked
    /// pixel goes to 0, the data set's mean colour.
    case normalisedInput
    /// normalise(pixels(x) ⊙ M): the picture in 0…1 is multiplied, as the Grad-CAM++ paper shows
    /// it (Chattopadhay et al. 2018, Fig. 6: "explanation maps E^c = L^c ∘ I"): a masked pixel
    /// goes to black.
    case pixels
}

/// The score of one picture before and after it is multiplied by its explanation map
/// (Chattopadhay et al. 2018, §6.1): Y^c = y^c(x), O^c = y^c(x ⊙ M).
public struct ConfidenceChange: Sendable, Equatable {
    public var target: ExplanationTarget
    /// Y^c, the score of the whole picture.
    public var fullScore: Float
    /// O^c, the score of the picture times the map.
    public var maskedScore: Float

    public init(target: ExplanationTarget, fullScore: Float, maskedScore: Float) {
        self.target = target
        self.fullScore = fullScore
        self.maskedScore = maskedScore
    }

    /// O^c − Y^c in float32: pytorch-grad-cam's `CamMultImageConfidenceChange`.
    public var change: Float { maskedScore - fullScore }
    /// max(0, Y^c − O^c): pytorch-grad-cam's `DropInConfidence`, an absolute drop.
    public var drop: Float { Swift.max(-change, 0) }
    /// max(0, Y^c − O^c) / Y^c: one picture's term of the paper's Average Drop, relative to Y^c;
    /// nil when Y^c ≤ 0 (a logit can be), where a relative drop means nothing.
    public var relativeDrop: Double? {
        fullScore > 0 ? Double(drop) / Double(fullScore) : nil
    }
    /// [Y^c < O^c]: one picture's term of Increase in Confidence (pytorch-grad-cam's
    /// `IncreaseInConfidence` returns it as 1.0 or 0.0).
    public var increased: Bool { change > 0 }
}

/// The averages over a set of pictures, both the paper's and pytorch-grad-cam's.
public struct ConfidenceSummary: Sendable, Equatable {
    public var count: Int
    /// Average Drop % = 100/N · Σ_i max(0, Y_i − O_i) / Y_i (Chattopadhay et al.), over the
    /// pictures with Y_i > 0 (`relativeDropCount` of them); nil if there are none. Lower is better.
    public var averageDropPercent: Double?
    public var relativeDropCount: Int
    /// Increase in Confidence % = 100/N · Σ_i [Y_i < O_i]. Higher is better.
    public var increaseInConfidencePercent: Double
    /// mean of pytorch-grad-cam's DropInConfidence, max(0, Y − O): absolute, not relative.
    public var meanDrop: Double
    /// mean of CamMultImageConfidenceChange, O − Y.
    public var meanChange: Double
}

extension Faithfulness {
    /// pytorch-grad-cam's scale_cam_image for one map, in float32:
    ///
    ///     M = (h − min h) / (1e-7 + max(h − min h))
    public static func unitScaled(_ heatmap: Tensor) -> Tensor {
        let low = heatmap.min
        let shifted = heatmap.map { $0 - low }
        let scale = Float(1e-7) + shifted.max
        return shifted.map { $0 / scale }
    }

    /// The input [C, H, W] multiplied by the mask M [H, W] (every channel):
    ///
    ///     normalisedInput:  x ⊙ M
    ///     pixels:           normalise(denormalise(x) ⊙ M)
    public static func maskedInput(classifier: ImageClassifier, image: Tensor, mask: Tensor, space: MaskingSpace) -> Tensor {
        let planeSize = mask.count
        var picture = space == .pixels ? classifier.denormalize(image) : image
        for index in picture.data.indices { picture.data[index] *= mask.data[index % planeSize] }
        return space == .pixels ? classifier.normalize(picture) : picture
    }

    /// Y^c and O^c for one picture: `confidenceChanges` for a set of one.
    public static func confidenceChange(classifier: ImageClassifier, input: Tensor, heatmap: Tensor, target: ExplanationTarget,
                                        scaling: MaskScaling = .minMax, space: MaskingSpace = .normalisedInput) throws -> ConfidenceChange {
        try confidenceChanges(classifier: classifier, inputs: [input], heatmaps: [heatmap], targets: [target],
                              scaling: scaling, space: space)[0]
    }

    /// Y_i = y^c(x_i) and O_i = y^c(x_i ⊙ M_i) for every picture, with M_i = the heatmap scaled to
    /// 0…1 (`scaling`); the originals and the masked pictures go through the network in batches,
    /// together, and an original given more than once (several maps of one picture) only once.
    public static func confidenceChanges(classifier: ImageClassifier, inputs: [Tensor], heatmaps: [Tensor],
                                         targets: [ExplanationTarget], scaling: MaskScaling = .minMax,
                                         space: MaskingSpace = .normalisedInput,
                                         batchSize: Int = defaultBatchSize) throws -> [ConfidenceChange] {
        guard inputs.count == heatmaps.count, inputs.count == targets.count else {
            throw MiniNetError.invalidArgument("\(inputs.count) inputs, \(heatmaps.count) heatmaps and \(targets.count) targets: they must be as many")
        }
        try checkBatchSize(batchSize)
        guard !inputs.isEmpty else { return [] }
        var images: [Tensor] = []
        var masked: [Tensor] = []
        for ((input, heatmap), target) in zip(zip(inputs, heatmaps), targets) {
            let image = try checkedImage(input, heatmap: heatmap, classifier: classifier, target: target)
            guard image.shape == images.first?.shape ?? image.shape else {
                throw MiniNetError.invalidArgument("the inputs have different shapes: \(images[0].shape) and \(image.shape)")
            }
            let mask = scaling == .minMax ? unitScaled(heatmap) : heatmap
            images.append(image)
            masked.append(maskedInput(classifier: classifier, image: image, mask: mask, space: space))
        }
        let shape = images[0].shape
        // Each distinct original once (equal bit for bit), then every masked picture.
        var originals: [Tensor] = []
        let original = images.map { image in
            if let index = originals.firstIndex(where: { $0.hasSameBits(as: image) }) { return index }
            originals.append(image)
            return originals.count - 1
        }
        let pictures = originals + masked
        let logits = batchedLogits(classifier: classifier, count: pictures.count, imageShape: shape, batchSize: batchSize) {
            _ = $1.update(fromContentsOf: pictures[$0].data)
        }
        return targets.indices.map { i in
            ConfidenceChange(target: targets[i], fullScore: targets[i].values(batchLogits: logits.matrixRow(original[i])).first!,
                             maskedScore: targets[i].values(batchLogits: logits.matrixRow(originals.count + i)).first!)
        }
    }

    /// The averages of the paper and of pytorch-grad-cam over a set of pictures.
    public static func summary(of changes: [ConfidenceChange]) -> ConfidenceSummary {
        let count = changes.count
        let relative = changes.compactMap(\.relativeDrop)
        func mean(_ values: [Double]) -> Double { values.isEmpty ? 0 : values.reduce(0, +) / Double(values.count) }
        return ConfidenceSummary(
            count: count,
            averageDropPercent: relative.isEmpty ? nil : 100 * mean(relative),
            relativeDropCount: relative.count,
            increaseInConfidencePercent: 100 * mean(changes.map { $0.increased ? 1 : 0 }),
            meanDrop: mean(changes.map { Double($0.drop) }),
            meanChange: mean(changes.map { Double($0.change) }))
    }
}

extension Tensor {
    /// Row i of a matrix [N, L], as a matrix [1, L].
    fileprivate func matrixRow(_ index: Int) -> Tensor {
        slice(index).reshaped([1, shape[1]])
    }
}

import Foundation
import MiniNet

/// Small pieces shared by the intro, CAM and Grad-CAM lessons: reading the reader's choices
/// (class, layer) with one-line errors, and formatting numbers for tables and prose.
enum CAMLessonSupport {
    /// The class to explain: `context.targetClass`, or the predicted class (argmax of the logits [L]).
    static func targetClass(_ context: LessonContext, logits: [Float]) throws -> Int {
        let names = context.classifier.classNames
        guard let chosen = context.targetClass else {
            return logits.indices.max { logits[$0] < logits[$1] } ?? 0
        }
        guard names.indices.contains(chosen) else {
            throw MiniNetError.invalidArgument(
                "class \(chosen) is out of range 0..<\(names.count)")
        }
        return chosen
    }

    /// The layer to explain: `context.layer`, or the last feature-map layer; an unknown name throws.
    static func layer(_ context: LessonContext) throws -> String {
        let classifier = context.classifier
        let name = context.layer ?? context.defaultCAMLayer(for: classifier)
        guard classifier.layer(named: name) != nil else {
            throw MiniNetError.invalidArgument(
                "no layer named '\(name)'; layers are: \(classifier.layerNames.joined(separator: ", "))")
        }
        return name
    }

    /// The feature-map layer (ReLU or residual block) before `layer`, for showing that Grad-CAM
    /// works at any depth; nil when there is none. In a ResNet it is the last block of the stage
    /// before (layer3's for layer4), whose maps have twice the resolution.
    static func earlierFeatureLayer(before layer: String, in classifier: ImageClassifier) -> String? {
        let candidates = LessonContext.featureMapLayers(of: classifier)
        guard let index = candidates.firstIndex(of: layer) else { return candidates.dropLast().last }
        let stage = layer.split(separator: ".").first.map(String.init) ?? ""
        if stage.hasPrefix("layer"), let previous = candidates[..<index].last(where: { !$0.hasPrefix(stage + ".") && $0.hasPrefix("layer") }) {
            return previous
        }
        return index > 0 ? candidates[index - 1] : nil
    }

    /// The picture to explain [3, H, W] in 0…1 and the network's input [3, H, W] (normalised).
    static func picture(_ context: LessonContext) throws -> (image: Tensor, input: Tensor) {
        let size = context.classifier.inputSize
        let image = context.pictureOrDefault(imageSize: size[1])
        guard image.shape == size else {
            throw MiniNetError.invalidArgument("the picture has shape \(image.shape) but the network expects \(size)")
        }
        return (image, context.classifier.normalize(image))
    }

    /// The classes a score table shows: all of a small model's; of many (ImageNet's 1000), the
    /// five highest scores and the explained class.
    static func shownClasses(_ scores: [Float], target: Int) -> [Int] {
        guard scores.count > 10 else { return Array(scores.indices) }
        var shown = Array(scores.indices.sorted { scores[$0] > scores[$1] }.prefix(5))
        if !shown.contains(target) { shown.append(target) }
        return shown
    }

    /// Σ_k weights_k · A^k(i, j), one cell at a time in Double: the lessons' independent
    /// recomputation of the CAM family's weighted sum. [K, h, w], [K] → [h, w]
    static func weightedSumByLoops(_ activations: Tensor, weights: [Float]) -> Tensor {
        let (channels, height, width) = (activations.shape[0], activations.shape[1], activations.shape[2])
        var map = Tensor(zeros: [height, width])
        for i in 0..<height {
            for j in 0..<width {
                var total = 0.0
                for k in 0..<channels { total += Double(weights[k]) * Double(activations[k, i, j]) }
                map[i, j] = Float(total)
            }
        }
        return map
    }

    static func number(_ value: Float) -> String { number(Double(value)) }

    static func number(_ value: Double) -> String { String(format: "%.4f", value) }

    static func shape(_ shape: [Int]) -> String { "[" + shape.map(String.init).joined(separator: ", ") + "]" }

    /// The largest |x| of a tensor.
    static func scale(_ tensor: Tensor) -> Double {
        Double(tensor.data.map(abs).max() ?? 0)
    }

    /// Σ_{x,y} map·mask / Σ_{x,y} map for a non-negative map [H, W] and a mask [H, W]:
    /// the fraction of the map's mass that falls inside the mask (0 for an all-zero map).
    static func massFraction(_ map: Tensor, inside mask: Tensor) -> Double {
        let total = map.sum()
        return total > 0 ? (map * mask).sum() / total : 0
    }
}

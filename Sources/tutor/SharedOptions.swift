import ArgumentParser
import Foundation
import Lessons
import MiniNet

/// How a lesson is written out.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case text, markdown, json
}

/// --weights, shared by every command that runs the small network.
struct ModelOptions: ParsableArguments {
    @Option(help: "The model file (safetensors written by `tutor train`). By default, models/mininet.safetensors.")
    var weights: String?

    func loadClassifier() throws -> ImageClassifier {
        try ImageClassifier.load(from: try weights ?? ModelLocation.defaultWeights())
    }

    /// The bias-free twin used for exact conservation, when it is available.
    func loadBiasFreeClassifier() -> ImageClassifier? {
        guard let path = try? ModelLocation.defaultWeights(named: "mininet-nobias.safetensors") else { return nil }
        return try? ImageClassifier.load(from: path)
    }
}

/// --image, --class, --layer, --seed: what to explain.
struct ExplanationOptions: ParsableArguments {
    @Option(help: "A PNG picture to explain; it is resized to the network's input size. By default a picture from the shapes data set.")
    var image: String?

    @Option(name: .customLong("class"), help: "The class to explain, by name (circle) or index (0). By default the predicted class.")
    var targetClass: String?

    @Option(help: "The layer to explain, by its PyTorch-style name, such as features.10. By default the last convolution block.")
    var layer: String?

    @Option(help: "Chooses the default picture and any other random choice of the lesson.")
    var seed: UInt64 = 7

    /// The picture as [3, H, W] in 0…1 at the network's input size, or nil.
    func loadImage(for classifier: ImageClassifier) throws -> Tensor? {
        guard let image else { return nil }
        let picture = try RGBImage.read(from: image)
        let (height, width) = (classifier.inputSize[1], classifier.inputSize[2])
        let tensor = picture.toTensor()
        if picture.width == width && picture.height == height { return tensor }
        return resizeBilinear(tensor, height: height, width: width)
    }

    func resolveClass(for classifier: ImageClassifier) throws -> Int? {
        guard let targetClass else { return nil }
        if let index = Int(targetClass) {
            guard index >= 0 && index < classifier.classNames.count else {
                throw ValidationError("--class \(index) is out of range; use 0 to \(classifier.classNames.count - 1) or a name: \(classifier.classNames.joined(separator: ", ")).")
            }
            return index
        }
        guard let index = classifier.classNames.firstIndex(of: targetClass) else {
            throw ValidationError("--class '\(targetClass)' is not a class of this model; use one of: \(classifier.classNames.joined(separator: ", ")).")
        }
        return index
    }

    func resolveLayer(for classifier: ImageClassifier) throws -> String? {
        guard let layer else { return nil }
        guard classifier.layer(named: layer) != nil else {
            throw ValidationError("--layer '\(layer)' is not a layer of this model; use one of: \(classifier.layerNames.joined(separator: ", ")).")
        }
        return layer
    }
}

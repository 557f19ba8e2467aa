import ArgumentParser
import Lessons
import Foundation
import MiniNet

struct PredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: translated("Classify a picture and show the most likely classes."),
        discussion: translated("""
        The picture is converted to RGB, resized to the network's input size if needed and \
        normalised with the mean and standard deviation stored in the model file. A torchvision \
        ResNet (--model, or a .pth/.safetensors state_dict given to --weights) sees the picture \
        as torchvision's evaluation transform makes it: shorter side 256, centre crop 224, \
        ImageNet mean and standard deviation. Instead of a \
        picture, --input-npy takes a tensor that is already preprocessed (C×H×W float32 .npy).
        """) + examplesSection([
            "tutor predict images/shapes/square.png",
            "tutor predict photo.png --weights resnet34.pth --top 5 --json",
        ])
    )

    @Argument(help: .translated("A PNG picture to classify."))
    var image: String?

    @Option(name: .customLong("input-npy"), help: .translated("An already preprocessed C×H×W float32 .npy file to classify instead of a picture."))
    var inputNpy: String?

    @OptionGroup var model: ModelOptions

    // .unconditional: "--top -1" reaches validate(), which names the value.
    @Option(parsing: .unconditional, help: .translated("How many of the most likely classes to show."), number: NumberText.whole)
    var top: Int = 3

    @Flag(help: .translated("Print an object with all logits and the top classes on standard output."))
    var json = false

    func validate() throws {
        if image == nil && inputNpy == nil { throw ValidationError(translated("Give a picture to classify, or --input-npy PATH for a preprocessed tensor.")) }
        if image != nil && inputNpy != nil { throw ValidationError(translated("Give either a picture or --input-npy, not both.")) }
        guard top >= 1 else { throw ValidationError(translated("--top {$1} is out of range: show at least 1 class, for example --top 3.", with: top)) }
    }

    @OptionGroup var language: LanguageOption

    func run() throws {
        let weightsPath = try model.weightsPath()
        let classifier = try model.loadClassifier()
        // Evaluation mode and no parameter gradients before the first pass: with them on, a
        // convolution keeps its im2col matrix (96 MiB for ResNet-34) and skips Winograd.
        classifier.prepareForExplanation()
        // One or two passes: making U for the 7 × 7 stage would cost as much as it saves, and 84 MB.
        Conv2d.smallStagesTakeWinograd = false
        let input: Tensor
        if let inputNpy {
            input = try loadInputNpy(inputNpy, for: classifier)
        } else {
            input = try preparingPicture(at: image!, for: classifier) { try classifier.preprocess($0) }
        }
        let logits = classifier.inferenceLogits(input.reshaped([1] + input.shape))
        let probabilities = softmax(logits)
        let ranked = probabilities.data.indices.sorted { probabilities.data[$0] > probabilities.data[$1] }.prefix(top)
        if json {
            Terminal.printJSON(.object([
                ("input", .string(image ?? inputNpy!)), ("weights", .string(weightsPath)),
                ("logits", .doubles(logits.data)),
                ("top", .array(ranked.map { index -> JSONOutput in .object([
                    ("index", .integer(index)), ("label", .string(classifier.classNames[index])),
                    ("probability", .double(Double(probabilities.data[index]))),
                ]) })),
            ]))
        } else {
            print("\(image ?? inputNpy!): \(classifier.classNames[ranked.first!])")
            for index in ranked {
                let label = classifier.classNames[index].padding(toLength: max(12, classifier.classNames[index].count), withPad: " ", startingAt: 0)
                print("  \(label) " + translated("{$1}%   logit {$2}", with: String(format: "%6.2f", probabilities.data[index] * 100),
                                                 String(format: "%8.4f", logits.data[index])))
            }
        }
    }
}

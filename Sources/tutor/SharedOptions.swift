import ArgumentParser
import Foundation
import Lessons
import MiniNet

/// How a lesson is written out.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case text, markdown, json, html
}

/// When terminal text gets colour and styles (escape codes).
enum ColorChoice: String, ExpressibleByArgument, CaseIterable {
    /// When standard output is a terminal, NO_COLOR is unset and TERM is not "dumb".
    case auto
    /// Always, even into a pipe (`| less -R`) and with NO_COLOR set.
    case always
    case never
}

/// --color, shared by the commands that print for people.
struct ColorOptions: ParsableArguments {
    @Option(help: .translated(
        "When to use colour: auto (when standard output is a terminal and NO_COLOR is not set), always (also into a pipe, for `| less -R`), or never.",
        valueName: "when"))
    var color: ColorChoice = .auto

    /// Whether standard output gets escape codes.
    var useColor: Bool {
        switch color {
        case .auto: return TerminalRenderer.standardOutputSupportsColor()
        case .always: return true
        case .never: return false
        }
    }
}

/// A torchvision ResNet named on the command line (`--model resnet34`).
extension ResNetVariant: ExpressibleByArgument {}

/// --model and --weights, shared by every command that runs a network.
struct ModelOptions: ParsableArguments {
    @Option(help: .translated(
        "A torchvision ResNet to run instead of the small network: resnet18, resnet34 or resnet50. Its weights come from --weights, or else from torch's hub cache (~/.cache/torch/hub/checkpoints).",
        valueName: "model"))
    var model: ResNetVariant?

    @Option(help: .translated("The weights: a model file written by `tutor train` (safetensors), or a torchvision ResNet state_dict (.pth or .safetensors), whose architecture is read from its keys. By default, models/mininet.safetensors."))
    var weights: String?

    /// The path the weights come from.
    func weightsPath() throws -> String {
        if let weights { return weights }
        if let model { return try ModelLocation.torchHubWeights(for: model) }
        return try ModelLocation.defaultWeights()
    }

    func loadClassifier() throws -> ImageClassifier {
        let path = try weightsPath()
        // A FIFO or a device given as --weights would make the readers below wait forever.
        try CheckpointLimits.checkWeightsFile(path)
        if model == nil, try ModelLocation.isTutorModelFile(path) {
            return try ImageClassifier.load(from: path)
        }
        return try PretrainedResNet.load(from: path, variant: model)
    }

    /// The bias-free twin used for exact conservation, when it is available (small network only).
    func loadBiasFreeClassifier() -> ImageClassifier? {
        guard model == nil, weights == nil, let path = try? ModelLocation.defaultWeights(named: "mininet-nobias.safetensors") else { return nil }
        return try? ImageClassifier.load(from: path)
    }
}

/// --image, --class, --layer, --seed: what to explain.
struct ExplanationOptions: ParsableArguments {
    @Option(help: .translated("A PNG picture to explain. It is resized to the network's input size (for a ResNet: shorter side 256, centre crop 224, as torchvision does). By default a picture from the shapes data set, or the photo of Chelsea the cat for a ResNet."))
    var image: String?

    // .unconditional: "--class -1" must reach resolveClass, which says why -1 is wrong,
    // instead of being read as a flag ("Missing value for '--class'").
    @Option(name: .customLong("class"), parsing: .unconditional,
            help: .translated("The class to explain, by name (circle) or index (0). By default the predicted class."))
    var targetClass: String?

    @Option(help: .translated("The layer to explain, by its PyTorch-style name, such as features.10 or layer3.5. By default the last convolution block (layer4's last block in a ResNet)."))
    var layer: String?

    @Option(parsing: .unconditional, help: .translated("Chooses the default picture and any other random choice of the lesson."), number: NumberText.seed)
    var seed: UInt64 = 7

    /// The picture as [3, H, W] in 0…1 at the network's input size, or nil.
    /// A network that was not trained on the shapes data set gets the photo of Chelsea the cat.
    func loadImage(for classifier: ImageClassifier) throws -> Tensor? {
        let shapesModel = classifier.classNames == ShapesDataset.classNames
        guard let path = try image ?? (shapesModel ? nil : ModelLocation.defaultPhoto()) else { return nil }
        return try preparingPicture(at: path, for: classifier) { try classifier.fitToInput($0) }
    }

    func resolveClass(for classifier: ImageClassifier) throws -> Int? {
        guard let targetClass else { return nil }
        let names = classifier.classNames
        let choices = names.count <= 20 ? names.joined(separator: ", ")
            : translated("{$1}, … ({$2} in all; `tutor predict` shows the likely ones)", with: names.prefix(3).joined(separator: ", "), names.count)
        if let index = Int(targetClass) {
            guard index >= 0 && index < classifier.classNames.count else {
                throw ValidationError(translated("--class {$1} is out of range; use 0 to {$2} or a name: {$3}.",
                                                 with: index, classifier.classNames.count - 1, choices))
            }
            return index
        }
        guard let index = classifier.classNames.firstIndex(of: targetClass) else {
            throw ValidationError(translated("--class '{$1}' is not a class of this model; use one of: {$2}.", with: targetClass, choices))
        }
        return index
    }

    func resolveLayer(for classifier: ImageClassifier) throws -> String? {
        guard let layer else { return nil }
        guard classifier.layer(named: layer) != nil else {
            throw ValidationError(translated("--layer '{$1}' is not a layer of this model; use one of: {$2}.",
                                             with: layer, classifier.layerNames.joined(separator: ", ")))
        }
        return layer
    }
}

/// Reads the picture at `path` and prepares it with `body`. A picture that the preparation
/// refuses (one too long and thin to resize, say) is reported against its file, so the
/// message says which picture is meant.
///
/// The small network knows three shapes and nothing else, so a picture of another size (a
/// photo, most likely) gets a one-line warning on stderr that it will be called one of them.
func preparingPicture<Result>(at path: String, for classifier: ImageClassifier? = nil,
                              _ body: (RGBImage) throws -> Result) throws -> Result {
    let picture = try RGBImage.read(from: path)
    if let classifier, classifier.classNames == ShapesDataset.classNames,
       picture.width != classifier.inputSize[2] || picture.height != classifier.inputSize[1] {
        Terminal.printError("tutor: " + translated(
            "warning: {$1} is {$2}×{$3}, not a {$4}×{$5} shape: the small network knows only {$6} and {$7}, and will call it one of them (for photos use --model resnet18, resnet34 or resnet50).",
            with: boundedSummary(path), picture.width, picture.height, classifier.inputSize[2], classifier.inputSize[1],
            ShapesDataset.classNames.dropLast().joined(separator: ", "), ShapesDataset.classNames.last ?? ""))
    }
    do {
        return try body(picture)
    } catch let MiniNetError.invalidArgument(problem) {
        throw MiniNetError.file(path, problem)
    }
}

/// Reads the preprocessed input given with --input-npy: a regular file holding finite
/// numbers in the shape the model expects (C×H×W). A NaN or an infinity is refused here,
/// naming where it is, because the network would turn it into NaN logits without a word.
func loadInputNpy(_ path: String, for classifier: ImageClassifier) throws -> Tensor {
    let input = try NumpyFile.readFinite(from: path)
    guard input.shape == classifier.inputSize else {
        throw MiniNetError.file(path, "has shape \(input.shape), the model expects \(classifier.inputSize) (C×H×W)")
    }
    return input
}

/// A language `tutor` speaks, named on the command line (`--lang vi`).
extension Language: ExpressibleByArgument {}

/// --lang, on every command. `Tutor.main` reads it before parsing (so that `--help` and the
/// parser's own errors are in that language too); declaring it here puts it in every
/// command's help and lets the parser accept it.
struct LanguageOption: ParsableArguments {
    @Option(name: .customLong("lang"), help: .translated(
        "The language of everything tutor prints: en (English) or vi (Vietnamese). By default TUTOR_LANG, else the locale in LC_ALL or LANG (vi_VN.UTF-8 means Vietnamese), else English.",
        valueName: "language"))
    var language: Language?
}

extension ArgumentHelp {
    /// Help in the reader's language: the English text is the phrase book's key (see Phrasebook).
    static func translated(_ english: String, discussion: String = "", valueName: String? = nil,
                           visibility: ArgumentVisibility = .default) -> ArgumentHelp {
        ArgumentHelp(Lessons.translated(english), discussion: discussion.isEmpty ? "" : Lessons.translated(discussion),
                     valueName: valueName, visibility: visibility)
    }
}

/// The list of explanation methods in a command's help, one entry per method, its summary in
/// the reader's language wrapped under the method's id so the ids stand out.
func methodsSection() -> String {
    "\n\n" + translated("Methods:") + "\n" + ExplainerRegistry.all.flatMap { explainer in
        wrapWords(explainer.id + ": " + translated(explainer.summary), width: 72).enumerated().map { index, line in
            (index == 0 ? "  " : "      ") + line
        }
    }.joined(separator: "\n")
}

/// The examples at the end of a command's help: whole commands, the same in every language.
func examplesSection(_ commands: [String]) -> String {
    "\n\n" + translated("Examples:") + "\n" + commands.map { "  " + $0 }.joined(separator: "\n")
}

extension Option {
    /// A numeric option read by one of `NumberText`'s parsers, its default shown in the help as
    /// ArgumentParser shows the default of an option without a parser of its own.
    init(wrappedValue: Value, name: NameSpecification = .long, parsing: SingleValueParsingStrategy = .next, help: ArgumentHelp? = nil,
         number parse: @Sendable @escaping (String) throws -> Value) where Value: CustomStringConvertible {
        var help = help ?? ArgumentHelp()
        help.abstract += " (default: \(wrappedValue))"
        self.init(wrappedValue: wrappedValue, name: name, parsing: parsing, help: help, transform: parse)
    }

    /// A numeric option without a default, read by one of `NumberText`'s parsers.
    init<Number>(name: NameSpecification = .long, parsing: SingleValueParsingStrategy = .next, help: ArgumentHelp? = nil,
                 number parse: @Sendable @escaping (String) throws -> Number) where Value == Number? {
        self.init(name: name, parsing: parsing, help: help, transform: parse)
    }
}

/// How the numeric options read their values. ArgumentParser alone refuses a value that is no
/// number of the option's kind with only "The value 'abc' is invalid for '--top <top>'"; these
/// say what the option takes. (The range of each option is checked in its command's
/// `validate()`, whose message names the flag and an example.)
enum NumberText {
    /// A count or any other whole number.
    @Sendable static func whole(_ text: String) throws -> Int {
        if let value = Int(text) { return value }
        throw ValidationError(reason(text, wanted: translated("use a whole number written in digits, such as 10")))
    }

    /// A seed: a whole number from 0 to 2⁶⁴ − 1.
    @Sendable static func seed(_ text: String) throws -> UInt64 {
        if let value = UInt64(text) { return value }
        throw ValidationError(reason(text, wanted: translated("use a whole number from 0 to {$1}", with: UInt64.max)))
    }

    @Sendable static func real(_ text: String) throws -> Double {
        if let value = Double(text) { return value }
        throw ValidationError(reason(text, wanted: translated("use a number such as 0.5 or 1e-6")))
    }

    @Sendable static func float(_ text: String) throws -> Float {
        Float(try real(text))
    }

    /// What to write instead: a decimal comma, as Vietnamese and many other languages write
    /// numbers, is named as such.
    static func reason(_ text: String, wanted: String) -> String {
        let pointed = text.replacingOccurrences(of: ",", with: ".")
        if text.contains(","), Double(pointed) != nil {
            return translated("write the decimals after a point, not a comma ({$1}); {$2}", with: pointed, wanted)
        }
        return wanted
    }
}

import ArgumentParser
import Foundation
import Lessons
import MiniNet

/// Where `tutor evaluate` takes its pictures from besides a single picture.
enum EvaluationDataset: String, ExpressibleByArgument, CaseIterable {
    /// The validation pictures of the shapes data set (the seed `tutor train` validates on),
    /// each with the mask of its object.
    case shapes
}

/// Which sanity checks of Adebayo et al. `tutor evaluate` runs.
enum SanityChoice: String, ExpressibleByArgument, CaseIterable {
    case cascade, data, both, none

    var cascade: Bool { self == .cascade || self == .both }
    var data: Bool { self == .data || self == .both }
}

extension EvaluationScore: ExpressibleByArgument {}

/// `tutor evaluate`: how good is an explanation? Every method named, and two controls that know
/// nothing, scored on the same pictures with the measures of Sources/MiniNet/Evaluation.
struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: translated("Score explanation methods: faithfulness, localisation on the shapes' masks, and sanity checks, each beside a random map and an edge map."),
        discussion: translated("""
        Every method named with --methods is scored on the same pictures, and so are two \
        controls that know nothing of the network: a random map and the Sobel edges of the \
        picture. A method is worth something where it beats both. Faithfulness: the deletion \
        and insertion curves and their areas (pixels in the order of the map; deleted pixels \
        become 0, the data set's mean colour; insertion starts from a blurred copy), the \
        average drop and the increase in confidence when the picture is multiplied by the map, \
        and ROAD with noisy linear imputation, most and least relevant first. Localisation, on \
        pictures with a mask: the pointing game, the relevance mass inside the mask and the \
        relevance rank accuracy. Sanity checks: the similarity of each map to the map after \
        the layers are randomised from the top (cascading randomisation, mean over the steps) \
        and to the map of the same network trained on shuffled labels; nearer 0 is better \
        there. \
        On the data set each picture explains its true class; a single picture explains the \
        predicted class. Identities that must hold (for example insertion at 100% gives the \
        full score) are checked on every picture; if one fails, tutor evaluate says which and \
        exits with status 1. Progress goes to standard error. docs/evaluation.md gives every \
        formula and convention.
        """) + examplesSection([
            "tutor evaluate --count 100 --methods gradcam,ig --csv scores.csv",
            "tutor evaluate photo.png --weights resnet34.pth --methods gradcam",
        ]) + methodsSection()
    )

    @Argument(help: .translated("A PNG picture to evaluate on, instead of the shapes data set. Localisation needs its mask (--mask)."))
    var image: String?

    @Option(help: .translated("Evaluate on the validation pictures of this data set (the default when no picture is given); each picture has the mask of its object.",
                              valueName: "name"))
    var dataset: EvaluationDataset?

    @Option(parsing: .unconditional, help: .translated("How many pictures of the data set to evaluate on (1 to 10000; default 100)."), number: NumberText.whole)
    var count: Int?

    @Option(help: .translated("The mask of the object in the picture, for the localisation scores: a PNG of the network's input size, white (at least half bright) on the object, or an H×W .npy of coverage 0…1.",
                              valueName: "path"))
    var mask: String?

    @Option(name: .customLong("methods"), parsing: .upToNextOption, help: .translated(
        "The methods to score, by their ids in the list below, separated by commas or spaces, for example --methods gradcam,ig,lrp-epsilon. The controls random and edges are always added.",
        valueName: "ids"))
    var methodNames: [String] = EvaluateCommand.defaultMethods

    static let defaultMethods = ["gradcam", "gradcam++", "ig", "lrp-epsilon", "saliency"]

    @Option(help: .translated("Which sanity checks to run: cascade (randomise the layers from the top), data (train the small network on shuffled labels), both or none. Default: both for the small network, cascade for a ResNet.",
                              valueName: "checks"))
    var sanity: SanityChoice?

    @Option(name: .customLong("sanity-count"), parsing: .unconditional, help: .translated(
        "Run the sanity checks on the first N pictures only (1 to 10000; by default on all): the cascade explains every picture once per layer, most of an evaluation's time, and their means vary little from picture to picture.",
        valueName: "N"), number: NumberText.whole)
    var sanityCount: Int?

    @Option(parsing: .unconditional, help: .translated("Seeds the random control map, the noise of ROAD, the random weights of the cascade and the shuffled labels (default 42): the same seed gives the same numbers on every machine."), number: NumberText.seed)
    var seed: UInt64 = 42

    @Option(help: .translated("The score the faithfulness measures follow: probability (the softmax probability of the class, as the papers do; the default) or logit.",
                              valueName: "score"))
    var score: EvaluationScore = .probability

    @Option(parsing: .unconditional, help: .translated("The number of steps of the deletion and insertion curves (1 to 1000), each changing 1/steps of the pixels. By default the picture's height: one row's worth of pixels per step, as Petsiuk et al. take 224 pixels per step at 224×224."), number: NumberText.whole)
    var steps: Int?

    @OptionGroup var model: ModelOptions

    @Flag(help: .translated("Print every number as JSON on standard output, instead of the tables."))
    var json = false

    @Option(help: .translated("Also write the results to this CSV file, one row per method and metric.", valueName: "path"))
    var csv: String?

    @Option(help: .translated("Also draw the mean deletion and insertion curves and the randomisation cascade as PNG files into this folder; it is created if needed.",
                              valueName: "folder"))
    var plot: String?

    @OptionGroup var display: ColorOptions

    @OptionGroup var language: LanguageOption

    static let countRange = 1...10_000
    static let stepsRange = 1...1000
    static let defaultCount = 100

    /// The method ids as given, commas and spaces apart, each once, in the order given;
    /// "random" and "edges" are the controls, which are always there.
    var methodIDs: [String] {
        var seen = Set<String>()
        return methodNames.flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && seen.insert($0).inserted }
    }

    func validate() throws {
        let controls = [EvaluatedMap.randomControlID, EvaluatedMap.edgeControlID]
        for id in methodIDs where ExplainerRegistry.explainer(id: id) == nil && !controls.contains(id) {
            throw ValidationError(translated("--methods: {$1} is not a method; use some of {$2}, for example --methods gradcam,ig.",
                                             with: id, ExplainerRegistry.ids.joined(separator: ", ")))
        }
        if methodIDs.allSatisfy(controls.contains) {
            throw ValidationError(translated("--methods names no method to score; name at least one, for example --methods gradcam,ig."))
        }
        if image != nil && dataset != nil {
            throw ValidationError(translated("Give a picture or --dataset shapes, not both: a picture is one evaluation, the data set another."))
        }
        if let count {
            guard image == nil else {
                throw ValidationError(translated("--count applies to the data set; leave it out with a picture, or leave the picture out."))
            }
            guard Self.countRange.contains(count) else {
                throw ValidationError(translated("--count {$1} is out of range: use {$2} to {$3} pictures, for example --count 300.",
                                                 with: count, Self.countRange.lowerBound, Self.countRange.upperBound))
            }
        }
        if let sanityCount, !Self.countRange.contains(sanityCount) {
            throw ValidationError(translated("--sanity-count {$1} is out of range: use {$2} to {$3} pictures, for example --sanity-count 100.",
                                             with: sanityCount, Self.countRange.lowerBound, Self.countRange.upperBound))
        }
        if mask != nil && image == nil {
            throw ValidationError(translated("--mask goes with a picture; the shapes data set brings the mask of every picture."))
        }
        if let steps, !Self.stepsRange.contains(steps) {
            throw ValidationError(translated("--steps {$1} is out of range: use {$2} to {$3}, for example --steps 100.",
                                             with: steps, Self.stepsRange.lowerBound, Self.stepsRange.upperBound))
        }
        if model.model != nil && image == nil {
            throw ValidationError(translated("A ResNet does not know the shapes; give it a picture (for example images/photos/chelsea.png), or leave --model out to evaluate the small network on the shapes data set."))
        }
        if model.model != nil, let sanity, sanity.data {
            throw ValidationError(translated("--sanity {$1} trains the small network on shuffled labels, which tutor cannot do for a ResNet; use --sanity cascade or none.",
                                             with: sanity.rawValue))
        }
        // A picture or mask that cannot be read is found now, not after minutes of work.
        if let image {
            do { _ = try RGBImage.read(from: image) } catch {
                throw ValidationError(translated("{$1}; give a readable PNG picture, for example images/shapes/circle.png.", with: readerMessage(for: error)))
            }
        }
        if let mask {
            do { _ = try readMask(mask, height: nil, width: nil) } catch {
                throw ValidationError(translated("--mask {$1}; give a PNG or an H×W .npy of the picture's size.", with: readerMessage(for: error)))
            }
        }
        let inputs = [(translated("the picture"), image), ("--mask", mask), ("--weights", model.weights)]
        try OutputFiles.check([.init(flag: "--csv", path: csv, example: "results.csv")], inputs: inputs)
        try OutputFiles.checkFolder(flag: "--plot", path: plot, example: "plots", others: inputs + [("--csv", csv)],
                                    writes: EvaluationOutput.plotFileNames.contains)
    }

    func run() throws {
        let started = Date()
        let classifier = try model.loadClassifier()
        // Evaluation mode and no parameter gradients before the first pass: with them on, a
        // convolution keeps its im2col matrix (96 MiB for ResNet-34) and skips Winograd.
        classifier.prepareForExplanation()
        let isShapesNetwork = classifier.classNames == ShapesDataset.classNames
        guard image != nil || isShapesNetwork else {
            throw ValidationError(translated("This network does not know the shapes; give it a picture, for example images/photos/chelsea.png."))
        }
        let sanity = self.sanity ?? (isShapesNetwork ? .both : .cascade)
        let shuffled = try sanity.data ? shuffledLabelsNetwork(for: classifier) : nil

        let (pictures, source) = try loadPictures(for: classifier)
        var settings = EvaluationSettings()
        settings.score = score
        settings.curveSteps = steps
        settings.seed = seed
        settings.cascade = sanity.cascade
        settings.sanityPictures = sanityCount
        let methods = methodIDs.compactMap(ExplainerRegistry.explainer(id:)).map(EvaluatedMap.method)
        let maps = methods + [.randomControl, .edgeControl]

        let bar = PhaseProgress(trainingAlongside: shuffled.map { $0.source.file == nil } ?? false)
        let report = try Evaluation.run(classifier: classifier, pictures: pictures, maps: maps, settings: settings,
                                        shuffledLabels: shuffled?.network) { bar.update($0) }
        bar.finish()
        let seconds = Date().timeIntervalSince(started)

        let output = EvaluationOutput(report: report, settings: settings, source: source, sanity: sanity,
                                      shuffledLabels: shuffled?.source,
                                      modelDescription: try model.weightsPath(), seconds: seconds, classifier: classifier)
        if let csv { try writeFileAtomically(Data(output.csv().utf8), to: csv) }
        var plotFiles: [String] = []
        if let plot { plotFiles = try output.writePlots(into: plot) }
        if json {
            Terminal.printJSON(output.json(plotFiles: plotFiles, csv: csv))
        } else {
            print(output.tables(color: display.useColor, width: TerminalRenderer.standardOutputWidth(), plotFiles: plotFiles, csv: csv),
                  terminator: "")
        }
        if report.checks.failedCount > 0 {
            for failure in report.checks.failures.prefix(5) {
                let check = failure.check.inReadersLanguage
                Terminal.printError("tutor: " + translated("check failed at {$1}: {$2}", with: failure.place, check.name) + " — "
                                    + "\(check.leftLabel) = \(check.left), \(check.rightLabel) = \(check.right), |Δ| = \(check.residual) > \(check.tolerance)")
            }
            Terminal.printError("tutor: " + translated("{$1} of {$2} checks failed", with: report.checks.failedCount, report.checks.count))
            throw ExitCode(1)
        }
    }

    // MARK: Pictures

    /// The pictures and a description of where they came from.
    func loadPictures(for classifier: ImageClassifier) throws -> ([EvaluationPicture], PictureSource) {
        if let image {
            var options = ExplanationOptions()
            options.image = image
            let picture = try options.loadImage(for: classifier)!
            let input = classifier.normalize(picture)
            let target = classifier.inferenceLogits(input.reshaped([1] + input.shape)).argmax
            let objectMask = try mask.map { try ObjectMask(coverage: readMask($0, height: input.shape[1], width: input.shape[2])) }
            let name = URL(fileURLWithPath: image).lastPathComponent
            return ([EvaluationPicture(name: name, input: input, target: target, mask: objectMask, stream: 0)],
                    .picture(path: image, mask: mask, target: target))
        }
        let count = self.count ?? Self.defaultCount
        let size = classifier.inputSize
        guard size[0] == 3, size[1] == size[2], ShapesDataset.imageSizes.contains(size[1]) else {
            throw ValidationError(translated("The network takes {$1}; the shapes data set draws 3×N×N pictures with N from {$2} to {$3}.",
                                             with: size, ShapesDataset.imageSizes.lowerBound, ShapesDataset.imageSizes.upperBound))
        }
        let shapes = ShapesDataset(count: count, seed: Trainer.validationSeed, imageSize: size[1])
        let pictures = (0..<count).map { index -> EvaluationPicture in
            let sample = shapes.sample(at: index)
            return EvaluationPicture(name: "shapes #\(index)", input: classifier.normalize(sample.image), target: sample.label,
                                     mask: ObjectMask(coverage: sample.mask), stream: UInt64(index))
        }
        return (pictures, .shapes(seed: shapes.seed, count: count))
    }

    /// A coverage mask [H, W] in 0…1 from a PNG (the brightness of each pixel: white is the
    /// object) or from a .npy; with a size given, it must be that size.
    func readMask(_ path: String, height: Int?, width: Int?) throws -> Tensor {
        let coverage: Tensor
        if path.lowercased().hasSuffix(".npy") {
            let stored = try NumpyFile.readFinite(from: path)
            guard stored.rank == 2 else { throw MiniNetError.file(path, "has shape \(stored.shape); a mask is H×W") }
            // Coverage is a share of each pixel: the localisation scores add it up as one.
            if let outside = stored.data.first(where: { !(0...1).contains($0) }) {
                throw MiniNetError.file(path, "holds the value \(outside); a mask's coverage is 0…1 (1 where the object is)")
            }
            coverage = stored
        } else {
            let picture = try RGBImage.read(from: path)
            coverage = ControlMaps.luminance(picture.toTensor())
        }
        // A mask of another size is a wrong --mask, not a broken file: exit status 2, and the
        // sizes as width × height, as the picture's own warnings give them.
        if let height, let width, coverage.shape != [height, width] {
            throw ValidationError(translated("--mask {$1} has {$2}×{$3} pixels (width × height); the picture the network sees has {$4}×{$5}: give a mask of that size.",
                                             with: path, coverage.shape[1], coverage.shape[0], width, height))
        }
        return coverage
    }

    // MARK: The network trained on shuffled labels

    /// The networks `tutor train --shuffled-labels 42` writes with its other options at their
    /// defaults, with biases and with `--no-bias`, shipped so that an evaluation of either
    /// shipped small network does not train one (4 s on 2 cores) and shows the same network on
    /// every machine.
    static func shippedShuffledLabels(bias: Bool) -> String {
        bias ? "mininet-shuffled-labels-evaluate.safetensors" : "mininet-nobias-shuffled-labels-evaluate.safetensors"
    }

    /// The network trained on shuffled labels: the shipped one when its training record states
    /// the options this evaluation would train with (`shuffledLabelTraining`), otherwise those
    /// options, to train alongside the maps; and where it came from, for the report. A shipped
    /// file that cannot be read is an error that names it, not a reason to train silently.
    func shuffledLabelsNetwork(for classifier: ImageClassifier) throws -> (network: ShuffledLabelsNetwork, source: ShuffledLabelsSource) {
        let options = try shuffledLabelTraining(for: classifier)
        let command = "tutor train --shuffled-labels \(seed)" + (options.bias ? "" : " --no-bias")
        if let path = try? ModelLocation.defaultWeights(named: Self.shippedShuffledLabels(bias: options.bias)) {
            let (network, record) = try ImageClassifier.loadWithTrainingRecord(from: path)
            if let record, record.options == options, network.spec == classifier.spec {
                network.prepareForExplanation()
                // The command that writes this very file (without --out, train writes out/).
                let reproducing = command + " --out models/" + Self.shippedShuffledLabels(bias: options.bias)
                return (.trained(network), ShuffledLabelsSource(file: path, command: reproducing))
            }
        }
        return (.train(options), ShuffledLabelsSource(file: nil, command: command))
    }

    /// How `tutor train` would train this network, with the labels shuffled.
    func shuffledLabelTraining(for classifier: ImageClassifier) throws -> TrainingOptions {
        var options = TrainingOptions()
        let withBias = ModelSpec.miniNet(classNames: ShapesDataset.classNames, bias: true)
        let withoutBias = ModelSpec.miniNet(classNames: ShapesDataset.classNames, bias: false)
        guard classifier.spec == withBias || classifier.spec == withoutBias else {
            throw ValidationError(translated("--sanity data trains the small network of tutor train on shuffled labels; this network is another one, so use --sanity cascade or none."))
        }
        options.bias = classifier.spec == withBias
        options.shuffledLabelsSeed = seed
        return options
    }
}

/// Where the pictures of an evaluation came from.
enum PictureSource {
    case shapes(seed: UInt64, count: Int)
    /// `target`: the predicted class, which the picture explains.
    case picture(path: String, mask: String?, target: Int)
}

/// One progress bar per phase on standard error, drawn only once a phase has taken a second
/// (a short run stays quiet), at most ten times a second.
final class PhaseProgress: @unchecked Sendable {
    private let bar = ProgressBar()
    private var label: String?
    private var phaseStarted = Date()
    private var lastDrawn = Date.distantPast
    private var drawn = false
    private var total = 0
    private let trainingAlongside: Bool

    /// `trainingAlongside`: the network of shuffled labels is trained during the first phase.
    init(trainingAlongside: Bool) { self.trainingAlongside = trainingAlongside }

    func update(_ progress: EvaluationProgress) {
        let label: String
        switch progress.phase {
        case .maps: label = trainingAlongside ? translated("maps and their scores, and training on shuffled labels") : translated("maps and their scores")
        case .cascade: label = translated("cascading randomisation")
        case .shuffledLabels: label = translated("maps of the shuffled-label network")
        }
        update(label: label, done: progress.done, total: progress.total, fraction: progress.fraction)
    }

    func update(label: String, done: Int, total: Int, fraction: Double? = nil) {
        let now = Date()
        if label != self.label {
            finish()
            (self.label, phaseStarted, drawn) = (label, now, false)
        }
        self.total = total
        guard now.timeIntervalSince(phaseStarted) >= 1, now.timeIntervalSince(lastDrawn) >= 0.1 || done == total else { return }
        lastDrawn = now
        drawn = true
        bar.update(label: label, fraction: fraction ?? Double(done) / Double(Swift.max(total, 1)),
                   detail: "\(done)/\(total)")
    }

    /// Closes the current phase's bar with its time, if it was drawn.
    func finish() {
        if let label, drawn || Date().timeIntervalSince(phaseStarted) >= 1 {
            bar.finish(label: label, detail: "\(total)/\(total), " + String(format: "%.1f s", Date().timeIntervalSince(phaseStarted)))
        }
        label = nil
    }
}

import Foundation
import MiniNet

/// What the lesson "evaluate" shares between its steps: the networks it trains for itself, the
/// maps it scores, and how it draws and prints curves.
enum EvaluateLessonSupport {
    // MARK: - The networks the lesson trains

    /// The planted shortcut of `tutor train --shortcut watermark`: a yellow checkerboard in the
    /// bottom-right cell of the 4×4 grid, on 90 % of the squares' training pictures.
    static var lessonShortcut: PlantedShortcut {
        PlantedShortcut.inCorner(.bottomRight, label: ShapesDataset.classNames.firstIndex(of: "square") ?? 1)
    }

    /// A short training with the planted mark: 1000 pictures, 6 epochs, batches of 16 (about
    /// 1.5 s in a release build, 25 s in a debug one). The network learns the mark completely
    /// and the shapes in part (about 60 % on unmarked pictures); the full training
    /// (`tutor train --shortcut watermark`, 3000 pictures for 10 epochs) learns both well but
    /// takes ten times as long.
    static var shortcutTraining: TrainingOptions {
        var options = TrainingOptions()
        options.trainingImages = 1000
        options.validationImages = 90
        options.epochs = 6
        options.batchSize = 16
        options.shortcut = lessonShortcut
        return options
    }

    /// The same architecture trained on shuffled labels, for the data randomisation test: 240
    /// pictures for 2 epochs (about 2.5 s in a debug build). Labels that say nothing about the
    /// pictures leave nothing to learn, however long the training.
    static var shuffledTraining: TrainingOptions {
        var options = TrainingOptions()
        options.trainingImages = 240
        options.validationImages = 90
        options.epochs = 2
        options.batchSize = 16
        options.shuffledLabelsSeed = 1
        return options
    }

    /// The files in models/ that hold the two networks, trained by `trainCommand(_:out:)`.
    static let shortcutModelFile = "mininet-shortcut.safetensors"
    static let shuffledModelFile = "mininet-shuffled-labels.safetensors"

    /// A trained network, its last epoch's report, and the shipped file it came from (nil when
    /// the lesson trained it).
    struct Trained {
        var classifier: ImageClassifier
        var report: EpochReport
        var shippedFile: String? = nil
    }

    /// Training is deterministic, so a network is trained once per process for each set of
    /// options and handed out again (the tests build the lesson many times).
    private final class TrainedCache: @unchecked Sendable {
        let lock = NSLock()
        var networks: [String: Trained] = [:]
    }

    private static let cache = TrainedCache()

    /// The network `options` train: the file `shippedAs` in models/ when `context` finds it and
    /// its training record says it was trained with exactly these options (a damaged file is an
    /// error naming it), else from the cache, else trained now (progress in 0…1 to `progress`).
    /// Loading takes milliseconds where training the shortcut network takes about half a second.
    static func trained(_ options: TrainingOptions, shippedAs fileName: String? = nil, context: LessonContext? = nil,
                        progress: (Double) -> Void = { _ in }) throws -> Trained {
        if let fileName, let path = context?.shippedModel(fileName) {
            let (classifier, record) = try ImageClassifier.loadWithTrainingRecord(from: path)
            if let record, record.options == options, classifier.classNames == ShapesDataset.classNames {
                return Trained(classifier: classifier, report: record.lastEpoch, shippedFile: "models/" + fileName)
            }
        }
        let key = [String(describing: options.shortcut), String(describing: options.shuffledLabelsSeed),
                   "\(options.trainingImages)", "\(options.validationImages)", "\(options.epochs)", "\(options.batchSize)",
                   "\(options.learningRate)", "\(options.seed)", "\(options.bias)"].joined(separator: "|")
        cache.lock.lock()
        defer { cache.lock.unlock() }
        if let known = cache.networks[key] { return known }
        let (classifier, reports) = try Trainer.train(options: options, progress: { step in
            progress((Double(step.epoch - 1) + Double(step.batch) / Double(max(step.batches, 1))) / Double(max(step.epochs, 1)))
        })
        guard let last = reports.last else {
            throw MiniNetError.invalidArgument("the lesson's training ran no epoch")
        }
        let trained = Trained(classifier: classifier, report: last)
        cache.networks[key] = trained
        return trained
    }

    /// The `tutor train` command that trains with `options` and writes the network to `out`. A
    /// mark is given by its class, cell and rate, what the command's flags can say; the lesson's
    /// mark has the default side and colour (ShippedNetworkTests runs the command and reads the
    /// options back).
    static func trainCommand(_ options: TrainingOptions, out: String) -> String {
        let defaults = TrainingOptions()
        var flags: [String] = []
        if let mark = options.shortcut {
            let cell = mark.gridCell()
            flags += ["--shortcut watermark", "--shortcut-class \(ShapesDataset.classNames[mark.label])",
                      "--shortcut-cell \(cell.row),\(cell.column)", "--shortcut-rate \(mark.rate)"]
        }
        if let seed = options.shuffledLabelsSeed { flags.append("--shuffled-labels \(seed)") }
        flags += ["--training-images \(options.trainingImages)", "--validation-images \(options.validationImages)",
                  "--epochs \(options.epochs)", "--batch-size \(options.batchSize)"]
        if options.learningRate != defaults.learningRate { flags.append("--learning-rate \(options.learningRate)") }
        if options.seed != defaults.seed { flags.append("--seed \(options.seed)") }
        if !options.bias { flags.append("--no-bias") }
        return (["tutor train"] + flags + ["--out \(out)"]).joined(separator: " ")
    }

    /// The sentence that says where a loaded network came from; nil for one trained here.
    static func shippedNote(_ text: LessonText, _ trained: Trained, options: TrainingOptions) -> String? {
        guard let file = trained.shippedFile else { return nil }
        return text("trained.shipped", ["file": file, "command": trainCommand(options, out: file)])
    }

    // MARK: - Maps

    /// The methods of the lesson's table and shortcut step: two CAMs, two gradient methods and
    /// LRP, the families the other lessons teach.
    static let tableMethods = ["gradcam", "gradcam++", "ig", "lrp-epsilon", "guided-backprop"]

    /// Integrated Gradients with 16 Gauss–Legendre points instead of 50: on the small CNN the
    /// completeness gap is already far below what the table shows.
    static var settings: ExplainerSettings {
        var settings = ExplainerSettings()
        settings.steps = 16
        return settings
    }

    /// The heatmap [H, W] of one method for one input [C, H, W] and class.
    static func heatmap(_ id: String, _ classifier: ImageClassifier, _ input: Tensor, _ target: Int,
                        settings: ExplainerSettings = EvaluateLessonSupport.settings) throws -> Explanation {
        guard let explainer = ExplainerRegistry.explainer(id: id) else {
            throw MiniNetError.invalidArgument("no explanation method '\(id)'")
        }
        return try explainer.explain(input, classifier: classifier, target: .logit(target), settings: settings)
    }

    /// A map in 0…1 for a picture panel: a CAM as it is, any other map divided by its largest
    /// value (the Sobel map), negative values cut.
    static func unitMap(_ map: Tensor) -> Tensor {
        let largest = map.max
        return largest > 0 ? map.map { max($0, 0) / largest } : map.map { _ in 0 }
    }

    // MARK: - Curves

    /// The scores as a line of block characters, 0 → ▁ and 1 → █ (a probability lies in 0…1).
    static func sparkline(_ values: [Float]) -> String {
        let blocks: [Character] = ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"]
        return String(values.map { value in
            let level = Int((Double(min(max(value, 0), 1)) * Double(blocks.count - 1)).rounded())
            return blocks[level]
        })
    }

    // MARK: - Numbers

    static func number(_ value: Double) -> String { String(format: "%.3f", value) }
    static func number(_ value: Float) -> String { number(Double(value)) }
    static func optional(_ value: Double?) -> String { value.map(number) ?? "—" }
    static func percent(_ fraction: Double) -> String { String(format: "%.1f %%", 100 * fraction) }
    static func scientific(_ value: Double) -> String { String(format: "%.2e", value) }
    /// 5 for 5.0, 0.25 for 0.25.
    static func short(_ value: Double) -> String { value == value.rounded() ? String(Int(value)) : String(value) }

    /// The mean of the values that exist; nil when none do.
    static func mean(_ values: [Double?]) -> Double? {
        let present = values.compactMap { $0 }
        return present.isEmpty ? nil : present.reduce(0, +) / Double(present.count)
    }
}

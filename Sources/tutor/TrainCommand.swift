import ArgumentParser
import Lessons
import Foundation
import MiniNet

/// `--shortcut`: the data set's variant.
enum ShortcutChoice: String, ExpressibleByArgument, CaseIterable {
    /// The plain shapes data set.
    case none
    /// A small checkerboard mark in a corner of most of one class's training pictures.
    case watermark
}

extension PlantedShortcut.Corner: ExpressibleByArgument {}

extension ArgumentHelp {
    /// Help with values in it, in the reader's language: the English template, with {$n}
    /// holes, is the phrase book's key (see Phrasebook), and the holes are filled after.
    static func translated(_ template: String, with values: [CustomStringConvertible], valueName: String? = nil) -> ArgumentHelp {
        ArgumentHelp(fillingHoles(of: Lessons.translated(template), with: values.map(\.description)), valueName: valueName)
    }
}

/// A class of the shapes data set named on the command line by its name ("square").
struct ShapeClassChoice: ExpressibleByArgument {
    let label: Int

    init?(argument: String) {
        guard let label = ShapesDataset.classNames.firstIndex(of: argument) else { return nil }
        self.label = label
    }

    static var allValueStrings: [String] { ShapesDataset.classNames }
    var defaultValueDescription: String { ShapesDataset.classNames[label] }
}

/// A cell of the planted shortcut's 4×4 grid named on the command line as "row,column", e.g. "0,2".
struct GridCellChoice: ExpressibleByArgument {
    let row: Int
    let column: Int

    init?(argument: String) {
        let parts = argument.split(separator: ",", omittingEmptySubsequences: false).map { Int($0.trimmingCharacters(in: .whitespaces)) }
        let cells = 0..<PlantedShortcut.gridCells
        guard parts.count == 2, let row = parts[0], let column = parts[1], cells.contains(row), cells.contains(column) else { return nil }
        (self.row, self.column) = (row, column)
    }
}

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: translated("Train the small CNN on the synthetic shapes data set."),
        discussion: translated("""
        The network has three convolution blocks, global average pooling and one linear layer, \
        which is the shape that CAM needs. Training and validation images are generated from \
        fixed seeds, so the same --seed always gives byte-identical weights. A progress bar with \
        the loss and the accuracy is drawn on standard error.
        """) + examplesSection([
            "tutor train",
            "tutor train --epochs 10 --out models/mine.safetensors",
            "tutor predict images/shapes/circle.png --weights models/mine.safetensors",
        ])
    )

    // .unconditional on the numbers: "--epochs -3" reaches validate(), which names the value,
    // instead of -3 being read as a flag ("Missing value for '--epochs'").
    @Option(parsing: .unconditional, help: .translated("The number of passes over the training images (3000 unless --training-images says otherwise)."), number: NumberText.whole)
    var epochs: Int = 10

    @Option(parsing: .unconditional, help: .translated("The seed for the initial weights and the order of the batches."), number: NumberText.seed)
    var seed: UInt64 = 1

    @Option(help: .translated("Where to write the trained model (safetensors with the architecture in its metadata)."))
    var out = "out/mininet.safetensors"

    @Option(name: .customLong("batch-size"), parsing: .unconditional, help: .translated("The number of images per optimisation step."), number: NumberText.whole)
    var batchSize: Int = 32

    @Option(name: .customLong("learning-rate"), parsing: .unconditional, help: .translated("Adam's initial learning rate; it decays to 0 along a cosine."), number: NumberText.float)
    var learningRate: Float = 0.003

    @Flag(name: .customLong("no-bias"), help: .translated("Build the network without biases or BatchNorm, so that LRP-0 conserves relevance exactly."))
    var noBias = false

    @Option(name: .customLong("training-images"), parsing: .unconditional,
            help: .translated("How many training pictures to generate; fewer train faster and less well."), number: NumberText.whole)
    var trainingImages: Int = TrainingOptions().trainingImages

    @Option(name: .customLong("validation-images"), parsing: .unconditional,
            help: .translated("How many validation pictures to generate. With --shortcut watermark, the shortcut test split has as many new pictures."), number: NumberText.whole)
    var validationImages: Int = TrainingOptions().validationImages

    @Option(help: .translated("A shortcut to plant in the training pictures. none trains on the plain data set. watermark paints a small yellow-and-black checkerboard on most training pictures of one class and on no other training picture, so the network can learn to answer from the mark instead of the shape; the report then adds the accuracy on new test pictures with and without the mark.", valueName: "kind"))
    var shortcut: ShortcutChoice = .none

    @Option(name: .customLong("shortcut-class"),
            help: .translated("The class the watermark goes with. By default {$1}. It needs --shortcut watermark.",
                              with: [ShapesDataset.classNames[TrainCommand.defaultShortcutClass]], valueName: "name"))
    var shortcutClass: ShapeClassChoice?

    @Option(name: .customLong("shortcut-corner"),
            help: .translated("The corner of the picture the watermark sits in. By default {$1}. It needs --shortcut watermark.",
                              with: [TrainCommand.defaultShortcutCorner.rawValue], valueName: "corner"))
    var shortcutCorner: PlantedShortcut.Corner?

    @Option(name: .customLong("shortcut-cell"), parsing: .unconditional,
            help: .translated("Instead of a corner, the cell of a {$1}×{$2} grid over the picture that the watermark sits in, as row,column counted from 0 at the top left, for example 0,2. It needs --shortcut watermark.",
                              with: [PlantedShortcut.gridCells, PlantedShortcut.gridCells], valueName: "row,column"))
    var shortcutCell: GridCellChoice?

    @Option(name: .customLong("shortcut-rate"), parsing: .unconditional,
            help: .translated("The share of the class's training pictures that carry the watermark, from 0 to 1. By default {$1}. With 0, no training picture carries it: the control, a network that never saw the mark, measured on the same test pictures. It needs --shortcut watermark.",
                              with: [PlantedShortcut.defaultRate], valueName: "fraction"), number: NumberText.real)
    var shortcutRate: Double?

    @Option(name: .customLong("shuffled-labels"), parsing: .unconditional,
            help: .translated("Train on shuffled labels: the training labels are permuted by a random permutation with this seed, so that they say nothing about the pictures and the network can only memorise them. This is the data randomisation test of Adebayo et al. (2018) for explanation methods. By default the labels are not shuffled.", valueName: "seed"), number: NumberText.seed)
    var shuffledLabels: UInt64?

    @Flag(help: .translated("Print a summary object on standard output for scripts."))
    var json = false

    static let defaultShortcutClass = ShapeKind.square.rawValue
    static let defaultShortcutCorner = PlantedShortcut.Corner.bottomRight
    static let imageCountRange = 3...30_000
    static let epochRange = 1...1000
    static let batchSizeRange = 1...4096
    /// Learning rates allowed: above 0 and below this.
    static let learningRateLimit = 10

    func validate() throws {
        guard Self.epochRange.contains(epochs) else {
            throw ValidationError(translated("--epochs {$1} is out of range: use {$2} to {$3}, for example --epochs 10.",
                                             with: epochs, Self.epochRange.lowerBound, Self.epochRange.upperBound))
        }
        guard Self.batchSizeRange.contains(batchSize) else {
            throw ValidationError(translated("--batch-size {$1} is out of range: use {$2} to {$3}, for example --batch-size 32.",
                                             with: batchSize, Self.batchSizeRange.lowerBound, Self.batchSizeRange.upperBound))
        }
        // `learningRate > 0` is false for NaN, so "--learning-rate nan" is refused too.
        guard learningRate > 0 && learningRate < Float(Self.learningRateLimit) else {
            throw ValidationError(translated("--learning-rate {$1} is not allowed: use a number above 0 and below {$2}, for example --learning-rate 0.003.",
                                             with: learningRate, Self.learningRateLimit))
        }
        guard !out.isEmpty else { throw ValidationError(translated("--out needs a file path, for example --out out/mininet.safetensors.")) }
        try validateOutputFile(out, flag: "--out", example: "mininet.safetensors")
        for (flag, count) in [("--training-images", trainingImages), ("--validation-images", validationImages)]
        where !Self.imageCountRange.contains(count) {
            let example = flag == "--training-images" ? TrainingOptions().trainingImages : TrainingOptions().validationImages
            throw ValidationError(translated("{$1} {$2} is out of range: use {$3} to {$4}, for example {$5}.",
                                             with: flag, count, Self.imageCountRange.lowerBound, Self.imageCountRange.upperBound,
                                             "\(flag) \(example)"))
        }
        try validateShortcutFlags()
    }

    /// The watermark's flags need --shortcut watermark, and shuffled labels would cut the
    /// link between the mark and its class that the watermark is there to plant.
    func validateShortcutFlags() throws {
        if shortcut == .none {
            let given = [("--shortcut-class", shortcutClass != nil), ("--shortcut-corner", shortcutCorner != nil),
                         ("--shortcut-cell", shortcutCell != nil), ("--shortcut-rate", shortcutRate != nil)].filter(\.1).map(\.0)
            if let flag = given.first {
                throw ValidationError(translated("{$1} only applies to a planted watermark: add --shortcut watermark.", with: flag))
            }
            return
        }
        if let shortcutRate, !(shortcutRate >= 0 && shortcutRate <= 1) {
            throw ValidationError(translated("--shortcut-rate {$1} is not allowed: use a number from 0 to 1, for example --shortcut-rate {$2}.",
                                             with: shortcutRate, PlantedShortcut.defaultRate))
        }
        if shortcutCorner != nil && shortcutCell != nil {
            throw ValidationError(translated("--shortcut-corner and --shortcut-cell both say where the watermark goes: give one of them."))
        }
        if shuffledLabels != nil {
            throw ValidationError(translated("--shuffled-labels cannot be combined with --shortcut watermark: shuffled labels would cut the link between the mark and its class."))
        }
    }

    /// The grid cell the flags put the mark in: --shortcut-cell, else the corner's cell.
    var shortcutGridCell: (row: Int, column: Int) {
        if let shortcutCell { return (shortcutCell.row, shortcutCell.column) }
        return (shortcutCorner ?? Self.defaultShortcutCorner).cell
    }

    /// The planted mark the flags ask for, or nil.
    var plantedShortcut: PlantedShortcut? {
        guard shortcut == .watermark else { return nil }
        return PlantedShortcut.inCell(row: shortcutGridCell.row, column: shortcutGridCell.column,
                                      label: shortcutClass?.label ?? Self.defaultShortcutClass,
                                      rate: shortcutRate ?? PlantedShortcut.defaultRate)
    }

    @OptionGroup var language: LanguageOption

    func run() throws {
        var options = TrainingOptions()
        options.epochs = epochs
        options.seed = seed
        options.batchSize = batchSize
        options.learningRate = learningRate
        options.bias = !noBias
        options.trainingImages = trainingImages
        options.validationImages = validationImages
        options.shortcut = plantedShortcut
        options.shuffledLabelsSeed = shuffledLabels

        let outputDirectory = URL(fileURLWithPath: out).deletingLastPathComponent().path
        if !FileManager.default.fileExists(atPath: outputDirectory) {
            do { try FileManager.default.createDirectory(atPath: outputDirectory, withIntermediateDirectories: true) } catch {
                throw MiniNetError.file(out, "cannot create the folder \(outputDirectory)")
            }
        }

        // Fail before training, not after, when the destination cannot be written.
        let probe = outputDirectory + "/.tutor-write-test-\(getpid())"
        guard FileManager.default.createFile(atPath: probe, contents: Data()) else {
            throw MiniNetError.file(out, "cannot write into the folder \(outputDirectory)")
        }
        try? FileManager.default.removeItem(atPath: probe)

        let bar = ProgressBar()
        let started = Date()
        let (classifier, reports) = try Trainer.train(options: options, progress: { progress in
            let fraction = Double(progress.batch) / Double(progress.batches)
            bar.update(label: translated("epoch {$1}/{$2}", with: progress.epoch, progress.epochs), fraction: fraction,
                       detail: translated("loss {$1}  accuracy {$2}%", with: String(format: "%.4f", progress.runningLoss),
                                          String(format: "%.1f", progress.runningAccuracy * 100)))
        }, epochFinished: { report in
            bar.finish(label: translated("epoch {$1}/{$2}", with: report.epoch, options.epochs),
                       detail: translated("loss {$1}  accuracy {$2}%  validation {$3}%  {$4} s",
                                          with: String(format: "%.4f", report.trainingLoss), String(format: "%.1f", report.trainingAccuracy * 100),
                                          String(format: "%.1f", report.validationAccuracy * 100), String(format: "%.2f", report.seconds)))
        })
        let seconds = Date().timeIntervalSince(started)
        let last = reports.last!
        try classifier.save(to: out, training: TrainingRecord(options: options, lastEpoch: last))
        let evaluation = Trainer.shortcutTestSet(options).map { Trainer.evaluateShortcut(classifier, on: $0) }
        if json {
            Terminal.printJSON(.object([
                ("epochs", .integer(epochs)), ("seed", .string("\(seed)")), ("batch_size", .integer(batchSize)),
                ("learning_rate", .double(Double(learningRate))), ("bias", .bool(!noBias)), ("weights", .string(out)),
                ("training_images", .integer(trainingImages)), ("validation_images", .integer(validationImages)),
                ("seconds", .double(seconds)), ("training_seconds", .double(reports.reduce(0) { $0 + $1.seconds })),
                ("train_loss", .double(Double(last.trainingLoss))), ("train_accuracy", .double(Double(last.trainingAccuracy))),
                ("val_accuracy", .double(Double(last.validationAccuracy))),
                ("shuffled_labels_seed", shuffledLabels.map { .string("\($0)") } ?? .null),
                ("shortcut", evaluation.map { shortcutJSON($0, training: Trainer.dataSets(options).training) } ?? .null),
                ("history", .array(reports.map { report -> JSONOutput in .object([
                    ("epoch", .integer(report.epoch)), ("train_loss", .double(Double(report.trainingLoss))),
                    ("train_accuracy", .double(Double(report.trainingAccuracy))),
                    ("val_accuracy", .double(Double(report.validationAccuracy))), ("seconds", .double(report.seconds)),
                ]) })),
            ]))
        } else {
            print(translated("Trained in {$1} s. Validation accuracy {$2}%. Weights written to {$3}.",
                             with: String(format: "%.2f", seconds), String(format: "%.2f", last.validationAccuracy * 100), out))
            // predict, explain and the lessons read the shipped network unless told otherwise.
            let shipped = try? ModelLocation.defaultWeights()
            if shipped.map({ !OutputFiles.sameFile($0, out) }) ?? true {
                print(translated("The other commands read the shipped network, models/{$1}, unless given --weights {$2}.",
                                 with: ModelLocation.defaultFileName, out))
            }
            if let shuffledLabels {
                print(translated("The training labels were shuffled (seed {$1}), so the network could only memorise them: a validation accuracy near chance, {$2}%, is what to expect.",
                                 with: shuffledLabels, percent(1 / Double(ShapesDataset.classNames.count))))
            }
            if let evaluation { printShortcutReport(evaluation, training: Trainer.dataSets(options).training) }
        }
    }

    /// A fraction as a percentage with one decimal, e.g. "97.5".
    func percent(_ fraction: Double) -> String { String(format: "%.1f", fraction * 100) }

    /// How many training pictures carry the mark: (of the shortcut's class, of the other classes).
    func markedCounts(_ training: ShapesDataset, label: Int) -> (ownClass: Int, otherClasses: Int, ownTotal: Int, otherTotal: Int) {
        let indices = 0..<training.count
        let own = indices.filter { training.label(at: $0) == label }
        let other = indices.filter { training.label(at: $0) != label }
        return (own.filter(training.isMarked(at:)).count, other.filter(training.isMarked(at:)).count, own.count, other.count)
    }

    /// Where the mark is, how often it was planted, and the accuracies on the test pictures
    /// without and with it: the drop on the other classes is the shortcut showing.
    func printShortcutReport(_ evaluation: ShortcutEvaluation, training: ShapesDataset) {
        let mark = evaluation.shortcut
        let cell = mark.gridCell(imageSize: training.imageSize)
        let counts = markedCounts(training, label: mark.label)
        print(translated("Planted watermark: a {$1}×{$2}-pixel checkerboard at columns {$3} to {$4} and rows {$5} to {$6} (grid cell row {$7}, column {$8}, counted from 0 at the top left), going with the class {$9}.",
                         with: mark.side, mark.side, mark.x, mark.x + mark.side - 1, mark.y, mark.y + mark.side - 1, cell.row, cell.column, mark.className))
        print(translated("It is on {$1} of the {$2} training pictures of that class and on {$3} of the other {$4}.",
                         with: counts.ownClass, counts.ownTotal, counts.otherClasses, counts.otherTotal))
        print(translated("Accuracy on {$1} new test pictures: {$2}% marked as in training, {$3}% on the shortcut test split (the mark on half of every class), {$4}% with no mark, {$5}% with the mark on all.",
                         with: evaluation.count, percent(evaluation.trainingLikeAccuracy), percent(evaluation.testSplitAccuracy),
                         percent(evaluation.accuracyWithoutMark), percent(evaluation.accuracyWithMark)))
        print(translated("Test pictures of the other classes: accuracy {$1}% without the mark and {$2}% with it; called {$3}: {$4}% without the mark and {$5}% with it.",
                         with: percent(evaluation.otherClassAccuracyWithoutMark), percent(evaluation.otherClassAccuracyWithMark), mark.className,
                         percent(evaluation.otherClassCalledShortcutClassWithoutMark), percent(evaluation.otherClassCalledShortcutClassWithMark)))
    }

    /// The shortcut part of --json: the mark, how often it was planted, the test accuracies.
    func shortcutJSON(_ evaluation: ShortcutEvaluation, training: ShapesDataset) -> JSONOutput {
        let mark = evaluation.shortcut
        let cell = mark.gridCell(imageSize: training.imageSize)
        let counts = markedCounts(training, label: mark.label)
        return .object([
            ("kind", .string(ShortcutChoice.watermark.rawValue)), ("class", .string(mark.className)), ("label", .integer(mark.label)),
            ("corner", shortcutCell == nil ? .string((shortcutCorner ?? Self.defaultShortcutCorner).rawValue) : .null),
            ("x", .integer(mark.x)), ("y", .integer(mark.y)), ("side", .integer(mark.side)),
            ("grid_row", .integer(cell.row)), ("grid_column", .integer(cell.column)),
            ("colour", .array(mark.colour.map { .float($0) })), ("rate", .double(mark.rate)),
            ("other_class_rate", .double(mark.otherClassRate)),
            ("training_marked_in_class", .integer(counts.ownClass)), ("training_class_pictures", .integer(counts.ownTotal)),
            ("training_marked_in_other_classes", .integer(counts.otherClasses)), ("training_other_pictures", .integer(counts.otherTotal)),
            ("test_pictures", .integer(evaluation.count)),
            ("test_accuracy_marked_like_training", .double(evaluation.trainingLikeAccuracy)),
            ("test_split_accuracy", .double(evaluation.testSplitAccuracy)),
            ("test_accuracy_without_mark", .double(evaluation.accuracyWithoutMark)),
            ("test_accuracy_with_mark", .double(evaluation.accuracyWithMark)),
            ("other_class_accuracy_without_mark", .double(evaluation.otherClassAccuracyWithoutMark)),
            ("other_class_accuracy_with_mark", .double(evaluation.otherClassAccuracyWithMark)),
            ("other_class_called_shortcut_class_without_mark", .double(evaluation.otherClassCalledShortcutClassWithoutMark)),
            ("other_class_called_shortcut_class_with_mark", .double(evaluation.otherClassCalledShortcutClassWithMark)),
        ])
    }
}

import ArgumentParser
import Lessons
import Foundation
import MiniNet

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: translated("Train the small CNN on the synthetic shapes data set."),
        discussion: translated("""
        The network has three convolution blocks, global average pooling and one linear layer, \
        which is the shape that CAM needs. Training and validation images are generated from \
        fixed seeds, so the same --seed always gives byte-identical weights. A progress bar with \
        the loss and the accuracy is drawn on standard error.
        """)
    )

    // .unconditional on the numbers: "--epochs -3" reaches validate(), which names the value,
    // instead of -3 being read as a flag ("Missing value for '--epochs'").
    @Option(parsing: .unconditional, help: .translated("The number of passes over the 3000 training images."))
    var epochs = 10

    @Option(parsing: .unconditional, help: .translated("The seed for the initial weights and the order of the batches."))
    var seed: UInt64 = 1

    @Option(help: .translated("Where to write the trained model (safetensors with the architecture in its metadata)."))
    var out = "out/mininet.safetensors"

    @Option(name: .customLong("batch-size"), parsing: .unconditional, help: .translated("The number of images per optimisation step."))
    var batchSize = 32

    @Option(name: .customLong("learning-rate"), parsing: .unconditional, help: .translated("Adam's initial learning rate; it decays to 0 along a cosine."))
    var learningRate: Float = 0.003

    @Flag(name: .customLong("no-bias"), help: .translated("Build the network without biases or BatchNorm, so that LRP-0 conserves relevance exactly."))
    var noBias = false

    @Flag(help: .translated("Print a summary object on standard output for scripts."))
    var json = false

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
    }

    @OptionGroup var language: LanguageOption

    func run() throws {
        var options = TrainingOptions()
        options.epochs = epochs
        options.seed = seed
        options.batchSize = batchSize
        options.learningRate = learningRate
        options.bias = !noBias

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
        try classifier.save(to: out)
        let last = reports.last!
        if json {
            Terminal.printJSON(.object([
                ("epochs", .integer(epochs)), ("seed", .string("\(seed)")), ("batch_size", .integer(batchSize)),
                ("learning_rate", .double(Double(learningRate))), ("bias", .bool(!noBias)), ("weights", .string(out)),
                ("seconds", .double(seconds)), ("training_seconds", .double(reports.reduce(0) { $0 + $1.seconds })),
                ("train_loss", .double(Double(last.trainingLoss))), ("train_accuracy", .double(Double(last.trainingAccuracy))),
                ("val_accuracy", .double(Double(last.validationAccuracy))),
                ("history", .array(reports.map { report -> JSONOutput in .object([
                    ("epoch", .integer(report.epoch)), ("train_loss", .double(Double(report.trainingLoss))),
                    ("train_accuracy", .double(Double(report.trainingAccuracy))),
                    ("val_accuracy", .double(Double(report.validationAccuracy))), ("seconds", .double(report.seconds)),
                ]) })),
            ]))
        } else {
            print(translated("Trained in {$1} s. Validation accuracy {$2}%. Weights written to {$3}.",
                             with: String(format: "%.2f", seconds), String(format: "%.2f", last.validationAccuracy * 100), out))
        }
    }
}

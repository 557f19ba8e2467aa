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

    func validate() throws {
        guard (1...1000).contains(epochs) else { throw ValidationError("--epochs \(epochs) is out of range: use 1 to 1000, for example --epochs 10.") }
        guard (1...4096).contains(batchSize) else { throw ValidationError("--batch-size \(batchSize) is out of range: use 1 to 4096, for example --batch-size 32.") }
        // `learningRate > 0` is false for NaN, so "--learning-rate nan" is refused too.
        guard learningRate > 0 && learningRate < 10 else {
            throw ValidationError("--learning-rate \(learningRate) is not allowed: use a number above 0 and below 10, for example --learning-rate 0.003.")
        }
        guard !out.isEmpty else { throw ValidationError("--out needs a file path, for example --out out/mininet.safetensors.") }
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
            bar.update(label: "epoch \(progress.epoch)/\(progress.epochs)", fraction: fraction,
                       detail: String(format: "loss %.4f  accuracy %.1f%%", progress.runningLoss, progress.runningAccuracy * 100))
        }, epochFinished: { report in
            bar.finish(label: "epoch \(report.epoch)/\(options.epochs)",
                       detail: String(format: "loss %.4f  accuracy %.1f%%  validation %.1f%%  %.2f s", report.trainingLoss,
                                      report.trainingAccuracy * 100, report.validationAccuracy * 100, report.seconds))
        })
        let seconds = Date().timeIntervalSince(started)
        try classifier.save(to: out)
        let last = reports.last!
        if json {
            try Terminal.printJSON([
                "epochs": epochs, "seed": seed, "batch_size": batchSize, "learning_rate": Double(learningRate),
                "bias": !noBias, "weights": out, "seconds": seconds, "training_seconds": reports.reduce(0) { $0 + $1.seconds },
                "train_loss": last.trainingLoss, "train_accuracy": last.trainingAccuracy,
                "val_accuracy": last.validationAccuracy,
                "history": reports.map { ["epoch": $0.epoch, "train_loss": $0.trainingLoss, "train_accuracy": $0.trainingAccuracy,
                                          "val_accuracy": $0.validationAccuracy, "seconds": $0.seconds] as [String: Any] },
            ])
        } else {
            print(String(format: "Trained in %.2f s. Validation accuracy %.2f%%. ", seconds, last.validationAccuracy * 100) + "Weights written to \(out).")
        }
    }
}

import ArgumentParser
import Lessons
import Foundation
import MiniNet

struct DatasetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dataset",
        abstract: translated("Write the synthetic shapes data set to .npy files, for use in PyTorch or NumPy."),
        discussion: translated("""
        Writes train_x.npy and val_x.npy (N×3×H×W float32, values 0…1, not normalised), \
        train_y.npy and val_y.npy (class indices as int64, what PyTorch's losses take), \
        train_masks.npy and val_masks.npy (N×H×W float32 ground-truth masks, the ones `tutor \
        evaluate` scores localisation on), and classes.txt (the class names, one per line, in \
        index order), from the same seeds that `tutor train` uses.
        """)
    )

    @Option(help: .translated("The folder to write the .npy files into; it is created if needed."))
    var out = "out/shapes"

    @Flag(help: .translated("Print the folder, each file with its shape and type, and the class names as JSON, instead of one line."))
    var json = false

    @OptionGroup var language: LanguageOption

    func validate() throws {
        if out.isEmpty { throw ValidationError(translated("{$1} needs a folder name, such as {$2}.", with: "--out", "--out out/shapes")) }
        if FileManager.default.fileExists(atPath: out) && !OutputFiles.isFolder(out) {
            throw ValidationError(translated("{$1} `{$2}` is a file; give a folder, for example {$3}.", with: "--out", OutputFiles.shownPath(out), "--out out/shapes"))
        }
    }

    static let fileNames = ["train_x.npy", "train_y.npy", "train_masks.npy", "val_x.npy", "val_y.npy", "val_masks.npy", "classes.txt"]

    func run() throws {
        do { try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true) } catch {
            throw MiniNetError.file(out, "cannot create the folder")
        }
        // A name taken by a folder would fail after the first files were written.
        for name in Self.fileNames where OutputFiles.isFolder("\(out)/\(name)") {
            throw MiniNetError.file("\(out)/\(name)", "is a folder, where a file of the data set is to be written; move it away first")
        }
        let (training, validation) = Trainer.dataSets(TrainingOptions())
        // All seven files or none: a failure half-way (a full disk) leaves an earlier set whole.
        var files: [(path: String, data: Data)] = []
        var described: [JSONOutput] = []
        func add(_ name: String, _ data: Data, shape: [Int], type: String) {
            files.append(("\(out)/\(name)", data))
            described.append(.object([("name", .string(name)), ("shape", .array(shape.map(JSONOutput.integer))), ("dtype", .string(type))]))
        }
        for (name, dataSet) in [("train", training), ("val", validation)] {
            let (images, labels) = dataSet.batch(0..<dataSet.count)
            let masks = Tensor.stack((0..<dataSet.count).map { dataSet.sample(at: $0).mask })
            add("\(name)_x.npy", NumpyFile.encode(images), shape: images.shape, type: "float32")
            add("\(name)_y.npy", NumpyFile.encode(integers: labels), shape: [labels.count], type: "int64")
            add("\(name)_masks.npy", NumpyFile.encode(masks), shape: masks.shape, type: "float32")
        }
        add("classes.txt", Data(ShapesDataset.classNames.map { $0 + "\n" }.joined().utf8), shape: [ShapesDataset.classNames.count], type: "text")
        try writeFilesTogether(files)
        if json {
            Terminal.printJSON(.object([
                ("folder", .string(out)), ("training_images", .integer(training.count)), ("validation_images", .integer(validation.count)),
                ("classes", .array(ShapesDataset.classNames.map(JSONOutput.string))), ("files", .array(described)),
            ]))
        } else {
            print(translated("Wrote {$1} training and {$2} validation images to {$3}.", with: training.count, validation.count, out))
        }
    }
}

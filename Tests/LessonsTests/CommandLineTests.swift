import Foundation
import MiniNet
import XCTest

/// Runs the built `tutor` binary the way a person would, and checks what bad input gets:
/// one line on stderr naming the thing and the problem, a non-zero exit, no output file.
final class CommandLineTests: XCTestCase {
    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    var binary: URL {
        get throws {
            let url = Bundle.main.bundleURL.appendingPathComponent("tutor")
            guard FileManager.default.isExecutableFile(atPath: url.path) else { throw XCTSkip("tutor is not built at \(url.path)") }
            return url
        }
    }

    /// (exit status, standard output, standard error); `environment` adds to the test's own,
    /// whose language settings are emptied first (`ChildEnvironment`).
    /// A run still going after `timeout` seconds is stopped (a hang then fails the test
    /// instead of blocking the whole suite). With `fileSizeLimit` (in the shell's `ulimit -f`
    /// blocks) every file the run writes is cut off there, so its writes fail; the shell does
    /// not ignore SIGXFSZ for it, so tutor must (see `Tutor.main`).
    func run(_ arguments: [String], environment: [String: String] = [:], timeout: TimeInterval = 600,
             fileSizeLimit: Int? = nil) throws -> (status: Int32, output: String, errors: String) {
        let process = Process()
        if let fileSizeLimit {
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", "ulimit -f \(fileSizeLimit); exec \"$0\" \"$@\"", try binary.path] + arguments
        } else {
            process.executableURL = try binary
            process.arguments = arguments
        }
        process.environment = ChildEnvironment.tutor(adding: environment)
        process.currentDirectoryURL = Self.repositoryRoot
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout) { if process.isRunning { process.terminate() } }
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        let errorData = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: outputData, as: UTF8.self), String(decoding: errorData, as: UTF8.self))
    }

    func temporaryFolder() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tutor-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: folder) }
        return folder
    }

    func assertOneLineFailure(_ arguments: [String], environment: [String: String] = [:], timeout: TimeInterval = 600,
                              mentions needle: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let result = try run(arguments, environment: environment, timeout: timeout)
        XCTAssertNotEqual(result.status, 0, "exit status for \(arguments)", file: file, line: line)
        let lines = result.errors.split(separator: "\n", omittingEmptySubsequences: true)
        XCTAssertEqual(lines.count, 1, "stderr for \(arguments): \(result.errors)", file: file, line: line)
        XCTAssertTrue(result.errors.contains(needle), "stderr for \(arguments) should mention \(needle): \(result.errors)", file: file, line: line)
        XCTAssertFalse(result.errors.contains("Fatal error"), file: file, line: line)
    }

    func testPredictRunsATorchvisionResNet() throws {
        let weights = "Tests/MiniNetTests/Fixtures/resnet/resnet18-narrow.pth"
        let result = try run(["predict", "images/photos/chelsea.png", "--weights", weights, "--json"])
        XCTAssertEqual(result.status, 0, result.errors)
        let object = try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as! [String: Any]
        XCTAssertEqual((object["logits"] as! [Double]).count, 10)
        let stated = try run(["predict", "images/photos/chelsea.png", "--model", "resnet18", "--weights", weights, "--top", "2"])
        XCTAssertEqual(stated.status, 0, stated.errors)
    }

    func testExplainLRPWithZennitsBatchNormMerge() throws {
        let weights = "Tests/MiniNetTests/Fixtures/resnet/resnet50-narrow.pth"
        let result = try run(["explain", "images/photos/chelsea.png", "--weights", weights, "--method", "lrp-epsilon",
                              "--batchnorm-merge", "zennit", "--json"])
        XCTAssertEqual(result.status, 0, result.errors)
        let object = try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as! [String: Any]
        XCTAssertEqual(object["batchnorm_merge"] as? String, "zennit")
        try assertOneLineFailure(["explain", "images/photos/chelsea.png", "--weights", weights, "--method", "gradcam",
                                  "--batchnorm-merge", "zennit"], mentions: "--batchnorm-merge")
        try assertOneLineFailure(["explain", "images/photos/chelsea.png", "--weights", weights, "--method", "lrp-epsilon",
                                  "--batchnorm-merge", "partly"], mentions: "partly")
    }

    func testBadResNetCheckpointsGiveOneLine() throws {
        let folder = "Tests/MiniNetTests/Fixtures/resnet/"
        try assertOneLineFailure(["predict", "images/photos/chelsea.png", "--model", "resnet34", "--weights", folder + "resnet50-narrow.pth"],
                                 mentions: "not a resnet34")
        for file in ["truncated.pth", "evil-global.pth", "overrun.safetensors"] {
            try assertOneLineFailure(["predict", "images/photos/chelsea.png", "--weights", folder + file], mentions: file)
        }
        try assertOneLineFailure(["predict", "images/photos/chelsea.png", "--model", "resnet152"], mentions: "resnet152")
    }

    func testPredictClassifiesTheShippedShapes() throws {
        for (index, name) in ["circle", "square", "triangle"].enumerated() {
            let result = try run(["predict", "images/shapes/\(name).png", "--json"])
            XCTAssertEqual(result.status, 0, result.errors)
            let object = try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as! [String: Any]
            let logits = object["logits"] as! [Double]
            XCTAssertEqual(logits.count, 3)
            let top = object["top"] as! [[String: Any]]
            XCTAssertEqual(top.first?["index"] as? Int, index)
            XCTAssertEqual(top.first?["label"] as? String, name)
        }
    }

    func testPredictFromNpyMatchesPredictFromImage() throws {
        let folder = try temporaryFolder()
        let classifier = try ImageClassifier.load(from: Self.repositoryRoot.appendingPathComponent("models/mininet.safetensors").path)
        let input = try classifier.preprocess(try RGBImage.read(from: Self.repositoryRoot.appendingPathComponent("images/shapes/square.png").path))
        let npy = folder.appendingPathComponent("square.npy").path
        try NumpyFile.write(input, to: npy)
        let fromImage = try run(["predict", "images/shapes/square.png", "--json"])
        let fromNpy = try run(["predict", "--input-npy", npy, "--json"])
        XCTAssertEqual(fromNpy.status, 0, fromNpy.errors)
        let a = (try JSONSerialization.jsonObject(with: Data(fromImage.output.utf8)) as! [String: Any])["logits"] as! [Double]
        let b = (try JSONSerialization.jsonObject(with: Data(fromNpy.output.utf8)) as! [String: Any])["logits"] as! [Double]
        XCTAssertEqual(a, b)
    }

    func testBadInputGetsOneLineAndNonZeroExit() throws {
        let folder = try temporaryFolder()
        let random = folder.appendingPathComponent("random.png").path
        try Data((0..<300).map { UInt8(truncatingIfNeeded: $0 &* 73 &+ 11) }).write(to: URL(fileURLWithPath: random))
        let randomWeights = folder.appendingPathComponent("random.safetensors").path
        try FileManager.default.copyItem(atPath: random, toPath: randomWeights)
        let truncated = folder.appendingPathComponent("truncated.png").path
        let png = try Data(contentsOf: Self.repositoryRoot.appendingPathComponent("images/shapes/circle.png"))
        try png.prefix(png.count / 2).write(to: URL(fileURLWithPath: truncated))

        // A safetensors header that claims more data than the file holds.
        let lying = folder.appendingPathComponent("lying.safetensors").path
        let header = Data(#"{"w":{"dtype":"F32","shape":[1000],"data_offsets":[0,4000]}}"#.utf8)
        var bytes = Data()
        var length = UInt64(header.count).littleEndian
        withUnsafeBytes(of: &length) { bytes.append(contentsOf: $0) }
        bytes.append(header)
        bytes.append(Data(count: 16))
        try bytes.write(to: URL(fileURLWithPath: lying))

        // Weights for another architecture: right file format, wrong tensors.
        let other = folder.appendingPathComponent("other.safetensors").path
        try SafeTensorsFile(tensors: [("fc.weight", Tensor(zeros: [10, 4]))], metadata: [:]).write(to: other)
        let renamed = folder.appendingPathComponent("renamed.safetensors").path
        let shipped = try SafeTensorsFile.read(from: Self.repositoryRoot.appendingPathComponent("models/mininet.safetensors").path)
        var changed = shipped
        changed.tensors[0].tensor = Tensor(zeros: [4, 3, 3, 3])
        try changed.write(to: renamed)

        try assertOneLineFailure(["predict", folder.appendingPathComponent("missing.png").path], mentions: "missing.png: no such file")
        try assertOneLineFailure(["predict", random], mentions: "random.png")
        try assertOneLineFailure(["predict", truncated], mentions: "truncated.png")
        try assertOneLineFailure(["predict", "images/shapes/circle.png", "--weights", randomWeights], mentions: "random.safetensors")
        try assertOneLineFailure(["predict", "images/shapes/circle.png", "--weights", lying], mentions: "lying.safetensors")
        try assertOneLineFailure(["predict", "images/shapes/circle.png", "--weights", other], mentions: "other.safetensors")
        try assertOneLineFailure(["predict", "images/shapes/circle.png", "--weights", renamed], mentions: "has shape [4, 3, 3, 3]")
        try assertOneLineFailure(["predict", "--input-npy", random], mentions: "random.png")
        try assertOneLineFailure(["predict", "images/shapes/circle.png", "--top", "0"], mentions: "--top")
        try assertOneLineFailure(["train", "--epochs", "-3"], mentions: "--epochs")
        try assertOneLineFailure(["train", "--batch-size", "999999"], mentions: "--batch-size")
        try assertOneLineFailure(["predict", "images/shapes/circle.png", "--no-such-flag"], mentions: "no-such-flag")
    }

    func testTrainingIntoAnUnwritablePlaceLeavesNoFile() throws {
        let folder = try temporaryFolder()
        let blocker = folder.appendingPathComponent("file").path
        try Data("x".utf8).write(to: URL(fileURLWithPath: blocker))
        let result = try run(["train", "--epochs", "1", "--out", blocker + "/model.safetensors"])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertEqual(result.errors.split(separator: "\n").filter { !$0.contains("epoch") }.count, 1, result.errors)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path), ["file"])
    }

    // MARK: - Hostile pictures, .npy inputs and flags (issue 11)

    /// A preprocessed input for the shipped small network with `bad` at flat index 5.
    func inputNpy(in folder: URL, named name: String, bad: Float) throws -> String {
        let classifier = try ImageClassifier.load(from: Self.repositoryRoot.appendingPathComponent("models/mininet.safetensors").path)
        var input = Tensor(zeros: classifier.inputSize)
        input.data[5] = bad
        let path = folder.appendingPathComponent(name).path
        try NumpyFile.write(input, to: path)
        return path
    }

    func testHostilePicturesAndInputsGetOneLine() throws {
        let folder = try temporaryFolder()
        // 32 KB claiming 16384 × 16384 pixels: refused from the header, in well under a second.
        try assertOneLineFailure(["predict", "Tests/MiniNetTests/Fixtures/png/bomb-16384x16384.png"],
                                 mentions: "16384 x 16384 pixels; the limit is 8192 pixels per side and 40 megapixels")

        // A FIFO anywhere a file is read: one line, no waiting for a writer.
        let fifo = folder.appendingPathComponent("fifo").path
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        for arguments in [["predict", fifo], ["predict", "images/shapes/circle.png", "--weights", fifo],
                          ["predict", "--input-npy", fifo], ["explain", "--input-npy", fifo],
                          ["explain", "images/shapes/circle.png", "--weights", fifo, "--model", "resnet18"],
                          ["lesson", "cam", "--image", fifo]] {
            try assertOneLineFailure(arguments, timeout: 60, mentions: "fifo: is a pipe (FIFO), not a regular file")
        }
        try assertOneLineFailure(["predict", "/dev/zero"], mentions: "/dev/zero: is a device")

        // Within the size limits but too thin for a ResNet's resize: the message names the picture.
        let strip = folder.appendingPathComponent("strip.png").path
        try RGBImage(width: 8192, height: 1, pixels: [UInt8](repeating: 90, count: 8192 * 3)).write(to: strip)
        try assertOneLineFailure(["predict", strip, "--weights", "Tests/MiniNetTests/Fixtures/resnet/resnet18-narrow.pth"],
                                 mentions: "strip.png: ImageNet preprocessing: a 8192×1 picture")

        // NaN or infinity in an input: refused where it enters, naming the file and the index.
        let nan = try inputNpy(in: folder, named: "nan.npy", bad: .nan)
        let infinite = try inputNpy(in: folder, named: "infinite.npy", bad: .infinity)
        let overlay = folder.appendingPathComponent("overlay.png").path
        try assertOneLineFailure(["predict", "--input-npy", nan], mentions: "nan.npy: value at index [0, 0, 5] (flat index 5) is nan")
        try assertOneLineFailure(["predict", "--input-npy", nan, "--json"], mentions: "is nan")
        try assertOneLineFailure(["explain", "--input-npy", nan, "--overlay", overlay], mentions: "nan.npy: value at index [0, 0, 5]")
        try assertOneLineFailure(["explain", "--input-npy", infinite, "--method", "ig"], mentions: "infinite.npy: value at index [0, 0, 5] (flat index 5) is inf")
        try assertOneLineFailure(["explain", "--input-npy", infinite, "--method", "ig", "--json"], mentions: "is inf")
        XCTAssertFalse(FileManager.default.fileExists(atPath: overlay))
    }

    func testNegativeAndAbsurdNumbersNameTheFlagAndTheValue() throws {
        let picture = "images/shapes/circle.png"
        for (arguments, needle) in [
            (["explain", picture, "--class", "-1"], "--class -1 is out of range"),
            (["explain", picture, "--steps", "-5"], "--steps -5 is out of range"),
            (["explain", picture, "--steps", "0"], "--steps 0 is out of range"),
            (["explain", picture, "--steps", "1", "--integration", "riemann-trapezoid"], "use 2 to 10000 steps with --integration riemann-trapezoid"),
            (["explain", picture, "--steps", "100000000"], "--steps 100000000 is out of range"),
            (["explain", picture, "--epsilon", "-1"], "--epsilon -1.0 is not allowed"),
            (["explain", picture, "--epsilon", "nan"], "--epsilon nan is not allowed"),
            (["explain", picture, "--epsilon", "inf"], "--epsilon inf is not allowed"),
            (["predict", picture, "--top", "-1"], "--top -1 is out of range"),
            (["train", "--epochs", "-3"], "--epochs -3 is out of range"),
            (["train", "--batch-size", "0"], "--batch-size 0 is out of range"),
            (["train", "--learning-rate", "-0.1"], "--learning-rate -0.1 is not allowed"),
            (["train", "--learning-rate", "nan"], "--learning-rate nan is not allowed"),
            (["train", "--seed", "-1"], "--seed"),
            (["lesson", "cam", "--class", "-1"], "--class -1 is out of range"),
            (["lesson", "cam", "--seed", "-1"], "--seed"),
        ] {
            try assertOneLineFailure(arguments, mentions: needle)
        }
    }

    /// Every output flag writes through a temporary file and a rename: when the write fails
    /// (here: past a file size limit), a file already at the destination stays as it was.
    func testFailedWritesLeaveExistingOutputsUntouched() throws {
        let folder = try temporaryFolder()
        let old = Data("the previous file".utf8)
        func assertKept(_ path: String, after arguments: [String], file: StaticString = #filePath, line: UInt = #line) throws {
            try old.write(to: URL(fileURLWithPath: path))
            let result = try run(arguments, fileSizeLimit: 2)
            XCTAssertNotEqual(result.status, 0, "\(arguments)", file: file, line: line)
            let lines = result.errors.split(separator: "\n").filter { !$0.contains("epoch") }
            XCTAssertEqual(lines.count, 1, result.errors, file: file, line: line)
            XCTAssertTrue(result.errors.contains(path), result.errors, file: file, line: line)
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path)), old, "\(arguments)", file: file, line: line)
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: (path as NSString).deletingLastPathComponent)
                .filter { $0.contains("partial") }
            XCTAssertEqual(leftovers, [], file: file, line: line)
        }
        let overlay = folder.appendingPathComponent("overlay.png").path
        try assertKept(overlay, after: ["explain", "images/shapes/circle.png", "--overlay", overlay])
        let map = folder.appendingPathComponent("map.npy").path
        try assertKept(map, after: ["explain", "images/shapes/circle.png", "--method", "saliency", "--save-npy", map])
        let dataset = folder.appendingPathComponent("shapes")
        try FileManager.default.createDirectory(at: dataset, withIntermediateDirectories: true)
        try assertKept(dataset.appendingPathComponent("train_x.npy").path, after: ["dataset", "--out", dataset.path])
        let model = folder.appendingPathComponent("model.safetensors").path
        try assertKept(model, after: ["train", "--epochs", "1", "--out", model])
    }

    /// Under `ulimit -f`, a write past the limit raises SIGXFSZ, whose default action kills
    /// the process on the spot: no message, and the temporary file left behind. tutor ignores
    /// the signal, so the write fails with EFBIG and is reported like any failed write.
    /// (testFailedWritesLeaveExistingOutputsUntouched runs every output flag the same way.)
    func testAFileSizeLimitGivesOneLineInsteadOfAKillingSignal() throws {
        let folder = try temporaryFolder()
        let overlay = folder.appendingPathComponent("overlay.png").path
        let result = try run(["explain", "images/shapes/circle.png", "--overlay", overlay], fileSizeLimit: 2)
        XCTAssertNotEqual(result.status, 0)
        XCTAssertNotEqual(result.status, SIGXFSZ, "killed by SIGXFSZ")
        XCTAssertEqual(result.errors, "tutor: \(overlay): cannot write file (File too large)\n")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path), [], "a file was left")
    }

    /// NaN inside the network (here: weights with a NaN bias) still gives a picture, JSON with
    /// null for the NaN numbers, and one line on stderr about the failed check.
    /// Weights that hold NaN are refused where they enter, with one line naming the tensor and
    /// the first bad index; nothing is drawn. (Drawing itself survives NaN: NonFinitePictureTests.)
    func testNaNWeightsAreRefusedBeforeAnythingIsDrawn() throws {
        let folder = try temporaryFolder()
        var file = try SafeTensorsFile.read(from: Self.repositoryRoot.appendingPathComponent("models/mininet.safetensors").path)
        let index = try XCTUnwrap(file.tensors.firstIndex { $0.name == "features.9.bias" })
        file.tensors[index].tensor.data = file.tensors[index].tensor.data.map { _ in .nan }
        let weights = folder.appendingPathComponent("nan.safetensors").path
        try file.write(to: weights)
        let overlay = folder.appendingPathComponent("overlay.png").path
        let result = try run(["explain", "images/shapes/circle.png", "--weights", weights, "--method", "lrp-epsilon",
                              "--overlay", overlay, "--json"])
        XCTAssertEqual(result.status, 1)
        XCTAssertEqual(result.errors.split(separator: "\n").count, 1, result.errors)
        XCTAssertTrue(result.errors.contains("'features.9.bias' holds nan at index 0"), result.errors)
        XCTAssertEqual(result.output, "")
        XCTAssertFalse(FileManager.default.fileExists(atPath: overlay))
    }
    /// On a colour terminal `explain` shows the picture, the map and the overlay in 24-bit
    /// colour after its numbers (a script's plain output has none), each line within the width.
    func testExplainDrawsTheMapInColourOnly() throws {
        let coloured = try run(["explain", "images/shapes/circle.png", "--method", "gradcam", "--color", "always"], environment: ["COLUMNS": "80"])
        XCTAssertEqual(coloured.status, 0, coloured.errors)
        XCTAssertTrue(coloured.output.contains("The map of gradcam for class"), coloured.output)
        XCTAssertTrue(coloured.output.contains("▀"))
        let plain = coloured.output.replacingOccurrences(of: "\u{1B}\\[[0-9;]*m", with: "", options: .regularExpression)
        XCTAssertLessThanOrEqual(plain.split(separator: "\n").map(\.count).max() ?? 0, 80)
        let uncoloured = try run(["explain", "images/shapes/circle.png", "--method", "gradcam", "--color", "never"])
        XCTAssertFalse(uncoloured.output.contains("The map of"), uncoloured.output)
    }

    /// `explain --json` of every method in the registry: valid JSON whose top-level keys are
    /// each given once (SmoothGrad's `samples` was both a setting and a figure).
    func testExplainJSONOfEveryMethodHasEachKeyOnce() throws {
        for explainer in ExplainerRegistry.all {
            let result = try run(["explain", "images/shapes/square.png", "--method", explainer.id, "--json"])
            XCTAssertEqual(result.status, 0, "\(explainer.id): \(result.errors)")
            XCTAssertNoThrow(try JSONSerialization.jsonObject(with: Data(result.output.utf8)), explainer.id)
            let keys = result.output.split(separator: "\n").compactMap { line -> String? in
                guard line.hasPrefix("  \""), !line.hasPrefix("   "), let end = line.dropFirst(3).firstIndex(of: "\"") else { return nil }
                return String(line[line.index(line.startIndex, offsetBy: 3)..<end])
            }
            XCTAssertEqual(keys.count, Set(keys).count, "\(explainer.id): \(keys)")
            // Every method checks something, written as the lessons write a check.
            let document = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any])
            let checks = try XCTUnwrap(document["checks"] as? [[String: Any]], explainer.id)
            let attributionWithoutIdentity = ["saliency", "input-x-gradient", "smoothgrad", "vargrad", "guided-backprop"].contains(explainer.id)
            XCTAssertEqual(checks.isEmpty, attributionWithoutIdentity, explainer.id)
            for check in checks {
                for key in ["name", "left_label", "left", "right_label", "right", "residual", "tolerance", "ok", "coarse", "tolerance_formula"] {
                    XCTAssertNotNil(check[key], "\(explainer.id): \(key)")
                }
                XCTAssertEqual(check["ok"] as? Bool, true, "\(explainer.id): \(check)")
            }
        }
    }
    /// `tutor lesson cam photo.png --json` is `--image photo.png --format json`, as `explain`
    /// and `predict` take their picture and their JSON; both spellings at once are refused.
    func testLessonTakesThePictureAsAnArgumentAndJSONAsAFlag() throws {
        let short = try run(["lesson", "cam", "images/shapes/circle.png", "--json"])
        let long = try run(["lesson", "cam", "--image", "images/shapes/circle.png", "--format", "json"])
        XCTAssertEqual(short.status, 0, short.errors)
        XCTAssertEqual(short.output, long.output)
        try assertOneLineFailure(["lesson", "cam", "images/shapes/circle.png", "--image", "images/shapes/square.png"],
                                 mentions: "given twice")
        try assertOneLineFailure(["lesson", "cam", "--json", "--format", "html"], mentions: "--json and --format html")
    }
    /// `tutor dataset --json` names every file it wrote with its shape and type, as the files
    /// themselves have them.
    func testDatasetJSONDescribesTheFilesItWrote() throws {
        let folder = try temporaryFolder().appendingPathComponent("shapes")
        let result = try run(["dataset", "--out", folder.path, "--json"])
        XCTAssertEqual(result.status, 0, result.errors)
        let document = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any])
        XCTAssertEqual(document["classes"] as? [String], ShapesDataset.classNames)
        let files = try XCTUnwrap(document["files"] as? [[String: Any]])
        XCTAssertEqual(files.compactMap { $0["name"] as? String }.sorted(), ["classes.txt", "train_masks.npy", "train_x.npy", "train_y.npy", "val_masks.npy", "val_x.npy", "val_y.npy"])
        for file in files {
            let name = try XCTUnwrap(file["name"] as? String)
            guard name.hasSuffix("_x.npy") || name.hasSuffix("_masks.npy") else { continue }
            let tensor = try NumpyFile.read(from: folder.appendingPathComponent(name).path)
            XCTAssertEqual(file["shape"] as? [Int], tensor.shape, name)
        }
        XCTAssertEqual((files.first { $0["name"] as? String == "train_y.npy" })?["shape"] as? [Int], [document["training_images"] as? Int ?? -1])
    }

    /// A lesson's JSON says what it ran on, enough to run it again: the weights, the picture,
    /// the class, the layer, the seed (as text, since it may exceed what a double holds), the
    /// language.
    func testLessonJSONSaysWhatItRanOn() throws {
        let result = try run(["lesson", "gradcam", "images/shapes/circle.png", "--class", "1", "--seed", "18446744073709551615", "--json"])
        XCTAssertEqual(result.status, 0, result.errors)
        let document = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any])
        let run = try XCTUnwrap(document["run"] as? [String: Any])
        XCTAssertTrue((run["weights"] as? String)?.hasSuffix("models/mininet.safetensors") == true, "\(run)")
        XCTAssertEqual(run["image"] as? String, "images/shapes/circle.png")
        XCTAssertEqual(run["class"] as? Int, 1)
        XCTAssertEqual(run["seed"] as? String, "18446744073709551615")
        XCTAssertEqual(run["language"] as? String, "en")
        XCTAssertEqual(run["every_pass"] as? Bool, false)
        XCTAssertTrue(run["model"] is NSNull)
        XCTAssertNotNil(run["architecture"] as? String)
    }
    /// export-docs with another network would replace (or compare against) the repository's
    /// pages, which show the shipped ones: refused before any work.
    func testExportDocsOfAnotherNetworkStaysOutOfTheRepository() throws {
        try assertOneLineFailure(["export-docs", "--weights", "models/mininet.safetensors", "--check"],
                                 mentions: "pass another folder, such as --root /tmp/resnet-pages")
    }
}

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

    /// (exit status, standard output, standard error); `environment` adds to the test's own.
    func run(_ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, output: String, errors: String) {
        let process = Process()
        process.executableURL = try binary
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, added in added }
        process.currentDirectoryURL = Self.repositoryRoot
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
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

    func assertOneLineFailure(_ arguments: [String], environment: [String: String] = [:], mentions needle: String,
                              file: StaticString = #filePath, line: UInt = #line) throws {
        let result = try run(arguments, environment: environment)
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
}

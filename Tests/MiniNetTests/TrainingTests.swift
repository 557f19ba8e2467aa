import Foundation
import MiniNet
import XCTest

final class TrainingTests: XCTestCase {
    func smallOptions(seed: UInt64) -> TrainingOptions {
        var options = TrainingOptions()
        options.epochs = 2
        options.trainingImages = 192
        options.validationImages = 60
        options.seed = seed
        return options
    }

    func testSameSeedGivesByteIdenticalWeights() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("training-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        var files: [Data] = []
        for (index, seed) in [UInt64(3), 3, 4].enumerated() {
            let (classifier, reports) = try Trainer.train(options: smallOptions(seed: seed))
            XCTAssertEqual(reports.count, 2)
            let path = folder.appendingPathComponent("\(index).safetensors").path
            try classifier.save(to: path)
            files.append(try Data(contentsOf: URL(fileURLWithPath: path)))
        }
        XCTAssertEqual(files[0], files[1], "the same seed must give byte-identical weights")
        XCTAssertNotEqual(files[0], files[2], "another seed gives other weights")
    }

    /// The products cut their work the same way on any number of threads (see Gemm), so a
    /// training run does not depend on the machine's cores.
    func testWeightsAreByteIdenticalOnAnyThreadCount() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("training-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        var options = smallOptions(seed: 3)
        options.epochs = 1
        var files: [Int: Data] = [:]
        for threads in [1, 2, 16] {
            let (classifier, _) = try GemmTests.withThreads(threads) { try Trainer.train(options: options) }
            let path = folder.appendingPathComponent("\(threads).safetensors").path
            try classifier.save(to: path)
            files[threads] = try Data(contentsOf: URL(fileURLWithPath: path))
        }
        XCTAssertEqual(files[1], files[2], "1 and 2 threads")
        XCTAssertEqual(files[1], files[16], "1 and 16 threads")
    }

    func testTrainingLowersTheLoss() throws {
        var options = smallOptions(seed: 1)
        options.epochs = 3
        let (_, reports) = try Trainer.train(options: options)
        XCTAssertLessThan(reports.last!.trainingLoss, reports.first!.trainingLoss)
    }

    func testSavedModelLoadsBackWithTheSameLogits() throws {
        let (classifier, _) = try Trainer.train(options: smallOptions(seed: 5))
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("model-\(UUID().uuidString).safetensors").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try classifier.save(to: path)
        let loaded = try ImageClassifier.load(from: path)
        XCTAssertEqual(loaded.spec, classifier.spec)
        let input = ShapesDataset(count: 4, seed: 9).batch(0..<4).images
        XCTAssertEqual(loaded.forward(input), classifier.forward(input))
    }

    func testShippedModelsReachTheAdvertisedAccuracy() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let validation = Trainer.dataSets(TrainingOptions()).validation
        for name in ["mininet", "mininet-nobias"] {
            let classifier = try ImageClassifier.load(from: root.appendingPathComponent("models/\(name).safetensors").path)
            XCTAssertGreaterThanOrEqual(Trainer.accuracy(classifier, on: validation), 0.98, name)
        }
    }
}

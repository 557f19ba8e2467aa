import Foundation
import XCTest
@testable import MiniNet

/// The training record a model file carries under "tutor.training": written by
/// `save(to:training:)`, read back equal, absent from older files, and refused with one line
/// naming the file when it is damaged or holds a mark `PlantedShortcut` would refuse.
final class TrainingRecordTests: XCTestCase {
    lazy var folder: URL = {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("record-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }()

    let classifier = try! ImageClassifier(spec: ModelSpec.miniNet(channels: [4, 8, 8], classNames: ["circle", "square"]))

    var record: TrainingRecord {
        var options = TrainingOptions()
        options.epochs = 6
        options.trainingImages = 1000
        options.learningRate = 0.003
        options.shortcut = PlantedShortcut.inCorner(.bottomRight, label: 1, rate: 0.9)
        options.shuffledLabelsSeed = UInt64.max
        return TrainingRecord(options: options, lastEpoch: EpochReport(epoch: 6, trainingLoss: 0.25, trainingAccuracy: 0.875,
                                                                          validationAccuracy: 0.6, seconds: 1.5))
    }

    func path(_ name: String) -> String { folder.appendingPathComponent(name).path }

    func testTheRecordIsReadBackEqualAndWithoutTime() throws {
        try classifier.save(to: path("a.safetensors"), training: record)
        let (loaded, training) = try ImageClassifier.loadWithTrainingRecord(from: path("a.safetensors"))
        XCTAssertEqual(training, record)
        XCTAssertEqual(training?.lastEpoch.seconds, 0, "the time is not kept, so the same training writes the same bytes")
        XCTAssertEqual(loaded.stateDict.map(\.tensor), classifier.stateDict.map(\.tensor))
        // The same record and weights give the same bytes.
        try classifier.save(to: path("b.safetensors"), training: record)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path("a.safetensors"))),
                       try Data(contentsOf: URL(fileURLWithPath: path("b.safetensors"))))
    }

    func testAFileWithoutARecordLoadsWithNone() throws {
        try classifier.save(to: path("plain.safetensors"))
        XCTAssertNil(try ImageClassifier.loadWithTrainingRecord(from: path("plain.safetensors")).training)
        XCTAssertNoThrow(try ImageClassifier.load(from: path("plain.safetensors")))
    }

    func testADamagedRecordIsOneLineNamingTheFile() throws {
        let encoder = JSONEncoder()
        let spec = String(decoding: try encoder.encode(classifier.spec), as: UTF8.self)
        var badMark = String(decoding: try encoder.encode(record), as: UTF8.self)
        badMark = badMark.replacingOccurrences(of: "\"side\":4", with: "\"side\":40")
        XCTAssertTrue(badMark.contains("\"side\":40"), badMark)
        for (name, json) in [("truncated", "{\"options\":"), ("wrong type", "[1, 2]"), ("mark too big", badMark)] {
            let file = path("\(name).safetensors")
            try SafeTensorsFile(tensors: classifier.stateDict,
                                metadata: [ImageClassifier.metadataKey: spec, TrainingRecord.metadataKey: json]).write(to: file)
            XCTAssertThrowsError(try ImageClassifier.loadWithTrainingRecord(from: file), name) { error in
                let message = (error as? MiniNetError)?.description ?? "\(error)"
                XCTAssertEqual(message, file + ": the 'tutor.training' metadata is not a valid training record", name)
            }
            // Loading the network alone does not read the record.
            XCTAssertNoThrow(try ImageClassifier.load(from: file), name)
        }
    }
}

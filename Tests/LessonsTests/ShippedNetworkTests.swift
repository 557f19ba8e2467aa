import Foundation
import XCTest
import MiniNet
@testable import Lessons

/// The two small networks the lesson "evaluate" needs besides the explained one (the planted
/// shortcut and the shuffled labels) ship in models/: the lesson loads them when their training
/// record matches its options, trains otherwise, and refuses a damaged file by name.
final class ShippedNetworkTests: XCTestCase {
    static let root = CommandLineTests.repositoryRoot

    static let shipped: [(file: String, options: TrainingOptions)] = [
        (EvaluateLessonSupport.shortcutModelFile, EvaluateLessonSupport.shortcutTraining),
        (EvaluateLessonSupport.shuffledModelFile, EvaluateLessonSupport.shuffledTraining),
    ]

    func context(models: URL) throws -> LessonContext {
        var context = LessonContext(classifier: try EvaluateLessonTests.model("mininet"), language: "en")
        context.shippedModel = { name in
            let path = models.appendingPathComponent(name).path
            return FileManager.default.fileExists(atPath: path) ? path : nil
        }
        return context
    }

    /// Each shipped file was trained with the options the lesson states, so the lesson uses it.
    func testTheShippedFilesAreTheLessonsTrainings() throws {
        let context = try context(models: Self.root.appendingPathComponent("models"))
        for (file, options) in Self.shipped {
            let path = Self.root.appendingPathComponent("models/" + file).path
            let record = try XCTUnwrap(try ImageClassifier.loadWithTrainingRecord(from: path).training, file)
            XCTAssertEqual(record.options, options, "\(file) is stale: run `\(EvaluateLessonSupport.trainCommand(options, out: "models/" + file))`")
            let trained = try EvaluateLessonSupport.trained(options, shippedAs: file, context: context)
            XCTAssertEqual(trained.shippedFile, "models/" + file)
            XCTAssertEqual(trained.report, record.lastEpoch)
        }
    }

    /// A file trained with other options is not used: the lesson trains the network itself.
    func testAFileTrainedOtherwiseIsNotUsed() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("shipped-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        var other = EvaluateLessonSupport.shuffledTraining
        other.epochs += 1
        let file = EvaluateLessonSupport.shuffledModelFile
        try EvaluateLessonTests.model("mininet").save(to: folder.appendingPathComponent(file).path,
                                                       training: TrainingRecord(options: other, lastEpoch: EpochReport(
                                                           epoch: 3, trainingLoss: 1, trainingAccuracy: 0.5, validationAccuracy: 0.3, seconds: 0)))
        let trained = try EvaluateLessonSupport.trained(EvaluateLessonSupport.shuffledTraining, shippedAs: file,
                                                        context: try context(models: folder))
        XCTAssertNil(trained.shippedFile)
        XCTAssertEqual(trained.report.epoch, EvaluateLessonSupport.shuffledTraining.epochs)

        // A damaged file is an error naming it, not a silent retraining.
        let damaged = folder.appendingPathComponent(file)
        try Data("not a model".utf8).write(to: damaged)
        XCTAssertThrowsError(try EvaluateLessonSupport.trained(EvaluateLessonSupport.shuffledTraining, shippedAs: file,
                                                               context: try context(models: folder))) { error in
            XCTAssertTrue("\(error)".hasPrefix(damaged.path + ": "), "\(error)")
        }
    }

    /// The lesson with the shipped networks: every check passes, and it says where they came from.
    func testTheLessonSaysWhereItsNetworksCameFrom() throws {
        let notebook = try Language.$override.withValue(.en) {
            try EvaluateLesson.build(try context(models: Self.root.appendingPathComponent("models")))
        }
        XCTAssertTrue(notebook.allChecksPass)
        let prose = notebook.steps.flatMap(\.cells).compactMap { cell -> String? in
            if case let .prose(text) = cell { return text }
            return nil
        }.joined(separator: "\n")
        for (file, options) in Self.shipped {
            XCTAssertTrue(prose.contains("`models/\(file)`"), file)
            XCTAssertTrue(prose.contains(EvaluateLessonSupport.trainCommand(options, out: "models/" + file)), file)
        }
    }
}

extension CommandLineTests {
    /// The command the lesson prints writes a file whose record holds the lesson's options: the
    /// flags mean what the lesson says (shrunk to 30 pictures and one epoch, to be quick).
    func testTheLessonsTrainCommandsWriteTheLessonsOptions() throws {
        let folder = try temporaryFolder()
        for options in [EvaluateLessonSupport.shortcutTraining, EvaluateLessonSupport.shuffledTraining] {
            var small = options
            (small.trainingImages, small.validationImages, small.epochs) = (30, 30, 1)
            let out = folder.appendingPathComponent("model.safetensors").path
            let command = EvaluateLessonSupport.trainCommand(small, out: out)
            let arguments = command.split(separator: " ").dropFirst(2).map(String.init)
            XCTAssertEqual(command.split(separator: " ").prefix(2), ["tutor", "train"])
            let result = try run(["train"] + arguments)
            XCTAssertEqual(result.status, 0, result.errors)
            XCTAssertEqual(try ImageClassifier.loadWithTrainingRecord(from: out).training?.options, small, command)
        }
    }
}

import Foundation

/// How a model file's network was trained: the options `Trainer.train` ran with and the report
/// of its last epoch. `tutor train --out` writes it into the file's metadata, under the key
/// "tutor.training" (see docs/model-format.md), so that a shipped network says which command
/// made it, and a lesson can use a shipped network only when it was trained as the lesson says.
public struct TrainingRecord: Codable, Equatable, Sendable {
    public var options: TrainingOptions
    /// The last epoch's report without its time (`seconds` is 0), so that the same training
    /// writes the same bytes.
    public var lastEpoch: EpochReport

    public init(options: TrainingOptions, lastEpoch: EpochReport) {
        self.options = options
        self.lastEpoch = lastEpoch
        self.lastEpoch.seconds = 0
    }

    public static let metadataKey = "tutor.training"
}

extension ImageClassifier {
    /// Writes the state dict, the architecture under "tutor.model" and, when given, `training`
    /// under "tutor.training".
    public func save(to path: String, training: TrainingRecord? = nil) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var metadata = ["format": "pt", ImageClassifier.metadataKey: String(decoding: try encoder.encode(spec), as: UTF8.self)]
        if let training {
            metadata[TrainingRecord.metadataKey] = String(decoding: try encoder.encode(training), as: UTF8.self)
        }
        try SafeTensorsFile(tensors: stateDict, metadata: metadata).write(to: path)
    }

    /// A model file's network and its training record (nil when the file has none, as files
    /// written before the record existed). A record that is present but not a valid one is an
    /// error naming the file, like any other damage.
    public static func loadWithTrainingRecord(from path: String) throws -> (classifier: ImageClassifier, training: TrainingRecord?) {
        let file = try SafeTensorsFile.read(from: path)
        let classifier = try load(file, path: path)
        guard let json = file.metadata[TrainingRecord.metadataKey] else { return (classifier, nil) }
        do {
            return (classifier, try JSONDecoder().decode(TrainingRecord.self, from: Data(json.utf8)))
        } catch {
            throw MiniNetError.file(path, "the '\(TrainingRecord.metadataKey)' metadata is not a valid training record")
        }
    }
}

/// A mark is read back through `validated`, so a record cannot hold a mark `init` would refuse.
extension PlantedShortcut: Codable {
    private enum CodingKeys: String, CodingKey {
        case x, y, side, label, colour, rate, otherClassRate
    }

    public init(from decoder: Decoder) throws {
        let values = try decoder.container(keyedBy: CodingKeys.self)
        self = try PlantedShortcut.validated(
            x: values.decode(Int.self, forKey: .x), y: values.decode(Int.self, forKey: .y),
            label: values.decode(Int.self, forKey: .label), side: values.decode(Int.self, forKey: .side),
            colour: values.decode([Float].self, forKey: .colour), rate: values.decode(Double.self, forKey: .rate),
            otherClassRate: values.decode(Double.self, forKey: .otherClassRate))
    }

    public func encode(to encoder: Encoder) throws {
        var values = encoder.container(keyedBy: CodingKeys.self)
        try values.encode(x, forKey: .x)
        try values.encode(y, forKey: .y)
        try values.encode(side, forKey: .side)
        try values.encode(label, forKey: .label)
        try values.encode(colour, forKey: .colour)
        try values.encode(rate, forKey: .rate)
        try values.encode(otherClassRate, forKey: .otherClassRate)
    }
}

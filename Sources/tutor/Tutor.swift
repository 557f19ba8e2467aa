import ArgumentParser
import Foundation
import MiniNet

@main
struct Tutor: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tutor",
        abstract: "Learn how a convolutional network's prediction is explained, one verified step at a time.",
        discussion: """
        Start with `tutor train` to train the small network (or use the one shipped in models/), \
        then `tutor predict` to classify a picture, and `tutor homework list` for exercises.
        """,
        subcommands: [
            LessonsCommand.self, LessonCommand.self, TrainCommand.self, PredictCommand.self,
            ExplainCommand.self, DatasetCommand.self, HomeworkCommand.self, ExportDocsCommand.self, BenchCommand.self,
        ]
    )

    /// Runs the command; every failure becomes one line on stderr and a non-zero exit,
    /// without the usage text that would otherwise bury the message.
    static func main() {
        MiniNet.configureAllocator()
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            let code = exitCode(for: error)
            if code == .success { exit(withError: error) }
            let text = message(for: error).trimmingCharacters(in: .whitespacesAndNewlines)
            if !text.isEmpty {
                let firstLine = text.split(separator: "\n").first.map(String.init) ?? text
                FileHandle.standardError.write(Data("tutor: \(firstLine)\n".utf8))
            }
            Foundation.exit(code.rawValue)
        }
    }
}

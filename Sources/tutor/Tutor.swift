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

        Environment: TUTOR_THREADS=N limits the matrix products to N threads (default: every \
        core; the results are the same for any N). TUTOR_GEMM=reference runs MiniNet's own \
        plain-loop products instead of OpenBLAS, and TUTOR_WINOGRAD=off computes every \
        convolution through im2col: both change the rounding, to show how large it is.
        """,
        subcommands: [
            LessonsCommand.self, LessonCommand.self, TrainCommand.self, PredictCommand.self,
            ExplainCommand.self, DatasetCommand.self, HomeworkCommand.self, ExportDocsCommand.self, BenchCommand.self,
        ]
    )

    /// Runs the command; every failure becomes one line on stderr and a non-zero exit,
    /// without the usage text that would otherwise bury the message.
    static func main() {
        // Under a file size limit (`ulimit -f`), a write past it raises SIGXFSZ, which would
        // kill the process without a word and leave the temporary file behind. Ignored, the
        // write fails with EFBIG instead, and writeFileAtomically reports it in one line and
        // removes the temporary file.
        signal(SIGXFSZ, SIG_IGN)
        MiniNet.configureAllocator()
        do {
            try RunSettings.apply()
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

import ArgumentParser
import Foundation
import Lessons
import MiniNet

struct LessonsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lessons",
        abstract: "List the lessons, in teaching order, with a one-line summary of each."
    )

    @Flag(help: "Print the list as JSON for scripts.")
    var json = false

    func run() throws {
        if json {
            try Terminal.printJSON(LessonCatalog.all.map { ["id": $0.id, "summary": $0.summary] })
        } else {
            let width = LessonCatalog.all.map { $0.id.count }.max() ?? 0
            for lesson in LessonCatalog.all {
                print("  " + lesson.id.padding(toLength: width + 2, withPad: " ", startingAt: 0) + lesson.summary)
            }
            print("\nRun one with `tutor lesson NAME`, for example `tutor lesson gradcam --verbose`.")
        }
    }
}

struct LessonCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lesson",
        abstract: "Work through one lesson: the math, every intermediate tensor, and a check of each identity.",
        discussion: """
        Every check prints both sides, the residual and the tolerance, with ✓ or ✗; if any check \
        fails, the exit status is 1. `tutor lessons` lists the lesson names.
        """
    )

    @Argument(help: "The lesson to run, such as cam or gradcam.")
    var name: String

    @OptionGroup var model: ModelOptions
    @OptionGroup var explanation: ExplanationOptions

    @Flag(help: "Print every intermediate tensor in full instead of a summary.")
    var verbose = false

    @Option(help: "How to write the lesson: text for the terminal, markdown (pictures go to --images-dir), or json for scripts.")
    var format: OutputFormat = .text

    @Option(name: .customLong("images-dir"), help: "Where the markdown format saves its pictures.")
    var imagesDirectory = "out/images"

    @Flag(help: "Wait for Enter between the steps, for teaching on a projector.")
    var pause = false

    func validate() throws {
        guard LessonCatalog.lesson(id: name) != nil else {
            throw ValidationError("There is no lesson '\(name)'; the lessons are: \(LessonCatalog.all.map { $0.id }.joined(separator: ", ")).")
        }
    }

    func run() throws {
        let lesson = LessonCatalog.lesson(id: name)!
        let classifier = try model.loadClassifier()
        var context = LessonContext(
            classifier: classifier, biasFreeClassifier: model.loadBiasFreeClassifier(),
            image: try explanation.loadImage(for: classifier), targetClass: try explanation.resolveClass(for: classifier),
            layer: try explanation.resolveLayer(for: classifier), seed: explanation.seed)
        let bar = ProgressBar()
        var reported = false
        context.progress = { label, fraction in
            reported = true
            bar.update(label: label, fraction: fraction, detail: "")
        }
        let notebook = try lesson.build(context)
        if reported { bar.finish(label: "lesson \(name)", detail: "computed") }
        try render(notebook, format: format, verbose: verbose, imagesDirectory: imagesDirectory, pause: pause)
        if !notebook.allChecksPass {
            let failed = notebook.checks.filter { !$0.ok }.map(\.name)
            Terminal.printError("tutor: \(failed.count) check(s) failed in lesson \(name): \(failed.joined(separator: "; "))")
            throw ExitCode(1)
        }
    }
}

func render(_ notebook: Notebook, format: OutputFormat, verbose: Bool, imagesDirectory: String, pause: Bool) throws {
    switch format {
    case .text:
        var renderer = TerminalRenderer(color: TerminalRenderer.standardOutputSupportsColor(), verbose: verbose,
                                        width: TerminalRenderer.standardOutputWidth())
        if pause {
            renderer.betweenSteps = { _ in
                FileHandle.standardError.write(Data("  ⏎ Press Enter for the next step…".utf8))
                _ = readLine()
            }
        }
        renderer.render(notebook) { text in
            FileHandle.standardOutput.write(Data(text.utf8))
        }
    case .markdown:
        do { try FileManager.default.createDirectory(atPath: imagesDirectory, withIntermediateDirectories: true) } catch {
            throw MiniNetError.file(imagesDirectory, "cannot create the folder for pictures")
        }
        print(try MarkdownRenderer(imageDirectory: imagesDirectory, imageLinkPrefix: imagesDirectory + "/", verbose: verbose).render(notebook))
    case .json:
        print(try JSONRenderer().render(notebook))
    }
}

import ArgumentParser
import Foundation
import Lessons
import MiniNet

struct LessonsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lessons",
        abstract: translated("List the lessons, in teaching order, with a one-line summary of each.")
    )

    @Flag(help: .translated("Print the list as JSON for scripts."))
    var json = false

    @OptionGroup var language: LanguageOption

    func run() throws {
        if json {
            // The summary is for people: in the reader's language, like the lesson pages' text.
            Terminal.printJSON(.array(LessonCatalog.all.map { lesson -> JSONOutput in .object([("id", .string(lesson.id)), ("summary", .string(translated(lesson.summary)))]) }))
        } else {
            let width = LessonCatalog.all.map { $0.id.count }.max() ?? 0
            for lesson in LessonCatalog.all {
                print(hangingLines("  " + lesson.id, translated(lesson.summary), column: width + 4).joined(separator: "\n"))
            }
            print("\n" + wrapWords(translated("Run one with `tutor lesson NAME`, for example `tutor lesson gradcam --verbose`."), width: 80)
                .joined(separator: "\n"))
        }
    }
}

struct LessonCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lesson",
        abstract: translated("Work through one lesson: the math, every intermediate tensor, and a check of each identity."),
        discussion: translated("""
        Every check prints both sides, the residual and the tolerance, with ✓ or ✗; if any check \
        fails, the exit status is 1. `tutor lessons` lists the lesson names.
        """) + examplesSection([
            "tutor lesson gradcam --verbose",
            "tutor lesson cam images/shapes/circle.png --format markdown --out cam.md",
            "tutor lesson lrp --weights resnet34.pth --format html --out lrp.html",
        ])
    )

    @Argument(help: .translated("The lesson to run, such as cam or gradcam."))
    var name: String

    @Argument(help: .translated("A PNG picture to explain, the same as --image: `tutor lesson gradcam photo.png`."))
    var picture: String?

    @OptionGroup var model: ModelOptions
    @OptionGroup var explanation: ExplanationOptions

    @Flag(help: .translated("Print every intermediate tensor and every table row in full instead of a summary."))
    var verbose = false

    @Option(help: .translated("How to write the lesson: text for the terminal, markdown (pictures go to --images-dir), html (one self-contained page for a projector, pictures and formulas included), or json for scripts (every row and value)."))
    var format: OutputFormat = .text

    @Flag(help: .translated("The same as --format json, as the other commands spell it."))
    var json = false

    /// --format, or json for --json.
    var outputFormat: OutputFormat { json ? .json : format }

    /// The picture, given as an argument or with --image.
    var image: String? { picture ?? explanation.image }

    @Option(help: .translated(
        "Write the lesson to this file instead of standard output. The file appears complete or not at all. With --format markdown, the pictures go beside it in an images folder unless --images-dir says otherwise, and the page links to them relative to itself.",
        valueName: "file"))
    var out: String?

    @Option(name: .customLong("images-dir"), help: .translated(
        "Where the markdown format saves its pictures (default: out/images, or an images folder beside --out).",
        valueName: "folder"))
    var imagesDirectory: String?

    @OptionGroup var display: ColorOptions

    @Flag(help: .translated("Wait for Enter between the steps, for teaching on a projector."))
    var pause = false

    @Flag(name: .customLong("every-pass"), help: .translated(
        "On a photo network, run every forward pass the slow steps ask for: Score-CAM's mask for every channel in morecams (512 on a ResNet-34, 2048 on a ResNet-50), and the full curves and the block-by-block randomisation in evaluate. Without it those lessons run fewer passes on a ResNet and say what they left out; the small CNN always runs everything."))
    var everyPass = false

    func validate() throws {
        guard LessonCatalog.lesson(id: name) != nil else {
            throw ValidationError(translated("There is no lesson '{$1}'; the lessons are: {$2}.",
                                             with: name, LessonCatalog.all.map { $0.id }.joined(separator: ", ")))
        }
        if picture != nil && explanation.image != nil {
            throw ValidationError(translated("The picture is given twice, as an argument and with --image: give it once."))
        }
        if json && format != .text && format != .json {
            throw ValidationError(translated("--json and --format {$1} ask for two formats: give one of them.", with: format.rawValue))
        }
        let format = outputFormat
        if pause && format != .text {
            throw ValidationError(translated("--pause waits for Enter between steps on the terminal; leave it out with --format {$1}.", with: format.rawValue))
        }
        if pause && out != nil {
            throw ValidationError(translated("--pause waits for Enter between steps on the terminal; leave it out with --out."))
        }
        if imagesDirectory != nil && format != .markdown {
            throw ValidationError(translated(
                "--images-dir is where --format markdown saves its pictures; leave it out with --format {$1} (html carries its pictures inside the page).",
                with: format.rawValue))
        }
        if let out, out.isEmpty || out.hasSuffix("/") {
            let fileExtension = format == .text ? "txt" : format == .markdown ? "md" : format.rawValue
            throw ValidationError(translated("--out must name a file, for example --out {$1}.", with: "\(name).\(fileExtension)"))
        }
        if let imagesDirectory, imagesDirectory.isEmpty {
            throw ValidationError(translated("{$1} needs a folder name, such as {$2}.", with: "--images-dir", "--images-dir images"))
        }
        let inputs = [("--image", image), ("--weights", model.weights)]
        try OutputFiles.check([.init(flag: "--out", path: out, example: "\(name).md")], inputs: inputs)
        try OutputFiles.checkFolder(flag: "--images-dir", path: imagesDirectory, example: "images", others: inputs + [("--out", out)],
                                    writes: { $0.hasSuffix(".png") })
    }

    @OptionGroup var language: LanguageOption

    func run() throws {
        let lesson = LessonCatalog.lesson(id: name)!
        let classifier = try model.loadClassifier()
        var explanation = self.explanation
        explanation.image = image
        var context = LessonContext(
            classifier: classifier, biasFreeClassifier: model.loadBiasFreeClassifier(),
            image: try explanation.loadImage(for: classifier), targetClass: try explanation.resolveClass(for: classifier),
            layer: try explanation.resolveLayer(for: classifier), seed: explanation.seed)
        context.everyPass = everyPass
        context.shippedModel = { try? ModelLocation.defaultWeights(named: $0) }
        let bar = ProgressBar()
        var reported = false
        context.progress = { label, fraction in
            reported = true
            bar.update(label: label, fraction: fraction, detail: "")
        }
        let notebook = try lesson.build(context)
        notebook.run = [
            ("weights", .string(try model.weightsPath())), ("model", model.model.map { .string($0.rawValue) } ?? .null),
            ("architecture", .string(classifier.spec.architecture)),
            ("image", image.map(JSONOutput.string) ?? .null), ("class", context.targetClass.map(JSONOutput.integer) ?? .null),
            ("layer", context.layer.map(JSONOutput.string) ?? .null), ("seed", .string("\(context.seed)")),
            ("language", .string(context.language)), ("every_pass", .bool(everyPass)),
        ]
        if reported { bar.finish(label: translated("lesson {$1}", with: name), detail: translated("computed")) }
        let output = LessonOutput(format: outputFormat, verbose: verbose, file: out, imagesDirectory: imagesDirectory,
                                  color: out == nil ? display.useColor : display.color == .always, pause: pause)
        try output.write(notebook)
        if !notebook.allChecksPass {
            let failed = notebook.checks.filter { !$0.ok }.map(\.name)
            Terminal.printError("tutor: " + translated("{$1} check(s) failed in lesson {$2}: {$3}", with: failed.count, name, failed.joined(separator: "; ")))
            throw ExitCode(1)
        }
    }
}

/// Where and how a lesson is written: standard output or a file (written atomically), in
/// one of the formats; Markdown pictures go to a folder that the page links to relatively.
struct LessonOutput {
    var format: OutputFormat
    var verbose: Bool
    /// nil: standard output.
    var file: String?
    var imagesDirectory: String?
    var color: Bool
    var pause: Bool

    func write(_ notebook: Notebook) throws {
        switch format {
        case .text:
            var renderer = TerminalRenderer(color: color, verbose: verbose,
                                            width: file == nil ? TerminalRenderer.standardOutputWidth() : 80)
            if let file {
                try writeFileAtomically(Data(renderer.render(notebook).utf8), to: file)
                return
            }
            if pause {
                renderer.betweenSteps = { _ in
                    StandardStreams.writeError("  ⏎ " + translated("Press Enter for the next step…"))
                    _ = readLine()
                }
            }
            // The first failed write ends the output (a full disk, a closed pipe); it is reported
            // once the renderer returns.
            var failure: Error?
            renderer.render(notebook) { text in
                guard failure == nil else { return }
                do { try StandardStreams.writeOutput(text) } catch { failure = error }
            }
            if let failure { throw failure }
        case .markdown:
            let pageFolder = file.map { ($0 as NSString).deletingLastPathComponent } ?? ""
            let pictures = imagesDirectory ?? (file == nil ? "out/images" : (pageFolder.isEmpty ? "images" : pageFolder + "/images"))
            do { try FileManager.default.createDirectory(atPath: pictures, withIntermediateDirectories: true) } catch {
                throw MiniNetError.file(pictures, "cannot create the folder for pictures")
            }
            let link = MarkdownRenderer.relativeLink(toFolder: pictures, fromPageFolder: pageFolder.isEmpty ? "." : pageFolder)
            // The pictures are drawn into a hidden folder beside their own and moved in only
            // once the page is written, so a failure on the way leaves neither half.
            let staging = pictures + "/.tutor-pictures-\(getpid())-\(UUID().uuidString)"
            defer { try? FileManager.default.removeItem(atPath: staging) }
            let page = try MarkdownRenderer(imageDirectory: staging, imageLinkPrefix: link, verbose: verbose).render(notebook)
            let drawn = (try? FileManager.default.contentsOfDirectory(atPath: staging).sorted()) ?? []
            for name in drawn where OutputFiles.isFolder(pictures + "/" + name) {
                throw MiniNetError.file(pictures + "/" + name, "is a folder, where a picture of the lesson is to be written; move it away first")
            }
            try emit(page)
            for name in drawn where rename(staging + "/" + name, pictures + "/" + name) != 0 {
                throw MiniNetError.file(pictures + "/" + name, "cannot replace file (\(String(cString: strerror(errno))))")
            }
        case .html:
            try emit(HTMLRenderer(verbose: verbose).render(notebook))
        case .json:
            try emit(JSONRenderer().render(notebook))
        }
    }

    private func emit(_ text: String) throws {
        if let file {
            try writeFileAtomically(Data(text.utf8), to: file)
        } else {
            try StandardStreams.writeOutput(text)
        }
    }
}

import ArgumentParser
import Foundation
import Lessons
import MiniNet

struct ExportDocsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export-docs",
        abstract: translated("Write one Markdown page per lesson and language into docs/lessons (English) and docs/vi/lessons (Vietnamese), with the pictures in images/lessons."),
        discussion: translated("""
        The pages are generated from the lessons with the shipped models and default options, so \
        they always show the numbers the code computes. CI fails when the committed pages differ \
        from what this command writes; use --check to compare without writing. The three folders \
        are generated: everything in them is replaced, so keep nothing else there. The comparison \
        forgives rounding noise of another processor: numbers within their printed precision \
        (plus 0.2 %), residuals of passing checks, and pixels a few levels apart. With --model or \
        --weights, the pages of that network go under --root, which must then be another folder \
        than the repository.
        """)
    )

    @OptionGroup var model: ModelOptions

    @Option(help: .translated("The folder of the repository to write into."))
    var root = "."

    @Flag(help: .translated("Only compare by content: exit with status 1 and name the first difference (page:line) if docs/ is out of date."))
    var check = false

    @OptionGroup var language: LanguageOption

    /// Where each language's pages go; the pictures hold no words, so both share images/lessons.
    static let pageFolders: [(language: Language, folder: String)] = [(.en, "docs/lessons"), (.vi, "docs/vi/lessons")]

    func validate() throws {
        guard !root.isEmpty else { throw ValidationError(translated("--root is empty: pass the repository's folder, such as --root .")) }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root, isDirectory: &isDirectory), isDirectory.boolValue else {
            let shown = OutputFiles.shownPath(root)
            // Another network's pages never go into the repository, so "--root ." is no advice there.
            if !usesShippedNetwork {
                throw ValidationError(translated("--root `{$1}` is not a folder: create it first (mkdir -p {$2}) for this network's pages.",
                                                 with: shown, shown))
            }
            throw ValidationError(translated("--root `{$1}` is not a folder: pass the repository's folder, such as --root .", with: shown))
        }
        // The repository's pages show the shipped network, and CI compares them: pages of
        // another network go elsewhere.
        let repositoryPages = FileManager.default.fileExists(atPath: root + "/Package.swift")
            && FileManager.default.fileExists(atPath: root + "/docs/lessons")
        if repositoryPages && !usesShippedNetwork {
            throw ValidationError(translated(
                "--model and --weights make the pages of another network, and --root `{$1}` holds the repository's, made with the shipped one: pass another folder, such as --root /tmp/resnet-pages.",
                with: OutputFiles.shownPath(root)))
        }
        guard !check else { return }
        try OutputFiles.checkFolder(flag: "--root", path: root, example: ".")
        // A file where one of the folders goes would stop the export halfway.
        for folder in ["docs", "docs/lessons", "docs/vi", "docs/vi/lessons", "images", "images/lessons"] {
            let path = root + "/" + folder
            if FileManager.default.fileExists(atPath: path) && !OutputFiles.isFolder(path) {
                throw ValidationError(translated("--root `{$1}`: `{$2}` is a file where export-docs writes a folder; move it away first.",
                                                 with: OutputFiles.shownPath(root), folder))
            }
        }
    }

    /// Whether the pages come from the shipped networks. Even the shipped file given as
    /// --weights makes other pages: the lessons then have no bias-free network beside it.
    var usesShippedNetwork: Bool { model.model == nil && model.weights == nil }

    func run() throws {
        let classifier = try model.loadClassifier()
        let biasFreeClassifier = model.loadBiasFreeClassifier()
        let picturesFolder = root + "/images/lessons"
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("tutor-docs-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        try FileManager.default.createDirectory(atPath: scratch + "/pictures", withIntermediateDirectories: true)

        let pageTotal = Self.pageFolders.count * LessonCatalog.all.count
        var pagesDone = 0
        let started = Date()
        for (language, folder) in Self.pageFolders {
            let pages = scratch + "/" + folder
            try FileManager.default.createDirectory(atPath: pages, withIntermediateDirectories: true)
            let depth = folder.split(separator: "/").count
            let linkPrefix = String(repeating: "../", count: depth) + "images/lessons/"
            try Language.$override.withValue(language) {
                var context = LessonContext(classifier: classifier, biasFreeClassifier: biasFreeClassifier, language: language.rawValue)
                context.shippedModel = { try? ModelLocation.defaultWeights(named: $0) }
                var index = translated("# Lessons") + "\n\n"
                    + translated("Generated by `tutor export-docs` from the lessons themselves; do not edit by hand.") + "\n\n"
                    + "| " + translated("lesson") + " | " + translated("what it covers") + " |\n| --- | --- |\n"
                for lesson in LessonCatalog.all {
                    ProgressBar().update(label: "export-docs", fraction: Double(pagesDone) / Double(pageTotal),
                                         detail: "\(folder)/\(lesson.id).md")
                    let notebook = try lesson.build(context)
                    pagesDone += 1
                    guard notebook.allChecksPass else {
                        throw MiniNetError.invalidArgument("lesson \(lesson.id) has failing checks; fix them before exporting")
                    }
                    let page = try MarkdownRenderer(imageDirectory: scratch + "/pictures", imageLinkPrefix: linkPrefix).render(notebook)
                    try Data(page.utf8).write(to: URL(fileURLWithPath: pages + "/\(lesson.id).md"))
                    index += "| [\(lesson.id)](\(lesson.id).md) | \(translated(lesson.summary)) |\n"
                }
                try Data(index.utf8).write(to: URL(fileURLWithPath: pages + "/README.md"))
            }
        }

        // A last line only after a wait worth reporting (a ResNet's pages, not the small CNN's).
        if Date().timeIntervalSince(started) >= 5 { ProgressBar().finish(label: "export-docs", detail: translated("{$1} lesson pages", with: pageTotal)) }
        else if Terminal.standardErrorIsTerminal { StandardStreams.writeError("\r\u{1B}[2K") }
        let generatedPictures = try FileManager.default.contentsOfDirectory(atPath: scratch + "/pictures").sorted()
        let pageCount = try Self.pageFolders.reduce(0) { $0 + (try FileManager.default.contentsOfDirectory(atPath: scratch + "/" + $1.folder).count) }
        if check {
            let comparison = DocsComparison()
            var differences: [DocsComparison.Difference] = []
            for (_, folder) in Self.pageFolders {
                differences += try comparison.compareFolders(committed: root + "/" + folder, generated: scratch + "/" + folder, shownAs: folder + "/")
            }
            differences += try comparison.compareFolders(committed: picturesFolder, generated: scratch + "/pictures", shownAs: "images/lessons/")
            if let first = differences.first {
                Terminal.printError("tutor: " + translated("{$1} ({$2} file(s) differ in all); run `tutor export-docs` and commit the result",
                                                           with: first.file + (first.line.map { ":\($0)" } ?? "") + ": " + translated(first.message),
                                                           differences.count))
                throw ExitCode(1)
            }
            print(translated("docs/lessons and docs/vi/lessons are up to date ({$1} pages, {$2} pictures).", with: pageCount, generatedPictures.count))
            return
        }
        do {
            try replaceGeneratedFolders(scratch: scratch, pictures: generatedPictures, picturesFolder: picturesFolder)
        } catch let error as NSError {
            let path = (error.userInfo[NSFilePathErrorKey] as? String) ?? root
            let reason = (error.userInfo[NSUnderlyingErrorKey] as? NSError).map { String(cString: strerror(Int32($0.code))) } ?? error.localizedDescription
            throw MiniNetError.file(path, "cannot write the generated pages (\(reason))")
        }
        print(translated("Wrote {$1} pages to docs/lessons and docs/vi/lessons, and {$2} pictures to {$3}.", with: pageCount, generatedPictures.count, picturesFolder))
    }

    /// The three generated folders, replaced whole by what was just generated in `scratch`.
    func replaceGeneratedFolders(scratch: String, pictures generatedPictures: [String], picturesFolder: String) throws {
        for (_, folder) in Self.pageFolders {
            let target = root + "/" + folder
            try? FileManager.default.removeItem(atPath: target)
            try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
            for page in try FileManager.default.contentsOfDirectory(atPath: scratch + "/" + folder).sorted() {
                try FileManager.default.copyItem(atPath: scratch + "/" + folder + "/" + page, toPath: target + "/" + page)
            }
        }
        try? FileManager.default.removeItem(atPath: picturesFolder)
        try FileManager.default.createDirectory(atPath: picturesFolder, withIntermediateDirectories: true)
        for picture in generatedPictures {
            try FileManager.default.copyItem(atPath: scratch + "/pictures/" + picture, toPath: picturesFolder + "/" + picture)
        }
    }
}

import Foundation
import MiniNet
import XCTest

/// Where `tutor` writes: a standard output that cannot take the text, and destinations that
/// would destroy an input or cannot be written, are one line on stderr and a non-zero exit,
/// found before any work and before any file is written.
extension CommandLineTests {
    func testAFullOrClosedStandardOutputIsOneLineAndExitStatus1() throws {
        for (arguments, device) in [(["lesson", "cam"], "/dev/full"), (["lesson", "cam", "--format", "json"], "/dev/full"),
                                    (["predict", "images/shapes/circle.png"], "/dev/full"), (["lessons"], "/dev/full")] {
            let process = Process()
            process.executableURL = try binary
            process.arguments = arguments
            process.environment = ChildEnvironment.tutor()
            process.currentDirectoryURL = Self.repositoryRoot
            process.standardOutput = try XCTUnwrap(FileHandle(forWritingAtPath: device))
            let errors = Pipe()
            process.standardError = errors
            try process.run()
            let errorText = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            XCTAssertEqual(process.terminationReason, .exit, "\(arguments): \(errorText)")
            XCTAssertEqual(process.terminationStatus, 1, "\(arguments): \(errorText)")
            XCTAssertEqual(errorText.split(separator: "\n").count, 1, errorText)
            XCTAssertTrue(errorText.hasPrefix("tutor: standard output: cannot write"), errorText)
        }
    }

    func testAnOutputThatIsAnInputIsRefusedBeforeAnyWork() throws {
        let folder = try temporaryFolder()
        let picture = folder.appendingPathComponent("circle.png").path
        try FileManager.default.copyItem(atPath: Self.repositoryRoot.appendingPathComponent("images/shapes/circle.png").path, toPath: picture)
        let original = try Data(contentsOf: URL(fileURLWithPath: picture))
        try assertOneLineFailure(["explain", picture, "--overlay", picture], mentions: "--overlay")
        try assertOneLineFailure(["evaluate", picture, "--csv", picture, "--sanity", "none", "--methods", "cam"], mentions: "--csv")
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: picture)), original, "the input was changed")
    }

    func testDestinationsThatCannotBeWrittenAreFoundFirst() throws {
        let folder = try temporaryFolder()
        let missing = folder.appendingPathComponent("no/such/folder").path
        try assertOneLineFailure(["lesson", "cam", "--format", "markdown", "--out", missing + "/cam.md"], mentions: "does not exist")
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder.appendingPathComponent("no").path), "a folder was made")
        // The CSV would be fine; the plot folder is not: neither is written.
        let csv = folder.appendingPathComponent("results.csv").path
        try assertOneLineFailure(["evaluate", "--count", "2", "--sanity", "none", "--methods", "cam", "--csv", csv, "--plot", missing],
                                 mentions: "--plot")
        XCTAssertFalse(FileManager.default.fileExists(atPath: csv), "the CSV was written before the plots failed")
        try assertOneLineFailure(["evaluate", "--csv", ""], mentions: "--csv")
        try assertOneLineFailure(["export-docs", "--root", ""], mentions: "--root")
        try assertOneLineFailure(["export-docs", "--root", "README.md"], mentions: "--root")
        try assertOneLineFailure(["bench", "--repeats", "-1"], mentions: "--repeats")
        try assertOneLineFailure(["bench", "--only", ","], mentions: "--only")
    }

    func testAPathWithAControlCharacterIsShownEscaped() throws {
        let result = try run(["predict", "bad\u{1B}[31mname\n.png"])
        XCTAssertEqual(result.status, 1, result.errors)
        XCTAssertEqual(result.errors, "tutor: bad\\u{1B}[31mname\\n.png: no such file\n")
    }

    func testHelpForAnUnknownCommandIsAnError() throws {
        try assertOneLineFailure(["help", "nope"], mentions: "nope")
        XCTAssertEqual(try run(["help", "lesson"]).status, 0)
        XCTAssertEqual(try run(["help", "--lang", "vi", "lesson"]).status, 0)
    }

    /// A first word that is no command gets the commands named, and the nearest one when a
    /// typing slip explains it (exit 2, a usage error), in the reader's language.
    func testAnUnknownCommandNamesTheCommands() throws {
        let slip = try run(["lesosn", "gradcam"])
        XCTAssertEqual(slip.status, 2, slip.errors)
        XCTAssertEqual(slip.errors, "tutor: There is no command 'lesosn'; did you mean 'lesson'? The commands are: lessons, lesson, train, "
                       + "predict, explain, dataset, homework, export-docs, bench, evaluate.\n")
        try assertOneLineFailure(["evalute", "x.png"], mentions: "did you mean 'evaluate'?")
        try assertOneLineFailure(["help", "explian"], mentions: "did you mean 'explain'?")
        let unrelated = try run(["--lang", "en", "foo"])
        XCTAssertEqual(unrelated.status, 2, unrelated.errors)
        XCTAssertEqual(unrelated.errors, "tutor: There is no command 'foo'; the commands are: lessons, lesson, train, predict, explain, "
                       + "dataset, homework, export-docs, bench, evaluate.\n")
        try assertOneLineFailure(["--lang", "vi", "lesosn"], mentions: "có phải bạn muốn gõ 'lesson'?")
    }

    func testAnExplanationThatOverflowsIsNotWritten() throws {
        let folder = try temporaryFolder()
        let input = folder.appendingPathComponent("huge.npy").path
        try NumpyFile.write(Tensor(repeating: 3e38, shape: [3, 32, 32]), to: input)
        let output = folder.appendingPathComponent("map.npy").path
        try assertOneLineFailure(["explain", "--input-npy", input, "--method", "lrp-0", "--save-npy", output], mentions: "overflows")
        XCTAssertFalse(FileManager.default.fileExists(atPath: output))
    }

    func testAFolderOutputDoesNotReplaceAnInputOrAnotherOutput() throws {
        let folder = try temporaryFolder()
        let plots = folder.appendingPathComponent("plots")
        try FileManager.default.createDirectory(at: plots, withIntermediateDirectories: true)
        let picture = plots.appendingPathComponent("deletion.png").path
        try FileManager.default.copyItem(atPath: Self.repositoryRoot.appendingPathComponent("images/shapes/circle.png").path, toPath: picture)
        let original = try Data(contentsOf: URL(fileURLWithPath: picture))
        try assertOneLineFailure(["evaluate", picture, "--plot", plots.path, "--sanity", "none", "--methods", "cam"], mentions: "--plot")
        try assertOneLineFailure(["evaluate", "--count", "2", "--csv", plots.path + "/insertion.png", "--plot", plots.path,
                                  "--sanity", "none", "--methods", "cam"], mentions: "--csv")
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: picture)), original)
        let same = folder.appendingPathComponent("same").path
        try assertOneLineFailure(["lesson", "cam", "--format", "markdown", "--out", same, "--images-dir", same], mentions: "--images-dir")
        XCTAssertFalse(FileManager.default.fileExists(atPath: same))
        try assertOneLineFailure(["train", "--out", folder.path], mentions: "--out")
    }

    func testAMarkdownLessonIsWrittenWholeOrNotAtAll() throws {
        let folder = try temporaryFolder()
        let blocked = folder.appendingPathComponent("images/cam-step1-picture1-panel1.png")
        try FileManager.default.createDirectory(at: blocked, withIntermediateDirectories: true)
        let page = folder.appendingPathComponent("cam.md").path
        try assertOneLineFailure(["lesson", "cam", "--format", "markdown", "--out", page], mentions: "is a folder")
        XCTAssertFalse(FileManager.default.fileExists(atPath: page))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent("images").path),
                       ["cam-step1-picture1-panel1.png"], "pictures were written, or the staging folder was left")
    }
}

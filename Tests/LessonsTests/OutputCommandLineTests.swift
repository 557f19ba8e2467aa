import Foundation
import Lessons
import MiniNet
import XCTest

/// What `tutor` writes for people: colour when asked, pages written where asked with links
/// that work from there, exit statuses as the README documents them, and every message on
/// one line starting with "tutor:".
extension CommandLineTests {
    func testExitStatusesAreAsDocumented() throws {
        // 2: a usage error (unknown flag, value out of range, unknown choice).
        for arguments in [["predict", "images/shapes/circle.png", "--no-such-flag"],
                          ["predict", "images/shapes/circle.png", "--top", "0"],
                          ["explain", "images/shapes/circle.png", "--method", "magic"],
                          ["lesson", "no-such-lesson"]] {
            let result = try run(arguments)
            XCTAssertEqual(result.status, 2, "\(arguments): \(result.errors)")
            XCTAssertTrue(result.errors.hasPrefix("tutor: "), result.errors)
            XCTAssertEqual(result.errors.split(separator: "\n").count, 1, result.errors)
        }
        // 1: bad input.
        let missing = try run(["predict", "no/such/picture.png"])
        XCTAssertEqual(missing.status, 1, missing.errors)
        XCTAssertTrue(missing.errors.hasPrefix("tutor: "), missing.errors)
        // 0: help.
        XCTAssertEqual(try run(["lesson", "--help"]).status, 0)
    }

    func testAnInvalidMethodListsTheValidOnes() throws {
        let result = try run(["explain", "images/shapes/circle.png", "--method", "gradcamm"])
        XCTAssertEqual(result.status, 2)
        XCTAssertEqual(result.errors.split(separator: "\n").count, 1, result.errors)
        XCTAssertTrue(result.errors.contains("gradcamm"), result.errors)
        XCTAssertTrue(result.errors.contains(ExplainerRegistry.ids.joined(separator: ", ")), result.errors)
        let format = try run(["lesson", "intro", "--format", "pdf"])
        XCTAssertTrue(format.errors.contains("'html'"), format.errors)
    }

    func testAPhotoForTheShapesNetworkGetsOneWarning() throws {
        let result = try run(["predict", "images/photos/chelsea.png"])
        XCTAssertEqual(result.status, 0, result.errors)
        let lines = result.errors.split(separator: "\n")
        guard lines.count == 1 else { return XCTFail("1 line expected on stderr: \(result.errors)") }
        XCTAssertTrue(lines[0].hasPrefix("tutor: warning: images/photos/chelsea.png"), result.errors)
        XCTAssertTrue(lines[0].contains("circle, square and triangle"), result.errors)
        // A picture of the shapes data set's own size gets none.
        XCTAssertEqual(try run(["predict", "images/shapes/circle.png"]).errors, "")
    }

    func testExplainPrintsNumbersAtTheLessonsPrecision() throws {
        let result = try run(["explain", "images/shapes/circle.png", "--method", "cam"], environment: ["COLUMNS": "80"])
        XCTAssertEqual(result.status, 0, result.errors)
        let score = try XCTUnwrap(result.output.range(of: #"yᶜ = -?[0-9]+\.[0-9]{4}\n"#, options: .regularExpression), result.output)
        XCTAssertFalse(result.output[score].isEmpty)
        XCTAssertNil(result.output.range(of: #"[0-9]\.[0-9]{8}"#, options: .regularExpression), result.output)
        XCTAssertTrue(result.output.contains("✓ S_c = (1/Z) Σ M_c + b_c"), result.output)
        for line in result.output.split(separator: "\n") { XCTAssertLessThanOrEqual(displayWidth(String(line)), 80, String(line)) }
    }

    /// The figures beside a map are named for people, in the reader's language; their JSON keys
    /// (`relevance_total`, `absorbed`) stay in `--json`.
    func testExplainNamesItsFiguresForPeople() throws {
        let english = try run(["explain", "images/shapes/circle.png", "--method", "lrp-epsilon"], environment: ["COLUMNS": "200"])
        XCTAssertEqual(english.status, 0, english.errors)
        XCTAssertNotNil(english.output.range(of: #"  Σ_i R_i \(relevance of the pixels\) = -?[0-9.]+, absorbed by biases and ε = -?[0-9.]+\n"#,
                                              options: .regularExpression), english.output)
        XCTAssertFalse(english.output.contains("relevance_total"), english.output)
        let vietnamese = try run(["explain", "images/shapes/circle.png", "--method", "ig", "--lang", "vi"], environment: ["COLUMNS": "200"])
        XCTAssertEqual(vietnamese.status, 0, vietnamese.errors)
        XCTAssertTrue(vietnamese.output.contains("yᶜ tại điểm gốc (baseline) = "), vietnamese.output)
        let json = try run(["explain", "images/shapes/circle.png", "--method", "lrp-epsilon", "--json"])
        XCTAssertTrue(json.output.contains("\"relevance_total\""), json.output)
    }

    func testColorFollowsTheFlagAndNO_COLOR() throws {
        let piped = try run(["lesson", "intro"])
        XCTAssertEqual(piped.status, 0, piped.errors)
        XCTAssertFalse(piped.output.contains("\u{1B}["), "auto: no colour into a pipe")
        let always = try run(["lesson", "intro", "--color", "always"], environment: ["NO_COLOR": "1"])
        XCTAssertTrue(always.output.contains("\u{1B}[1m"), "always: colour into a pipe, for less -R")
        // intro.md writes "**The model is weaker than people.**".
        XCTAssertTrue(always.output.contains("\u{1B}[1mThe model is weaker than people."), "emphasis is bold, not asterisks")
        let never = try run(["lesson", "intro", "--color", "never"])
        XCTAssertFalse(never.output.contains("\u{1B}["))
        XCTAssertTrue(never.output.contains("  • The model is weaker than people. Explanations"), "emphasis is dropped without colour")
        for line in never.output.split(separator: "\n") { XCTAssertLessThanOrEqual(displayWidth(String(line)), 80, String(line)) }
    }

    func testMarkdownLinksItsPicturesRelativeToThePage() throws {
        let folder = try temporaryFolder()
        let page = folder.appendingPathComponent("some/dir/cam.md")
        try FileManager.default.createDirectory(at: page.deletingLastPathComponent(), withIntermediateDirectories: true)
        let result = try run(["lesson", "cam", "--format", "markdown", "--out", page.path])
        XCTAssertEqual(result.status, 0, result.errors)
        XCTAssertEqual(result.output, "")
        let text = try String(contentsOf: page, encoding: .utf8)
        let links = try NSRegularExpression(pattern: #"!\[[^\]]*\]\(([^)]+)\)"#)
            .matches(in: text, range: NSRange(text.startIndex..., in: text))
            .compactMap { Range($0.range(at: 1), in: text).map { String(text[$0]) } }
        XCTAssertFalse(links.isEmpty)
        for link in links {
            XCTAssertTrue(link.hasPrefix("images/"), link)
            XCTAssertTrue(FileManager.default.fileExists(atPath: page.deletingLastPathComponent().appendingPathComponent(link).path), link)
        }
        // Pictures elsewhere: the links climb out of the page's folder to them.
        let pictures = folder.appendingPathComponent("pictures")
        let other = try run(["lesson", "cam", "--format", "markdown", "--out", page.path, "--images-dir", pictures.path])
        XCTAssertEqual(other.status, 0, other.errors)
        let again = try String(contentsOf: page, encoding: .utf8)
        XCTAssertTrue(again.contains("](../../pictures/cam-step"), again)
    }

    func testHTMLIsOneSelfContainedFile() throws {
        let folder = try temporaryFolder()
        let page = folder.appendingPathComponent("gradcam.html").path
        let result = try run(["lesson", "gradcam", "--format", "html", "--out", page])
        XCTAssertEqual(result.status, 0, result.errors)
        let html = try String(contentsOfFile: page, encoding: .utf8)
        XCTAssertTrue(html.hasPrefix("<!DOCTYPE html>"))
        XCTAssertTrue(html.contains("src=\"data:image/png;base64,"))
        XCTAssertTrue(html.contains("<math "))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path), ["gradcam.html"], "nothing beside it")
        try assertOneLineFailure(["lesson", "gradcam", "--format", "html", "--out", folder.appendingPathComponent("no/such/dir/page.html").path],
                                 mentions: "page.html")
    }
}

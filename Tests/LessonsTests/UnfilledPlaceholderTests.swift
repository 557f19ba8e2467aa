import Foundation
import Lessons
import MiniNet
import XCTest

/// No lesson shows a `{placeholder}` of its text file unfilled (nor a missing key), with any
/// model and in any format. LessonText turns both into a "⟦…⟧" marker, so a search for "⟦"
/// finds them without mistaking LaTeX (`\frac{1}{Z}`) or JSON braces for placeholders.
final class UnfilledPlaceholderTests: XCTestCase {
    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    func testLessonTextMarksAPlaceholderWithoutValue() throws {
        let text = try LessonText(lesson: "x", source: "## rules\nn = {steps}, $\\frac{{1}}{{Z}}$")
        XCTAssertEqual(text("rules", ["steps": "5"]), "n = 5, $\\frac{1}{Z}$")
        XCTAssertEqual(text("rules"), "n = ⟦unfilled {steps}: en/x.md ## rules⟧, $\\frac{1}{Z}$")
    }

    /// The small CNN (with its bias-free twin, as `tutor export-docs` uses it) and the narrow
    /// ResNet fixtures at 64×64 with the photo of Chelsea, as in ResNetLessonTests.
    func contexts() throws -> [(name: String, context: LessonContext)] {
        let root = Self.repositoryRoot
        let smallCNN = LessonContext(
            classifier: try ImageClassifier.load(from: root.appendingPathComponent("models/mininet.safetensors").path),
            biasFreeClassifier: try ImageClassifier.load(from: root.appendingPathComponent("models/mininet-nobias.safetensors").path))
        let photo = try RGBImage.read(from: root.appendingPathComponent("images/photos/chelsea.png").path)
        let picture = try ImageNetPreprocessing(resizeShorterSide: 64, cropSize: 64).resizeAndCrop(photo).toTensor()
        var contexts = [("small CNN", smallCNN)]
        for depth in [18, 34, 50] {
            let path = root.appendingPathComponent("Tests/MiniNetTests/Fixtures/resnet/resnet\(depth)-narrow.safetensors").path
            contexts.append(("ResNet-\(depth)", LessonContext(classifier: try PretrainedResNet.load(from: path, imageSize: 64), image: picture)))
        }
        return contexts
    }

    func testNoLessonShowsAnUnfilledPlaceholderInAnyFormat() throws {
        let pictures = NSTemporaryDirectory() + "unfilled-placeholders-\(UUID().uuidString)"
        addTeardownBlock { try? FileManager.default.removeItem(atPath: pictures) }
        for (model, context) in try contexts() {
            for lesson in LessonCatalog.all {
                // Building is the slow part (a ResNet in a debug build): once per model and lesson.
                let notebook = try lesson.build(context)
                let outputs = [
                    ("text", TerminalRenderer(color: false).render(notebook)),
                    ("markdown", try MarkdownRenderer(imageDirectory: pictures).render(notebook)),
                    ("json", try JSONRenderer().render(notebook)),
                ]
                for (format, output) in outputs {
                    let markers = Self.markers(in: output)
                    XCTAssertTrue(markers.isEmpty, "\(lesson.id), \(model), \(format): \(markers.joined(separator: "; "))")
                }
            }
        }
    }

    /// Every "⟦…⟧" in `output`, with line breaks of the terminal's wrapping undone.
    static func markers(in output: String) -> [String] {
        var markers: [String] = []
        var rest = output[...]
        while let start = rest.firstIndex(of: "⟦") {
            let end = rest[start...].firstIndex(of: "⟧").map { rest.index(after: $0) } ?? rest.endIndex
            markers.append(rest[start..<end].split(whereSeparator: \.isWhitespace).joined(separator: " "))
            rest = rest[end...]
        }
        return markers
    }
}

import Foundation
import XCTest
import MiniNet
@testable import Lessons

/// The lrp lesson on torchvision ResNets (the narrow fixtures of MiniNetTests): every check
/// passes, including LRP-0 = gradient × input with biases and the article's backbone experiment.
final class LRPLessonResNetTests: XCTestCase {
    static let fixtures = LRPLessonTests.repositoryRoot.appendingPathComponent("Tests/MiniNetTests/Fixtures/resnet")

    static func resNet(_ name: String) throws -> ImageClassifier {
        try PretrainedResNet.load(from: fixtures.appendingPathComponent("\(name)-narrow.pth").path)
    }

    private func assertAllChecksPass(_ notebook: Notebook, _ label: String, file: StaticString = #filePath, line: UInt = #line) {
        let failed = notebook.checks.filter { !$0.ok }
            .map { "\($0.name): \($0.left) vs \($0.right), |Δ| \($0.residual) > \($0.tolerance)" }
        XCTAssertTrue(failed.isEmpty, "\(label): \(failed.joined(separator: "; "))", file: file, line: line)
    }

    /// The sample photos, fitted to the network's input (the lesson's default picture is the
    /// shapes data set, which is made for the small network).
    static func photos(for classifier: ImageClassifier) throws -> [(name: String, picture: Tensor)] {
        let folder = LRPLessonTests.repositoryRoot.appendingPathComponent("images/photos")
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".png") }.sorted()
        return try names.map { ($0, try classifier.fitToInput(try RGBImage.read(from: folder.appendingPathComponent($0).path))) }
    }

    /// Under OpenBLAS and without Winograd. MiniNet's plain-loop products take minutes on these
    /// 224×224 photos in a debug build; ResNetLessonTests runs this lesson under them at 64×64.
    func testNarrowResNetsPassAllChecks() throws {
        try forEachArithmeticVariant([.openBLAS, .noWinograd]) { _ in
            for name in ["resnet18", "resnet34", "resnet50"] {
                let classifier = try Self.resNet(name)
                for (photo, picture) in try Self.photos(for: classifier).prefix(2) {
                    let notebook = try LRPLesson.build(LessonContext(classifier: classifier, image: picture))
                    assertAllChecksPass(notebook, "\(name) \(photo)")
                    // score, rule, LRP-0 = gradient × input, ledger, heatmap, the article three ways, why, control.
                    XCTAssertEqual(notebook.steps.map(\.number), [0, 1, 2, 3, 4, 5, 6, 7, 8], name)
                    XCTAssertEqual(notebook.checks.count, 11, name)
                }
            }
        }
    }

    func testEveryClassOnResNet18() throws {
        let classifier = try Self.resNet("resnet18")
        let picture = try XCTUnwrap(try Self.photos(for: classifier).last).picture
        for target in 0..<classifier.classNames.count {
            assertAllChecksPass(try LRPLesson.build(LessonContext(classifier: classifier, image: picture, targetClass: target)),
                                "class \(target)")
        }
    }

    func testPhotoAndRenderers() throws {
        let classifier = try Self.resNet("resnet34")
        let photo = try RGBImage.read(from: LRPLessonTests.repositoryRoot.appendingPathComponent("images/photos/chelsea.png").path)
        let notebook = try LRPLesson.build(LessonContext(classifier: classifier, image: try classifier.fitToInput(photo)))
        assertAllChecksPass(notebook, "chelsea")
        XCTAssertTrue(TerminalRenderer(color: false).render(notebook).contains("(iii) canonical"))
        let directory = NSTemporaryDirectory() + "lrp-resnet-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        XCTAssertTrue(try MarkdownRenderer(imageDirectory: directory).render(notebook).hasPrefix("# Layer-wise relevance propagation"))
        let json = try JSONRenderer().render(notebook)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        XCTAssertEqual(object["all_checks_pass"] as? Bool, true)
        // Every placeholder of the prose was filled.
        XCTAssertFalse(json.contains("missing text"))
    }
}

import Foundation
import Lessons
import MiniNet
import XCTest

/// Every lesson on a torchvision ResNet (the narrow fixtures of Tests/MiniNetTests/Fixtures/resnet,
/// at 64×64 so that the tests stay fast) with the photo of Chelsea: every check passes, under
/// every arithmetic variant.
final class ResNetLessonTests: XCTestCase {
    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func context(_ file: String) throws -> LessonContext {
        let path = Self.repositoryRoot.appendingPathComponent("Tests/MiniNetTests/Fixtures/resnet/\(file)").path
        let classifier = try PretrainedResNet.load(from: path, imageSize: 64)
        let photo = try RGBImage.read(from: Self.repositoryRoot.appendingPathComponent("images/photos/chelsea.png").path)
        let picture = try ImageNetPreprocessing(resizeShorterSide: 64, cropSize: 64).resizeAndCrop(photo).toTensor()
        return LessonContext(classifier: classifier, image: picture)
    }

    func testEveryLessonPassesItsChecksOnResNets() throws {
        try forEachArithmeticVariant { variant in
            for file in ["resnet18-narrow.safetensors", "resnet34-narrow.pth", "resnet50-narrow.pth"] {
                let context = try Self.context(file)
                XCTAssertFalse(context.usesShapesData)
                XCTAssertEqual(context.defaultCAMLayer(for: context.classifier), file.hasPrefix("resnet18") ? "layer4.1" : "layer4.2")
                for lesson in LessonCatalog.all {
                    let notebook = try lesson.build(context)
                    let failed = notebook.checks.filter { !$0.ok }.map { "\($0.name): residual \($0.residual) > tolerance \($0.tolerance)" }
                    XCTAssertTrue(failed.isEmpty, "\(file) \(lesson.id): failed checks \(failed)")
                    XCTAssertFalse(notebook.checks.isEmpty, "\(file) \(lesson.id) has no checks")
                    // Each check still catches a mistake (CheckMutationTests), and how much of its
                    // room the rounding used under this arithmetic.
                    let room = CheckMutations.assertChecksCatchBugs(notebook, "\(variant) \(file) \(lesson.id)")
                    print("room used: \(variant) \(file) \(lesson.id) \(String(format: "%.3g", room))")
                }
            }
        }
    }
}

import Foundation
import XCTest
import MiniNet
@testable import Lessons

/// Where a lesson's text states something about one of its tables (the IG gaps grow or fall
/// with the steps; ‖Aᵏ‖ is larger than the drops), the sentence is chosen from the table's own
/// numbers and a check right after it confirms the claim against the table. This test finds
/// each claim and its check, for several pictures, so that a sentence can no longer say
/// something its table contradicts (as "more steps shrink the gap" once did).
final class ProseClaimTests: XCTestCase {
    static let model = try? ImageClassifier.load(from: IGLessonTests.repositoryRoot + "/models/mininet.safetensors")

    /// The check that follows the prose cell containing `sentence`, in the same step.
    func checkAfter(_ sentence: String, in notebook: Notebook) -> Check? {
        for step in notebook.steps {
            guard let position = step.cells.firstIndex(where: { if case let .prose(text) = $0 { return text.contains(sentence) }; return false })
            else { continue }
            for cell in step.cells[(position + 1)...] {
                if case let .check(check) = cell { return check }
            }
        }
        return nil
    }

    func testIGGapClaimIsCheckedBesideIt() throws {
        let classifier = try XCTUnwrap(Self.model)
        for seed: UInt64 in [0, 7] {
            let notebook = try IGLesson.build(LessonContext(classifier: classifier, seed: seed))
            let claim = checkAfter("In this table the gap grew for", in: notebook)
                ?? checkAfter("Here more steps shrank the gap of every rule", in: notebook)
            let check = try XCTUnwrap(claim, "seed \(seed): the sentence about the gaps table has no check beside it")
            XCTAssertTrue(check.ok, "seed \(seed): \(check.name) \(check.left)")
            XCTAssertTrue(check.name.contains("gap"), check.name)
        }
    }

    func testAblationNormClaimIsCheckedBesideIt() throws {
        let classifier = try XCTUnwrap(Self.model)
        for seed: UInt64 in [0, 3, 7] {
            let notebook = try AblationCAMLesson.build(LessonContext(classifier: classifier, seed: seed))
            let claim = checkAfter("Here that holds: in the median", in: notebook)
                ?? checkAfter("Here it does not hold: in the median", in: notebook)
            let check = try XCTUnwrap(claim, "seed \(seed): the sentence about ‖Aᵏ‖ has no check beside it")
            XCTAssertTrue(check.ok, "seed \(seed): \(check.name) \(check.left)")
        }
    }
}

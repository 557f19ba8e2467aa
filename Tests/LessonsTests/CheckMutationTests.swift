import Foundation
import Lessons
import MiniNet
import XCTest

/// A tolerance must stay tight enough to catch a real mistake. For every numeric check of
/// every lesson, these tests break the left side the way a bug would and require the check
/// to fail:
///
/// - **a term left out**: the left side moved by the largest single term of its sum (the bias
///   forgotten, one channel skipped, one pixel missed);
/// - **a sign flipped**: −left, where the right side is not close to 0;
/// - **a mean for a sum** (or a sum for a mean): left / n or left · n, where n > 1 terms were added.
///
/// A check whose tolerance is `exact` fails on any change and is not mutated.
enum CheckMutations {
    struct Mutation {
        var name: String
        var left: Double
    }

    /// The bug-like versions of a check's left side that must make it fail.
    static func mutations(of check: Check) -> [Mutation] {
        guard check.kind == .absolute, let model = check.model, model.value > 0, check.ok else { return [] }
        var result: [Mutation] = []
        let largest = model.largestTerm
        // The identity must be sensitive to its largest term, which must stand out of the
        // rounding. Where an error that is not rounding dominates (a quadrature error bound),
        // a single small term may rightly hide in it; the sign and the scale must still show.
        let rounding = model.value - model.extra
        if largest > 0 && model.extra <= rounding { result.append(Mutation(name: "largest term (\(largest)) left out", left: check.left - largest)) }
        // A value close to 0 (relative to what was added) is unchanged by a sign flip or by
        // n; those mistakes are caught by the term left out instead.
        let magnitude = model.parts.map(\.magnitude).max() ?? 0
        if abs(check.right) > 1e-2 * magnitude && abs(check.right) > 0 {
            result.append(Mutation(name: "sign flipped", left: -check.left))
            if model.count > 1 {
                let n = Double(model.count)
                result.append(Mutation(name: "mean for a sum (÷\(model.count))", left: check.left / n))
                result.append(Mutation(name: "sum for a mean (×\(model.count))", left: check.left * n))
            }
        }
        return result
    }

    /// Fails the test for every mutation that the check lets through; returns the largest
    /// residual / tolerance of the notebook's checks (how much room the rounding used).
    @discardableResult
    static func assertChecksCatchBugs(_ notebook: Notebook, _ label: String,
                                      file: StaticString = #filePath, line: UInt = #line) -> Double {
        var usedRoom = 0.0
        for check in notebook.checks where check.kind == .absolute {
            XCTAssertNotNil(check.model, "\(label) \(check.name): the tolerance is not made by the error model",
                            file: file, line: line)
            XCTAssertNil(check.model?.extraReason == "fixed" ? check.model : nil,
                         "\(label) \(check.name): a fixed tolerance, not from the error model", file: file, line: line)
            usedRoom = max(usedRoom, check.usedFraction)
            for mutation in mutations(of: check) where check.passes(withLeft: mutation.left) {
                XCTFail("\(label) \(check.name): \(mutation.name) still passes "
                        + "(left \(check.left) → \(mutation.left), right \(check.right), tolerance \(check.tolerance))",
                        file: file, line: line)
            }
        }
        return usedRoom
    }
}

final class CheckMutationTests: XCTestCase {
    /// Every lesson on the small CNN under every arithmetic; the narrow ResNets get the same
    /// in ResNetLessonTests.
    func testEveryLessonCatchesBrokenIdentitiesOnTheSmallCNN() throws {
        let context = LessonContext(classifier: try IntroCAMGradCAMLessonTests.model("mininet"),
                                    biasFreeClassifier: try IntroCAMGradCAMLessonTests.model("mininet-nobias"))
        try forEachArithmeticVariant { variant in
            for lesson in LessonCatalog.all {
                let notebook = try lesson.build(context)
                XCTAssertTrue(notebook.allChecksPass, "\(variant) small CNN \(lesson.id)")
                let room = CheckMutations.assertChecksCatchBugs(notebook, "\(variant) small CNN \(lesson.id)")
                print("room used: \(variant) small CNN \(lesson.id) \(String(format: "%.3g", room))")
            }
        }
    }

    func testMutationsOfOneSum() {
        let terms: [Double] = [3, -1, 0.5, 2]
        let total = terms.reduce(0, +)
        let check = Check.equal("sum", "Σ a", total, "4.5", 4.5, tolerance: .sum(of: terms))
        XCTAssertTrue(check.ok)
        let mutations = CheckMutations.mutations(of: check)
        XCTAssertEqual(mutations.count, 4)
        XCTAssertTrue(mutations.allSatisfy { !check.passes(withLeft: $0.left) })
    }
}

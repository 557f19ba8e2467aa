import Foundation
import MiniNet
import XCTest

/// Assertions whose tolerance comes from the float32 error model (`Tolerance`), never from a
/// residual seen on one machine. A failure shows both sides, the residual and how the tolerance
/// was made. With TOLERANCE_REPORT=1 in the environment every check prints its
/// residual / tolerance, to see how much room a tolerance leaves on this machine.
extension XCTestCase {
    /// |ours − reference| ≤ tolerance (NaN and infinities never pass).
    @discardableResult
    func assertWithin(_ ours: Double, _ reference: Double, _ tolerance: Tolerance, _ message: @autoclosure () -> String = "",
                      file: StaticString = #filePath, line: UInt = #line) -> Check {
        let check = Check.equal(message(), "ours", ours, "reference", reference, tolerance: tolerance)
        record(check, file: file, line: line)
        return check
    }

    /// max_i |ours_i − reference_i| ≤ tolerance, element by element (shapes must agree).
    @discardableResult
    func assertWithin(_ ours: Tensor, _ reference: Tensor, _ tolerance: Tolerance, _ message: @autoclosure () -> String = "",
                      file: StaticString = #filePath, line: UInt = #line) -> Check {
        let check = Check.equal(message(), "ours", ours, "reference", reference, tolerance: tolerance)
        record(check, file: file, line: line)
        return check
    }

    /// The same for plain float arrays (same count).
    @discardableResult
    func assertWithin(_ ours: [Float], _ reference: [Float], _ tolerance: Tolerance, _ message: @autoclosure () -> String = "",
                      file: StaticString = #filePath, line: UInt = #line) -> Check {
        XCTAssertEqual(ours.count, reference.count, "\(message()): counts differ", file: file, line: line)
        return assertWithin(Tensor(shape: [ours.count], data: ours), Tensor(shape: [reference.count], data: reference),
                            tolerance, message(), file: file, line: line)
    }

    /// A deliberately broken left side (a term left out, a sign flipped) must fail the check's
    /// tolerance: the tolerance is tight enough to catch that mistake.
    func assertCatches(_ check: Check, broken: Double, _ mistake: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertFalse(check.passes(withLeft: broken),
                       "\(check.name): the tolerance \(check.model?.description ?? "?") would pass \(mistake): "
                       + "\(broken) against \(check.right)", file: file, line: line)
    }

    private func record(_ check: Check, file: StaticString, line: UInt) {
        if ProcessInfo.processInfo.environment["TOLERANCE_REPORT"] == "1" {
            let place = "\(file)".split(separator: "/").last.map(String.init) ?? ""
            func short(_ value: Double) -> String { String(format: "%.3g", value) }
            print("tolerance-report \(place):\(line) \(check.name) residual \(short(check.residual)) "
                  + "tolerance \(short(check.tolerance)) used \(short(check.usedFraction))")
        }
        XCTAssertTrue(check.ok, "\(check.name): ours \(check.left), reference \(check.right), |Δ| \(check.residual) > "
                      + "tolerance \(check.model?.description ?? "\(check.tolerance)")\(check.note.map { " (\($0))" } ?? "")",
                      file: file, line: line)
    }
}

import MiniNet
import XCTest

// The same file is in MiniNetTests and LessonsTests (a test target cannot share a file).
extension XCTestCase {
    /// Runs body under each arithmetic variant in turn (OpenBLAS; MiniNet's plain-loop products;
    /// OpenBLAS without Winograd), then restores the variant in use. A tolerance that holds under
    /// all three covers float32 rounding, not just one library's order of summation. Failures
    /// inside are followed by one more that names the variant they came under.
    func forEachArithmeticVariant(_ variants: [ArithmeticVariant] = ArithmeticVariant.allCases,
                                  file: StaticString = #filePath, line: UInt = #line,
                                  _ body: (ArithmeticVariant) throws -> Void) rethrows {
        for variant in variants {
            let failuresBefore = testRun?.totalFailureCount ?? 0
            defer {
                let failures = (testRun?.totalFailureCount ?? 0) - failuresBefore
                if failures > 0 {
                    XCTFail("the \(failures) failure(s) above came under ArithmeticVariant.\(variant)", file: file, line: line)
                }
            }
            try ArithmeticVariant.with(variant) { try body(variant) }
        }
    }
}

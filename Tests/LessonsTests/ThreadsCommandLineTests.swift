import Foundation
import XCTest

/// TUTOR_THREADS, TUTOR_GEMM and TUTOR_WINOGRAD, run as a person would.
extension CommandLineTests {
    /// The products cut their work by shape, not by thread count, so the lesson's every number
    /// comes out the same on 1 thread and on 3.
    func testLessonJSONIsByteIdenticalForAnyThreadCount() throws {
        for arguments in [["lesson", "ig", "--format", "json"],
                          ["lesson", "gradcam", "--format", "json", "--weights", "Tests/MiniNetTests/Fixtures/resnet/resnet18-narrow.pth"]] {
            let one = try run(arguments, environment: ["TUTOR_THREADS": "1"])
            let three = try run(arguments, environment: ["TUTOR_THREADS": "3"])
            XCTAssertEqual(one.status, 0, one.errors)
            XCTAssertFalse(one.output.isEmpty, "\(arguments)")
            XCTAssertTrue(one.output == three.output, "\(arguments): the JSON differs between TUTOR_THREADS=1 and 3")
        }
    }

    func testBadEnvironmentGivesOneLine() throws {
        for threads in ["0", "-2", "two", "100000", ""] {
            try assertOneLineFailure(["lessons"], environment: ["TUTOR_THREADS": threads], mentions: "TUTOR_THREADS")
        }
        try assertOneLineFailure(["lessons"], environment: ["TUTOR_GEMM": "fast"], mentions: "TUTOR_GEMM")
        try assertOneLineFailure(["lessons"], environment: ["TUTOR_WINOGRAD": "no"], mentions: "TUTOR_WINOGRAD")
        XCTAssertEqual(try run(["lessons"], environment: ["TUTOR_THREADS": "256", "TUTOR_GEMM": "reference"]).status, 0)
    }
}

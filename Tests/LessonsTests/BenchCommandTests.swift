import Foundation
import XCTest

/// `tutor bench`, run as a person would, on a small input so that it takes seconds in debug.
extension CommandLineTests {
    func testBenchPrintsThePeersJSONStructure() throws {
        // --threads overrides TUTOR_THREADS.
        let result = try run(["bench", "--model", "resnet18", "--ig-steps", "2", "--repeats", "1", "--image-size", "32", "--width-divisor", "8",
                              "--threads", "2", "--json"], environment: ["TUTOR_THREADS": "3"])
        XCTAssertEqual(result.status, 0, result.errors)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any])
        XCTAssertEqual(object["model"] as? String, "resnet18")
        XCTAssertEqual(object["threads"] as? Int, 2)
        XCTAssertNotNil(object["tool"] as? String)
        XCTAssertTrue((object["weights"] as? String)?.contains("random") == true, "says the weights are random")
        let seconds = try XCTUnwrap(object["seconds"] as? [String: Double])
        XCTAssertEqual(Set(seconds.keys), ["forward", "gradcam", "ablationcam", "ig2", "lrp_epsilon"])
        XCTAssertTrue(seconds.values.allSatisfy { $0 > 0 }, "\(seconds)")
        let memory = try XCTUnwrap(object["peak_memory_mb"] as? Double)
        XCTAssertGreaterThan(memory, 1)
        // Progress goes to stderr, one line per warm-up and run.
        XCTAssertTrue(result.errors.contains("Grad-CAM: run 1 of 1"), result.errors)
    }

    func testBenchRejectsBadFlagsWithOneLine() throws {
        try assertOneLineFailure(["bench", "--repeats", "0"], mentions: "--repeats")
        try assertOneLineFailure(["bench", "--ig-steps", "-5"], mentions: "--ig-steps")
        try assertOneLineFailure(["bench", "--model", "resnet7"], mentions: "resnet7")
        try assertOneLineFailure(["bench", "--width-divisor", "3"], mentions: "--width-divisor")
        try assertOneLineFailure(["bench", "--image-size", "32", "--input-npy", "/nonexistent/input.npy"], mentions: "input.npy")
    }
}

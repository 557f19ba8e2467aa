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
        // The forward pass, every method of the registry (lrp once per composite) and the deletion curve.
        XCTAssertEqual(Set(seconds.keys), ["forward", "cam", "gradcam", "ablationcam", "gradcam_plus_plus", "xgradcam", "hirescam",
                                           "gradcam_elementwise", "layercam", "scorecam", "eigencam", "lrp_0", "lrp_epsilon",
                                           "lrp_epsilon_plus", "lrp_epsilon_plus_flat", "lrp_epsilon_gamma_box",
                                           "lrp_epsilon_alpha2_beta1", "ig2", "saliency", "input_x_gradient", "smoothgrad",
                                           "vargrad", "guided_backprop", "deletion"])
        XCTAssertTrue(seconds.values.allSatisfy { $0 > 0 }, "\(seconds)")
        let memory = try XCTUnwrap(object["peak_memory_mb"] as? Double)
        XCTAssertGreaterThan(memory, 1)
        let memoryByMeasure = try XCTUnwrap(object["peak_memory_mb_by_measure"] as? [String: Double])
        XCTAssertEqual(Set(memoryByMeasure.keys), Set(seconds.keys))
        XCTAssertTrue(memoryByMeasure.values.allSatisfy { $0 > 1 && $0 <= memory }, "\(memoryByMeasure), whole run \(memory)")
        // The batch sizes of the batched methods are reported beside the times.
        for field in ["ablation_batch_size", "scorecam_batch_size", "smoothgrad_batch_size", "smoothgrad_samples", "ig_internal_batch_size"] {
            XCTAssertGreaterThan(object[field] as? Int ?? 0, 0, field)
        }
        // Progress goes to stderr, one line per warm-up and run.
        XCTAssertTrue(result.errors.contains("Grad-CAM: run 1 of 1"), result.errors)
    }

    func testBenchOnlyTakesRegistryIdsWithCommasAndSpaces() throws {
        let result = try run(["bench", "--model", "resnet18", "--repeats", "1", "--image-size", "32", "--width-divisor", "8",
                              "--only", "gradcam++,scorecam", "smoothgrad", "lrp_epsilon", "--json"])
        XCTAssertEqual(result.status, 0, result.errors)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any])
        let seconds = try XCTUnwrap(object["seconds"] as? [String: Double])
        // A method's id or a measure's key; in the order of the registry, whatever the order given.
        XCTAssertEqual(Set(seconds.keys), ["gradcam_plus_plus", "scorecam", "smoothgrad", "lrp_epsilon"])
        let titles = try XCTUnwrap(object["titles"] as? [String: String])
        XCTAssertEqual(titles["gradcam_plus_plus"], "Grad-CAM++")
        XCTAssertTrue(result.errors.contains("Score-CAM: run 1 of 1"), result.errors)

        // lrp stands for every composite, the epsilon one being lrp-epsilon's measure.
        let lrp = try run(["bench", "--model", "resnet18", "--repeats", "1", "--image-size", "32", "--width-divisor", "8",
                           "--only", "lrp", "--json"])
        XCTAssertEqual(lrp.status, 0, lrp.errors)
        let lrpObject = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(lrp.output.utf8)) as? [String: Any])
        XCTAssertEqual(Set(try XCTUnwrap(lrpObject["seconds"] as? [String: Double]).keys),
                       ["lrp_epsilon", "lrp_epsilon_plus", "lrp_epsilon_plus_flat", "lrp_epsilon_gamma_box", "lrp_epsilon_alpha2_beta1"])
    }

    func testBenchRejectsBadFlagsWithOneLine() throws {
        try assertOneLineFailure(["bench", "--repeats", "0"], mentions: "--repeats")
        try assertOneLineFailure(["bench", "--ig-steps", "-5"], mentions: "--ig-steps")
        try assertOneLineFailure(["bench", "--model", "resnet7"], mentions: "resnet7")
        try assertOneLineFailure(["bench", "--width-divisor", "3"], mentions: "--width-divisor")
        // An unknown method is named, with the methods there are, before anything is built.
        try assertOneLineFailure(["bench", "--only", "gradcam,gradcam+++"], mentions: "gradcam+++")
        try assertOneLineFailure(["bench", "--only", "scorecam", "nosuchmethod"], mentions: "nosuchmethod")
        try assertOneLineFailure(["bench", "--image-size", "32", "--input-npy", "/nonexistent/input.npy"], mentions: "input.npy")
    }
}

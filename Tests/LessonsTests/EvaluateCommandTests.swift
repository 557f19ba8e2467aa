import Foundation
import Lessons
import MiniNet
import XCTest

/// `tutor evaluate`, run as a person would, with the shipped small network on a few shapes
/// pictures and few curve steps, so that a debug build takes seconds.
extension CommandLineTests {
    /// A quick evaluation of two methods; `extra` adds to or overrides it.
    static let quickEvaluation = ["evaluate", "--count", "3", "--methods", "gradcam,saliency", "--steps", "4", "--sanity", "cascade"]

    func evaluationJSON(_ arguments: [String]) throws -> [String: Any] {
        let result = try run(arguments + ["--json"])
        XCTAssertEqual(result.status, 0, result.errors)
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any], result.output)
    }

    func testEvaluatePrintsTheTablesWithTheControls() throws {
        let result = try run(Self.quickEvaluation, environment: ["COLUMNS": "200"])
        XCTAssertEqual(result.status, 0, result.errors)
        for text in ["3 pictures of the shapes validation set", "gradcam", "saliency", "random", "edges", "deletion AUC ↓",
                     "insertion AUC ↑", "ROAD combined ↑", "pointing game, hit rate ↑", "relevance rank accuracy ↑",
                     "cascade: SSIM →0", "Identities checked", "insertion at 100 % = the full score", "best method"] {
            XCTAssertTrue(result.output.contains(text), "missing \(text):\n\(result.output)")
        }
        XCTAssertFalse(result.output.contains("shuffled labels"), "--sanity cascade leaves the shuffled labels out")
        XCTAssertFalse(result.output.contains("No checks"), "the lesson renderer's closing line is not an evaluation's")
    }

    /// The data-randomisation test's networks ship in models/ for an evaluation of either shipped
    /// small network with --seed 42: their training records state the options `tutor evaluate`
    /// would train with, the evaluation loads them and says so, and a damaged file is one line
    /// naming it.
    func testEvaluateUsesTheShippedShuffledLabelNetwork() throws {
        let file = "models/mininet-shuffled-labels-evaluate.safetensors"
        for (shipped, bias) in [(file, true), ("models/mininet-nobias-shuffled-labels-evaluate.safetensors", false)] {
            var options = TrainingOptions()
            options.shuffledLabelsSeed = 42
            options.bias = bias
            let path = Self.repositoryRoot.appendingPathComponent(shipped).path
            let record = try XCTUnwrap(try ImageClassifier.loadWithTrainingRecord(from: path).training, shipped)
            XCTAssertEqual(record.options, options, "\(shipped) is stale: run `tutor train --shuffled-labels 42\(bias ? "" : " --no-bias") --out \(shipped)`")
        }
        let withoutBias = try evaluationJSON(["evaluate", "--weights", "models/mininet-nobias.safetensors", "--count", "2", "--methods", "gradcam",
                                              "--steps", "4", "--sanity", "data"])
        let noBiasSettings = try XCTUnwrap(withoutBias["settings"] as? [String: Any])
        XCTAssertTrue((noBiasSettings["shuffled_labels_network"] as? String)?.hasSuffix("mininet-nobias-shuffled-labels-evaluate.safetensors") == true,
                      "\(noBiasSettings)")
        XCTAssertEqual(noBiasSettings["shuffled_labels_command"] as? String, "tutor train --shuffled-labels 42 --no-bias --out models/mininet-nobias-shuffled-labels-evaluate.safetensors")

        let arguments = ["evaluate", "--count", "2", "--methods", "gradcam", "--steps", "4", "--sanity", "data"]
        let settings = try XCTUnwrap(try evaluationJSON(arguments)["settings"] as? [String: Any])
        XCTAssertTrue((settings["shuffled_labels_network"] as? String)?.hasSuffix(file) == true, "\(settings)")
        XCTAssertEqual(settings["shuffled_labels_command"] as? String,
                       "tutor train --shuffled-labels 42 --out models/mininet-shuffled-labels-evaluate.safetensors")
        let text = try run(arguments).output.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        XCTAssertTrue(text.contains("which `tutor train --shuffled-labels 42 --out models/mininet-shuffled-labels-evaluate.safetensors` writes"), text)

        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tutor-shuffled-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.copyItem(at: Self.repositoryRoot.appendingPathComponent("models/mininet.safetensors"),
                                         to: folder.appendingPathComponent("mininet.safetensors"))
        let damaged = folder.appendingPathComponent("mininet-shuffled-labels-evaluate.safetensors")
        try Data("not a model".utf8).write(to: damaged)
        try assertOneLineFailure(arguments, environment: ["TUTOR_MODELS": folder.path], mentions: damaged.path)
    }

    func testEvaluateJSONHasEveryMetricOfEveryMapAndTheCurves() throws {
        let object = try evaluationJSON(Self.quickEvaluation)
        let pictures = try XCTUnwrap(object["pictures"] as? [String: Any])
        XCTAssertEqual(pictures["count"] as? Int, 3)
        XCTAssertEqual(pictures["source"] as? String, "shapes")
        let metrics = try XCTUnwrap(object["metrics"] as? [String])
        XCTAssertEqual(metrics, ["deletion_auc", "insertion_auc", "average_drop", "increase_in_confidence", "road_morf", "road_lerf",
                                 "road_combined", "pointing_game", "relevance_mass", "relevance_rank",
                                 "cascade_spearman_abs", "cascade_ssim"])
        let methods = try XCTUnwrap(object["methods"] as? [[String: Any]])
        XCTAssertEqual(methods.map { $0["id"] as? String }, ["gradcam", "saliency", "random", "edges"])
        XCTAssertEqual(methods.map { $0["role"] as? String }, ["method", "method", "control", "control"])
        let steps = try XCTUnwrap(object["cascade_steps"] as? [String])
        XCTAssertEqual(steps, ["classifier", "features.9", "features.8", "features.5", "features.4", "features.1", "features.0"])
        for method in methods {
            let values = try XCTUnwrap(method["metrics"] as? [String: [String: Any]])
            XCTAssertEqual(Set(values.keys), Set(metrics))
            for (name, summary) in values {
                XCTAssertNotNil(summary["mean"] as? Double, name)
                XCTAssertEqual(summary["count"] as? Int, 3, name)
                XCTAssertTrue(["higher", "lower", "nearer 0"].contains(summary["better"] as? String ?? ""), name)
            }
            let perPicture = try XCTUnwrap(method["per_picture"] as? [String: [Any]])
            XCTAssertEqual(perPicture["deletion_auc"]?.count, 3)
            // The mean is the mean of the pictures' values.
            let areas = try XCTUnwrap(perPicture["deletion_auc"] as? [Double])
            XCTAssertEqual(values["deletion_auc"]?["mean"] as? Double ?? .nan, areas.reduce(0, +) / 3, accuracy: 1e-12)
            let curves = try XCTUnwrap(method["curves"] as? [String: [String: [Double]]])
            XCTAssertEqual(curves["deletion"]?["x"], [0, 0.25, 0.5, 0.75, 1], "--steps 4: five points")
            XCTAssertEqual(curves["road_morf"]?["x"], [10, 20, 30, 40, 50, 60, 70, 80, 90])
            let cascade = try XCTUnwrap(method["cascade"] as? [[String: Any]])
            XCTAssertEqual(cascade.map { $0["step"] as? String }, steps)
        }
        // The controls know nothing of the network: randomising it leaves their maps as they were.
        let random = try XCTUnwrap(methods.first { $0["id"] as? String == "random" })
        XCTAssertEqual((random["metrics"] as? [String: [String: Any]])?["cascade_ssim"]?["mean"] as? Double, 1)
        let checks = try XCTUnwrap(object["checks"] as? [String: Any])
        XCTAssertEqual(checks["failed"] as? Int, 0)
        XCTAssertGreaterThan(checks["count"] as? Int ?? 0, 4 * 3 * 4, "at least the four curve ends per map and picture")
        XCTAssertNotNil(object["seconds"] as? Double)

        // --sanity-count: the sanity checks on the first pictures only, the others without a value.
        let fewer = try evaluationJSON(Self.quickEvaluation + ["--sanity-count", "2"])
        XCTAssertEqual((fewer["settings"] as? [String: Any])?["sanity_pictures"] as? Int, 2)
        let gradCAM = try XCTUnwrap((fewer["methods"] as? [[String: Any]])?.first)
        let ssim = try XCTUnwrap((gradCAM["per_picture"] as? [String: [Any]])?["cascade_ssim"])
        XCTAssertEqual(ssim.count, 3)
        XCTAssertTrue(ssim[2] is NSNull, "\(ssim)")
        XCTAssertEqual((gradCAM["metrics"] as? [String: [String: Any]])?["cascade_ssim"]?["count"] as? Int, 2)
        XCTAssertEqual((gradCAM["metrics"] as? [String: [String: Any]])?["deletion_auc"]?["count"] as? Int, 3)
    }

    func testEvaluateWritesOneCSVRowPerMethodAndMetricAndThePlots() throws {
        let folder = try temporaryFolder()
        let csv = folder.appendingPathComponent("scores.csv").path
        let plots = folder.appendingPathComponent("plots").path
        let result = try run(Self.quickEvaluation + ["--csv", csv, "--plot", plots])
        XCTAssertEqual(result.status, 0, result.errors)
        let lines = try String(contentsOfFile: csv, encoding: .utf8).split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.first, "method,role,family,metric,mean,standard_error,count,better")
        guard lines.count == 1 + 4 * 12 else { return XCTFail("1 + 4 maps × 12 metrics rows expected: \(lines.count)") }
        let fields = lines[1].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        XCTAssertEqual(Array(fields.prefix(4)), ["gradcam", "method", "faithfulness", "deletion-auc"])
        XCTAssertNotNil(Double(fields[4]))
        XCTAssertEqual(fields[6], "3")
        XCTAssertTrue(lines.contains { $0.hasPrefix("edges,control,sanity,cascade-ssim,") })
        for name in ["deletion.png", "insertion.png", "cascade-ssim.png", "cascade-spearman.png"] {
            let picture = try RGBImage.read(from: plots + "/" + name)
            XCTAssertEqual([picture.width, picture.height], [800, 500], name)
            XCTAssertTrue(result.output.contains(name), "the plots are named in the output")
        }
    }

    func testEvaluateOnOnePictureNeedsAMaskForLocalisation() throws {
        let folder = try temporaryFolder()
        let sample = ShapesDataset(count: 1, seed: 777).sample(at: 0)
        let picture = folder.appendingPathComponent("shape.png").path
        let mask = folder.appendingPathComponent("mask.png").path
        try RGBImage(tensor: sample.image).write(to: picture)
        try RGBImage(tensor: Tensor.stack([sample.mask, sample.mask, sample.mask])).write(to: mask)
        let arguments = ["evaluate", picture, "--methods", "gradcam", "--steps", "4", "--sanity", "none"]

        let plain = try run(arguments, environment: ["COLUMNS": "200"])
        XCTAssertEqual(plain.status, 0, plain.errors)
        XCTAssertTrue(plain.output.contains("Localisation needs the object's mask"), plain.output)
        XCTAssertTrue(plain.output.contains("The picture explains the predicted class, "), plain.output)
        let withoutMask = try evaluationJSON(arguments)
        XCTAssertFalse((withoutMask["metrics"] as? [String] ?? []).contains("pointing_game"))
        XCTAssertEqual((withoutMask["pictures"] as? [String: Any])?["source"] as? String, "picture")

        let withMask = try evaluationJSON(arguments + ["--mask", mask])
        let metrics = try XCTUnwrap(withMask["metrics"] as? [String])
        XCTAssertTrue(metrics.contains("pointing_game") && metrics.contains("relevance_rank"), "\(metrics)")
        XCTAssertFalse(metrics.contains("cascade_ssim"), "--sanity none")
    }

    func testEvaluateRefusesBadInputWithOneLineAndStatus2() throws {
        let folder = try temporaryFolder()
        let notAPicture = folder.appendingPathComponent("not-a-picture.png").path
        try Data("hello".utf8).write(to: URL(fileURLWithPath: notAPicture))
        let cases: [([String], String)] = [
            (["evaluate", "--methods", "gradcam,gradcm"], "gradcm"),
            (["evaluate", "--methods", "random,edges"], "--methods"),
            (["evaluate", "--count", "0"], "--count"),
            (["evaluate", "--count", "1000000"], "--count"),
            (["evaluate", "--count", "-3"], "--count"),
            (["evaluate", "images/shapes/circle.png", "--dataset", "shapes"], "--dataset"),
            (["evaluate", "images/shapes/circle.png", "--count", "5"], "--count"),
            (["evaluate", notAPicture], "not-a-picture.png"),
            (["evaluate", "images/shapes/no-such-picture.png"], "no-such-picture.png"),
            (["evaluate", "--mask", "mask.png"], "--mask"),
            (["evaluate", "images/shapes/circle.png", "--mask", notAPicture], "--mask"),
            (["evaluate", "--steps", "0"], "--steps"),
            (["evaluate", "--sanity-count", "0"], "--sanity-count"),
            (["evaluate", "--model", "resnet18"], "--model"),
            (["evaluate", "--sanity", "sometimes"], "sometimes"),
            (["evaluate", "--csv", "/no/such/folder/scores.csv"], "--csv"),
            (["evaluate", "--plot", notAPicture], "--plot"),
        ]
        for (arguments, needle) in cases {
            try assertOneLineFailure(arguments, mentions: needle)
            XCTAssertEqual(try run(arguments).status, 2, "\(arguments)")
        }
    }
}

/// `tutor evaluate` in Vietnamese.
extension VietnameseCommandLineTests {
    func testEvaluateSpeaksVietnamese() throws {
        let result = try run(CommandLineTests.quickEvaluation + ["--lang", "vi"], environment: ["COLUMNS": "100"])
        XCTAssertEqual(result.status, 0, result.errors)
        for text in ["Tính trung thực", "Định vị", "Kiểm tra tính hợp lý", "diện tích dưới đường cong xóa (AUC) ↓",
                     "Các đẳng thức đã kiểm tra", "phương pháp tốt nhất"] {
            XCTAssertTrue(result.output.contains(text), "missing \(text):\n\(result.output)")
        }
        let english = EnglishDetector().englishLines(in: result.output)
        XCTAssertTrue(english.isEmpty, "English left:\n" + english.joined(separator: "\n"))
        // The progress bars, drawn when a phase takes more than a second.
        XCTAssertTrue(result.errors.isEmpty || Self.isVietnamese(result.errors), result.errors)

        let bad = try run(["evaluate", "--count", "0", "--lang", "vi"])
        XCTAssertEqual(bad.status, 2)
        let line = bad.errors.trimmingCharacters(in: .newlines)
        XCTAssertFalse(line.contains("\n"), line)
        XCTAssertTrue(Self.isVietnamese(line) && !EnglishDetector().isEnglish(line), line)
    }
}

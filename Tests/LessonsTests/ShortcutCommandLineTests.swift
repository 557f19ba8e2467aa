import Foundation
import XCTest

/// `tutor train --shortcut watermark` and `--shuffled-labels`, run as a person would, on tiny
/// data sets (30 pictures, one epoch) so that each run takes about a second: these check the
/// flags and the report, not what the network learns (PlantedShortcutTests does that).
extension CommandLineTests {
    static let tinyTraining = ["--training-images", "30", "--validation-images", "30", "--epochs", "1"]

    func jsonObject(_ output: String) throws -> [String: Any] {
        try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any], output)
    }

    func testShortcutTrainingReportsTheMarkAndTheTestSplit() throws {
        let folder = try temporaryFolder()
        let model = folder.appendingPathComponent("shortcut.safetensors").path
        let arguments = ["train", "--shortcut", "watermark", "--shortcut-class", "circle", "--shortcut-corner", "top-left",
                         "--out", model] + Self.tinyTraining
        let result = try run(arguments + ["--json"])
        XCTAssertEqual(result.status, 0, result.errors)
        XCTAssertTrue(result.errors.contains("epoch 1/1"), "the progress bar: \(result.errors)")
        let object = try jsonObject(result.output)
        XCTAssertTrue(object["shuffled_labels_seed"] is NSNull)
        let shortcut = try XCTUnwrap(object["shortcut"] as? [String: Any])
        XCTAssertEqual(shortcut["class"] as? String, "circle")
        XCTAssertEqual(shortcut["corner"] as? String, "top-left")
        XCTAssertEqual([shortcut["x"], shortcut["y"], shortcut["grid_row"], shortcut["grid_column"]].map { $0 as? Int }, [2, 2, 0, 0])
        XCTAssertEqual(shortcut["training_class_pictures"] as? Int, 10)
        XCTAssertEqual(shortcut["training_marked_in_other_classes"] as? Int, 0)
        XCTAssertEqual(shortcut["test_pictures"] as? Int, 30)
        for key in ["test_accuracy_marked_like_training", "test_split_accuracy", "test_accuracy_without_mark", "test_accuracy_with_mark",
                    "other_class_accuracy_without_mark", "other_class_accuracy_with_mark",
                    "other_class_called_shortcut_class_without_mark", "other_class_called_shortcut_class_with_mark"] {
            let value = try XCTUnwrap(shortcut[key] as? Double, key)
            XCTAssertTrue((0...1).contains(value), "\(key) = \(value)")
        }

        // A cell instead of a corner, and the report as text.
        let text = try run(["train", "--shortcut", "watermark", "--shortcut-class", "circle", "--shortcut-cell", "1,0", "--out", model]
                           + Self.tinyTraining)
        XCTAssertEqual(text.status, 0, text.errors)
        XCTAssertTrue(text.output.contains("Planted watermark: a 4×4-pixel checkerboard at columns 2 to 5 and rows 10 to 13 (grid cell row 1, column 0"), text.output)
        XCTAssertTrue(text.output.contains("Accuracy on 30 new test pictures: "), text.output)
        XCTAssertTrue(text.output.contains("called circle: "), text.output)
    }

    func testShuffledLabelsTrainingIsReportedAndRepeatable() throws {
        let folder = try temporaryFolder()
        var files: [Data] = []
        for index in 0..<2 {
            let model = folder.appendingPathComponent("shuffled-\(index).safetensors").path
            let result = try run(["train", "--shuffled-labels", "4", "--out", model, "--json"] + Self.tinyTraining)
            XCTAssertEqual(result.status, 0, result.errors)
            let object = try jsonObject(result.output)
            XCTAssertEqual(object["shuffled_labels_seed"] as? String, "4")
            XCTAssertTrue(object["shortcut"] is NSNull)
            files.append(try Data(contentsOf: URL(fileURLWithPath: model)))
        }
        XCTAssertEqual(files[0], files[1], "the same flags give byte-identical weights")
    }

    /// Bad values and combinations: one line naming the flag, exit status 2, before any training.
    func testBadShortcutFlagsGetOneLineAndExitStatus2() throws {
        for (arguments, needle) in [
            (["--shortcut-class", "circle"], "--shortcut-class only applies to a planted watermark: add --shortcut watermark."),
            (["--shortcut-corner", "top-left"], "--shortcut-corner only applies to a planted watermark"),
            (["--shortcut-rate", "0.5"], "--shortcut-rate only applies to a planted watermark"),
            (["--shortcut-cell", "0,2"], "--shortcut-cell only applies to a planted watermark"),
            (["--shortcut", "watermark", "--shortcut-rate", "-0.1"], "--shortcut-rate -0.1 is not allowed: use a number from 0 to 1"),
            (["--shortcut", "watermark", "--shortcut-rate", "nan"], "--shortcut-rate nan is not allowed"),
            (["--shortcut", "watermark", "--shortcut-rate", "1.5"], "--shortcut-rate 1.5 is not allowed"),
            (["--shortcut", "watermark", "--shuffled-labels", "1"], "--shuffled-labels cannot be combined with --shortcut watermark"),
            (["--shortcut", "logo"], "'logo' is invalid for '--shortcut <kind>'"),
            (["--shortcut", "watermark", "--shortcut-class", "hexagon"], "'hexagon' is invalid for '--shortcut-class <name>'"),
            (["--shortcut", "watermark", "--shortcut-corner", "middle"], "'middle' is invalid for '--shortcut-corner <corner>'"),
            (["--shortcut", "watermark", "--shortcut-cell", "4,0"], "'4,0' is invalid for '--shortcut-cell <row,column>'"),
            (["--shortcut", "watermark", "--shortcut-cell", "1"], "'1' is invalid for '--shortcut-cell <row,column>'"),
            (["--shortcut", "watermark", "--shortcut-corner", "top-left", "--shortcut-cell", "0,0"],
             "--shortcut-corner and --shortcut-cell both say where the watermark goes"),
            (["--training-images", "0"], "--training-images 0 is out of range: use 3 to 30000, for example --training-images 3000."),
            (["--validation-images", "-4"], "--validation-images -4 is out of range"),
            (["--shuffled-labels", "-1"], "--shuffled-labels"),
        ] {
            let result = try run(["train"] + arguments)
            XCTAssertEqual(result.status, 2, "\(arguments): \(result.errors)")
            XCTAssertEqual(result.errors.split(separator: "\n").count, 1, "\(arguments): \(result.errors)")
            XCTAssertTrue(result.errors.contains(needle), "\(arguments) should say \(needle): \(result.errors)")
        }
        let vietnamese = try run(["train", "--shortcut-corner", "top-left", "--lang", "vi"])
        XCTAssertEqual(vietnamese.status, 2)
        XCTAssertTrue(vietnamese.errors.contains("--shortcut-corner") && !vietnamese.errors.contains("only applies"), vietnamese.errors)
    }
}

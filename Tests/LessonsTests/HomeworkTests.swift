import Foundation
import XCTest
import MiniNet
@testable import Lessons

final class HomeworkTests: XCTestCase {
    let students = ["alice", "bob", "carol", "student-007", "x"]

    // MARK: - Generation

    func testThereAreAtLeastThreeExercisesPerLesson() {
        for lesson in HomeworkLesson.allCases {
            let ids = HomeworkCatalog.templates.filter { $0.lesson == lesson }.map(\.id)
            XCTAssertGreaterThanOrEqual(ids.count, 3, "\(lesson)")
            XCTAssertEqual(ids, (1...ids.count).map { "\(lesson.rawValue)-\($0)" })
        }
        XCTAssertEqual(Set(HomeworkCatalog.templates.map(\.id)).count, HomeworkCatalog.templates.count)
    }

    func testFNV1aMatchesPublishedValues() {
        XCTAssertEqual(fnv1a64(""), 0xCBF2_9CE4_8422_2325)
        XCTAssertEqual(fnv1a64("a"), 0xAF63_DC4C_8601_EC8C)
        XCTAssertEqual(fnv1a64("foobar"), 0x8594_4171_F739_67E8)
    }

    func testSameStudentGetsTheSameExercise() {
        for template in HomeworkCatalog.templates {
            XCTAssertEqual(template.make(student: "alice"), template.make(student: "alice"), template.id)
        }
    }

    func testTwoStudentsGetDifferentProblems() {
        for template in HomeworkCatalog.templates {
            for (first, second) in [("alice", "bob"), ("carol", "dave"), ("student-1", "student-2")] {
                let a = template.make(student: first), b = template.make(student: second)
                XCTAssertTrue(a.given != b.given || a.questions != b.questions,
                              "\(template.id): \(first) and \(second) got the same problem")
            }
        }
    }

    func testEveryQuestionHasAHintPointingToItsLesson() {
        for template in HomeworkCatalog.templates {
            for question in template.make(student: "alice").questions {
                XCTAssertTrue(question.hint.contains("`tutor lesson \(template.lesson.rawValue)`, step"),
                              "\(template.id) \(question.id): \(question.hint)")
                if case let .choice(correct) = question.expected {
                    XCTAssertTrue(question.options.indices.contains(correct))
                    XCTAssertEqual(Set(question.options).count, question.options.count, "\(template.id) options repeat")
                }
            }
        }
    }

    // MARK: - Checking

    func testKeyPassesForEveryExerciseAndStudent() throws {
        for template in HomeworkCatalog.templates {
            for student in students {
                let exercise = template.make(student: student)
                let key = HomeworkChecker.key(for: exercise)
                let report = try HomeworkChecker.check(key, against: exercise)
                XCTAssertTrue(report.allPassed, "\(template.id) for \(student): \(HomeworkRendering.text(report))")
                XCTAssertEqual(report.score, Double(exercise.maxScore))
                XCTAssertTrue(report.unknownKeys.isEmpty)

                // The printed keys (rounded to 4 decimals) are answers files that pass too.
                for printed in [HomeworkRendering.text(key), HomeworkRendering.json(key).rendered()] {
                    let parsed = try AnswersFile.parse(printed, name: "key")
                    XCTAssertTrue(try HomeworkChecker.check(parsed, against: exercise).allPassed, "\(template.id): \(printed)")
                }
            }
        }
    }

    /// The key with question `index` changed just enough to be wrong.
    func perturbed(_ key: AnswersFile, question index: Int, of exercise: Exercise) -> AnswersFile {
        var answers = key
        let question = exercise.questions[index]
        switch (answers.answers[index].value, question.expected) {
        case let (.number(value), _):
            answers.answers[index].value = .number(value + 1)
        case let (.vector(values), _):
            var changed = values
            changed[changed.count - 1] += 0.5
            answers.answers[index].value = .vector(changed)
        case let (.text, .choice(correct)):
            answers.answers[index].value = .text(Question.letter((correct + 1) % question.options.count))
        default:
            XCTFail("unexpected key kind in \(exercise.id)")
        }
        return answers
    }

    /// One wrong number of a list loses that number's share of the points; any other wrong
    /// answer loses all of the question's points.
    func testPerturbedAnswerFailsExactlyThatQuestion() throws {
        for template in HomeworkCatalog.templates {
            for student in ["alice", "bob", "carol"] {
                let exercise = template.make(student: student)
                let key = HomeworkChecker.key(for: exercise)
                for index in exercise.questions.indices {
                    let report = try HomeworkChecker.check(perturbed(key, question: index, of: exercise), against: exercise)
                    let failed = report.results.filter { !$0.passed }.map(\.questionID)
                    XCTAssertEqual(failed, [exercise.questions[index].id], "\(template.id) for \(student)")
                    let question = exercise.questions[index]
                    var lost = Double(question.points)
                    if case let .vector(values) = question.expected, values.count > 1 {
                        lost = Double(question.points) - roundedToHundredths(Double(question.points) * Double(values.count - 1) / Double(values.count))
                        XCTAssertEqual(report.results[index].status, .partial)
                        XCTAssertEqual(report.results[index].numbersRight, values.count - 1)
                    }
                    XCTAssertEqual(report.score, Double(exercise.maxScore) - lost, accuracy: 1e-9, "\(template.id) \(question.id)")
                    XCTAssertEqual(report.results[index].hint, exercise.questions[index].hint)
                }
            }
        }
    }

    /// Many students: every generator terminates, keeps its numbers small enough for hand work,
    /// its key passes, and almost every student has a problem of their own.
    func testManyStudentsGetWorkableDistinctExercises() throws {
        let many = (0..<300).map { "s\($0)" }
        for template in HomeworkCatalog.templates {
            var distinct = Set<String>()
            for student in many {
                let exercise = template.make(student: student)
                XCTAssertTrue(try HomeworkChecker.check(HomeworkChecker.key(for: exercise), against: exercise).allPassed)
                for given in exercise.given {
                    let values: [Double]
                    switch given.value {
                    case let .number(value): values = [value]
                    case let .vector(vector): values = vector
                    case let .matrix(rows): values = Array(rows.joined())
                    }
                    XCTAssertTrue(values.allSatisfy { abs($0) <= 20 }, "\(template.id) \(given.name)")
                }
                distinct.insert(HomeworkRendering.text(exercise).replacingOccurrences(of: student, with: ""))
            }
            XCTAssertGreaterThan(distinct.count, 270, "\(template.id): too many students share a problem")
        }
    }

    func testAnswersWithinToleranceAndFractionsPass() throws {
        let exercise = try HomeworkCatalog.exercise(id: "ablationcam-2", student: "alice")
        var key = HomeworkChecker.key(for: exercise)
        guard case let .number(weight) = key.answers[3].value else { return XCTFail("q4 is a number") }
        key.answers[3].value = .number(weight + 0.009)
        XCTAssertTrue(try HomeworkChecker.check(key, against: exercise).allPassed)
        key.answers[3].value = .number(weight + 0.02)
        XCTAssertFalse(try HomeworkChecker.check(key, against: exercise).allPassed)
    }

    func testMissingWrongKindAndUnknownAnswers() throws {
        let exercise = try HomeworkCatalog.exercise(id: "cam-1", student: "alice")
        let answers = try AnswersFile.parse("q1 = 1, 2, 3\nq2 = B\nq4 = 7\nq9 = 1\n", name: "a.txt")
        let report = try HomeworkChecker.check(answers, against: exercise)
        XCTAssertEqual(report.results.map(\.status), [.wrong, .wrong, .missing, .wrong])
        XCTAssertEqual(report.results[0].problem, "line 1: expected 2 numbers, got 3")
        XCTAssertEqual(report.results[1].problem, "line 2: expected a number")
        XCTAssertEqual(report.results[2].problem, "no answer for q3")
        XCTAssertEqual(report.results[3].problem, "line 3: expected a letter")
        XCTAssertTrue(report.results.allSatisfy { $0.hint != nil })
        XCTAssertEqual(report.unknownKeys, ["q9"])
        XCTAssertEqual(report.score, 0)
        XCTAssertTrue(HomeworkRendering.text(report).contains("? q9  unknown key"))
    }

    func testAnswersForAnotherExerciseOrStudentAreRejected() throws {
        let exercise = try HomeworkCatalog.exercise(id: "cam-1", student: "alice")
        let other = try AnswersFile.parse("exercise = cam-2\nq1 = 1\n", name: "a.txt")
        XCTAssertThrowsError(try HomeworkChecker.check(other, against: exercise, fileName: "a.txt")) {
            XCTAssertEqual("\($0)", "a.txt: is for exercise `cam-2`, not `cam-1`")
        }
        let bob = try AnswersFile.parse("{\"student\": \"bob\", \"answers\": {}}", name: "a.json")
        XCTAssertThrowsError(try HomeworkChecker.check(bob, against: exercise, fileName: "a.json"))
    }

    func testUnknownExerciseAndBadStudentIDs() {
        XCTAssertThrowsError(try HomeworkCatalog.exercise(id: "cam-9", student: "alice")) {
            XCTAssertTrue("\($0)".contains("unknown exercise `cam-9`"))
        }
        XCTAssertThrowsError(try HomeworkCatalog.exercise(id: "cam", student: "alice")) {
            XCTAssertTrue("\($0)".contains("is a lesson"))
        }
        XCTAssertThrowsError(try HomeworkCatalog.exercise(id: "cam-1", student: "")) 
        XCTAssertThrowsError(try HomeworkCatalog.exercise(id: "cam-1", student: "../etc"))
        XCTAssertEqual(try HomeworkCatalog.templates(named: "lrp").count, 3)
    }

    // MARK: - Answers files

    func testPlainTextFormatParses() throws {
        let text = """
            # my answers
            exercise = cam-1
            student = 042

            q1 = 1, 2.5, -3      # a list
            q2 = [4, 5]
            q3 = 3/4
            q4 = b
            q5 = "C"
            q6 = -0.25
            """
        let file = try AnswersFile.parse(text, name: "a.txt")
        XCTAssertEqual(file.exercise, "cam-1")
        XCTAssertEqual(file.student, "042")
        XCTAssertEqual(file.answers.map(\.key), ["q1", "q2", "q3", "q4", "q5", "q6"])
        XCTAssertEqual(file.value(for: "q1"), .vector([1, 2.5, -3]))
        XCTAssertEqual(file.value(for: "q2"), .vector([4, 5]))
        XCTAssertEqual(file.value(for: "q3"), .number(0.75))
        XCTAssertEqual(file.value(for: "q4"), .text("b"))
        XCTAssertEqual(file.value(for: "q5"), .text("C"))
        XCTAssertEqual(file.value(for: "q6"), .number(-0.25))
    }

    func testJSONFormatParses() throws {
        let text = """
            {"exercise": "cam-1", "student": "alice",
             "answers": {"q1": [13, 14], "q2": -14, "q3": "2.5e1", "q4": "A"}}
            """
        let file = try AnswersFile.parse(text, name: "a.json")
        XCTAssertEqual(file.exercise, "cam-1")
        XCTAssertEqual(file.value(for: "q1"), .vector([13, 14]))
        XCTAssertEqual(file.value(for: "q2"), .number(-14))
        XCTAssertEqual(file.value(for: "q3"), .number(25))
        XCTAssertEqual(file.value(for: "q4"), .text("A"))
    }

    func testMalformedFilesNameTheLine() {
        let cases: [(String, String)] = [
            ("q1 = 1\nq2\n", "answers.txt: line 2: expected `name = value`, found `q2`"),
            ("q1 = 1\n\n# comment\nq2 = \n", "answers.txt: line 4: `q2` has no value after `=`"),
            ("q1 = 1, x, 3\n", "answers.txt: line 1: `q1`: `x` is not a number (lists are numbers separated by commas)"),
            ("q1 = [1, 2\n", "answers.txt: line 1: `q1`: the list has no closing `]`"),
            ("q1 = 1\nq1 = 2\n", "answers.txt: line 2: `q1` is answered twice"),
            ("= 3\n", "answers.txt: line 1: expected `name = value` with a name such as q1, found `= 3`"),
            ("{\n  \"answers\": {\n    \"q1\": 1\n    \"q2\": 2\n  }\n}", "answers.txt: line 4: expected `,` or `}`"),
            ("{\n  \"answers\": {\"q1\": [1, \"a\"]}\n}", "answers.txt: line 2: key `q1`: lists may hold only numbers"),
            ("{\n  \"answers\": {\"q1\": true}\n}", "answers.txt: line 2: key `q1` must be a number, a list of numbers or a letter"),
            ("{\"exercise\": \"cam-1\"}", "answers.txt: line 1: key `answers` is missing"),
            ("{\"answer\": {}}", "answers.txt: line 1: unknown top-level key `answer` (expected exercise, student, answers)"),
            ("{\n\"answers\": {\"q1\": 1}}\nextra", "answers.txt: line 3: unexpected text after the JSON object"),
            ("{\n\n  \"answers\": {\"q1\": 1,\n", "answers.txt: line 3: the JSON ends too early, `}` is missing"),
            ("{\"answers\": {\"q1\": [1, 2\n", "answers.txt: line 1: the JSON ends too early, `]` is missing"),
            ("{\"answers\": {q1: 1}}", "answers.txt: line 1: expected a key in double quotes"),
        ]
        for (text, message) in cases {
            XCTAssertThrowsError(try AnswersFile.parse(text, name: "answers.txt"), text) { error in
                XCTAssertEqual("\(error)", message)
                XCTAssertFalse("\(error)".contains("\n"))
            }
        }
    }

    func testUnreadableFileIsAnError() {
        XCTAssertThrowsError(try AnswersFile.read(from: "/nonexistent/answers.json")) {
            XCTAssertEqual("\($0)", "/nonexistent/answers.json: cannot be read (no such file)")
        }
    }

    // MARK: - Grading a folder

    func makeFolder(_ files: [String: String]) throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("homework-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for (name, text) in files { try text.write(to: folder.appendingPathComponent(name), atomically: true, encoding: .utf8) }
        return folder
    }

    func testGradingAFolderReportsTheMalformedFileAndGradesTheOthers() throws {
        let exerciseID = "lrp-2"
        let aliceKey = HomeworkChecker.key(for: try HomeworkCatalog.exercise(id: exerciseID, student: "alice"))
        let bobExercise = try HomeworkCatalog.exercise(id: exerciseID, student: "bob")
        let bobAnswers = perturbed(HomeworkChecker.key(for: bobExercise), question: 2, of: bobExercise)
        let folder = try makeFolder([
            "alice.json": HomeworkRendering.json(aliceKey).rendered(),
            "bob.txt": HomeworkRendering.text(bobAnswers),
            "carol.json": "{\"answers\": {\"q1\": [1, 2, 3],}",
            "dave.txt": "q1 = 1\n",
            "notes.md": "not an answers file",
        ])
        defer { try? FileManager.default.removeItem(at: folder) }

        let gradebook = try Gradebook.grade(exerciseID: exerciseID, directory: folder.path)
        XCTAssertEqual(gradebook.rows.map(\.student), ["alice", "bob", "carol", "dave"])
        XCTAssertEqual(gradebook.skippedFiles, ["notes.md"])
        XCTAssertEqual(gradebook.rows[0].report?.score, 6)
        XCTAssertEqual(gradebook.rows[1].report?.score, 5)  // one of the two numbers of q3 (2 points) is right
        XCTAssertNil(gradebook.rows[2].report)
        XCTAssertTrue(gradebook.rows[2].error?.contains("carol.json: line 1: expected a key in double quotes") ?? false,
                      gradebook.rows[2].error ?? "")
        XCTAssertEqual(gradebook.rows[3].report?.score, 0)

        let csvPath = folder.appendingPathComponent("grades.csv").path
        try gradebook.writeCSV(to: csvPath)
        let lines = try String(contentsOfFile: csvPath, encoding: .utf8).split(separator: "\n").map(String.init)
        XCTAssertEqual(lines[0], "student_id,score,max_score,q1,q2,q3,q4,q5,error")
        XCTAssertEqual(lines[1], "alice,6,6,1,1,2,1,1,")
        XCTAssertEqual(lines[2], "bob,5,6,1,1,1,1,1,")
        XCTAssertTrue(lines[3].hasPrefix("carol,,6,,,,,,"), lines[3])
        XCTAssertEqual(lines[4], "dave,0,6,0,0,0,0,0,")
        XCTAssertEqual(lines.count, 5)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.contains(".partial") }
        XCTAssertEqual(leftovers, [])
    }

    func testGradingAMissingFolderIsAnError() {
        XCTAssertThrowsError(try Gradebook.grade(exerciseID: "ig-1", directory: "/nonexistent/folder")) {
            XCTAssertEqual("\($0)", "/nonexistent/folder: is not a folder of answer files")
        }
    }

    func testCSVFieldsAreQuoted() {
        XCTAssertEqual(Gradebook.csvField("plain"), "plain")
        XCTAssertEqual(Gradebook.csvField("a, \"b\""), "\"a, \"\"b\"\"\"")
    }

    // MARK: - The exercise math against values worked by hand

    func testBilinearUpsamplingMatchesPyTorch() {
        // torch.nn.functional.interpolate(torch.tensor([[[0., 4.]]]), size=4, mode="linear") → [0, 1, 3, 4]
        XCTAssertEqual(CAMExercises.upsample([0, 4], to: 4), [0, 1, 3, 4])
        // (9a + 3b + 3c + d) / 16 at row 1, column 1 of a 2×2 → 4×4 upsampling
        XCTAssertEqual(CAMExercises.upsample([[16, 0], [0, 0]], to: 4)[1][1], 9)
        XCTAssertEqual(CAMExercises.upsample([[16, 0], [0, 0]], to: 4)[0][0], 16)
    }

    func testQuadratureRules() {
        let linear = { (alpha: Double) in 1 + 2 * alpha }  // ∫₀¹ = 2
        XCTAssertEqual(IGExercises.integrate(.left, steps: 2, linear), 1.5, accuracy: 1e-12)
        XCTAssertEqual(IGExercises.integrate(.right, steps: 2, linear), 2.5, accuracy: 1e-12)
        XCTAssertEqual(IGExercises.integrate(.middle, steps: 2, linear), 2, accuracy: 1e-12)
        XCTAssertEqual(IGExercises.integrate(.trapezoid, steps: 2, linear), 2, accuracy: 1e-12)
        let cubic = { (alpha: Double) in 4 * alpha * alpha * alpha }  // ∫₀¹ = 1
        XCTAssertEqual(IGExercises.integrate(.gaussLegendre2, steps: 1, cubic), 1, accuracy: 1e-12)
    }

    func testLRPZeroConservesAndEqualsGradientTimesInput() {
        // x = [1, 2], W₁ = [[1, 1], [2, -1], [-1, -1]], w₂ = [1, 2, 1]: h = [3, 0, 0], f = 3.
        let input: [Double] = [1, 2], firstWeights: [[Double]] = [[1, 1], [2, -1], [-1, -1]]
        let hidden = firstWeights.map { HomeworkMath.relu(HomeworkMath.dot($0, input)) }
        let output = HomeworkMath.dot([1, 2, 1], hidden)
        let hiddenRelevance = LRPExercises.relevanceBack(activations: hidden, weights: [[1, 2, 1]], relevance: [output])
        let inputRelevance = LRPExercises.relevanceBack(activations: input, weights: firstWeights, relevance: hiddenRelevance)
        XCTAssertEqual(inputRelevance, [1, 2])  // gradient [1, 1] × input [1, 2]
        XCTAssertEqual(inputRelevance.reduce(0, +), output)
    }

    func testMapWithMeanHasThatMean() {
        var draw = StudentDraw(exercise: "test", student: "alice")
        for mean in -2...3 {
            XCTAssertEqual(HomeworkMath.mean(draw.mapWithMean(mean, spread: 2)), Double(mean), accuracy: 1e-12)
        }
    }

    func testFormatNumber() {
        XCTAssertEqual(formatNumber(3), "3")
        XCTAssertEqual(formatNumber(-0.25), "-0.25")
        XCTAssertEqual(formatNumber(1.0 / 3), "0.3333")
        XCTAssertEqual(formatNumber(-0.00001), "0")
    }
}

/// Runs the built `tutor` binary, as a student would.
final class HomeworkCommandLineTests: XCTestCase {
    /// The folder that holds the test bundle and the products built with it (`.build/debug`).
    var productsDirectory: URL {
        #if os(macOS)
        for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") {
            return bundle.bundleURL.deletingLastPathComponent()
        }
        #endif
        return Bundle.main.bundleURL
    }

    func tutorBinary() throws -> URL {
        let binary = productsDirectory.appendingPathComponent("tutor")
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            throw XCTSkip("the tutor binary is not built at \(binary.path)")
        }
        return binary
    }

    /// (exit status, standard output, standard error)
    func run(_ arguments: [String]) throws -> (Int32, String, String) {
        let process = Process()
        process.executableURL = try tutorBinary()
        process.arguments = arguments
        process.environment = ChildEnvironment.tutor()
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        let errorData = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: outputData, as: UTF8.self), String(decoding: errorData, as: UTF8.self))
    }

    func temporaryFolder() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("homework-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }

    func testKeyJSONRoundTripsThroughCheck() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        for id in ["cam-2", "gradcam-1", "ablationcam-3", "lrp-2", "ig-3"] {
            let (keyStatus, key, _) = try run(["homework", "key", id, "--student", "alice", "--json"])
            XCTAssertEqual(keyStatus, 0)
            let path = folder.appendingPathComponent("\(id).json").path
            try key.write(toFile: path, atomically: true, encoding: .utf8)
            let (status, output, _) = try run(["homework", "check", id, "--student", "alice", "--answers", path])
            XCTAssertEqual(status, 0, output)
            XCTAssertTrue(output.contains("all correct"), output)

            // Another student's numbers do not pass with alice's key.
            let (bobStatus, bobOutput, _) = try run(["homework", "check", id, "--student", "bob", "--answers", path])
            XCTAssertEqual(bobStatus, 2, bobOutput)  // the file says student alice
        }
    }

    func testExitCodes() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let wrong = folder.appendingPathComponent("wrong.txt").path
        try "q1 = 0, 0\n".write(toFile: wrong, atomically: true, encoding: .utf8)
        let (wrongStatus, wrongOutput, _) = try run(["homework", "check", "cam-1", "--student", "alice", "--answers", wrong, "--json"])
        XCTAssertEqual(wrongStatus, 1)
        XCTAssertTrue(wrongOutput.contains("\"passed\": false"), wrongOutput)

        let malformed = folder.appendingPathComponent("bad.txt").path
        try "q1 = 1\nq2 2\n".write(toFile: malformed, atomically: true, encoding: .utf8)
        let (badStatus, _, badErrors) = try run(["homework", "check", "cam-1", "--student", "alice", "--answers", malformed])
        XCTAssertEqual(badStatus, 2)
        XCTAssertTrue(badErrors.contains("bad.txt: line 2: expected `name = value`"), badErrors)

        let (unknownStatus, _, unknownErrors) = try run(["homework", "show", "cam-9", "--student", "alice"])
        XCTAssertEqual(unknownStatus, 2)
        XCTAssertTrue(unknownErrors.contains("tutor homework list"), unknownErrors)

        let (studentStatus, _, studentErrors) = try run(["homework", "show", "cam-1", "--student", "a b"])
        XCTAssertEqual(studentStatus, 2)
        XCTAssertTrue(studentErrors.contains("--student"), studentErrors)

        let (listStatus, list, _) = try run(["homework", "list", "--json"])
        XCTAssertEqual(listStatus, 0)
        XCTAssertTrue(list.contains("\"ig-3\""))
    }

    func testGradeWritesTheCSVAndReportsMalformedFiles() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let submissions = folder.appendingPathComponent("answers")
        try FileManager.default.createDirectory(at: submissions, withIntermediateDirectories: true)
        let (_, aliceKey, _) = try run(["homework", "key", "ig-1", "--student", "alice"])
        try aliceKey.write(to: submissions.appendingPathComponent("alice.txt"), atomically: true, encoding: .utf8)
        try "{\"answers\": ".write(to: submissions.appendingPathComponent("bob.json"), atomically: true, encoding: .utf8)
        let csv = folder.appendingPathComponent("grades.csv").path

        let (status, output, errors) = try run(["homework", "grade", "ig-1", "--submissions", submissions.path, "--csv", csv])
        XCTAssertEqual(status, 1, output + errors)
        XCTAssertTrue(errors.contains("bob: "), errors)
        let sheet = try String(contentsOfFile: csv, encoding: .utf8)
        XCTAssertTrue(sheet.hasPrefix("student_id,score,max_score,q1,q2,q3,q4,q5,error\nalice,5,5,1,1,1,1,1,\nbob,,5,"), sheet)
    }
}

import Foundation
import XCTest
import MiniNet

/// The evaluation runner: that each number it reports is the one the measure it combines gives
/// on its own, that threads change nothing, that the controls behave as controls, and that the
/// plots are valid pictures.
final class EvaluationRunnerTests: XCTestCase {
    /// Three shapes pictures with their masks and true classes, for the small CNN.
    static func pictures(for classifier: ImageClassifier, count: Int = 3) -> [EvaluationPicture] {
        let data = ShapesDataset(count: count, seed: 777)
        return (0..<count).map { index in
            let sample = data.sample(at: index)
            return EvaluationPicture(name: "shapes #\(index)", input: classifier.normalize(sample.image), target: sample.label,
                                     mask: ObjectMask(coverage: sample.mask), stream: UInt64(index))
        }
    }

    /// Few steps, so that a debug build runs this in seconds.
    static var quickSettings: EvaluationSettings {
        var settings = EvaluationSettings()
        settings.curveSteps = 8
        settings.roadPercentages = [20, 60]
        return settings
    }

    static func explainer(_ id: String) throws -> any Explainer { try XCTUnwrap(ExplainerRegistry.explainer(id: id)) }

    // MARK: the numbers are those of the measures

    /// Bit for bit under MiniNet's plain-loop products (`ArithmeticVariant.referenceGemm`),
    /// whose sums do not depend on the batch: the runner scores the pictures of several maps in
    /// shared batches, each measure alone in batches of its own, and OpenBLAS's kernels for some
    /// processors (its Haswell and Zen kernels) round one picture's products differently in a
    /// batch of another size. FaithfulnessTests checks the default arithmetic within the
    /// tolerance of another batch.
    func testEveryNumberIsTheOneItsMeasureGivesOnItsOwn() throws {
        try ArithmeticVariant.with(.referenceGemm) { try everyNumberIsTheOneItsMeasureGivesOnItsOwn() }
    }

    func everyNumberIsTheOneItsMeasureGivesOnItsOwn() throws {
        let classifier = try SanityCheckTests.smallCNN()
        let pictures = Self.pictures(for: classifier)
        let settings = Self.quickSettings
        let gradCAM = try Self.explainer("gradcam")
        let report = try Evaluation.run(classifier: classifier, pictures: pictures,
                                        maps: [.method(gradCAM), .randomControl, .edgeControl], settings: settings)
        XCTAssertEqual(report.pictureCount, 3)
        XCTAssertEqual(report.methods.map(\.id), ["gradcam", "random", "edges"])
        XCTAssertEqual(report.methods.map(\.isControl), [false, true, true])
        XCTAssertEqual(report.metrics, EvaluationMetric.allCases.filter { !$0.rawValue.hasPrefix("shuffled") })
        let method = try XCTUnwrap(report.method(id: "gradcam"))

        for (index, picture) in pictures.enumerated() {
            let heatmap = try gradCAM.explain(picture.input, classifier: classifier, target: .logit(picture.target),
                                              settings: settings.explainer).heatmap
            let target = ExplanationTarget.probability(picture.target)
            let deletion = try Faithfulness.deletionCurve(classifier: classifier, input: picture.input, heatmap: heatmap, target: target,
                                                          steps: 8, fill: .mean)
            let insertion = try Faithfulness.insertionCurve(classifier: classifier, input: picture.input, heatmap: heatmap, target: target,
                                                            steps: 8, fill: .petsiukBlur)
            XCTAssertEqual(method.values[.deletionArea]?[index], deletion.area)
            XCTAssertEqual(method.values[.insertionArea]?[index], insertion.area)
            let change = try Faithfulness.confidenceChange(classifier: classifier, input: picture.input, heatmap: heatmap, target: target)
            XCTAssertEqual(method.values[.averageDrop]?[index], change.relativeDrop.map { 100 * $0 })
            XCTAssertEqual(method.values[.increaseInConfidence]?[index], change.increased ? 100 : 0)
            let road = try ROAD.combined(classifier: classifier, input: picture.input, heatmap: heatmap, target: target,
                                         percentages: [20, 60], selection: .rank,
                                         noise: ImputationNoise(standardDeviation: 0.01, seed: 42 + UInt64(index)))
            XCTAssertEqual(method.values[.roadMostRelevantFirst]?[index], road.mostRelevantFirst.averageChange)
            XCTAssertEqual(method.values[.roadLeastRelevantFirst]?[index], road.leastRelevantFirst.averageChange)
            XCTAssertEqual(method.values[.roadCombined]?[index], road.score)
            let mask = try XCTUnwrap(picture.mask)
            let scores = Localisation.scores(heatmap, mask: mask)
            XCTAssertEqual(method.values[.pointingGame]?[index], scores.pointingGame.hit ? 1 : 0)
            XCTAssertEqual(method.values[.relevanceMass]?[index], scores.relevanceMass)
            XCTAssertEqual(method.values[.relevanceRank]?[index], scores.relevanceRank)
        }
        // The mean curve is the pointwise mean of the pictures' curves.
        let deletions = try pictures.map { picture in
            try Faithfulness.deletionCurve(classifier: classifier, input: picture.input,
                                           heatmap: gradCAM.explain(picture.input, classifier: classifier, target: .logit(picture.target),
                                                                    settings: settings.explainer).heatmap,
                                           target: .probability(picture.target), steps: 8, fill: .mean)
        }
        let curve = try XCTUnwrap(method.curves[.deletion])
        XCTAssertEqual(curve.x, deletions[0].fractions)
        for k in curve.x.indices {
            XCTAssertEqual(curve.y[k], deletions.map { Double($0.scores[k]) }.reduce(0, +) / 3, accuracy: 1e-12)
        }
        // The summary: the mean and s/√n of the per-picture values.
        let values = try XCTUnwrap(method.values[.deletionArea]).map { $0! }
        let summary = try XCTUnwrap(method.summary(.deletionArea))
        let mean = values.reduce(0, +) / 3
        XCTAssertEqual(summary.mean!, mean, accuracy: 1e-15)
        XCTAssertEqual(summary.standardError!, (values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 2 / 3).squareRoot(), accuracy: 1e-15)
        XCTAssertEqual(summary.count, 3)

        // The random control is ControlMaps.random with the picture's stream.
        let random = try XCTUnwrap(report.method(id: "random"))
        for (index, picture) in pictures.enumerated() {
            let map = ControlMaps.random(height: 32, width: 32, seed: 42, stream: picture.stream)
            XCTAssertEqual(random.values[.relevanceRank]?[index], Localisation.relevanceRank(map, mask: picture.mask!))
        }
        // Every identity held, and the random map's three expectations were checked.
        XCTAssertEqual(report.checks.failedCount, 0, "\(report.checks.failures.map(\.check.name))")
        let names = report.checks.entries.map(\.name)
        for expected in ["deletion at 0 % = the full score", "insertion at 100 % = the full score",
                         "a random map's relevance mass = the mask's area fraction"] {
            XCTAssertTrue(names.contains(expected), "\(names)")
        }
        // 3 pictures × 3 maps × 4 curve ends.
        XCTAssertEqual(report.checks.entries.first { $0.name == "deletion at 0 % = the full score" }?.count, 9)
    }

    /// A signed map is cut at 0 before it multiplies the picture; a map ≥ 0 is min–max scaled
    /// (bit for bit under the plain-loop products, as above).
    func testTheConfidenceChangeOfASignedMapUsesItsPositivePart() throws {
        try ArithmeticVariant.with(.referenceGemm) { try confidenceChangeOfASignedMapUsesItsPositivePart() }
    }

    func confidenceChangeOfASignedMapUsesItsPositivePart() throws {
        let classifier = try SanityCheckTests.smallCNN()
        let pictures = Self.pictures(for: classifier, count: 2)
        var settings = Self.quickSettings
        settings.cascade = false
        let saliency = try Self.explainer("saliency")
        let report = try Evaluation.run(classifier: classifier, pictures: pictures, maps: [.method(saliency)], settings: settings)
        for (index, picture) in pictures.enumerated() {
            let explanation = try saliency.explain(picture.input, classifier: classifier, target: .logit(picture.target),
                                                   settings: settings.explainer)
            XCTAssertTrue(explanation.isSigned)
            let mask = Evaluation.positivePartScaled(explanation.heatmap)
            XCTAssertEqual(mask.max, 1)
            XCTAssertEqual(mask.min, 0)
            let change = try Faithfulness.confidenceChange(classifier: classifier, input: picture.input, heatmap: mask,
                                                           target: .probability(picture.target), scaling: .asGiven)
            XCTAssertEqual(report.methods[0].values[.averageDrop]?[index], change.relativeDrop.map { 100 * $0 })
            XCTAssertEqual(report.methods[0].values[.increaseInConfidence]?[index], change.increased ? 100 : 0)
        }
        XCTAssertEqual(Evaluation.positivePartScaled(Tensor(shape: [1, 3], data: [-2, 1, 4])).data, [0, 0.25, 1])
        XCTAssertEqual(Evaluation.positivePartScaled(Tensor(shape: [1, 2], data: [-2, 0])).data, [0, 0])
    }

    func testTheSanityChecksAreThoseOfSanityChecks() throws {
        let classifier = try SanityCheckTests.smallCNN()
        let pictures = Self.pictures(for: classifier)
        var settings = Self.quickSettings
        settings.faithfulness = false
        let saliency = try Self.explainer("saliency")
        // A stand-in for a network trained on shuffled labels: the same one with a random head.
        let other = try SanityChecks.copy(of: classifier)
        SanityChecks.reinitialise(try XCTUnwrap(other.layer(named: "classifier")), seed: 1)
        let report = try Evaluation.run(classifier: classifier, pictures: pictures, maps: [.method(saliency), .randomControl],
                                        settings: settings, shuffledLabels: .trained(other))
        let inputs = pictures.map(\.input), targets = pictures.map { ExplanationTarget.logit($0.target) }
        let cascade = try SanityChecks.cascadingRandomisation(classifier, explainer: saliency, inputs: inputs, targets: targets,
                                                              granularity: .blocks, seed: 42)
        XCTAssertEqual(report.cascadeSteps, cascade.steps.map(\.step))
        let method = try XCTUnwrap(report.method(id: "saliency"))
        for (s, step) in cascade.steps.enumerated() {
            XCTAssertEqual(method.cascade[s].structuralSimilarity, step.mean(\.structuralSimilarity))
            XCTAssertEqual(method.cascade[s].rankCorrelationOfAbsolute, step.mean(\.rankCorrelationOfAbsolute))
        }
        for index in pictures.indices {
            let ssim = cascade.steps.map { $0.similarities[index].structuralSimilarity }
            XCTAssertEqual(method.values[.cascadeSSIM]?[index] ?? nil, ssim.reduce(0, +) / Double(ssim.count))
        }
        let data = try SanityChecks.dataRandomisation(trained: classifier, shuffledLabels: other, explainer: saliency,
                                                      inputs: inputs, targets: targets)
        XCTAssertEqual(method.values[.shuffledLabelsSSIM]?.map { $0! }, data.map(\.structuralSimilarity))
        XCTAssertEqual(method.values[.shuffledLabelsRankCorrelation] ?? [], data.map(\.rankCorrelationOfAbsolute))
        // A control does not read the network: its map survives every step unchanged.
        let random = try XCTUnwrap(report.method(id: "random"))
        XCTAssertEqual(random.values[.cascadeSSIM]?.map { $0! }, [1, 1, 1])
        XCTAssertEqual(random.values[.shuffledLabelsRankCorrelation]?.map { $0! }, [1, 1, 1])
        XCTAssertFalse(report.metrics.contains(.deletionArea), "faithfulness was off")
    }

    func testTheShuffledLabelNetworkCanBeTrainedAlongside() throws {
        let classifier = try SanityCheckTests.smallCNN()
        let pictures = Self.pictures(for: classifier, count: 2)
        var settings = Self.quickSettings
        (settings.faithfulness, settings.cascade) = (false, false)
        var options = TrainingOptions()
        (options.epochs, options.trainingImages, options.validationImages, options.shuffledLabelsSeed) = (1, 64, 8, 5)
        var units = 0
        let report = try Evaluation.run(classifier: classifier, pictures: pictures, maps: [.method(try Self.explainer("gradcam"))],
                                        settings: settings, shuffledLabels: .train(options)) { progress in
            if progress.phase == .maps { units = progress.total }
        }
        // 2 maps and 2 batches of training.
        XCTAssertEqual(units, 2 + 2)
        let trained = try Trainer.train(options: options).classifier
        let data = try SanityChecks.dataRandomisation(trained: classifier, shuffledLabels: trained, explainer: try Self.explainer("gradcam"),
                                                      inputs: pictures.map(\.input), targets: pictures.map { .logit($0.target) })
        XCTAssertEqual(report.methods[0].values[.shuffledLabelsSSIM]?.map { $0! }, data.map(\.structuralSimilarity))
    }

    /// Each phase reports 0 done when it starts (its clock starts then), the maps phase moves
    /// within a map as its curves' batches go by (a photo network's map takes many seconds),
    /// and every phase ends at 1 with all units done, never going back.
    func testProgressStartsAtZeroAndMovesWithinAMap() throws {
        let classifier = try SanityCheckTests.smallCNN()
        var settings = Self.quickSettings
        (settings.curveSteps, settings.batchSize, settings.threads) = (32, 4, 1)
        var reports: [EvaluationProgress] = []
        _ = try Evaluation.run(classifier: classifier, pictures: Self.pictures(for: classifier, count: 1),
                               maps: [.method(try Self.explainer("ig")), .randomControl], settings: settings) { reports.append($0) }
        for phase in [EvaluationProgress.Phase.maps, .cascade] {
            let ofPhase = reports.filter { $0.phase == phase }
            XCTAssertEqual(ofPhase.first?.done, 0, "\(phase)")
            XCTAssertEqual(ofPhase.first?.fraction, 0, "\(phase)")
            XCTAssertEqual(ofPhase.last?.fraction, 1, "\(phase)")
            XCTAssertEqual(ofPhase.last?.done, ofPhase.last?.total, "\(phase)")
            XCTAssertEqual(zip(ofPhase, ofPhase.dropFirst()).filter { $1.fraction < $0.fraction }.count, 0, "\(phase) went back")
        }
        let withinTheFirstMap = reports.filter { $0.phase == .maps && $0.done == 0 && $0.fraction > 0 }
        XCTAssertGreaterThan(withinTheFirstMap.count, 5, "IG's passes and the curves' batches")
        XCTAssertTrue(withinTheFirstMap.contains { $0.fraction > 0.25 }, "past IG's half of the map")
    }

    // MARK: threads, and the classifier left alone

    func testThreadsChangeNoNumberAndTheClassifierIsLeftAlone() throws {
        let classifier = try SanityCheckTests.smallCNN()
        let before = SanityCheckTests.state(classifier)
        let pictures = Self.pictures(for: classifier, count: 4)
        let maps: [EvaluatedMap] = [.method(try Self.explainer("gradcam")), .method(try Self.explainer("lrp-epsilon")), .edgeControl]
        func run(threads: Int) throws -> EvaluationReport {
            var settings = Self.quickSettings
            settings.threads = threads
            return try GemmTests.withThreads(2) { try Evaluation.run(classifier: classifier, pictures: pictures, maps: maps, settings: settings) }
        }
        let one = try run(threads: 1), two = try run(threads: 2)
        for (a, b) in zip(one.methods, two.methods) {
            XCTAssertEqual(a.values, b.values, a.id)
            XCTAssertEqual(a.curves, b.curves, a.id)
            XCTAssertEqual(a.cascade, b.cascade, a.id)
        }
        XCTAssertEqual(one.checks.entries.map(\.count), two.checks.entries.map(\.count))
        XCTAssertEqual(SanityCheckTests.state(classifier), before, "the classifier's parameters and buffers are as they were")
    }

    func testAPictureOfTheWrongSizeIsRefused() throws {
        let classifier = try SanityCheckTests.smallCNN()
        let picture = EvaluationPicture(name: "small", input: Tensor(zeros: [3, 16, 16]), target: 0)
        XCTAssertThrowsError(try Evaluation.run(classifier: classifier, pictures: [picture], maps: [.randomControl])) { error in
            XCTAssertTrue("\(error)".contains("small"), "\(error)")
        }
        XCTAssertThrowsError(try Evaluation.run(classifier: classifier, pictures: [], maps: [.randomControl]))
    }

    // MARK: counting checks

    func testTheTallyCountsByNameAndKeepsTheFailures() {
        var tally = CheckTally()
        let pass = Check.equal("a = b", "a", 1, "b", 1.5, tolerance: .absolute(1, because: "test"))
        let tight = Check.equal("a = b", "a", 1, "b", 1.9, tolerance: .absolute(1, because: "test"))
        let fail = Check.equal("c = d", "c", 0, "d", 3, tolerance: .absolute(1, because: "test"))
        tally.add(pass, at: "one")
        tally.add(fail, at: "two")
        var other = CheckTally()
        other.add(tight, at: "three")
        other.add(fail, at: "four")
        tally.add(other)
        XCTAssertEqual(tally.entries.map(\.name), ["a = b", "c = d"])
        XCTAssertEqual(tally.entries.map(\.count), [2, 2])
        XCTAssertEqual(tally.entries.map(\.failed), [0, 2])
        XCTAssertEqual(tally.entries[0].tightest, tight, "the check that used the most of its tolerance")
        XCTAssertEqual([tally.count, tally.failedCount], [4, 2])
        XCTAssertEqual(tally.failures.map(\.place), ["two", "four"])
    }

    func testMetricSummaryIgnoresUndefinedValues() {
        let summary = MetricSummary([1, nil, 3])
        XCTAssertEqual(summary.mean, 2)
        XCTAssertEqual(summary.count, 2)
        XCTAssertEqual(summary.standardError!, 1, accuracy: 1e-15)             // s = √2, s/√2 = 1
        XCTAssertNil(MetricSummary([nil]).mean)
        XCTAssertNil(MetricSummary([5]).standardError)
        XCTAssertTrue(EvaluationMetric.cascadeSSIM.isBetter(-0.1, than: 0.2), "nearer 0")
        XCTAssertTrue(EvaluationMetric.deletionArea.isBetter(0.1, than: 0.2))
        XCTAssertTrue(EvaluationMetric.insertionArea.isBetter(0.3, than: 0.2))
    }

    // MARK: plots

    func testTicksAreRoundNumbers() {
        XCTAssertEqual(CurvePlot.ticks(0...1), [0, 0.2, 0.4, 0.6, 0.8, 1])
        XCTAssertEqual(CurvePlot.ticks(-0.3...0.9), [-0.2, 0, 0.2, 0.4, 0.6, 0.8])
        XCTAssertEqual(CurvePlot.ticks(0...37), [0, 10, 20, 30])
        XCTAssertEqual(CurvePlot.niceRange([0.1, 0.7]), 0...1)
        XCTAssertEqual(CurvePlot.niceRange([-0.13, 0.92]), -0.2...1)
        XCTAssertEqual(CurvePlot.niceRange([2, 2]), 1.4...2.6)
    }

    func testAPlotIsAValidPictureWithEachSeriesInItsColour() throws {
        var plot = CurvePlot(title: "Đường cong xóa", xLabel: "fraction deleted", yLabel: "P(class)")
        plot.series = [.init(label: "gradcam", x: [0, 0.5, 1], y: [0.9, 0.3, 0.1]),
                       .init(label: "random", x: [0, 0.5, 1], y: [0.9, 0.7, 0.1], isControl: true)]
        let image = plot.rendered()
        XCTAssertEqual([image.width, image.height], [800, 500])
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("curveplot-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("plot.png").path
        try plot.write(to: path)
        XCTAssertEqual(try RGBImage.read(from: path), image, "the PNG holds exactly the drawn picture")
        // The method's colour and the control's grey are both on the canvas.
        func count(_ colour: (UInt8, UInt8, UInt8)) -> Int {
            stride(from: 0, to: image.pixels.count, by: 3).filter {
                (image.pixels[$0], image.pixels[$0 + 1], image.pixels[$0 + 2]) == colour
            }.count
        }
        XCTAssertGreaterThan(count(CurvePlot.palette[0]), 100)
        XCTAssertGreaterThan(count(CurvePlot.controlGreys[0]), 20)
    }
}

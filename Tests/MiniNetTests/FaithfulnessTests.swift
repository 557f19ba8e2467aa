import Foundation
import XCTest
import MiniNet

/// The faithfulness metrics (Sources/MiniNet/Evaluation): each worked by hand on a picture small
/// enough to follow, their identities on the shipped small CNN, and their independence of the
/// batch size and the thread count. FaithfulnessParityTests compares them with the libraries.
final class FaithfulnessTests: XCTestCase {
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().path

    /// z_0 = x₁ + x₂ + x₃ + x₄, z_1 = 0 on a one-channel 2 × 2 picture (mean 0.5, std 0.25).
    /// Every number below is a small dyadic fraction, so each sum is exact in float32.
    func sumModel(side: Int = 2) throws -> ImageClassifier {
        let pixels = side * side
        let spec = ModelSpec(architecture: "test", layers: [LayerSpec(name: "flatten", type: "Flatten"), .linear("classifier", pixels, 2, bias: true)],
                             inputSize: [1, side, side], mean: [0.5], std: [0.25], classNames: ["sum", "zero"])
        let classifier = try ImageClassifier(spec: spec)
        try classifier.loadStateDict(["classifier.weight": Tensor(shape: [2, pixels], data: [Float](repeating: 1, count: pixels) + [Float](repeating: 0, count: pixels)),
                                      "classifier.bias": Tensor(zeros: [2])], source: "test")
        return classifier
    }

    /// x = [[4, 3], [2, 1]] and a map that ranks the pixels 0, 2, 3, 1.
    let picture = Tensor(shape: [1, 2, 2], data: [4, 3, 2, 1])
    let map = Tensor(shape: [2, 2], data: [0.9, 0.1, 0.5, 0.3])

    func shippedModel() throws -> (ImageClassifier, Tensor, Tensor) {
        let classifier = try ImageClassifier.load(from: Self.repositoryRoot + "/models/mininet.safetensors")
        let input = classifier.normalize(ShapesDataset(count: 8, seed: 2026, imageSize: classifier.inputSize[1]).sample(at: 5).image)
        // A smooth map with a peak off-centre and ties (a plateau of zeros), as a CAM has.
        let (height, width) = (input.shape[1], input.shape[2])
        let heatmap = Tensor(shape: [height, width], data: (0..<(height * width)).map { index in
            let (y, x) = (Float(index / width), Float(index % width))
            return Swift.max(0, 1 - ((y - 12) * (y - 12) + (x - 18) * (x - 18)) / 120)
        })
        return (classifier, input, heatmap)
    }

    // MARK: ranking, counts, area

    func testPixelOrderRanksByValueThenByIndex() {
        XCTAssertEqual(Faithfulness.pixelOrder(map), [0, 2, 3, 1])
        // Signed: negative relevance comes last; equal values in pixel order.
        let signed = Tensor(shape: [2, 3], data: [-1, 2, 0, 2, -3, 0])
        XCTAssertEqual(Faithfulness.pixelOrder(signed), [1, 3, 2, 5, 0, 4])
    }

    func testPixelCountsAndTheTrapezoidRule() {
        XCTAssertEqual(Faithfulness.pixelCounts(pixels: 4, steps: 4), [0, 1, 2, 3, 4])
        XCTAssertEqual(Faithfulness.pixelCounts(pixels: 10, steps: 4), [0, 2, 5, 7, 10])
        // ∫₀¹ s over (0, 1), (½, 3), (1, 0): ½·(1 + 3)/2 + ½·(3 + 0)/2 = 1.75; Petsiuk's auc is the same.
        XCTAssertEqual(Faithfulness.trapezoidArea(fractions: [0, 0.5, 1], values: [1, 3, 0]), 1.75)
        XCTAssertEqual((1.0 + 3 + 0 - 1.0 / 2 - 0.0 / 2) / 2, 1.75)
    }

    // MARK: deletion and insertion by hand

    /// Deletion with the mean (0): the pixels go in the order 0, 2, 3, 1, i.e. the values 4, 2, 1, 3:
    ///
    ///     s = 10, 6, 4, 3, 0     AUC = ¼ · (8 + 5 + 3.5 + 1.5) = 4.5
    ///
    /// Insertion from 0 puts them back in the same order: s = 0, 4, 6, 7, 10, AUC = 5.5. For a
    /// linear score and a zero fill, each deleted picture and its inserted twin add up to x, so
    /// s_del(k) + s_ins(k) = z(x) at every point and the two areas add up to z(x) = 10.
    func testDeletionAndInsertionOfALinearModelByHand() throws {
        let classifier = try sumModel()
        let deletion = try Faithfulness.deletionCurve(classifier: classifier, input: picture, heatmap: map, target: .logit(0), steps: 4)
        XCTAssertEqual(deletion.pixelCounts, [0, 1, 2, 3, 4])
        XCTAssertEqual(deletion.fractions, [0, 0.25, 0.5, 0.75, 1])
        XCTAssertEqual(deletion.scores, [10, 6, 4, 3, 0])
        XCTAssertEqual(deletion.area, 4.5)
        XCTAssertEqual(deletion.fullScore, 10)
        XCTAssertEqual(deletion.fillScore, 0)
        XCTAssertEqual(deletion.predictedClasses, [0, 0, 0, 0, 0])
        // x_2 of each curve, as a lesson would draw it: pixels 0 and 2 changed.
        let order = Faithfulness.pixelOrder(map), zero = Tensor(zeros: [1, 2, 2])
        XCTAssertEqual(Faithfulness.perturbedImage(.deletion, image: picture, substrate: zero, order: order, count: 2).data, [0, 3, 0, 1])
        XCTAssertEqual(Faithfulness.perturbedImage(.insertion, image: picture, substrate: zero, order: order, count: 2).data, [4, 0, 2, 0])
        XCTAssertTrue(deletion.allChecksPass, "\(deletion.checks)")

        let insertion = try Faithfulness.insertionCurve(classifier: classifier, input: picture, heatmap: map, target: .logit(0),
                                                        steps: 4, fill: .mean)
        XCTAssertEqual(insertion.scores, [0, 4, 6, 7, 10])
        XCTAssertEqual(insertion.area, 5.5)
        XCTAssertEqual(zip(deletion.scores, insertion.scores).map { $0 + $1 }, [10, 10, 10, 10, 10])
        XCTAssertEqual(deletion.area + insertion.area, 10)
        XCTAssertTrue(insertion.allChecksPass, "\(insertion.checks)")

        // A constant fill c: every deleted pixel adds c instead of its value.
        let constant = try Faithfulness.deletionCurve(classifier: classifier, input: picture, heatmap: map, target: .logit(0),
                                                      steps: 2, fill: .constant(0.5))
        XCTAssertEqual(constant.scores, [10, 10 - 4 - 2 + 1, 2])

        // The probability: P_0 = 1 / (1 + e^(−z₀)) since z₁ = 0; the logits ride along.
        let probability = try Faithfulness.deletionCurve(classifier: classifier, input: picture, heatmap: map, target: .probability(0), steps: 4)
        XCTAssertEqual(probability.logits, [10, 6, 4, 3, 0])
        for (p, z) in zip(probability.scores, probability.logits) {
            XCTAssertEqual(Double(p), 1 / (1 + exp(-Double(z))), accuracy: 1e-7)
        }
        XCTAssertEqual(probability.logitArea, 4.5)
        XCTAssertEqual(probability.scores[4], 0.5)
        XCTAssertTrue(probability.allChecksPass, "\(probability.checks)")
    }

    // MARK: confidence by hand

    /// M = [1, 0, ½, ¼] (as given): x ⊙ M = [4, 0, 1, ¼], O = 5.25 against Y = 10: the change is
    /// −4.75, the drop 4.75, relative 0.475, no increase. In pixel space (mean ½, std ¼) a pixel
    /// p = x/4 + ½ becomes p·M, normalised back: [4, −2, 0, −1.25], O = 0.75.
    func testConfidenceChangeOfALinearModelByHand() throws {
        let classifier = try sumModel()
        let mask = Tensor(shape: [2, 2], data: [1, 0, 0.5, 0.25])
        let change = try Faithfulness.confidenceChange(classifier: classifier, input: picture, heatmap: mask, target: .logit(0), scaling: .asGiven)
        XCTAssertEqual(change.fullScore, 10)
        XCTAssertEqual(change.maskedScore, 5.25)
        XCTAssertEqual(change.change, -4.75)
        XCTAssertEqual(change.drop, 4.75)
        XCTAssertEqual(change.relativeDrop, 0.475)
        XCTAssertFalse(change.increased)

        let pixels = try Faithfulness.confidenceChange(classifier: classifier, input: picture, heatmap: mask, target: .logit(0),
                                                       scaling: .asGiven, space: .pixels)
        XCTAssertEqual(pixels.maskedScore, 4 - 2 + 0 - 1.25)

        // min–max scaling as pytorch-grad-cam's scale_cam_image: (h − 0.1)/(1e-7 + 0.8).
        let scaled = Faithfulness.unitScaled(map)
        XCTAssertEqual(scaled.data[1], 0)
        XCTAssertEqual(Double(scaled.data[0]), 1, accuracy: 2e-7)
        XCTAssertEqual(Double(scaled.data[2]), 0.5, accuracy: 1e-7)

        // Two pictures: the second one gains (Y = 1, O = 3): Average Drop = ½ (47.5 % + 0 %).
        let brighter = Tensor(shape: [1, 2, 2], data: [1, 0, 0, 0])
        let changes = try Faithfulness.confidenceChanges(classifier: classifier, inputs: [picture, brighter],
                                                         heatmaps: [mask, Tensor(shape: [2, 2], data: [3, 0, 0, 0])],
                                                         targets: [.logit(0), .logit(0)], scaling: .asGiven, batchSize: 1)
        XCTAssertEqual(changes.map(\.maskedScore), [5.25, 3])
        let summary = Faithfulness.summary(of: changes)
        XCTAssertEqual(try XCTUnwrap(summary.averageDropPercent), 23.75, accuracy: 1e-12)
        XCTAssertEqual(summary.increaseInConfidencePercent, 50)
        XCTAssertEqual(summary.meanDrop, 2.375)
        XCTAssertEqual(summary.meanChange, (-4.75 + 2) / 2)
    }

    // MARK: ROAD by hand

    /// On a 3 × 3 picture:
    /// - the centre alone removed: u = (1/6)·(edges) + (1/12)·(corners);
    /// - the corner (0, 0) alone: s = 1/6 + 1/6 + 1/12 = 5/12, u = (2x₀₁ + 2x₁₀ + x₁₁)/5;
    /// - the centre and its right neighbour: two equations,
    ///       u₁ − u₂/6 = b₁,   (2/3)·u₂ − u₁/6 = b₂
    ///   (the right-hand pixel of the middle row has five neighbours in the picture, weights
    ///   1/12 + 1/6 + 1/6 + 1/12 + 1/6 = 2/3), solved by Cramer's rule.
    func testNoisyLinearImputationByHand() throws {
        let x: [Float] = [1, 2, 3, 4, 5, 6, 7, 8, 9]
        let image = Tensor(shape: [1, 3, 3], data: x)
        func removing(_ pixels: [Int]) throws -> NoisyLinearImputation.Result {
            try NoisyLinearImputation.impute(image, removed: (0..<9).map { pixels.contains($0) })
        }
        let centre = try removing([4])
        let centreValue: Double = 20.0 / 6 + 20.0 / 12
        XCTAssertEqual(Double(centre.image.data[4]), centreValue, accuracy: 1e-6)
        XCTAssertEqual(Array(centre.image.data[0..<4] + centre.image.data[5...]), [1, 2, 3, 4, 6, 7, 8, 9], "kept pixels stay")
        XCTAssertEqual(centre.removedPixels, [4])

        let corner = try removing([0])
        let cornerValue: Double = (2 * 2 + 2 * 4 + 5) / 5
        XCTAssertEqual(Double(corner.image.data[0]), cornerValue, accuracy: 1e-6)

        let pair = try removing([4, 5])
        let b1: Double = 14.0 / 6 + 20.0 / 12                      // the centre's kept neighbours 2, 4, 8 and 1, 3, 7, 9
        let b2: Double = 12.0 / 6 + 10.0 / 12                      // (1, 2)'s kept neighbours 3, 9 and 2, 8
        let determinant = 1.0 * (2.0 / 3) - (1.0 / 6) * (1.0 / 6)
        XCTAssertEqual(Double(pair.image.data[4]), (b1 * (2.0 / 3) + b2 / 6) / determinant, accuracy: 1e-6)
        XCTAssertEqual(Double(pair.image.data[5]), (b2 + b1 / 6) / determinant, accuracy: 1e-6)
        for result in [centre, corner, pair] { XCTAssertTrue(result.checks.allSatisfy(\.ok), "\(result.checks)") }

        // Everything removed: every constant solves the system; the smallest, 0, is returned.
        XCTAssertEqual(try removing(Array(0..<9)).image.data, [Float](repeating: 0, count: 9))
    }

    /// The noise is σ·ε added in float32 after the solve, ε from the seeded stream, channel by
    /// channel, then pixel by pixel.
    func testImputationNoiseIsSeededAndAddedAfterTheSolve() throws {
        let image = Tensor(shape: [2, 3, 3], data: (0..<18).map { Float($0) / 4 })
        let removed = (0..<9).map { [1, 4, 8].contains($0) }
        let noise = ImputationNoise(standardDeviation: 0.01, seed: 7)
        let plain = try NoisyLinearImputation.impute(image, removed: removed)
        let noisy = try NoisyLinearImputation.impute(image, removed: removed, noise: noise, stream: 3)
        let epsilon = noise.standardNormals(stream: 3, count: 6)
        for c in 0..<2 {
            for (j, pixel) in [1, 4, 8].enumerated() {
                XCTAssertEqual(noisy.image.data[c * 9 + pixel], plain.image.data[c * 9 + pixel] + 0.01 * epsilon[c * 3 + j])
            }
        }
        XCTAssertEqual(try NoisyLinearImputation.impute(image, removed: removed, noise: noise, stream: 3).image, noisy.image)
        XCTAssertNotEqual(try NoisyLinearImputation.impute(image, removed: removed, noise: noise, stream: 4).image, noisy.image)
    }

    func testPercentileIsNumpys() {
        // numpy.percentile(np.float32([0.3, 0.1, 0.7, 0.2, 0.9, 0.4, 0.8]), p), bit for bit.
        let values: [Float] = [0.3, 0.1, 0.7, 0.2, 0.9, 0.4, 0.8]
        let numpy: [(Double, UInt32)] = [(0, 1036831949), (10, 1042536202), (25, 1048576000), (50, 1053609165),
                                         (62.5, 1059061760), (90, 1062668861), (100, 1063675494)]
        for (p, bits) in numpy { XCTAssertEqual(ROAD.percentile(values, p).bitPattern, bits, "percentile \(p)") }
        XCTAssertEqual(ROAD.percentile([1, 2, 3, 4], 50), 2.5)
    }

    /// pytorch-grad-cam removes h ≥ T, T = the (100 − r)th percentile: 30 % of ten distinct
    /// values are the top three. With ties the threshold takes every equal value along: a map
    /// that is 0 on a third of the picture loses everything at 80 % (T = 0). The rank selection
    /// takes ⌊N·r/100⌋ pixels in the order of the map.
    func testROADRemovalFollowsPyTorchGradCAMsThreshold() {
        let distinct = Tensor(shape: [2, 5], data: [0.5, 0.1, 0.9, 0.3, 0.7, 0.2, 0.8, 0.4, 0.6, 0.0])
        func removed(_ map: Tensor, _ percent: Double, _ order: ROAD.Order, _ selection: ROAD.Selection = .percentileThreshold) -> [Int] {
            ROAD.removedPixels(heatmap: map, percent: percent, order: order, selection: selection).indices.filter {
                ROAD.removedPixels(heatmap: map, percent: percent, order: order, selection: selection)[$0]
            }
        }
        XCTAssertEqual(removed(distinct, 30, .mostRelevantFirst), [2, 4, 6])
        XCTAssertEqual(removed(distinct, 30, .leastRelevantFirst), [1, 5, 9])
        XCTAssertEqual(removed(distinct, 30, .mostRelevantFirst, .rank), [2, 4, 6])
        XCTAssertEqual(removed(distinct, 30, .leastRelevantFirst, .rank), [1, 5, 9])

        let plateau = Tensor(shape: [2, 5], data: [0, 0, 0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7])
        XCTAssertEqual(removed(plateau, 80, .mostRelevantFirst).count, 10, "T = 0 takes the whole plateau")
        XCTAssertEqual(removed(plateau, 80, .mostRelevantFirst, .rank).count, 8)
        XCTAssertEqual(ROAD.noiseStream(order: .leastRelevantFirst, percent: 80), 1 << 32 | 80_000)
    }

    /// ROAD on the sum model: removing the centre of a 3 × 3 picture of 1 … 9 replaces 5 by the
    /// weighted mean of its neighbours, which is 5 again (the picture is a linear ramp): the score
    /// does not move. Removing the corner 9 replaces it by (2·8 + 2·6 + 5)/5 = 6.6.
    func testROADOfALinearModelByHand() throws {
        let classifier = try sumModel(side: 3)
        let image = Tensor(shape: [1, 3, 3], data: [1, 2, 3, 4, 5, 6, 7, 8, 9])
        let centre = Tensor(shape: [3, 3], data: [0, 0, 0, 0, 1, 0, 0, 0, 0])
        let curve = try ROAD.curve(classifier: classifier, input: image, heatmap: centre, target: .logit(0),
                                   order: .mostRelevantFirst, percentages: [20], selection: .rank, noise: .none)
        XCTAssertEqual(curve.removedCounts, [1])
        XCTAssertEqual(Double(curve.scores[0]), 45, accuracy: 1e-5)
        XCTAssertEqual(curve.fullScore, 45)
        let corner = Tensor(shape: [3, 3], data: [0, 0, 0, 0, 0, 0, 0, 0, 1])
        let cornerCurve = try ROAD.curve(classifier: classifier, input: image, heatmap: corner, target: .logit(0),
                                         order: .mostRelevantFirst, percentages: [20], selection: .rank, noise: .none)
        XCTAssertEqual(Double(cornerCurve.changes[0]), 6.6 - 9, accuracy: 1e-5)
        // LeRF at 80 % keeps the two most relevant pixels (the corner and the last by index, 7).
        let lerf = try ROAD.curve(classifier: classifier, input: image, heatmap: corner, target: .logit(0),
                                  order: .leastRelevantFirst, percentages: [80], selection: .rank, noise: .none)
        XCTAssertEqual(lerf.removedCounts, [7])
        XCTAssertTrue(curve.allChecksPass && cornerCurve.allChecksPass && lerf.allChecksPass)
        let combined = try ROAD.combined(classifier: classifier, input: image, heatmap: corner, target: .logit(0),
                                         percentages: [20], selection: .rank, noise: .none)
        XCTAssertEqual(combined.score, (combined.leastRelevantFirst.averageChange - combined.mostRelevantFirst.averageChange) / 2)
    }

    // MARK: the blur

    /// RISE's kernel sums to 1, is symmetric, and is flatter than the Gaussian it comes from:
    /// the tails folded back by "reflect" land on the grid. A constant picture stays constant
    /// wherever the kernel lies inside it.
    func testPetsiukBlur() throws {
        let blur = try PetsiukBlur()
        let kernel = blur.kernel
        XCTAssertEqual(kernel.shape, [11, 11])
        XCTAssertEqual(kernel.sum(), 1, accuracy: 1e-6)
        for i in 0..<11 { for j in 0..<11 { XCTAssertEqual(kernel[i, j], kernel[j, i]); XCTAssertEqual(kernel[i, j], kernel[10 - i, j]) } }
        let profile = blur.profile
        XCTAssertEqual(profile.reduce(0, +), 1, accuracy: 1e-12)
        XCTAssertLessThan(profile[5] / profile[0], exp(25.0 / 50), "flatter than e^(−t²/2σ²) over 5 cells")

        let constant = Tensor(repeating: 2, shape: [1, 16, 16])
        let blurred = blur.blurred(constant)
        XCTAssertEqual(Double(blurred[0, 8, 8]), 2, accuracy: 1e-5)
        XCTAssertLessThan(blurred[0, 0, 0], 1.5, "zero padding darkens the corners, as torch's conv2d does")
        XCTAssertThrowsError(try PetsiukBlur(kernelSize: 4, sigma: 5))
    }

    // MARK: identities on the small CNN

    /// Every fill and both scores: the end points of each curve equal the full score and the
    /// fill's score (within the rounding of a batched against a single forward pass), and the
    /// tolerance is tight enough to catch the end point taken one step too early.
    func testCurveEndPointsOnTheSmallCNN() throws {
        try forEachArithmeticVariant { _ in
            let (classifier, input, heatmap) = try shippedModel()
            let predicted = classifier.forward(input.reshaped([1] + input.shape)).argmax
            let fills: [PerturbationFill] = [.mean, .constant(-1), .petsiukBlur, .image(input.map { -$0 })]
            for target in [ExplanationTarget.probability(predicted), .logit(predicted)] {
                for fill in fills {
                    for kind in PerturbationCurveKind.allCases {
                        let curve = try Faithfulness.curve(kind, classifier: classifier, input: input, heatmap: heatmap, target: target,
                                                           steps: 16, fill: fill, batchSize: 7)
                        XCTAssertEqual(curve.checks.count, 2)
                        for check in curve.checks { XCTAssertTrue(check.ok, "\(kind) \(fill) \(target): \(check)") }
                        let last = curve.checks.first { $0.leftLabel.contains("100 %") }!
                        assertCatches(last, broken: Double(curve.scores[curve.scores.count - 2]), "the point before the last")
                        XCTAssertEqual(curve.area, Faithfulness.trapezoidArea(fractions: curve.fractions, values: curve.scores))
                    }
                }
            }
        }
    }

    /// Deletion of the most relevant pixels lowers the score faster than deletion in the reverse
    /// order on the small CNN with its own Grad-CAM map: the measure tells a map from its opposite.
    func testDeletionPrefersTheMapToItsReverse() throws {
        let (classifier, input, _) = try shippedModel()
        let predicted = classifier.forward(input.reshaped([1] + input.shape)).argmax
        let explanation = try XCTUnwrap(ExplainerRegistry.explainer(id: "gradcam")).explain(
            input, classifier: classifier, target: .logit(predicted), settings: ExplainerSettings())
        func area(_ map: Tensor) throws -> Double {
            try Faithfulness.deletionCurve(classifier: classifier, input: input, heatmap: map, target: .probability(predicted), steps: 32).area
        }
        XCTAssertLessThan(try area(explanation.heatmap), try area(explanation.heatmap.map { -$0 }))
    }

    /// The curves are bit for bit the same on 1 or 4 threads (Gemm cuts a product by its shape
    /// only). For other batch sizes they agree within the end-point tolerance: OpenBLAS rounds
    /// the columns at a block's edge with other kernels than the inside, and a batch moves an
    /// image's columns (measured: up to 1 float32 unit of the logit). MiniNet's own plain-loop
    /// products sum every entry in the same order whatever the batch: bit for bit again.
    func testCurvesDoNotDependOnThreadsOrBatchSize() throws {
        let (classifier, input, heatmap) = try shippedModel()
        let target = ExplanationTarget.probability(0)
        func curve(batch: Int) throws -> PerturbationCurve {
            try Faithfulness.deletionCurve(classifier: classifier, input: input, heatmap: heatmap, target: target, steps: 20, batchSize: batch)
        }
        let threads = Gemm.maximumThreads
        defer { Gemm.setThreads(threads) }
        Gemm.setThreads(1)
        let single = try curve(batch: 21)
        Gemm.setThreads(4)
        XCTAssertEqual(try curve(batch: 21).scores, single.scores, "1 thread against 4")
        let tolerance = try XCTUnwrap(single.checks.first?.tolerance)
        for batch in [1, 3, 8] {
            let other = try curve(batch: batch)
            let difference = zip(other.scores, single.scores).map { abs(Double($0) - Double($1)) }.max() ?? 0
            XCTAssertLessThanOrEqual(difference, tolerance, "batch \(batch) against 21")
        }
        try ArithmeticVariant.with(.referenceGemm) {
            let reference = try curve(batch: 21).scores
            for batch in [1, 3, 8] { XCTAssertEqual(try curve(batch: batch).scores, reference, "plain loops, batch \(batch) against 21") }
        }
        let road = { (batch: Int) in
            try ROAD.curve(classifier: classifier, input: input, heatmap: heatmap, target: target, order: .mostRelevantFirst,
                           percentages: [10, 50, 90], batchSize: batch)
        }
        let roadDifference = zip(try road(1).scores, try road(3).scores).map { abs(Double($0) - Double($1)) }.max() ?? 0
        XCTAssertLessThanOrEqual(roadDifference, tolerance)
        // ROAD's imputations are solved side by side on the threads: the same pictures, and so
        // the same scores, on 1, 2 or 3 threads; each order alone as in the combined call.
        let combined = { try ROAD.combined(classifier: classifier, input: input, heatmap: heatmap, target: target, percentages: [10, 50, 90]) }
        Gemm.setThreads(1)
        let oneThread = try combined()
        for count in [2, 3] {
            Gemm.setThreads(count)
            let other = try combined()
            XCTAssertEqual(other.mostRelevantFirst.scores, oneThread.mostRelevantFirst.scores, "\(count) threads")
            XCTAssertEqual(other.leastRelevantFirst.scores, oneThread.leastRelevantFirst.scores, "\(count) threads")
        }
        // One order alone scores x and its 3 pictures in one batch, the combined call x and 6:
        // the same pictures, within the tolerance of another batch.
        Gemm.setThreads(1)
        let alone = try road(Faithfulness.defaultBatchSize)
        XCTAssertEqual(alone.imputedImages, oneThread.mostRelevantFirst.imputedImages)
        let aloneDifference = zip(alone.scores, oneThread.mostRelevantFirst.scores).map { abs(Double($0) - Double($1)) }.max() ?? 0
        XCTAssertLessThanOrEqual(aloneDifference, tolerance)
        // Several maps in one call: each map's imputed pictures are the ones of its own call, and
        // its scores the same within the tolerance of another batch.
        let reversed = heatmap.map { 1 - $0 }
        let together = try ROAD.combined(classifier: classifier, input: input, heatmaps: [heatmap, reversed], target: target,
                                         percentages: [10, 50, 90])
        let reversedAlone = try ROAD.combined(classifier: classifier, input: input, heatmap: reversed, target: target,
                                              percentages: [10, 50, 90])
        XCTAssertEqual(together.count, 2)
        for (joint, single) in zip(together, [oneThread, reversedAlone]) {
            for (jointCurve, singleCurve) in [(joint.mostRelevantFirst, single.mostRelevantFirst),
                                              (joint.leastRelevantFirst, single.leastRelevantFirst)] {
                XCTAssertEqual(jointCurve.imputedImages, singleCurve.imputedImages)
                XCTAssertEqual(jointCurve.removedCounts, singleCurve.removedCounts)
                XCTAssertEqual(Double(jointCurve.fullScore), Double(singleCurve.fullScore), accuracy: tolerance)
                let difference = zip(jointCurve.scores, singleCurve.scores).map { abs(Double($0) - Double($1)) }.max() ?? 0
                XCTAssertLessThanOrEqual(difference, tolerance)
            }
        }
    }

    /// A score's tolerance measured on the score's own pass (`withForwardTolerance`) is the one a
    /// second pass measures (`forwardTolerance(input:)`), and the logits come back with it.
    func testAScoreAndItsToleranceComeFromOnePass() throws {
        let (classifier, input, _) = try shippedModel()
        let logits = classifier.inferenceLogits(input.reshaped([1] + input.shape))
        let route = classifier.forwardTolerance(input: input)
        let scored = Faithfulness.scoreWithTolerance(classifier: classifier, image: input, target: .logit(2))
        XCTAssertEqual(scored.logits.data, logits.data)
        XCTAssertEqual(scored.score, logits.data[2])
        XCTAssertEqual(scored.tolerance.value, (route + route).value)
        XCTAssertGreaterThan(route.value, 0)
    }

    /// Several curves at once are the curves one at a time (within the tolerance of another
    /// batch, and bit for bit with MiniNet's plain-loop products, which do not depend on the
    /// batch), and the ends they share come from one picture: every deletion curve starts, and
    /// every insertion curve ends, at the same s(x).
    func testCurvesTogetherAreTheCurvesAlone() throws {
        let (classifier, input, heatmap) = try shippedModel()
        let target = ExplanationTarget.probability(0)
        let random = ControlMaps.random(height: heatmap.shape[0], width: heatmap.shape[1], seed: 7)
        let requests: [Faithfulness.CurveRequest] = [.init(.deletion, heatmap: heatmap), .init(.insertion, heatmap: heatmap),
                                                     .init(.deletion, heatmap: random), .init(.insertion, heatmap: random, fill: .constant(-1))]
        func alone(_ request: Faithfulness.CurveRequest) throws -> PerturbationCurve {
            try Faithfulness.curve(request.kind, classifier: classifier, input: input, heatmap: request.heatmap, target: target,
                                   steps: 12, fill: request.fill, batchSize: 5)
        }
        let together = try Faithfulness.curves(requests, classifier: classifier, input: input, target: target, steps: 12, batchSize: 5)
        XCTAssertEqual(together.count, requests.count)
        for (request, curve) in zip(requests, together) {
            let single = try alone(request)
            XCTAssertEqual(curve.kind, request.kind)
            XCTAssertEqual(curve.pixelCounts, single.pixelCounts)
            XCTAssertEqual(curve.fullScore, single.fullScore)
            XCTAssertEqual(curve.fillScore, single.fillScore)
            XCTAssertTrue(curve.allChecksPass, "\(curve.checks)")
            let tolerance = try XCTUnwrap(single.checks.first?.tolerance)
            let difference = zip(curve.scores, single.scores).map { abs(Double($0) - Double($1)) }.max() ?? 0
            XCTAssertLessThanOrEqual(difference, tolerance, "\(request.kind)")
        }
        XCTAssertEqual(together[0].scores.first, together[2].scores.first)
        XCTAssertEqual(together[0].scores.first, together[1].scores.last)
        XCTAssertEqual(together[0].scores.first, together[3].scores.last)
        try ArithmeticVariant.with(.referenceGemm) {
            let plain = try Faithfulness.curves(requests, classifier: classifier, input: input, target: target, steps: 12, batchSize: 5)
            for (request, curve) in zip(requests, plain) { XCTAssertEqual(curve.scores, try alone(request).scores, "\(request.kind)") }
        }
        XCTAssertTrue(try Faithfulness.curves([], classifier: classifier, input: input, target: target, steps: 12).isEmpty)
    }

    // MARK: arguments

    func testBadArgumentsAreReported() throws {
        let classifier = try sumModel()
        func rejects(_ body: () throws -> Void, mentioning word: String, file: StaticString = #filePath, line: UInt = #line) {
            XCTAssertThrowsError(try body(), file: file, line: line) { error in
                XCTAssertTrue("\(error)".contains(word), "\(error)", file: file, line: line)
            }
        }
        rejects({ _ = try Faithfulness.deletionCurve(classifier: classifier, input: self.picture, heatmap: Tensor(zeros: [3, 3]), target: .logit(0)) },
                mentioning: "heatmap")
        rejects({ _ = try Faithfulness.deletionCurve(classifier: classifier, input: self.picture, heatmap: self.map, target: .logit(0), steps: 0) },
                mentioning: "steps")
        rejects({ _ = try Faithfulness.deletionCurve(classifier: classifier, input: self.picture, heatmap: self.map, target: .logit(5)) },
                mentioning: "class 5")
        rejects({ _ = try Faithfulness.deletionCurve(classifier: classifier, input: self.picture, heatmap: self.map, target: .logit(0),
                                                     fill: .image(Tensor(zeros: [1, 3, 3]))) }, mentioning: "fill image")
        rejects({ _ = try ROAD.curve(classifier: classifier, input: self.picture, heatmap: self.map, target: .logit(0),
                                     order: .mostRelevantFirst, percentages: [100]) }, mentioning: "percent")
        rejects({ _ = try Faithfulness.confidenceChanges(classifier: classifier, inputs: [self.picture], heatmaps: [], targets: []) },
                mentioning: "as many")
    }
}

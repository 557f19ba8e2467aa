import XCTest
import MiniNet

/// The localisation metrics and control maps on examples small enough to work out by hand, and
/// the random-map identities with their error model.
final class LocalisationTests: XCTestCase {
    /// A mask from rows of 0/1 coverage.
    private func mask(_ rows: [[Float]]) -> ObjectMask {
        ObjectMask(coverage: Tensor(shape: [rows.count, rows[0].count], data: rows.flatMap { $0 }))
    }

    private func map(_ rows: [[Float]]) -> Tensor {
        Tensor(shape: [rows.count, rows[0].count], data: rows.flatMap { $0 })
    }

    func testACoverageOfAtLeastHalfMakesAPixelPartOfTheObject() {
        let object = mask([[0, 0.49, 0.5], [0.51, 1, 0.01]])
        XCTAssertEqual(object.inside, [false, false, true, true, true, false])
        XCTAssertEqual(object.count, 3)
        XCTAssertEqual(object.areaFraction, 0.5)
    }

    func testThePointingGameTakesTheFirstMaximumInRowMajorOrder() {
        let object = mask([[0, 0, 0], [0, 0, 1], [0, 0, 0]])
        let hit = Localisation.pointingGame(map([[1, 2, 3], [4, 5, 9], [0, 0, 0]]), mask: object)
        XCTAssertEqual([hit.row, hit.column], [1, 2])
        XCTAssertTrue(hit.hit)
        // Two equal maxima: (0, 0) comes first and is outside, though (1, 2) is inside.
        let tie = Localisation.pointingGame(map([[9, 2, 3], [4, 5, 9], [0, 0, 0]]), mask: object)
        XCTAssertEqual([tie.row, tie.column], [0, 0])
        XCTAssertFalse(tie.hit)
        // Negative maps: the largest value is the one nearest zero.
        XCTAssertTrue(Localisation.pointingGame(map([[-3, -2, -3], [-4, -5, -1], [-6, -6, -6]]), mask: object).hit)
    }

    func testThePointingGameToleranceIsTorchRaysStrictDisc() {
        // One object pixel at (0, 0); the maximum at (0, 3), 3 pixels away, or at (3, 4), 5 away.
        var coverage = [[Float]](repeating: [Float](repeating: 0, count: 6), count: 6)
        coverage[0][0] = 1
        let object = mask(coverage)
        var values = [[Float]](repeating: [Float](repeating: 0, count: 6), count: 6)
        values[0][3] = 1
        let three = map(values)
        XCTAssertFalse(Localisation.pointingGame(three, mask: object, tolerance: 0).hit)
        XCTAssertFalse(Localisation.pointingGame(three, mask: object, tolerance: 1).hit)
        XCTAssertFalse(Localisation.pointingGame(three, mask: object, tolerance: 3).hit, "distance 3 is not < 3")
        XCTAssertTrue(Localisation.pointingGame(three, mask: object, tolerance: 4).hit)
        values[0][3] = 0
        values[3][4] = 1
        XCTAssertFalse(Localisation.pointingGame(map(values), mask: object, tolerance: 5).hit, "distance 5 = √(3² + 4²)")
        XCTAssertTrue(Localisation.pointingGame(map(values), mask: object, tolerance: 6).hit)
        // The dilated mask holds exactly the pixels from which a maximum would hit.
        let grown = object.dilated(by: 4)
        for y in 0..<6 { for x in 0..<6 { XCTAssertEqual(grown.contains(row: y, column: x), object.isWithin(4, ofRow: y, column: x)) } }
        // (y, x) with y² + x² < 16 and x, y ≥ 0: 4 + 4 + 4 + 3 pixels in rows 0 … 3.
        XCTAssertEqual(grown.count, 15)
    }

    /// The row-by-row dilation holds exactly the pixels `isWithin` accepts, on scattered masks.
    func testTheDilatedMaskIsEveryPixelWithinTheTolerance() {
        for seed in 0..<3 {
            let random = ControlMaps.random(height: 20, width: 17, seed: UInt64(seed))
            let object = ObjectMask(height: 20, width: 17, inside: random.data.map { $0 > 0.93 })
            for tolerance in 0...7 {
                let grown = object.dilated(by: tolerance)
                for y in 0..<20 {
                    for x in 0..<17 where grown.contains(row: y, column: x) != object.isWithin(tolerance, ofRow: y, column: x) {
                        XCTFail("seed \(seed), tolerance \(tolerance): pixel (\(y), \(x))")
                    }
                }
            }
        }
    }

    func testRelevanceMassCountsOnlyPositiveRelevance() throws {
        let object = mask([[1, 1], [0, 0]])
        // R⁺ = [1, 0, 3, 0]: 1 of 4 inside.
        XCTAssertEqual(try XCTUnwrap(Localisation.relevanceMass(map([[1, -2], [3, 0]]), mask: object)), 0.25)
        XCTAssertNil(Localisation.relevanceMass(map([[-1, -2], [0, 0]]), mask: object), "no positive relevance")
        XCTAssertNil(Localisation.relevanceMass(map([[1, 2], [3, 4]]), mask: mask([[0, 0], [0, 0]])), "no object")
    }

    func testRelevanceRankAccuracyTakesTheMaskSizeMostRelevantPixels() throws {
        let object = mask([[0, 0], [1, 1]])
        XCTAssertEqual(try XCTUnwrap(Localisation.relevanceRank(map([[4, 3], [2, 1]]), mask: object)), 0)
        XCTAssertEqual(try XCTUnwrap(Localisation.relevanceRank(map([[4, 1], [2, 3]]), mask: object)), 0.5)
        XCTAssertEqual(try XCTUnwrap(Localisation.relevanceRank(map([[0, 1], [3, 2]]), mask: object)), 1)
        // All equal: the first K pixels by index, (0, 0) and (0, 1), are taken.
        XCTAssertEqual(try XCTUnwrap(Localisation.relevanceRank(map([[7, 7], [7, 7]]), mask: object)), 0)
        XCTAssertNil(Localisation.relevanceRank(map([[1, 2], [3, 4]]), mask: mask([[0, 0], [0, 0]])))
    }

    func testPixelsAreRankedByValueWithNegativeLastAndTiesByIndex() {
        XCTAssertEqual(Localisation.pixelsByRelevance(map([[-5, 2, 0], [2, 9, -1]])), [4, 1, 3, 2, 5, 0])
    }

    // MARK: random maps

    /// Masks of the shapes data set, the pictures `tutor evaluate` scores.
    private func shapeMasks(_ count: Int) -> [ObjectMask] {
        let data = ShapesDataset(count: count, seed: 777)
        return (0..<count).map { ObjectMask(coverage: data.sample(at: $0).mask) }
    }

    /// Scores of one seeded random map per mask.
    private func randomMapScores(_ metric: LocalisationMetric, _ masks: [ObjectMask], seed: UInt64) -> [Double] {
        masks.enumerated().map { index, mask in
            let random = ControlMaps.random(height: mask.height, width: mask.width, seed: seed, stream: UInt64(index))
            return metric.value(in: Localisation.scores(random, mask: mask))!
        }
    }

    func testARandomMapScoresTheMasksAreaFraction() {
        let masks = shapeMasks(90)
        for metric in LocalisationMetric.allCases {
            let check = metric.randomMapCheck(scores: randomMapScores(metric, masks, seed: 3), masks: masks)
            XCTAssertTrue(check.ok, "\(check.name): \(check.left) vs \(check.right), tolerance \(check.tolerance)")
            XCTAssertGreaterThan(check.tolerance, 0)
        }
    }

    /// The check must catch a metric computed on another set than the one its expectation uses:
    /// Quantus's rule (coverage > 0) instead of MiniNet's (≥ ½) adds the partly covered edge.
    func testTheRandomMapCheckCatchesAMaskMadeByAnotherRule() {
        let data = ShapesDataset(count: 90, seed: 777)
        let masks = (0..<90).map { ObjectMask(coverage: data.sample(at: $0).mask) }
        let anyCoverage = (0..<90).map { index -> ObjectMask in
            let coverage = data.sample(at: index).mask
            return ObjectMask(height: coverage.shape[0], width: coverage.shape[1], inside: coverage.data.map { $0 > 0 })
        }
        let scores = randomMapScores(.relevanceMass, anyCoverage, seed: 3)
        XCTAssertFalse(LocalisationMetric.relevanceMass.randomMapCheck(scores: scores, masks: masks).ok)
    }

    /// The error model itself: over many random maps on one mask, the mean and the standard
    /// deviation of each score come out as `randomMapExpectation` says.
    func testTheRandomMapErrorModelPredictsTheSpread() {
        let mask = shapeMasks(1)[0]
        let maps = 400
        for metric in LocalisationMetric.allCases {
            let scores = (0..<maps).map { seed -> Double in
                let random = ControlMaps.random(height: mask.height, width: mask.width, seed: UInt64(seed) + 1000)
                return metric.value(in: Localisation.scores(random, mask: mask))!
            }
            let mean = scores.reduce(0, +) / Double(maps)
            let deviation = (scores.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(maps - 1)).squareRoot()
            let expected = metric.randomMapExpectation(mask: mask)
            XCTAssertEqual(mean, expected.mean, accuracy: 4 * expected.standardDeviation / Double(maps).squareRoot(), "\(metric) mean")
            // The sample deviation of 400 values is within 20 % of σ (its own spread is about 3.5 %).
            XCTAssertEqual(deviation / expected.standardDeviation, 1, accuracy: 0.2, "\(metric) spread")
        }
    }

    // MARK: control maps

    func testRandomControlMapsAreSeededPerPicture() {
        let first = ControlMaps.random(height: 8, width: 5, seed: 3, stream: 5)
        XCTAssertEqual(first.shape, [8, 5])
        XCTAssertEqual(first, ControlMaps.random(height: 8, width: 5, seed: 3, stream: 5))
        XCTAssertNotEqual(first, ControlMaps.random(height: 8, width: 5, seed: 3, stream: 6))
        XCTAssertNotEqual(first, ControlMaps.random(height: 8, width: 5, seed: 4, stream: 5))
        XCTAssertTrue(first.data.allSatisfy { $0 >= 0 && $0 < 1 })
    }

    func testSobelFindsAStepEdgeAndRepeatsTheBorder() {
        // Columns 0, 0, 1, 1: G_x = (1 + 2 + 1) − 0 = 4 on the two columns beside the step; at the
        // border the repeated pixel equals its neighbour, so G_x = 0 there; G_y = 0 everywhere.
        let step = Tensor(shape: [4, 4], data: (0..<16).map { $0 % 4 < 2 ? 0 : 1 })
        XCTAssertEqual(ControlMaps.sobelMagnitude(step).data, (0..<4).flatMap { _ in [Float](arrayLiteral: 0, 4, 4, 0) })
        // The same step turned by a quarter turn gives the same map turned.
        let turned = Tensor(shape: [4, 4], data: (0..<16).map { $0 / 4 < 2 ? 0 : 1 })
        XCTAssertEqual(ControlMaps.sobelMagnitude(turned).data, [0, 0, 0, 0, 4, 4, 4, 4, 4, 4, 4, 4, 0, 0, 0, 0])
        // A diagonal edge: both derivatives, E = √(G_x² + G_y²).
        let corner = Tensor(shape: [3, 3], data: [0, 0, 0, 0, 0, 0, 0, 0, 1])
        XCTAssertEqual(ControlMaps.sobelMagnitude(corner)[1, 1], Float(2).squareRoot())
    }

    func testLuminanceUsesTheRec709Weights() {
        // Two pixels: pure red, pure green.
        let picture = Tensor(shape: [3, 1, 2], data: [1, 0, 0, 1, 0, 0])
        XCTAssertEqual(ControlMaps.luminance(picture).data, [0.2125, 0.7154])
        XCTAssertEqual(ControlMaps.luminance(picture.reshaped([1, 3, 1, 2])), ControlMaps.luminance(picture))
        XCTAssertEqual(ControlMaps.sobelEdges(picture).shape, [1, 2])
    }
}

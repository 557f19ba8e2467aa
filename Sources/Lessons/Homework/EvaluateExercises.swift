import Foundation
import MiniNet

// Homework of the lesson "evaluate": how good is an explanation. Notation of the lesson:
//   deletion / insertion curve s_0 … s_S at the fractions f_k = k/S of the pixels,
//   AUC = Σ_k (f_{k+1} − f_k)(s_k + s_{k+1})/2                       (trapezoid rule)
//   pointing game: hit = [argmax R ∈ M]
//   relevance mass = Σ_{p∈M} R⁺(p) / Σ_p R⁺(p),   R⁺ = max(R, 0)
//   rank accuracy = |top_K(R) ∩ M| / K,   K = |M|                     (ranked by value)
//   a random map scores |M|/N on average
//   Spearman's ρ = 1 − 6 Σ d_i² / (n(n² − 1)),   d_i the difference of the ranks of pixel i
// The fourth exercise gives each student their own planted mark (`PlantedShortcut.forStudent`).

enum EvaluateExercises {
    // MARK: - Arithmetic of the lesson

    /// The trapezoid rule over equal steps from 0 to 1: Σ_k (s_k + s_{k+1}) / (2S).
    static func trapezoidArea(_ scores: [Double]) -> Double {
        let steps = Double(scores.count - 1)
        return zip(scores, scores.dropFirst()).reduce(0) { $0 + ($1.0 + $1.1) / 2 } / steps
    }

    /// Σ_{p∈M} R⁺ / Σ R⁺ over the cells of a map and a 0/1 mask.
    static func relevanceMass(_ map: [Double], _ mask: [Double]) -> Double {
        let positive = map.map(HomeworkMath.relu)
        return HomeworkMath.dot(positive, mask) / positive.reduce(0, +)
    }

    /// |top_K ∩ M| / K, K = |M|, the cells ranked by `key` (largest first, ties by index).
    static func rankAccuracy(_ map: [Double], _ mask: [Double], key: (Double) -> Double = { $0 }, size: Int? = nil,
                             dividedBy divisor: Double? = nil) -> Double {
        let k = size ?? Int(mask.reduce(0, +))
        let order = map.indices.sorted { key(map[$0]) > key(map[$1]) || (key(map[$0]) == key(map[$1]) && $0 < $1) }
        let hits = order.prefix(k).filter { mask[$0] > 0 }.count
        return Double(hits) / (divisor ?? Double(k))
    }

    /// The ranks 1 … n of distinct values, 1 for the smallest.
    static func ranks(_ values: [Double]) -> [Double] {
        let sorted = values.sorted()
        return values.map { value in Double((sorted.firstIndex(of: value) ?? 0) + 1) }
    }

    /// Spearman's ρ of two lists of distinct values: 1 − 6 Σ d² / (n(n² − 1)).
    static func spearman(_ a: [Double], _ b: [Double]) -> Double {
        let n = Double(a.count)
        let squares = zip(ranks(a), ranks(b)).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
        return 1 - 6 * squares / (n * (n * n - 1))
    }

    /// Pearson's correlation of the values themselves.
    static func pearson(_ a: [Double], _ b: [Double]) -> Double {
        let (meanA, meanB) = (a.reduce(0, +) / Double(a.count), b.reduce(0, +) / Double(b.count))
        let covariance = zip(a, b).reduce(0) { $0 + ($1.0 - meanA) * ($1.1 - meanB) }
        let spreadA = a.reduce(0) { $0 + ($1 - meanA) * ($1 - meanA) }, spreadB = b.reduce(0) { $0 + ($1 - meanB) * ($1 - meanB) }
        return covariance / (spreadA * spreadB).squareRoot()
    }

    /// `count` values in twentieths (0.05 steps) strictly between `low` and `high` twentieths,
    /// sorted from high to low.
    static func falling(_ draw: inout StudentDraw, count: Int, from high: Int, to low: Int) -> [Double] {
        var picked = Set<Int>()
        while picked.count < count { picked.insert(draw.int((low + 1)...(high - 1))) }
        return picked.sorted(by: >).map { Double($0) / 20 }
    }

    // MARK: - evaluate-1

    /// evaluate-1: the area under deletion and insertion curves by the trapezoid rule, the end
    /// every deletion curve shares, and which map the deletion area prefers.
    static func deletionArea(_ draw: inout StudentDraw) -> ExerciseContent {
        let steps = 4
        let fractions = (0...steps).map { Double($0) / Double(steps) }
        var full = 0, fill = 0, blur = 0
        var deletionA: [Double] = [], deletionB: [Double] = [], insertionA: [Double] = []
        repeat {
            full = draw.int(16...19)
            fill = draw.int(1...4)
            blur = draw.int(5...8)
            deletionA = [Double(full) / 20] + falling(&draw, count: steps - 1, from: full, to: fill) + [Double(fill) / 20]
            deletionB = [Double(full) / 20] + falling(&draw, count: steps - 1, from: full, to: fill) + [Double(fill) / 20]
            insertionA = [Double(blur) / 20] + falling(&draw, count: steps - 1, from: full, to: blur).reversed() + [Double(full) / 20]
        } while abs(trapezoidArea(deletionA) - trapezoidArea(deletionB)) < 0.05
        let areaA = trapezoidArea(deletionA), areaB = trapezoidArea(deletionB)
        let better = areaA < areaB ? "map A" : "map B", worse = areaA < areaB ? "map B" : "map A"
        // Wrong procedures: one end of each interval (left or right Riemann sums), the mean of
        // the points, or the trapezoids without their width 1/S.
        func left(_ s: [Double]) -> Double { s.dropLast().reduce(0, +) / Double(steps) }
        func right(_ s: [Double]) -> Double { s.dropFirst().reduce(0, +) / Double(steps) }
        func mean(_ s: [Double]) -> Double { s.reduce(0, +) / Double(s.count) }
        func unscaled(_ s: [Double]) -> Double { trapezoidArea(s) * Double(steps) }
        func mistakes(_ s: [Double]) -> [KnownMistake] {
            [KnownMistake(.aucLeftSum, .number(left(s))), KnownMistake(.aucRightSum, .number(right(s))),
             KnownMistake(.aucMeanOfPoints, .number(mean(s))), KnownMistake(.aucWidthForgotten, .number(unscaled(s)))]
        }
        let firstTrapezoid = "(\(formatNumber(deletionA[0])) + \(formatNumber(deletionA[1]))) / 2 · \(formatNumber(fractions[1]))"

        return ExerciseContent(
            introduction: """
                Two heatmaps, A and B, explain the same picture. Deleting their pixels in their order, \
                \(steps) steps of a quarter of the pixels each, gave the deletion curves below: s_k is the \
                probability of the class after the fraction f_k of the pixels was deleted. The insertion \
                curve of map A starts from a blurred picture and puts its pixels back in the same order.
                """,
            given: [.vector("f_k", fractions), .vector("deletion, map A: s_0 … s_4", deletionA),
                    .vector("deletion, map B: s_0 … s_4", deletionB), .vector("insertion, map A: s_0 … s_4", insertionA)],
            questions: [
                Question(id: "q1", prompt: "What is the area under the deletion curve of map A, by the trapezoid rule?",
                         expected: .number(areaA),
                         hints: Hints(.evaluateDeletion, nudge: "each interval between two points is a trapezoid: its width times the mean of its two heights",
                                      formula: "AUC = Σ_k (f_{k+1} − f_k) · (s_k + s_{k+1}) / 2",
                                      firstStep: "the first trapezoid is \(firstTrapezoid); add the \(steps) of them"),
                         mistakes: mistakes(deletionA)),
                Question(id: "q2", prompt: "What is the area under the insertion curve of map A, by the trapezoid rule?",
                         expected: .number(trapezoidArea(insertionA)),
                         hints: Hints(.evaluateDeletion, nudge: "the same rule as for deletion; for insertion a larger area is better",
                                      formula: "AUC = (Σ_k s_k − s_0/2 − s_S/2) / S with equal steps",
                                      firstStep: "Σ_k s_k = \(WorkedText.sum(insertionA)); take away half of the two ends and divide by \(steps)"),
                         mistakes: mistakes(insertionA)),
                .choice(id: "q3", prompt: "Both deletion curves end at the same score. Why?",
                        correct: "with every pixel deleted only the fill is left, whatever the order: the curve ends at the fill's score",
                        wrong: [.init("with every pixel deleted nothing is left, so the score is 0", .deletionEndsAtZero),
                                .init("the last step deletes the most relevant pixel, which both maps agree on", .deletionEndDependsOnMap),
                                .init("the curve returns to the score of the whole picture", .deletionEndsAtFullScore)],
                        hints: Hints(.evaluateDeletion, nudge: "what is the picture after the last step, when the fraction 1 of the pixels is gone?",
                                     formula: "s_S = P_c(x̃), x̃ the fill; s_0 = P_c(x)",
                                     firstStep: "at f = 1 every pixel of the picture has been replaced: by what?"),
                        draw: &draw),
                .choice(id: "q4", prompt: "By the deletion curves, which map is more faithful to the network?",
                        correct: better,
                        wrong: [.init(worse, .deletionLargerAreaBetter),
                                .init("neither: curves with the same two ends are equally faithful", .deletionSameEndsSameFaithfulness)],
                        hints: Hints(.evaluateDeletion, nudge: "a faithful map makes the score fall fast when its first pixels are deleted",
                                     formula: "deletion: the smaller the area, the faster the fall",
                                     firstStep: "compute the area of map B as in q1 and compare it with map A's"),
                        draw: &draw),
            ])
    }

    // MARK: - evaluate-2

    /// evaluate-2: pointing game, relevance mass and rank accuracy of a small map on a mask, and
    /// what a random map scores.
    static func localisationScores(_ draw: inout StudentDraw) -> ExerciseContent {
        let side = 4
        var map: [Double] = [], mask: [Double] = []
        repeat {
            // Sixteen different values; in half the maps the most negative one is larger in size
            // than the maximum, so that the largest |R| and the largest R are different cells.
            let strongNegative = draw.int(0...1) == 1 ? -draw.int(11...14) : -5
            map = draw.shuffled(Array(-4...10) + [strongNegative]).map(Double.init)
            mask = [Double](repeating: 0, count: side * side)
            let (top, left) = (draw.int(0...2), draw.int(0...2))
            let width = left <= 1 && draw.int(0...1) == 1 ? 3 : 2
            for row in top..<(top + 2) { for column in left..<(left + width) { mask[row * side + column] = 1 } }
        } while !mask.indices.contains(where: { mask[$0] > 0 && map[$0] < 0 }) && draw.int(0...1) == 0
        let rows = (0..<side).map { Array(map[($0 * side)..<(($0 + 1) * side)]) }
        let maskRows = (0..<side).map { Array(mask[($0 * side)..<(($0 + 1) * side)]) }
        let size = Int(mask.reduce(0, +))
        let peak = map.indices.max { map[$0] < map[$1] } ?? 0
        let largest = map.indices.max { abs(map[$0]) < abs(map[$1]) } ?? 0
        let positive = map.map(HomeworkMath.relu)
        let mass = relevanceMass(map, mask)
        // Wrong procedures: the peak of |R|; negative relevance kept, or |R| in the total, or the
        // inside over the outside; ranking by |R|, K = the positive cells, or dividing by N.
        let inside = HomeworkMath.dot(positive, mask)
        let positiveCount = positive.filter { $0 > 0 }.count

        return ExerciseContent(
            introduction: """
                A heatmap R of 4×4 cells explains a picture whose object covers the cells marked 1 in the \
                mask M. Rows and columns are numbered from 0; write maps row by row.
                """,
            given: [.matrix("R", rows), .matrix("M", maskRows)],
            questions: [
                Question(id: "q1", prompt: "Does the map win the pointing game on this mask? Answer 1 for a hit, 0 for a miss.",
                         expected: .integer(mask[peak] > 0 ? 1 : 0),
                         hints: Hints(.evaluateLocalisation, nudge: "find the map's largest value, then look at the mask in that cell",
                                      formula: "hit = [argmax R ∈ M]",
                                      firstStep: "the largest value of R is \(formatNumber(map[peak])): in which cell is it, and what does M hold there?"),
                         mistakes: [KnownMistake(.pointingLargestMagnitude, .integer(mask[largest] > 0 ? 1 : 0))]),
                Question(id: "q2", prompt: "What is the relevance mass of R in M?",
                         expected: .number(mass),
                         hints: Hints(.evaluateLocalisation, nudge: "the share of the positive relevance that falls in the mask",
                                      formula: "mass = Σ_{p∈M} R⁺(p) / Σ_p R⁺(p), R⁺ = max(R, 0)",
                                      firstStep: "Σ_p R⁺(p) = \(WorkedText.sum(positive.filter { $0 > 0 })); now add R⁺ over the \(size) cells of M"),
                         mistakes: [KnownMistake(.massWithNegatives, .number(HomeworkMath.dot(map, mask) / map.reduce(0, +))),
                                    KnownMistake(.massOverAbsolute, .number(inside / map.map { abs($0) }.reduce(0, +))),
                                    KnownMistake(.massInsideOverOutside, .number(inside / (positive.reduce(0, +) - inside)))]),
                Question(id: "q3", prompt: "What is the rank accuracy of R in M?",
                         expected: .number(rankAccuracy(map, mask)),
                         hints: Hints(.evaluateLocalisation, nudge: "take as many of the map's largest cells as the mask has cells",
                                      formula: "rank = |top_K(R) ∩ M| / K, K = |M|, cells ranked by their value",
                                      firstStep: "K = \(size): list the \(size) largest values of R and count how many of them lie in M"),
                         mistakes: [KnownMistake(.rankByMagnitude, .number(rankAccuracy(map, mask, key: abs))),
                                    KnownMistake(.rankPositiveCells, .number(rankAccuracy(map, mask, size: positiveCount, dividedBy: Double(positiveCount)))),
                                    KnownMistake(.rankOverAllCells, .number(rankAccuracy(map, mask, dividedBy: Double(side * side))))]),
                Question(id: "q4", prompt: "What relevance mass does a map of independent random values score on this mask, on average?",
                         expected: .number(Double(size) / Double(side * side)),
                         hints: Hints(.evaluateLocalisation, nudge: "a random map treats every cell alike: each cell holds the same share of its mass on average",
                                      formula: "E[mass] = |M| / N",
                                      firstStep: "|M| = \(size) of N = \(side * side) cells"),
                         mistakes: [KnownMistake(.randomMassHalf, .number(0.5)),
                                    KnownMistake(.randomMassOfThisMap, .number(mass)),
                                    KnownMistake(.randomMassOneOverM, .number(1 / Double(size)))]),
            ])
    }

    // MARK: - evaluate-3

    /// evaluate-3: reading the randomisation tests: Spearman's ρ by hand, a cascade table, and
    /// the data randomisation test.
    static func randomisationReading(_ draw: inout StudentDraw) -> ExerciseContent {
        var original: [Double] = [], randomised: [Double] = []
        repeat {
            original = Array(draw.shuffled(Array(0...9)).prefix(5)).map(Double.init)
            randomised = Array(draw.shuffled(Array(0...9)).prefix(5)).map(Double.init)
        } while abs(spearman(original, randomised)) > 0.95 || abs(pearson(original, randomised) - spearman(original, randomised)) < 0.05
        let rho = spearman(original, randomised)
        let squares = zip(ranks(original), ranks(randomised)).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
        let valueSquares = zip(original, randomised).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
        // Method P or Q fails: its ρ stays high down the cascade; the other's falls.
        let failing = draw.int(0...1)
        let stays = (0..<4).map { _ in Double(draw.int(85...97)) / 100 }.sorted(by: >)
        let falls = [Double(draw.int(45...65)), Double(draw.int(20...40)), Double(draw.int(5...18)), Double(draw.int(-5...4))].map { $0 / 100 }
        let (cascadeP, cascadeQ) = failing == 0 ? (stays, falls) : (falls, stays)
        let names = ["method P", "method Q"]
        let dataHigh = Double(draw.int(82...95)) / 100, dataLow = Double(draw.int(5...30)) / 100
        let dataRho = failing == 0 ? [dataHigh, dataLow] : [dataLow, dataHigh]

        return ExerciseContent(
            introduction: """
                Two explanation methods, P and Q, went through the sanity checks. Cascading randomisation \
                re-initialised a network's layers from the top, step by step (1: the head, then three blocks \
                down to the first layer), and compared each map with the trained network's map by Spearman's \
                rank correlation ρ. The data randomisation test compared the maps of the trained network with \
                those of the same network trained on shuffled labels. Five pixels of one map before and after \
                the first step are given too (no two values alike).
                """,
            given: [.vector("five pixels, trained network", original), .vector("the same pixels, head random", randomised),
                    .vector("cascade, method P: ρ after steps 1 … 4", cascadeP), .vector("cascade, method Q: ρ after steps 1 … 4", cascadeQ),
                    .vector("data randomisation: ρ of P, ρ of Q", dataRho)],
            questions: [
                Question(id: "q1", prompt: "What is Spearman's rank correlation ρ between the five pixels before and after the step?",
                         expected: .number(rho),
                         hints: Hints(.evaluateSanity, nudge: "Spearman's ρ compares the ranks of the values, not the values themselves",
                                      formula: "ρ = 1 − 6 Σ_i d_i² / (n(n² − 1)), d_i the difference of the two ranks of pixel i",
                                      firstStep: "the ranks before are \(WorkedText.list(ranks(original))), after \(WorkedText.list(ranks(randomised))) (1 for the smallest); n = 5"),
                         mistakes: [KnownMistake(.pearsonInsteadOfSpearman, .number(pearson(original, randomised))),
                                    KnownMistake(.spearmanWithoutSix, .number(1 - squares / 120)),
                                    KnownMistake(.spearmanOfValues, .number(1 - 6 * valueSquares / 120))]),
                .choice(id: "q2", prompt: "Which method fails cascading randomisation?",
                        correct: names[failing],
                        wrong: [.init(names[1 - failing], .cascadeFallingFails),
                                .init("neither: a positive ρ at every step is what a good method shows", .cascadePositiveIsEnough)],
                        hints: Hints(.evaluateSanity, nudge: "a map that explains the network must change when the network's weights become random",
                                     formula: "passing: ρ falls towards 0 as more layers are random; failing: ρ stays near 1",
                                     firstStep: "read each method's ρ from step 1 to step 4: which one barely moves?"),
                        draw: &draw),
                .choice(id: "q3", prompt: "In the data randomisation test, \(names[failing]) has ρ = \(formatNumber(dataRho[failing])). What does that say?",
                        correct: "its maps hardly depend on what the network learned: they are nearly the same for a network that learned noise",
                        wrong: [.init("its maps are faithful: they agree across the two networks", .dataTestAgreementIsGood),
                                .init("the network trained on shuffled labels learned the task after all", .dataTestNetworkLearned),
                                .init("nothing: two networks with different weights always give different maps", .dataTestMeaningless)],
                        hints: Hints(.evaluateSanity, nudge: "the shuffled labels say nothing about the pictures, so that network learned nothing about them",
                                     formula: "a method that explains what was learned gives that network maps unlike the trained network's: ρ near 0",
                                     firstStep: "if the maps of the two networks agree, what can they depend on, since the learning differs?"),
                        draw: &draw),
            ])
    }

    // MARK: - evaluate-4

    /// evaluate-4: each student's own planted mark (`PlantedShortcut.forStudent`): find its cell
    /// from the relevance the network gives each cell with and without the mark, and its class
    /// from the predictions.
    static func findTheMark(_ draw: inout StudentDraw) -> ExerciseContent {
        let mark = PlantedShortcut.forStudent(seed: draw.next())
        let cell = mark.gridCell()
        let grid = PlantedShortcut.gridCells
        let names = ShapesDataset.classNames
        // Shares of the relevance per cell in hundredths: the shapes sit in the middle, so most of
        // it falls in the four centre cells; the mark takes `share` of it to its own cell.
        var plain: [[Int]] = [], marked: [[Int]] = []
        func isCentre(_ row: Int, _ column: Int) -> Bool { (1...(grid - 2)).contains(row) && (1...(grid - 2)).contains(column) }
        repeat {
            plain = (0..<grid).map { row in (0..<grid).map { isCentre(row, $0) ? draw.int(17...24) : draw.int(0...3) } }
            plain[2][2] += 100 - plain.joined().reduce(0, +)
            let share = draw.int(8...13)
            marked = plain.map { $0.map { Int((Double($0) * Double(100 - share) / 100).rounded()) } }
            marked[cell.row][cell.column] += share
            marked[1][1] += 100 - marked.joined().reduce(0, +)
            // One point moves between two other cells, as it would between two test runs.
            let (from, to) = (draw.int(0...(grid * grid - 1)), draw.int(0...(grid * grid - 1)))
            if from != to, ![from, to].contains(cell.row * grid + cell.column), marked[from / grid][from % grid] > 0 {
                marked[from / grid][from % grid] -= 1
                marked[to / grid][to % grid] += 1
            }
        } while !(15...26).contains(plain[2][2]) || marked.joined().max()! <= marked[cell.row][cell.column] + 1
        let plainShares = plain.map { $0.map { Double($0) / 100 } }, markedShares = marked.map { $0.map { Double($0) / 100 } }
        let gain = markedShares[cell.row][cell.column] - plainShares[cell.row][cell.column]
        let markedFlat = HomeworkMath.flatten(markedShares)
        let brightest = markedFlat.indices.max { markedFlat[$0] < markedFlat[$1] } ?? 0
        let (brightRow, brightColumn) = (brightest / grid, brightest % grid)
        // Predictions of 10 test pictures per class (rows: true class, columns: predicted), without
        // and with the mark: with it, pictures of the other classes move to the mark's class.
        var plainPredictions = [[Double]](repeating: [Double](repeating: 0, count: names.count), count: names.count)
        var markedPredictions = plainPredictions
        var lost = [Int](repeating: 0, count: names.count)
        for label in names.indices {
            let correct = draw.int(8...10)
            plainPredictions[label][label] = Double(correct)
            for _ in 0..<(10 - correct) { plainPredictions[label][draw.pick(names.indices.filter { $0 != label })] += 1 }
            markedPredictions[label] = plainPredictions[label]
            if label == mark.label {
                markedPredictions[label] = names.indices.map { $0 == label ? 10 : 0 }
                continue
            }
            var toMove = draw.int(5...9)
            for source in [label] + names.indices.filter({ $0 != label && $0 != mark.label }) {
                let take = min(Int(markedPredictions[label][source]), toMove)
                markedPredictions[label][source] -= Double(take)
                markedPredictions[label][mark.label] += Double(take)
                lost[label] += take
                toMove -= take
            }
        }
        let others = names.indices.filter { $0 != mark.label }
        let victim = others.max { lost[$0] < lost[$1] || (lost[$0] == lost[$1] && $0 > $1) } ?? others[0]
        let bystander = others.first { $0 != victim } ?? others[0]

        return ExerciseContent(
            introduction: """
                Your own small CNN was trained on shapes pictures in which a small mark sits in one cell \
                of a 4×4 grid on most training pictures of one class. Grad-CAM was run on test pictures of \
                all classes, first as they are and then with your mark painted on; the first two tables give \
                the share of Grad-CAM's relevance that fell in each cell, on average (rows and columns \
                numbered from 0, row 0 at the top). The last two tables count the predictions of 10 test pictures of each \
                class (rows: the true class, columns: the predicted class, in the order \
                \(names.joined(separator: ", "))), without and with the mark.
                """,
            given: [.matrix("share of the relevance per cell, plain pictures", plainShares),
                    .matrix("share of the relevance per cell, marked pictures", markedShares),
                    .matrix("predictions, plain pictures", plainPredictions), .matrix("predictions, marked pictures", markedPredictions)],
            questions: [
                Question(id: "q1", prompt: "In which row of the grid is your mark?",
                         expected: .integer(cell.row),
                         hints: Hints(.evaluateShortcut, nudge: "the shape is in the middle of every picture; look for the cell that gains relevance when the mark is painted on",
                                      formula: "the mark's cell is where (marked − plain) is largest",
                                      firstStep: "subtract the plain table from the marked one, cell by cell, and find the one positive difference that stands out"),
                         mistakes: [KnownMistake(.markBrightestMarkedCell, .integer(brightRow)),
                                    KnownMistake(.markRowColumnSwapped, .integer(cell.column)),
                                    KnownMistake(.markCountedFromOne, .integer(cell.row + 1))]),
                Question(id: "q2", prompt: "In which column of the grid is your mark?",
                         expected: .integer(cell.column),
                         hints: Hints(.evaluateShortcut, nudge: "the same cell as in q1: the one that gains relevance when the mark is painted on",
                                      formula: "the mark's cell is where (marked − plain) is largest",
                                      firstStep: "columns are numbered from 0 at the left, as rows are from 0 at the top"),
                         mistakes: [KnownMistake(.markBrightestMarkedCell, .integer(brightColumn)),
                                    KnownMistake(.markRowColumnSwapped, .integer(cell.row)),
                                    KnownMistake(.markCountedFromOne, .integer(cell.column + 1))]),
                Question(id: "q3", prompt: "How much share of the relevance does the mark's cell gain when the mark is painted on?",
                         expected: .number(gain), tolerance: 0.005,
                         hints: Hints(.evaluateShortcut, nudge: "the same pictures with and without the mark: the difference is the mark's alone",
                                      formula: "gain = marked − plain, in the mark's cell",
                                      firstStep: "take the mark's cell from q1 and q2 in both tables"),
                         mistakes: [KnownMistake(.markGainIsShare, .number(markedShares[cell.row][cell.column])),
                                    KnownMistake(.markGainOfBrightestCell, .number(markedShares[brightRow][brightColumn] - plainShares[brightRow][brightColumn]))]),
                .choice(id: "q4", prompt: "Which class does your mark go with?",
                        correct: names[mark.label],
                        wrong: [.init(names[victim], .markClassThatLoses), .init(names[bystander], .markClassOtherLoser)],
                        hints: Hints(.evaluateShortcut, nudge: "with the mark painted on, pictures of the other classes are called the mark's class",
                                     formula: "the mark's class is the column of the prediction table that gains pictures when the mark is painted on",
                                     firstStep: "compare each column of the two prediction tables: which one grows?"),
                        draw: &draw),
            ])
    }
}

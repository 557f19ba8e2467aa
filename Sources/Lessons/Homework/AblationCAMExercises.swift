// Ablation-CAM homework (Desai & Ramaswamy 2020). Notation of the article:
//   y^c_k = the class score when activation map A^k is set to zero
//   w^c_k = (y^c − y^c_k) / y^c              the ablation weight: relative drop of the score
//   L^c = ReLU(Σ_k w^c_k A^k)
// With a GAP → linear head, y^c − y^c_k = w_k · mean(A^k) (w_k: the head's weight, not w^c_k).

enum AblationCAMExercises {
    /// ablationcam-1: weights from the scores of the ablated network.
    static func weightsFromScores(_ draw: inout StudentDraw) -> ExerciseContent {
        // A score of 4, 5, 8 or 10 keeps every weight a short decimal.
        let wholeScore = draw.pick([4, 5, 8, 10])
        let score = Double(wholeScore)
        // Two channels whose removal lowers the score (but not below 0), one whose removal raises it.
        let firstDrop = draw.int(1...(wholeScore - 1))
        var secondDrop = draw.int(1...(wholeScore - 1))
        while secondDrop == firstDrop { secondDrop = draw.int(1...(wholeScore - 1)) }
        let drops = draw.shuffled([Double(firstDrop), Double(secondDrop), -Double(draw.int(1...3))])
        let ablatedScores = drops.map { score - $0 }
        let weights = ablatedScores.map { (score - $0) / score }
        let cell = draw.values(3, in: 0...4)
        let mostImportant = (HomeworkMath.uniqueArgmax(weights) ?? 0) + 1
        let raisesScore = (weights.firstIndex { $0 < 0 } ?? 0) + 1
        // Wrong procedures: the drop not divided, taken from the wrong side, or divided by the
        // ablated score; importance read off the ablated scores or the size of the change; the
        // map without its ReLU or with any of the wrong weights.
        let scoreDrops = ablatedScores.map { score - $0 }
        let wrongSide = ablatedScores.map { ($0 - score) / score }
        let largestChange = HomeworkMath.uniqueArgmax(weights.map(abs))
        let dropsWritten = ablatedScores.enumerated().map { "y^c − y^c_\($0.offset + 1) = \(formatNumber(score)) − \(WorkedText.term($0.element))" }

        return ExerciseContent(
            introduction: """
                A layer has three activation maps A¹, A², A³. The class score is y^c with all maps \
                in place; y^c_k is the score after setting map k to zero and running the network again.
                """,
            given: [.number("y^c", score), .vector("[y^c_1, y^c_2, y^c_3]", ablatedScores),
                    .vector("[A¹(p), A²(p), A³(p)] at one cell p", cell)],
            questions: [
                Question(id: "q1", prompt: "What are the ablation weights [w^c_1, w^c_2, w^c_3]?",
                         expected: .vector(weights),
                         hints: Hints(.ablationWeights, nudge: "w^c_k is how much the score drops when map k is switched off, as a fraction of the unablated score",
                                      formula: "w^c_k = (y^c − y^c_k) / y^c",
                                      firstStep: "w^c_1 = (\(formatNumber(score)) − \(WorkedText.term(ablatedScores[0]))) / \(formatNumber(score)), and w^c_2, w^c_3 likewise"),
                         mistakes: [KnownMistake(.dropNotDivided, .vector(scoreDrops)),
                                    KnownMistake(.dropFromWrongSide, .vector(wrongSide)),
                                    KnownMistake(.dividedByAblatedScore, .vector(zip(scoreDrops, ablatedScores).map { $0 / $1 }))]),
                Question(id: "q2", prompt: "Which channel (1, 2 or 3) matters most for class c?",
                         expected: .integer(mostImportant),
                         hints: Hints(.ablationWeights, nudge: "the most important channel is the one whose removal costs the most",
                                      formula: "the most important channel has the largest w^c_k = (y^c − y^c_k) / y^c",
                                      firstStep: dropsWritten.joined(separator: ", ") + ": which is largest?"),
                         mistakes: [KnownMistake(.importanceFromAblatedScore, .integer((HomeworkMath.uniqueArgmax(ablatedScores) ?? 0) + 1))]
                            + (largestChange.map { [KnownMistake(.importanceFromLargestChange, .integer($0 + 1))] } ?? [])),
                Question(id: "q3", prompt: "Removing which channel (1, 2 or 3) RAISES the class score?",
                         expected: .integer(raisesScore),
                         hints: Hints(.ablationScores, nudge: "compare each y^c_k with y^c",
                                      formula: "removing channel k raises the score when y^c_k > y^c, that is when w^c_k < 0",
                                      firstStep: "y^c = \(formatNumber(score)); put each of \(WorkedText.list(ablatedScores)) beside it"),
                         mistakes: [KnownMistake(.raisesPickedLargestDrop, .integer(mostImportant))]),
                Question(id: "q4", prompt: "What is the Ablation-CAM value L^c(p)?",
                         expected: .number(HomeworkMath.relu(HomeworkMath.dot(weights, cell))),
                         hints: Hints(.ablationMap, nudge: "L^c = ReLU(Σ_k w^c_k A^k), at one cell",
                                      formula: "L^c(p) = ReLU(w^c_1 A¹(p) + w^c_2 A²(p) + w^c_3 A³(p))",
                                      firstStep: "L^c(p) = ReLU(w^c_1 · \(WorkedText.term(cell[0])) + w^c_2 · \(WorkedText.term(cell[1])) + w^c_3 · \(WorkedText.term(cell[2]))) with your weights from q1"),
                         mistakes: [KnownMistake(.reluForgotten, .number(HomeworkMath.dot(weights, cell))),
                                    KnownMistake(.dropNotDivided, .number(HomeworkMath.relu(HomeworkMath.dot(scoreDrops, cell)))),
                                    KnownMistake(.dropFromWrongSide, .number(HomeworkMath.relu(HomeworkMath.dot(wrongSide, cell))))]),
            ])
    }

    /// ablationcam-2: on a GAP → linear head, ablating a channel removes exactly its term.
    static func linearHead(_ draw: inout StudentDraw) -> ExerciseContent {
        var headWeights: [Double], means: [Int], maps: [[[Double]]], bias: Double, score: Double
        repeat {
            headWeights = [Double(draw.nonZeroInt(-2...3)), Double(draw.nonZeroInt(-2...3))]
            // Activations come after a ReLU: non-negative, so the spread never exceeds the mean.
            means = [draw.int(1...3), draw.int(1...3)]
            maps = means.map { draw.mapWithMean($0, spread: $0) }
            bias = Double(draw.int(0...3))
            score = HomeworkMath.dot(headWeights, means.map(Double.init)) + bias
        } while score <= 0
        let channel = draw.int(1...2)
        let ablatedScore = score - headWeights[channel - 1] * Double(means[channel - 1])
        // Wrong procedures: pooling by the sum or the maximum; the score without its bias;
        // ablating the other channel or the bias as well; the weight's usual three slips.
        let other = 3 - channel
        let sums = maps.map(HomeworkMath.sum)
        let drop = score - ablatedScore

        return ExerciseContent(
            introduction: """
                The network ends with global average pooling (the mean over the 9 cells) and a \
                linear layer: y^c = w₁ · mean(A¹) + w₂ · mean(A²) + b.
                """,
            given: [.matrix("A¹", maps[0]), .matrix("A²", maps[1]),
                    .vector("[w₁, w₂]", headWeights), .number("b", bias)],
            questions: [
                Question(id: "q1", prompt: "What are [mean(A¹), mean(A²)]?",
                         expected: .vector(means.map(Double.init)),
                         hints: Hints(.ablationLinearHead, nudge: "global average pooling turns each map into the mean of its 9 cells",
                                      formula: "mean(A^k) = (1/9) Σ_{i,j} A^k_{ij}",
                                      firstStep: "mean(A¹) = (1/9) · (\(WorkedText.sum(HomeworkMath.flatten(maps[0])))), and mean(A²) likewise"),
                         mistakes: [KnownMistake(.sumInsteadOfMean, .vector(sums)),
                                    KnownMistake(.maxInsteadOfMean, .vector(maps.map(HomeworkMath.largest)))]),
                Question(id: "q2", prompt: "What is the class score y^c?", expected: .number(score),
                         hints: Hints(.ablationLinearHead, nudge: "the head weighs each pooled map and adds the bias",
                                      formula: "y^c = w₁ · mean(A¹) + w₂ · mean(A²) + b",
                                      firstStep: "y^c = \(WorkedText.term(headWeights[0])) · mean(A¹) + \(WorkedText.term(headWeights[1])) · mean(A²) + \(WorkedText.term(bias)) with your means from q1"),
                         mistakes: [KnownMistake(.biasForgotten, .number(score - bias)),
                                    KnownMistake(.sumInsteadOfMean, .number(HomeworkMath.dot(headWeights, sums) + bias))]),
                Question(id: "q3", prompt: "What is y^c_\(channel), the score after setting A^\(channel) to zero?",
                         expected: .number(ablatedScore),
                         hints: Hints(.ablationLinearHead, nudge: "a map of zeros has mean 0, so only its own term disappears",
                                      formula: "y^c_k = y^c − w_k · mean(A^k)",
                                      firstStep: "y^c_\(channel) = y^c − \(WorkedText.term(headWeights[channel - 1])) · mean(A^\(channel)) with your y^c from q2 and mean(A^\(channel)) from q1"),
                         mistakes: [KnownMistake(.ablatedOtherChannel, .number(score - headWeights[other - 1] * Double(means[other - 1]))),
                                    KnownMistake(.ablationRemovedBias, .number(ablatedScore - bias))]),
                Question(id: "q4", prompt: "What is the ablation weight w^c_\(channel)? (2 decimals)",
                         expected: .number(drop / score),
                         hints: Hints(.ablationWeights, nudge: "the weight is the drop of the score as a fraction of the unablated score",
                                      formula: "w^c_k = (y^c − y^c_k) / y^c",
                                      firstStep: "the drop y^c − y^c_\(channel) is the one term that disappeared, \(WorkedText.term(headWeights[channel - 1])) · mean(A^\(channel)); divide it by your y^c from q2"),
                         mistakes: [KnownMistake(.dropFromWrongSide, .number(-drop / score)),
                                    KnownMistake(.dividedByAblatedScore, .number(drop / ablatedScore)),
                                    KnownMistake(.dropNotDivided, .number(drop))]),
            ])
    }

    /// ablationcam-3: the map from given weights, and what the method costs.
    static func mapAndCost(_ draw: inout StudentDraw) -> ExerciseContent {
        let weights = [Double(draw.nonZeroInt(-5...8)) / 10, Double(draw.nonZeroInt(-5...8)) / 10]
        let maps = [draw.matrix(3, 3, in: 0...3), draw.matrix(3, 3, in: 0...3)]
        let channels = draw.pick([64, 128, 256, 512])
        let map = HomeworkMath.relu(HomeworkMath.weightedSum(maps, weights))
        // Wrong procedures: the map without its ReLU, with a ReLU on each term, without the
        // weights; the passes without the unablated one, or CAM's single pass.
        let corner = maps.map { $0[0][0] }

        return ExerciseContent(
            introduction: """
                Ablation-CAM has measured the weights w^c_k of two 3×3 activation maps. \
                Write maps row by row: 9 numbers, top row first.
                """,
            given: [.matrix("A¹", maps[0]), .matrix("A²", maps[1]), .vector("[w^c_1, w^c_2]", weights)],
            questions: [
                Question(id: "q1", prompt: "What is the Ablation-CAM map L^c (9 numbers, row by row)?",
                         expected: .vector(HomeworkMath.flatten(map)), points: 2,
                         hints: Hints(.ablationMap, nudge: "weight each map by its w^c_k, add them cell by cell, then apply the ReLU",
                                      formula: "L^c = ReLU(Σ_k w^c_k A^k)",
                                      firstStep: "the top-left cell is ReLU(\(WorkedText.products(weights, corner))); the other 8 cells likewise"),
                         mistakes: [
                            KnownMistake(.reluForgotten, .vector(HomeworkMath.flatten(HomeworkMath.weightedSum(maps, weights)))),
                            KnownMistake(.reluBeforeSum, .vector(HomeworkMath.flatten(HomeworkMath.sumOfReLUs(maps, weights)))),
                            KnownMistake(.camWeightsForgotten, .vector(HomeworkMath.flatten(HomeworkMath.relu(HomeworkMath.weightedSum(maps, [1, 1]))))),
                         ]),
                Question(id: "q2", prompt: "A real layer has K = \(channels) channels. How many forward passes does one Ablation-CAM map of one class need, the unablated one included?",
                         expected: .integer(channels + 1),
                         hints: Hints(.ablationScores, nudge: "every channel is switched off once, and y^c itself needs a pass too",
                                      formula: "one pass per switched-off channel, plus one with nothing switched off",
                                      firstStep: "switching off channels 1, 2, …, \(channels) one at a time takes one pass each; then count the pass that gives y^c"),
                         mistakes: [KnownMistake(.passesWithoutUnablated, .integer(channels)),
                                    KnownMistake(.passesLikeCAM, .integer(1))]),
                .choice(id: "q3", prompt: "What does Ablation-CAM NOT need, unlike Grad-CAM?",
                        correct: "gradients (a backward pass)",
                        wrong: [.init("the activation maps A^k", .ablationWithoutActivations),
                                .init("the class score y^c", .ablationWithoutScore),
                                .init("a forward pass", .ablationWithoutForward)],
                        hints: Hints(.ablationScores, nudge: "list what each method computes to get its weights",
                                     formula: "Grad-CAM: α^c_k = (1/Z) Σ_{i,j} ∂y^c/∂A^k_{ij}; Ablation-CAM: w^c_k = (y^c − y^c_k) / y^c",
                                     firstStep: "Grad-CAM runs the network forward and then backward to get ∂y^c/∂A^k; Ablation-CAM runs it forward once per channel and once more: which option does only Grad-CAM use?"),
                        draw: &draw),
            ])
    }
}

import Foundation

// Homework of the lesson "morecams": the rest of the CAM family. Notation of the lesson:
//   g = ∂y^c/∂A^k_ij                                  the gradient at one cell
//   Grad-CAM++:  a_ij = g² / (2g² + Σ_ab A_ab g³) = 1 / (2 + g Σ_ab A_ab)    (Y = exp(y^c))
//                w^c_k = Σ_ij a_ij · ReLU(g_ij)
//   Grad-CAM:    L = ReLU(Σ_k α_k A^k),   α_k = mean_ij g^k_ij
//   HiResCAM:    L = ReLU(Σ_k g^k ⊙ A^k);   element-wise Grad-CAM: ReLU(Σ_k ReLU(g^k ⊙ A^k))
//   LayerCAM:    L = ReLU(Σ_k ReLU(g^k) ⊙ A^k)
//   Score-CAM:   w_k = softmax_k(s_k), s_k the class score of the input masked by map k
// With a GAP → linear head, g^k_ij = w^c_k / Z in every cell, and HiResCAM = Grad-CAM.

enum MoreCAMsExercises {
    /// Grad-CAM++'s coefficient a = g² / (2g² + ΣA · g³) for one cell.
    static func coefficient(gradient g: Double, activationSum: Double) -> Double {
        g * g / (2 * g * g + activationSum * g * g * g)
    }

    /// "(0, 1), (1, 0)": the cells of a 2×2 map, row by row, where `include` holds.
    static func cells(_ map: [[Double]], where include: (Double) -> Bool) -> [(row: Int, column: Int)] {
        map.indices.flatMap { row in map[row].indices.filter { include(map[row][$0]) }.map { (row, $0) } }
    }

    /// Σ_k f(G^k_ij · A^k_ij) cell by cell, for maps [K][rows][columns]: HiResCAM's sum with
    /// f the identity, element-wise Grad-CAM's with f = ReLU.
    static func productSum(_ gradients: [[[Double]]], _ activations: [[[Double]]], _ f: (Double) -> Double) -> [[Double]] {
        activations[0].indices.map { i in
            activations[0][i].indices.map { j in
                var total = 0.0
                for k in activations.indices { total += f(gradients[k][i][j] * activations[k][i][j]) }
                return total
            }
        }
    }

    /// morecams-1: Grad-CAM++'s coefficients and weight from the powers of the gradient.
    static func plusPlusWeights(_ draw: inout StudentDraw) -> ExerciseContent {
        let levels: [Double] = [-1, -0.5, -0.25, 0.25, 0.5, 1]
        var activations: [[Double]], gradients: [[Double]], total: Double
        repeat {
            activations = draw.matrix(2, 2, in: 0...3)
            gradients = (0..<2).map { _ in (0..<2).map { _ in draw.pick(levels) } }
            total = HomeworkMath.sum(activations)
            // Two cells for the class, one against it; no denominator 2 + gΣA near 0.
        } while cells(gradients, where: { $0 > 0 }).count < 2 || cells(gradients, where: { $0 < 0 }).isEmpty || total < 2
            || HomeworkMath.flatten(gradients).contains { abs(2 + $0 * total) < 0.5 }
        let positive = cells(gradients, where: { $0 > 0 })
        let asked = draw.pick(positive)
        let g = gradients[asked.row][asked.column]
        let flat = HomeworkMath.flatten(gradients)
        let weight = flat.filter { $0 > 0 }.reduce(0) { $0 + coefficient(gradient: $1, activationSum: total) * $1 }
        // Wrong procedures: the mean of A for its sum, the factor 2 forgotten, g² for g³; the weight
        // with the negative cells (no ReLU), without the coefficients, or as Grad-CAM's mean.
        let cellsAdded = WorkedText.sum(HomeworkMath.flatten(activations))
        let positiveCells = positive.map { "(\($0.row), \($0.column))" }.joined(separator: ", ")

        return ExerciseContent(
            introduction: """
                Grad-CAM++ weighs one channel k of a layer. Its activation map A^k has 2×2 cells, and \
                backpropagation gave the gradient of the class score at each cell, G = ∂y^c/∂A^k. \
                Rows and columns are numbered from 0.
                """,
            given: [.matrix("A^k", activations), .matrix("G = ∂y^c/∂A^k", gradients)],
            questions: [
                Question(id: "q1", prompt: "What is Grad-CAM++'s coefficient a at row \(asked.row), column \(asked.column)?",
                         expected: .number(coefficient(gradient: g, activationSum: total)),
                         hints: Hints(.morecamsPlusPlus, nudge: "the second and third derivatives of Y = exp(y^c) are e^y·g² and e^y·g³, and e^y cancels",
                                      formula: "a = g² / (2g² + Σ_{a,b} A_ab · g³), with g the gradient at that cell",
                                      firstStep: "here g = \(WorkedText.term(g)) and Σ_{a,b} A_ab = \(cellsAdded); put both into g² / (2g² + ΣA · g³)"),
                         mistakes: [KnownMistake(.plusPlusMeanForSum, .number(coefficient(gradient: g, activationSum: total / 4))),
                                    KnownMistake(.plusPlusFactorTwoForgotten, .number(g * g / (g * g + total * g * g * g))),
                                    KnownMistake(.plusPlusSquareForCube, .number(g * g / (2 * g * g + total * g * g)))]),
                Question(id: "q2", prompt: "What is the Grad-CAM++ weight w^c_k = Σ_ij a_ij · ReLU(G_ij) of this channel?",
                         expected: .number(weight),
                         hints: Hints(.morecamsPlusPlus, nudge: "each cell adds its own coefficient times the positive part of its gradient",
                                      formula: "w^c_k = Σ_{i,j} a_ij · ReLU(G_ij), with a_ij = g² / (2g² + ΣA · g³) for g = G_ij",
                                      firstStep: "only the cells with G_ij > 0 count, here \(positiveCells): find a for each as in q1 and add up a · G over them"),
                         mistakes: [KnownMistake(.reluForgotten, .number(flat.reduce(0) { $0 + coefficient(gradient: $1, activationSum: total) * $1 })),
                                    KnownMistake(.plusPlusWithoutCoefficients, .number(flat.map(HomeworkMath.relu).reduce(0, +))),
                                    KnownMistake(.plusPlusIsGradCAM, .number(HomeworkMath.mean(gradients)))]),
                .choice(id: "q3", prompt: "Grad-CAM++'s coefficient needs the second and third derivatives of the explained output. Where do they come from?",
                        correct: "from Y^c = exp(y^c): the logit is piecewise linear, so the n-th derivative is e^y · gⁿ",
                        wrong: [.init("from finite differences of the score at every cell", .plusPlusFiniteDifferences),
                                .init("from the second derivative of the logit itself, which a ReLU network makes equal to g²", .plusPlusLogitCurvature),
                                .init("they are approximations whose factor e^y is dropped, which changes the map", .plusPlusExponentialChangesMap)],
                        hints: Hints(.morecamsPlusPlus, nudge: "what does a ReLU network's logit look like between its kinks, and what does the exponential add?",
                                     formula: "∂²Y/∂A² = e^S (g² + S″), ∂³Y/∂A³ = e^S (g³ + 3gS″ + S‴), with S = y^c",
                                     firstStep: "in a ReLU network S″ = S‴ = 0 between the kinks: which terms of those two derivatives are left?"),
                        draw: &draw),
            ])
    }

    /// morecams-2: HiResCAM against Grad-CAM at an earlier layer, and at the layer that feeds
    /// global average pooling, where they are equal.
    static func hiResAgainstGradCAM(_ draw: inout StudentDraw) -> ExerciseContent {
        var activations: [[[Double]]], gradients: [[[Double]]], alphas: [Double]
        var gradCAMSum: [[Double]], hiResSum: [[Double]], elementWise: [[Double]]
        repeat {
            activations = [draw.matrix(3, 3, in: 0...3), draw.matrix(3, 3, in: 0...3)]
            // One channel for the class, one against it on average, the gradient varying by cell.
            let means = draw.shuffled([draw.int(1...2), -draw.int(1...2)])
            gradients = means.map { draw.mapWithMean($0, spread: 2) }
            alphas = gradients.map(HomeworkMath.mean)
            gradCAMSum = HomeworkMath.weightedSum(activations, alphas)
            hiResSum = productSum(gradients, activations) { $0 }
            elementWise = productSum(gradients, activations, HomeworkMath.relu)
        } while !HomeworkMath.flatten(hiResSum).contains { $0 < 0 } || !HomeworkMath.flatten(gradCAMSum).contains { $0 < 0 }
            || HomeworkMath.relu(hiResSum) == HomeworkMath.relu(gradCAMSum) || elementWise == HomeworkMath.relu(hiResSum)
        // The head: weights that are multiples of 0.9, so that w/9 has one decimal.
        let head = (0..<2).map { _ in 0.9 * Double(draw.nonZeroInt(-3...3)) }
        let row = draw.int(0...2), column = draw.int(0...2)
        let cell = activations.map { $0[row][column] }
        let atHead = HomeworkMath.relu(HomeworkMath.dot(head.map { $0 / 9 }, cell))
        // Wrong procedures: Grad-CAM with summed gradients, without its ReLU, or cell by cell
        // (HiResCAM); HiResCAM with averaged gradients, without its ReLU, or with the ReLU on each
        // product; at the head without 1/Z, with the earlier gradients, or without the ReLU.
        let summedGradients = gradients.map(HomeworkMath.sum)
        let oldGradient = cell.indices.map { gradients[$0][row][column] }

        return ExerciseContent(
            introduction: """
                A layer has two 3×3 activation maps A¹, A², and backpropagation gave the gradient of \
                the class score with respect to each, G^k = ∂y^c/∂A^k. Here the gradient changes from \
                cell to cell, as it does at a layer with convolutions after it. Write maps row by row: \
                9 numbers, top row first; rows and columns are numbered from 0.
                """,
            given: [.matrix("A¹", activations[0]), .matrix("A²", activations[1]),
                    .matrix("G¹ = ∂y^c/∂A¹", gradients[0]), .matrix("G² = ∂y^c/∂A²", gradients[1]),
                    .vector("w^c", head)],
            questions: [
                Question(id: "q1", prompt: "What is the Grad-CAM map ReLU(Σ_k α_k A^k) (9 numbers)?",
                         expected: .vector(HomeworkMath.flatten(HomeworkMath.relu(gradCAMSum))), points: 2,
                         hints: Hints(.morecamsEarlier, nudge: "Grad-CAM first averages each gradient map into one weight α_k",
                                      formula: "α_k = (1/9) Σ_{i,j} G^k_ij, then L = ReLU(α₁ A¹ + α₂ A²)",
                                      firstStep: "α₁ = (1/9) · (\(WorkedText.sum(HomeworkMath.flatten(gradients[0])))), α₂ likewise; then the top-left cell is ReLU(α₁ · \(WorkedText.term(activations[0][0][0])) + α₂ · \(WorkedText.term(activations[1][0][0])))"),
                         mistakes: [KnownMistake(.gradientSumInsteadOfMean, .vector(HomeworkMath.flatten(HomeworkMath.relu(HomeworkMath.weightedSum(activations, summedGradients))))),
                                    KnownMistake(.reluForgotten, .vector(HomeworkMath.flatten(gradCAMSum))),
                                    KnownMistake(.hiResInsteadOfGradCAM, .vector(HomeworkMath.flatten(HomeworkMath.relu(hiResSum))))]),
                Question(id: "q2", prompt: "What is the HiResCAM map ReLU(Σ_k G^k ⊙ A^k) (9 numbers)?",
                         expected: .vector(HomeworkMath.flatten(HomeworkMath.relu(hiResSum))), points: 2,
                         hints: Hints(.morecamsEarlier, nudge: "HiResCAM keeps the gradient of every cell: multiply it with that cell's activation",
                                      formula: "L_ij = ReLU(G¹_ij · A¹_ij + G²_ij · A²_ij)",
                                      firstStep: "the top-left cell is ReLU(\(WorkedText.term(gradients[0][0][0])) · \(WorkedText.term(activations[0][0][0])) + \(WorkedText.term(gradients[1][0][0])) · \(WorkedText.term(activations[1][0][0]))); the other 8 cells likewise"),
                         mistakes: [KnownMistake(.gradCAMInsteadOfHiRes, .vector(HomeworkMath.flatten(HomeworkMath.relu(gradCAMSum)))),
                                    KnownMistake(.reluForgotten, .vector(HomeworkMath.flatten(hiResSum))),
                                    KnownMistake(.elementWiseInsteadOfHiRes, .vector(HomeworkMath.flatten(elementWise)))]),
                Question(id: "q3", prompt: "Suppose instead that A¹, A² feed global average pooling over their 9 cells and then a linear layer with the weights w^c. What is HiResCAM's value at row \(row), column \(column)?",
                         expected: .number(atHead),
                         hints: Hints(.morecamsLast, nudge: "after global average pooling, every cell of map k reaches y^c through the mean of its map",
                                      formula: "∂y^c/∂A^k_ij = w^c_k / 9 in every cell, so L_ij = ReLU(Σ_k (w^c_k / 9) · A^k_ij)",
                                      firstStep: "L(\(row),\(column)) = ReLU((\(formatNumber(head[0])) / 9) · \(WorkedText.term(cell[0])) + (\(formatNumber(head[1])) / 9) · \(WorkedText.term(cell[1])))"),
                         mistakes: [KnownMistake(.gradientWithoutOneOverZ, .number(HomeworkMath.relu(HomeworkMath.dot(head, cell)))),
                                    KnownMistake(.hiResKeptOldGradient, .number(HomeworkMath.relu(HomeworkMath.dot(oldGradient, cell)))),
                                    KnownMistake(.reluForgotten, .number(HomeworkMath.dot(head.map { $0 / 9 }, cell)))]),
                .choice(id: "q4", prompt: "At a layer that feeds global average pooling and a linear layer, how does HiResCAM's map compare with Grad-CAM's?",
                        correct: "they are equal: the gradient is w^c_k / Z in every cell, which is its own mean",
                        wrong: [.init("HiResCAM's map is Z times Grad-CAM's", .hiResTimesZ),
                                .init("they differ wherever the activations differ from cell to cell", .hiResDiffersWhereActivationsVary),
                                .init("HiResCAM keeps the negative cells, Grad-CAM sets them to 0", .hiResKeepsNegative)],
                        hints: Hints(.morecamsLast, nudge: "compare the gradient of one cell with the mean over the cells, at that layer",
                                     formula: "g^k_ij = w^c_k / Z = α_k, so Σ_k g^k_ij A^k_ij = Σ_k α_k A^k_ij",
                                     firstStep: "in q3 the gradient of map k is the same number in all 9 cells: what is its mean over the 9 cells?"),
                        draw: &draw),
            ])
    }

    /// morecams-3: Score-CAM's softmax, LayerCAM and element-wise Grad-CAM at one cell, and the
    /// one method that ignores the class.
    static func scoreLayerAndEigen(_ draw: inout StudentDraw) -> ExerciseContent {
        var scores: [Double], activations: [Double], gradients: [Double]
        repeat {
            scores = draw.values(3, in: 0...3)
            activations = draw.values(3, in: 0...4)
            gradients = draw.values(3, in: -2...2)
            // Mixed signs among the products, and a positive total after LayerCAM's ReLU.
        } while !zip(gradients, activations).contains(where: { $0 > 0 && $1 > 0 })
            || !zip(gradients, activations).contains(where: { $0 < 0 && $1 > 0 })
            || scores.reduce(0, +) == 0 || Set(scores).count == 1
        let largest = scores.max() ?? 0
        let exponentials = scores.map { exp($0 - largest) }
        let softmax = exponentials.map { $0 / exponentials.reduce(0, +) }
        let layerCAM = HomeworkMath.relu(zip(gradients, activations).reduce(0) { $0 + HomeworkMath.relu($1.0) * $1.1 })
        let hiRes = HomeworkMath.relu(HomeworkMath.dot(gradients, activations))
        // Wrong procedures: the scores normalised without the exponential, or used raw; LayerCAM
        // with the negative gradients kept or without the activations; element-wise Grad-CAM
        // with the negative products kept (HiResCAM); the methods that do read the class.
        let positiveGradients = gradients.map(HomeworkMath.relu)
        let exponentialsWritten = scores.map { "e^\(formatNumber($0))" }.joined(separator: " + ")

        return ExerciseContent(
            introduction: """
                A layer has three feature maps. Score-CAM used each map as a mask on the input and \
                got the class scores s_k below. At one cell (i, j) of the maps, the three activations \
                A^k_ij and the gradients g_k = ∂y^c/∂A^k_ij are given too.
                """,
            given: [.vector("[s₁, s₂, s₃]", scores), .vector("[A¹_ij, A²_ij, A³_ij]", activations),
                    .vector("[g₁, g₂, g₃]", gradients)],
            questions: [
                Question(id: "q1", prompt: "What are Score-CAM's channel weights [w₁, w₂, w₃]?",
                         expected: .vector(softmax),
                         hints: Hints(.morecamsFamily, nudge: "Score-CAM turns the three scores into weights that are positive and add up to 1",
                                      formula: "w_k = e^{s_k} / Σ_j e^{s_j} (a softmax)",
                                      firstStep: "the denominator is \(exponentialsWritten); each weight is its own e^{s_k} over it"),
                         mistakes: [KnownMistake(.scoreCAMWithoutExponential, .vector(scores.map { $0 / scores.reduce(0, +) })),
                                    KnownMistake(.scoreCAMRawScores, .vector(scores))]),
                Question(id: "q2", prompt: "What is LayerCAM's value ReLU(Σ_k ReLU(g_k) · A^k_ij) at this cell?",
                         expected: .number(layerCAM),
                         hints: Hints(.morecamsEarlier, nudge: "LayerCAM weighs each activation by the positive part of its gradient",
                                      formula: "L_ij = ReLU(Σ_k ReLU(g_k) · A^k_ij)",
                                      firstStep: "ReLU(g) = \(WorkedText.list(positiveGradients)); then L_ij = ReLU(\(WorkedText.products(positiveGradients, activations)))"),
                         mistakes: [KnownMistake(.layerCAMNegativeGradients, .number(hiRes)),
                                    KnownMistake(.layerCAMWithoutActivations, .number(positiveGradients.reduce(0, +)))]),
                Question(id: "q3", prompt: "What is element-wise Grad-CAM's value ReLU(Σ_k ReLU(g_k · A^k_ij)) at this cell?",
                         expected: .number(HomeworkMath.relu(zip(gradients, activations).reduce(0) { $0 + HomeworkMath.relu($1.0 * $1.1) })),
                         hints: Hints(.morecamsEarlier, nudge: "the ReLU goes on each product g_k · A^k_ij before they are added; compare with q2",
                                      formula: "L_ij = ReLU(Σ_k ReLU(g_k · A^k_ij)); for A ≥ 0, ReLU(g · A) = ReLU(g) · A",
                                      firstStep: "the products are \(WorkedText.list(zip(gradients, activations).map { $0 * $1 })); set the negative ones to 0 and add"),
                         mistakes: [KnownMistake(.elementWiseKeptNegativeProducts, .number(hiRes))]),
                .choice(id: "q4", prompt: "Which of these methods gives the same map for every class?",
                        correct: "Eigen-CAM",
                        wrong: [.init("Score-CAM", .scoreCAMClassBlind),
                                .init("LayerCAM", .layerCAMClassBlind),
                                .init("Grad-CAM++", .plusPlusClassBlind)],
                        hints: Hints(.morecamsScene, nudge: "look for the method whose weights never read the class score or its gradient",
                                     formula: "a class-blind map is a function of the activations A alone, f(A), with no y^c in it",
                                     firstStep: "Score-CAM reads the class score of each masked input, LayerCAM and Grad-CAM++ the gradient of the class score: what does the remaining one read?"),
                        draw: &draw),
            ])
    }
}

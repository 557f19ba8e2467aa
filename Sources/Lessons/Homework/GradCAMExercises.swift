// Grad-CAM homework (Selvaraju et al. 2017). Notation of the article:
//   α^c_k = (1/Z) Σ_{i,j} ∂y^c/∂A^k_{ij}      channel weight: spatial MEAN of the gradient
//   L^c = ReLU(Σ_k α^c_k A^k)                  the map
// With a GAP → linear head, y^c = Σ_k w^c_k · (1/Z) Σ_{ij} A^k_{ij}, so ∂y^c/∂A^k_{ij} = w^c_k / Z.

enum GradCAMExercises {
    /// gradcam-1: α from two gradient maps, then the map and its ReLU.
    static func weightsFromGradients(_ draw: inout StudentDraw) -> ExerciseContent {
        var activations: [[[Double]]], alphas: [Int], gradients: [[[Double]]]
        var map: [[Double]], zeroCells: Int
        repeat {
            activations = [draw.matrix(3, 3, in: 0...3), draw.matrix(3, 3, in: 0...3)]
            // One channel helps the class, one hurts it, so the ReLU has work to do.
            alphas = draw.shuffled([draw.int(1...3), -draw.int(1...2)])
            gradients = alphas.map { draw.mapWithMean($0, spread: 2) }
            let measured = gradients.map(HomeworkMath.mean)
            map = HomeworkMath.relu(HomeworkMath.weightedSum(activations, measured))
            zeroCells = HomeworkMath.flatten(map).filter { $0 == 0 }.count
        } while zeroCells == 0 || zeroCells == 9
        let channelWeights = gradients.map(HomeworkMath.mean)
        // Wrong procedures: α from the sum of the gradient, from the activations or from
        // gradient × activation; the map without its ReLU, with a ReLU on each term, from summed α.
        let summedGradients = gradients.map(HomeworkMath.sum)
        let gradientTimesActivation = zip(gradients, activations).map { gradient, activation in
            HomeworkMath.mean(zip(gradient, activation).map { zip($0, $1).map { $0 * $1 } })
        }
        let beforeReLU = HomeworkMath.weightedSum(activations, channelWeights)
        let corner = activations.map { $0[0][0] }

        return ExerciseContent(
            introduction: """
                Grad-CAM looks at a layer with two 3×3 activation maps A¹, A² and at the gradient \
                of the class score y^c with respect to each of them, G^k = ∂y^c/∂A^k (computed by \
                backpropagation and given here). Write maps row by row: 9 numbers, top row first.
                """,
            given: [.matrix("A¹", activations[0]), .matrix("A²", activations[1]),
                    .matrix("G¹ = ∂y^c/∂A¹", gradients[0]), .matrix("G² = ∂y^c/∂A²", gradients[1])],
            questions: [
                Question(id: "q1", prompt: "What are the channel weights [α¹, α²]?",
                         expected: .vector(channelWeights),
                         hints: Hints(.gradcamWeights, nudge: "α^c_k is one number per channel: the average of that channel's gradient",
                                      formula: "α^c_k = (1/Z) Σ_{i,j} ∂y^c/∂A^k_{ij}, with Z = 9 cells",
                                      firstStep: "α¹ = (1/9) · (\(WorkedText.sum(HomeworkMath.flatten(gradients[0])))), and α² likewise"),
                         mistakes: [KnownMistake(.gradientSumInsteadOfMean, .vector(summedGradients)),
                                    KnownMistake(.weightsFromActivations, .vector(activations.map(HomeworkMath.mean))),
                                    KnownMistake(.weightsFromGradientTimesActivation, .vector(gradientTimesActivation))]),
                Question(id: "q2", prompt: "What is the Grad-CAM map L^c (9 numbers, row by row)?",
                         expected: .vector(HomeworkMath.flatten(map)), points: 2,
                         hints: Hints(.gradcamMap, nudge: "weight each activation map by its α, add them cell by cell, then apply the ReLU",
                                      formula: "L^c = ReLU(Σ_k α^c_k A^k)",
                                      firstStep: "the top-left cell is L^c(0,0) = ReLU(α¹ · \(WorkedText.term(corner[0])) + α² · \(WorkedText.term(corner[1]))) with your α from q1; the other 8 cells likewise"),
                         mistakes: [
                            KnownMistake(.reluForgotten, .vector(HomeworkMath.flatten(beforeReLU))),
                            KnownMistake(.reluBeforeSum, .vector(HomeworkMath.flatten(HomeworkMath.sumOfReLUs(activations, channelWeights)))),
                            KnownMistake(.gradientSumInsteadOfMean,
                                         .vector(HomeworkMath.flatten(HomeworkMath.relu(HomeworkMath.weightedSum(activations, summedGradients))))),
                         ]),
                Question(id: "q3", prompt: "How many of the 9 cells of L^c are exactly 0?",
                         expected: .integer(zeroCells),
                         hints: Hints(.gradcamMap, nudge: "the ReLU turns every negative cell into 0",
                                      formula: "L^c(i,j) = 0 exactly where Σ_k α^c_k A^k(i,j) ≤ 0",
                                      firstStep: "the top-left cell's sum is α¹ · \(WorkedText.term(corner[0])) + α² · \(WorkedText.term(corner[1])): with your α, is it ≤ 0? Then the other 8 cells"),
                         mistakes: [KnownMistake(.countedNonZeroCells, .integer(9 - zeroCells)),
                                    KnownMistake(.countedZerosBeforeReLU, .integer(HomeworkMath.flatten(beforeReLU).filter { $0 == 0 }.count))]),
            ])
    }

    /// gradcam-2: on a GAP → linear head the gradient is constant and Grad-CAM is CAM / Z.
    static func linearHead(_ draw: inout StudentDraw) -> ExerciseContent {
        // Weights are multiples of 0.9 so that α = w / 9 has one decimal.
        let weights = (0..<3).map { _ in 0.9 * Double(draw.nonZeroInt(-3...4)) }
        let activations = (0..<3).map { _ in draw.matrix(3, 3, in: 0...3) }
        let channel = draw.int(1...3)
        let row = draw.int(0...2), column = draw.int(0...2)
        let alphas = weights.map { $0 / 9 }
        let map = HomeworkMath.relu(HomeworkMath.weightedSum(activations, alphas))
        // Wrong procedures: the gradient without the mean's 1/Z, or the channel's contribution
        // instead of its derivative; α as the gradient's sum or the mean of gradient × activation;
        // the map without its ReLU, or with the head's weights (CAM) as α.
        let activationMeans = activations.map(HomeworkMath.mean)
        let cell = activations.map { $0[row][column] }
        return ExerciseContent(
            introduction: """
                The network ends with global average pooling and a linear layer: \
                y^c = Σ_k w^c_k · (1/9) Σ_{i,j} A^k_{ij}, over three 3×3 activation maps. \
                Rows and columns are numbered from 0.
                """,
            given: [.matrix("A¹", activations[0]), .matrix("A²", activations[1]), .matrix("A³", activations[2]),
                    .vector("w^c", weights)],
            questions: [
                Question(id: "q1", prompt: "What is ∂y^c/∂A^\(channel)_{ij} at any cell (i, j)?",
                         expected: .number(weights[channel - 1] / 9),
                         hints: Hints(.gradcamGradient, nudge: "each cell enters y^c once, through the mean of its map",
                                      formula: "∂y^c/∂A^k_{ij} = w^c_k · ∂mean(A^k)/∂A^k_{ij}, and mean(A^k) = (1/Z) Σ_{i,j} A^k_{ij}",
                                      firstStep: "y^c = \(WorkedText.term(weights[channel - 1])) · (1/9) · (A^\(channel)_{00} + A^\(channel)_{01} + … + A^\(channel)_{22}) + (terms without A^\(channel)); differentiate by one cell"),
                         mistakes: [KnownMistake(.gradientWithoutOneOverZ, .number(weights[channel - 1])),
                                    KnownMistake(.contributionInsteadOfDerivative, .number(weights[channel - 1] * activationMeans[channel - 1]))]),
                Question(id: "q2", prompt: "What are the channel weights [α¹, α², α³]?",
                         expected: .vector(alphas),
                         hints: Hints(.gradcamWeights, nudge: "α is the spatial mean of the gradient, and here the gradient is the same in every cell",
                                      formula: "α^c_k = (1/Z) Σ_{i,j} ∂y^c/∂A^k_{ij}",
                                      firstStep: "the gradient of channel k is w^c_k / 9 in each of its 9 cells (as in q1), with w^c = \(WorkedText.list(weights)); average those 9 equal values"),
                         mistakes: [KnownMistake(.gradientSumInsteadOfMean, .vector(weights)),
                                    KnownMistake(.weightsFromGradientTimesActivation, .vector(zip(alphas, activationMeans).map { $0 * $1 }))]),
                Question(id: "q3", prompt: "What is L^c at row \(row), column \(column)?",
                         expected: .number(map[row][column]),
                         hints: Hints(.gradcamMap, nudge: "L^c = ReLU(Σ_k α^c_k A^k), at that one cell",
                                      formula: "L^c(i,j) = ReLU(α¹ A¹_{ij} + α² A²_{ij} + α³ A³_{ij})",
                                      firstStep: "L^c(\(row),\(column)) = ReLU(α¹ · \(WorkedText.term(cell[0])) + α² · \(WorkedText.term(cell[1])) + α³ · \(WorkedText.term(cell[2]))) with your α from q2"),
                         mistakes: [KnownMistake(.reluForgotten, .number(HomeworkMath.dot(alphas, cell))),
                                    KnownMistake(.headWeightsAsAlpha, .number(HomeworkMath.relu(HomeworkMath.dot(weights, cell))))]),
                .choice(id: "q4", prompt: "On this network, how is Grad-CAM's L^c related to the CAM map M_c = Σ_k w^c_k A^k?",
                        correct: "L^c = ReLU(M_c) / 9",
                        wrong: [.init("L^c = M_c exactly, negative cells included", .versusWithoutReLU),
                                .init("L^c = 9 · ReLU(M_c)", .versusTimesNine),
                                .init("they are unrelated: Grad-CAM uses gradients, CAM uses weights", .versusUnrelated)],
                        hints: Hints(.gradcamVersusCAM, nudge: "substitute α^c_k = w^c_k / Z into the Grad-CAM formula",
                                     formula: "L^c = ReLU(Σ_k α^c_k A^k) with α^c_k = w^c_k / 9",
                                     firstStep: "L^c = ReLU(Σ_k (w^c_k / 9) A^k); take the 1/9 out of the sum and compare what is left with M_c"),
                        draw: &draw),
            ])
    }

    /// gradcam-3: why the ReLU, and what the negative weights show instead.
    static func positiveAndCounterfactual(_ draw: inout StudentDraw) -> ExerciseContent {
        var alphas: [Double], atP: [Double], atQ: [Double]
        repeat {
            alphas = draw.shuffled([Double(draw.int(1...3)), Double(draw.int(1...3)), -Double(draw.int(1...3))])
            atP = draw.values(3, in: 0...4)
            atQ = draw.values(3, in: 0...4)
            // One cell must be switched off by the ReLU, the other not.
        } while (HomeworkMath.dot(alphas, atP) > 0) == (HomeworkMath.dot(alphas, atQ) > 0)
            || HomeworkMath.dot(alphas, atP) == 0 || HomeworkMath.dot(alphas, atQ) == 0
        // Wrong procedures: the sum without its ReLU, a ReLU on each term; for the counterfactual,
        // negating after the ReLU.
        let negated = alphas.map { -$0 }
        let cellQuestion = { (id: String, name: String, values: [Double]) in
            Question(id: id, prompt: "What is L^c(\(name))?",
                     expected: .number(HomeworkMath.relu(HomeworkMath.dot(alphas, values))),
                     hints: Hints(.gradcamMap, nudge: "L^c is the ReLU of the weighted sum of the channels, at one cell",
                                  formula: "L^c(\(name)) = ReLU(Σ_k α^c_k A^k(\(name)))",
                                  firstStep: "L^c(\(name)) = ReLU(\(WorkedText.products(alphas, values)))"),
                     mistakes: [KnownMistake(.reluForgotten, .number(HomeworkMath.dot(alphas, values))),
                                KnownMistake(.reluBeforeSum, .number(zip(alphas, values).reduce(0) { $0 + HomeworkMath.relu($1.0 * $1.1) }))])
        }

        return ExerciseContent(
            introduction: """
                Grad-CAM has already found the channel weights α^c for three channels. \
                Two cells p and q of the activation maps hold the values A^k(p) and A^k(q) below.
                """,
            given: [.vector("α^c", alphas), .vector("[A¹(p), A²(p), A³(p)]", atP),
                    .vector("[A¹(q), A²(q), A³(q)]", atQ)],
            questions: [
                cellQuestion("q1", "p", atP),
                cellQuestion("q2", "q", atQ),
                Question(id: "q3", prompt: "The counterfactual map uses −α: ReLU(Σ_k (−α^c_k) A^k). What is its value at p?",
                         expected: .number(HomeworkMath.relu(-HomeworkMath.dot(alphas, atP))),
                         hints: Hints(.gradcamMap, nudge: "negate every weight first, then add, then apply the ReLU",
                                      formula: "ReLU(Σ_k (−α^c_k) A^k(p))",
                                      firstStep: "ReLU(\(WorkedText.products(negated, atP)))"),
                         mistakes: [KnownMistake(.counterfactualNegatedAfterReLU, .number(-HomeworkMath.relu(HomeworkMath.dot(alphas, atP)))),
                                    KnownMistake(.counterfactualReLUForgotten, .number(-HomeworkMath.dot(alphas, atP))),
                                    KnownMistake(.reluBeforeSum, .number(zip(negated, atP).reduce(0) { $0 + HomeworkMath.relu($1.0 * $1.1) }))]),
                .choice(id: "q4", prompt: "Why does Grad-CAM apply a ReLU to Σ_k α^c_k A^k?",
                        correct: "to keep only the evidence that increases y^c",
                        wrong: [.init("to scale the map into [0, 1]", .reluScales),
                                .init("because the gradient is always positive", .reluBecauseGradientsArePositive),
                                .init("because bilinear upsampling needs non-negative values", .reluForUpsampling)],
                        hints: Hints(.gradcamMap, nudge: "think about what a negative cell of Σ_k α^c_k A^k means for the class score",
                                     formula: "a cell where Σ_k α^c_k A^k < 0 speaks against class c; the ReLU sets it to 0",
                                     firstStep: "at p the sum is \(WorkedText.products(alphas, atP)) and at q it is \(WorkedText.products(alphas, atQ)); one is negative: what does that cell say about class c?"),
                        draw: &draw),
            ])
    }
}

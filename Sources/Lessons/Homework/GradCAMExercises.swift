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
                         expected: .vector(gradients.map(HomeworkMath.mean)),
                         hint: LessonStep.gradcamWeights.hint("α is the spatial MEAN of the gradient (Z = 9 cells)")),
                Question(id: "q2", prompt: "What is the Grad-CAM map L^c (9 numbers, row by row)?",
                         expected: .vector(HomeworkMath.flatten(map)), points: 2,
                         hint: LessonStep.gradcamMap.hint("weight each activation map by its α, add cell by cell, then apply ReLU")),
                Question(id: "q3", prompt: "How many of the 9 cells of L^c are exactly 0?",
                         expected: .integer(zeroCells),
                         hint: LessonStep.gradcamMap.hint("ReLU turns every negative cell into 0")),
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
                         hint: LessonStep.gradcamGradient.hint("each cell enters y^c once, through the mean, with factor w^c_k / Z")),
                Question(id: "q2", prompt: "What are the channel weights [α¹, α², α³]?",
                         expected: .vector(alphas),
                         hint: LessonStep.gradcamWeights.hint("α is the spatial MEAN of the gradient; here the gradient is the same in every cell")),
                Question(id: "q3", prompt: "What is L^c at row \(row), column \(column)?",
                         expected: .number(map[row][column]),
                         hint: LessonStep.gradcamMap.hint("L^c = ReLU(Σ_k α^c_k A^k) at that one cell")),
                .choice(id: "q4", prompt: "On this network, how is Grad-CAM's L^c related to the CAM map M_c = Σ_k w^c_k A^k?",
                        correct: "L^c = ReLU(M_c) / 9",
                        wrong: ["L^c = M_c exactly, negative cells included", "L^c = 9 · ReLU(M_c)",
                                "they are unrelated: Grad-CAM uses gradients, CAM uses weights"],
                        hint: LessonStep.gradcamVersusCAM.hint("substitute α^c_k = w^c_k / Z into the Grad-CAM formula"),
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

        return ExerciseContent(
            introduction: """
                Grad-CAM has already found the channel weights α^c for three channels. \
                Two cells p and q of the activation maps hold the values A^k(p) and A^k(q) below.
                """,
            given: [.vector("α^c", alphas), .vector("[A¹(p), A²(p), A³(p)]", atP),
                    .vector("[A¹(q), A²(q), A³(q)]", atQ)],
            questions: [
                Question(id: "q1", prompt: "What is L^c(p)?",
                         expected: .number(HomeworkMath.relu(HomeworkMath.dot(alphas, atP))),
                         hint: LessonStep.gradcamMap.hint("L^c = ReLU(Σ_k α^c_k A^k), at one cell")),
                Question(id: "q2", prompt: "What is L^c(q)?",
                         expected: .number(HomeworkMath.relu(HomeworkMath.dot(alphas, atQ))),
                         hint: LessonStep.gradcamMap.hint("L^c = ReLU(Σ_k α^c_k A^k), at one cell")),
                Question(id: "q3", prompt: "The counterfactual map uses −α: ReLU(Σ_k (−α^c_k) A^k). What is its value at p?",
                         expected: .number(HomeworkMath.relu(-HomeworkMath.dot(alphas, atP))),
                         hint: LessonStep.gradcamMap.hint("negate every weight first, then sum, then apply ReLU")),
                .choice(id: "q4", prompt: "Why does Grad-CAM apply a ReLU to Σ_k α^c_k A^k?",
                        correct: "to keep only the evidence that increases y^c",
                        wrong: ["to scale the map into [0, 1]", "because the gradient is always positive",
                                "because bilinear upsampling needs non-negative values"],
                        hint: LessonStep.gradcamMap.hint("think about what a negative cell of Σ_k α^c_k A^k means for the class score"),
                        draw: &draw),
            ])
    }
}

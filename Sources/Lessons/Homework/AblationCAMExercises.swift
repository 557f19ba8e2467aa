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
                         hint: LessonStep.ablationWeights.hint("w^c_k is the drop of the score, divided by the unablated score")),
                Question(id: "q2", prompt: "Which channel (1, 2 or 3) matters most for class c?",
                         expected: .integer(mostImportant),
                         hint: LessonStep.ablationWeights.hint("the most important channel is the one whose removal costs the most")),
                Question(id: "q3", prompt: "Removing which channel (1, 2 or 3) RAISES the class score?",
                         expected: .integer(raisesScore),
                         hint: LessonStep.ablationScores.hint("compare each y^c_k with y^c")),
                Question(id: "q4", prompt: "What is the Ablation-CAM value L^c(p)?",
                         expected: .number(HomeworkMath.relu(HomeworkMath.dot(weights, cell))),
                         hint: LessonStep.ablationMap.hint("L^c = ReLU(Σ_k w^c_k A^k), at one cell")),
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
                         hint: LessonStep.ablationScores.hint("global average pooling: add the 9 cells and divide by 9")),
                Question(id: "q2", prompt: "What is the class score y^c?", expected: .number(score),
                         hint: LessonStep.ablationScores.hint("y^c = Σ_k w_k · mean(A^k) + b")),
                Question(id: "q3", prompt: "What is y^c_\(channel), the score after setting A^\(channel) to zero?",
                         expected: .number(ablatedScore),
                         hint: LessonStep.ablationScores.hint("a zero map has mean 0, so only its own term disappears")),
                Question(id: "q4", prompt: "What is the ablation weight w^c_\(channel)? (2 decimals)",
                         expected: .number((score - ablatedScore) / score),
                         hint: LessonStep.ablationWeights.hint("w^c_k = (y^c − y^c_k) / y^c")),
            ])
    }

    /// ablationcam-3: the map from given weights, and what the method costs.
    static func mapAndCost(_ draw: inout StudentDraw) -> ExerciseContent {
        let weights = [Double(draw.nonZeroInt(-5...8)) / 10, Double(draw.nonZeroInt(-5...8)) / 10]
        let maps = [draw.matrix(3, 3, in: 0...3), draw.matrix(3, 3, in: 0...3)]
        let channels = draw.pick([64, 128, 256, 512])
        let map = HomeworkMath.relu(HomeworkMath.weightedSum(maps, weights))

        return ExerciseContent(
            introduction: """
                Ablation-CAM has measured the weights w^c_k of two 3×3 activation maps. \
                Write maps row by row: 9 numbers, top row first.
                """,
            given: [.matrix("A¹", maps[0]), .matrix("A²", maps[1]), .vector("[w^c_1, w^c_2]", weights)],
            questions: [
                Question(id: "q1", prompt: "What is the Ablation-CAM map L^c (9 numbers, row by row)?",
                         expected: .vector(HomeworkMath.flatten(map)), points: 2,
                         hint: LessonStep.ablationMap.hint("L^c = ReLU(Σ_k w^c_k A^k), cell by cell")),
                Question(id: "q2", prompt: "A real layer has K = \(channels) channels. How many forward passes does one Ablation-CAM map of one class need, the unablated one included?",
                         expected: .integer(channels + 1),
                         hint: LessonStep.ablationCost.hint("every channel is removed once, and y^c itself needs a pass too")),
                .choice(id: "q3", prompt: "What does Ablation-CAM NOT need, unlike Grad-CAM?",
                        correct: "gradients (a backward pass)",
                        wrong: ["the activation maps A^k", "the class score y^c", "a forward pass"],
                        hint: LessonStep.ablationCost.hint("list what each method computes to get its weights"),
                        draw: &draw),
            ])
    }
}

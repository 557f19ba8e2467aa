// LRP homework (Bach et al. 2015; Montavon et al. 2019). Notation of the articles:
//   z_jk = a_j · w_jk                                   contribution of input j to neuron k
//   R_j = Σ_k z_jk / (Σ_j z_jk) · R_k                   LRP-0
//   R_j = Σ_k a_j w_jk / (ε + Σ_j a_j w_jk) · R_k       epsilon rule
// On a bias-free ReLU network LRP-0 conserves relevance, Σ_i R_i = f(x), and equals gradient × input.

enum LRPExercises {
    /// One dense layer backwards with the epsilon rule (ε = 0 is LRP-0).
    /// - Parameters:
    ///   - activations: a_j, the layer's inputs
    ///   - weights: w_jk as weights[k][j], one row per output neuron k
    ///   - relevance: R_k of every output neuron
    /// - Returns: R_j of every input. A neuron with R_k = 0 passes nothing back (no 0/0).
    static func relevanceBack(activations: [Double], weights: [[Double]], relevance: [Double],
                              epsilon: Double = 0) -> [Double] {
        var result = [Double](repeating: 0, count: activations.count)
        for (k, row) in weights.enumerated() where relevance[k] != 0 {
            let z = HomeworkMath.dot(activations, row)
            for j in activations.indices {
                result[j] += activations[j] * row[j] / (epsilon + z) * relevance[k]
            }
        }
        return result
    }

    /// lrp-1: LRP-0 through one neuron: share R_k in proportion to the contributions z_jk.
    static func oneNeuron(_ draw: inout StudentDraw) -> ExerciseContent {
        var activations: [Double], weights: [Double], z: Double, largest: Int?
        repeat {
            activations = draw.values(3, in: 1...4)
            weights = draw.values(3, in: -2...3)
            z = HomeworkMath.dot(activations, weights)
            largest = HomeworkMath.uniqueArgmax(zip(activations, weights).map { $0 * $1 })
        } while z <= 0 || largest == nil
        let incoming = Double(draw.int(1...6))
        let relevance = relevanceBack(activations: activations, weights: [weights], relevance: [incoming])

        return ExerciseContent(
            introduction: """
                A neuron k receives three inputs a_j through weights w_jk (no bias) and has been \
                given the relevance R_k from the layer above.
                """,
            given: [.vector("[a₁, a₂, a₃]", activations), .vector("[w₁k, w₂k, w₃k]", weights),
                    .number("R_k", incoming)],
            questions: [
                Question(id: "q1", prompt: "What is z_k = Σ_j z_jk = Σ_j a_j w_jk?", expected: .number(z),
                         hint: LessonStep.lrpForward.hint("multiply each input by its weight and add")),
                Question(id: "q2", prompt: "What are the LRP-0 relevances [R₁, R₂, R₃]? (2 decimals)",
                         expected: .vector(relevance),
                         hint: LessonStep.lrpZero.hint("input j receives the share z_jk / Σ_j z_jk of R_k")),
                Question(id: "q3", prompt: "What is R₁ + R₂ + R₃?", expected: .number(relevance.reduce(0, +)),
                         hint: LessonStep.lrpConservation.hint("LRP-0 passes on all of R_k, no more, no less")),
                Question(id: "q4", prompt: "Which input (1, 2 or 3) gets the most relevance?",
                         expected: .integer((largest ?? 0) + 1),
                         hint: LessonStep.lrpZero.hint("relevance follows the contribution z_jk = a_j w_jk, not the weight alone")),
            ])
    }

    /// lrp-2: a 2 → 3 → 1 bias-free ReLU network, forward then LRP-0 back to the inputs.
    static func smallNetwork(_ draw: inout StudentDraw) -> ExerciseContent {
        var input: [Double], firstWeights: [[Double]], secondWeights: [Double]
        var preActivations: [Double], hidden: [Double], output: Double
        repeat {
            input = draw.values(2, in: 1...3)
            firstWeights = draw.matrix(3, 2, in: -2...2)
            secondWeights = draw.values(3, in: -1...2)
            preActivations = firstWeights.map { HomeworkMath.dot($0, input) }
            hidden = preActivations.map(HomeworkMath.relu)
            output = HomeworkMath.dot(secondWeights, hidden)
            // Exactly one hidden unit off, none exactly at the kink, and a positive output.
        } while preActivations.filter({ $0 < 0 }).count != 1 || preActivations.contains(0) || output <= 0

        let hiddenRelevance = relevanceBack(activations: hidden, weights: [secondWeights], relevance: [output])
        let inputRelevance = relevanceBack(activations: input, weights: firstWeights, relevance: hiddenRelevance)

        return ExerciseContent(
            introduction: """
                A bias-free network: input x (2 values) → hidden h = ReLU(W₁ x) (3 units) → \
                output f(x) = w₂ · h. Row j of W₁ holds the weights of hidden unit j. \
                LRP starts from R = f(x) at the output.
                """,
            given: [.vector("x", input), .matrix("W₁ (3×2)", firstWeights), .vector("w₂", secondWeights)],
            questions: [
                Question(id: "q1", prompt: "What are the hidden activations h (3 numbers)?",
                         expected: .vector(hidden),
                         hint: LessonStep.lrpForward.hint("h_j = ReLU(Σ_i W₁[j][i] x_i); negative sums become 0")),
                Question(id: "q2", prompt: "What is f(x)?", expected: .number(output),
                         hint: LessonStep.lrpForward.hint("f(x) = Σ_j w₂[j] h_j")),
                Question(id: "q3", prompt: "What are the LRP-0 relevances of the inputs [R(x₁), R(x₂)]? (2 decimals)",
                         expected: .vector(inputRelevance), points: 2,
                         hint: LessonStep.lrpZero.hint(
                            "go back one layer at a time: first R(h_j) from f(x), then R(x_i) from every R(h_j); a switched-off unit passes nothing")),
                Question(id: "q4", prompt: "What is R(x₁) + R(x₂)?", expected: .number(inputRelevance.reduce(0, +)),
                         hint: LessonStep.lrpConservation.hint("on a bias-free network LRP-0 conserves relevance from layer to layer")),
                .choice(id: "q5", prompt: "On this bias-free ReLU network, the LRP-0 relevance of each input equals",
                        correct: "gradient × input, ∂f/∂x_i · x_i",
                        wrong: ["the gradient ∂f/∂x_i alone", "the input x_i alone", "the weight of x_i in W₁"],
                        hint: LessonStep.lrpGradientTimesInput.hint("compare R(x_i) with x_i times the slope of f along x_i"),
                        draw: &draw),
            ])
    }

    /// lrp-3: the epsilon rule absorbs part of the relevance.
    static func epsilonRule(_ draw: inout StudentDraw) -> ExerciseContent {
        var activations: [Double], weights: [Double], z: Double
        repeat {
            activations = draw.values(3, in: 1...4)
            weights = draw.values(3, in: -2...3)
            z = HomeworkMath.dot(activations, weights)
        } while z <= 0
        let epsilon = draw.pick([0.5, 1, 2])
        let relevance = relevanceBack(activations: activations, weights: [weights], relevance: [z], epsilon: epsilon)
        let total = relevance.reduce(0, +)

        return ExerciseContent(
            introduction: """
                A neuron k with three inputs a_j, weights w_jk and no bias outputs z_k = Σ_j a_j w_jk, \
                and starts with relevance R_k = z_k. Relevance goes back with the epsilon rule.
                """,
            given: [.vector("[a₁, a₂, a₃]", activations), .vector("[w₁k, w₂k, w₃k]", weights),
                    .number("ε", epsilon)],
            questions: [
                Question(id: "q1", prompt: "What are the epsilon-rule relevances [R₁, R₂, R₃]? (2 decimals)",
                         expected: .vector(relevance),
                         hint: LessonStep.lrpEpsilon.hint("like LRP-0, but ε is added to the denominator Σ_j a_j w_jk")),
                Question(id: "q2", prompt: "What is R₁ + R₂ + R₃? (2 decimals)", expected: .number(total),
                         hint: LessonStep.lrpEpsilon.hint("add your three relevances")),
                Question(id: "q3", prompt: "How much relevance did ε absorb, R_k − (R₁ + R₂ + R₃)? (2 decimals)",
                         expected: .number(z - total),
                         hint: LessonStep.lrpConservation.hint("the shares now add up to z_k / (ε + z_k) of R_k instead of all of it")),
                .choice(id: "q4", prompt: "What happens as ε → 0?",
                        correct: "the rule becomes LRP-0 and conservation is exact again",
                        wrong: ["all relevance is absorbed", "the relevances become the gradient",
                                "the relevances grow without bound"],
                        hint: LessonStep.lrpEpsilon.hint("set ε = 0 in the formula"),
                        draw: &draw),
            ])
    }
}

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
        // Wrong procedures: z_k from the product of sums or from the sizes of the contributions;
        // R_k shared by the weights or the inputs alone, or not multiplied by R_k; the total
        // conserved to z_k; the most relevant input read off the weights or the inputs.
        let contributions = zip(activations, weights).map { $0 * $1 }
        let shared = { (parts: [Double]) in parts.map { $0 / parts.reduce(0, +) * incoming } }
        let contributionsWritten = contributions.indices
            .map { "z_\($0 + 1)k = \(WorkedText.term(activations[$0])) · \(WorkedText.term(weights[$0]))" }.joined(separator: ", ")

        return ExerciseContent(
            introduction: """
                A neuron k receives three inputs a_j through weights w_jk (no bias) and has been \
                given the relevance R_k from the layer above.
                """,
            given: [.vector("[a₁, a₂, a₃]", activations), .vector("[w₁k, w₂k, w₃k]", weights),
                    .number("R_k", incoming)],
            questions: [
                Question(id: "q1", prompt: "What is z_k = Σ_j z_jk = Σ_j a_j w_jk?", expected: .number(z),
                         hints: Hints(.lrpRule, nudge: "each input contributes its value times its weight",
                                      formula: "z_k = Σ_j a_j w_jk",
                                      firstStep: "z_k = \(WorkedText.products(activations, weights))"),
                         mistakes: [KnownMistake(.productOfSums, .number(activations.reduce(0, +) * weights.reduce(0, +))),
                                    KnownMistake(.absoluteContributions, .number(contributions.map(abs).reduce(0, +)))]),
                Question(id: "q2", prompt: "What are the LRP-0 relevances [R₁, R₂, R₃]? (2 decimals)",
                         expected: .vector(relevance),
                         hints: Hints(.lrpRule, nudge: "input j receives the same share of R_k as it had of z_k",
                                      formula: "R_j = (a_j w_jk / Σ_j a_j w_jk) · R_k",
                                      firstStep: "R₁ = (\(WorkedText.term(activations[0])) · \(WorkedText.term(weights[0])) / z_k) · \(formatNumber(incoming)) with your z_k from q1; R₂ and R₃ likewise"),
                         mistakes: [KnownMistake(.sharedByWeight, .vector(shared(weights))),
                                    KnownMistake(.sharedByInput, .vector(shared(activations))),
                                    KnownMistake(.relevanceNotScaled, .vector(contributions.map { $0 / z }))]),
                Question(id: "q3", prompt: "What is R₁ + R₂ + R₃?", expected: .number(relevance.reduce(0, +)),
                         hints: Hints(.lrpLedger, nudge: "LRP-0 passes on all of R_k, no more, no less",
                                      formula: "Σ_j R_j = Σ_j (z_jk / z_k) · R_k",
                                      firstStep: "Σ_j R_j = ((z_1k + z_2k + z_3k) / z_k) · \(formatNumber(incoming)); what is z_1k + z_2k + z_3k?"),
                         mistakes: [KnownMistake(.conservedToZ, .number(z))]),
                Question(id: "q4", prompt: "Which input (1, 2 or 3) gets the most relevance?",
                         expected: .integer((largest ?? 0) + 1),
                         hints: Hints(.lrpRule, nudge: "relevance follows the contribution z_jk = a_j w_jk, not the weight alone",
                                      formula: "R_j = (z_jk / z_k) · R_k, so the largest z_jk gets the most",
                                      firstStep: contributionsWritten + ": which is largest?"),
                         mistakes: (HomeworkMath.uniqueArgmax(weights).map { [KnownMistake(.largestWeight, .integer($0 + 1))] } ?? [])
                            + (HomeworkMath.uniqueArgmax(activations).map { [KnownMistake(.largestInput, .integer($0 + 1))] } ?? [])),
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
        // Wrong procedures: no ReLU, or |z| instead of it; LRP through the switched-off unit
        // (the pre-activations as if they were outputs); the gradient without × input.
        let absolute = preActivations.map(abs)
        let leakyRelevance = relevanceBack(activations: input, weights: firstWeights,
                                           relevance: relevanceBack(activations: preActivations, weights: [secondWeights], relevance: [output]))
        /// ∂f/∂x_i = Σ_j w₂[j] · [z_j > 0] · W₁[j][i]
        let gradient = input.indices.map { i in
            firstWeights.indices.reduce(0.0) { $0 + (preActivations[$1] > 0 ? secondWeights[$1] * firstWeights[$1][i] : 0) }
        }

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
                         hints: Hints(.lrpForward, nudge: "each hidden unit adds up its weighted inputs, and a negative sum switches it off",
                                      formula: "h_j = ReLU(Σ_i W₁[j][i] x_i)",
                                      firstStep: firstWeights.indices.map { "h\(subscriptDigit($0 + 1)) = ReLU(\(WorkedText.products(firstWeights[$0], input)))" }.joined(separator: ", ")),
                         mistakes: [KnownMistake(.reluForgotten, .vector(preActivations)),
                                    KnownMistake(.absoluteInsteadOfReLU, .vector(absolute))]),
                Question(id: "q2", prompt: "What is f(x)?", expected: .number(output),
                         hints: Hints(.lrpForward, nudge: "the output weighs the hidden units and adds them",
                                      formula: "f(x) = Σ_j w₂[j] h_j",
                                      firstStep: "f(x) = \(WorkedText.term(secondWeights[0])) · h₁ + \(WorkedText.term(secondWeights[1])) · h₂ + \(WorkedText.term(secondWeights[2])) · h₃ with your h from q1"),
                         mistakes: [KnownMistake(.reluForgotten, .number(HomeworkMath.dot(secondWeights, preActivations))),
                                    KnownMistake(.absoluteInsteadOfReLU, .number(HomeworkMath.dot(secondWeights, absolute)))]),
                Question(id: "q3", prompt: "What are the LRP-0 relevances of the inputs [R(x₁), R(x₂)]? (2 decimals)",
                         expected: .vector(inputRelevance), points: 2,
                         hints: Hints(.lrpRule,
                                      nudge: "go back one layer at a time: first R(h_j) from f(x), then R(x_i) from every R(h_j); a switched-off unit passes nothing",
                                      formula: "R(h_j) = (h_j w₂[j] / f(x)) · f(x), then R(x_i) = Σ_j (x_i W₁[j][i] / Σ_i' x_i' W₁[j][i']) · R(h_j)",
                                      firstStep: "R(h_j) = h_j · w₂[j]: h₁ · \(WorkedText.term(secondWeights[0])), h₂ · \(WorkedText.term(secondWeights[1])), h₃ · \(WorkedText.term(secondWeights[2])) with your h from q1 (a unit with h_j = 0 gets 0); then share each R(h_j) between x₁ and x₂"),
                         mistakes: [KnownMistake(.switchedOffUnitPassed, .vector(leakyRelevance)),
                                    KnownMistake(.gradientWithoutInput, .vector(gradient))]),
                Question(id: "q4", prompt: "What is R(x₁) + R(x₂)?", expected: .number(inputRelevance.reduce(0, +)),
                         hints: Hints(.lrpLedger, nudge: "on a bias-free network LRP-0 conserves relevance from layer to layer",
                                      formula: "Σ_i R(x_i) = Σ_j R(h_j) = f(x)",
                                      firstStep: "add your two relevances from q3, or compare with the relevance LRP started from at the output"),
                         mistakes: [KnownMistake(.sumOfGradient, .number(gradient.reduce(0, +))),
                                    KnownMistake(.reluForgotten, .number(HomeworkMath.dot(secondWeights, preActivations)))]),
                .choice(id: "q5", prompt: "On this bias-free ReLU network, the LRP-0 relevance of each input equals",
                        correct: "gradient × input, ∂f/∂x_i · x_i",
                        wrong: [.init("the gradient ∂f/∂x_i alone", .lrpIsGradient), .init("the input x_i alone", .lrpIsInput),
                                .init("the weight of x_i in W₁", .lrpIsWeight)],
                        hints: Hints(.lrpGradientTimesInput, nudge: "compare R(x_i) with x_i times the slope of f along x_i",
                                     formula: "on a bias-free ReLU network f(x) = Σ_i x_i ∂f/∂x_i",
                                     firstStep: "∂f/∂x₁ = Σ_j w₂[j] · [h_j > 0] · W₁[j][1] = \(firstWeights.indices.map { "\(WorkedText.term(secondWeights[$0])) · [h\(subscriptDigit($0 + 1)) > 0] · \(WorkedText.term(firstWeights[$0][0]))" }.joined(separator: " + ")); compare x₁ · ∂f/∂x₁ with your R(x₁)"),
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
        // Wrong procedures: ε with the wrong sign (the denominator z_k − ε), ε left out (LRP-0),
        // ε itself taken for the absorbed part.
        let wrongSign = relevanceBack(activations: activations, weights: [weights], relevance: [z], epsilon: -epsilon)
        let zWritten = WorkedText.products(activations, weights)

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
                         hints: Hints(.lrpRule, nudge: "like LRP-0, but ε is added to the denominator Σ_j a_j w_jk",
                                      formula: "R_j = a_j w_jk / (ε + Σ_j a_j w_jk) · R_k, with R_k = z_k here",
                                      firstStep: "R₁ = \(WorkedText.term(activations[0])) · \(WorkedText.term(weights[0])) / (\(formatNumber(epsilon)) + z_k) · z_k with z_k = \(zWritten); R₂ and R₃ likewise"),
                         mistakes: [KnownMistake(.epsilonWrongSign, .vector(wrongSign)),
                                    KnownMistake(.epsilonForgotten, .vector(relevanceBack(activations: activations, weights: [weights], relevance: [z])))]),
                Question(id: "q2", prompt: "What is R₁ + R₂ + R₃? (2 decimals)", expected: .number(total),
                         hints: Hints(.lrpRule, nudge: "add your three relevances",
                                      formula: "Σ_j R_j = Σ_j a_j w_jk / (ε + z_k) · R_k = z_k / (ε + z_k) · R_k",
                                      firstStep: "Σ_j R_j = z_k / (\(formatNumber(epsilon)) + z_k) · z_k with z_k = \(zWritten)"),
                         mistakes: [KnownMistake(.epsilonWrongSign, .number(wrongSign.reduce(0, +))),
                                    KnownMistake(.epsilonForgotten, .number(z))]),
                Question(id: "q3", prompt: "How much relevance did ε absorb, R_k − (R₁ + R₂ + R₃)? (2 decimals)",
                         expected: .number(z - total),
                         hints: Hints(.lrpLedger, nudge: "the shares now add up to z_k / (ε + z_k) of R_k instead of all of it",
                                      formula: "absorbed = R_k − Σ_j R_j = R_k · ε / (ε + z_k)",
                                      firstStep: "absorbed = z_k − (your sum from q2) with z_k = \(zWritten)"),
                         mistakes: [KnownMistake(.epsilonWrongSign, .number(z - wrongSign.reduce(0, +))),
                                    KnownMistake(.absorbedIsEpsilon, .number(epsilon))]),
                .choice(id: "q4", prompt: "What happens as ε → 0?",
                        correct: "the rule becomes LRP-0 and conservation is exact again",
                        wrong: [.init("all relevance is absorbed", .epsilonAbsorbsAll),
                                .init("the relevances become the gradient", .epsilonGivesGradient),
                                .init("the relevances grow without bound", .epsilonUnbounded)],
                        hints: Hints(.lrpRule, nudge: "set ε = 0 in the formula",
                                     formula: "R_j = a_j w_jk / (ε + z_k) · R_k",
                                     firstStep: "with ε = 0 the denominator is z_k = \(zWritten), which is positive here: compare the rule with LRP-0"),
                        draw: &draw),
            ])
    }
}

/// "₁" for 1: the subscript digits of the exercises' names (h₁, x₂).
func subscriptDigit(_ digit: Int) -> String {
    String(UnicodeScalar(0x2080 + UInt32(digit % 10)) ?? "?")
}

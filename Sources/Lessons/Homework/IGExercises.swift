// Integrated Gradients homework (Sundararajan et al. 2017). Notation of the article:
//   IG_i(x) = (x_i − x'_i) ∫₀¹ ∂f(x' + α(x − x'))/∂x_i dα
//   completeness: Σ_i IG_i(x) = f(x) − f(x')
// The integral is approximated with m steps of a quadrature rule.

enum IGExercises {
    /// Where a rule evaluates the integrand on [0, 1] with m steps, and with which weights.
    ///   left: α = i/m, i = 0…m−1        right: α = i/m, i = 1…m
    ///   middle: α = (i + ½)/m            trapezoid: mean of left and right
    ///   Gauss–Legendre, 2 points: α = ½ ∓ 1/(2√3), weights ½ (exact up to cubics)
    enum Rule: String { case left, right, middle, trapezoid, gaussLegendre2 }

    static func integrate(_ rule: Rule, steps m: Int, _ integrand: (Double) -> Double) -> Double {
        let width = 1 / Double(m)
        switch rule {
        case .left: return (0..<m).reduce(0) { $0 + width * integrand(Double($1) * width) }
        case .right: return (1...m).reduce(0) { $0 + width * integrand(Double($1) * width) }
        case .middle: return (0..<m).reduce(0) { $0 + width * integrand((Double($1) + 0.5) * width) }
        case .trapezoid: return (integrate(.left, steps: m, integrand) + integrate(.right, steps: m, integrand)) / 2
        case .gaussLegendre2:
            let offset = 1 / (2 * 3.0.squareRoot())
            return 0.5 * integrand(0.5 - offset) + 0.5 * integrand(0.5 + offset)
        }
    }

    /// IG of every input for a function given by its gradient, with one quadrature rule.
    static func integratedGradients(input x: [Double], baseline: [Double], rule: Rule, steps: Int,
                                    gradient: ([Double]) -> [Double]) -> [Double] {
        x.indices.map { i in
            let pathIntegral = integrate(rule, steps: steps) { alpha in
                let point = x.indices.map { baseline[$0] + alpha * (x[$0] - baseline[$0]) }
                return gradient(point)[i]
            }
            return (x[i] - baseline[i]) * pathIntegral
        }
    }

    /// ig-1: f(x) = c·x² in 1-D; which Riemann sums hit f(x) − f(x') exactly.
    static func riemannSums(_ draw: inout StudentDraw) -> ExerciseContent {
        let c = draw.pick([0.5, 1, 2, 3])
        let baseline = Double(draw.int(0...2))
        let input = baseline + Double(draw.int(2...4))
        let steps = draw.pick([2, 4])
        let f = { (x: Double) in c * x * x }
        let ig = { (rule: Rule) in
            integratedGradients(input: [input], baseline: [baseline], rule: rule, steps: steps) { [2 * c * $0[0]] }[0]
        }
        // Wrong procedures: f(x') left out, or the gradient at x times the distance; the other
        // Riemann sum; a sum without its step width 1/m or without the factor (x − x').
        let distance = input - baseline
        let riemannMistakes = { (rule: Rule) in [
            KnownMistake(.stepWidthForgotten, .number(ig(rule) * Double(steps))),
            KnownMistake(.distanceForgotten, .number(ig(rule) / distance)),
        ] }
        /// The points u = x' + α(x − x') where a rule evaluates f′, written out.
        let points = { (alphas: [Double]) in WorkedText.list(alphas.map { baseline + $0 * distance }) }
        let m = Double(steps)
        let riemannHints = { (name: String, alphas: [Double], where: String) in
            Hints(.igRules, nudge: "\(name) Riemann \(`where`)",
                  formula: "IG ≈ (x − x') · (1/m) · Σ_α f′(x' + α(x − x')), with f′(u) = \(formatNumber(2 * c))·u",
                  firstStep: "the \(steps) points u = x' + α(x − x') are \(points(alphas)); evaluate f′ at each")
        }

        return ExerciseContent(
            introduction: """
                f(x) = \(formatNumber(c))·x², explained at x with baseline x'. Approximate \
                IG = (x − x') ∫₀¹ f′(x' + α(x − x')) dα with m steps: left Riemann evaluates at \
                α = 0, 1/m, …, (m−1)/m, right Riemann at α = 1/m, …, 1, middle at the centres \
                of the m intervals; each value is weighted 1/m. The textbook trapezoid rule is \
                the mean of left and right Riemann. (Captum's riemann_trapezoid is not: it halves \
                the two end weights without changing the others, so its weights add up to \
                1 − 1/m, not 1.)
                """,
            given: [.number("x", input), .number("x'", baseline), .number("m (steps)", Double(steps))],
            questions: [
                Question(id: "q1", prompt: "What is the exact IG, f(x) − f(x')?", expected: .number(f(input) - f(baseline)),
                         hints: Hints(.igFormula, nudge: "in one dimension the single attribution is the whole change of f from the baseline",
                                      formula: "completeness: IG = f(x) − f(x'), with f(x) = \(formatNumber(c))·x²",
                                      firstStep: "f(x) − f(x') = \(formatNumber(c)) · \(WorkedText.term(input))² − \(formatNumber(c)) · \(WorkedText.term(baseline))²"),
                         mistakes: [KnownMistake(.baselineIgnored, .number(f(input))),
                                    KnownMistake(.gradientAtInputTimesDistance, .number(2 * c * input * distance))]),
                Question(id: "q2", prompt: "What does left Riemann with m steps give?", expected: .number(ig(.left)),
                         hints: riemannHints("left", (0..<steps).map { Double($0) / m }, "starts at α = 0 and never evaluates α = 1"),
                         mistakes: [KnownMistake(.rightInsteadOfLeft, .number(ig(.right)))] + riemannMistakes(.left)),
                Question(id: "q3", prompt: "What does right Riemann with m steps give?", expected: .number(ig(.right)),
                         hints: riemannHints("right", (1...steps).map { Double($0) / m }, "starts at α = 1/m and ends at α = 1"),
                         mistakes: [KnownMistake(.leftInsteadOfRight, .number(ig(.left)))] + riemannMistakes(.right)),
                Question(id: "q4", prompt: "What does middle Riemann with m steps give?", expected: .number(ig(.middle)),
                         hints: riemannHints("middle", (0..<steps).map { (Double($0) + 0.5) / m }, "evaluates at the centre of each interval, α = (i + ½)/m"),
                         mistakes: [KnownMistake(.middleAtLeftEnds, .number(ig(.left)))] + riemannMistakes(.middle)),
                .choice(id: "q5", prompt: "Which rules give the exact IG for this f, whatever m?",
                        correct: "middle Riemann and the textbook trapezoid",
                        wrong: [.init("left Riemann only", .exactRulesLeftOnly), .init("right Riemann only", .exactRulesRightOnly),
                                .init("none of them: a quadrature rule always has an error", .exactRulesNone)],
                        hints: Hints(.igRules, nudge: "along the path f′ is a straight line in α; which rules integrate a straight line exactly?",
                                     formula: "∫₀¹ (p + qα) dα = p + q/2: the value at α = ½, or the mean of the values at 0 and 1",
                                     firstStep: "compare your answers to q2, q3 and q4 with the exact IG of q1; then ask which rule, on each interval, uses its centre or the mean of its two ends"),
                        draw: &draw),
            ])
    }

    /// ig-2: f(x₁, x₂) = a·x₁² + b·x₁x₂ from the zero baseline; IG versus gradient × input.
    static func twoInputs(_ draw: inout StudentDraw) -> ExerciseContent {
        var a: Double, b: Double, x: [Double]
        repeat {
            a = Double(draw.int(1...2))
            b = Double(draw.nonZeroInt(-2...3))
            x = draw.values(2, in: 1...4)
        } while a * x[0] * x[0] + b * x[0] * x[1] == 0
        let f = { (p: [Double]) in a * p[0] * p[0] + b * p[0] * p[1] }
        let gradient = { (p: [Double]) in [2 * a * p[0] + b * p[1], b * p[0]] }
        // The integrand is linear in α, so 2-point Gauss–Legendre is exact.
        let ig = integratedGradients(input: x, baseline: [0, 0], rule: .gaussLegendre2, steps: 1, gradient: gradient)
        let gradientTimesInput = zip(gradient(x), x).map { $0 * $1 }
        // How Σ gradient × input compares with f(x) − f(x'), read off the numbers.
        let ratio = gradientTimesInput.reduce(0, +) / (f(x) - f([0, 0]))
        let verdicts: [(ratio: Double, text: String)] = [
            (1, "yes, exactly"), (2, "no: it adds up to twice f(x) − f(x')"),
            (0.5, "no: it adds up to half of f(x) − f(x')"), (0, "no: it adds up to 0"),
        ]
        let verdict = verdicts.min { abs($0.ratio - ratio) < abs($1.ratio - ratio) }?.text ?? verdicts[0].text
        // Wrong procedures: IG taken for gradient × input and back; the gradient at the
        // baseline only; the gradient without × input.
        let slopes = "∂f/∂x₁(x) = 2 · \(formatNumber(a)) · \(WorkedText.term(x[0])) + \(WorkedText.term(b)) · \(WorkedText.term(x[1])) and ∂f/∂x₂(x) = \(WorkedText.term(b)) · \(WorkedText.term(x[0]))"

        return ExerciseContent(
            introduction: """
                f(x₁, x₂) = \(formatNumber(a))·x₁² + \(formatNumber(b))·x₁·x₂, explained at x with the \
                zero baseline x' = (0, 0). Along the path x' + α(x − x') = αx the gradient is \
                ∇f(αx) = α·∇f(x).
                """,
            given: [.vector("x", x), .vector("x'", [0, 0])],
            questions: [
                Question(id: "q1", prompt: "What are [IG₁, IG₂]? (2 decimals)", expected: .vector(ig),
                         hints: Hints(.igFormula, nudge: "along the path the gradient grows in proportion to α: ∇f(αx) = α∇f(x)",
                                      formula: "IG_i = x_i ∫₀¹ α ∂f/∂x_i(x) dα = x_i ∂f/∂x_i(x) · ∫₀¹ α dα",
                                      firstStep: slopes + "; multiply each by its x_i and by ∫₀¹ α dα"),
                         mistakes: [KnownMistake(.igIsGradientTimesInput, .vector(gradientTimesInput)),
                                    KnownMistake(.gradientAtBaseline, .vector([0, 0]))]),
                Question(id: "q2", prompt: "What is IG₁ + IG₂?", expected: .number(ig.reduce(0, +)),
                         hints: Hints(.igFormula, nudge: "completeness: the attributions add up to the change of f from the baseline",
                                      formula: "IG₁ + IG₂ = f(x) − f(x'), and f(x') = f(0, 0) = 0",
                                      firstStep: "f(x) − f(x') = \(formatNumber(a)) · \(WorkedText.term(x[0]))² + \(WorkedText.term(b)) · \(WorkedText.term(x[0])) · \(WorkedText.term(x[1])) − 0"),
                         mistakes: [KnownMistake(.gradientTimesInputSum, .number(gradientTimesInput.reduce(0, +)))]),
                Question(id: "q3", prompt: "What is gradient × input, [x₁ ∂f/∂x₁, x₂ ∂f/∂x₂] at x?",
                         expected: .vector(gradientTimesInput),
                         hints: Hints(.igFormula, nudge: "differentiate f by each input, evaluate at x, multiply by that input",
                                      formula: "x_i ∂f/∂x_i(x), with ∂f/∂x₁ = 2a·x₁ + b·x₂ and ∂f/∂x₂ = b·x₁",
                                      firstStep: slopes + "; multiply each by its x_i"),
                         mistakes: [KnownMistake(.gradientWithoutInput, .vector(gradient(x))),
                                    KnownMistake(.igInsteadOfGradientTimesInput, .vector(ig))]),
                .choice(id: "q4", prompt: "Does gradient × input add up to f(x) − f(x') for this f?",
                        correct: verdict, wrong: verdicts.map(\.text).filter { $0 != verdict }.map { .init($0, .completenessMisjudged) },
                        hints: Hints(.igFormula, nudge: "add your two gradient × input values and compare with q2",
                                     formula: "compare Σ_i x_i ∂f/∂x_i(x) with f(x) − f(x') = IG₁ + IG₂",
                                     firstStep: "Σ_i x_i ∂f/∂x_i(x) = \(WorkedText.term(x[0])) · ∂f/∂x₁(x) + \(WorkedText.term(x[1])) · ∂f/∂x₂(x) with " + slopes + "; divide it by f(x) − f(x')"),
                        draw: &draw),
            ])
    }

    /// ig-3: a linear "image" of four pixels; the black and the blurred baseline.
    static func baselines(_ draw: inout StudentDraw) -> ExerciseContent {
        var pixels: [Double], weights: [Double], blurred: [Double], darkPixel: Int
        var gapBlack: Double, gapBlurred: Double
        repeat {
            // Tenths in 0…1, one pixel exactly black.
            darkPixel = draw.int(0...3)
            pixels = (0..<4).map { $0 == darkPixel ? 0 : Double(draw.int(1...10)) / 10 }
            weights = (0..<4).map { _ in Double(draw.nonZeroInt(-2...3)) }
            let mean = pixels.reduce(0, +) / 4
            blurred = pixels.map { _ in mean }
            gapBlack = HomeworkMath.dot(weights, pixels)
            gapBlurred = HomeworkMath.dot(weights, pixels) - HomeworkMath.dot(weights, blurred)
        } while abs(abs(gapBlack) - abs(gapBlurred)) < 0.05

        // f is linear, so its gradient is the constant vector of weights.
        let igBlack = integratedGradients(input: pixels, baseline: [0, 0, 0, 0], rule: .middle, steps: 1) { _ in weights }
        let igBlurred = integratedGradients(input: pixels, baseline: blurred, rule: .middle, steps: 1) { _ in weights }
        let larger = abs(gapBlack) > abs(gapBlurred) ? "the black baseline" : "the blurred baseline"
        let smaller = larger == "the black baseline" ? "the blurred baseline" : "the black baseline"
        // Wrong procedures: the weights without (x_i − x'_i); the other baseline; f(x') − f(x).
        let pixelNames = ["x₁", "x₂", "x₃", "x₄"]
        let darkName = pixelNames[darkPixel]

        return ExerciseContent(
            introduction: """
                A four-pixel grey image x is scored by the linear model f(x) = Σ_i w_i x_i. Two \
                baselines: black, x' = (0, 0, 0, 0), and blurred, a blur so strong that every pixel \
                becomes the mean of the image. Pixels are numbered 1…4.
                """,
            given: [.vector("x", pixels), .vector("w", weights)],
            questions: [
                Question(id: "q1", prompt: "What are the four IG attributions with the black baseline?",
                         expected: .vector(igBlack),
                         hints: Hints(.igFormula, nudge: "for a linear f the gradient is w everywhere on the path",
                                      formula: "IG_i = (x_i − x'_i) · ∫₀¹ w_i dα = (x_i − x'_i) · w_i",
                                      firstStep: "IG₁ = (\(formatNumber(pixels[0])) − 0) · \(WorkedText.term(weights[0])), and the other three likewise"),
                         mistakes: [KnownMistake(.igWeightsOnly, .vector(weights)),
                                    KnownMistake(.otherBaselineUsed, .vector(igBlurred))]),
                Question(id: "q2", prompt: "What is the sum of the IG attributions with the blurred baseline? (2 decimals)",
                         expected: .number(igBlurred.reduce(0, +)),
                         hints: Hints(.igBaselines, nudge: "completeness: the sum is f(x) − f(x') for that baseline",
                                      formula: "Σ_i IG_i = f(x) − f(x') = Σ_i w_i (x_i − x̄), where every pixel of the blurred x' is the mean x̄",
                                      firstStep: "x̄ = (\(WorkedText.sum(pixels))) / 4; then Σ_i w_i (x_i − x̄) = " + pixels.indices.map { "\(WorkedText.term(weights[$0])) · (\(formatNumber(pixels[$0])) − x̄)" }.joined(separator: " + ")),
                         mistakes: [KnownMistake(.otherBaselineUsed, .number(gapBlack)),
                                    KnownMistake(.baselineOrderSwapped, .number(-igBlurred.reduce(0, +)))]),
                .choice(id: "q3", prompt: "Pixel \(darkPixel + 1) is black. With the black baseline its attribution is",
                        correct: "0, whatever its weight",
                        wrong: [.init("its weight w_\(darkPixel + 1)", .blackPixelGetsWeight), .init("f(x)", .blackPixelGetsScore),
                                .init("negative", .blackPixelNegative)],
                        hints: Hints(.igBaselines, nudge: "look at the factor (x_i − x'_i) in front of the integral",
                                     formula: "IG_i = (x_i − x'_i) ∫₀¹ ∂f/∂x_i dα",
                                     firstStep: "for pixel \(darkPixel + 1), \(darkName) − \(darkName)' = 0 − 0"),
                        draw: &draw),
                .choice(id: "q4", prompt: "Which baseline leaves the larger gap |f(x) − f(x')| to explain?",
                        correct: larger, wrong: [.init(smaller, .gapsCompared)],
                        hints: Hints(.igBaselines, nudge: "compute f at each baseline and compare with f(x)",
                                     formula: "gap = |f(x) − f(x')| with f(x) = Σ_i w_i x_i",
                                     firstStep: "black: |\(WorkedText.products(weights, pixels)) − 0|; blurred: |Σ_i w_i (x_i − x̄)| with x̄ = (\(WorkedText.sum(pixels))) / 4"),
                        draw: &draw),
            ])
    }
}

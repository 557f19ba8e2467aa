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

        return ExerciseContent(
            introduction: """
                f(x) = \(formatNumber(c))·x², explained at x with baseline x'. Approximate \
                IG = (x − x') ∫₀¹ f′(x' + α(x − x')) dα with m steps: left Riemann evaluates at \
                α = 0, 1/m, …, (m−1)/m, right Riemann at α = 1/m, …, 1, middle at the centres \
                of the m intervals; each value is weighted 1/m.
                """,
            given: [.number("x", input), .number("x'", baseline), .number("m (steps)", Double(steps))],
            questions: [
                Question(id: "q1", prompt: "What is the exact IG, f(x) − f(x')?", expected: .number(f(input) - f(baseline)),
                         hint: LessonStep.igCompleteness.hint("in 1-D the single attribution is the whole difference f(x) − f(x')")),
                Question(id: "q2", prompt: "What does left Riemann with m steps give?", expected: .number(ig(.left)),
                         hint: LessonStep.igRiemann.hint("left Riemann starts at α = 0 and never evaluates α = 1")),
                Question(id: "q3", prompt: "What does right Riemann with m steps give?", expected: .number(ig(.right)),
                         hint: LessonStep.igRiemann.hint("right Riemann starts at α = 1/m and ends at α = 1")),
                Question(id: "q4", prompt: "What does middle Riemann with m steps give?", expected: .number(ig(.middle)),
                         hint: LessonStep.igRiemann.hint("middle Riemann evaluates at the centre of each interval, (i + ½)/m")),
                .choice(id: "q5", prompt: "Which rules give the exact IG for this f, whatever m?",
                        correct: "middle Riemann and trapezoid",
                        wrong: ["left Riemann only", "right Riemann only", "none of them: a quadrature rule always has an error"],
                        hint: LessonStep.igRiemann.hint("along the path f′ is a straight line in α; which rules integrate a straight line exactly?"),
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

        return ExerciseContent(
            introduction: """
                f(x₁, x₂) = \(formatNumber(a))·x₁² + \(formatNumber(b))·x₁·x₂, explained at x with the \
                zero baseline x' = (0, 0). Along the path x' + α(x − x') = αx the gradient is \
                ∇f(αx) = α·∇f(x).
                """,
            given: [.vector("x", x), .vector("x'", [0, 0])],
            questions: [
                Question(id: "q1", prompt: "What are [IG₁, IG₂]? (2 decimals)", expected: .vector(ig),
                         hint: LessonStep.igPath.hint("IG_i = x_i ∫₀¹ α ∂f/∂x_i(x) dα, and ∫₀¹ α dα = ½")),
                Question(id: "q2", prompt: "What is IG₁ + IG₂?", expected: .number(ig.reduce(0, +)),
                         hint: LessonStep.igCompleteness.hint("completeness: the attributions add up to f(x) − f(x')")),
                Question(id: "q3", prompt: "What is gradient × input, [x₁ ∂f/∂x₁, x₂ ∂f/∂x₂] at x?",
                         expected: .vector(gradientTimesInput),
                         hint: LessonStep.igPath.hint("differentiate f by each input, evaluate at x, multiply by that input")),
                .choice(id: "q4", prompt: "Does gradient × input add up to f(x) − f(x') for this f?",
                        correct: verdict, wrong: verdicts.map(\.text).filter { $0 != verdict },
                        hint: LessonStep.igCompleteness.hint("add your two gradient × input values and compare with q2"),
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
                         hint: LessonStep.igPath.hint("for a linear f the gradient is w everywhere on the path")),
                Question(id: "q2", prompt: "What is the sum of the IG attributions with the blurred baseline? (2 decimals)",
                         expected: .number(igBlurred.reduce(0, +)),
                         hint: LessonStep.igCompleteness.hint("completeness: the sum is f(x) − f(x') for that baseline")),
                .choice(id: "q3", prompt: "Pixel \(darkPixel + 1) is black. With the black baseline its attribution is",
                        correct: "0, whatever its weight", wrong: ["its weight w_\(darkPixel + 1)", "f(x)", "negative"],
                        hint: LessonStep.igBaselines.hint("look at the factor (x_i − x'_i) in front of the integral"),
                        draw: &draw),
                .choice(id: "q4", prompt: "Which baseline leaves the larger gap |f(x) − f(x')| to explain?",
                        correct: larger, wrong: [smaller],
                        hint: LessonStep.igBaselines.hint("compute f at each baseline and compare with f(x)"),
                        draw: &draw),
            ])
    }
}

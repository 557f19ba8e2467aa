import Foundation
import MiniNet

/// Integrated Gradients on the small CNN: the path integral, five ways to approximate it, and
/// how the choice of baseline changes the answer.
///
///     IG_i(x) = (x_i − x′_i) · ∫₀¹ ∂f(x′ + α(x − x′))/∂x_i dα
///     Σ_i IG_i(x) = f(x) − f(x′)                                  (completeness)
public enum IGLesson: Lesson {
    public static let id = "ig"
    /// One line for `tutor lessons`, in the reader's language.
    public static var summary: String { translated("Integrated Gradients: the path integral, five quadrature rules, three baselines") }

    /// The step counts of the quadrature table.
    static let stepCounts = [10, 50, 200]
    /// Steps used for the baseline comparison (the largest of the table).
    static let baselineSteps = 200
    /// The same on a photo network (a ResNet at 224×224), where one pass costs about a thousand
    /// times the small CNN's (0.09 s on 2 cores for ResNet-34's forward and backward pass): the
    /// whole lesson is 2 · (10 + 25 + 50) + 2 · 25 = 220 passes instead of 620, so that a class
    /// waits about 20 s. The article's own run (200 steps) is one `tutor explain` away.
    static let photoStepCounts = [10, 25, 50]
    static let photoBaselineSteps = 25
    public static func build(_ context: LessonContext) throws -> Notebook {
        let text = try LessonText(lesson: id, language: context.language)
        let classifier = context.classifier
        let setup = try LessonSetup(context)
        let (picture, input, logits, targetClass, className) = (setup.picture, setup.input, setup.logits, setup.target, setup.className)
        let target = ExplanationTarget.logit(targetClass)
        let notebook = Notebook(lesson: id, title: text("title"))
        notebook.prose(text("intro"))

        // 1. The picture and the score to explain.
        notebook.step(text("input.title"), id: "ig.input")
        notebook.prose(text("input.body", ["class": className, "score": format(logits[targetClass])]))
        notebook.table(text("input.table"), headers: ["c", "class", "z_c"],
                       rows: CAMLessonSupport.shownClasses(logits, target: targetClass).map { ["\($0)", classifier.classNames[$0], format(logits[$0])] },
                       dataColumns: [1])
        notebook.picture(text("input.picture"), [.image(text("input.caption"), RGBImage(tensor: picture))])

        // 2. The formula.
        notebook.step(text("formula.title"), id: "ig.formula")
        notebook.prose(text("formula.body"))
        notebook.math("IG_i(x) = (x_i − x′_i) · ∫₀¹ ∂f(x′ + α(x − x′))/∂x_i dα",
                      latex: #"\mathrm{IG}_i(x) = (x_i - x'_i)\int_0^1 \frac{\partial f(x' + \alpha(x - x'))}{\partial x_i}\,d\alpha"#)
        notebook.prose(text("formula.completeness"))
        notebook.math("Σ_i IG_i(x) = f(x) − f(x′)", latex: #"\sum_i \mathrm{IG}_i(x) = f(x) - f(x')"#)
        notebook.prose(text("formula.sum"))
        notebook.math("IG_i(x) ≈ (x_i − x′_i) · Σ_m w_m · ∂f(x′ + α_m(x − x′))/∂x_i",
                      latex: #"\mathrm{IG}_i(x) \approx (x_i - x'_i)\sum_m w_m \frac{\partial f(x' + \alpha_m(x - x'))}{\partial x_i}"#)

        // 3. The five rules: where they put the points.
        notebook.step(text("rules.title"), id: "ig.rules")
        let shownSteps = 5
        notebook.prose(text("rules.body", ["steps": "\(shownSteps)"]))
        notebook.table(text("rules.table", ["steps": "\(shownSteps)"]), headers: ["rule", "α_m", "w_m", "Σ w_m"],
                       rows: IntegrationMethod.allCases.map { method in
                           let (alphas, weights) = method.pointsAndWeights(steps: shownSteps)
                           return [method.rawValue, alphas.map { String(format: "%.3f", $0) }.joined(separator: " "),
                                   weights.map { String(format: "%.3f", $0) }.joined(separator: " "),
                                   String(format: "%.3f", weights.reduce(0, +))]
                       })

        // 4. Completeness gap per rule and step count (zero baseline, Captum's default).
        notebook.step(text("gaps.title"), id: "ig.gaps")
        let zeroBaseline = Baseline.zero.make(for: input, classifier: classifier)
        // A photo network gets the two rules Captum users meet most, fewer steps, and its
        // baselines at the table's middle column (see `photoStepCounts`).
        let methods: [IntegrationMethod] = context.usesShapesData ? IntegrationMethod.allCases : [.riemannTrapezoid, .gaussLegendre]
        let stepCounts = context.usesShapesData ? Self.stepCounts : Self.photoStepCounts
        let baselineSteps = context.usesShapesData ? Self.baselineSteps : Self.photoBaselineSteps
        let batchSize = context.usesShapesData ? 200 : defaultIGBatchSize(for: input)
        let passCount = methods.count * stepCounts.reduce(0, +) + 2 * baselineSteps
        let totalPasses = Double(passCount)
        var passesDone = 0.0
        func integrate(_ baseline: Tensor, _ steps: Int, _ method: IntegrationMethod, _ label: String) throws -> IGResult {
            context.progress?(translated("Integrated Gradients, \(label), \(method.rawValue), \(steps) steps"), passesDone / totalPasses)
            defer { passesDone += Double(steps) }
            return try integratedGradients(classifier: classifier, input: input, baseline: baseline, target: target,
                                           steps: steps, method: method, batchSize: batchSize)
        }
        var results: [IntegrationMethod: [Int: IGResult]] = [:]
        for method in methods {
            for steps in stepCounts {
                results[method, default: [:]][steps] = try integrate(zeroBaseline, steps, method, "zero baseline")
            }
        }
        func result(_ method: IntegrationMethod, _ steps: Int) -> IGResult { results[method]![steps]! }
        let reference = result(.gaussLegendre, baselineSteps)   // 200 steps, or 25 on a photo network
        let change = Double(reference.scoreAtInput) - Double(reference.scoreAtBaseline)
        notebook.prose(text("gaps.body", ["fx": format(reference.scoreAtInput), "fbaseline": format(reference.scoreAtBaseline),
                                          "change": format(change)]))
        notebook.math(translated("gap = | Σ_i IG_i − (f(x) − f(x′)) |"),
                      latex: translated(#"\text{gap} = \Bigl|\sum_i \mathrm{IG}_i - \bigl(f(x) - f(x')\bigr)\Bigr|"#))
        // The gaps are printed to the digit their rounding reaches, so that every processor
        // prints the same table (the digits below are its own summation order's).
        let gapDecimals = Self.gapDecimals(methods.flatMap { method in stepCounts.map { result(method, $0) } }.map {
            $0.completenessTolerance(classifier: classifier, input: input, baseline: zeroBaseline)
        })
        let gapRows = methods.map { method in
            [method.rawValue] + stepCounts.map { String(format: "%.\(gapDecimals)f", result(method, $0).completenessGap) }
        }
        notebook.table(text("gaps.table"), headers: ["rule"] + stepCounts.map { "gap, \($0) steps" }, rows: gapRows)
        // What the text says about the table is read off the table as printed, and checked there.
        var grew: [(rule: String, from: Int, to: Int)] = []
        for row in gapRows {
            for index in 1..<stepCounts.count where (Double(row[index + 1]) ?? 0) > (Double(row[index]) ?? 0) {
                grew.append((row[0], stepCounts[index - 1], stepCounts[index]))
            }
        }
        if grew.isEmpty {
            notebook.prose(text("gaps.after.shrank"))
            notebook.check(.truth(text("gaps.after.shrank-check"), "\(gapRows.count) rows, each falling from left to right",
                                  gapRows.allSatisfy { row in zip(row.dropFirst(), row.dropFirst(2)).allSatisfy { Double($1)! <= Double($0)! } }))
        } else {
            let cases = grew.map { translated("\($0.rule) (\($0.from) → \($0.to) steps)") }
            notebook.prose(text("gaps.after.grew", ["cases": cases.joined(separator: ", ")]))
            let shown = grew.map { entry -> Bool in
                guard let row = gapRows.first(where: { $0[0] == entry.rule }),
                      let from = stepCounts.firstIndex(of: entry.from), let to = stepCounts.firstIndex(of: entry.to) else { return false }
                return Double(row[to + 1])! > Double(row[from + 1])!
            }
            notebook.check(.truth(text("gaps.after.grew-check"), cases.joined(separator: "; "), shown.allSatisfy { $0 }))
        }
        notebook.prose(text("gaps.after"))
        if !context.usesShapesData {
            notebook.prose(text("gaps.photo", ["steps": "\(stepCounts.last!)", "passes": "\(passCount)"]))
        }
        for method in methods {
            notebook.check(.equal(text("gaps.check", ["rule": method.rawValue, "steps": "\(stepCounts.last!)"]),
                                  "Σ IG", result(method, stepCounts.last!).totalAttribution, "f(x) − f(x′)", change,
                                  tolerance: result(method, stepCounts.last!).completenessTolerance(classifier: classifier, input: input,
                                                                                                    baseline: zeroBaseline)))
        }
        if context.usesShapesData {
            notebook.check(.equal(text("gaps.gauss"), "Σ IG (50 steps)", result(.gaussLegendre, 50).totalAttribution,
                                  "f(x) − f(x′)", change,
                                  tolerance: result(.gaussLegendre, 50).completenessTolerance(classifier: classifier, input: input,
                                                                                              baseline: zeroBaseline)))
        }

        // 5. The baseline.
        notebook.step(text("baselines.title"), id: "ig.baselines")
        notebook.prose(text("baselines.body", ["sigma": String(format: "%g", Baseline.blurSigma)]))
        let baselines: [Baseline] = [.black, .zero, .blurred]
        var byBaseline: [(baseline: Baseline, start: Tensor, result: IGResult)] = []
        for baseline in baselines {
            let start = baseline.make(for: input, classifier: classifier)                // [3, H, W]
            let attribution = baseline == .zero
                ? reference
                : try integrate(start, baselineSteps, .gaussLegendre, "\(baseline.rawValue) baseline")
            byBaseline.append((baseline, start, attribution))
        }
        let baselineGapDecimals = Self.gapDecimals(byBaseline.map {
            $0.result.completenessTolerance(classifier: classifier, input: input, baseline: $0.start)
        })
        notebook.table(text("baselines.table", ["steps": "\(baselineSteps)"]),
                       headers: ["baseline x′", "f(x′)", "f(x) − f(x′)", "Σ IG", "gap"],
                       rows: byBaseline.map { entry in
                           [entry.baseline.rawValue, format(entry.result.scoreAtBaseline),
                            format(Double(entry.result.scoreAtInput) - Double(entry.result.scoreAtBaseline)),
                            format(entry.result.totalAttribution), String(format: "%.\(baselineGapDecimals)f", entry.result.completenessGap)]
                       })
        notebook.picture(text("baselines.starts"), byBaseline.map { entry in
            .image(entry.baseline.rawValue, RGBImage(tensor: classifier.denormalize(entry.start).map { min(max($0, 0), 1) }))
        })
        for entry in byBaseline where context.usesShapesData {
            let baselineChange = Double(entry.result.scoreAtInput) - Double(entry.result.scoreAtBaseline)
            notebook.check(.equal(text("baselines.check", ["baseline": entry.baseline.rawValue]), "Σ IG",
                                  entry.result.totalAttribution, "f(x) − f(x′)", baselineChange,
                                  tolerance: entry.result.completenessTolerance(classifier: classifier, input: input,
                                                                                     baseline: entry.start)))
        }

        // 6. Pictures.
        notebook.step(text("pictures.title"), id: "ig.pictures")
        notebook.prose(text("pictures.body"))
        let maps = byBaseline.map { (name: $0.baseline.rawValue, map: channelSum($0.result.attributions)) }   // [H, W] each
        notebook.tensor("Σ_c IG (x′ = \(maps[0].name))", maps[0].map, caption: text("pictures.caption"))
        let gradient = try saliency(classifier: classifier, input: input, target: target, absolute: false)  // [3, H, W]
        notebook.picture(text("pictures.row"),
                         [.image(text("input.caption"), RGBImage(tensor: picture))]
                         + maps.map { AttributionPanels.heatmap("IG, x′ = \($0.name)", $0.map) }
                         + [AttributionPanels.heatmap(text("pictures.saliency"), channelSum(gradient))])
        notebook.prose(text("pictures.after"))
        // The second article's own view: the positive part, the top 1% clipped, white to black.
        let zeroMap = maps[baselines.firstIndex(of: .zero) ?? 0].map
        notebook.prose(text("pictures.article"))
        notebook.picture(text("pictures.article-row"), [
            .image(text("input.caption"), RGBImage(tensor: picture)),
            .heatmap(text("pictures.article-panel"),
                     AttributionDisplay.normalize(zeroMap, sign: .positive, outlierPercent: AttributionPanels.outlierPercent),
                     map: .whiteToBlack),
        ])

        // 7. IG and LRP side by side, as the second article compares them.
        try versusLRPStep(notebook, text: text, classifier: classifier, input: input, picture: picture, target: targetClass,
                          integrated: maps[baselines.firstIndex(of: .zero) ?? 0].map,
                          mask: context.usesShapesData ? context.defaultPictureMask(imageSize: picture.shape[1]) : nil)
        notebook.references(text)
        return notebook
    }

    /// IG (zero baseline) and LRP-ε on the same picture and class, compared by the rank
    /// correlation of their positive parts and, on the shapes data, by the share of each map's
    /// positive mass that falls on the object's mask:
    ///
    ///     mass on mask = Σ_{i ∈ mask} max(Rᵢ, 0) / Σᵢ max(Rᵢ, 0)
    ///
    /// A map that is the same everywhere puts exactly the mask's area fraction there: the
    /// score to beat.
    static func versusLRPStep(_ notebook: Notebook, text: LessonText, classifier: ImageClassifier, input: Tensor,
                              picture: Tensor, target: Int, integrated: Tensor, mask: Tensor?) throws {
        let lrp = try layerwiseRelevance(classifier: classifier, input: input, target: target,
                                         ruleMap: LRPRuleMap(linear: .epsilon(LRPLesson.ledgerEpsilon)), keepingLayerRelevance: false)
        let relevance = channelSum(lrp.relevance)                              // [H, W]
        let positive = { (map: Tensor) in map.data.map { Swift.max($0, 0) } }
        let correlation = spearmanCorrelation(positive(integrated), positive(relevance))
        notebook.step(text("versus.title"), id: "ig.versus-lrp")
        notebook.prose(text("versus.body", ["epsilon": "\(LRPLesson.ledgerEpsilon)"]))
        notebook.math("ρ = corr(rank max(IG, 0), rank max(R, 0))",
                      latex: #"\rho = \mathrm{corr}\bigl(\mathrm{rank}\,\max(\mathrm{IG}, 0),\ \mathrm{rank}\,\max(R, 0)\bigr)"#)
        var rows = [["Spearman ρ of the positive parts", correlation.map { String(format: "%.3f", $0) } ?? "—", ""]]
        var panels: [Panel] = [.image(text("input.caption"), RGBImage(tensor: picture)),
                                       AttributionPanels.heatmap(text("versus.ig"), integrated),
                                       AttributionPanels.heatmap(text("versus.lrp"), relevance)]
        if let mask {
            func massOnMask(_ values: [Float]) -> Double {
                let total = values.reduce(0.0) { $0 + Double($1) }
                let inside = zip(values, mask.data).reduce(0.0) { $0 + ($1.1 > 0.5 ? Double($1.0) : 0) }
                return total > 0 ? inside / total : .nan
            }
            let area = Double(mask.data.filter { $0 > 0.5 }.count) / Double(mask.data.count)
            let uniform = massOnMask([Float](repeating: 1, count: mask.data.count))
            rows += [["mass on the mask, IG", String(format: "%.3f", massOnMask(positive(integrated))), String(format: "%.3f", area)],
                     ["mass on the mask, LRP-ε", String(format: "%.3f", massOnMask(positive(relevance))), String(format: "%.3f", area)]]
            notebook.prose(text("versus.mask"))
            // Σ over the mask of ones, over Σ of ones: whole numbers, exact in Double, so the same
            // quotient as the area fraction bit for bit.
            notebook.check(.equal(text("versus.uniform-check"), "mass on the mask of a flat map", uniform,
                                  "area of the mask", area, tolerance: .exact))
            panels.append(.heatmap(text("versus.mask-panel"), mask))
        }
        notebook.table(text("versus.table"), headers: ["measure", "value", "a flat map"], rows: rows)
        notebook.picture(text("versus.row"), panels)
        notebook.prose(text("versus.after"))
    }

    /// Σ_c A[c, y, x]: [C, H, W] → [H, W]
    static func channelSum(_ attributions: Tensor) -> Tensor { AttributionDisplay.channelSum(attributions) }

    static func format(_ value: Float) -> String { String(format: "%.4f", value) }

    /// How many decimals of a completeness gap are the same on every processor: down to one
    /// digit past the order of the largest rounding bound (the quadrature part of the tolerance
    /// is the method's own error, not rounding), and at most 5.
    static func gapDecimals(_ tolerances: [Tolerance]) -> Int {
        let rounding = tolerances.map { $0.value - $0.extra }.max() ?? 0
        guard rounding > 0 else { return 5 }
        return Swift.min(5, Swift.max(0, Int((-log10(rounding)).rounded(.down)) + 1))
    }
    static func format(_ value: Double) -> String { String(format: "%.4f", value) }
}

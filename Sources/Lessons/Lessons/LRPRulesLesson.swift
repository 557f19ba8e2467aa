import Foundation
import MiniNet

/// Lesson "lrprules": the LRP rules and composites of Zennit (docs/lrp-rules.md) on one picture.
///
/// The rule on every convolution is one of
///
///     ε:   R_j = Σ_k a_j w_jk / (z_k + ε·sign z_k) · R_k
///     z⁺:  R_j = Σ_k z⁺_jk / (z⁺_k + ε) · R_k,                 z⁺_jk = a⁺_j w⁺_jk + a⁻_j w⁻_jk
///     αβ:  R_j = Σ_k (α z⁺_jk / (z⁺_k + ε) − β z⁻_jk / (z⁻_k − ε)) · R_k,   α − β = 1
///     γ:   R_j = Σ_k (a⁺(w + γw⁺) + a⁻(w + γw⁻))_jk / (z_k + γ z⁺_k + ε) · R_k   (z_k > 0)
///
/// with ε on the linear layer, as Zennit's composites do; then the named composites with a rule
/// of their own on the first layer (flat, zᴮ). For each run the lesson checks conservation,
///
///     f(x) = Σ_i R_i + Σ_layers (bias kept + ε kept),
///
/// and shows the positive and the negative relevance. It then checks why z⁺ cannot create
/// negative relevance (on a network without residual sums the negative part can only shrink on
/// the way down), that αβ with β = 0 is z⁺, how γ moves from ε to z⁺, and where EpsilonGammaBox
/// loses relevance: to the biases of the merged BatchNorms, which sit in every γ denominator.
public enum LRPRulesLesson: Lesson {
    public static let id = "lrprules"
    /// One line for `tutor lessons`, in the reader's language.
    public static var summary: String { translated("LRP rules and composites: ε, z⁺, αβ, γ on one picture, with conservation and the sign of the relevance") }

    /// Zennit's γ in EpsilonGammaBox.
    static let gamma: Float = 0.25
    /// The γ of the table that walks from ε to z⁺ (0.25 and ∞ = z⁺ come from the runs before).
    static let gammaWalk: [Float] = [0, 1, 4]

    /// One LRP run and what the lesson reads from it.
    struct Run {
        /// How the lesson names the run: the rule on Conv2d, or the composite's Zennit name.
        var label: String
        var result: LRPResult
        var positive: Double { result.relevance.data.reduce(0) { $0 + Double(max($1, 0)) } }
        var negative: Double { result.relevance.data.reduce(0) { $0 + Double(min($1, 0)) } }
        var magnitude: Double { positive - negative }
        var total: Double { result.relevance.sum() }
        var biasKept: Double { result.steps.reduce(0) { $0 + $1.absorbedByBias } }
        var epsilonKept: Double { result.steps.reduce(0) { $0 + $1.absorbedByStabilizer } }
        /// |Σ R⁻| / Σ |R|: how much of the relevance is negative.
        var negativeShare: Double { magnitude > 0 ? -negative / magnitude : 0 }
    }

    public static func build(_ context: LessonContext) throws -> Notebook {
        let text = try LessonText(lesson: id, language: context.language)
        let classifier = context.classifier
        if let layer = context.layer, classifier.layer(named: layer) == nil {
            throw MiniNetError.invalidArgument("no layer named '\(layer)'; layers are: \(classifier.layerNames.joined(separator: ", "))")
        }
        if let target = context.targetClass, !(0..<classifier.classNames.count).contains(target) {
            throw MiniNetError.invalidArgument("class \(target) is out of range 0..<\(classifier.classNames.count)")
        }
        let (image, input) = try CAMLessonSupport.picture(context)             // [3, H, W] each
        classifier.prepareForExplanation()
        let logits = classifier.forward(input.reshaped([1] + input.shape)).data   // [L]
        let c = try CAMLessonSupport.targetClass(context, logits: logits)
        let isResNet = classifier.network.allLayers.contains { $0 is Residual }
        let photo = RGBImage(tensor: image)
        let notebook = Notebook(lesson: id, title: text("title"))
        notebook.prose(text("intro", ["class": classifier.classNames[c], "c": "\(c)", "score": format(logits[c])]))

        // Step 1: four rules, one recipe.
        notebook.step(text("rules.title"), id: "lrprules.rules")
        notebook.prose(text("rules.body"))
        notebook.math("ε:   R_j = Σ_k a_j w_jk / (z_k + ε·sign z_k) · R_k",
                      latex: #"\epsilon:\quad R_j = \sum_k \frac{a_j w_{jk}}{z_k + \epsilon\,\mathrm{sign}\,z_k}\, R_k"#)
        notebook.math("z⁺:   R_j = Σ_k z⁺_jk / (z⁺_k + ε) · R_k,   z⁺_jk = a⁺_j w⁺_jk + a⁻_j w⁻_jk,   z⁺_k = Σ_j z⁺_jk + b⁺_k",
                      latex: #"z^+:\quad R_j = \sum_k \frac{z^+_{jk}}{z^+_k + \epsilon}\, R_k,\quad z^+_{jk} = a^+_j w^+_{jk} + a^-_j w^-_{jk},\quad z^+_k = \sum_j z^+_{jk} + b^+_k"#)
        notebook.math("αβ:   R_j = Σ_k (α z⁺_jk / (z⁺_k + ε) − β z⁻_jk / (z⁻_k − ε)) · R_k,   z⁻_jk = a⁺_j w⁻_jk + a⁻_j w⁺_jk,   α − β = 1",
                      latex: #"\alpha\beta:\quad R_j = \sum_k \Big(\alpha\,\frac{z^+_{jk}}{z^+_k + \epsilon} - \beta\,\frac{z^-_{jk}}{z^-_k - \epsilon}\Big) R_k,\quad z^-_{jk} = a^+_j w^-_{jk} + a^-_j w^+_{jk},\quad \alpha - \beta = 1"#)
        notebook.math("γ:   R_j = Σ_k (a⁺_j (w + γw⁺)_jk + a⁻_j (w + γw⁻)_jk) / (z_k + γ z⁺_k + ε) · R_k   (z_k > 0)",
                      latex: #"\gamma:\quad R_j = \sum_k \frac{a^+_j (w + \gamma w^+)_{jk} + a^-_j (w + \gamma w^-)_{jk}}{z_k + \gamma z^+_k + \epsilon}\, R_k \quad (z_k > 0)"#)
        notebook.prose(text("rules.data"))

        // Every run of the lesson at once: one BatchNorm merge and one recorded forward pass
        // for all of them (they differ only in the rules). The checks bound conservation as a
        // whole (`conservationTolerance`), which reads no layer's Σ|terms|: not measured. Nor
        // does any step read a layer's tensor of relevance below the top, only its totals: not
        // kept (about 25 MB a run on a ResNet-34).
        let planned: [(label: String, ruleMap: LRPRuleMap)] = [
            ("ε", LRPComposite.epsilon().ruleMap),
            ("z⁺", LRPComposite.epsilonPlus().ruleMap),
            ("αβ (α = 2, β = 1)", LRPComposite.epsilonAlpha2Beta1().ruleMap),
            ("γ (γ = \(shortNumber(gamma)))", withConvolutionRule(.gamma(gamma))),
            ("EpsilonPlusFlat", LRPComposite.epsilonPlusFlat().ruleMap),
            ("EpsilonGammaBox", try LRPComposite.named("epsilon-gamma-box", for: classifier, gamma: gamma).ruleMap),
            // αβ with α = 1, β = 0: the β term is there but weighs 0, so the rule is z⁺ (the
            // same parts, the same denominator, in the same order).
            ("αβ (α = 1, β = 0)", withConvolutionRule(try .alphaBeta(alpha: 1, beta: 0))),
        ] + gammaWalk.map { ("γ = \(shortNumber($0))", withConvolutionRule(.gamma($0))) }
        let runs = try zip(planned, layerwiseRelevance(classifier: classifier, input: input, target: c,
                                                       ruleMaps: planned.map(\.ruleMap), measuringRounding: false,
                                                       keepingLayerRelevance: false)).map { Run(label: $0.label, result: $1) }
        let (epsilonRun, plusRun, alphaBetaRun, gammaRun, flatRun, boxRun, oneZero) = (runs[0], runs[1], runs[2], runs[3], runs[4], runs[5], runs[6])

        // Step 2: the same picture under each rule on the convolutions, ε on the linear layer.
        let ruleRuns = [epsilonRun, plusRun, alphaBetaRun, gammaRun]
        notebook.step(text("compare.title"), id: "lrprules.compare")
        notebook.prose(text("compare.body"))
        notebook.math(translated("f(x) = Σ_i R_i + Σ_layers (bias kept + ε kept)"),
                      latex: translated(#"f(x) = \sum_i R_i + \sum_{\text{layers}} \left(\text{bias kept} + \epsilon\text{ kept}\right)"#))
        notebook.table(text("compare.table"), headers: ["rule on Conv2d"] + ledgerHeaders, rows: ruleRuns.map(ledgerRow))
        for run in ruleRuns {
            notebook.check(conservationCheck(text, run, classifier: classifier, input: input))
        }
        notebook.prose(text("compare.shares", [
            "plus": percent(plusRun.negativeShare), "epsilon": percent(epsilonRun.negativeShare),
            "alphabeta": percent(alphaBetaRun.negativeShare), "gamma": percent(gammaRun.negativeShare)]))
        notebook.picture(text("compare.picture", ["class": classifier.classNames[c]]),
                         [.image("x", photo)] + ruleRuns.map { AttributionPanels.heatmap($0.label, channelSum($0.result.relevance)) })

        // Step 3: the composites, with their first-layer rules.
        notebook.step(text("composites.title"), id: "lrprules.composites")
        let bounds = LRPInputBounds(classifier: classifier)
        notebook.prose(text("composites.body", ["low": bounds.low.map { format($0) }.joined(separator: ", "),
                                                "high": bounds.high.map { format($0) }.joined(separator: ", ")]))
        let composites = try LRPComposite.ids.map { try LRPComposite.named($0, for: classifier, gamma: gamma) }
        let runOf: [String: Run] = ["epsilon": epsilonRun, "epsilon-plus": plusRun, "epsilon-alpha2-beta1": alphaBetaRun,
                                    "epsilon-plus-flat": flatRun, "epsilon-gamma-box": boxRun]
        notebook.table(text("composites.table"), headers: ["--composite", "Zennit", "rules"] + ["Σ_i R_i", "negative share"],
                       rows: composites.map { composite in
                           let run = runOf[composite.id]
                           return [composite.id, composite.zennitName, composite.summary,
                                   run.map { formatWide($0.total) } ?? "", run.map { percent($0.negativeShare) } ?? ""]
                       }, dataColumns: [0, 1])
        for run in [flatRun, boxRun] {
            notebook.check(conservationCheck(text, run, classifier: classifier, input: input, name: "composites.check"))
        }
        notebook.picture(text("composites.picture"), [.image("x", photo)]
                         + [plusRun, flatRun, gammaRun, boxRun].map { AttributionPanels.heatmap($0.label, channelSum($0.result.relevance)) })

        // Step 4: why z⁺ and αβ behave as they do.
        notebook.step(text("why.title"), id: "lrprules.why")
        notebook.prose(text("why.plus"))
        notebook.math("R_j = Σ_k s_jk R_k,   s_jk = z⁺_jk / (z⁺_k + ε) ≥ 0,   Σ_j s_jk ≤ 1   ⇒   Σ_j |min(R_j, 0)| ≤ Σ_k |min(R_k, 0)|",
                      latex: #"R_j = \sum_k s_{jk} R_k,\quad s_{jk} = \frac{z^+_{jk}}{z^+_k + \epsilon} \ge 0,\quad \sum_j s_{jk} \le 1 \;\Rightarrow\; \sum_j |\min(R_j, 0)| \le \sum_k |\min(R_k, 0)|"#)
        let headName = classifier.network.allLayers.last(where: { $0 is Linear })?.name
        let headStep = plusRun.result.steps.first { $0.layer == headName }
        let negativeAtTop = headStep.map(negativeRelevance) ?? 0
        let negativeAtInput = -plusRun.negative
        let values = ["top": formatWide(negativeAtTop), "input": formatWide(negativeAtInput), "head": headName ?? ""]
        if isResNet {
            notebook.prose(text("why.plus.resnet", values))
        } else {
            notebook.prose(text("why.plus.chain", values))
            // Every layer below the linear one hands on non-negative shares: z⁺ on the
            // convolutions, ε on the average pooling of non-negative maps, the winner of each
            // max-pooling window. The two sides are sums of the same relevances, rounded.
            let rounding = plusRun.result.conservationTolerance(classifier: classifier, input: input)
            notebook.check(.truth(text("why.plus.check", ["head": headName ?? ""]),
                                  "Σ_i |R_i⁻| = \(formatWide(negativeAtInput)) ≤ \(formatWide(negativeAtTop)) + \(formatWide(rounding.value))",
                                  negativeAtInput <= negativeAtTop + rounding.value))
        }
        notebook.prose(text("why.alphabeta", ["plus": formatWide(plusRun.magnitude), "alphabeta": formatWide(alphaBetaRun.magnitude),
                                              "ratio": String(format: "%.2f", plusRun.magnitude > 0 ? alphaBetaRun.magnitude / plusRun.magnitude : 0)]))
        notebook.check(.equal(text("why.alphabeta.check"), "αβ (α = 1, β = 0)", oneZero.result.relevance,
                              "z⁺", plusRun.result.relevance, tolerance: .exact))

        // Step 5: γ walks from ε to z⁺.
        var walk = zip(gammaWalk, runs.suffix(gammaWalk.count)).map { (gamma: shortNumber($0), run: $1) }
        walk.insert((shortNumber(gamma), gammaRun), at: 1)
        walk.append(("∞ (z⁺)", plusRun))
        notebook.step(text("gamma.title"), id: "lrprules.gamma")
        notebook.prose(text("gamma.body"))
        let plusMagnitude = max(plusRun.magnitude, .leastNonzeroMagnitude)
        notebook.table(text("gamma.table"), headers: ["γ", "Σ_i R_i", "negative share", "Σ_i |R_i − R_i(z⁺)| / Σ_i |R_i(z⁺)|"],
                       rows: walk.map { entry in
                           let distance = zip(entry.run.result.relevance.data, plusRun.result.relevance.data)
                               .reduce(0.0) { $0 + Double(abs($1.0 - $1.1)) } / plusMagnitude
                           return [entry.gamma, formatWide(entry.run.total), percent(entry.run.negativeShare), String(format: "%.4f", distance)]
                       })
        notebook.prose(text("gamma.after"))

        // Step 6: where EpsilonGammaBox's relevance goes.
        notebook.step(text("box.title"), id: "lrprules.box")
        notebook.prose(text(isResNet ? "box.body.resnet" : "box.body.small"))
        notebook.table(text("box.table"),
                       headers: [isResNet ? "stage" : "layer", "EpsilonGammaBox: bias kept", "EpsilonGammaBox: ε kept",
                                 "EpsilonPlus: bias kept", "EpsilonPlus: ε kept"],
                       rows: keptRows(box: boxRun.result, plus: plusRun.result, network: classifier.network, byStage: isResNet))
        notebook.prose(text(isResNet ? "box.after.resnet" : "box.after.small", [
            "score": formatWide(Double(boxRun.result.score)), "total": formatWide(boxRun.total),
            "positive": formatWide(boxRun.positive), "negative": formatWide(boxRun.negative),
            "bias": formatWide(boxRun.biasKept), "plusBias": formatWide(plusRun.biasKept), "plusTotal": formatWide(plusRun.total)]))
        notebook.references(text)
        return notebook
    }

    // MARK: - Runs

    /// Zennit's base layer map (Norm, ε = 1e-6, on average pooling and residual sums) with
    /// `rule` on every convolution and ε on the linear layers, as its composites have.
    static func withConvolutionRule(_ rule: LRPRule) -> LRPRuleMap {
        let norm = LRPRule.epsilon(LRPRule.defaultStabilizer)
        return LRPRuleMap(convolution: rule, dense: .epsilon(LRPComposite.defaultEpsilon), averagePool: norm, residualSum: norm)
    }

    static let ledgerHeaders = ["f(x)", "Σ_i R_i", "bias kept", "ε kept", "Σ_i R_i⁺", "Σ_i R_i⁻", "negative share"]

    static func ledgerRow(_ run: Run) -> [String] {
        [run.label, formatWide(Double(run.result.score)), formatWide(run.total), formatWide(run.biasKept), formatWide(run.epsilonKept),
         formatWide(run.positive), formatWide(run.negative), percent(run.negativeShare)]
    }

    /// f(x) = Σ_i R_i + Σ_layers (bias kept + ε kept), within `LRPResult.conservationTolerance`.
    /// Leaving out one layer's kept amount is a mistake as real as leaving out the largest R_i.
    static func conservationCheck(_ text: LessonText, _ run: Run, classifier: ImageClassifier, input: Tensor,
                                  name: String = "compare.check") -> Check {
        var tolerance = run.result.conservationTolerance(classifier: classifier, input: input)
        let largestKept = run.result.steps.map { max(abs($0.absorbedByBias), abs($0.absorbedByStabilizer)) }.max() ?? 0
        for index in tolerance.parts.indices {
            tolerance.parts[index].largestTerm = max(tolerance.parts[index].largestTerm, largestKept)
        }
        return .equal(text(name, ["rule": run.label]), "f(x)", Double(run.result.score),
                      "Σ_i R_i + bias kept + ε kept", run.total + run.result.totalAbsorbed, tolerance: tolerance)
    }

    /// What biases and stabilisers kept, layer by layer (small CNN: every layer that kept
    /// something) or stage by stage (ResNet: conv1 … maxpool, layer1, …, layer4, the head).
    static func keptRows(box: LRPResult, plus: LRPResult, network: Layer, byStage: Bool) -> [[String]] {
        func group(_ layer: String) -> String {
            guard byStage else { return layer }
            let first = String(layer.split(separator: " ").first ?? "").split(separator: ".").first.map(String.init) ?? layer
            return first.hasPrefix("layer") || first == "fc" || first == "avgpool" ? first : "conv1 … maxpool"
        }
        var order: [String] = []
        var kept: [String: [Double]] = [:]                                       // bias, ε (box), bias, ε (plus)
        for (index, result) in [box, plus].enumerated() {
            for step in result.steps where step.absorbedByBias != 0 || step.absorbedByStabilizer != 0 {
                let name = group(step.layer)
                if kept[name] == nil { order.append(name); kept[name] = [0, 0, 0, 0] }
                kept[name]![2 * index] += step.absorbedByBias
                kept[name]![2 * index + 1] += step.absorbedByStabilizer
            }
        }
        return order.map { name in [name] + (kept[name] ?? []).map(formatWide) }
    }

    // MARK: - Formatting

    /// [C, H, W] → [H, W]: a pixel's relevance is the sum over its colour channels.
    static func channelSum(_ relevance: Tensor) -> Tensor { AttributionDisplay.channelSum(relevance) }

    /// Σ_j |min(R_j, 0)| at a layer's input, from its ledger's totals alone:
    ///
    ///     Σ_j min(R_j, 0) = (Σ_j R_j − Σ_j |R_j|) / 2
    ///
    /// (each R_j > 0 adds R_j − R_j = 0, each R_j < 0 adds R_j + R_j), so the lesson need not keep
    /// the tensor.
    static func negativeRelevance(_ step: LRPLayerStep) -> Double {
        (step.relevanceMagnitude - step.relevanceAtInput) / 2
    }

    static func format(_ value: Float) -> String { format(Double(value)) }
    static func format(_ value: Double) -> String { String(format: "%.4f", value) }

    /// Fixed notation, or scientific where the fixed format would show only zeros.
    static func formatWide(_ value: Double) -> String {
        let size = abs(value)
        return size != 0 && (size >= 1e6 || size < 1e-4) ? String(format: "%.3e", value) : format(value)
    }

    static func percent(_ fraction: Double) -> String { String(format: "%.1f %%", 100 * fraction) }

    /// 2 for 2.0, 0.25 for 0.25.
    static func shortNumber(_ value: Float) -> String {
        value == value.rounded() ? String(Int(value)) : "\(value)"
    }
}

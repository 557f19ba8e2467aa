/// Methods that attribute the score to the input values, [C, H, W], on the common interface.

/// Saliency: the signed gradient ∂y^c/∂x_i (see `saliency`).
public struct SaliencyExplainer: Explainer {
    public let id = "saliency"
    public let summary = "Saliency: the gradient of the score with respect to each input value (Simonyan et al. 2014)"
    public let settings: Set<ExplainerSetting> = []

    public init() {}

    public func explain(_ input: Tensor, classifier: ImageClassifier, target: ExplanationTarget,
                        settings: ExplainerSettings) throws -> Explanation {
        // What `saliency(…, absolute: false)` computes, with the logits of the same forward pass
        // instead of a second one (a second forward pass took as long as the first).
        try validateExplanationInput(classifier: classifier, input: input, target: target)
        classifier.prepareForExplanation()
        let (gradients, batchLogits) = inputGradients(classifier: classifier, batch: input.reshaped([1] + input.shape), target: target)
        return explanation(gradient: gradients.reshaped(input.shape), logits: batchLogits.data, target: target)
    }

    /// The explanation from ∂y^c/∂x [C, H, W] and the logits of its forward pass.
    func explanation(gradient: Tensor, logits: [Float], target: ExplanationTarget) -> Explanation {
        Explanation(method: id, target: target, score: target.valueAndGradient(logits: logits).value, logits: logits,
                    raw: gradient, heatmap: AttributionDisplay.channelSum(gradient), isSigned: true)
    }
}

/// Integrated Gradients, with its completeness identity Σ_i IG_i = f(x) − f(x′) checked.
public struct IntegratedGradientsExplainer: Explainer {
    public let id = "ig"
    public let summary = "Integrated Gradients: the gradient integrated along the path from a baseline (Sundararajan et al. 2017)"
    public let settings: Set<ExplainerSetting> = [.steps, .integration, .baseline]

    public init() {}

    public func explain(_ input: Tensor, classifier: ImageClassifier, target: ExplanationTarget,
                        settings: ExplainerSettings) throws -> Explanation {
        let baseline = settings.baseline.make(for: input, classifier: classifier)
        let result = try integratedGradients(classifier: classifier, input: input, baseline: baseline, target: target,
                                             steps: settings.steps, method: settings.integration, progress: settings.progress)
        let logits = classifier.forward(input.reshaped([1] + input.shape)).data
        let completeness = Check.equal(
            "Σ_i IG_i = f(x) − f(x′) (completeness)", "Σ_i IG_i", result.totalAttribution,
            "f(x) − f(x′)", Double(result.scoreAtInput) - Double(result.scoreAtBaseline),
            tolerance: result.completenessTolerance(classifier: classifier, input: input, baseline: baseline))
        return Explanation(method: id, target: target, score: result.scoreAtInput, logits: logits,
                           raw: result.attributions, heatmap: AttributionDisplay.channelSum(result.attributions), isSigned: true,
                           figures: [("score_at_baseline", Double(result.scoreAtBaseline)), ("attribution_total", result.totalAttribution)],
                           checks: [completeness])
    }
}

/// Layer-wise relevance propagation with one composite (which rule on which layer), its
/// conservation ledger checked: f(x) = Σ_i R_i + what biases and ε kept.
public struct LRPExplainer: Explainer {
    public let id: String
    public let summary: String
    public let settings: Set<ExplainerSetting>
    let composite: @Sendable (ExplainerSettings, ImageClassifier) throws -> LRPComposite

    public static let zero = LRPExplainer(
        id: "lrp-0", summary: "LRP-0: relevance passed back in proportion to each input's contribution (Bach et al. 2015)",
        settings: [.batchNormMerge], composite: { _, _ in .lrpZero })

    /// ε on every convolution and linear layer, Norm on average pooling and residual sums.
    public static let epsilon = LRPExplainer(
        id: "lrp-epsilon", summary: "LRP-ε: LRP-0 with a stabiliser ε that absorbs weak, contradictory relevance",
        settings: [.epsilon, .batchNormMerge], composite: { settings, _ in .epsilon(settings.epsilon) })

    /// Any of Zennit's composites, by `--composite` id (`LRPComposite.ids`).
    public static let composite = LRPExplainer(
        id: "lrp", summary: "LRP with one of Zennit's composites: epsilon, epsilon-plus, epsilon-plus-flat, epsilon-gamma-box, epsilon-alpha2-beta1",
        settings: [.composite, .epsilon, .batchNormMerge],
        composite: { settings, classifier in try LRPComposite.named(settings.composite, for: classifier, epsilon: settings.epsilon) })

    public func explain(_ input: Tensor, classifier: ImageClassifier, target: ExplanationTarget,
                        settings: ExplainerSettings) throws -> Explanation {
        let result = try layerwiseRelevance(classifier: classifier, input: input, target: target,
                                            composite: try composite(settings, classifier),
                                            leavingNeutralBatchNorm: settings.zennitBatchNormMerge,
                                            // The conservation check's tolerance needs only Σ|R| per layer.
                                            measuringRounding: false, keepingLayerRelevance: false)
        let conservation = Check.equal(
            "f(x) = Σ_i R_i + relevance absorbed by biases and ε", "f(x)", Double(result.score),
            "Σ_i R_i + absorbed", result.relevance.sum() + result.totalAbsorbed,
            tolerance: result.conservationTolerance(classifier: classifier, input: input))
        return Explanation(method: id, target: target, score: result.score, logits: result.logits,
                           raw: result.relevance, heatmap: AttributionDisplay.channelSum(result.relevance), isSigned: true,
                           figures: [("relevance_total", result.relevance.sum()), ("absorbed", result.totalAbsorbed)],
                           checks: [conservation])
    }
}

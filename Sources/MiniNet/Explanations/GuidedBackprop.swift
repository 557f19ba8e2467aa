/// Guided backpropagation (Springenberg et al. 2015, "Striving for simplicity"; Captum's
/// `GuidedBackprop`) for input x [C, H, W]: the backward pass of saliency with every ReLU
/// under the guided rule (`ReLUGradientRule.guided`),
///
///     R^(L)   = ∂y^c/∂z^(L)                              at the logits, as the gradient
///     at a ReLU y = max(0, x):   R_x = max(R_y, 0) · [x > 0]
///     every other layer (convolution, BatchNorm, pooling, linear): its ordinary backward pass
///     GB_i    = R at the input x_i
///
/// Compared with the gradient, a ReLU also drops the negative signals coming back, so only
/// the paths that raise the score at every ReLU reach the input: the map is sharp and
/// picture-like. (It is also nearly independent of the class and of the upper layers' weights,
/// Adebayo et al. 2018, "Sanity checks for saliency maps": a map to read with care.) Without
/// ReLUs it is the gradient. Returns [C, H, W], signed (negative values come only from the
/// layers before the first ReLU).
public func guidedBackpropagation(classifier: ImageClassifier, input: Tensor, target: ExplanationTarget) throws -> Tensor {
    try guidedBackpropagationAndLogits(classifier: classifier, input: input, target: target).attributions
}

func guidedBackpropagationAndLogits(classifier: ImageClassifier, input: Tensor,
                                    target: ExplanationTarget) throws -> (attributions: Tensor, logits: [Float]) {
    try validateExplanationInput(classifier: classifier, input: input, target: target)
    classifier.prepareForExplanation()
    let (gradients, logits) = classifier.withReLUGradientRule(.guided) {
        inputGradients(classifier: classifier, batch: input.reshaped([1] + input.shape), target: target)
    }
    return (gradients.reshaped(input.shape), logits.data)
}

/// Guided backpropagation on the common interface.
public struct GuidedBackpropExplainer: Explainer {
    public let id = "guided-backprop"
    public let summary = "Guided backpropagation: the gradient with every ReLU also passing back only positive signals (Springenberg et al. 2015)"
    public let settings: Set<ExplainerSetting> = []

    public init() {}

    public func explain(_ input: Tensor, classifier: ImageClassifier, target: ExplanationTarget,
                        settings: ExplainerSettings) throws -> Explanation {
        let (attributions, logits) = try guidedBackpropagationAndLogits(classifier: classifier, input: input, target: target)
        return explanation(attributions: attributions, logits: logits, target: target)
    }

    /// The explanation from the guided backward pass's GB [C, H, W] and the logits of its forward pass.
    func explanation(attributions: Tensor, logits: [Float], target: ExplanationTarget) -> Explanation {
        Explanation(method: id, target: target, score: target.valueAndGradient(logits: logits).value, logits: logits,
                    raw: attributions, heatmap: AttributionDisplay.channelSum(attributions), isSigned: true)
    }
}

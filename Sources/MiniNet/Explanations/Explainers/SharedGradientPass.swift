/// Several gradient methods on one picture from one forward pass: a CAM of the family (from a
/// probe of its layer), saliency and input × gradient (from ∂y^c/∂x) and guided backpropagation
/// (a second backward pass through the same forward pass, its ReLUs under the guided rule). Each
/// explanation is, bit for bit, the one its explainer gives alone: the same forward pass, the
/// same backward passes, in the same operations. The sanity checks' cascade asks three of these
/// methods about every network it makes; alone they took three forward and three backward
/// passes, together one forward and two backward.
public enum SharedGradientPass {
    /// Whether every one of `explainers` is a method this pass serves, and there are two or more.
    public static func serves(_ explainers: [any Explainer]) -> Bool {
        explainers.count >= 2 && explainers.allSatisfy {
            $0 is CAMFamilyExplainer || $0 is SaliencyExplainer || $0 is InputTimesGradientExplainer || $0 is GuidedBackpropExplainer
        }
    }

    /// One explanation per explainer, in their order. `explainers` must be served (`serves`).
    ///
    /// - input: the prepared image [C, H, W]
    public static func explain(_ explainers: [any Explainer], input: Tensor, classifier: ImageClassifier,
                               target: ExplanationTarget, settings: ExplainerSettings) throws -> [Explanation] {
        precondition(serves(explainers), "SharedGradientPass serves CAMs, saliency, input × gradient and guided backpropagation")
        try validateExplanationInput(classifier: classifier, input: input, target: target)
        let wantsGradient = explainers.contains { $0 is SaliencyExplainer || $0 is InputTimesGradientExplainer }
        let wantsGuided = explainers.contains { $0 is GuidedBackpropExplainer }
        classifier.prepareForExplanation()
        var probe: LayerProbe?
        let logits: [Float]                                                          // [L]
        var gradient: Tensor?                                                        // [C, H, W]: ∂y^c/∂x
        if explainers.contains(where: { $0 is CAMFamilyExplainer }) {
            let made = try LayerProbe(classifier: classifier, input: input, layer: settings.layer ?? classifier.defaultCAMLayer,
                                      target: target, throughToInput: wantsGradient)
            (probe, logits) = (made, made.logits)
            if wantsGradient { gradient = made.inputGradient }
        } else if wantsGradient {
            let (gradients, batchLogits) = inputGradients(classifier: classifier, batch: input.reshaped([1] + input.shape), target: target)
            (logits, gradient) = (batchLogits.data, gradients.reshaped(input.shape))
        } else {
            logits = classifier.forward(input.reshaped([1] + input.shape)).data
        }
        let guided = wantsGuided
            ? classifier.withReLUGradientRule(.guided) { classifier.backward(seed(logits, target)) }.reshaped(input.shape) : nil
        return try explainers.map { explainer in
            switch explainer {
            case let cam as CAMFamilyExplainer:
                return try cam.explain(input, classifier: classifier, target: target, settings: settings, probe: probe)
            case let saliency as SaliencyExplainer:
                return saliency.explanation(gradient: gradient!, logits: logits, target: target)
            case let inputTimesGradient as InputTimesGradientExplainer:
                return inputTimesGradient.explanation(attributions: input * gradient!, logits: logits, target: target)
            case let guidedBackprop as GuidedBackpropExplainer:
                return guidedBackprop.explanation(attributions: guided!, logits: logits, target: target)
            default:
                preconditionFailure("\(explainer.id) is not served by SharedGradientPass")
            }
        }
    }

    /// [1, L]: ∂y^c/∂z, the backward passes' start.
    private static func seed(_ logits: [Float], _ target: ExplanationTarget) -> Tensor {
        Tensor(shape: [1, logits.count], data: target.valueAndGradient(logits: logits).gradient)
    }
}

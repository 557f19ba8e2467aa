/// Saliency (Simonyan et al. 2014): the gradient of the score with respect to the input,
///
///     S_i = ∂y^c/∂x_i            (signed)
///     S_i = |∂y^c/∂x_i|          (absolute: Captum's `Saliency.attribute` default, abs=True)
///
/// for input x [C, H, W] → [C, H, W]. `absolute` defaults to true, as in Captum; pass false
/// for the signed gradient (which says in which direction a pixel would raise the score).
public func saliency(classifier: ImageClassifier, input: Tensor, target: ExplanationTarget,
                     absolute: Bool = true) throws -> Tensor {
    try validateExplanationInput(classifier: classifier, input: input, target: target)
    classifier.prepareForExplanation()
    let logits = classifier.forward(input.reshaped([1] + input.shape))          // [1, L]
    let logitsGradient = target.valueAndGradient(logits: logits.data).gradient
    let gradient = classifier.backward(Tensor(shape: logits.shape, data: logitsGradient)).slice(0)  // [C, H, W]
    return absolute ? gradient.map { Swift.abs($0) } : gradient
}

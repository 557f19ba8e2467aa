/// One forward and one backward pass through a classifier for a single image, recording
/// the activation A of one named layer and the gradient ∂y^c/∂A, as pytorch-grad-cam's
/// ActivationsAndGradients does with PyTorch hooks.
public struct LayerProbe {
    /// [L]: the logits z
    public var logits: [Float]
    /// y^c
    public var targetValue: Float
    /// [K, h, w]: the activation A^k of the probed layer
    public var activations: Tensor
    /// [K, h, w]: ∂y^c/∂A^k (empty, shape [0], for a probe made with `backward: false`)
    public var gradients: Tensor
    /// [C, H, W]: ∂y^c/∂input (empty, shape [0], for a probe made with `backward: false`)
    public var inputGradient: Tensor

    /// input [C, H, W]; `layer` is a dotted layer name such as "features.8". With `backward: false`
    /// only the forward pass runs (for methods that need no gradient, such as Score-CAM).
    public init(classifier: ImageClassifier, input: Tensor, layer: String, target: ExplanationTarget, backward: Bool = true) throws {
        guard let probed = classifier.layer(named: layer) else {
            throw MiniNetError.invalidArgument("no layer named '\(layer)'; layers are: \(classifier.layerNames.joined(separator: ", "))")
        }
        guard target.classIndex >= 0 && target.classIndex < classifier.classNames.count else {
            throw MiniNetError.invalidArgument("class \(target.classIndex) is out of range 0..<\(classifier.classNames.count)")
        }
        var captured: Tensor?
        var capturedGradient: Tensor?
        probed.hooks.forward = { activation in captured = activation; return activation }
        probed.hooks.backward = { gradient in capturedGradient = gradient }
        defer { probed.hooks.forward = nil; probed.hooks.backward = nil }

        classifier.prepareForExplanation()
        let logits = classifier.forward(input.reshaped([1] + input.shape))
        let (value, logitsGradient) = target.valueAndGradient(logits: logits.data)
        let inputGradient = backward ? classifier.backward(Tensor(shape: logits.shape, data: logitsGradient)) : nil
        guard let activation = captured, activation.rank == 4, !backward || capturedGradient != nil else {
            throw MiniNetError.invalidArgument("layer '\(layer)' does not produce a [1, K, h, w] feature map")
        }
        self.logits = logits.data
        self.targetValue = value
        self.activations = activation.slice(0)
        self.gradients = capturedGradient?.slice(0) ?? Tensor(zeros: [0])
        self.inputGradient = inputGradient?.slice(0) ?? Tensor(zeros: [0])
    }
}

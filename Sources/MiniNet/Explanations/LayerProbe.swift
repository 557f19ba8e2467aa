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
    /// [C, H, W]: ∂y^c/∂input (empty, shape [0], unless the probe was made with `throughToInput: true`)
    public var inputGradient: Tensor
    /// The probed layer and the target, so that a probe shared between CAM variants
    /// (`ClassActivationMapMethod.explain(input:probe:)`) carries what it was made for.
    public let layer: String
    public let target: ExplanationTarget

    /// input [C, H, W]; `layer` is a dotted layer name such as "features.8". With `backward: false`
    /// only the forward pass runs (for methods that need no gradient, such as Score-CAM).
    ///
    /// The backward pass stops at the probed layer: ∂y^c/∂A depends only on the layers above A,
    /// so going on to the input (as PyTorch's autograd does for pytorch-grad-cam, parameters
    /// included) would compute a gradient no CAM method reads. For the last block of a ResNet
    /// that skips almost the whole backward pass. `throughToInput: true` goes on to the input
    /// and fills `inputGradient`. A layer that is not reached through Sequential containers
    /// alone (one inside a residual block) gets the full backward pass either way.
    public init(classifier: ImageClassifier, input: Tensor, layer: String, target: ExplanationTarget,
                backward: Bool = true, throughToInput: Bool = false) throws {
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
        let seed = Tensor(shape: logits.shape, data: logitsGradient)                // [1, L]: ∂y^c/∂z
        var inputGradient: Tensor?                                                  // [1, C, H, W]
        if backward && !throughToInput && Self.reachedThroughSequentials(layer, in: classifier) {
            // What `classifier.backward` does first: the network's own hook sees ∂y^c/∂z.
            classifier.network.hooks.backward?(seed)
            capturedGradient = classifier.network.backward(after: layer, outputGradient: seed)   // [1, K, h, w]
        } else if backward {
            inputGradient = classifier.backward(seed)
        }
        guard let activation = captured, activation.rank == 4, !backward || capturedGradient != nil else {
            throw MiniNetError.invalidArgument("layer '\(layer)' does not produce a [1, K, h, w] feature map")
        }
        self.layer = layer
        self.target = target
        self.logits = logits.data
        self.targetValue = value
        self.activations = activation.slice(0)
        self.gradients = capturedGradient?.slice(0) ?? Tensor(zeros: [0])
        self.inputGradient = throughToInput ? inputGradient?.slice(0) ?? Tensor(zeros: [0]) : Tensor(zeros: [0])
    }

    /// Whether every container on the way to `layer` ("layer4.1.conv2": layer4, layer4.1) is a
    /// Sequential, the containers `Sequential.backward(after:)` can stop inside.
    static func reachedThroughSequentials(_ layer: String, in classifier: ImageClassifier) -> Bool {
        let parts = layer.split(separator: ".")
        return (1..<max(parts.count, 1)).allSatisfy { count in
            classifier.layer(named: parts.prefix(count).joined(separator: ".")) is Sequential
        }
    }
}

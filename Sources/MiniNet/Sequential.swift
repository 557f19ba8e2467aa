/// Runs layers one after another: output = layerₙ(…layer₂(layer₁(input))).
///
/// Backward runs them in reverse, passing each layer's inputGradient to the layer before.
public final class Sequential: Layer {
    public private(set) var layers: [(name: String, layer: Layer)]

    /// Layers named "0", "1", … as in torch.nn.Sequential.
    public init(_ layers: [Layer]) {
        self.layers = layers.enumerated().map { (String($0.offset), $0.element) }
    }

    /// Layers with explicit local names, as in a torch.nn.Module's attributes.
    public init(named layers: [(String, Layer)]) {
        self.layers = layers.map { (name: $0.0, layer: $0.1) }
    }

    public override var typeName: String { "Sequential" }
    public override var children: [(name: String, layer: Layer)] { layers }

    /// In a pass that records nothing for backward, a convolution, BatchNorm and ReLU run as one
    /// pass over the output (InferenceFusion.swift), with the same result.
    public override func forward(_ input: Tensor) -> Tensor {
        InferenceFusion.runInOrder(layers, layers.indices, input)
    }

    public override func backward(_ outputGradient: Tensor) -> Tensor {
        var gradient = outputGradient
        for (_, layer) in layers.reversed() { gradient = layer.runBackward(gradient) }
        return gradient
    }

    /// Runs only the layers that come after the layer named `name` (a dotted name anywhere
    /// inside this tree, provided every container on the path is a Sequential), starting from
    /// `activation`, the output of that layer. Ablation-CAM uses this to re-run only the
    /// part of the network that follows the ablated layer. Forward hooks run as in a full
    /// forward pass, including those of the containers on the path.
    public func forward(after name: String, activation: Tensor) -> Tensor? {
        for (index, (_, layer)) in layers.enumerated() {
            var resumed: Tensor?
            if layer.name == name {
                resumed = activation
            } else if name.hasPrefix(layer.name + "."), let inner = layer as? Sequential {
                // The inner Sequential's output, then its own hook, as `inner.run` would apply.
                guard let innerOutput = inner.forward(after: name, activation: activation) else { return nil }
                resumed = inner.hooks.forward?(innerOutput) ?? innerOutput
            }
            if var output = resumed {
                for (_, later) in layers[(index + 1)...] { output = later.run(output) }
                return output
            }
        }
        return nil
    }

    /// Backward through the layers after `name` only, returning ∂loss/∂(output of `name`).
    /// Backward hooks run as in a full backward pass, including those of the containers on the path.
    public func backward(after name: String, outputGradient: Tensor) -> Tensor? {
        for (index, (_, layer)) in layers.enumerated() {
            let inner = name.hasPrefix(layer.name + ".") ? layer as? Sequential : nil
            if layer.name == name || inner != nil {
                var gradient = outputGradient
                for (_, later) in layers[(index + 1)...].reversed() { gradient = later.runBackward(gradient) }
                guard let inner else { return gradient }
                // What `inner.runBackward` would do: its hook sees ∂loss/∂(its output) first.
                inner.hooks.backward?(gradient)
                return inner.backward(after: name, outputGradient: gradient)
            }
        }
        return nil
    }

    /// The layers a forward pass runs after the layer named `name`, in order (the later layers
    /// of each container on the path, innermost first), the way `forward(after:activation:)`
    /// runs them; nil where `forward(after:)` cannot resume either.
    public func layers(after name: String) -> [Layer]? {
        for (index, (_, layer)) in layers.enumerated() {
            var within: [Layer]?
            if layer.name == name {
                within = []
            } else if name.hasPrefix(layer.name + "."), let inner = layer as? Sequential {
                guard let innerLater = inner.layers(after: name) else { return nil }
                within = innerLater
            }
            if let within { return within + layers[(index + 1)...].map(\.layer) }
        }
        return nil
    }
}

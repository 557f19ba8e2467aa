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

    public override func forward(_ input: Tensor) -> Tensor {
        var activation = input
        for (_, layer) in layers { activation = layer.run(activation) }
        return activation
    }

    public override func backward(_ outputGradient: Tensor) -> Tensor {
        var gradient = outputGradient
        for (_, layer) in layers.reversed() { gradient = layer.runBackward(gradient) }
        return gradient
    }

    /// Runs only the layers that come after the layer named `name` (a dotted name anywhere
    /// inside this tree, provided every container on the path is a Sequential), starting from
    /// `activation`, the output of that layer. Ablation-CAM uses this to re-run only the
    /// part of the network that follows the ablated layer.
    public func forward(after name: String, activation: Tensor) -> Tensor? {
        for (index, (_, layer)) in layers.enumerated() {
            var resumed: Tensor?
            if layer.name == name {
                resumed = activation
            } else if name.hasPrefix(layer.name + "."), let inner = layer as? Sequential {
                resumed = inner.forward(after: name, activation: activation)
                if resumed == nil { return nil }
            }
            if var output = resumed {
                for (_, later) in layers[(index + 1)...] { output = later.run(output) }
                return output
            }
        }
        return nil
    }

    /// Backward through the layers after `name` only, returning ∂loss/∂(output of `name`).
    public func backward(after name: String, outputGradient: Tensor) -> Tensor? {
        for (index, (_, layer)) in layers.enumerated() {
            let isTarget = layer.name == name
            let isInside = name.hasPrefix(layer.name + ".") && layer is Sequential
            if isTarget || isInside {
                var gradient = outputGradient
                for (_, later) in layers[(index + 1)...].reversed() { gradient = later.runBackward(gradient) }
                if isTarget { return gradient }
                return (layer as! Sequential).backward(after: name, outputGradient: gradient)
            }
        }
        return nil
    }
}

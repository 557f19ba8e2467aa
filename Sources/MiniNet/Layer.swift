/// A learnable tensor and the gradient of the loss with respect to it.
public final class Parameter {
    /// The local name inside its layer, as in a PyTorch state_dict: "weight", "bias".
    public let name: String
    public var value: Tensor { didSet { version &+= 1 } }
    /// Counts the changes to `value`, so a layer can keep something computed from it (Conv2d keeps
    /// its Winograd-transformed kernel) and know when to compute it again. (didSet does not read
    /// the old value, so changing one entry of `value` in place copies nothing.)
    public private(set) var version = 0
    /// ∂loss/∂value, same shape as `value`; accumulated by backward, cleared by `zeroGradient()`.
    /// Its memory is taken on the first write: a network that only explains (a loaded ResNet-34,
    /// a copy with BatchNorm merged) never holds a second set of zeros as large as its weights.
    public var gradient: Tensor {
        get { storedGradient ?? Tensor(zeros: value.shape) }
        set { storedGradient = newValue }
        _modify {
            if storedGradient == nil { storedGradient = Tensor(zeros: value.shape) }
            yield &storedGradient!
        }
    }
    private var storedGradient: Tensor?

    public init(name: String, value: Tensor) {
        self.name = name
        self.value = value
    }

    public func zeroGradient() {
        guard storedGradient != nil else { return }
        for index in storedGradient!.data.indices { storedGradient!.data[index] = 0 }
    }
}

/// Optional callbacks run around a layer, used by the explanation methods:
/// Grad-CAM reads the activation and its gradient; Ablation-CAM replaces the activation.
public final class LayerHooks {
    /// Sees the layer's output and returns the tensor to pass on (the same one, or a replacement).
    public var forward: ((Tensor) -> Tensor)?
    /// Sees ∂loss/∂output of the layer before the layer's own backward runs.
    public var backward: ((Tensor) -> Void)?
    public init() {}
}

/// The base class of every layer, like PyTorch's nn.Module.
///
/// A subclass overrides `forward` and `backward` (side by side, in one file), and lists its
/// `parameters` and `children`. Containers call `child.run(_:)` and `child.runBackward(_:)`,
/// which apply the hooks.
open class Layer {
    /// The PyTorch-style dotted path of this layer in its network, e.g. "features.3", "layer4.2".
    public internal(set) var name: String = ""
    /// "train" mode uses batch statistics in BatchNorm; "eval" uses running statistics.
    public internal(set) var isTraining: Bool = false
    public let hooks = LayerHooks()
    /// Whether backward accumulates ∂loss/∂parameters (PyTorch's requires_grad). Explanation
    /// methods need only ∂y/∂input and turn it off, which skips a matrix product per layer.
    public internal(set) var computesParameterGradients: Bool = true

    public init() {}

    /// The PyTorch class name this layer corresponds to, e.g. "Conv2d".
    open var typeName: String { String(describing: type(of: self)) }

    /// This layer's own learnable tensors (not its children's).
    open var parameters: [Parameter] { [] }

    /// Non-learnable state saved with the model, such as BatchNorm's running mean (local name, tensor).
    open var buffers: [(name: String, value: Tensor)] { [] }

    /// Sets a buffer loaded from a file; layers with buffers override this.
    open func setBuffer(_ name: String, _ value: Tensor) throws {
        throw MiniNetError.invalidModel("\(self.name) has no buffer named \(name)")
    }

    /// Sub-layers with their local names ("0", "conv1", "downsample").
    open var children: [(name: String, layer: Layer)] { [] }

    /// A one-line description of the hyper-parameters, e.g. "3→8, kernel 3, stride 1, padding 1".
    open var summary: String { "" }

    open func forward(_ input: Tensor) -> Tensor {
        fatalError("\(typeName) must override forward")
    }

    open func backward(_ outputGradient: Tensor) -> Tensor {
        fatalError("\(typeName) must override backward")
    }

    /// Forward pass followed by this layer's forward hook.
    public final func run(_ input: Tensor) -> Tensor {
        let output = forward(input)
        if let hook = hooks.forward { return hook(output) }
        return output
    }

    /// This layer's backward hook followed by its backward pass.
    public final func runBackward(_ outputGradient: Tensor) -> Tensor {
        hooks.backward?(outputGradient)
        return backward(outputGradient)
    }
}

extension Layer {
    /// Gives every layer in the tree its dotted name, starting from `prefix`.
    public func assignNames(prefix: String = "") {
        name = prefix
        for (childName, child) in children {
            child.assignNames(prefix: prefix.isEmpty ? childName : "\(prefix).\(childName)")
        }
    }

    /// Switches this layer and every descendant to training (true) or evaluation (false) mode.
    public func setTraining(_ training: Bool) {
        isTraining = training
        for (_, child) in children { child.setTraining(training) }
    }

    /// Turns parameter gradients on or off for this layer and every descendant.
    public func setParameterGradients(_ enabled: Bool) {
        computesParameterGradients = enabled
        for (_, child) in children { child.setParameterGradients(enabled) }
    }

    /// `body` with parameter gradients off in the whole tree, each layer's own setting put back
    /// afterwards (layers may be shared with another network that keeps its setting). Without
    /// them a forward pass takes the inference path and a backward pass computes ∂L/∂x alone.
    public func withoutParameterGradients<Result>(_ body: () throws -> Result) rethrows -> Result {
        let layers = allLayers
        let had = layers.map(\.computesParameterGradients)
        for layer in layers { layer.computesParameterGradients = false }
        defer { for (layer, had) in zip(layers, had) { layer.computesParameterGradients = had } }
        return try body()
    }

    /// Every layer of the tree in pre-order, this one first.
    public var allLayers: [Layer] {
        [self] + children.flatMap { $0.layer.allLayers }
    }

    /// The layer with the given dotted name, or nil.
    public func layer(named target: String) -> Layer? {
        allLayers.first { $0.name == target }
    }

    /// Every parameter of the tree with its full dotted name, e.g. ("features.0.weight", p).
    public var namedParameters: [(name: String, parameter: Parameter)] {
        allLayers.flatMap { layer in
            layer.parameters.map { (layer.name.isEmpty ? $0.name : "\(layer.name).\($0.name)", $0) }
        }
    }

    /// Every buffer of the tree with its full dotted name.
    public var namedBuffers: [(name: String, value: Tensor)] {
        allLayers.flatMap { layer in
            layer.buffers.map { (layer.name.isEmpty ? $0.name : "\(layer.name).\($0.name)", $0.value) }
        }
    }

    public func zeroGradients() {
        for (_, parameter) in namedParameters { parameter.zeroGradient() }
    }

    public func removeAllHooks() {
        for layer in allLayers {
            layer.hooks.forward = nil
            layer.hooks.backward = nil
        }
    }
}

/// Whether forward passes keep what their backward passes need, like PyTorch's autograd
/// recording. Inside `GradientRecording.disabled { … }` (PyTorch's `with torch.no_grad():`)
/// every layer drops its cache: a pass that only wants logits (Score-CAM's masked copies, the
/// deletion curve, accuracy on a test set) holds one layer's activations at a time instead of
/// the whole network's, and does not write indices and masks that no backward pass will read.
/// A backward pass after such a forward pass stops with "backward before forward".
///
/// The switch is a task-local value: it holds for the code inside the closure on this thread
/// (and in the tasks it starts), not for other threads running other networks meanwhile.
public enum GradientRecording {
    @TaskLocal public static var isEnabled = true

    public static func disabled<Result>(_ body: () throws -> Result) rethrows -> Result {
        try $isEnabled.withValue(false, operation: body)
    }
}

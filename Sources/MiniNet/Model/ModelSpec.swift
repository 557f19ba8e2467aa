import Foundation

/// One layer of an architecture, as stored in a model file's metadata.
///
/// `name` is the PyTorch module path ("features.0", "classifier"); the other fields are the
/// constructor arguments of the matching torch.nn class, under PyTorch's own names.
public struct LayerSpec: Codable, Equatable, Sendable {
    public var name: String
    /// "Conv2d", "BatchNorm2d", "ReLU", "MaxPool2d", "AdaptiveAvgPool2d", "Flatten", "Linear",
    /// or one of torchvision's residual blocks "BasicBlock" and "Bottleneck" (see ResNet.swift)
    public var type: String
    public var inChannels: Int?
    public var outChannels: Int?
    public var kernelSize: Int?
    public var stride: Int?
    public var padding: Int?
    public var bias: Bool?
    public var numFeatures: Int?
    public var eps: Float?
    public var momentum: Float?
    public var inFeatures: Int?
    public var outFeatures: Int?
    public var outputSize: Int?
    /// A residual block's width ("planes" in torchvision; a Bottleneck outputs 4 × planes).
    public var planes: Int?
    /// Whether a residual block's shortcut is a 1×1 convolution and BatchNorm ("downsample").
    public var downsample: Bool?

    enum CodingKeys: String, CodingKey {
        case name, type, stride, padding, bias, eps, momentum
        case inChannels = "in_channels", outChannels = "out_channels", kernelSize = "kernel_size"
        case numFeatures = "num_features", inFeatures = "in_features", outFeatures = "out_features"
        case outputSize = "output_size", planes, downsample
    }

    public init(name: String, type: String) {
        self.name = name
        self.type = type
    }

    public static func conv2d(_ name: String, _ inChannels: Int, _ outChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0, bias: Bool) -> LayerSpec {
        var spec = LayerSpec(name: name, type: "Conv2d")
        (spec.inChannels, spec.outChannels, spec.kernelSize, spec.stride, spec.padding, spec.bias) = (inChannels, outChannels, kernelSize, stride, padding, bias)
        return spec
    }

    public static func batchNorm2d(_ name: String, _ features: Int) -> LayerSpec {
        var spec = LayerSpec(name: name, type: "BatchNorm2d")
        (spec.numFeatures, spec.eps, spec.momentum) = (features, 1e-5, 0.1)
        return spec
    }

    public static func maxPool2d(_ name: String, kernelSize: Int, stride: Int, padding: Int = 0) -> LayerSpec {
        var spec = LayerSpec(name: name, type: "MaxPool2d")
        (spec.kernelSize, spec.stride) = (kernelSize, stride)
        if padding != 0 { spec.padding = padding }
        return spec
    }

    public static func linear(_ name: String, _ inFeatures: Int, _ outFeatures: Int, bias: Bool) -> LayerSpec {
        var spec = LayerSpec(name: name, type: "Linear")
        (spec.inFeatures, spec.outFeatures, spec.bias) = (inFeatures, outFeatures, bias)
        return spec
    }

    public static func globalAveragePool(_ name: String) -> LayerSpec {
        var spec = LayerSpec(name: name, type: "AdaptiveAvgPool2d")
        spec.outputSize = 1
        return spec
    }
}

/// Everything needed to rebuild a classifier besides its weights: the layers, the input
/// size, the normalisation and the class names. Stored in the model file's metadata
/// (see docs/model-format.md).
public struct ModelSpec: Codable, Equatable, Sendable {
    public var architecture: String
    public var layers: [LayerSpec]
    /// [C, H, W]
    public var inputSize: [Int]
    /// Per channel: x_normalised = (x − mean) / std, with x in 0…1.
    public var mean: [Float]
    public var std: [Float]
    public var classNames: [String]
    /// When set, a picture's shorter side is resized to this many pixels (keeping its aspect
    /// ratio) and the centre is cropped to `inputSize`, as torchvision's ImageNet evaluation
    /// transform does with 256. When nil, the picture is resized to `inputSize` directly.
    public var resizeShorterSide: Int?

    public init(architecture: String, layers: [LayerSpec], inputSize: [Int], mean: [Float], std: [Float], classNames: [String],
                resizeShorterSide: Int? = nil) {
        (self.architecture, self.layers, self.inputSize, self.mean, self.std, self.classNames) =
            (architecture, layers, inputSize, mean, std, classNames)
        self.resizeShorterSide = resizeShorterSide
    }

    /// The small CNN of the lessons: three conv blocks, global average pooling, one linear layer.
    ///
    ///     features: [Conv 3×3 → (BatchNorm) → ReLU → MaxPool 2] × 2 → Conv 3×3 → (BatchNorm) → ReLU
    ///     pool: global average → flatten → classifier: Linear(K → classes)
    ///
    /// No hidden fully connected layer sits between pooling and the classifier: CAM needs
    /// the class score to be a weighted sum of pooled feature maps. With `bias == false`
    /// there are no biases and no BatchNorm (which would add one), so that LRP-0 conserves
    /// relevance exactly.
    public static func miniNet(channels: [Int] = [8, 16, 32], classNames: [String], imageSize: Int = 32, bias: Bool = true) -> ModelSpec {
        var layers: [LayerSpec] = []
        var index = 0
        var inputChannels = 3
        for (block, outputChannels) in channels.enumerated() {
            layers.append(.conv2d("features.\(index)", inputChannels, outputChannels, kernelSize: 3, padding: 1, bias: bias))
            index += 1
            if bias {
                layers.append(.batchNorm2d("features.\(index)", outputChannels))
                index += 1
            }
            layers.append(LayerSpec(name: "features.\(index)", type: "ReLU"))
            index += 1
            if block < channels.count - 1 {
                layers.append(.maxPool2d("features.\(index)", kernelSize: 2, stride: 2))
                index += 1
            }
            inputChannels = outputChannels
        }
        layers.append(.globalAveragePool("pool"))
        layers.append(LayerSpec(name: "flatten", type: "Flatten"))
        layers.append(.linear("classifier", inputChannels, classNames.count, bias: bias))
        return ModelSpec(architecture: bias ? "mininet" : "mininet-nobias", layers: layers,
                         inputSize: [3, imageSize, imageSize], mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25],
                         classNames: classNames)
    }
}

// MARK: - Checking an architecture before building it

extension ModelSpec {
    /// The tensors the architecture needs, by state_dict name and shape, worked out from the
    /// spec alone: nothing is allocated. A model file declares its sizes, and building layers
    /// from them directly would let a kernel size of 2²⁰ ask for petabytes; so every size is
    /// compared here with `CheckpointLimits` and with the shape that reaches the layer, by
    /// following one picture's shape [C, H, W] through the layers in order.
    ///
    /// - Throws: `MiniNetError.invalidModel` naming the layer and the problem.
    public func plannedTensors() throws -> [(name: String, shape: [Int])] {
        guard (1...CheckpointLimits.maximumLayerCount).contains(layers.count) else {
            throw MiniNetError.invalidModel("the architecture lists \(layers.count) layers, not 1…\(CheckpointLimits.maximumLayerCount) (limit maximumLayerCount)")
        }
        var planner = ArchitecturePlanner()
        try planner.checkInput(self)
        for layer in layers { try planner.add(layer) }
        guard planner.shape == [classNames.count] else {
            throw MiniNetError.invalidModel("the network gives shape \(planner.shape) per picture but there are \(classNames.count) class names")
        }
        return planner.tensors
    }
}

/// Follows the shape of one picture through a layer list, collecting the tensors each layer
/// needs and keeping every count within `CheckpointLimits`.
private struct ArchitecturePlanner {
    /// The shape reaching the next layer: [C, H, W], or [F] after Flatten.
    var shape: [Int] = []
    var tensors: [(name: String, shape: [Int])] = []
    var parameterCount = 0

    typealias Limits = CheckpointLimits

    func invalid(_ layer: LayerSpec, _ problem: String) -> MiniNetError {
        .invalidModel("layer '\(printable(layer.name))' (\(printable(layer.type, maximumLength: 20))) \(problem)")
    }

    /// The input must be an RGB picture, square (pictures are centre-cropped to a square), of a
    /// sane size, with a usable normalisation: std must be a normal positive number, since the
    /// pictures shown to people divide by it.
    mutating func checkInput(_ spec: ModelSpec) throws {
        let size = spec.inputSize
        guard size.count == 3, size[0] == 3, size[1] == size[2], (1...Limits.maximumInputSide).contains(size[1]) else {
            throw MiniNetError.invalidModel("input size \(size.prefix(4)) is not [3, S, S] with S in 1…\(Limits.maximumInputSide) (limit maximumInputSide)")
        }
        guard spec.mean.count == 3, spec.mean.allSatisfy(\.isFinite) else {
            throw MiniNetError.invalidModel("normalisation mean \(spec.mean.prefix(4)) is not 3 finite numbers")
        }
        guard spec.std.count == 3, spec.std.allSatisfy({ $0.isNormal && $0 > 0 }) else {
            throw MiniNetError.invalidModel("normalisation std \(spec.std.prefix(4)) is not 3 positive normal numbers")
        }
        guard (1...Limits.maximumClassCount).contains(spec.classNames.count) else {
            throw MiniNetError.invalidModel("there are \(spec.classNames.count) class names, not 1…\(Limits.maximumClassCount)")
        }
        // Class names are printed in tables and messages: a line break or an escape sequence
        // in one would forge lines or recolour the terminal. (Two alike are allowed: ImageNet
        // has two "crane" and two "maillot".)
        for (index, name) in spec.classNames.enumerated() {
            let hasControl = name.unicodeScalars.contains { [.control, .format, .lineSeparator, .paragraphSeparator].contains($0.properties.generalCategory) }
            guard !name.isEmpty, name.count <= 200, !hasControl else {
                throw MiniNetError.invalidModel("class name \(index) ('\(printable(name, maximumLength: 40))') must be 1 to 200 characters without control characters")
            }
        }
        if let side = spec.resizeShorterSide, !(size[1]...(2 * Limits.maximumInputSide)).contains(side) {
            throw MiniNetError.invalidModel("resize_shorter_side \(side) is not between the input size \(size[1]) and \(2 * Limits.maximumInputSide)")
        }
        shape = size
    }

    /// A required size field, within `range`.
    func size(_ value: Int?, _ field: String, _ range: ClosedRange<Int>, _ layer: LayerSpec) throws -> Int {
        guard let value, range.contains(value) else {
            throw invalid(layer, "needs \(field) in \(range.lowerBound)…\(range.upperBound), not \(value.map(String.init) ?? "none")")
        }
        return value
    }

    mutating func add(_ layer: LayerSpec) throws {
        switch layer.type {
        case "Conv2d":
            let input = try size(layer.inChannels, "in_channels", 1...Limits.maximumChannels, layer)
            let output = try size(layer.outChannels, "out_channels", 1...Limits.maximumChannels, layer)
            let kernel = try size(layer.kernelSize, "kernel_size", 1...Limits.maximumKernelSize, layer)
            let stride = try size(layer.stride ?? 1, "stride", 1...Limits.maximumKernelSize, layer)
            let padding = try size(layer.padding ?? 0, "padding", 0...(kernel - 1), layer)
            try convolve(layer, prefix: layer.name, input: input, output: output, kernel: kernel, stride: stride,
                         padding: padding, bias: layer.bias ?? true)
        case "BatchNorm2d":
            let channels = try size(layer.numFeatures, "num_features", 1...Limits.maximumChannels, layer)
            let eps = layer.eps ?? 1e-5
            guard eps.isFinite, eps > 0 else {
                throw invalid(layer, "has eps \(layer.eps.map { "\($0)" } ?? "none"); it must be a positive finite number")
            }
            guard (0...1).contains(layer.momentum ?? 0.1) else {
                throw invalid(layer, "has momentum \(layer.momentum.map { "\($0)" } ?? "none"); it must be in 0…1")
            }
            try normalise(layer, prefix: layer.name, channels: channels)
        case "ReLU":
            break
        case "MaxPool2d":
            let kernel = try size(layer.kernelSize, "kernel_size", 1...Limits.maximumKernelSize, layer)
            let stride = try size(layer.stride ?? kernel, "stride", 1...Limits.maximumKernelSize, layer)
            let padding = try size(layer.padding ?? 0, "padding", 0...(kernel / 2), layer)
            guard shape.count == 3, shape[1] + 2 * padding >= kernel, shape[2] + 2 * padding >= kernel else {
                throw invalid(layer, "receives shape \(shape), too small to pool")
            }
            shape = [shape[0], (shape[1] + 2 * padding - kernel) / stride + 1, (shape[2] + 2 * padding - kernel) / stride + 1]
        case "AdaptiveAvgPool2d":
            guard (layer.outputSize ?? 1) == 1 else { throw invalid(layer, "has output_size \(layer.outputSize ?? 1); only 1 is supported") }
            guard shape.count == 3 else { throw invalid(layer, "receives shape \(shape), not [C, H, W]") }
            shape = [shape[0], 1, 1]
        case "Flatten":
            shape = [shape.reduce(1, *)]  // each size is bounded, and so is their product (see `activation`)
        case "Linear":
            let input = try size(layer.inFeatures, "in_features", 1...Limits.maximumActivationElements, layer)
            let output = try size(layer.outFeatures, "out_features", 1...Limits.maximumClassCount, layer)
            guard shape == [input] else { throw invalid(layer, "expects \(input) features but receives shape \(shape)") }
            try addTensor(layer.name + ".weight", [output, input], layer)
            if layer.bias ?? true { try addTensor(layer.name + ".bias", [output], layer) }
            shape = [output]
        case "BasicBlock", "Bottleneck":
            try addResidualBlock(layer)
        default:
            throw MiniNetError.invalidModel("layer '\(printable(layer.name))' has unknown type '\(printable(layer.type, maximumLength: 20))'")
        }
        try checkActivation(layer)
    }

    /// A convolution's weights and output shape.
    mutating func convolve(_ layer: LayerSpec, prefix: String, input: Int, output: Int, kernel: Int, stride: Int,
                           padding: Int, bias: Bool) throws {
        guard shape.count == 3, shape[0] == input else {
            throw invalid(layer, "expects \(input) input channels but receives shape \(shape)")
        }
        let height = (shape[1] + 2 * padding - kernel) / stride + 1
        let width = (shape[2] + 2 * padding - kernel) / stride + 1
        guard shape[1] + 2 * padding >= kernel, shape[2] + 2 * padding >= kernel else {
            throw invalid(layer, "leaves no pixels of an input of shape \(shape)")
        }
        try addTensor(prefix + ".weight", [output, input, kernel, kernel], layer)
        if bias { try addTensor(prefix + ".bias", [output], layer) }
        shape = [output, height, width]
        try checkActivation(layer)
    }

    /// A BatchNorm2d's parameters and buffers (PyTorch saves the batch counter as a scalar).
    mutating func normalise(_ layer: LayerSpec, prefix: String, channels: Int) throws {
        guard shape.count == 3, shape[0] == channels else {
            throw invalid(layer, "expects \(channels) channels but receives shape \(shape)")
        }
        for name in ["weight", "bias", "running_mean", "running_var"] { try addTensor(prefix + "." + name, [channels], layer) }
        tensors.append((prefix + ".num_batches_tracked", []))
    }

    /// torchvision's BasicBlock or Bottleneck (see ResNet.swift), with its optional downsample.
    mutating func addResidualBlock(_ layer: LayerSpec) throws {
        let input = try size(layer.inChannels, "in_channels", 1...Limits.maximumChannels, layer)
        let planes = try size(layer.planes, "planes", 1...(Limits.maximumChannels / 4), layer)
        let stride = try size(layer.stride ?? 1, "stride", 1...Limits.maximumKernelSize, layer)
        let blockInput = shape
        let output: Int
        let name = layer.name
        if layer.type == "Bottleneck" {
            output = 4 * planes
            try convolve(layer, prefix: name + ".conv1", input: input, output: planes, kernel: 1, stride: 1, padding: 0, bias: false)
            try normalise(layer, prefix: name + ".bn1", channels: planes)
            try convolve(layer, prefix: name + ".conv2", input: planes, output: planes, kernel: 3, stride: stride, padding: 1, bias: false)
            try normalise(layer, prefix: name + ".bn2", channels: planes)
            try convolve(layer, prefix: name + ".conv3", input: planes, output: output, kernel: 1, stride: 1, padding: 0, bias: false)
            try normalise(layer, prefix: name + ".bn3", channels: output)
        } else {
            output = planes
            try convolve(layer, prefix: name + ".conv1", input: input, output: planes, kernel: 3, stride: stride, padding: 1, bias: false)
            try normalise(layer, prefix: name + ".bn1", channels: planes)
            try convolve(layer, prefix: name + ".conv2", input: planes, output: planes, kernel: 3, stride: 1, padding: 1, bias: false)
            try normalise(layer, prefix: name + ".bn2", channels: planes)
        }
        let body = shape
        if layer.downsample == true {
            shape = blockInput
            try convolve(layer, prefix: name + ".downsample.0", input: input, output: output, kernel: 1, stride: stride, padding: 0, bias: false)
            try normalise(layer, prefix: name + ".downsample.1", channels: output)
        }
        guard shape == body else {
            throw invalid(layer, "adds a body of shape \(body) to a shortcut of shape \(shape); it needs downsample")
        }
    }

    /// Adds a tensor the architecture needs, keeping the model within `maximumParameterCount`.
    mutating func addTensor(_ name: String, _ tensorShape: [Int], _ layer: LayerSpec) throws {
        guard let (count, _) = checkedByteCount(shape: tensorShape, elementSize: 1),
              case let (total, overflow) = parameterCount.addingReportingOverflow(count),
              !overflow, total <= Limits.maximumParameterCount else {
            throw invalid(layer, "takes the model past \(Limits.maximumParameterCount) weights (limit maximumParameterCount)")
        }
        parameterCount = total
        tensors.append((name, tensorShape))
    }

    /// One picture's activations after a layer must stay within `maximumActivationElements`.
    func checkActivation(_ layer: LayerSpec) throws {
        guard let (count, _) = checkedByteCount(shape: shape, elementSize: 1), count <= Limits.maximumActivationElements else {
            throw invalid(layer, "outputs shape \(shape), more than \(Limits.maximumActivationElements) values per picture (limit maximumActivationElements)")
        }
    }
}

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

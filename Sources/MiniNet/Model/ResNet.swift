import Foundation

/// torchvision's ResNets (He et al., 2016), rebuilt from MiniNet layers with torchvision's
/// module names, so that a torchvision state_dict loads key for key.
///
///     conv1 7×7/2 → bn1 → relu → maxpool 3×3/2 (padding 1)       224 → 112 → 56
///     layer1 … layer4: residual blocks; the first block of layer2, 3, 4 halves H and W
///     avgpool (global average) → flatten → fc                    [N, C·e] → [N, classes]
///
/// Two kinds of block, with planes P and input channels Cin:
///
///     BasicBlock (resnet18, resnet34), output P channels:
///         y = ReLU( bn2(conv2₃ₓ₃(ReLU(bn1(conv1₃ₓ₃/s(x))))) + shortcut(x) )
///     Bottleneck (resnet50), output 4P channels (stride on the 3×3, as torchvision ≥ 0.3):
///         y = ReLU( bn3(conv3₁ₓ₁(ReLU(bn2(conv2₃ₓ₃/s(ReLU(bn1(conv1₁ₓ₁(x)))))))) + shortcut(x) )
///
/// shortcut(x) = x, or `downsample` = bn(conv₁ₓ₁/s(x)) when the stride or the width changes.
///
/// torchvision applies its single `relu` module two or three times per block. MiniNet needs
/// one layer per use, because each ReLU remembers its own mask for backward: the uses inside
/// the body are named `relu1` (and `relu2`), the last one, after the addition, `relu`.
/// ReLUs have no weights, so the state_dict keys are unchanged.
public enum ResNetVariant: String, CaseIterable, Sendable {
    case resnet18, resnet34, resnet50

    /// Residual blocks in layer1 … layer4.
    public var blocks: [Int] {
        switch self {
        case .resnet18: return [2, 2, 2, 2]
        case .resnet34, .resnet50: return [3, 4, 6, 3]
        }
    }

    public var usesBottleneck: Bool { self == .resnet50 }
}

/// The shape of a ResNet: the block kind, the blocks per stage, and the widths. torchvision's
/// models have stem 64 and planes [64, 128, 256, 512]; the test fixtures use narrow ones.
public struct ResNetShape: Equatable, Sendable, CustomStringConvertible {
    public var usesBottleneck: Bool
    /// Residual blocks in layer1 … layer4.
    public var blocks: [Int]
    /// Output channels of the stem convolution `conv1`.
    public var stemChannels: Int
    /// The planes P of layer1 … layer4.
    public var planes: [Int]
    public var classCount: Int

    public init(usesBottleneck: Bool, blocks: [Int], stemChannels: Int = 64, planes: [Int] = [64, 128, 256, 512], classCount: Int = 1000) {
        (self.usesBottleneck, self.blocks, self.stemChannels, self.planes, self.classCount) =
            (usesBottleneck, blocks, stemChannels, planes, classCount)
    }

    public init(_ variant: ResNetVariant, classCount: Int = 1000) {
        self.init(usesBottleneck: variant.usesBottleneck, blocks: variant.blocks, classCount: classCount)
    }

    /// The torchvision variant with these blocks, whatever the widths; nil for other depths.
    public var variant: ResNetVariant? {
        ResNetVariant.allCases.first { $0.blocks == blocks && $0.usesBottleneck == usesBottleneck }
    }

    /// Channels out of a block of stage `stage`: P, or 4P for a Bottleneck.
    public func outputChannels(stage: Int) -> Int { planes[stage] * (usesBottleneck ? 4 : 1) }

    /// torchvision's widths: a stem of 64 channels and planes 64, 128, 256, 512.
    public var hasTorchvisionWidths: Bool { planes == [64, 128, 256, 512] && stemChannels == 64 }

    /// "Bottleneck" or "BasicBlock", as torchvision names the block.
    public var blockKind: String { usesBottleneck ? "Bottleneck" : "BasicBlock" }

    public var description: String {
        let name = variant.map { $0.rawValue + ", " } ?? ""
        let narrow = hasTorchvisionWidths ? "" : ", stem \(stemChannels), planes \(planes)"
        return "\(name)\(blockKind) blocks \(blocks)\(narrow), \(classCount) classes"
    }
}

extension ModelSpec {
    /// ImageNet's per-channel mean and standard deviation, as torchvision normalises.
    public static let imageNetMean: [Float] = [0.485, 0.456, 0.406]
    public static let imageNetStd: [Float] = [0.229, 0.224, 0.225]

    /// A torchvision ResNet as a layer list: stem, four stages of blocks, pooling, classifier.
    /// The input convention is torchvision's evaluation transform (shorter side 256, centre
    /// crop 224, ImageNet mean and std).
    public static func resNet(_ shape: ResNetShape, classNames: [String], imageSize: Int = 224, resizeShorterSide: Int? = 256) -> ModelSpec {
        var layers: [LayerSpec] = [
            .conv2d("conv1", 3, shape.stemChannels, kernelSize: 7, stride: 2, padding: 3, bias: false),
            .batchNorm2d("bn1", shape.stemChannels),
            LayerSpec(name: "relu", type: "ReLU"),
            .maxPool2d("maxpool", kernelSize: 3, stride: 2, padding: 1),
        ]
        var inputChannels = shape.stemChannels
        for stage in 0..<4 {
            for block in 0..<shape.blocks[stage] {
                let stride = stage > 0 && block == 0 ? 2 : 1
                var spec = LayerSpec(name: "layer\(stage + 1).\(block)", type: shape.usesBottleneck ? "Bottleneck" : "BasicBlock")
                spec.inChannels = inputChannels
                spec.planes = shape.planes[stage]
                spec.stride = stride
                spec.downsample = stride != 1 || inputChannels != shape.outputChannels(stage: stage)
                layers.append(spec)
                inputChannels = shape.outputChannels(stage: stage)
            }
        }
        layers.append(.globalAveragePool("avgpool"))
        layers.append(LayerSpec(name: "flatten", type: "Flatten"))
        layers.append(.linear("fc", inputChannels, shape.classCount, bias: true))
        return ModelSpec(architecture: shape.variant?.rawValue ?? "resnet", layers: layers, inputSize: [3, imageSize, imageSize],
                         mean: imageNetMean, std: imageNetStd, classNames: classNames, resizeShorterSide: resizeShorterSide)
    }
}

/// Builds one residual block from its spec (see `ResNetVariant` for the formulas). Each
/// convolution starts with its kernel from `weights` (by state_dict name) when there is one of
/// the right shape, and from zeros otherwise.
func makeResidualBlock(_ spec: LayerSpec, inputChannels: Int, planes: Int, stride: Int,
                       weights: [String: Tensor] = [:]) -> Residual {
    func conv(_ name: String, _ input: Int, _ output: Int, _ kernel: Int, _ stride: Int) -> Conv2d {
        Conv2d(inputChannels: input, outputChannels: output, kernelSize: kernel, stride: stride, padding: kernel / 2, bias: false,
               weight: weights.tensor(spec.name + "." + name + ".weight", shape: [output, input, kernel, kernel]))
    }
    let body: [(String, Layer)]
    let outputChannels: Int
    if spec.type == "Bottleneck" {
        outputChannels = 4 * planes
        body = [("conv1", conv("conv1", inputChannels, planes, 1, 1)), ("bn1", BatchNorm2d(channels: planes)), ("relu1", ReLU()),
                ("conv2", conv("conv2", planes, planes, 3, stride)), ("bn2", BatchNorm2d(channels: planes)), ("relu2", ReLU()),
                ("conv3", conv("conv3", planes, outputChannels, 1, 1)), ("bn3", BatchNorm2d(channels: outputChannels))]
    } else {
        outputChannels = planes
        body = [("conv1", conv("conv1", inputChannels, planes, 3, stride)), ("bn1", BatchNorm2d(channels: planes)), ("relu1", ReLU()),
                ("conv2", conv("conv2", planes, planes, 3, 1)), ("bn2", BatchNorm2d(channels: planes))]
    }
    let shortcut: (String, Layer)? = spec.downsample == true
        ? ("downsample", Sequential(named: [("0", conv("downsample.0", inputChannels, outputChannels, 1, stride)),
                                            ("1", BatchNorm2d(channels: outputChannels))]))
        : nil
    let block = Residual(body: body, shortcut: shortcut, activation: ("relu", ReLU()))
    block.blockType = spec.type == "Bottleneck" ? "Bottleneck" : "BasicBlock"
    block.blockSummary = "\(inputChannels)→\(outputChannels), stride \(stride)" + (shortcut == nil ? "" : ", downsample")
    return block
}

/// Loading torchvision weights: a state_dict in a `.pth` (zip or legacy) or `.safetensors` file.
public enum PretrainedResNet {
    /// Reads the state_dict of `path`, infers the ResNet it describes from its keys and shapes,
    /// checks it against `variant` when one is stated, and loads it.
    ///
    /// - Throws: a one-line `MiniNetError` naming the file and the problem: not a checkpoint,
    ///   not a ResNet, another variant than stated, a missing or unexpected key, a wrong shape.
    ///
    /// `imageSize` is the input the classifier expects (224 for torchvision's transform; the
    /// network itself accepts any size, thanks to its global average pooling).
    public static func load(from path: String, variant: ResNetVariant? = nil, classNames: [String]? = nil,
                            imageSize: Int = 224) throws -> ImageClassifier {
        try load(stateDict: readStateDict(from: path), path: path, variant: variant, classNames: classNames, imageSize: imageSize)
    }

    /// `load(from:…)` on a state_dict already read; `path` names it in messages.
    static func load(stateDict: [String: Tensor], path: String, variant: ResNetVariant? = nil, classNames: [String]? = nil,
                     imageSize: Int = 224) throws -> ImageClassifier {
        let shape = try inferShape(stateDict, path: path)
        if let variant, shape.variant != variant {
            let wanted = ResNetShape(variant)
            // A torchvision variant by its name, which the reader can pass as --model instead.
            if let found = shape.variant, shape.hasTorchvisionWidths {
                throw MiniNetError.file(path, "holds a \(found.rawValue) (\(shape.blockKind) blocks \(shape.blocks), \(shape.classCount) classes), "
                                        + "not a \(variant.rawValue) (\(wanted.blockKind) blocks \(wanted.blocks))")
            }
            throw MiniNetError.file(path, "holds a ResNet with \(shape), not a \(variant.rawValue) (\(wanted.blockKind) blocks \(wanted.blocks))")
        }
        guard (16...CheckpointLimits.maximumInputSide).contains(imageSize) else {
            throw MiniNetError.invalidArgument("image size \(imageSize) is outside 16…\(CheckpointLimits.maximumInputSide)")
        }
        guard (1...CheckpointLimits.maximumClassCount).contains(shape.classCount) else {
            throw MiniNetError.file(path, "fc.weight declares \(shape.classCount) classes, not 1…\(CheckpointLimits.maximumClassCount)")
        }
        let names = classNames ?? (shape.classCount == ImageNetClasses.names.count
            ? ImageNetClasses.names : (0..<shape.classCount).map { "class \($0)" })
        let spec = ModelSpec.resNet(shape, classNames: names, imageSize: imageSize)
        // Every size the file declares is checked before any layer is allocated.
        try ImageClassifier.checkBeforeBuilding(spec, stateDict, path: path)
        let classifier = try ImageClassifier(spec: spec, weights: stateDict)
        try classifier.loadStateDict(stateDict, source: path)
        return classifier
    }

    /// The tensors of a `.pth` or `.safetensors` file by name, told apart by their first bytes.
    /// A "module." prefix on every key (from torch's DataParallel) is removed.
    public static func readStateDict(from path: String) throws -> [String: Tensor] {
        // Opening a FIFO would wait for a writer: only a regular file within the size limit is
        // opened (OpenWeightsFile checks), and it is opened once, for the first bytes and the rest.
        let file = try OpenWeightsFile(path: path)
        let head = try file.bytes(at: 0, count: Swift.min(9, file.count), orElse: MiniNetError.file(path, "cannot be read"))
        let entries: [(name: String, tensor: Tensor)]
        // A safetensors file starts with its header's length (8 bytes, any values: a length of
        // 384 starts with 0x80, as a pickle does) and then the header's "{"; a zip archive
        // with "PK", a legacy pickle with PROTO (0x80). So the "{" is looked at first.
        if head.count == 9, head[8] == UInt8(ascii: "{") {
            entries = try SafeTensorsFile.decode(file, path: path).tensors
        } else if head.starts(with: [0x50, 0x4b]) || head.first == 0x80 {
            entries = try TorchCheckpoint.read(file, describedAs: path)
        } else if head.count == 8 {
            // A safetensors file cut off after its length: its reader says how long the header
            // was meant to be.
            entries = try SafeTensorsFile.decode(file, path: path).tensors
        } else {
            // Neither "{" after a safetensors length, nor "PK" or PROTO: a text file, a picture,
            // a checkpoint of another library. Said so, rather than as a safetensors header
            // length of absurd size.
            guard !head.isEmpty else { throw MiniNetError.file(path, "is empty; a PyTorch checkpoint or a safetensors file was expected") }
            let start = head.prefix(4).map { String(format: "%02x", $0) }.joined(separator: " ")
            throw MiniNetError.file(path, "is neither a PyTorch checkpoint (zip or pickle) nor a safetensors file: it starts with the bytes \(start)")
        }
        return stateDict(entries)
    }

    /// The entries of a checkpoint by name, without the "module." prefix DataParallel puts on
    /// every key.
    static func stateDict(_ entries: [(name: String, tensor: Tensor)]) -> [String: Tensor] {
        var tensors: [String: Tensor] = [:]
        let stripPrefix = !entries.isEmpty && entries.allSatisfy { $0.name.hasPrefix("module.") }
        for (name, tensor) in entries {
            tensors[stripPrefix ? String(name.dropFirst("module.".count)) : name] = tensor
        }
        return tensors
    }

    /// The ResNet a state_dict describes:
    /// - Bottleneck blocks when `layer1.0.conv3.weight` exists, BasicBlocks otherwise;
    /// - the blocks of stage s are the indices b with a `layer<s>.<b>.conv1.weight`;
    /// - the stem width is conv1's output channels, the planes are each stage's first conv1's,
    ///   the class count is fc's rows.
    public static func inferShape(_ stateDict: [String: Tensor], path: String) throws -> ResNetShape {
        func shape(_ key: String) throws -> [Int] {
            guard let tensor = stateDict[key] else {
                throw MiniNetError.file(path, "has no tensor '\(key)': not a torchvision ResNet state_dict (\(stateDict.count) tensors, e.g. '\(printable(stateDict.keys.sorted().first ?? "none"))')")
            }
            return tensor.shape
        }
        let stem = try shape("conv1.weight")
        let classifier = try shape("fc.weight")
        guard stem.count == 4, classifier.count == 2 else {
            throw MiniNetError.file(path, "conv1.weight has shape \(stem) and fc.weight \(classifier): not a ResNet")
        }
        let bottleneck = stateDict["layer1.0.conv3.weight"] != nil
        var blocks: [Int] = []
        var planes: [Int] = []
        for stage in 1...4 {
            var count = 0
            while stateDict["layer\(stage).\(count).conv1.weight"] != nil { count += 1 }
            guard count > 0 else { throw MiniNetError.file(path, "has no tensor 'layer\(stage).0.conv1.weight': not a torchvision ResNet state_dict") }
            blocks.append(count)
            let firstConv = try shape("layer\(stage).0.conv1.weight")
            guard firstConv.count == 4 else { throw MiniNetError.file(path, "layer\(stage).0.conv1.weight has shape \(firstConv)") }
            planes.append(firstConv[0])
        }
        return ResNetShape(usesBottleneck: bottleneck, blocks: blocks, stemChannels: stem[0], planes: planes, classCount: classifier[0])
    }
}

import Foundation

/// A classifier built from a `ModelSpec`: the layer tree, and the input convention.
public final class ImageClassifier {
    public let spec: ModelSpec
    /// The whole network; its children are the top-level modules ("features", "pool", …).
    public let network: Sequential

    public convenience init(spec: ModelSpec) throws {
        try self.init(spec: spec, weights: [:])
    }

    /// A classifier whose convolutions start with the kernels and biases in `weights` (by
    /// state_dict name, taken only where the shape fits) instead of zeros: a loaded network
    /// then never holds a second, all-zero copy of its weights, which would cost as much
    /// memory and time as the weights themselves (87 MB for ResNet-34). `loadStateDict`
    /// still puts every tensor in place and checks every name and shape.
    init(spec: ModelSpec, weights: [String: Tensor]) throws {
        self.spec = spec
        network = try ImageClassifier.build(spec.layers, prefix: "", weights: weights)
        network.assignNames()
    }

    /// The networks `mergedBatchNorm(leavingNeutral:)` made, with the state they were made from.
    var mergedNetworks: [Bool: (state: MergeState, network: Layer)] = [:]
    let mergedNetworksLock = NSLock()

    public var classNames: [String] { spec.classNames }
    public var inputSize: [Int] { spec.inputSize }

    /// Logits [N, L] for normalised images [N, C, H, W].
    public func forward(_ images: Tensor) -> Tensor {
        network.run(images)
    }

    /// Logits [N, L] for normalised images [N, C, H, W], keeping nothing for a backward pass
    /// (PyTorch's `with torch.no_grad():`, see `GradientRecording`): for passes that only score.
    public func inferenceLogits(_ images: Tensor) -> Tensor {
        GradientRecording.disabled { network.run(images) }
    }

    /// ∂loss/∂input [N, C, H, W] for ∂loss/∂logits [N, L], after a `forward`.
    public func backward(_ logitsGradient: Tensor) -> Tensor {
        network.runBackward(logitsGradient)
    }

    public func layer(named name: String) -> Layer? { network.layer(named: name) }

    /// A second network with the same weights, for another thread: its parameters and buffers
    /// are this one's tensors (the same storage, not copied, while neither changes them), its
    /// convolutions take this one's transformed kernels, and it is in the same mode; its
    /// activations, caches and hooks are its own (it has none).
    public func copySharingWeights() throws -> ImageClassifier {
        let state = Dictionary(stateDict, uniquingKeysWith: { first, _ in first })
        let copy = try ImageClassifier(spec: spec, weights: state)
        try copy.loadStateDict(state, source: "copy")
        for (mine, original) in zip(copy.network.allLayers, network.allLayers) {
            mine.isTraining = original.isTraining
            mine.computesParameterGradients = original.computesParameterGradients
            if let mine = mine as? Conv2d, let original = original as? Conv2d {
                mine.computesInputGradient = original.computesInputGradient
                mine.adoptTransformedKernels(of: original)
            }
            if let mine = mine as? ReLU, let original = original as? ReLU { mine.gradientRule = original.gradientRule }
        }
        return copy
    }

    /// Evaluation mode, and no parameter gradients: explanations need ∂y/∂input and ∂y/∂A only.
    public func prepareForExplanation() {
        network.setTraining(false)
        network.setParameterGradients(false)
    }

    /// The layers whose output a CAM can explain: every named leaf or block, in order.
    public var layerNames: [String] { network.allLayers.map(\.name).filter { !$0.isEmpty } }

    /// Converts an RGB picture into the network's input [C, H, W]: `fitToInput`, then
    /// (x − mean)/std per channel.
    public func preprocess(_ image: RGBImage) throws -> Tensor {
        normalize(try fitToInput(image))
    }

    /// The picture as the network sees it before normalisation, [C, H, W] in 0…1 at the input
    /// size. A picture of exactly the input size is used as it is. Otherwise, with
    /// `spec.resizeShorterSide` (torchvision ResNets), the shorter side is resized to it and the
    /// centre cropped, as torchvision's evaluation transform does; without, the picture is
    /// resized (bilinear) to the input size.
    public func fitToInput(_ image: RGBImage) throws -> Tensor {
        let (height, width) = (spec.inputSize[1], spec.inputSize[2])
        // A picture already at the input size is taken as it is (it may have been prepared
        // elsewhere), where torchvision would still enlarge it to 256 and crop it back.
        if let shorterSide = spec.resizeShorterSide, image.width != width || image.height != height {
            return try ImageNetPreprocessing(resizeShorterSide: shorterSide, cropSize: height).resizeAndCrop(image).toTensor()
        }
        let tensor = image.toTensor()
        if image.width == width && image.height == height { return tensor }
        return resizeBilinear(tensor, height: height, width: width)
    }

    /// (x − mean)/std per channel of [C, H, W] values in 0…1.
    public func normalize(_ image: Tensor) -> Tensor {
        var result = image
        let planeSize = image.shape[1] * image.shape[2]
        for channel in 0..<image.shape[0] {
            for index in (channel * planeSize)..<((channel + 1) * planeSize) {
                result.data[index] = (image.data[index] - spec.mean[channel]) / spec.std[channel]
            }
        }
        return result
    }

    /// Inverse of `normalize`: x·std + mean, back to 0…1 for display.
    public func denormalize(_ input: Tensor) -> Tensor {
        var result = input
        let planeSize = input.shape[1] * input.shape[2]
        for channel in 0..<input.shape[0] {
            for index in (channel * planeSize)..<((channel + 1) * planeSize) {
                result.data[index] = input.data[index] * spec.std[channel] + spec.mean[channel]
            }
        }
        return result
    }

    // MARK: building

    /// Builds nested Sequentials from dotted names: "features.0" becomes child "0" of the
    /// Sequential "features", in the order the layers are listed.
    static func build(_ layers: [LayerSpec], prefix: String, weights: [String: Tensor] = [:]) throws -> Sequential {
        var children: [(String, Layer)] = []
        var index = 0
        while index < layers.count {
            let relative = String(layers[index].name.dropFirst(prefix.count))
            guard !relative.isEmpty else { throw MiniNetError.invalidModel("layer name '\(layers[index].name)' is empty") }
            if let dot = relative.firstIndex(of: ".") {
                let head = String(relative[..<dot])
                let groupPrefix = prefix + head + "."
                var end = index
                while end < layers.count && layers[end].name.hasPrefix(groupPrefix) { end += 1 }
                children.append((head, try build(Array(layers[index..<end]), prefix: groupPrefix, weights: weights)))
                index = end
            } else {
                children.append((relative, try makeLayer(layers[index], weights: weights)))
                index += 1
            }
        }
        let names = children.map(\.0)
        if Set(names).count != names.count {
            throw MiniNetError.invalidModel("architecture lists the module '\(prefix)\(names.first { n in names.filter { $0 == n }.count > 1 } ?? "")' twice")
        }
        return Sequential(named: children)
    }

    static func makeLayer(_ spec: LayerSpec, weights: [String: Tensor] = [:]) throws -> Layer {
        func required(_ value: Int?, _ field: String) throws -> Int {
            guard let value, value > 0, value <= 1 << 20 else {
                throw MiniNetError.invalidModel("layer '\(spec.name)' (\(spec.type)) needs a positive \(field)")
            }
            return value
        }
        switch spec.type {
        case "Conv2d":
            let padding = spec.padding ?? 0
            guard padding >= 0 && padding < 1 << 10 else { throw MiniNetError.invalidModel("layer '\(spec.name)' has padding \(padding)") }
            let (inputChannels, outputChannels) = (try required(spec.inChannels, "in_channels"), try required(spec.outChannels, "out_channels"))
            let kernelSize = try required(spec.kernelSize, "kernel_size")
            return Conv2d(inputChannels: inputChannels, outputChannels: outputChannels, kernelSize: kernelSize,
                          stride: try required(spec.stride ?? 1, "stride"), padding: padding, bias: spec.bias ?? true,
                          weight: weights.tensor(spec.name + ".weight", shape: [outputChannels, inputChannels, kernelSize, kernelSize]),
                          biasValue: weights.tensor(spec.name + ".bias", shape: [outputChannels]))
        case "BatchNorm2d":
            return BatchNorm2d(channels: try required(spec.numFeatures, "num_features"), epsilon: spec.eps ?? 1e-5, momentum: spec.momentum ?? 0.1)
        case "ReLU":
            return ReLU()
        case "MaxPool2d":
            let kernel = try required(spec.kernelSize, "kernel_size")
            let padding = spec.padding ?? 0
            guard padding >= 0 && 2 * padding <= kernel else {
                throw MiniNetError.invalidModel("layer '\(spec.name)' has padding \(padding); MaxPool2d allows 0 to kernel_size/2")
            }
            return MaxPool2d(kernelSize: kernel, stride: try required(spec.stride ?? kernel, "stride"), padding: padding)
        case "BasicBlock", "Bottleneck":
            return makeResidualBlock(spec, inputChannels: try required(spec.inChannels, "in_channels"),
                                     planes: try required(spec.planes, "planes"), stride: try required(spec.stride ?? 1, "stride"),
                                     weights: weights)
        case "AdaptiveAvgPool2d":
            guard (spec.outputSize ?? 1) == 1 else { throw MiniNetError.invalidModel("layer '\(spec.name)': only output_size 1 is supported") }
            return GlobalAveragePool()
        case "Flatten":
            return Flatten()
        case "Linear":
            return Linear(inputFeatures: try required(spec.inFeatures, "in_features"),
                          outputFeatures: try required(spec.outFeatures, "out_features"), bias: spec.bias ?? true)
        default:
            throw MiniNetError.invalidModel("layer '\(spec.name)' has unknown type '\(spec.type)'")
        }
    }
}

extension Dictionary where Key == String, Value == Tensor {
    /// The tensor called `name` if it has `shape`, else nil (the layer then starts from zeros,
    /// and `loadStateDict` names the mismatch).
    func tensor(_ name: String, shape: [Int]) -> Tensor? {
        guard let tensor = self[name], tensor.shape == shape else { return nil }
        return tensor
    }
}

/// Bilinear resize of [C, H, W] with the convention of torch's interpolate(mode="bilinear",
/// align_corners=False): output pixel i samples input coordinate (i + ½)·(H/OH) − ½, clamped at 0.
public func resizeBilinear(_ input: Tensor, height outputHeight: Int, width outputWidth: Int) -> Tensor {
    precondition(input.rank == 3, "resizeBilinear expects [C, H, W], got \(input.shape)")
    let (height, width) = (input.shape[1], input.shape[2])
    let scaleY = Float(height) / Float(outputHeight)
    let scaleX = Float(width) / Float(outputWidth)
    return interpolateBilinear(input, rows: bilinearTaps(outputHeight, height) { Swift.max((Float($0) + 0.5) * scaleY - 0.5, 0) },
                               columns: bilinearTaps(outputWidth, width) { Swift.max((Float($0) + 0.5) * scaleX - 0.5, 0) })
}

/// For each of `count` output coordinates, read at input coordinate `source(i)`: the two input
/// neighbours (clamped to the last one) and the weight of the second.
func bilinearTaps(_ count: Int, _ inputCount: Int, source: (Int) -> Float) -> [(low: Int, high: Int, weight: Float)] {
    (0..<count).map { i in
        let position = source(i)
        let low = Swift.min(Int(position), inputCount - 1)
        let high = Swift.min(low + 1, inputCount - 1)
        return (low, high, position - Float(low))
    }
}

/// [C, H, W] → [C, rows.count, columns.count]: each output cell mixes the four input cells its
/// taps name, first along a row, then between the two rows.
func interpolateBilinear(_ input: Tensor, rows: [(low: Int, high: Int, weight: Float)],
                         columns: [(low: Int, high: Int, weight: Float)]) -> Tensor {
    let (channels, height, width) = (input.shape[0], input.shape[1], input.shape[2])
    let (outputHeight, outputWidth) = (rows.count, columns.count)
    var output = Tensor(zeros: [channels, outputHeight, outputWidth])
    for c in 0..<channels {
        let plane = c * height * width
        for (i, (y0, y1, wy)) in rows.enumerated() {
            for (j, (x0, x1, wx)) in columns.enumerated() {
                let top = (1 - wx) * input.data[plane + y0 * width + x0] + wx * input.data[plane + y0 * width + x1]
                let bottom = (1 - wx) * input.data[plane + y1 * width + x0] + wx * input.data[plane + y1 * width + x1]
                output.data[(c * outputHeight + i) * outputWidth + j] = (1 - wy) * top + wy * bottom
            }
        }
    }
    return output
}

import Foundation

/// Saving and loading a classifier as safetensors with PyTorch's tensor names and layouts.
/// The metadata key "tutor.model" holds the `ModelSpec` as JSON. See docs/model-format.md.
extension ImageClassifier {
    public static let metadataKey = "tutor.model"

    /// Parameters and buffers with their PyTorch state_dict names, in module order.
    public var stateDict: [(name: String, tensor: Tensor)] {
        var entries: [(name: String, tensor: Tensor)] = []
        for layer in network.allLayers {
            let prefix = layer.name.isEmpty ? "" : layer.name + "."
            for parameter in layer.parameters { entries.append((prefix + parameter.name, parameter.value)) }
            for buffer in layer.buffers { entries.append((prefix + buffer.name, buffer.value)) }
        }
        return entries
    }

    /// Copies tensors into the network. Every expected name must be present with the right
    /// shape, and no unexpected name may remain; `source` names the file in errors.
    public func loadStateDict(_ tensors: [String: Tensor], source: String) throws {
        var unused = Set(tensors.keys)
        for layer in network.allLayers {
            let prefix = layer.name.isEmpty ? "" : layer.name + "."
            for parameter in layer.parameters {
                let key = prefix + parameter.name
                guard let value = tensors[key] else {
                    throw MiniNetError.file(source, "missing tensor '\(key)' (expected shape \(parameter.value.shape)); is this a weights file for another architecture?")
                }
                guard value.shape == parameter.value.shape else {
                    throw MiniNetError.file(source, "tensor '\(key)' has shape \(value.shape), the architecture expects \(parameter.value.shape)")
                }
                parameter.value = value
                unused.remove(key)
            }
            for buffer in layer.buffers {
                let key = prefix + buffer.name
                guard let value = tensors[key] else {
                    throw MiniNetError.file(source, "missing tensor '\(key)'; is this a weights file for another architecture?")
                }
                do { try layer.setBuffer(buffer.name, value) } catch let error as MiniNetError {
                    throw MiniNetError.file(source, error.description)
                }
                unused.remove(key)
            }
        }
        if let unexpected = unused.sorted().first {
            throw MiniNetError.file(source, "unexpected tensor '\(unexpected)' that the architecture has no place for (\(unused.count) in all)")
        }
    }

    public static func load(from path: String) throws -> ImageClassifier {
        try load(SafeTensorsFile.read(from: path), path: path)
    }

    /// `load(from:)` on a file already read; `path` names it in messages.
    static func load(_ file: SafeTensorsFile, path: String) throws -> ImageClassifier {
        guard let specJSON = file.metadata[metadataKey] else {
            throw MiniNetError.file(path, "no '\(metadataKey)' metadata: not a tutor model file (for torchvision weights use --model)")
        }
        let spec: ModelSpec
        do {
            spec = try JSONDecoder().decode(ModelSpec.self, from: Data(specJSON.utf8))
        } catch {
            throw MiniNetError.file(path, "the '\(metadataKey)' metadata is not a valid architecture description")
        }
        var tensors: [String: Tensor] = [:]
        for (name, tensor) in file.tensors { tensors[name] = tensor }
        // Every declared size is checked before any layer is allocated.
        try checkBeforeBuilding(spec, tensors, path: path)
        let classifier: ImageClassifier
        do { classifier = try ImageClassifier(spec: spec, weights: tensors) } catch let error as MiniNetError {
            throw MiniNetError.file(path, error.description)
        }
        try classifier.loadStateDict(tensors, source: path)
        try classifier.checkShapes(path: path)
        return classifier
    }

    /// Checks a spec and the tensors of a file against each other before the classifier is
    /// built: the spec within `CheckpointLimits` (`ModelSpec.plannedTensors`), every tensor it
    /// needs present with its shape, no other tensor, every value finite, and every BatchNorm
    /// variance ≥ 0. Each problem is one `MiniNetError.file(path, …)`.
    static func checkBeforeBuilding(_ spec: ModelSpec, _ tensors: [String: Tensor], path: String) throws {
        let planned: [(name: String, shape: [Int])]
        do { planned = try spec.plannedTensors() } catch let error as MiniNetError {
            throw MiniNetError.file(path, error.description)
        }
        var unused = Set(tensors.keys)
        for (name, shape) in planned {
            guard let tensor = tensors[name] else {
                throw MiniNetError.file(path, "missing tensor '\(printable(name))' (expected shape \(shape)); is this a weights file for another architecture?")
            }
            // PyTorch stores BatchNorm's batch counter as a scalar; older files as [1].
            let fits = shape.isEmpty ? tensor.count == 1 : tensor.shape == shape
            guard fits else {
                throw MiniNetError.file(path, "tensor '\(printable(name))' has shape \(tensor.shape.prefix(9)), the architecture expects \(shape)")
            }
            unused.remove(name)
        }
        if let unexpected = unused.sorted().first {
            throw MiniNetError.file(path, "unexpected tensor '\(printable(unexpected))' that the architecture has no place for (\(unused.count) in all)")
        }
        // Then the values: present tensors only (all of them, checked above).
        for (name, _) in planned {
            guard let values = tensors[name]?.data else { continue }
            if !allFinite(values), let index = values.firstIndex(where: { !$0.isFinite }) {
                throw MiniNetError.file(path, "tensor '\(printable(name))' holds \(values[index]) at index \(index); weights must be finite numbers")
            }
            if name.hasSuffix(".running_var"), let index = values.firstIndex(where: { $0 < 0 }) {
                throw MiniNetError.file(path, "tensor '\(printable(name))' holds the negative variance \(values[index]) at index \(index)")
            }
        }
    }

    /// Whether every value is finite, from the bits alone, so that the loop runs many values
    /// per instruction (a ResNet-34 has 21.8 million weights to look at before it starts):
    /// a Float32 is infinite or NaN exactly when its 8 exponent bits are all ones,
    /// e = bits & 0x7f80_0000 = 0x7f80_0000, and adding 0x0080_0000 (one unit of exponent)
    /// carries into bit 31 for that e only (0x7f80_0000 + 0x0080_0000 = 0x8000_0000, while
    /// every smaller exponent stays below 2³¹).
    static func allFinite(_ values: [Float]) -> Bool {
        values.withUnsafeBufferPointer { buffer in
            var carries: UInt32 = 0
            for value in buffer {
                carries |= (value.bitPattern & 0x7f80_0000) &+ 0x0080_0000
            }
            return carries & 0x8000_0000 == 0
        }
    }

    /// Follows the input shape through the network without running it, so that a file whose
    /// layers do not fit together is refused with a message instead of trapping later.
    func checkShapes(path: String) throws {
        let output = try ImageClassifier.outputShape(of: network, input: [1] + spec.inputSize, path: path)
        guard output == [1, spec.classNames.count] else {
            throw MiniNetError.file(path, "the network gives shape \(output) but there are \(spec.classNames.count) class names")
        }
    }

    /// The output shape of `layer` for an input of shape `shape`, or an error naming the layer.
    static func outputShape(of layer: Layer, input shape: [Int], path: String) throws -> [Int] {
        func problem(_ text: String) -> MiniNetError { MiniNetError.file(path, "layer '\(layer.name)' \(text)") }
        switch layer {
        case let sequential as Sequential:
            var current = shape
            for (_, child) in sequential.layers { current = try outputShape(of: child, input: current, path: path) }
            return current
        case let residual as Residual:
            var body = shape
            for (_, child) in residual.body { body = try outputShape(of: child, input: body, path: path) }
            let shortcut = try residual.shortcut.map { try outputShape(of: $0.layer, input: shape, path: path) } ?? shape
            guard body == shortcut else { throw problem("adds a body of shape \(body) to a shortcut of shape \(shortcut)") }
            return body
        case let conv as Conv2d:
            guard shape.count == 4, shape[1] == conv.inputChannels else {
                throw problem("expects \(conv.inputChannels) input channels but receives shape \(shape)")
            }
            let size = conv.outputSize(height: shape[2], width: shape[3])
            guard size.height > 0, size.width > 0 else { throw problem("leaves no pixels of an input of shape \(shape)") }
            return [shape[0], conv.outputChannels, size.height, size.width]
        case let norm as BatchNorm2d:
            guard shape.count == 4, shape[1] == norm.channels else {
                throw problem("expects \(norm.channels) channels but receives shape \(shape)")
            }
            return shape
        case let pool as MaxPool2d:
            guard shape.count == 4, shape[2] + 2 * pool.padding >= pool.kernelSize, shape[3] + 2 * pool.padding >= pool.kernelSize else {
                throw problem("receives shape \(shape), too small to pool")
            }
            let size = pool.outputSize(height: shape[2], width: shape[3])
            return [shape[0], shape[1], size.height, size.width]
        case is GlobalAveragePool:
            guard shape.count == 4 else { throw problem("receives shape \(shape)") }
            return [shape[0], shape[1], 1, 1]
        case is Flatten:
            return [shape[0], shape.dropFirst().reduce(1, *)]
        case let linear as Linear:
            guard shape.count == 2, shape[1] == linear.inputFeatures else {
                throw problem("expects \(linear.inputFeatures) features but receives shape \(shape)")
            }
            return [shape[0], linear.outputFeatures]
        default:
            return shape
        }
    }
}

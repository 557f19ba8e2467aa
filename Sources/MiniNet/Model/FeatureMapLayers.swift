/// What MiniNet knows about where a network's feature maps are: the layers a CAM can explain
/// and the one it explains by default.
extension ImageClassifier {
    /// The layers whose output is a feature map a CAM can explain, in order: each ReLU and each
    /// residual block, leaving out the layers inside a residual block, up to the first global
    /// pooling or flattening (a ReLU of the head after it has no map).
    public var featureMapLayers: [String] {
        var names: [String] = []
        var flattened = false
        func visit(_ layer: Layer) {
            guard !flattened else { return }
            if layer is GlobalAveragePool || layer is Flatten { flattened = true; return }
            if layer is Residual { names.append(layer.name); return }
            if layer is ReLU { names.append(layer.name) }
            for (_, child) in layer.children { visit(child) }
        }
        visit(network)
        return names
    }

    /// The last layer that produces a feature map: the default layer for the CAM family. In a
    /// ResNet that is the last residual block of layer4 ("layer4.2"), not a ReLU inside it.
    ///
    /// Where that layer's maps do not go straight into the global pooling (a last block that
    /// ends in a convolution, with no ReLU after it), the default is the last layer whose maps
    /// do, so that a CAM explains the maps the head pools.
    public var defaultCAMLayer: String {
        let last = featureMapLayers.last ?? ""
        func feedsPooling(_ name: String) -> Bool {
            network.leafLayers(after: name)?.first { !($0 is ReLU) } is GlobalAveragePool
        }
        if last.isEmpty || feedsPooling(last) { return last }
        return network.allLayers.dropFirst().map(\.name).last(where: feedsPooling) ?? last
    }

    /// Whether the output A of `layer` reaches the logits only through global average pooling
    /// and the final linear layer (see `Sequential.feedsPoolingAndLinearHead`).
    public func feedsPoolingAndLinearHead(_ layer: String, nonNegative: Bool) -> Bool {
        network.feedsPoolingAndLinearHead(after: layer, nonNegative: nonNegative)
    }
}

extension Sequential {
    /// `layers(after:)` with every container opened: the layers that compute, in order.
    func leafLayers(after name: String) -> [Layer]? {
        layers(after: name)?.flatMap { $0.allLayers.filter { $0.children.isEmpty } }
    }

    /// Whether the output A of `layer` reaches the logits only through global average pooling
    /// and the final linear layer (flattening aside), so that z = W · mean_{i,j}(A) + b: where
    /// CAM's weights are W's rows and the CAM identities hold. A ReLU on the way keeps that only
    /// for A ≥ 0 (`nonNegative`), which it leaves as it is.
    public func feedsPoolingAndLinearHead(after layer: String, nonNegative: Bool) -> Bool {
        guard let leaves = leafLayers(after: layer) else { return false }
        var pooled = false
        for (index, leaf) in leaves.enumerated() {
            switch leaf {
            case is Flatten:
                continue
            case is ReLU where !pooled && nonNegative:
                continue
            case is GlobalAveragePool where !pooled:
                pooled = true
            case is Linear where pooled:
                return index == leaves.count - 1
            default:
                return false
            }
        }
        return false
    }
}

/// What MiniNet knows about where a network's feature maps are: the layers a CAM can explain
/// and the one it explains by default.
extension ImageClassifier {
    /// The layers whose output is a feature map a CAM can explain, in order: each ReLU and each
    /// residual block, leaving out the layers inside a residual block.
    public var featureMapLayers: [String] {
        var names: [String] = []
        func visit(_ layer: Layer) {
            if layer is Residual { names.append(layer.name); return }
            if layer is ReLU { names.append(layer.name) }
            for (_, child) in layer.children { visit(child) }
        }
        visit(network)
        return names
    }

    /// The last layer that produces a feature map: the default layer for the CAM family. In a
    /// ResNet that is the last residual block of layer4 ("layer4.2"), not a ReLU inside it.
    public var defaultCAMLayer: String { featureMapLayers.last ?? "" }
}

/// LayerCAM (Jiang et al. 2021): each cell of the activation is weighted by the positive part
/// of its own gradient,
///
///     L^c_{ij} = ReLU( Σ_k ReLU(∂y^c/∂A^k_{ij}) · A^k_{ij} )      element weights W^k = ReLU(∂y^c/∂A^k)
///
/// Cells whose activation would lower y^c are left out, which keeps the map sharp at early
/// layers, where the paper combines several layers (pytorch-grad-cam does that by averaging the
/// normalised maps of several target layers; MiniNet explains one layer at a time).
///
/// At the layer that feeds global average pooling and a linear layer, ReLU(g) = ReLU(w_{ck})/Z:
/// Grad-CAM with its negative weights set to 0.
public final class LayerCAM: ClassActivationMapMethod {
    public override var name: String { "LayerCAM" }
    public override var id: String { "layercam" }

    public override func weighting(probe: LayerProbe, input: Tensor, layer: String, target: ExplanationTarget) throws -> CAMWeighting {
        .elements(probe.gradients.map { max($0, 0) })                                   // W^k_{ij} = ReLU(∂y^c/∂A^k_{ij})
    }
}

extension CAMFamilyExplainer {
    public static let layerCAM = CAMFamilyExplainer(
        id: "layercam", summary: "LayerCAM: the activations weighted by the positive gradient, cell by cell (Jiang et al. 2021)",
        method: { LayerCAM(classifier: $0) }, checks: CAMIdentities.positivePooling)
}

/// Element-wise Grad-CAM (pytorch-grad-cam's GradCAMElementWise): HiResCAM with a ReLU on each
/// product before the sum over channels,
///
///     L^c_{ij} = ReLU( Σ_k ReLU( ∂y^c/∂A^k_{ij} · A^k_{ij} ) )
///
/// so a channel can only add to a cell, never cancel another channel there. Written as element
/// weights: ReLU(g·a) = g·[g·a > 0]·a, so W^k_{ij} = g · [g · A^k_{ij} > 0] with g = ∂y^c/∂A^k_{ij}.
/// (The outer ReLU changes nothing here; the shared pipeline applies it to every variant.)
///
/// Where A ≥ 0 (after a ReLU), [g·a > 0] keeps the cells with g > 0 and a > 0, and the map equals
/// LayerCAM's.
public final class GradCAMElementWise: ClassActivationMapMethod {
    public override var name: String { "Element-wise Grad-CAM" }
    public override var id: String { "gradcam-elementwise" }

    public override func weighting(probe: LayerProbe, input: Tensor, layer: String, target: ExplanationTarget) throws -> CAMWeighting {
        var weights = probe.gradients                                                    // g = ∂y^c/∂A^k_{ij}
        for (index, a) in probe.activations.data.enumerated() {
            let g = weights.data[index]
            if !((g > 0 && a > 0) || (g < 0 && a < 0)) { weights.data[index] = 0 }       // [g · A > 0], by the signs
        }
        return .elements(weights)
    }
}

extension CAMFamilyExplainer {
    public static let gradCAMElementWise = CAMFamilyExplainer(
        id: "gradcam-elementwise", summary: "Element-wise Grad-CAM: the ReLU of gradient times activation, cell by cell",
        method: { GradCAMElementWise(classifier: $0) }, checks: CAMIdentities.positivePooling)
}

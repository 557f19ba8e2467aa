/// HiResCAM (Draelos & Carin 2020): the gradient is not averaged over the plane but multiplied
/// cell by cell with the activation,
///
///     L^c_{ij} = ReLU( Σ_k ∂y^c/∂A^k_{ij} · A^k_{ij} )          element weights W^k = ∂y^c/∂A^k
///
/// so the map shows where the first-order change of y^c lives, also at layers where Grad-CAM's
/// average blurs it.
///
/// HiResCAM = Grad-CAM at the layer that feeds global average pooling and a linear layer:
/// there y^c = Σ_k w_{ck} · (1/Z) Σ_{i,j} A^k_{ij} + b_c, so ∂y^c/∂A^k_{ij} = w_{ck}/Z at every
/// cell. A gradient that is the same at every cell equals its own mean α^c_k = w_{ck}/Z, and
/// Σ_k (w_{ck}/Z) · A^k_{ij} = Σ_k α^c_k · A^k_{ij}: the two maps agree cell by cell (and are
/// CAM's map divided by Z). At an earlier layer the gradient varies over the plane and they differ.
///
/// `CAMResult.weights` holds the spatial means of W, i.e. Grad-CAM's α^c_k.
public final class HiResCAM: ClassActivationMapMethod {
    public override var name: String { "HiResCAM" }
    public override var id: String { "hirescam" }

    public override func weighting(probe: LayerProbe, input: Tensor, layer: String, target: ExplanationTarget) throws -> CAMWeighting {
        .elements(probe.gradients)                                                       // W^k_{ij} = ∂y^c/∂A^k_{ij}
    }
}

extension CAMFamilyExplainer {
    public static let hiResCAM = CAMFamilyExplainer(
        id: "hirescam", summary: "HiResCAM: the gradient times the activation, cell by cell, then summed over channels (Draelos & Carin 2020)",
        method: { HiResCAM(classifier: $0) }, checks: CAMIdentities.gradientPooling)
}

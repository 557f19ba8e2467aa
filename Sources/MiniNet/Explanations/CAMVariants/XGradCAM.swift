/// XGrad-CAM (Fu et al. 2020): the gradient averaged with the activations as its weights,
///
///     w^c_k = Σ_{i,j} ( A^k_{ij} / (Σ_{a,b} A^k_{ab} + ε) ) · ∂y^c/∂A^k_{ij}
///
/// the weights that satisfy the paper's two axioms (sensitivity and conservation) best when y^c
/// is linear in A. Grad-CAM weighs every cell of the gradient alike (1/Z); XGrad-CAM weighs a
/// cell by the share of the channel's activation it holds. Where the gradient is the same at
/// every cell (the layer that feeds global average pooling and a linear layer), both give that
/// gradient, w^c_k = α^c_k = w_{ck}/Z (up to ε).
///
/// ε = 1e-7, as in pytorch-grad-cam 1.5.7 (xgrad_cam.py); the paper has none.
public final class XGradCAM: ClassActivationMapMethod {
    public override var name: String { "XGrad-CAM" }
    public override var id: String { "xgradcam" }
    /// ε, which keeps an all-zero channel from dividing by 0 (pytorch-grad-cam's 1e-7)
    public var stabilizer = XGradCAM.defaultStabilizer
    public static let defaultStabilizer = 1e-7

    public override func channelWeights(probe: LayerProbe, input: Tensor, layer: String, target: ExplanationTarget) throws -> [Float] {
        let (activations, gradients) = (probe.activations.data, probe.gradients.data)
        let planeSize = probe.activations.shape[1] * probe.activations.shape[2]
        return (0..<probe.activations.shape[0]).map { k in
            let plane = (k * planeSize)..<((k + 1) * planeSize)
            let activationSum = plane.reduce(0.0) { $0 + Double(activations[$1]) }       // Σ_{a,b} A^k_{ab}
            let gradientTimesActivation = plane.reduce(0.0) { $0 + Double(gradients[$1]) * Double(activations[$1]) }
            return Float(gradientTimesActivation / (activationSum + stabilizer))         // Σ (A / ΣA) · ∂y/∂A
        }
    }
}

extension CAMFamilyExplainer {
    public static let xGradCAM = CAMFamilyExplainer(
        id: "xgradcam", summary: "XGrad-CAM: the gradient averaged with the activations as weights (Fu et al. 2020)",
        method: { XGradCAM(classifier: $0) }, checks: CAMIdentities.gradientPooling(stabilizer: XGradCAM.defaultStabilizer))
}

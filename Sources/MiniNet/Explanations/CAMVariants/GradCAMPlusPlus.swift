/// Grad-CAM++ (Chattopadhay et al. 2018). With g = ∂y^c/∂A^k_{ij}, the weight of channel k adds
/// up the positive gradients, each with its own coefficient a:
///
///     w^c_k = Σ_{i,j} a^k_{ij} · ReLU(g)
///     a^k_{ij} = g² / (2·g² + (Σ_{a,b} A^k_{ab}) · g³ + ε)          a = 0 where g = 0
///
/// Where the powers come from: the paper explains Y^c = exp(y^c) and needs its second and third
/// derivatives. In a ReLU network y^c is piecewise linear in A, so ∂²y^c/∂A² = 0 and
/// ∂ⁿY^c/∂Aⁿ = exp(y^c) · gⁿ: the powers of the first derivative stand in for the higher ones.
/// exp(y^c) cancels in a (the paper's Eq. 19) and is a common positive factor of every w^c_k
/// that the normalised map does not see, so, like pytorch-grad-cam (grad_cam_plusplus.py), we
/// use g of the target itself and drop it.
///
/// Conventions of pytorch-grad-cam 1.5.7 that we follow: ε = 1e-6 (the paper has none) and
/// a = 0 where g = 0. ε is not negligible when g² is small (g² ≈ 1e-6 for g ≈ 1e-3); set
/// `stabilizer` to 0 for the paper's formula.
///
/// At a layer that feeds global average pooling and a linear layer, g = w_{ck}/Z on the whole
/// plane (see HiResCAM), so with ε = 0:  w^c_k = Z · a · ReLU(g) = ReLU(w_{ck}) / (2 + w_{ck} · F_k),
/// F_k = (1/Z) Σ A^k the pooled feature: CAM's positive weights, shrunk where w_{ck}·F_k is large.
public final class GradCAMPlusPlus: ClassActivationMapMethod {
    public override var name: String { "Grad-CAM++" }
    public override var id: String { "gradcam++" }
    /// ε in the denominator of a (pytorch-grad-cam's 1e-6)
    public var stabilizer = GradCAMPlusPlus.defaultStabilizer
    public static let defaultStabilizer = 1e-6

    public override func channelWeights(probe: LayerProbe, input: Tensor, layer: String, target: ExplanationTarget) throws -> [Float] {
        let (activations, gradients) = (probe.activations.data, probe.gradients.data)
        let planeSize = probe.activations.shape[1] * probe.activations.shape[2]
        return (0..<probe.activations.shape[0]).map { k in
            let plane = (k * planeSize)..<((k + 1) * planeSize)
            let activationSum = plane.reduce(0.0) { $0 + Double(activations[$1]) }       // Σ_{a,b} A^k_{ab}
            var weight = 0.0                                                             // w^c_k
            for index in plane where gradients[index] > 0 {                              // ReLU(g) = 0 elsewhere
                let g = Double(gradients[index])
                let a = g * g / (2 * g * g + activationSum * g * g * g + stabilizer)      // a^k_{ij}
                weight += a * g                                                          // a · ReLU(g)
            }
            return Float(weight)
        }
    }
}

extension CAMFamilyExplainer {
    public static let gradCAMPlusPlus = CAMFamilyExplainer(
        id: "gradcam++", summary: "Grad-CAM++: channel weights from powers of the gradient, for several instances of a class (Chattopadhay et al. 2018)",
        method: { GradCAMPlusPlus(classifier: $0) }, checks: CAMIdentities.gradCAMPlusPlusWeights(stabilizer: GradCAMPlusPlus.defaultStabilizer))
}

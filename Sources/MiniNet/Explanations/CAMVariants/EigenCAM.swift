/// Eigen-CAM (Muhammad & Yeasin 2020): no class and no gradient; the map is the activations'
/// first principal component. With the hw cells as rows and the K channels as columns,
///
///     X_{(ij),k} = A^k_{ij},   μ_k = (1/Z) Σ_{i,j} A^k_{ij},   X̄ = X − 1 μᵀ      (centred)
///     X̄ = U Σ Vᵀ,   v = V[:, 0]                                 first right singular vector
///     L_{ij} = ReLU( (X̄ v)_{ij} ) = ReLU( Σ_k v_k · A^k_{ij} − Σ_k v_k μ_k )
///
/// so in the shared pipeline the channel weights are v and the offset is b = −Σ_k v_k μ_k.
/// v is the top eigenvector of X̄ᵀX̄ (K × K), or comes from the top eigenvector u of X̄X̄ᵀ
/// (Z × Z) as v = X̄ᵀu/‖X̄ᵀu‖ when Z < K; `symmetricEigendecomposition` finds it in Double.
///
/// The sign. −v is a singular vector as well, and it keeps the other side of the map after the
/// ReLU. The projection adds up to 0 (X̄'s columns are centred), so "make its sum positive"
/// cannot decide; we make its value of largest magnitude positive: flip v if
/// |min (X̄v)| > max (X̄v). This is Seg-Eigen-CAM's rule (Chung & Ying 2025, Eq. 13), in
/// pytorch-grad-cam as get_2d_projection_with_sign_correction. pytorch-grad-cam 1.5.7's EigenCAM
/// itself uses get_2d_projection, which keeps the sign LAPACK's SVD returns: the same as ours or
/// its negative, depending on the LAPACK build. The class c plays no part (CAMResult.score
/// still reports y^c).
public final class EigenCAM: ClassActivationMapMethod {
    public override var name: String { "Eigen-CAM" }
    public override var id: String { "eigencam" }
    public override var usesGradients: Bool { false }

    public override func weighting(probe: LayerProbe, input: Tensor, layer: String, target: ExplanationTarget) throws -> CAMWeighting {
        let (channels, cells) = (probe.activations.shape[0], probe.activations.shape[1] * probe.activations.shape[2])
        let a = probe.activations.data.map(Double.init)                                  // a[k·Z + cell] = A^k_cell
        let mean = (0..<channels).map { k in a[(k * cells)..<((k + 1) * cells)].reduce(0, +) / Double(cells) }  // μ_k
        let centred = (0..<(channels * cells)).map { a[$0] - mean[$0 / cells] }          // X̄ᵀ, channel by channel
        var direction = firstPrincipalDirection(centredColumns: centred, channels: channels, cells: cells)      // v
        let projection = (0..<cells).map { cell in (0..<channels).reduce(0.0) { $0 + direction[$1] * centred[$1 * cells + cell] } }
        if abs(projection.min() ?? 0) > (projection.max() ?? 0) { direction = direction.map { -$0 } }          // the sign rule
        let offset = -zip(direction, mean).reduce(0.0) { $0 + $1.0 * $1.1 }              // b = −Σ_k v_k μ_k
        return .channels(direction.map { Float($0) }, offset: Float(offset))
    }
}

/// v, the unit vector that maximises ‖X̄v‖, for X̄ [Z × K] given as its K columns one after the
/// other (`centredColumns[k·Z + cell]`), from the smaller of X̄ᵀX̄ [K × K] and X̄X̄ᵀ [Z × Z].
func firstPrincipalDirection(centredColumns x: [Double], channels: Int, cells: Int) -> [Double] {
    if channels <= cells {
        var gram = [Double](repeating: 0, count: channels * channels)                   // X̄ᵀX̄
        for k in 0..<channels { for l in k..<channels {
            let dot = (0..<cells).reduce(0.0) { $0 + x[k * cells + $1] * x[l * cells + $1] }
            (gram[k * channels + l], gram[l * channels + k]) = (dot, dot)
        } }
        return symmetricEigendecomposition(gram, size: channels).vectors[0]
    }
    var gram = [Double](repeating: 0, count: cells * cells)                             // X̄X̄ᵀ
    for i in 0..<cells { for j in i..<cells {
        let dot = (0..<channels).reduce(0.0) { $0 + x[$1 * cells + i] * x[$1 * cells + j] }
        (gram[i * cells + j], gram[j * cells + i]) = (dot, dot)
    } }
    let u = symmetricEigendecomposition(gram, size: cells).vectors[0]
    let v = (0..<channels).map { k in (0..<cells).reduce(0.0) { $0 + x[k * cells + $1] * u[$1] } }         // X̄ᵀu
    let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
    return norm > 0 ? v.map { $0 / norm } : v
}

extension CAMFamilyExplainer {
    public static let eigenCAM = CAMFamilyExplainer(
        id: "eigencam", summary: "Eigen-CAM: the first principal component of the feature maps, without gradients or class (Muhammad & Yeasin 2020)",
        method: { EigenCAM(classifier: $0) }, checks: CAMIdentities.centredProjection)
}

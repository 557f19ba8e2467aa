import Foundation

/// Score-CAM (Wang et al. 2020): no gradient; each channel is used as a mask on the input, and
/// the network's score for the masked input decides the channel's weight,
///
///     M^k = normalise( upsample(A^k) )                        [H, W], in 0…1
///     s_k = y^c( x ⊙ M^k )                                    one forward pass per channel
///     w^c_k = softmax_k(s)_k = exp(s_k) / Σ_j exp(s_j)
///
/// The forward passes run in batches of `batchSize` masked inputs.
///
/// pytorch-grad-cam 1.5.7's conventions (score_cam.py), which we follow:
/// - upsample with align_corners = True (torch.nn.UpsamplingBilinear2d), unlike the final map's
///   resize (align_corners = False); `resizeBilinearAlignCorners` below;
/// - normalise each upsampled channel by (x − min)/(max − min + 1e-8);
/// - the weights are the softmax of the K scores over the channels.
/// The paper's channel-wise increase of confidence, C(A^k) = y^c(x ⊙ M^k) − y^c(x_b), subtracts
/// the score of a baseline input x_b, the same for every k; the softmax over k ignores such a
/// constant, so pytorch-grad-cam and MiniNet leave it out. The score is the target, the logit
/// unless `.probability(c)` is asked for.
public final class ScoreCAM: ClassActivationMapMethod {
    public override var name: String { "Score-CAM" }
    public override var id: String { "scorecam" }
    public override var usesGradients: Bool { false }
    /// How many masked inputs are pushed through the network at once (pytorch-grad-cam's 16).
    public var batchSize = 16
    /// The 1e-8 that keeps a constant channel (max = min) from dividing by 0; its mask is then 0.
    public var maskStabilizer: Float = 1e-8
    /// Told (masked pictures done, all of them) after each batch: on a photo network the K
    /// forward passes take seconds (512 on a ResNet's last stage), worth a progress bar.
    public var progress: ((_ done: Int, _ total: Int) -> Void)?

    public override func channelWeights(probe: LayerProbe, input: Tensor, layer: String, target: ExplanationTarget) throws -> [Float] {
        let scores = try maskedScores(activations: probe.activations, input: input, target: target)   // s_k
        let largest = Double(scores.max() ?? 0)                  // subtracted before exp: same softmax, no overflow
        let exponentials = scores.map { exp(Double($0) - largest) }
        let total = exponentials.reduce(0, +)
        return exponentials.map { Float($0 / total) }            // softmax_k(s)
    }

    /// M^k [K, H, W]: every channel upsampled (align_corners = True) and scaled to 0…1.
    public func masks(activations: Tensor, height: Int, width: Int) -> Tensor {
        var masks = resizeBilinearAlignCorners(activations, height: height, width: width)
        let planeSize = height * width
        for k in 0..<activations.shape[0] {
            let plane = (k * planeSize)..<((k + 1) * planeSize)
            let (low, high) = (masks.data[plane].min() ?? 0, masks.data[plane].max() ?? 0)
            for index in plane { masks.data[index] = (masks.data[index] - low) / (high - low + maskStabilizer) }
        }
        return masks
    }

    /// s_k = y^c(x ⊙ M^k) for every channel k.
    public func maskedScores(activations: Tensor, input: Tensor, target: ExplanationTarget) throws -> [Float] {
        // The masks depend on the input and the activations alone, whichever layer gave them.
        target.values(batchLogits: logitsOfPasses(layer: "", from: [input, activations]) {
            maskedLogits(activations: activations, input: input)
        })
    }

    /// The logits [K, L] of the K masked inputs x ⊙ M^k, in batches of `batchSize`.
    func maskedLogits(activations: Tensor, input: Tensor) -> Tensor {
        let (channels, height, width) = (input.shape[0], input.shape[1], input.shape[2])
        let masks = masks(activations: activations, height: height, width: width)
        let planeSize = height * width
        classifier.network.setTraining(false)
        var allLogits: [Float] = []                                     // [K, L]
        var start = 0
        while start < activations.shape[0] {
            let end = min(start + batchSize, activations.shape[0])
            var batch = [Float]()
            batch.reserveCapacity((end - start) * input.count)
            for k in start..<end {
                let mask = masks.data[(k * planeSize)..<((k + 1) * planeSize)]
                for c in 0..<channels {
                    for index in 0..<planeSize { batch.append(input.data[c * planeSize + index] * mask[mask.startIndex + index]) }
                }
            }
            let logits = classifier.inferenceLogits(Tensor(shape: [end - start] + input.shape, data: batch))
            allLogits += logits.data
            start = end
            progress?(end, activations.shape[0])
        }
        let count = activations.shape[0]
        return Tensor(shape: [count, allLogits.count / max(count, 1)], data: allLogits)
    }
}

/// Bilinear resize of [C, h, w] to [C, H, W] with align_corners = True, as PyTorch's
/// UpsamplingBilinear2d: the corner cells of input and output coincide, so output cell i reads
/// the input at i · (h − 1)/(H − 1). (`resizeBilinear` is the align_corners = False resize, which
/// matches cell centres instead.)
public func resizeBilinearAlignCorners(_ input: Tensor, height outputHeight: Int, width outputWidth: Int) -> Tensor {
    precondition(input.rank == 3, "resizeBilinearAlignCorners expects [C, H, W], got \(input.shape)")
    let (height, width) = (input.shape[1], input.shape[2])
    let scaleY: Float = outputHeight > 1 ? Float(height - 1) / Float(outputHeight - 1) : 0
    let scaleX: Float = outputWidth > 1 ? Float(width - 1) / Float(outputWidth - 1) : 0
    return interpolateBilinear(input, rows: bilinearTaps(outputHeight, height) { scaleY * Float($0) },
                               columns: bilinearTaps(outputWidth, width) { scaleX * Float($0) })
}

extension CAMFamilyExplainer {
    public static let scoreCAM = CAMFamilyExplainer(
        id: "scorecam", summary: "Score-CAM: each feature map used as a mask on the input, weighted by the score it keeps (Wang et al. 2020)",
        method: { ScoreCAM(classifier: $0) }, checks: CAMIdentities.softmaxWeights)
}

/// Attributions built from the input gradient ∂y^c/∂x: input × gradient, SmoothGrad and VarGrad.
/// (Saliency, the gradient itself, is in Saliency.swift; guided backpropagation, which changes
/// how the ReLUs pass the gradient back, in GuidedBackprop.swift.)

/// The input gradients ∂y^c/∂x of a batch of inputs [B, C, H, W], one forward and one backward
/// pass, with the logits [B, L] of the forward pass. The target's gradient is seeded row by row,
/// so the rows do not mix.
func inputGradients(classifier: ImageClassifier, batch: Tensor,
                    target: ExplanationTarget) -> (gradients: Tensor, logits: Tensor) {
    let logits = classifier.forward(batch)                                       // [B, L]
    let classes = logits.shape[1]
    var logitsGradient = [Float]()                                               // [B, L]
    logitsGradient.reserveCapacity(logits.count)
    for row in 0..<logits.shape[0] {
        logitsGradient += target.valueAndGradient(logits: Array(logits.data[(row * classes)..<((row + 1) * classes)])).gradient
    }
    return (classifier.backward(Tensor(shape: logits.shape, data: logitsGradient)), logits)
}

// MARK: - Input × gradient

/// Input × gradient (Shrikumar et al. 2016; Captum's `InputXGradient`) for input x [C, H, W]:
///
///     A_i = x_i · ∂y^c/∂x_i
///
/// the first-order Taylor term of y^c from x = 0 to x: the gradient says how fast the score
/// changes with x_i, the input says how far x_i is from 0. For a linear model y = w·x + b it is
/// w_i x_i, each input's share of y − b. Note that 0 is the network's normalised input, the
/// mean colour of the training pictures, not black. Returns [C, H, W], signed.
public func inputTimesGradient(classifier: ImageClassifier, input: Tensor, target: ExplanationTarget) throws -> Tensor {
    try inputTimesGradientAndLogits(classifier: classifier, input: input, target: target).attributions
}

func inputTimesGradientAndLogits(classifier: ImageClassifier, input: Tensor,
                                 target: ExplanationTarget) throws -> (attributions: Tensor, logits: [Float]) {
    try validateExplanationInput(classifier: classifier, input: input, target: target)
    classifier.prepareForExplanation()
    let (gradients, logits) = inputGradients(classifier: classifier, batch: input.reshaped([1] + input.shape), target: target)
    return (input * gradients.reshaped(input.shape), logits.data)
}

/// Input × gradient on the common interface.
public struct InputTimesGradientExplainer: Explainer {
    public let id = "input-x-gradient"
    public let summary = "Input × gradient: each input value times the gradient of the score with respect to it (Shrikumar et al. 2016)"
    public let settings: Set<ExplainerSetting> = []

    public init() {}

    public func explain(_ input: Tensor, classifier: ImageClassifier, target: ExplanationTarget,
                        settings: ExplainerSettings) throws -> Explanation {
        let (attributions, logits) = try inputTimesGradientAndLogits(classifier: classifier, input: input, target: target)
        return explanation(attributions: attributions, logits: logits, target: target)
    }

    /// The explanation from x ⊙ ∂y^c/∂x [C, H, W] and the logits of its forward pass.
    func explanation(attributions: Tensor, logits: [Float], target: ExplanationTarget) -> Explanation {
        Explanation(method: id, target: target, score: target.valueAndGradient(logits: logits).value, logits: logits,
                    raw: attributions, heatmap: AttributionDisplay.channelSum(attributions), isSigned: true,
                    figures: [("attribution_total", attributions.sum())])
    }
}

// MARK: - SmoothGrad and VarGrad

/// The Gaussian noise of SmoothGrad and VarGrad: sample m is x + σ·ε_m with ε_m ~ N(0, I),
///
///     σ = noise · (max_i x_i − min_i x_i)
///
/// the noise level as a fraction of the input's range, as the SmoothGrad paper defines it
/// (Smilkov et al. 2017, §3: "σ/(x_max − x_min)", best between 10 % and 20 %). The range is taken
/// over the whole input the network sees, every channel, after normalisation. (Captum's
/// `NoiseTunnel` takes σ itself, `stdevs`, in the input's units.)
///
/// ε_m comes from `SeededGenerator(seed: seed, stream: m)`: one independent stream per sample,
/// so sample m's noise is the same whatever the batch size, the thread count or the machine.
/// The stream's standard normals are drawn in pairs (`normalPair`, Box–Muller), filling
/// ε_m[0], ε_m[1], ε_m[2], … in the order of the input's [C, H, W] values; an odd count uses
/// the first of the last pair. Each noisy value is rounded once: Float(x_i + σ·ε_m,i), a float32
/// product then a float32 sum. (tools/parity/make_gradient_methods_parity.py draws the same
/// numbers in Python.)
public struct SmoothGradNoise: Sendable {
    /// σ, in the input's units.
    public let sigma: Float
    public let seed: UInt64

    public init(sigma: Float, seed: UInt64) {
        self.sigma = sigma
        self.seed = seed
    }

    /// σ = fraction · (max x − min x) for input x (the range in float32, the product in Double
    /// rounded once).
    public init(fraction: Double, of input: Tensor, seed: UInt64) {
        self.init(sigma: Float(fraction * Double(input.max - input.min)), seed: seed)
    }

    /// ε_m: `count` standard normal values of sample m.
    public func standardNormals(sample: Int, count: Int) -> [Float] {
        var generator = SeededGenerator(seed: seed, stream: UInt64(sample))
        return generator.standardNormals(count: count)
    }

    /// x + σ·ε_m, [C, H, W] for x [C, H, W].
    public func noisyInput(_ input: Tensor, sample: Int) -> Tensor {
        let normals = standardNormals(sample: sample, count: input.count)
        var noisy = input
        for i in 0..<input.count {
            let step = sigma * normals[i]            // rounded to float32 on its own: no fused multiply-add
            noisy.data[i] = input.data[i] + step
        }
        return noisy
    }
}

/// What SmoothGrad computed: the mean and the variance of the gradient over the noisy samples.
public struct SmoothGradResult {
    /// [C, H, W]: SmoothGrad, (1/n) Σ_m ∂y^c/∂x (x + σ ε_m)
    public var smoothGrad: Tensor
    /// [C, H, W]: VarGrad, (1/n) Σ_m (∂y^c/∂x (x + σ ε_m) − SmoothGrad)²
    public var varGrad: Tensor
    public var noise: SmoothGradNoise
    /// n
    public var samples: Int
    /// [n]: y^c at each noisy sample
    public var noisyScores: [Float]
}

/// SmoothGrad and VarGrad (Smilkov et al. 2017; Adebayo et al. 2018; Captum's `NoiseTunnel`
/// with nt_type "smoothgrad" and "vargrad" around `Saliency(abs=False)`) for input x [C, H, W]:
///
///     g_m        = ∂y^c/∂x (x + σ ε_m),   ε_m ~ N(0, I),   m = 1 … n
///     SmoothGrad = (1/n) Σ_m g_m
///     VarGrad    = (1/n) Σ_m (g_m − SmoothGrad)²   = (1/n) Σ_m g_m² − SmoothGrad²
///
/// The gradient of a ReLU network is piecewise constant and jumps from one linear piece to the
/// next; averaging it over a small neighbourhood of x smooths those jumps out, and what stays
/// is what the gradient says all around x, not only at x. The gradient averaged is the signed
/// one (Captum's `Saliency(abs=False)`), so SmoothGrad keeps the direction; VarGrad is ≥ 0. The
/// variance is the population one (divided by n), as Captum's E[g²] − E[g]².
///
/// The noise is `SmoothGradNoise(fraction: noise, of: input, seed: seed)`. The n noisy inputs go
/// through the network `batchSize` at a time (`defaultIGBatchSize`, the same memory budget as
/// Integrated Gradients' path points): one forward and one backward pass per batch. The mean
/// and the variance are accumulated in Double in the order of m by Welford's update,
///
///     δ = g_m − μ_{m−1},   μ_m = μ_{m−1} + δ/m,   S_m = S_{m−1} + δ·(g_m − μ_m),   VarGrad = S_n / n
///
/// which never subtracts two large sums (E[g²] − E[g]² loses the variance where it is small
/// next to the mean), and gives exactly 0 when every g_m is the same (σ = 0).
public func smoothGrad(classifier: ImageClassifier, input: Tensor, target: ExplanationTarget,
                       samples: Int = 50, noise: Double = 0.15, seed: UInt64 = 0,
                       batchSize: Int? = nil, progress: ((_ done: Int, _ total: Int) -> Void)? = nil) throws -> SmoothGradResult {
    let batchSize = batchSize ?? defaultIGBatchSize(for: input)
    guard samples >= 1 && samples <= 100_000 else {
        throw MiniNetError.invalidArgument("samples \(samples) out of range 1…100000")
    }
    guard noise.isFinite && noise >= 0 && noise <= 10 else {
        throw MiniNetError.invalidArgument("noise \(noise) out of range 0…10 (σ as a fraction of the input's range)")
    }
    guard batchSize >= 1 && batchSize <= 4096 else {
        throw MiniNetError.invalidArgument("batch size \(batchSize) out of range 1…4096")
    }
    try validateExplanationInput(classifier: classifier, input: input, target: target)
    let generator = SmoothGradNoise(fraction: noise, of: input, seed: seed)
    classifier.prepareForExplanation()
    let size = input.count
    var mean = [Double](repeating: 0, count: size)                                // μ_m
    var squares = [Double](repeating: 0, count: size)                             // S_m
    var noisyScores = [Float]()
    var start = 0
    while start < samples {
        let end = min(start + batchSize, samples)
        var batch = [Float]()
        batch.reserveCapacity((end - start) * size)
        for m in start..<end { batch += generator.noisyInput(input, sample: m).data }
        let (gradients, logits) = inputGradients(classifier: classifier, batch: Tensor(shape: [end - start] + input.shape, data: batch),
                                                 target: target)
        noisyScores += target.values(batchLogits: logits)
        gradients.data.withUnsafeBufferPointer { gradient in
            for row in 0..<(end - start) {
                let count = Double(start + row + 1)
                let offset = row * size
                for i in 0..<size {
                    let value = Double(gradient[offset + i])
                    let delta = value - mean[i]
                    mean[i] += delta / count
                    squares[i] += delta * (value - mean[i])
                }
            }
        }
        start = end
        progress?(end, samples)
    }
    return SmoothGradResult(smoothGrad: Tensor(shape: input.shape, data: mean.map { Float($0) }),
                            varGrad: Tensor(shape: input.shape, data: squares.map { Float($0 / Double(samples)) }),
                            noise: generator, samples: samples, noisyScores: noisyScores)
}

/// `smoothGrad`, under a name that the explainer's static `smoothGrad` does not hide.
private func smoothGradAndVarGrad(classifier: ImageClassifier, input: Tensor, target: ExplanationTarget,
                                  samples: Int, noise: Double, seed: UInt64,
                                  progress: ((_ done: Int, _ total: Int) -> Void)?) throws -> SmoothGradResult {
    try smoothGrad(classifier: classifier, input: input, target: target, samples: samples, noise: noise, seed: seed, progress: progress)
}

/// SmoothGrad or VarGrad on the common interface (settings samples, noise, seed).
public struct SmoothGradExplainer: Explainer {
    public enum Statistic: Sendable {
        /// SmoothGrad: the mean of the gradients
        case mean
        /// VarGrad: their variance
        case variance
    }

    public let id: String
    public let summary: String
    public let settings: Set<ExplainerSetting> = [.samples, .noise, .seed]
    public let statistic: Statistic

    public static let smoothGrad = SmoothGradExplainer(
        id: "smoothgrad", summary: "SmoothGrad: the gradient averaged over copies of the input with Gaussian noise added (Smilkov et al. 2017)",
        statistic: .mean)

    public static let varGrad = SmoothGradExplainer(
        id: "vargrad", summary: "VarGrad: the variance of the gradient over copies of the input with Gaussian noise added (Adebayo et al. 2018)",
        statistic: .variance)

    public func explain(_ input: Tensor, classifier: ImageClassifier, target: ExplanationTarget,
                        settings: ExplainerSettings) throws -> Explanation {
        let result = try smoothGradAndVarGrad(classifier: classifier, input: input, target: target, samples: settings.samples,
                                              noise: settings.noise, seed: settings.seed, progress: settings.progress)
        let raw = statistic == .mean ? result.smoothGrad : result.varGrad
        let logits = classifier.forward(input.reshaped([1] + input.shape)).data
        let meanNoisyScore = result.noisyScores.reduce(0.0) { $0 + Double($1) } / Double(result.samples)
        // SmoothGrad has both signs; VarGrad, a variance, is ≥ 0.
        return Explanation(method: id, target: target, score: target.valueAndGradient(logits: logits).value, logits: logits,
                           raw: raw, heatmap: AttributionDisplay.channelSum(raw), isSigned: statistic == .mean,
                           figures: [("noise_sigma", Double(result.noise.sigma)), ("samples", Double(result.samples)),
                                     ("mean_noisy_score", meanNoisyScore), ("attribution_total", raw.sum())])
    }
}

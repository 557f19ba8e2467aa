import Foundation

/// How the path integral of Integrated Gradients is turned into a finite sum,
///
///     ∫₀¹ g(α) dα  ≈  Σ_m weight_m · g(α_m)
///
/// with the same points α_m and weights as Captum's `approximation_methods` (the raw values
/// are Captum's method names with "_" → "-"; Captum's "gausslegendre" is "gauss-legendre").
public enum IntegrationMethod: String, CaseIterable, Sendable {
    case riemannLeft = "riemann-left"
    case riemannRight = "riemann-right"
    case riemannMiddle = "riemann-middle"
    case riemannTrapezoid = "riemann-trapezoid"
    case gaussLegendre = "gauss-legendre"

    /// The fewest points the rule accepts: Captum asserts n > 1 for every Riemann rule.
    public var minimumSteps: Int { self == .gaussLegendre ? 1 : 2 }

    /// The n points α_m in [0, 1] and their weights (which sum to 1):
    ///
    ///     left:       α_m = m/n                 for m = 0…n−1,   weight 1/n
    ///     right:      α_m = m/n                 for m = 1…n,     weight 1/n
    ///     middle:     α_m = (m + ½)/n           for m = 0…n−1,   weight 1/n
    ///     trapezoid:  α_m = m/(n−1)             for m = 0…n−1,   weight 1/n, halved at both ends
    ///     Gauss–Legendre: α_m = (1 + t_m)/2,  weight w_m/2, where t_m are the roots of the
    ///                 Legendre polynomial P_n on [−1, 1] and w_m its quadrature weights.
    ///
    /// Captum takes the Riemann points from `torch.linspace` in float32 and the weights as
    /// Python floats (doubles); we do the same, so our α are bit for bit Captum's. (The
    /// trapezoid weights, as in Captum, sum to 1 − 1/n, not 1: the ends are halved but the
    /// spacing is taken as 1/n rather than 1/(n−1).) Needs `steps ≥ minimumSteps`.
    public func pointsAndWeights(steps: Int) -> (alphas: [Double], weights: [Double]) {
        precondition(steps >= minimumSteps, "\(rawValue) needs at least \(minimumSteps) steps, got \(steps)")
        let n = Double(steps)
        switch self {
        case .riemannLeft:
            return (float32LinearSpace(from: 0, to: 1 - 1 / n, count: steps), Array(repeating: 1 / n, count: steps))
        case .riemannRight:
            return (float32LinearSpace(from: 1 / n, to: 1, count: steps), Array(repeating: 1 / n, count: steps))
        case .riemannMiddle:
            return (float32LinearSpace(from: 1 / (2 * n), to: 1 - 1 / (2 * n), count: steps),
                    Array(repeating: 1 / n, count: steps))
        case .riemannTrapezoid:
            var weights = Array(repeating: 1 / n, count: steps)
            weights[0] /= 2
            weights[steps - 1] /= 2
            return (float32LinearSpace(from: 0, to: 1, count: steps), weights)
        case .gaussLegendre:
            let (nodes, weights) = gaussLegendreNodesAndWeights(count: steps)
            return (nodes.map { 0.5 * (1 + $0) }, weights.map { 0.5 * $0 })
        }
    }
}

/// `torch.linspace(start, end, count)` for float32, as PyTorch's CPU kernel computes it: the
/// step is rounded to float32, the first half counts up from `start` and the second half
/// counts down from `end` (so both ends are exact).
func float32LinearSpace(from start: Double, to end: Double, count: Int) -> [Double] {
    let (low, high) = (Float(start), Float(end))
    guard count > 1 else { return [Double(low)] }
    let step = (high - low) / Float(count - 1)
    return (0..<count).map { i in
        Double(i < count / 2 ? low + step * Float(i) : high - step * Float(count - 1 - i))
    }
}

/// Gauss–Legendre quadrature on [−1, 1] with n points, exact for polynomials of degree ≤ 2n − 1:
///
///     ∫₋₁¹ p(t) dt = Σ_m w_m p(t_m),   P_n(t_m) = 0,   w_m = 2 / ((1 − t_m²) · P_n′(t_m)²)
///
/// Each root is found by Newton's method on P_n, starting from the estimate
/// t ≈ cos(π(m + ¾)/(n + ½)); P_n and P_n′ come from Bonnet's recurrence
///
///     (k + 1) P_{k+1}(t) = (2k + 1) t P_k(t) − k P_{k−1}(t),   P_n′(t) = n (t P_n − P_{n−1}) / (t² − 1)
///
/// Results are in ascending order of t, like numpy's `leggauss`. Cost O(n²).
public func gaussLegendreNodesAndWeights(count n: Int) -> (nodes: [Double], weights: [Double]) {
    precondition(n >= 1, "Gauss–Legendre needs at least one point")
    /// (P_n(t), P_n′(t))
    func legendre(_ t: Double) -> (value: Double, derivative: Double) {
        var (previous, current) = (1.0, t)                // P_0, P_1
        if n == 1 { return (t, 1) }
        for k in 1..<n {
            let next = (Double(2 * k + 1) * t * current - Double(k) * previous) / Double(k + 1)
            (previous, current) = (current, next)
        }
        return (current, Double(n) * (t * current - previous) / (t * t - 1))
    }
    var nodes = [Double](repeating: 0, count: n)
    var weights = [Double](repeating: 0, count: n)
    // The roots are symmetric about 0: find the positive half (and 0 for odd n), mirror the rest.
    for m in 0..<((n + 1) / 2) {
        var t = cos(Double.pi * (Double(m) + 0.75) / (Double(n) + 0.5))
        for _ in 0..<100 {
            let (value, derivative) = legendre(t)
            let change = value / derivative
            t -= change
            if abs(change) <= 1e-16 * max(1, abs(t)) { break }
        }
        let derivative = legendre(t).derivative
        let weight = 2 / ((1 - t * t) * derivative * derivative)
        // m counts down from the largest root; store ascending.
        nodes[n - 1 - m] = t
        nodes[m] = -t
        weights[n - 1 - m] = weight
        weights[m] = weight
    }
    if n % 2 == 1 { nodes[n / 2] = 0 }
    return (nodes, weights)
}

/// What Integrated Gradients computed for one image and class.
public struct IGResult {
    /// [C, H, W]: IG_i = (x_i − x′_i) · Σ_m weight_m · ∂f/∂x_i (x′ + α_m (x − x′))
    public var attributions: Tensor
    /// f(x), the explained score at the input
    public var scoreAtInput: Float
    /// f(x′), the score at the baseline
    public var scoreAtBaseline: Float
    /// [M]: the points α_m on the straight path from x′ (α = 0) to x (α = 1)
    public var alphas: [Double]
    /// [M]: the quadrature weights of the points
    public var weights: [Double]

    /// [M]: g(α_m) = d f(x′ + α(x − x′))/dα at each point, = ∇f(x_m) · (x − x′): the integrand
    /// whose integral from 0 to 1 is f(x) − f(x′). Empty when not recorded.
    public var pathDerivatives: [Double]
    /// The class whose score f is.
    public var targetClass: Int

    public init(attributions: Tensor, scoreAtInput: Float, scoreAtBaseline: Float, alphas: [Double], weights: [Double],
                pathDerivatives: [Double] = [], targetClass: Int = 0) {
        self.attributions = attributions
        self.scoreAtInput = scoreAtInput
        self.scoreAtBaseline = scoreAtBaseline
        self.alphas = alphas
        self.weights = weights
        self.pathDerivatives = pathDerivatives
        self.targetClass = targetClass
    }

    /// A bound on the quadrature error |Σ_m w_m g(α_m) − ∫₀¹ g(α) dα| from Koksma's inequality:
    ///
    ///     |error| ≤ V(g) · D*,    D* = sup_t | t − Σ_{α_m ≤ t} w_m |
    ///
    /// for any rule with positive weights adding up to 1 and any g of bounded variation V(g),
    /// which a ReLU network's path derivative is: it is piecewise smooth and jumps where a unit
    /// switches. D* is exact for the rule; V(g) is measured from the samples, Σ |g(α_{m+1}) − g(α_m)|
    /// in the order of α, which misses what g does between two points: the caller's safety
    /// factor covers that.
    public var quadratureErrorBound: Double {
        let order = alphas.indices.sorted { alphas[$0] < alphas[$1] }
        var cumulative = 0.0
        var discrepancy = 0.0
        for index in order {
            discrepancy = Swift.max(discrepancy, abs(alphas[index] - cumulative))
            cumulative += weights[index]
            discrepancy = Swift.max(discrepancy, abs(alphas[index] - cumulative))
        }
        discrepancy = Swift.max(discrepancy, abs(1 - cumulative))
        guard pathDerivatives.count == alphas.count else { return .infinity }
        let sorted = order.map { pathDerivatives[$0] }
        let variation = zip(sorted, sorted.dropFirst()).reduce(0.0) { $0 + abs($1.1 - $1.0) }
        return variation * discrepancy
    }

    /// Σ_i IG_i, accumulated in Double
    public var totalAttribution: Double { attributions.sum() }

    /// |Σ_i IG_i − (f(x) − f(x′))|: how far the sum is from completeness
    public var completenessGap: Double {
        abs(totalAttribution - (Double(scoreAtInput) - Double(scoreAtBaseline)))
    }
}

extension IGResult {
    /// The safety factor on Koksma's quadrature bound V(g)·D*, whose V(g) is measured from the
    /// sampled path derivatives and so misses what g does between two points.
    public static let quadratureSafety = 4.0

    /// The tolerance of completeness, Σ_i IG_i = f(x) − f(x′):
    ///
    ///     4 · V(g) · D*                   the quadrature error (Koksma), the main part
    ///   + rounding of f(x) and of f(x′)   a forward pass each
    ///   + rounding of Σ_i IG_i            each IG_i comes out of a backward pass as deep as the network
    ///
    /// `input` and `baseline` [C, H, W] are the two ends of the path; the target is the one
    /// whose scores this result holds.
    public func completenessTolerance(classifier: ImageClassifier, input: Tensor, baseline: Tensor) -> Tolerance {
        let quadrature = Tolerance.absolute(Self.quadratureSafety * quadratureErrorBound,
                                            because: "quadrature \(Int(Self.quadratureSafety))·V(g)·D*")
        let atInput = classifier.forwardTolerance(input: input, target: targetClass)
        let atBaseline = classifier.forwardTolerance(input: baseline, target: targetClass)
        let backward = atInput.parts.first ?? Tolerance.sum(count: 1, magnitude: 0).parts[0]
        let attributions = Tolerance.sum(of: self.attributions.data)
        let gradientRounding = Tolerance.sum(count: backward.count, magnitude: attributions.parts[0].magnitude,
                                             largestTerm: attributions.largestTerm, depth: backward.depth)
        return quadrature + atInput + atBaseline + gradientRounding
    }
}

/// How many points of the path go through the network at once when the caller does not say:
/// 32 for small pictures, fewer for big ones, so that about 1.2 million input values (8
/// pictures of 3×224×224) are in flight. Every layer keeps its input for the backward pass, so
/// memory grows with the batch; past a few pictures a bigger batch is no faster.
public func defaultIGBatchSize(for input: Tensor) -> Int {
    max(1, min(32, 1_250_000 / max(input.count, 1)))
}

/// Integrated Gradients (Sundararajan et al. 2017) for input x [C, H, W] and baseline x′ [C, H, W]:
///
///     IG_i(x) = (x_i − x′_i) · ∫₀¹ ∂f(x′ + α(x − x′))/∂x_i dα
///             ≈ (x_i − x′_i) · Σ_m weight_m · ∂f/∂x_i (x′ + α_m (x − x′))
///
/// and completeness, Σ_i IG_i = f(x) − f(x′), holds up to the error of the quadrature.
/// f is the target's y^c. The M points on the path go through the network `batchSize` at a
/// time: one forward and one backward pass per batch, the gradients summed with their weights
/// (in Double). Captum's `IntegratedGradients.attribute` with the same method and steps.
///
/// When the network starts with affine layers (a ResNet's conv1 and bn1, see `affineStem`),
/// the backward passes stop at the stem's output z and the weighted sum is taken there; the
/// sum goes back through the stem once at the end. The result is the same up to float
/// rounding, because an affine map's Jacobian J does not depend on the point:
///
///     Σ_m weight_m · ∂f/∂x (x_m) = Σ_m weight_m · Jᵀ ∂f/∂z (z_m) = Jᵀ · Σ_m weight_m · ∂f/∂z (z_m)
///
/// For the same reason the forward passes start at z: z_m = z(x′) + α_m (z(x) − z(x′)), with
/// the stem run once for the two ends instead of once per point.
public func integratedGradients(classifier: ImageClassifier, input: Tensor, baseline: Tensor,
                                target: ExplanationTarget, steps: Int = 50,
                                method: IntegrationMethod = .gaussLegendre,
                                batchSize: Int? = nil,
                                progress: ((_ done: Int, _ total: Int) -> Void)? = nil) throws -> IGResult {
    let batchSize = batchSize ?? defaultIGBatchSize(for: input)
    guard steps >= method.minimumSteps && steps <= 100_000 else {
        throw MiniNetError.invalidArgument("integration steps \(steps) out of range \(method.minimumSteps)…100000 for \(method.rawValue)")
    }
    guard batchSize >= 1 && batchSize <= 4096 else {
        throw MiniNetError.invalidArgument("batch size \(batchSize) out of range 1…4096")
    }
    try validateExplanationInput(classifier: classifier, input: input, target: target)
    guard baseline.shape == input.shape else {
        throw MiniNetError.invalidArgument("baseline has shape \(baseline.shape) but the input has \(input.shape)")
    }
    let (alphas, weights) = method.pointsAndWeights(steps: steps)
    let difference = input - baseline                                           // [C, H, W]
    let size = input.count
    classifier.prepareForExplanation()
    let stem = affineStem(of: classifier.network)
    // dz/dα = z(x) − z(x′) along the path (the stem is affine; without one, z = x): the
    // direction that turns ∂f/∂z into the path derivative g(α_m).
    var pathDirection = difference.data                                         // [size of z per image]
    var pathStart = baseline.data                                               // z(x′) [size of z per image]
    var stemOutputShape = input.shape                                           // [C′, H′, W′] of z
    if !stem.isEmpty {
        var ends = Tensor.stack([input, baseline])
        for layer in stem { ends = layer.run(ends) }
        let half = ends.count / 2
        pathDirection = (0..<half).map { ends.data[$0] - ends.data[half + $0] }
        pathStart = Array(ends.data[half...])
        stemOutputShape = Array(ends.shape.dropFirst())
    }
    // Σ_m weight_m · ∂f/∂z (z_m), at the stem's output z (or the input x if there is no stem).
    var weightedGradient = [Double](repeating: 0, count: pathStart.count)     // [size of z per image]
    var pathDerivatives = [Double](repeating: 0, count: steps)                  // [M]
    // ∂f/∂z at the points m ∈ start ..< end of the path [B, C′, H′, W′]: one forward and one
    // backward pass of `network` (the classifier, or a copy of it on another thread).
    func pathGradients(from start: Int, to end: Int, on network: ImageClassifier) -> Tensor {
        // z_m = z(x′) + α_m (z(x) − z(x′)): with a stem, its output along the path (it is
        // affine), so the batch starts after it and the stem runs only for the two ends above.
        var batch = [Float]()                                                   // [B, C′, H′, W′]
        batch.reserveCapacity((end - start) * pathStart.count)
        for m in start..<end {
            let alpha = Float(alphas[m])
            for i in pathStart.indices { batch.append(pathStart[i] + alpha * pathDirection[i]) }
        }
        let points = Tensor(shape: [end - start] + stemOutputShape, data: batch)
        let logits: Tensor                                                      // [B, L]
        if let stemEnd = stem.last {
            guard let output = network.network.forward(after: stemEnd.name, activation: points) else {
                preconditionFailure("IG: \(stemEnd.name) is not a layer of the network")
            }
            logits = network.network.hooks.forward?(output) ?? output
        } else {
            logits = network.forward(points)
        }
        let classes = logits.shape[1]
        var logitsGradient = [Float]()                                          // [B, L]
        for row in 0..<(end - start) {
            logitsGradient += target.valueAndGradient(logits: Array(logits.data[(row * classes)..<((row + 1) * classes)])).gradient
        }
        let logitsGradientTensor = Tensor(shape: logits.shape, data: logitsGradient)
        if let stemEnd = stem.last {
            network.network.hooks.backward?(logitsGradientTensor)
            guard let stemGradients = network.network.backward(after: stemEnd.name, outputGradient: logitsGradientTensor) else {
                preconditionFailure("IG: \(stemEnd.name) is not a layer of the network")
            }
            return stemGradients
        }
        return network.backward(logitsGradientTensor)
    }
    // Adds the batch's weighted gradients into the sum and its path derivatives g(α_m); the
    // batches are added in their order, whichever thread computed them.
    func add(_ gradients: Tensor, from start: Int, to end: Int) {
        let gradientSize = weightedGradient.count
        let rows = end - start
        gradients.data.withUnsafeBufferPointer { gradient in
            pathDirection.withUnsafeBufferPointer { direction in
                // Σ_m weight_m · ∂f/∂z (z_m): each entry adds the batch's rows in order, on
                // whichever thread has it, so the sum does not depend on the thread count.
                weightedGradient.withUnsafeMutableBufferPointer { sum in
                    Parallel.forRanges(gradientSize, cost: 2 * rows) { range in
                        for row in 0..<rows {
                            let (weight, offset) = (weights[start + row], row * gradientSize)
                            for i in range { sum[i] += weight * Double(gradient[offset + i]) }
                        }
                    }
                }
                // g(α_m) = ∂f/∂z (z_m) · dz/dα, in blocks cut at fixed places (`Parallel.blockSum`),
                // each block in four sums taking i ≡ 0, 1, 2, 3 (mod 4), added as (0 + 1) + (2 + 3).
                for row in 0..<rows {
                    let offset = row * gradientSize
                    pathDerivatives[start + row] = Parallel.blockSum(gradientSize) { range in
                        var sums = (0.0, 0.0, 0.0, 0.0)
                        var i = range.lowerBound
                        while i + 4 <= range.upperBound {
                            sums.0 += Double(gradient[offset + i]) * Double(direction[i])
                            sums.1 += Double(gradient[offset + i + 1]) * Double(direction[i + 1])
                            sums.2 += Double(gradient[offset + i + 2]) * Double(direction[i + 2])
                            sums.3 += Double(gradient[offset + i + 3]) * Double(direction[i + 3])
                            i += 4
                        }
                        while i < range.upperBound {
                            sums.0 += Double(gradient[offset + i]) * Double(direction[i])
                            i += 1
                        }
                        return (sums.0 + sums.1) + (sums.2 + sums.3)
                    }
                }
            }
        }
    }
    let batchStarts = Array(stride(from: 0, to: steps, by: batchSize))
    func end(ofBatch index: Int) -> Int { min(batchStarts[index] + batchSize, steps) }
    // The first batch on the classifier alone: it makes the transformed kernels that the
    // copies then share.
    add(pathGradients(from: 0, to: end(ofBatch: 0), on: classifier), from: 0, to: end(ofBatch: 0))
    progress?(end(ofBatch: 0), steps)
    let networks = [classifier] + IGWorkers.copies(of: classifier, batches: batchStarts.count, pointsPerBatch: batchSize,
                                                   valuesPerPoint: pathStart.count)
    var next = 1
    while next < batchStarts.count {
        let round = next..<min(next + networks.count, batchStarts.count)
        if round.count == 1 {
            add(pathGradients(from: batchStarts[next], to: end(ofBatch: next), on: classifier), from: batchStarts[next], to: end(ofBatch: next))
        } else {
            // One batch per thread, each on its own network; then added in order.
            let results = IGWorkers.Results(count: round.count)
            Gemm.concurrently(round.count) { slot in
                let index = round.lowerBound + slot
                results.set(slot, pathGradients(from: batchStarts[index], to: end(ofBatch: index), on: networks[slot]))
            }
            for (slot, index) in round.enumerated() {
                add(results.values[slot]!, from: batchStarts[index], to: end(ofBatch: index))
            }
        }
        next = round.upperBound
        progress?(end(ofBatch: next - 1), steps)
    }
    var inputGradient = weightedGradient                                        // [C·H·W]: Σ_m weight_m · ∂f/∂x (x_m)
    if !stem.isEmpty {
        // Jᵀ · (the weighted sum at z): one backward pass through the stem, from any point
        // (here the input), since the stem's Jacobian is the same everywhere.
        var activation = input.reshaped([1] + input.shape)
        for layer in stem { activation = layer.run(activation) }
        var gradient = Tensor(shape: [1] + stemOutputShape, data: weightedGradient.map { Float($0) })
        for layer in stem.reversed() { gradient = layer.runBackward(gradient) }
        inputGradient = gradient.data.map { Double($0) }
    }
    var attributions = difference
    for i in 0..<size { attributions.data[i] = Float(Double(difference.data[i]) * inputGradient[i]) }

    let endpoints = target.values(batchLogits: classifier.forward(Tensor.stack([input, baseline])))
    return IGResult(attributions: attributions, scoreAtInput: endpoints[0], scoreAtBaseline: endpoints[1],
                    alphas: alphas, weights: weights, pathDerivatives: pathDerivatives,
                    targetClass: target.classIndex)
}

/// The leading top-level layers of `network` that are affine maps of their input, y = A·x + b
/// with A and b fixed: Conv2d, and BatchNorm2d in evaluation mode, y = γ·(x − μ)/σ + β with
/// the running μ and σ. For a torchvision ResNet: conv1, bn1 (the ReLU after them is not
/// affine). Layers with hooks are left out, so that every hook still sees every step.
func affineStem(of network: Sequential) -> [Layer] {
    var stem: [Layer] = []
    for (_, layer) in network.layers {
        let isAffine = layer is Conv2d || (layer is BatchNorm2d && !layer.isTraining)
        guard isAffine, layer.hooks.forward == nil, layer.hooks.backward == nil else { break }
        stem.append(layer)
    }
    return stem
}

/// Throws unless `input` is one [C, H, W] image of the classifier's input size and the
/// target's class exists.
func validateExplanationInput(classifier: ImageClassifier, input: Tensor, target: ExplanationTarget) throws {
    guard input.shape == classifier.inputSize else {
        throw MiniNetError.invalidArgument("input has shape \(input.shape) but the model expects \(classifier.inputSize)")
    }
    guard target.classIndex >= 0 && target.classIndex < classifier.classNames.count else {
        throw MiniNetError.invalidArgument("class \(target.classIndex) is out of range 0..<\(classifier.classNames.count)")
    }
}

/// Where the straight path of Integrated Gradients starts: the picture that means "no evidence".
public enum Baseline: String, CaseIterable, Sendable {
    /// All zeros in the network's (normalised) input space: Captum's default baseline. With
    /// mean 0.5 and std 0.25 this is a mid-grey picture.
    case zero
    /// A black picture (every byte 0), normalised: (0 − mean)/std per channel.
    case black
    /// The input blurred with a Gaussian of σ = `Baseline.blurSigma` pixels: the colours stay,
    /// the shapes' edges go.
    case blurred

    /// σ of the `blurred` baseline, in pixels. 4 px on a 32×32 picture washes a shape out into a
    /// soft blob. The kernel reaches 3σ each way; the picture's edge pixels are repeated beyond it.
    public static let blurSigma = 4.0

    /// The baseline x′ [C, H, W] for a normalised input x [C, H, W].
    public func make(for input: Tensor, classifier: ImageClassifier) -> Tensor {
        switch self {
        case .zero:
            return Tensor(zeros: input.shape)
        case .black:
            return classifier.normalize(Tensor(zeros: input.shape))
        case .blurred:
            // The blur's weights sum to 1 and normalising is affine per channel, so blurring the
            // normalised input equals normalising the blurred picture.
            return gaussianBlur(input, sigma: Baseline.blurSigma)
        }
    }
}

/// Separable Gaussian blur of [C, H, W]: kernel g(d) ∝ exp(−d²/(2σ²)) for |d| ≤ ⌈3σ⌉, normalised
/// to sum 1, rows then columns; outside the picture the edge pixel is repeated.
public func gaussianBlur(_ input: Tensor, sigma: Double) -> Tensor {
    precondition(input.rank == 3, "gaussianBlur expects [C, H, W], got \(input.shape)")
    guard sigma > 0 else { return input }
    let radius = Int((3 * sigma).rounded(.up))
    var kernel = (-radius...radius).map { exp(-Double($0 * $0) / (2 * sigma * sigma)) }
    let kernelTotal = kernel.reduce(0, +)
    kernel = kernel.map { $0 / kernelTotal }
    let (channels, height, width) = (input.shape[0], input.shape[1], input.shape[2])
    var rowsBlurred = input
    for c in 0..<channels {
        for y in 0..<height {
            for x in 0..<width {
                var total = 0.0
                for d in -radius...radius {
                    let source = min(max(x + d, 0), width - 1)
                    total += kernel[d + radius] * Double(input.data[(c * height + y) * width + source])
                }
                rowsBlurred.data[(c * height + y) * width + x] = Float(total)
            }
        }
    }
    var output = rowsBlurred
    for c in 0..<channels {
        for y in 0..<height {
            for x in 0..<width {
                var total = 0.0
                for d in -radius...radius {
                    let source = min(max(y + d, 0), height - 1)
                    total += kernel[d + radius] * Double(rowsBlurred.data[(c * height + source) * width + x])
                }
                output.data[(c * height + y) * width + x] = Float(total)
            }
        }
    }
    return output
}

/// Copies of a network for the batches of Integrated Gradients' path, one batch per thread.
///
/// Shared out the usual way, every product of a batch is cut over the threads, which meet
/// again after each (about 150 times per forward and backward pass of a ResNet); on 2 cores a
/// ResNet-34's 200 steps took 6.1 s that way against 8.3 s on one thread, while two runs on one
/// thread each, side by side, took 9.3 s for the two. So where each batch is large, each thread
/// takes whole batches on a network of its own; the gradients are still added in the order of
/// the batches, so the result has the same bits as on one thread.
///
/// A copy shares the weights and the transformed kernels (the same storage) but keeps its own
/// activations, about 0.4 GB for 8 points of a ResNet-34, which is why the networks stop at
/// `maximumNetworks`; beyond that many threads the products are large enough to share.
enum IGWorkers {
    /// At most this many networks (the classifier and its copies) run batches at once.
    static let maximumNetworks = 4

    /// A batch goes to one thread only when its points hold this many values or more (8 points
    /// of a 224 × 224 ResNet input at the stem's output hold 6.4 million; a small network's
    /// batch a few hundred thousand, which one thread's products would leave cores idle on).
    static let minimumBatchValues = 1 << 22

    /// The copies of `classifier` for the other threads (none where the threads, the batches or
    /// their size do not call for them, inside another parallel region, or while a layer has a
    /// hook, which a copy would not run).
    static func copies(of classifier: ImageClassifier, batches: Int, pointsPerBatch: Int, valuesPerPoint: Int) -> [ImageClassifier] {
        let threads = Gemm.maximumThreads
        guard threads > 1, threads <= maximumNetworks, batches > threads, pointsPerBatch * valuesPerPoint >= minimumBatchValues,
              !Gemm.isRunningConcurrently,
              classifier.network.allLayers.allSatisfy({ $0.hooks.forward == nil && $0.hooks.backward == nil })
        else { return [] }
        return (1..<threads).compactMap { _ in try? classifier.copySharingWeights() }
    }

    /// One result per thread of a round, each slot written by one thread, under a lock.
    final class Results: @unchecked Sendable {
        private(set) var values: [Tensor?]
        private let lock = NSLock()
        init(count: Int) { values = [Tensor?](repeating: nil, count: count) }
        func set(_ slot: Int, _ value: Tensor) {
            lock.lock()
            values[slot] = value
            lock.unlock()
        }
    }
}

import Foundation

/// Faithfulness: does the heatmap point at what the network actually uses? Each measure here
/// changes the input where the map says it matters and watches the score:
///
/// - deletion and insertion curves (Petsiuk et al. 2018, RISE), in this file;
/// - average drop and increase in confidence (Chattopadhay et al. 2018, Grad-CAM++), in
///   ConfidenceChange.swift;
/// - ROAD, with its noisy linear imputation (Rong et al. 2022), in ROAD.swift and
///   NoisyLinearImputation.swift.
///
/// Conventions shared by all of them:
/// - an input is a normalised image [C, H, W] (or [1, C, H, W]); a heatmap is [H, W] at the
///   input's size, as `Explanation.heatmap` gives it;
/// - pixels are ranked by the heatmap's value, largest first; a signed map is ranked by value,
///   so negative relevance comes last; ties go by pixel index (row-major), so the order is the
///   same on every machine (`pixelOrder`);
/// - a score is an `ExplanationTarget`: `.probability(c)`, softmax P_c, as Petsiuk and
///   Chattopadhay use, or `.logit(c)`, z_c;
/// - every perturbed input goes through the network in batches of `batchSize`; the results do
///   not depend on the thread count (bit for bit), and depend on the batch size only through
///   float32 rounding (a batch changes how the matrix products are cut into blocks);
/// - each identity that holds is returned as a `Check`, with both sides and a tolerance from
///   the float32 error model.
///
/// docs/evaluation.md ("Faithfulness") compares the conventions with pytorch-grad-cam's and
/// Quantus's.
public enum Faithfulness {
    /// How many perturbed inputs go through the network at once unless told otherwise
    /// (pytorch-grad-cam's Score-CAM batch).
    public static let defaultBatchSize = 16
}

// MARK: - Pixel order

extension Faithfulness {
    /// The pixels of a heatmap [H, W], most relevant first, as row-major indices i = row·W + column:
    ///
    ///     order = argsort(−h),  ties by ascending i
    ///
    /// A signed map is ranked by value: the most positive pixel first, the most negative last.
    public static func pixelOrder(_ heatmap: Tensor) -> [Int] {
        let values = heatmap.data
        return values.indices.sorted { values[$0] > values[$1] || (values[$0] == values[$1] && $0 < $1) }
    }

    /// How many pixels are changed at each of the steps + 1 points of a curve over N pixels:
    ///
    ///     n_k = ⌊k · N / steps⌋,   k = 0 … steps
    ///
    /// so n_0 = 0 and n_steps = N, and every step changes N/steps pixels when steps divides N.
    public static func pixelCounts(pixels: Int, steps: Int) -> [Int] {
        (0...steps).map { $0 * pixels / steps }
    }

    /// The area under a curve by the trapezoid rule, in Double:
    ///
    ///     AUC = Σ_k (f_{k+1} − f_k) · (s_k + s_{k+1}) / 2
    ///
    /// With equal steps over 0…1 this is Petsiuk's `auc`, (Σ s − s_0/2 − s_last/2) / steps.
    public static func trapezoidArea(fractions: [Double], values: [Float]) -> Double {
        precondition(fractions.count == values.count, "\(fractions.count) fractions for \(values.count) values")
        var area = 0.0
        for k in 0..<Swift.max(fractions.count - 1, 0) {
            area += (fractions[k + 1] - fractions[k]) * (Double(values[k]) + Double(values[k + 1])) / 2
        }
        return area
    }
}

// MARK: - What replaces a deleted pixel

/// What a deleted pixel becomes (deletion), or what the picture is before any pixel is put back
/// (insertion): the "substrate" of Petsiuk et al. Values are in the normalised input's units.
public enum PerturbationFill: Sendable, Equatable, CustomStringConvertible {
    /// 0 in the normalised input, i.e. the data set's mean colour: Petsiuk's deletion substrate
    /// (RISE's code fills with zeros after normalisation) and pytorch-grad-cam's masked value.
    case mean
    /// The same value in every channel of every deleted pixel, in the normalised input's units.
    case constant(Float)
    /// A blurred copy of the input: Petsiuk's insertion substrate (`PetsiukBlur`).
    case blur(kernelSize: Int, sigma: Double)
    /// Any image [C, H, W] of the input's shape.
    case image(Tensor)

    /// RISE's blur: an 11 × 11 kernel with σ = 5.
    public static let petsiukBlur = PerturbationFill.blur(kernelSize: 11, sigma: 5)

    public var description: String {
        switch self {
        case .mean: return "0 (the data set's mean colour)"
        case let .constant(value): return "the constant fill \(value)"
        case let .blur(size, sigma): return "a blurred copy (\(size)×\(size) Gaussian, σ = \(sigma))"
        case .image: return "a given fill image"
        }
    }

    /// The substrate x̃ [C, H, W] for an image [C, H, W].
    public func substrate(for image: Tensor) throws -> Tensor {
        switch self {
        case .mean:
            return Tensor(zeros: image.shape)
        case let .constant(value):
            return Tensor(repeating: value, shape: image.shape)
        case let .blur(size, sigma):
            return try PetsiukBlur(kernelSize: size, sigma: sigma).blurred(image)
        case let .image(substrate):
            guard substrate.shape == image.shape else {
                throw MiniNetError.invalidArgument("the fill image has shape \(substrate.shape); the input has \(image.shape)")
            }
            return substrate
        }
    }
}

/// The blur of RISE's evaluation code (Petsiuk et al. 2018): each channel convolved, with zero
/// padding, with the kernel scipy.ndimage.gaussian_filter makes from a centred unit impulse on a
/// K × K grid (K = 11, σ = 5 in the paper):
///
///     k[i, j] = g_i · g_j,    g_i = Σ_{t = −r…r} φ_t · [reflect(i + t) = K/2],
///     φ_t = exp(−t²/2σ²) / Σ_s exp(−s²/2σ²),    r = ⌊4σ + ½⌋
///
/// where reflect folds an index back into 0…K−1 as scipy's mode "reflect" does (… c b a | a b c …).
/// Since r > K/2, the Gaussian's tails fold back into the grid: the kernel sums to 1 but is flatter
/// than a plain truncated Gaussian. RISE stores it as float32.
public struct PetsiukBlur: Sendable, Equatable {
    public var kernelSize: Int
    public var sigma: Double

    public init(kernelSize: Int = 11, sigma: Double = 5) throws {
        guard kernelSize >= 1, kernelSize % 2 == 1, kernelSize <= 101 else {
            throw MiniNetError.invalidArgument("the blur kernel size must be odd and between 1 and 101 (it is \(kernelSize))")
        }
        guard sigma > 0, sigma.isFinite, sigma <= 1000 else {
            throw MiniNetError.invalidArgument("the blur's σ must be positive and at most 1000 (it is \(sigma))")
        }
        self.kernelSize = kernelSize
        self.sigma = sigma
    }

    /// g [K]: the impulse response of scipy's 1-D Gaussian filter on K cells, mode "reflect".
    public var profile: [Double] {
        let radius = Int(4 * sigma + 0.5)
        let weights = (-radius...radius).map { exp(-0.5 / (sigma * sigma) * Double($0 * $0)) }
        let total = weights.reduce(0, +)
        let centre = kernelSize / 2
        var profile = [Double](repeating: 0, count: kernelSize)
        for i in 0..<kernelSize {
            for t in -radius...radius where reflect(i + t) == centre { profile[i] += weights[t + radius] / total }
        }
        return profile
    }

    /// k [K, K] = g gᵀ, rounded to float32 as RISE does.
    public var kernel: Tensor {
        let g = profile
        return Tensor(shape: [kernelSize, kernelSize], data: g.flatMap { a in g.map { Float(a * $0) } })
    }

    /// scipy's "reflect": the grid repeated as mirror images, … c b a | a b c | c b a …
    func reflect(_ index: Int) -> Int {
        let period = 2 * kernelSize
        let folded = ((index % period) + period) % period
        return folded < kernelSize ? folded : period - 1 - folded
    }

    /// The blurred image [C, H, W]: out[c, y, x] = Σ_{dy, dx} k[dy, dx] · in[c, y + dy − K/2, x + dx − K/2],
    /// 0 outside the picture (torch's conv2d with padding K/2).
    public func blurred(_ image: Tensor) -> Tensor {
        precondition(image.rank == 3, "blurred expects [C, H, W], got \(image.shape)")
        let (channels, height, width) = (image.shape[0], image.shape[1], image.shape[2])
        let k = kernel.data
        let half = kernelSize / 2
        var output = Tensor(zeros: image.shape)
        for c in 0..<channels {
            let plane = c * height * width
            for y in 0..<height {
                for x in 0..<width {
                    var total: Float = 0
                    for dy in Swift.max(0, half - y)..<Swift.min(kernelSize, height + half - y) {
                        let row = plane + (y + dy - half) * width
                        for dx in Swift.max(0, half - x)..<Swift.min(kernelSize, width + half - x) {
                            total += k[dy * kernelSize + dx] * image.data[row + x + dx - half]
                        }
                    }
                    output.data[plane + y * width + x] = total
                }
            }
        }
        return output
    }
}

// MARK: - Deletion and insertion curves

/// Deletion removes the most relevant pixels first; insertion puts them back first.
public enum PerturbationCurveKind: String, Sendable, CaseIterable {
    case deletion, insertion
}

/// A deletion or insertion curve (Petsiuk et al. 2018): the score at steps + 1 points, each point
/// with a fraction of the pixels deleted (or inserted) in the order of the heatmap.
public struct PerturbationCurve: Sendable {
    public var kind: PerturbationCurveKind
    public var fill: PerturbationFill
    public var target: ExplanationTarget
    /// n_k, the pixels deleted (inserted) at point k: ⌊k·N/steps⌋, from 0 to N.
    public var pixelCounts: [Int]
    /// n_k / N: the x axis, from 0 to 1.
    public var fractions: [Double]
    /// y^c at each point: P_c for `.probability(c)`, z_c for `.logit(c)`.
    public var scores: [Float]
    /// z_c at each point, whatever the target (the logit curve costs nothing more).
    public var logits: [Float]
    /// The predicted class at each point (argmax of the logits).
    public var predictedClasses: [Int]
    /// y^c(x): the score of the untouched input, from its own forward pass.
    public var fullScore: Float
    /// y^c(x̃): the score of the fill alone, from its own forward pass.
    public var fillScore: Float
    /// The area under the scores over the fractions (trapezoid rule). Low is good for deletion
    /// (the score falls fast), high for insertion.
    public var area: Double
    /// The end points against the full score and the fill's score.
    public var checks: [Check]

    public var allChecksPass: Bool { checks.allSatisfy(\.ok) }
    /// The area under the logit curve, z_c over the fractions.
    public var logitArea: Double { Faithfulness.trapezoidArea(fractions: fractions, values: logits) }
}

extension Faithfulness {
    /// The deletion curve: x_k is the input with its n_k most relevant pixels (all channels)
    /// replaced by the fill x̃,
    ///
    ///     x_k[c, i] = x̃[c, i] if i ∈ order[0 ..< n_k], else x[c, i]
    ///     s_k = y^c(x_k),   AUC = trapezoid area of s over n_k / N
    ///
    /// The fill defaults to the data set's mean (0 in the normalised input), as Petsiuk's code.
    public static func deletionCurve(classifier: ImageClassifier, input: Tensor, heatmap: Tensor, target: ExplanationTarget,
                                     steps: Int = 100, fill: PerturbationFill = .mean,
                                     batchSize: Int = defaultBatchSize) throws -> PerturbationCurve {
        try curve(.deletion, classifier: classifier, input: input, heatmap: heatmap, target: target,
                  steps: steps, fill: fill, batchSize: batchSize)
    }

    /// The insertion curve: x_k starts from the fill x̃ and has its n_k most relevant pixels
    /// put back from x,
    ///
    ///     x_k[c, i] = x[c, i] if i ∈ order[0 ..< n_k], else x̃[c, i]
    ///
    /// The fill defaults to Petsiuk's blurred copy (11 × 11, σ = 5).
    public static func insertionCurve(classifier: ImageClassifier, input: Tensor, heatmap: Tensor, target: ExplanationTarget,
                                      steps: Int = 100, fill: PerturbationFill = .petsiukBlur,
                                      batchSize: Int = defaultBatchSize) throws -> PerturbationCurve {
        try curve(.insertion, classifier: classifier, input: input, heatmap: heatmap, target: target,
                  steps: steps, fill: fill, batchSize: batchSize)
    }

    /// Either curve: deletion moves pixels from x to x̃, insertion from x̃ to x.
    public static func curve(_ kind: PerturbationCurveKind, classifier: ImageClassifier, input: Tensor, heatmap: Tensor,
                             target: ExplanationTarget, steps: Int, fill: PerturbationFill,
                             batchSize: Int = defaultBatchSize) throws -> PerturbationCurve {
        try curves([CurveRequest(kind, heatmap: heatmap, fill: fill)], classifier: classifier, input: input, target: target,
                   steps: steps, batchSize: batchSize)[0]
    }

    /// One curve of `curves`: its kind, the heatmap that orders the pixels, and the fill.
    public struct CurveRequest {
        public var kind: PerturbationCurveKind
        /// [H, W]
        public var heatmap: Tensor
        public var fill: PerturbationFill

        /// A curve with the fill `deletionCurve` or `insertionCurve` takes unless told otherwise.
        public init(_ kind: PerturbationCurveKind, heatmap: Tensor, fill: PerturbationFill? = nil) {
            self.kind = kind
            self.heatmap = heatmap
            self.fill = fill ?? (kind == .deletion ? .mean : .petsiukBlur)
        }
    }

    /// Several curves of one input at once, one per request, in their order. Their end points
    /// do not depend on the heatmap, only on the kind and the fill,
    ///
    ///     deletion:  x_0 = x,  x_S = x̃         insertion:  x_0 = x̃,  x_S = x
    ///
    /// so each distinct picture among them goes through the network once: x, each fill x̃, and
    /// the S − 1 points between the ends of each curve, all in batches of `batchSize`; x and each
    /// fill then get one pass of their own for the end-point checks. Four curves of S steps
    /// (deletion and insertion for two maps) cost 4(S − 1) + 3 batched images and three single
    /// passes, where four separate calls cost 4(S + 1) and eight.
    public static func curves(_ requests: [CurveRequest], classifier: ImageClassifier, input: Tensor,
                              target: ExplanationTarget, steps: Int, batchSize: Int = defaultBatchSize,
                              progress: (_ done: Int, _ total: Int) -> Void = { _, _ in }) throws -> [PerturbationCurve] {
        guard let first = requests.first else { return [] }
        let image = try checkedImage(input, heatmap: first.heatmap, classifier: classifier, target: target)
        for request in requests.dropFirst() {
            _ = try checkedImage(input, heatmap: request.heatmap, classifier: classifier, target: target)
        }
        try checkSteps(steps)
        try checkBatchSize(batchSize)
        // The distinct fills, and each request's.
        var fills: [PerturbationFill] = []
        for request in requests where !fills.contains(request.fill) { fills.append(request.fill) }
        let substrates = try fills.map { try $0.substrate(for: image) }
        let fillIndex = requests.map { request in fills.firstIndex(of: request.fill)! }
        let orders = requests.map { pixelOrder($0.heatmap) }
        let planeSize = orders[0].count
        let counts = pixelCounts(pixels: planeSize, steps: steps)

        // Every picture to score, once: x, the fills, then each curve's points between its ends.
        enum Picture { case input, fill(Int), point(request: Int, count: Int) }
        var pictures: [Picture] = [.input] + fills.indices.map { .fill($0) }
        var slot: [[Int]] = []                                   // [request][k]: the picture's index
        for (index, request) in requests.enumerated() {
            slot.append(counts.map { count in
                let (empty, full) = request.kind == .deletion ? (0, 1 + fillIndex[index]) : (1 + fillIndex[index], 0)
                if count == 0 { return empty }
                if count == planeSize { return full }
                pictures.append(.point(request: index, count: count))
                return pictures.count - 1
            })
        }
        let logits = batchedLogits(classifier: classifier, count: pictures.count, imageShape: image.shape, batchSize: batchSize,
                                   progress: progress) { k, buffer in
            switch pictures[k] {
            case .input: _ = buffer.update(fromContentsOf: image.data)
            case let .fill(index): _ = buffer.update(fromContentsOf: substrates[index].data)
            case let .point(request, count):
                writePerturbed(requests[request].kind, image: image, substrate: substrates[fillIndex[request]],
                               pixels: orders[request][0..<count], into: buffer)
            }
        }
        let scores = target.values(batchLogits: logits)
        let full = scoreWithTolerance(classifier: classifier, image: image, target: target)
        let filled = substrates.map { scoreWithTolerance(classifier: classifier, image: $0, target: target) }
        let fractions = counts.map { Double($0) / Double(planeSize) }
        return requests.indices.map { index in
            let points = slot[index]
            let fill = filled[fillIndex[index]]
            let curveScores = points.map { scores[$0] }
            var curve = PerturbationCurve(
                kind: requests[index].kind, fill: requests[index].fill, target: target, pixelCounts: counts, fractions: fractions,
                scores: curveScores, logits: points.map { logits[$0, target.classIndex] },
                predictedClasses: points.map { logits.slice($0).argmax },
                fullScore: full.score, fillScore: fill.score,
                area: trapezoidArea(fractions: fractions, values: curveScores), checks: [])
            curve.checks = endPointChecks(curve, fullTolerance: full.tolerance, fillTolerance: fill.tolerance)
            return curve
        }
    }

    /// x_k, the picture at one point of a curve, with `count` pixels of `order` changed:
    ///
    ///     deletion:   the image, with the pixels order[0 ..< count] (every channel) from the substrate
    ///     insertion:  the substrate, with those pixels from the image
    public static func perturbedImage(_ kind: PerturbationCurveKind, image: Tensor, substrate: Tensor,
                                      order: [Int], count: Int) -> Tensor {
        Tensor(shape: image.shape) { writePerturbed(kind, image: image, substrate: substrate, pixels: order[0..<count], into: $0) }
    }

    /// Writes x_k (`perturbedImage`) into a buffer of the image's size.
    static func writePerturbed(_ kind: PerturbationCurveKind, image: Tensor, substrate: Tensor, pixels: ArraySlice<Int>,
                               into buffer: UnsafeMutableBufferPointer<Float>) {
        let (start, finish) = kind == .deletion ? (image, substrate) : (substrate, image)
        let planeSize = image.shape[1] * image.shape[2]
        _ = buffer.update(fromContentsOf: start.data)
        for i in pixels {
            for c in 0..<image.shape[0] { buffer[c * planeSize + i] = finish.data[c * planeSize + i] }
        }
    }

    /// The identities at the ends of a curve: the untouched input gives the full score, the
    /// fill alone the fill's score,
    ///
    ///     deletion:  s_0 = y(x),  s_last = y(x̃)        insertion:  s_0 = y(x̃),  s_last = y(x)
    ///
    /// Both sides are the same image; they differ only in the rounding of a batched and a single
    /// forward pass (`scoreWithTolerance`).
    static func endPointChecks(_ curve: PerturbationCurve, fullTolerance: Tolerance, fillTolerance: Tolerance) -> [Check] {
        let (first, last) = (Double(curve.scores[0]), Double(curve.scores[curve.scores.count - 1]))
        let (full, fill) = (Double(curve.fullScore), Double(curve.fillScore))
        switch curve.kind {
        case .deletion:
            return [Check.equal("deletion at 0 % = the full score", "s(0 %), nothing deleted", first, "y(x)", full, tolerance: fullTolerance),
                    Check.equal("deletion at 100 % = the score of the fill", "s(100 %), every pixel deleted", last,
                                "y(x̃), the fill alone", fill, tolerance: fillTolerance)]
        case .insertion:
            return [Check.equal("insertion at 0 % = the score of the fill", "s(0 %), nothing inserted", first,
                                "y(x̃), the fill alone", fill, tolerance: fillTolerance),
                    Check.equal("insertion at 100 % = the full score", "s(100 %), every pixel inserted", last, "y(x)", full, tolerance: fullTolerance)]
        }
    }
}

// MARK: - Scores, batches and their rounding

extension Faithfulness {
    /// Logits [count, L] of `count` images [C, H, W], each written into its slot by `write(k, slot)`,
    /// pushed through the network `batchSize` at a time in evaluation mode.
    /// - progress: told (pictures scored, all pictures) after each batch
    static func batchedLogits(classifier: ImageClassifier, count: Int, imageShape: [Int], batchSize: Int,
                              progress: (_ done: Int, _ total: Int) -> Void = { _, _ in },
                              write: (Int, UnsafeMutableBufferPointer<Float>) -> Void) -> Tensor {
        classifier.prepareForExplanation()
        let imageSize = imageShape.reduce(1, *)
        var rows: [Float] = []
        var classes = 0
        var start = 0
        while start < count {
            let end = Swift.min(start + batchSize, count)
            let batch = Tensor(shape: [end - start] + imageShape) { buffer in
                for k in start..<end {
                    write(k, UnsafeMutableBufferPointer(rebasing: buffer[((k - start) * imageSize)..<((k - start + 1) * imageSize)]))
                }
            }
            let logits = classifier.inferenceLogits(batch)
            classes = logits.shape[1]
            rows += logits.data
            start = end
            progress(end, count)
        }
        return Tensor(shape: [count, classes], data: rows)
    }

    /// y^c of one image [C, H, W], from a forward pass of its own, and how far another forward
    /// pass of the same image may put it when only the arithmetic differs (a batch of many or of
    /// one): for the logits, each route's `forwardTolerance` (δ_z, for every logit); for a
    /// probability P = softmax(z)_c, whose derivatives obey Σ_j |∂P/∂z_j| = 2P(1 − P),
    ///
    ///     δ_P = 2P(1 − P) · δ_z + 4·γ₂·P·(1 + max_j z_j − min_j z_j)
    ///
    /// the last term for the float32 rounding of P itself and of the differences z_j − max z.
    ///
    /// The tolerance is measured on the same pass (`withForwardTolerance`), whose logits [1, L]
    /// come back too.
    public static func scoreWithTolerance(classifier: ImageClassifier, image: Tensor,
                                          target: ExplanationTarget) -> (score: Float, tolerance: Tolerance, logits: Tensor) {
        classifier.prepareForExplanation()
        let (logits, route) = classifier.withForwardTolerance { classifier.inferenceLogits(image.reshaped([1] + image.shape)) }
        let score = target.values(batchLogits: logits)[0]
        let logitTolerance = route + route
        guard case .probability = target else { return (score, logitTolerance, logits) }
        let p = Double(score)
        let spread = Double(logits.max - logits.min)
        return (score, logitTolerance.scaled(by: 2 * p * (1 - p)) + .sum(count: 2, magnitude: p * (1 + spread)), logits)
    }

    /// The image [C, H, W] of an input [C, H, W] or [1, C, H, W], checked against the heatmap
    /// [H, W], the network's input shape and the target's class.
    static func checkedImage(_ input: Tensor, heatmap: Tensor, classifier: ImageClassifier, target: ExplanationTarget) throws -> Tensor {
        let image = input.rank == 4 && input.shape[0] == 1 ? input.reshaped(Array(input.shape.dropFirst())) : input
        guard image.rank == 3, image.shape[0] == classifier.inputSize[0] else {
            throw MiniNetError.invalidArgument("the input has shape \(input.shape); the network takes [\(classifier.inputSize[0]), H, W] or [1, \(classifier.inputSize[0]), H, W]")
        }
        guard heatmap.shape == Array(image.shape.dropFirst()) else {
            throw MiniNetError.invalidArgument("the heatmap has shape \(heatmap.shape); the input's pixels are \(Array(image.shape.dropFirst()))")
        }
        guard heatmap.data.allSatisfy(\.isFinite), image.data.allSatisfy(\.isFinite) else {
            throw MiniNetError.invalidArgument("the heatmap or the input holds a value that is not a finite number")
        }
        let classes = classifier.classNames.count
        guard target.classIndex >= 0, target.classIndex < classes else {
            throw MiniNetError.invalidArgument("class \(target.classIndex) does not exist; the network has classes 0 to \(classes - 1)")
        }
        return image
    }

    static func checkSteps(_ steps: Int) throws {
        guard (1...100_000).contains(steps) else {
            throw MiniNetError.invalidArgument("the number of steps must be between 1 and 100000 (it is \(steps))")
        }
    }

    static func checkBatchSize(_ batchSize: Int) throws {
        guard (1...4096).contains(batchSize) else {
            throw MiniNetError.invalidArgument("the batch size must be between 1 and 4096 (it is \(batchSize))")
        }
    }
}

/// The pixels of an object as a set, made from a coverage mask.
///
/// The shapes data set gives, for every pixel, the fraction of it the shape covers
/// (`ShapeSample.mask`, 0…1): an edge pixel is partly covered. The localisation metrics need a
/// yes or no per pixel, and this is the one place where that rule is made:
///
///     M = { p : coverage(p) ≥ ½ }        (`coverageThreshold`)
///
/// so a pixel belongs to the object when the shape covers at least half of it, which gives the
/// set the same area as the drawn shape up to the rounding of its edge.
public struct ObjectMask: Sendable, Equatable {
    /// A pixel is inside when the shape covers at least this fraction of it.
    public static let coverageThreshold: Float = 0.5

    public let height: Int
    public let width: Int
    /// Row-major: `inside[y · width + x]`.
    public let inside: [Bool]

    public init(height: Int, width: Int, inside: [Bool]) {
        precondition(height > 0 && width > 0 && inside.count == height * width,
                     "ObjectMask: \(inside.count) values do not make \(height) × \(width) pixels")
        (self.height, self.width, self.inside) = (height, width, inside)
    }

    /// The set of a coverage mask [H, W]: coverage ≥ `coverageThreshold`.
    public init(coverage: Tensor) {
        precondition(coverage.rank == 2, "ObjectMask expects a coverage mask [H, W], got \(coverage.shape)")
        self.init(height: coverage.shape[0], width: coverage.shape[1],
                  inside: coverage.data.map { $0 >= ObjectMask.coverageThreshold })
    }

    /// |M|, the number of pixels inside.
    public var count: Int { inside.reduce(0) { $0 + ($1 ? 1 : 0) } }

    /// N = H · W.
    public var pixelCount: Int { height * width }

    /// f = |M| / N, the share of the picture the object takes.
    public var areaFraction: Double { Double(count) / Double(pixelCount) }

    public func contains(row: Int, column: Int) -> Bool { inside[row * width + column] }

    /// Whether some pixel of the mask lies within `tolerance` pixels of (row, column):
    ///
    ///     t = 0:  (row, column) ∈ M
    ///     t > 0:  ∃ q ∈ M with (q_y − row)² + (q_x − column)² < t²
    ///
    /// the acceptance disc of TorchRay's pointing game (`PointingGame.evaluate`, strict <), whose
    /// benchmark uses t = 15 at ImageNet resolution. At t = 1 the disc is the pixel itself, so
    /// t = 0 and t = 1 agree.
    public func isWithin(_ tolerance: Int, ofRow row: Int, column: Int) -> Bool {
        guard tolerance > 0 else { return contains(row: row, column: column) }
        let reach = tolerance - 1       // the largest |dy| with dy² < t²
        for y in Swift.max(0, row - reach)...Swift.min(height - 1, row + reach) {
            for x in Swift.max(0, column - reach)...Swift.min(width - 1, column + reach)
            where (y - row) * (y - row) + (x - column) * (x - column) < tolerance * tolerance && contains(row: y, column: x) {
                return true
            }
        }
        return false
    }

    /// The pixels from which the pointing game with this tolerance would count a hit: M grown by
    /// the acceptance disc (M itself for t ≤ 1). The disc is cut into rows: for each row offset
    /// dy, p is in when row y + dy holds a pixel of M within the half-width
    ///
    ///     w(dy) = the largest dx with dx² + dy² < t²
    ///
    /// of x, which a running count per row answers at once: O(N · t) instead of O(N · t²).
    public func dilated(by tolerance: Int) -> ObjectMask {
        guard tolerance > 1 else { return self }
        // before[y][x] = how many pixels of row y left of column x are inside.
        let before = (0..<height).map { y in
            (0..<width).reduce(into: [0]) { counts, x in counts.append(counts.last! + (inside[y * width + x] ? 1 : 0)) }
        }
        var grown = [Bool](repeating: false, count: pixelCount)
        for dy in (1 - tolerance)...(tolerance - 1) {
            var halfWidth = 0
            while (halfWidth + 1) * (halfWidth + 1) + dy * dy < tolerance * tolerance { halfWidth += 1 }
            for y in Swift.max(0, -dy)..<Swift.min(height, height - dy) {
                for x in 0..<width {
                    let (left, right) = (Swift.max(0, x - halfWidth), Swift.min(width - 1, x + halfWidth))
                    if before[y + dy][right + 1] > before[y + dy][left] { grown[y * width + x] = true }
                }
            }
        }
        return ObjectMask(height: height, width: width, inside: grown)
    }
}

/// Where a map's maximum fell, and whether that is on the object.
public struct PointingGameResult: Sendable, Equatable, Codable {
    /// The pixel of the map's maximum (the first in row-major order when several share it).
    public var row: Int
    public var column: Int
    public var value: Float
    /// The tolerance t in pixels the hit was judged with (0: the pixel itself).
    public var tolerance: Int
    public var hit: Bool
}

/// The three localisation scores of one map on one mask.
public struct LocalisationScores: Sendable, Equatable, Codable {
    public var pointingGame: PointingGameResult
    /// nil when the map has no positive relevance or the mask is empty.
    public var relevanceMass: Double?
    /// nil when the mask is empty.
    public var relevanceRank: Double?
}

/// How well a heatmap [H, W] lands on the object it should explain, when the object's mask is
/// known (every picture of the shapes data set has one): three scores, each 0…1, higher better.
///
/// A heatmap is ranked by its value, largest first; for a signed map that puts negative
/// relevance last, after the zeros (no absolute value is taken: a method that says "this pixel
/// speaks against the class" is not credited for pointing at it). Ties are broken by pixel index
/// in row-major order, so every result is the same on every machine.
public enum Localisation {
    /// The pixel indices y · W + x of a heatmap, largest value first, ties by smaller index.
    public static func pixelsByRelevance(_ heatmap: Tensor) -> [Int] {
        let values = heatmap.data
        return values.indices.sorted { values[$0] > values[$1] || (values[$0] == values[$1] && $0 < $1) }
    }

    /// The pointing game (Zhang et al. 2018): is the map's maximum on the object?
    ///
    ///     p* = argmax_p R(p)   (first in row-major order among equal maxima)
    ///     hit = p* ∈ M                         (tolerance 0)
    ///     hit = ∃ q ∈ M: |q − p*| < t          (tolerance t, TorchRay's acceptance disc)
    ///
    /// Quantus's `PointingGame` has no tolerance and counts a hit when any of several equal
    /// maxima is inside; docs/evaluation.md compares the conventions.
    public static func pointingGame(_ heatmap: Tensor, mask: ObjectMask, tolerance: Int = 0) -> PointingGameResult {
        checkShapes(heatmap, mask)
        precondition(tolerance >= 0, "pointing game tolerance must be at least 0, got \(tolerance)")
        let best = heatmap.argmax
        let (row, column) = (best / mask.width, best % mask.width)
        return PointingGameResult(row: row, column: column, value: heatmap.data[best], tolerance: tolerance,
                                  hit: mask.isWithin(tolerance, ofRow: row, column: column))
    }

    /// Relevance mass accuracy (Arras et al. 2022): the share of the positive relevance that
    /// falls on the object,
    ///
    ///     mass = Σ_{p ∈ M} R⁺(p) / Σ_p R⁺(p),     R⁺ = max(R, 0)
    ///
    /// summed in Double. nil when no pixel is positive (0/0) or the mask is empty. Quantus's
    /// `RelevanceMassAccuracy` sums R itself, negative values included; on a map ≥ 0 the two agree.
    public static func relevanceMass(_ heatmap: Tensor, mask: ObjectMask) -> Double? {
        checkShapes(heatmap, mask)
        var inside = 0.0, total = 0.0
        for (index, value) in heatmap.data.enumerated() where value > 0 {
            total += Double(value)
            if mask.inside[index] { inside += Double(value) }
        }
        guard total > 0, mask.count > 0 else { return nil }
        return inside / total
    }

    /// Relevance rank accuracy (Arras et al. 2022): of the K = |M| most relevant pixels, the
    /// share that is on the object,
    ///
    ///     rank = |top_K(R) ∩ M| / K,     K = |M|
    ///
    /// with top_K in the order of `pixelsByRelevance`. nil when the mask is empty.
    public static func relevanceRank(_ heatmap: Tensor, mask: ObjectMask) -> Double? {
        checkShapes(heatmap, mask)
        let size = mask.count
        guard size > 0 else { return nil }
        let hits = pixelsByRelevance(heatmap).prefix(size).filter { mask.inside[$0] }.count
        return Double(hits) / Double(size)
    }

    /// All three scores of one map.
    public static func scores(_ heatmap: Tensor, mask: ObjectMask, tolerance: Int = 0) -> LocalisationScores {
        LocalisationScores(pointingGame: pointingGame(heatmap, mask: mask, tolerance: tolerance),
                           relevanceMass: relevanceMass(heatmap, mask: mask),
                           relevanceRank: relevanceRank(heatmap, mask: mask))
    }

    private static func checkShapes(_ heatmap: Tensor, _ mask: ObjectMask) {
        precondition(heatmap.shape == [mask.height, mask.width],
                     "heatmap \(heatmap.shape) and mask [\(mask.height), \(mask.width)] differ in size")
    }
}

/// One of the three localisation scores, by name, with what a map of independent uniform
/// random values scores on average: the baseline every method must beat.
public enum LocalisationMetric: String, CaseIterable, Sendable {
    case pointingGame = "pointing-game"
    case relevanceMass = "relevance-mass"
    case relevanceRank = "relevance-rank"

    /// This metric's value in `scores` (1 or 0 for the pointing game).
    public func value(in scores: LocalisationScores) -> Double? {
        switch self {
        case .pointingGame: return scores.pointingGame.hit ? 1 : 0
        case .relevanceMass: return scores.relevanceMass
        case .relevanceRank: return scores.relevanceRank
        }
    }

    /// The mean and standard deviation of this score for a map of N independent U(0, 1) values
    /// on `mask` (f = |M|/N; f_t = |M grown by t|/N for the pointing game with tolerance t):
    ///
    ///     pointing game:   the maximum is at a uniformly random pixel
    ///                      mean f_t,  σ² = f_t(1 − f_t)                     (Bernoulli)
    ///     relevance rank:  the top K = |M| pixels are a uniformly random K-subset
    ///                      mean f,    σ² = (1 − f)²/(N − 1)                  (hypergeometric, exact)
    ///     relevance mass:  X = Σ_{p∈M} u_p, Y = Σ_{p∉M} u_p, mass = X/(X + Y)
    ///                      mean f exactly: the N pixels are exchangeable, so each holds 1/N of
    ///                      the mass on average;
    ///                      σ² ≈ f(1 − f)/(3N)  by the delta method: ∂mass/∂X = (1 − f)/(Nμ),
    ///                      ∂mass/∂Y = −f/(Nμ), Var X = |M|σᵤ², Var Y = (N − |M|)σᵤ², and
    ///                      σᵤ²/μ² = (1/12)/(1/4) = 1/3 (relative error O(1/N))
    public func randomMapExpectation(mask: ObjectMask, tolerance: Int = 0) -> (mean: Double, standardDeviation: Double) {
        let n = Double(mask.pixelCount)
        switch self {
        case .pointingGame:
            let f = mask.dilated(by: tolerance).areaFraction
            return (f, (f * (1 - f)).squareRoot())
        case .relevanceRank:
            let f = mask.areaFraction
            return (f, n > 1 ? (1 - f) / (n - 1).squareRoot() : 0)
        case .relevanceMass:
            let f = mask.areaFraction
            return (f, (f * (1 - f) / (3 * n)).squareRoot())
        }
    }

    /// The identity "a random map scores the mask's area fraction", checked on the scores of
    /// random maps (`ControlMaps.random`), one per mask:
    ///
    ///     left  = (1/n) Σᵢ scoreᵢ
    ///     right = (1/n) Σᵢ meanᵢ                     (`randomMapExpectation`)
    ///     |left − right| ≤ k · √(Σᵢ σᵢ²) / n         (k = `sigmas`, 4 by default)
    ///
    /// The maps are independent, so the variance of the mean is Σᵢ σᵢ² / n²; at k = 4 a correct
    /// implementation fails by chance about once in 16 000 runs (normal approximation). The bound
    /// shrinks as 1/√n, so a systematic error (a mask shifted against the map, a threshold that
    /// changes the area, negative values counted) stands out once enough maps are averaged.
    public func randomMapCheck(scores: [Double], masks: [ObjectMask], tolerance: Int = 0, sigmas: Double = 4) -> Check {
        precondition(scores.count == masks.count && !scores.isEmpty, "randomMapCheck needs one score per mask")
        let expectations = masks.map { randomMapExpectation(mask: $0, tolerance: tolerance) }
        let count = Double(scores.count)
        let spread = expectations.reduce(0) { $0 + $1.standardDeviation * $1.standardDeviation }.squareRoot() / count
        let k = sigmas == sigmas.rounded() ? String(Int(sigmas)) : String(sigmas)
        let reason = "\(k) σ of the mean of \(scores.count) random maps (sampling error)"
        return Check.equal(checkName, scoreLabel, scores.reduce(0, +) / count,
                           expectedLabel, expectations.reduce(0) { $0 + $1.mean } / count,
                           tolerance: .absolute(sigmas * spread, because: reason))
    }

    private var checkName: String {
        switch self {
        case .pointingGame: return "a random map's maximum lands on the object as often as the object's area"
        case .relevanceMass: return "a random map's relevance mass = the mask's area fraction"
        case .relevanceRank: return "a random map's relevance rank accuracy = the mask's area fraction"
        }
    }

    private var scoreLabel: String {
        switch self {
        case .pointingGame: return "hits of random maps, mean"
        case .relevanceMass: return "relevance mass of random maps, mean"
        case .relevanceRank: return "relevance rank accuracy of random maps, mean"
        }
    }

    private var expectedLabel: String {
        self == .pointingGame ? "mean area fraction within the tolerance" : "mean area fraction |M|/N"
    }
}

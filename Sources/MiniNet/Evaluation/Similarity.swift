/// How alike two heatmaps [H, W] are, in the three numbers Adebayo et al. (2018) report for
/// their sanity checks.
public struct MapSimilarity: Sendable, Equatable, Codable {
    /// Spearman's ρ of |a| and |b|: do the two maps find the same pixels important, whatever
    /// the sign? nil when either map is constant (ρ is undefined; scipy gives NaN).
    public var rankCorrelationOfAbsolute: Double?
    /// Spearman's ρ of a and b, signs kept. nil when either map is constant.
    public var rankCorrelation: Double?
    /// SSIM of |a|/max|a| and |b|/max|b| (`Similarity.structuralSimilarity`).
    public var structuralSimilarity: Double
}

/// The similarity measures of the sanity checks, with the conventions of Quantus's MPRT.
public enum Similarity {
    /// The side of SSIM's square window: skimage's default `win_size`.
    public static let windowSize = 7
    /// SSIM's constants K₁, K₂ (skimage's and Wang et al.'s defaults).
    public static let k1 = 0.01
    public static let k2 = 0.03

    /// The three numbers of `MapSimilarity` for two maps of the same size. The SSIM is taken
    /// after Quantus's MPRT preprocessing (abs = True, normalise = True): each map becomes
    /// |a| / max|a| (`normalisedByMaximum`), so that a map scaled by any factor is the same map.
    public static func compare(_ a: Tensor, _ b: Tensor) throws -> MapSimilarity {
        try compare(PreparedMap(a), PreparedMap(b))
    }

    /// What `compare` computes of each map alone: its fractional ranks, signed and absolute, and
    /// |a| / max|a|. A map compared with many others (the trained network's map, with the map
    /// after every step of a cascade) is prepared once.
    public struct PreparedMap: Sendable {
        public let shape: [Int]
        let ranks: [Double]
        let ranksOfAbsolute: [Double]
        let normalised: Tensor

        public init(_ map: Tensor) {
            shape = map.shape
            ranks = fractionalRanks(map.data)
            ranksOfAbsolute = fractionalRanks(map.data.map(abs))
            normalised = normalisedByMaximum(map)
        }
    }

    /// `compare` of two prepared maps: Spearman's ρ is Pearson's correlation of the ranks.
    public static func compare(_ a: PreparedMap, _ b: PreparedMap) throws -> MapSimilarity {
        precondition(a.shape == b.shape, "comparing maps of shapes \(a.shape) and \(b.shape)")
        return MapSimilarity(
            rankCorrelationOfAbsolute: pearsonCorrelation(a.ranksOfAbsolute, b.ranksOfAbsolute),
            rankCorrelation: pearsonCorrelation(a.ranks, b.ranks),
            structuralSimilarity: try structuralSimilarity(a.normalised, b.normalised))
    }

    /// |a| / max|a|, as Quantus's `normalise_by_max` after `abs`; an all-zero map stays zero.
    public static func normalisedByMaximum(_ map: Tensor) -> Tensor {
        let largest = map.data.reduce(Float(0)) { Swift.max($0, abs($1)) }
        return largest > 0 ? map.map { abs($0) / largest } : map.map(abs)
    }

    /// The mean structural similarity of two images [H, W] (Wang et al. 2004), as
    /// skimage.metrics.structural_similarity computes it with its defaults (a 7 × 7 uniform
    /// window, K₁ = 0.01, K₂ = 0.03, sample covariances) and Quantus's `ssim` data range:
    ///
    ///     for each 7 × 7 window w (n = 49 pixels):
    ///         μ_a = mean_w a                     σ_a² = n/(n − 1) · (mean_w a² − μ_a²)
    ///         σ_ab = n/(n − 1) · (mean_w ab − μ_a μ_b)
    ///         S_w = (2 μ_a μ_b + C₁)(2 σ_ab + C₂) / ((μ_a² + μ_b² + C₁)(σ_a² + σ_b² + C₂))
    ///     SSIM = mean of S_w over the windows that lie inside the image
    ///     C₁ = (K₁ L)², C₂ = (K₂ L)²,   L = max(a ∪ b) − min(a ∪ b) unless `dataRange` is given
    ///
    /// skimage filters the whole image (reflecting at the border) and then averages S only over
    /// the pixels at least 3 from the border, which are exactly the windows inside the image;
    /// so the border rule never matters. Computed in Double. Two equal constant images (L = 0)
    /// have SSIM 1. Throws when a side is shorter than the window.
    public static func structuralSimilarity(_ a: Tensor, _ b: Tensor, dataRange: Double? = nil) throws -> Double {
        precondition(a.rank == 2 && a.shape == b.shape, "SSIM compares two images [H, W], got \(a.shape) and \(b.shape)")
        let (height, width) = (a.shape[0], a.shape[1])
        guard height >= windowSize && width >= windowSize else {
            throw MiniNetError.invalidArgument("SSIM needs maps of at least \(windowSize) × \(windowSize) pixels, got \(height) × \(width)")
        }
        let range = dataRange ?? Double(Swift.max(a.max, b.max) - Swift.min(a.min, b.min))
        if range == 0 && a == b { return 1 }
        let (c1, c2) = ((k1 * range) * (k1 * range), (k2 * range) * (k2 * range))
        var total = 0.0
        a.data.withUnsafeBufferPointer { a in
            b.data.withUnsafeBufferPointer { b in
                for top in 0...(height - windowSize) {
                    for left in 0...(width - windowSize) {
                        total += windowSimilarity(a, b, width: width, top: top, left: left, c1: c1, c2: c2)
                    }
                }
            }
        }
        return total / Double((height - windowSize + 1) * (width - windowSize + 1))
    }

    /// S_w of the window whose top-left pixel is (top, left) in two images of `width` columns
    /// (see `structuralSimilarity`).
    static func windowSimilarity(_ a: UnsafeBufferPointer<Float>, _ b: UnsafeBufferPointer<Float>, width: Int,
                                 top: Int, left: Int, c1: Double, c2: Double) -> Double {
        var sumA = 0.0, sumB = 0.0, sumAA = 0.0, sumBB = 0.0, sumAB = 0.0
        for y in top..<(top + windowSize) {
            for x in left..<(left + windowSize) {
                let (p, q) = (Double(a[y * width + x]), Double(b[y * width + x]))
                (sumA, sumB) = (sumA + p, sumB + q)
                (sumAA, sumBB, sumAB) = (sumAA + p * p, sumBB + q * q, sumAB + p * q)
            }
        }
        let n = Double(windowSize * windowSize)
        let (meanA, meanB) = (sumA / n, sumB / n)
        let sampleCorrection = n / (n - 1)
        let varianceA = sampleCorrection * (sumAA / n - meanA * meanA)
        let varianceB = sampleCorrection * (sumBB / n - meanB * meanB)
        let covariance = sampleCorrection * (sumAB / n - meanA * meanB)
        return (2 * meanA * meanB + c1) * (2 * covariance + c2)
            / ((meanA * meanA + meanB * meanB + c1) * (varianceA + varianceB + c2))
    }
}

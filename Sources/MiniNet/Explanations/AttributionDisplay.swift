/// Which part of a signed attribution a picture shows, as Captum's `visualize_image_attr(sign=)`.
public enum AttributionSign: String, CaseIterable, Sendable {
    /// Only the evidence for the class: max(a, 0).
    case positive
    /// Only the evidence against it: min(a, 0).
    case negative
    /// |a|: how much a pixel matters, whatever the direction.
    case absolute
    /// Both signs, on a scale symmetric around 0.
    case all
}

/// How an attribution map becomes the numbers a heat map colours, exactly as Captum's
/// `visualize_image_attr(method='heat_map')` does it (its `_normalize_attr`):
///
///     a      = Σ_c attribution[c]                      (channels summed)
///     a'     = sign part of a                          (max(a,0), min(a,0), |a| or a)
///     t      = the smallest |a'|ᵢ at which the running sum of the sorted |a'| reaches
///              (100 − P)% of Σ|a'|                     (P = outlierPercent)
///     shown  = clip(a' / t, −1, 1)                     (t negated for the negative sign)
///
/// Note that t is a *cumulative-sum* percentile, not a plain one: with P = 1 the few largest
/// values that together hold the top 1% of the total mass are clipped. That is what stops one
/// outlier pixel from setting the scale and leaving the rest of the map nearly invisible,
/// which is what dividing by max |a| does.
public enum AttributionDisplay {
    /// - Parameters:
    ///   - attribution: [C, H, W] (channels are summed) or [H, W]
    ///   - outlierPercent: P in 0…100
    /// - Returns: [H, W] in −1…1 (0…1 for positive and absolute, −1…0 for negative); all zeros
    ///   when the chosen part of the map is zero everywhere (Captum refuses that case).
    public static func normalize(_ attribution: Tensor, sign: AttributionSign, outlierPercent: Double) -> Tensor {
        precondition(attribution.rank == 2 || attribution.rank == 3, "an attribution map is [C, H, W] or [H, W]")
        precondition((0...100).contains(outlierPercent), "the outlier percentage is in 0…100")
        var map = attribution.rank == 3 ? channelSum(attribution) : attribution      // [H, W]
        for index in map.data.indices {
            let value = map.data[index]
            switch sign {
            case .positive: map.data[index] = Swift.max(value, 0)
            case .negative: map.data[index] = Swift.min(value, 0)
            case .absolute: map.data[index] = Swift.abs(value)
            case .all: break
            }
        }
        // A value that is not a number (a relevance that overflowed) is left out of the scale.
        var threshold = cumulativeSumThreshold(map.data.filter(\.isFinite).map(Swift.abs), percentile: 100 - outlierPercent)
        guard threshold > 0 else { return Tensor(zeros: map.shape) }
        if sign == .negative { threshold = -threshold }
        for index in map.data.indices { map.data[index] = Swift.min(Swift.max(map.data[index] / threshold, -1), 1) }
        return map
    }

    /// The smallest value v of `values` (all ≥ 0) such that the values up to v, sorted
    /// ascending, add up to at least `percentile`% of their total (Captum's
    /// `_cumulative_sum_threshold`). The running sums are kept in Double.
    public static func cumulativeSumThreshold(_ values: [Float], percentile: Double) -> Float {
        let sorted = values.sorted()
        guard let largest = sorted.last else { return 0 }
        let total = sorted.reduce(0.0) { $0 + Double($1) }
        let target = total * 0.01 * percentile
        var running = 0.0
        for value in sorted {
            running += Double(value)
            if running >= target { return value }
        }
        return largest
    }

    /// Σ_c a[c, h, w]: [C, H, W] → [H, W], the attribution of a pixel (its colour channels added).
    public static func channelSum(_ attribution: Tensor) -> Tensor {
        var map = Tensor(zeros: Array(attribution.shape.dropFirst()))
        for channel in 0..<attribution.shape[0] { map += attribution.slice(channel) }
        return map
    }
}

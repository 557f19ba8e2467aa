/// Spearman's rank correlation: Pearson's correlation of the ranks,
///
///     ρ = Σᵢ (rᵢ − r̄)(sᵢ − s̄) / √(Σᵢ (rᵢ − r̄)² · Σᵢ (sᵢ − s̄)²)
///
/// where rᵢ is the rank of aᵢ among a (1 for the smallest) and sᵢ that of bᵢ among b. Tied
/// values share the mean of the ranks they span ("fractional ranking"), as scipy.stats.spearmanr
/// does; the textbook shortcut 1 − 6Σd²/(n(n² − 1)) holds only without ties, and the positive
/// part of a heatmap is mostly tied zeros. Returns nil when either side is constant.
public func spearmanCorrelation(_ a: [Float], _ b: [Float]) -> Double? {
    precondition(a.count == b.count, "spearmanCorrelation needs two lists of the same length")
    return pearsonCorrelation(fractionalRanks(a), fractionalRanks(b))
}

/// Ranks 1…n, ties sharing the mean of the ranks they span: [10, 20, 20, 5] → [2, 3.5, 3.5, 1].
///
/// The order comes from sorting one 64-bit key per value, its Float bits made to sort as the
/// numbers do (a negative number's bits inverted, a positive one's sign bit set) above its index.
/// Equal numbers end up side by side (−0 next to +0), which is all the ranks need.
public func fractionalRanks(_ values: [Float]) -> [Double] {
    let keys = values.enumerated().map { index, value -> UInt64 in
        let bits = value.bitPattern
        let ordered = bits & 0x8000_0000 != 0 ? ~bits : bits | 0x8000_0000
        return UInt64(ordered) << 32 | UInt64(index)
    }
    let order = sortedByRadix(keys).map { Int($0 & 0xFFFF_FFFF) }
    var ranks = [Double](repeating: 0, count: values.count)
    var start = 0
    while start < order.count {
        var end = start
        while end + 1 < order.count && values[order[end + 1]] == values[order[start]] { end += 1 }
        let shared = Double(start + end) / 2 + 1                   // mean of ranks start+1 … end+1
        for position in start...end { ranks[order[position]] = shared }
        start = end + 1
    }
    return ranks
}

/// Pearson's correlation of two lists of the same length, in Double; nil when either is constant.
public func pearsonCorrelation(_ a: [Double], _ b: [Double]) -> Double? {
    guard a.count == b.count, a.count > 1 else { return nil }
    let meanA = a.reduce(0, +) / Double(a.count), meanB = b.reduce(0, +) / Double(b.count)
    var covariance = 0.0, varianceA = 0.0, varianceB = 0.0
    for index in a.indices {
        let da = a[index] - meanA, db = b[index] - meanB
        covariance += da * db
        varianceA += da * da
        varianceB += db * db
    }
    guard varianceA > 0, varianceB > 0 else { return nil }
    return covariance / (varianceA * varianceB).squareRoot()
}

/// Keys whose low 32 bits are their own positions 0, 1, 2, …, sorted: a least-significant-digit
/// radix sort of the high 32 bits, one byte a pass. Each pass is stable, and the keys start in
/// the order of their low bits, so the result is `keys.sorted()`, in four passes over the keys
/// instead of about n·log₂ n comparisons (a heatmap of 50 000 pixels: 16 comparisons a key). A
/// pass whose byte is the same in every key leaves the order as it is and is skipped.
func sortedByRadix(_ keys: [UInt64]) -> [UInt64] {
    var current = keys
    var next = [UInt64](repeating: 0, count: keys.count)
    var counts = [Int](repeating: 0, count: 257)
    for shift in stride(from: UInt64(32), to: 64, by: 8) {
        for index in counts.indices { counts[index] = 0 }
        for key in current { counts[Int((key >> shift) & 0xFF) + 1] += 1 }
        if counts.contains(current.count) { continue }
        for digit in 1..<counts.count { counts[digit] += counts[digit - 1] }
        for key in current {
            let digit = Int((key >> shift) & 0xFF)
            next[counts[digit]] = key
            counts[digit] += 1
        }
        swap(&current, &next)
    }
    return current
}

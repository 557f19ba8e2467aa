import Foundation

/// How far apart two float32 computations of the same number may be: the tolerance of a check,
/// made from what the computation did rather than from a residual seen on one machine.
///
/// The error model (Higham, *Accuracy and Stability of Numerical Algorithms*, §3.1 and §4.2):
/// adding n float32 numbers, in any order and with any blocking, gives
///
///     |fl(Σᵢ aᵢ) − Σᵢ aᵢ| ≤ γₙ · Σᵢ |aᵢ|,    γₙ = n·u / (1 − n·u),    u = 2⁻²⁴
///
/// and a dot product Σᵢ xᵢ·yᵢ obeys the same bound with aᵢ = xᵢ·yᵢ (one more rounding per
/// product, so n + 1 in place of n). Three things set the size of a tolerance:
///
/// - **n**, the number of terms added into one result (a convolution adds Cin·kH·kW of them);
/// - **Σ|aᵢ|**, the magnitude of what was added, not of the result: a sum that cancels to
///   nearly zero still carries the rounding of its large terms;
/// - **depth**, the number of such sums a value went through when its two sides take
///   different routes through a network. ReLU, max-pooling and averaging never enlarge an
///   error (they are 1-Lipschitz), so to first order the errors of the layers add: depth · γₙ · M,
///   with n the largest fan-in and M the magnitude at the output.
///
/// The bound is a worst case; real errors are usually √n times smaller. A stated `safety`
/// factor (4 unless a check says otherwise) covers what the first-order model leaves out:
/// the rounding of the inputs themselves, a division or a square root after the sum, and the
/// conversion of float32 to Double for display. Two sides that each carry rounding add their
/// tolerances (`+`).
///
///     Tolerance.sum(of: terms)                               // one sum, computed once
///     Tolerance.sum(count: 513, magnitude: 812.5, depth: 36) // a ResNet-34 logit
///     Tolerance.sum(of: left) + Tolerance.sum(of: right)     // two routes to one number
///
/// A tolerance must stay tight enough to catch a real mistake: leaving out the largest term,
/// flipping a sign or taking a mean for a sum moves a result by far more than γₙ · Σ|aᵢ|
/// whenever n·√(depth) is below about a thousand. The lesson tests break each identity that way.
public struct Tolerance: Sendable, Equatable, CustomStringConvertible {
    /// The unit roundoff of float32: half the distance from 1 to the next float.
    public static let unitRoundoff = 0x1p-24

    /// γₙ = n·u / (1 − n·u): the relative error bound of a sum of n terms.
    public static func gamma(_ count: Int) -> Double {
        let nu = Double(Swift.max(count, 0)) * unitRoundoff
        return nu < 1 ? nu / (1 - nu) : .infinity
    }

    /// One route's share of a tolerance: safety · depth · γₙ · Σ|aᵢ|.
    public struct Part: Sendable, Equatable {
        /// n, the most terms added into one result.
        public var count: Int
        /// Σ|aᵢ|, the magnitude of what was added (the largest such sum, for a tensor).
        public var magnitude: Double
        /// The largest single |aᵢ|; leaving it out is the smallest mistake the check must catch.
        public var largestTerm: Double
        /// How many sums of up to n terms the value went through.
        public var depth: Int
        public var safety: Double

        public var value: Double { safety * Double(depth) * Tolerance.gamma(count) * magnitude }
    }

    /// The routes whose rounding adds up to the tolerance; empty for an exact comparison.
    public var parts: [Part]
    /// An absolute amount added on top, with the reason for it (e.g. a finite-difference
    /// truncation error, or a quadrature error bound); 0 for pure rounding.
    public var extra: Double
    public var extraReason: String?

    public init(parts: [Part], extra: Double = 0, extraReason: String? = nil) {
        self.parts = parts
        self.extra = extra
        self.extraReason = extraReason
    }

    /// The tolerance itself, the bound |left − right| must meet.
    public var value: Double { parts.reduce(extra) { $0 + $1.value } }

    /// The largest single term any route added: the smallest mistake the tolerance must expose.
    public var largestTerm: Double { parts.map(\.largestTerm).max() ?? 0 }

    /// The most terms any route added into one result.
    public var count: Int { parts.map(\.count).max() ?? 0 }

    /// Two computations that must agree exactly, bit for bit (the same code on the same data,
    /// or integers).
    public static let exact = Tolerance(parts: [], extra: 0, extraReason: nil)

    /// The rounding of one float32 sum of `count` terms whose magnitudes add up to `magnitude`.
    /// - Parameters:
    ///   - largestTerm: the largest |aᵢ|, when known; else the mean term, magnitude / count.
    ///   - depth: how many sums of up to `count` terms the value went through (layers of a network).
    ///   - safety: the stated safety factor (4 by default).
    public static func sum(count: Int, magnitude: Double, largestTerm: Double? = nil,
                           depth: Int = 1, safety: Double = 4) -> Tolerance {
        let n = Swift.max(count, 1)
        let part = Part(count: n, magnitude: Swift.abs(magnitude),
                        largestTerm: largestTerm.map(Swift.abs) ?? Swift.abs(magnitude) / Double(n),
                        depth: Swift.max(depth, 1), safety: safety)
        return Tolerance(parts: [part], extra: 0, extraReason: nil)
    }

    /// The rounding of a float32 sum of these terms (n = their count, Σ|aᵢ| from them).
    public static func sum<Terms: Sequence>(of terms: Terms, depth: Int = 1, safety: Double = 4) -> Tolerance
    where Terms.Element: BinaryFloatingPoint {
        var count = 0
        var magnitude = 0.0
        var largest = 0.0
        for term in terms {
            let size = Swift.abs(Double(term))
            count += 1
            magnitude += size
            largest = Swift.max(largest, size)
        }
        return sum(count: count, magnitude: magnitude, largestTerm: largest, depth: depth, safety: safety)
    }

    /// The rounding of each element of a tensor that is a sum of `count` terms, given the
    /// tensor of Σ|aᵢ| per element: the largest magnitude sets the bound for all of them.
    public static func elementwise(count: Int, magnitudes: Tensor, depth: Int = 1, safety: Double = 4) -> Tolerance {
        let largest = magnitudes.data.reduce(0) { Swift.max($0, Double(Swift.abs($1))) }
        return sum(count: count, magnitude: largest, largestTerm: largest / Double(Swift.max(count, 1)),
                   depth: depth, safety: safety)
    }

    /// An absolute amount that is not rounding (for example the truncation error of a finite
    /// difference or of a quadrature rule), with the reason shown beside the check.
    public static func absolute(_ amount: Double, because reason: String) -> Tolerance {
        Tolerance(parts: [], extra: Swift.abs(amount), extraReason: reason)
    }

    /// Errors of two routes to the same number add.
    public static func + (lhs: Tolerance, rhs: Tolerance) -> Tolerance {
        let reasons = [lhs.extraReason, rhs.extraReason].compactMap { $0 }
        return Tolerance(parts: lhs.parts + rhs.parts, extra: lhs.extra + rhs.extra,
                         extraReason: reasons.isEmpty ? nil : reasons.joined(separator: " + "))
    }

    /// The same tolerance for a value `factor` times as large (Σ|aᵢ| and the largest term scale
    /// with it): a difference divided by a step, or a sum stated Z times larger.
    public func scaled(by factor: Double) -> Tolerance {
        var copy = self
        for index in copy.parts.indices {
            copy.parts[index].magnitude *= Swift.abs(factor)
            copy.parts[index].largestTerm *= Swift.abs(factor)
        }
        copy.extra *= Swift.abs(factor)
        return copy
    }

    /// The same tolerance with every route's depth multiplied, for a value that went through
    /// `layers` more sums.
    public func deeper(by layers: Int) -> Tolerance {
        var copy = self
        for index in copy.parts.indices { copy.parts[index].depth *= Swift.max(layers, 1) }
        return copy
    }

    /// How the tolerance was made, e.g. "4·1·γ₅₁₃·Σ|aᵢ| (Σ|aᵢ| = 812.5) = 0.0995".
    public var description: String {
        if parts.isEmpty && extra == 0 { return "exact" }
        // Equal routes are written once with their count: "2 × 4·γ₆₄·Σ|a| (Σ|a| = 0.923)".
        var groups: [(part: Part, times: Int)] = []
        for part in parts {
            if let index = groups.firstIndex(where: { $0.part == part }) { groups[index].times += 1 } else { groups.append((part, 1)) }
        }
        var pieces = groups.map { group -> String in
            let part = group.part
            let times = group.times == 1 ? "" : "\(group.times) × "
            let depth = part.depth == 1 ? "" : "\(part.depth)·"
            return "\(times)\(Tolerance.formatted(part.safety))·\(depth)γ\(Self.subscripted(part.count))·Σ|a| (Σ|a| = \(Tolerance.formatted(part.magnitude)))"
        }
        if extra > 0 { pieces.append(Tolerance.formatted(extra) + (extraReason.map { " (\($0))" } ?? "")) }
        return pieces.joined(separator: " + ") + " = " + Tolerance.formatted(value)
    }

    static func formatted(_ value: Double) -> String { String(format: "%.3g", value) }

    static func subscripted(_ count: Int) -> String {
        let digits: [Character] = ["₀", "₁", "₂", "₃", "₄", "₅", "₆", "₇", "₈", "₉"]
        return String(String(count).map { $0.wholeNumberValue.map { digits[$0] } ?? $0 })
    }
}

/// A verified claim: two numbers that the math says must agree, computed two different
/// ways, or a qualitative statement that must hold. Lessons prove what they teach with these,
/// and `tutor explain` checks its identities with them.
///
/// Every numeric check takes its tolerance from the float32 error model (`Tolerance`), so it
/// shows both sides, the residual, the tolerance and how the tolerance was made:
///
///     Check.equal("S_c = Σ M_c", "S_c", score, "Σ M_c", camSum, tolerance: .sum(of: terms))
///     Check.truth("channel 3 ranks first", "argmax of α = 3", ranking[0] == 3)
public struct Check: Sendable, Equatable {
    public enum Kind: String, Sendable {
        /// ok when |left − right| ≤ tolerance.
        case absolute
        /// A statement that holds or not; left is 1 when it holds, right is 1.
        case truth
    }

    public var name: String
    public var leftLabel: String
    public var left: Double
    public var rightLabel: String
    public var right: Double
    /// |left − right| (for tensors: the largest element-wise |left − right|).
    public var residual: Double
    /// The bound the residual must meet: `model.value`.
    public var tolerance: Double
    /// How the tolerance was made (nil for a statement).
    public var model: Tolerance?
    public var kind: Kind
    public var ok: Bool
    /// Extra detail, e.g. where two tensors differ most: "max |Δ| at [2, 0, 5] of [3, 7, 7]".
    public var note: String?

    public init(name: String, leftLabel: String, left: Double, rightLabel: String, right: Double,
                residual: Double, tolerance: Tolerance?, kind: Kind, ok: Bool, note: String? = nil) {
        self.name = name
        self.leftLabel = leftLabel
        self.left = left
        self.rightLabel = rightLabel
        self.right = right
        self.residual = residual
        self.model = tolerance
        self.tolerance = tolerance?.value ?? 0
        self.kind = kind
        self.ok = ok
        self.note = note
    }

    /// residual / tolerance: how much of its room the check used (0 … 1 when it passes).
    public var usedFraction: Double {
        tolerance > 0 ? residual / tolerance : (residual == 0 ? 0 : .infinity)
    }

    /// A passing check whose tolerance is at least |left| + |right|: it would pass with either
    /// side's sign flipped, or with either side zero, so all it shows is that the residual is
    /// small against a bound as large as the values. Error bounds grow with the terms summed
    /// and the depth (docs/numerics.md); on a ResNet-34 a few ledgers get there. A check that
    /// a value vanishes (a side exactly 0) is not coarse: small is what it claims.
    public var isCoarse: Bool {
        kind == .absolute && ok && left != 0 && right != 0 && tolerance >= abs(left) + abs(right)
    }

    /// Whether the check would pass had its left side come out as `value` (the right side and
    /// the tolerance unchanged): how tests break one side of an identity the way a bug would.
    public func passes(withLeft value: Double) -> Bool {
        guard kind == .absolute else { return ok }
        return value.isFinite && right.isFinite && abs(value - right) <= tolerance
    }

    /// Two numbers that must agree within `tolerance`. NaN or infinite values never pass.
    public static func equal(_ name: String, _ leftLabel: String, _ left: Double,
                             _ rightLabel: String, _ right: Double, tolerance: Tolerance) -> Check {
        let residual = abs(left - right)
        let ok = left.isFinite && right.isFinite && residual <= tolerance.value
        return Check(name: name, leftLabel: leftLabel, left: left, rightLabel: rightLabel, right: right,
                     residual: residual, tolerance: tolerance, kind: .absolute, ok: ok)
    }

    /// Two tensors of the same shape that must agree element by element:
    ///
    ///     residual = max_i |left_i − right_i| ≤ tolerance
    ///
    /// `left` and `right` record the two values where they differ most (so residual =
    /// |left − right| still holds). Different shapes, NaN or infinite values never pass.
    public static func equal(_ name: String, _ leftLabel: String, _ left: Tensor,
                             _ rightLabel: String, _ right: Tensor, tolerance: Tolerance) -> Check {
        guard left.shape == right.shape else {
            return Check(name: name, leftLabel: leftLabel, left: .nan, rightLabel: rightLabel, right: .nan,
                         residual: .infinity, tolerance: tolerance, kind: .absolute, ok: false,
                         note: "shapes differ: \(left.shape) and \(right.shape)")
        }
        guard !left.data.isEmpty else {
            return Check(name: name, leftLabel: leftLabel, left: 0, rightLabel: rightLabel, right: 0,
                         residual: 0, tolerance: tolerance, kind: .absolute, ok: true, note: "empty tensors \(left.shape)")
        }
        var worstIndex = 0
        var worst = -1.0
        var allFinite = true
        for index in left.data.indices {
            let a = Double(left.data[index])
            let b = Double(right.data[index])
            if !a.isFinite || !b.isFinite { allFinite = false }
            let difference = abs(a - b)
            if difference > worst || difference.isNaN && !worst.isNaN {
                worst = difference
                worstIndex = index
            }
        }
        let a = Double(left.data[worstIndex])
        let b = Double(right.data[worstIndex])
        let residual = abs(a - b)
        let position = multiIndex(of: worstIndex, in: left.shape)
        return Check(name: name, leftLabel: leftLabel, left: a, rightLabel: rightLabel, right: b,
                     residual: residual, tolerance: tolerance, kind: .absolute,
                     ok: allFinite && residual <= tolerance.value,
                     note: "max |Δ| at [\(position.map(String.init).joined(separator: ", "))] of \(left.shape)")
    }

    /// A qualitative claim, e.g. `.truth("channel 3 ranks first", "argmax α = 3", best == 3)`.
    public static func truth(_ name: String, _ statement: String, _ ok: Bool) -> Check {
        Check(name: name, leftLabel: statement, left: ok ? 1 : 0, rightLabel: "true", right: 1,
              residual: ok ? 0 : 1, tolerance: nil, kind: .truth, ok: ok)
    }
    /// The index of each axis for a row-major offset.
    private static func multiIndex(of offset: Int, in shape: [Int]) -> [Int] {
        var remainder = offset
        var indices = [Int](repeating: 0, count: shape.count)
        for axis in stride(from: shape.count - 1, through: 0, by: -1) where shape[axis] > 0 {
            indices[axis] = remainder % shape[axis]
            remainder /= shape[axis]
        }
        return indices
    }
}

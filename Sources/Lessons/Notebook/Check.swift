import MiniNet

/// A verified claim: two numbers that the math says must agree, computed two different
/// ways, or a qualitative statement that must hold. Lessons prove what they teach with these.
///
///     Check.equal("S_c = Σ M_c", "S_c", score, "Σ M_c", camSum, tolerance: 1e-5)
///     Check.equal("∂y/∂x by hand", "backward", grad, "finite differences", numeric, tolerance: 1e-3)
///     Check.truth("channel 3 ranks first", "argmax of α = 3", ranking[0] == 3)
public struct Check: Sendable, Equatable {
    public enum Kind: String, Sendable {
        /// ok when |left − right| ≤ tolerance.
        case absolute
        /// ok when |left − right| ≤ tolerance · max(|left|, |right|).
        case relative
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
    public var tolerance: Double
    public var kind: Kind
    public var ok: Bool
    /// Extra detail, e.g. where two tensors differ most: "worst at [2, 0, 5] of [3, 7, 7]".
    public var note: String?

    public init(name: String, leftLabel: String, left: Double, rightLabel: String, right: Double,
                residual: Double, tolerance: Double, kind: Kind, ok: Bool, note: String? = nil) {
        self.name = name
        self.leftLabel = leftLabel
        self.left = left
        self.rightLabel = rightLabel
        self.right = right
        self.residual = residual
        self.tolerance = tolerance
        self.kind = kind
        self.ok = ok
        self.note = note
    }

    /// residual / max(|left|, |right|): the error in proportion to the numbers compared.
    public var relativeResidual: Double {
        let scale = Swift.max(abs(left), abs(right))
        return scale > 0 ? residual / scale : residual
    }

    /// Two numbers that must agree within `tolerance` (absolute, or `relative` to the larger
    /// of |left| and |right|). NaN or infinite values never pass.
    public static func equal(_ name: String, _ leftLabel: String, _ left: Double,
                             _ rightLabel: String, _ right: Double,
                             tolerance: Double, relative: Bool = false) -> Check {
        let residual = abs(left - right)
        let bound = relative ? tolerance * Swift.max(abs(left), abs(right)) : tolerance
        let ok = left.isFinite && right.isFinite && residual <= bound
        return Check(name: name, leftLabel: leftLabel, left: left, rightLabel: rightLabel, right: right,
                     residual: residual, tolerance: tolerance, kind: relative ? .relative : .absolute, ok: ok)
    }

    /// Two tensors of the same shape that must agree element by element:
    ///
    ///     residual = max_i |left_i − right_i|
    ///
    /// `left` and `right` record the two values where they differ most (so residual =
    /// |left − right| still holds). With `relative`, ok when residual ≤ tolerance · max_i |right_i|.
    /// Different shapes, NaN or infinite values never pass.
    public static func equal(_ name: String, _ leftLabel: String, _ left: Tensor,
                             _ rightLabel: String, _ right: Tensor,
                             tolerance: Double, relative: Bool = false) -> Check {
        let kind: Kind = relative ? .relative : .absolute
        guard left.shape == right.shape else {
            return Check(name: name, leftLabel: leftLabel, left: .nan, rightLabel: rightLabel, right: .nan,
                         residual: .infinity, tolerance: tolerance, kind: kind, ok: false,
                         note: "shapes differ: \(left.shape) and \(right.shape)")
        }
        var worstIndex = 0
        var worst = -1.0
        var allFinite = true
        var largestRight = 0.0
        for index in left.data.indices {
            let a = Double(left.data[index])
            let b = Double(right.data[index])
            if !a.isFinite || !b.isFinite { allFinite = false }
            largestRight = Swift.max(largestRight, abs(b))
            let difference = abs(a - b)
            if difference > worst || difference.isNaN && !worst.isNaN {
                worst = difference
                worstIndex = index
            }
        }
        guard !left.data.isEmpty else {
            return Check(name: name, leftLabel: leftLabel, left: 0, rightLabel: rightLabel, right: 0,
                         residual: 0, tolerance: tolerance, kind: kind, ok: true, note: "empty tensors \(left.shape)")
        }
        let a = Double(left.data[worstIndex])
        let b = Double(right.data[worstIndex])
        let residual = abs(a - b)
        let bound = relative ? tolerance * largestRight : tolerance
        let position = multiIndex(of: worstIndex, in: left.shape)
        return Check(name: name, leftLabel: leftLabel, left: a, rightLabel: rightLabel, right: b,
                     residual: residual, tolerance: tolerance, kind: kind,
                     ok: allFinite && residual <= bound,
                     note: "max |Δ| at [\(position.map(String.init).joined(separator: ", "))] of \(left.shape)")
    }

    /// A qualitative claim, e.g. `.truth("channel 3 ranks first", "argmax α = 3", best == 3)`.
    public static func truth(_ name: String, _ statement: String, _ ok: Bool) -> Check {
        Check(name: name, leftLabel: statement, left: ok ? 1 : 0, rightLabel: "true", right: 1,
              residual: ok ? 0 : 1, tolerance: 0, kind: .truth, ok: ok)
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

/// How LRP treats one kind of layer on the way back.
public enum LRPTreatment: Equatable, Sendable, CustomStringConvertible {
    /// A linear layer (Conv2d, Linear, or average pooling seen as weights 1/Z): apply the rule.
    case rule(LRPRule)
    /// ReLU: the relevance passes through unchanged (R_in = R_out). The ReLU already decided
    /// which neurons are on; their relevance was computed by the linear layer after them.
    case passThrough
    /// MaxPool: each window's relevance goes to the input that won the max (its gradient path).
    case toWinner
    /// Flatten: the same numbers under the input's shape.
    case reshape
    /// A container (Sequential, Residual): its children are treated one by one.
    case container

    public var description: String {
        switch self {
        case let .rule(rule): return rule.description
        case .passThrough: return "pass-through"
        case .toWinner: return "to the max winner"
        case .reshape: return "reshape"
        case .container: return "container"
        }
    }
}

/// Which rule applies to which layer, like a Zennit composite.
///
/// Default: one rule for every Conv2d and Linear; ReLU passes relevance through; MaxPool gives
/// it to the winner; global average pooling splits it in proportion to each input's
/// contribution a_j/Z (LRP-0 on a linear layer with weights 1/Z); Flatten reshapes.
/// A residual addition s = body(x) + shortcut(x) splits R_s in proportion to each branch's
/// contribution (`residualSum`, see `splitResidualRelevance`). BatchNorm has no rule: merge it
/// into the convolution before it first (`mergingBatchNorm`). Only a neutral BatchNorm
/// (μ = 0, σ² = 1, γ = 1, β = 0, what Zennit's canonizer leaves behind) passes R through.
///
/// Two flags reproduce shortcuts that hand-written LRP code often takes (the source article's
/// ResNet code does both). They are here so the lessons can compare them with the canonical
/// treatment, not because they are right:
/// - `batchNormPassThrough`: BatchNorm hands R on unchanged, as if it were not there. The
///   convolution before it then shares R by its own z, which is not what the network added up
///   (BatchNorm scales, shifts and may flip the sign of each channel). Zennit's composites do
///   the same (Pass on BatchNorm), which is harmless only after its canonizer has merged it.
/// - `residualBodyOnly`: a residual block sends all of R_s into its body and none into the
///   shortcut, as if the block were the plain chain body(x).
public struct LRPRuleMap: Sendable {
    /// The rule for Conv2d and Linear layers.
    public var linear: LRPRule
    /// The rule for average pooling (a linear layer with weights 1/Z). Zennit uses its Norm
    /// rule there, which is `.epsilon(1e-6)`.
    public var averagePool: LRPRule
    /// The rule for the sum of a residual block's two branches (Zennit: Norm, `.epsilon(1e-6)`).
    public var residualSum: LRPRule
    /// BatchNorm passes R through unchanged instead of being an error (see above).
    public var batchNormPassThrough: Bool
    /// A residual block gives all of R_s to its body, nothing to the shortcut (see above).
    public var residualBodyOnly: Bool

    public init(linear: LRPRule, averagePool: LRPRule = .zero, residualSum: LRPRule = .zero,
                batchNormPassThrough: Bool = false, residualBodyOnly: Bool = false) {
        self.linear = linear
        self.averagePool = averagePool
        self.residualSum = residualSum
        self.batchNormPassThrough = batchNormPassThrough
        self.residualBodyOnly = residualBodyOnly
    }

    /// Zennit's composite of its built-in layer map with the epsilon rule on every Conv2d and
    /// Linear: Epsilon(ε) there, Norm (= `.epsilon(1e-6)`) on average pooling and on the
    /// residual addition, Pass on ReLU, the plain gradient through MaxPool. Use it on a network
    /// whose BatchNorm is merged (`mergingBatchNorm`, Zennit's canonizer).
    public static func zennitEpsilon(_ epsilon: Float) -> LRPRuleMap {
        LRPRuleMap(linear: .epsilon(epsilon), averagePool: .epsilon(1e-6), residualSum: .epsilon(1e-6))
    }

    /// The treatment of `layer`, or a one-line error for a layer LRP cannot handle.
    public func treatment(for layer: Layer) throws -> LRPTreatment {
        switch layer {
        case is Conv2d, is Linear: return .rule(linear)
        case is GlobalAveragePool: return .rule(averagePool)
        case is ReLU: return .passThrough
        case is MaxPool2d: return .toWinner
        case is Flatten: return .reshape
        case is Sequential, is Residual: return .container
        case let batchNorm as BatchNorm2d where batchNormPassThrough || isNeutral(batchNorm):
            // Zennit's composites give BatchNorm the Pass rule too; after its canonizer only
            // the neutral BatchNorm it leaves behind is left for that rule.
            return .passThrough
        case is BatchNorm2d:
            throw MiniNetError.invalidArgument("\(layer.name): LRP has no rule for BatchNorm2d; merge it into the convolution before it (canonize)")
        default:
            throw MiniNetError.invalidArgument("\(layer.name): LRP has no rule for \(layer.typeName)")
        }
    }
}

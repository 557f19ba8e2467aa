/// Composites: which rule applies to which layer (Zennit's composites.py). A composite is data
/// too: an `LRPRuleMap` from layer kinds (and the first layer's position) to `LRPRule`s, with the
/// name Zennit gives it and an id for the command line.

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

/// A rule for the network's first layer (Zennit's `first_map`): the first layer of the given
/// kind in the order the network runs its layers (its first convolution for EpsilonGammaBox,
/// its first convolution or dense layer for EpsilonPlusFlat).
public struct LRPFirstLayerRule: Equatable, Sendable {
    public enum Kind: Equatable, Sendable {
        /// the first Conv2d (Zennit's `Convolution`)
        case convolution
        /// the first Conv2d or Linear (Zennit's `Linear`, which includes convolutions)
        case convolutionOrDense
    }
    public var kind: Kind
    public var rule: LRPRule

    public init(_ kind: Kind, _ rule: LRPRule) { (self.kind, self.rule) = (kind, rule) }

    /// Whether `layer` is of the kind this rule looks for.
    public func matches(_ layer: Layer) -> Bool {
        switch kind {
        case .convolution: return layer is Conv2d
        case .convolutionOrDense: return layer is Conv2d || layer is Linear
        }
    }

    /// The first layer of `network` (in the order `allLayers` lists them, which is the order they
    /// run in) that this rule applies to.
    public func firstLayer(in network: Layer) -> Layer? {
        network.allLayers.first(where: matches)
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
public struct LRPRuleMap: Equatable, Sendable {
    /// The rule for Conv2d layers.
    public var convolution: LRPRule
    /// The rule for Linear (dense) layers.
    public var dense: LRPRule
    /// A rule that replaces the one above for the network's first layer of a kind, or nil.
    public var firstLayer: LRPFirstLayerRule?
    /// The rule for average pooling (a linear layer with weights 1/Z). Zennit uses its Norm
    /// rule there, which is `.epsilon(1e-6)`.
    public var averagePool: LRPRule
    /// The rule for the sum of a residual block's two branches (Zennit: Norm, `.epsilon(1e-6)`).
    public var residualSum: LRPRule
    /// BatchNorm passes R through unchanged instead of being an error (see above).
    public var batchNormPassThrough: Bool
    /// A residual block gives all of R_s to its body, nothing to the shortcut (see above).
    public var residualBodyOnly: Bool

    /// The rule for Conv2d and Linear layers alike (reading it gives the convolutions' rule).
    public var linear: LRPRule {
        get { convolution }
        set { (convolution, dense) = (newValue, newValue) }
    }

    /// One rule for every Conv2d and Linear layer.
    public init(linear: LRPRule, averagePool: LRPRule = .zero, residualSum: LRPRule = .zero,
                batchNormPassThrough: Bool = false, residualBodyOnly: Bool = false) {
        self.init(convolution: linear, dense: linear, averagePool: averagePool, residualSum: residualSum,
                  batchNormPassThrough: batchNormPassThrough, residualBodyOnly: residualBodyOnly)
    }

    public init(convolution: LRPRule, dense: LRPRule, firstLayer: LRPFirstLayerRule? = nil,
                averagePool: LRPRule = .zero, residualSum: LRPRule = .zero,
                batchNormPassThrough: Bool = false, residualBodyOnly: Bool = false) {
        self.convolution = convolution
        self.dense = dense
        self.firstLayer = firstLayer
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
    /// `isFirstLayer`: whether `layer` is the one `firstLayer` picked in this network.
    public func treatment(for layer: Layer, isFirstLayer: Bool = false) throws -> LRPTreatment {
        if isFirstLayer, let firstLayer, firstLayer.matches(layer) { return .rule(firstLayer.rule) }
        switch layer {
        case is Conv2d: return .rule(convolution)
        case is Linear: return .rule(dense)
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

/// The range a network's input can take, per channel: the pixel range 0…1 after normalisation,
///
///     low_c = (0 − mean_c) / std_c,      high_c = (1 − mean_c) / std_c
///
/// (for ImageNet's normalisation about −2.12…2.25 for red). zB needs it on the first layer.
public struct LRPInputBounds: Equatable, Sendable {
    public var low: [Float]
    public var high: [Float]

    public init(low: [Float], high: [Float]) { (self.low, self.high) = (low, high) }

    /// The bounds of pixels in 0…1 normalised with (x − mean)/std per channel.
    public init(mean: [Float], std: [Float]) {
        low = zip(mean, std).map { (0 - $0) / $1 }
        high = zip(mean, std).map { (1 - $0) / $1 }
    }

    /// The bounds of the classifier's own normalisation (its model file's mean and std).
    public init(classifier: ImageClassifier) {
        self.init(mean: classifier.spec.mean, std: classifier.spec.std)
    }
}

/// A named composite: a rule map under the name Zennit gives it.
///
/// Every composite shares Zennit's base layer map (`layer_map_base`): Pass on ReLU (and on the
/// neutral BatchNorm its canonizer leaves), Norm (ε = 1e-6) on average pooling and on the
/// residual addition, the plain gradient through MaxPool and Flatten. They differ on Conv2d,
/// Linear and the first layer:
///
/// | id                   | Zennit             | first layer       | Conv2d  | Linear |
/// |----------------------|--------------------|-------------------|---------|--------|
/// | epsilon              | (base + Epsilon)   | —                 | ε       | ε      |
/// | epsilon-plus         | EpsilonPlus        | —                 | z⁺      | ε      |
/// | epsilon-plus-flat    | EpsilonPlusFlat    | flat (conv/dense) | z⁺      | ε      |
/// | epsilon-gamma-box    | EpsilonGammaBox    | zᴮ (conv)         | γ = 0.25| ε      |
/// | epsilon-alpha2-beta1 | EpsilonAlpha2Beta1 | —                 | α2β1    | ε      |
///
/// ε defaults to Zennit's 1e-6; the other rules use Zennit's stabiliser 1e-6. Run them on a
/// network whose BatchNorm is merged into the convolutions (`mergingBatchNorm`).
public struct LRPComposite: Equatable, Sendable, CustomStringConvertible {
    /// The id for `--composite`, e.g. "epsilon-gamma-box".
    public let id: String
    /// Zennit's class name, e.g. "EpsilonGammaBox".
    public let zennitName: String
    /// One line: which rule goes where.
    public let summary: String
    public let ruleMap: LRPRuleMap

    public init(id: String, zennitName: String, summary: String, ruleMap: LRPRuleMap) {
        (self.id, self.zennitName, self.summary, self.ruleMap) = (id, zennitName, summary, ruleMap)
    }

    public var description: String { "\(zennitName) (\(summary))" }

    /// The ids `--composite` accepts, in the order help lists them.
    public static let ids = ["epsilon", "epsilon-plus", "epsilon-plus-flat", "epsilon-gamma-box", "epsilon-alpha2-beta1"]

    /// Zennit's default ε of its composites.
    public static let defaultEpsilon: Float = 1e-6

    /// The composite with this id. `inputBounds` is needed by epsilon-gamma-box only (zB on the
    /// first layer); `epsilon` is the ε of the ε rule, `gamma` the γ of the γ rule.
    public static func named(_ id: String, inputBounds: LRPInputBounds? = nil, epsilon: Float = defaultEpsilon,
                             gamma: Float = 0.25) throws -> LRPComposite {
        switch id {
        case "epsilon": return .epsilon(epsilon)
        case "epsilon-plus": return .epsilonPlus(epsilon: epsilon)
        case "epsilon-plus-flat": return .epsilonPlusFlat(epsilon: epsilon)
        case "epsilon-gamma-box":
            guard let inputBounds else {
                throw MiniNetError.invalidArgument("epsilon-gamma-box needs the input's bounds (the normalisation's (0 − mean)/std and (1 − mean)/std)")
            }
            return .epsilonGammaBox(bounds: inputBounds, epsilon: epsilon, gamma: gamma)
        case "epsilon-alpha2-beta1": return .epsilonAlpha2Beta1(epsilon: epsilon)
        default:
            throw MiniNetError.invalidArgument("unknown LRP composite '\(id)'; the composites are: \(ids.joined(separator: ", "))")
        }
    }

    /// The composite with this id for `classifier`, whose normalisation gives zB its bounds.
    public static func named(_ id: String, for classifier: ImageClassifier, epsilon: Float = defaultEpsilon,
                             gamma: Float = 0.25) throws -> LRPComposite {
        try named(id, inputBounds: LRPInputBounds(classifier: classifier), epsilon: epsilon, gamma: gamma)
    }

    /// The layer map every Zennit composite starts from, with `convolution`, `dense` and
    /// `firstLayer` on top: Norm (ε = 1e-6) on average pooling and the residual sum.
    static func base(convolution: LRPRule, dense: LRPRule, firstLayer: LRPFirstLayerRule? = nil) -> LRPRuleMap {
        LRPRuleMap(convolution: convolution, dense: dense, firstLayer: firstLayer,
                   averagePool: .epsilon(LRPRule.defaultStabilizer), residualSum: .epsilon(LRPRule.defaultStabilizer))
    }

    /// ε everywhere (what `--method lrp-epsilon` runs): `LRPRuleMap.zennitEpsilon(ε)`. Zennit
    /// 0.5.1 has no class for it; it is its base layer map plus Epsilon on Conv2d and Linear.
    public static func epsilon(_ epsilon: Float = defaultEpsilon) -> LRPComposite {
        LRPComposite(id: "epsilon", zennitName: "Epsilon", summary: "ε on Conv2d and Linear",
                     ruleMap: base(convolution: .epsilon(epsilon), dense: .epsilon(epsilon)))
    }

    /// EpsilonPlus: z⁺ on every convolution, ε on dense layers.
    public static func epsilonPlus(epsilon: Float = defaultEpsilon) -> LRPComposite {
        LRPComposite(id: "epsilon-plus", zennitName: "EpsilonPlus", summary: "z⁺ on Conv2d, ε on Linear",
                     ruleMap: base(convolution: .zPlus, dense: .epsilon(epsilon)))
    }

    /// EpsilonPlusFlat: flat on the first linear layer (convolution or dense), z⁺ on the other
    /// convolutions, ε on the other dense layers.
    public static func epsilonPlusFlat(epsilon: Float = defaultEpsilon) -> LRPComposite {
        LRPComposite(id: "epsilon-plus-flat", zennitName: "EpsilonPlusFlat",
                     summary: "flat on the first layer, z⁺ on Conv2d, ε on Linear",
                     ruleMap: base(convolution: .zPlus, dense: .epsilon(epsilon),
                                   firstLayer: LRPFirstLayerRule(.convolutionOrDense, .flat)))
    }

    /// EpsilonGammaBox: zB on the first convolution, γ on the other convolutions, ε on dense layers.
    public static func epsilonGammaBox(bounds: LRPInputBounds, epsilon: Float = defaultEpsilon,
                                       gamma: Float = 0.25) -> LRPComposite {
        LRPComposite(id: "epsilon-gamma-box", zennitName: "EpsilonGammaBox",
                     summary: "zᴮ on the first Conv2d, γ = \(LRPRule.shortNumber(gamma)) on the other Conv2d, ε on Linear",
                     ruleMap: base(convolution: .gamma(gamma), dense: .epsilon(epsilon),
                                   firstLayer: LRPFirstLayerRule(.convolution, .zBox(low: bounds.low, high: bounds.high))))
    }

    /// EpsilonAlpha2Beta1: αβ with α = 2, β = 1 on every convolution, ε on dense layers.
    public static func epsilonAlpha2Beta1(epsilon: Float = defaultEpsilon) -> LRPComposite {
        LRPComposite(id: "epsilon-alpha2-beta1", zennitName: "EpsilonAlpha2Beta1", summary: "α = 2, β = 1 on Conv2d, ε on Linear",
                     ruleMap: base(convolution: .alpha2Beta1, dense: .epsilon(epsilon)))
    }

    /// LRP-0 everywhere, on pooling and residual sums too (what `--method lrp-0` runs); not a Zennit composite.
    public static let lrpZero = LRPComposite(id: "lrp-0", zennitName: "LRP-0", summary: "LRP-0 on every linear layer",
                                             ruleMap: LRPRuleMap(linear: .zero))
}

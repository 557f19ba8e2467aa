/// LRP rules as data, the way Zennit's `BasicHook` describes them (zennit/core.py, rules.py).
///
/// A rule says how the relevance R_k at the output of a linear layer (Conv2d, Linear, or average
/// pooling seen as weights 1/Z) is shared out among the layer's inputs j. Every rule of Zennit is
/// the same recipe with different ingredients:
///
///     1. run the layer several times, each time on a modified input a' (a⁺, a⁻, 1, a bound)
///        with modified weights w' (w⁺, w⁻, 1, w + γw⁺) and, or without, the bias b';
///     2. add some of those outputs up into a denominator z and stabilise it: z + ε·sign(z);
///     3. s_k = R_k / (z_k + ε·sign z_k), and each run sends s back through its own weights:
///        c_j = Σ_k w'_jk s_k (the layer's backward pass, the "gradient trick");
///     4. combine: R_j = Σ over runs of (±) a'_j · c_j, the runs of a term multiplied by α or −β.
///
/// Here a run is an `LRPRulePart` (step 1), the runs that share a denominator form an
/// `LRPRuleTerm` (steps 2–3, with its factor α, −β or 1), and `LRPRule` lists the terms and the
/// stabiliser. `apply(to:input:relevance:output:)` (RuleApplication.swift) is the one piece of
/// code that runs any rule; no rule has code of its own.
///
/// Notation of the formulas below: a⁺ = max(0, a), a⁻ = min(0, a), so a = a⁺ + a⁻ (likewise w⁺,
/// w⁻, b⁺, b⁻); z_jk = a_j w_jk is input j's contribution to output k; sign(0) = +1.

/// What a rule feeds the layer instead of its input a (Zennit's `input_modifiers`).
public enum LRPInputModifier: Equatable, Sendable {
    /// a itself
    case identity
    /// a⁺ = max(0, a)
    case positivePart
    /// a⁻ = min(0, a)
    case negativePart
    /// 1 everywhere: only which inputs an output sees counts (flat rule)
    case ones
    /// one constant per channel, the same shape as a (zB's bounds l and h); one value for all channels
    case channelConstant([Float])

    /// a' for a layer input [N, C, …] (or [N, F]).
    func apply(to input: Tensor) -> Tensor {
        switch self {
        case .identity: return input
        case .positivePart: return input.clamped(below: true)
        case .negativePart: return input.clamped(below: false)
        case .ones: return Tensor(repeating: 1, shape: input.shape)
        case let .channelConstant(values):
            let channels = input.rank >= 2 ? input.shape[1] : 1
            let planeSize = input.count / Swift.max(input.shape.first ?? 1, 1) / Swift.max(channels, 1)
            var result = input
            for index in result.data.indices {
                result.data[index] = values.count == 1 ? values[0] : values[(index / Swift.max(planeSize, 1)) % channels]
            }
            return result
        }
    }

    /// Whether a' is 0 everywhere for this a, so that the run adds nothing (a⁻ of a ReLU's output).
    func vanishes(on input: Tensor) -> Bool {
        switch self {
        case .positivePart: return input.data.allSatisfy { $0 <= 0 }
        case .negativePart: return input.data.allSatisfy { $0 >= 0 }
        case .identity: return input.data.allSatisfy { $0 == 0 }
        case .ones: return false
        case let .channelConstant(values): return values.allSatisfy { $0 == 0 }
        }
    }
}

extension Tensor {
    /// a⁺ = max(0, a) (`below`: 0 is the floor) or a⁻ = min(0, a), value by value on every thread.
    func clamped(below: Bool) -> Tensor {
        Tensor(shape: shape) { part in
            data.withUnsafeBufferPointer { a in
                Parallel.forRanges(a.count) { range in
                    if below { for j in range { part[j] = Swift.max(a[j], 0) } }
                    else { for j in range { part[j] = Swift.min(a[j], 0) } }
                }
            }
        }
    }
}

/// What a rule does to every weight, and to every bias it keeps (Zennit's `param_modifiers`).
/// Each is a function of one number, so it applies to a convolution's kernel, a dense matrix, or
/// the weights 1/Z of average pooling alike.
public enum LRPParameterModifier: Equatable, Sendable {
    /// w
    case identity
    /// w⁺ = max(0, w)
    case positivePart
    /// w⁻ = min(0, w)
    case negativePart
    /// 1
    case ones
    /// w + γ·w⁺
    case plusGammaPositive(Float)
    /// w + γ·w⁻
    case plusGammaNegative(Float)

    public func apply(_ w: Float) -> Float {
        switch self {
        case .identity: return w
        case .positivePart: return Swift.max(w, 0)
        case .negativePart: return Swift.min(w, 0)
        case .ones: return 1
        case let .plusGammaPositive(gamma): return w + gamma * Swift.max(w, 0)
        case let .plusGammaNegative(gamma): return w + gamma * Swift.min(w, 0)
        }
    }

    /// `apply` on every entry of a tensor. The case is chosen once, outside the loop, so that
    /// each loop is one the compiler turns into vector code (a network's weights are tens of MB).
    public func apply(to tensor: Tensor) -> Tensor {
        switch self {
        case .identity: return tensor
        case .ones: return Tensor(repeating: 1, shape: tensor.shape)
        default: break
        }
        return Tensor(shape: tensor.shape) { modified in
            tensor.data.withUnsafeBufferPointer { w in
                Parallel.forRanges(w.count) { range in
                    switch self {
                    case .identity, .ones: break                      // returned above
                    case .positivePart: for j in range { modified[j] = Swift.max(w[j], 0) }
                    case .negativePart: for j in range { modified[j] = Swift.min(w[j], 0) }
                    case let .plusGammaPositive(gamma): for j in range { modified[j] = w[j] + gamma * Swift.max(w[j], 0) }
                    case let .plusGammaNegative(gamma): for j in range { modified[j] = w[j] + gamma * Swift.min(w[j], 0) }
                    }
                }
            }
        }
    }
}

/// One run of the layer: z' = layer_{w', b'}(a'), counted with `sign` in its term's denominator
/// and in the relevance (zB subtracts its two bound runs).
public struct LRPRulePart: Equatable, Sendable {
    public var sign: Float
    public var input: LRPInputModifier
    public var parameters: LRPParameterModifier
    /// Whether the run adds the (modified) bias b'; false is Zennit's `zero_params=['bias']`.
    public var keepsBias: Bool

    public init(_ input: LRPInputModifier, _ parameters: LRPParameterModifier, keepsBias: Bool = true, sign: Float = 1) {
        (self.input, self.parameters, self.keepsBias, self.sign) = (input, parameters, keepsBias, sign)
    }

    /// a, w, b: the layer as it is.
    public static let plain = LRPRulePart(.identity, .identity)
}

/// Where a term passes relevance on: everywhere, or only where the layer's own output
/// z_k = Σ_j a_j w_jk + b_k is positive, or negative (the γ rule treats the two apart).
public enum LRPGate: Equatable, Sendable {
    case everywhere
    case positiveOutput
    case negativeOutput
}

/// Runs that share one denominator: z_k = Σ_parts sign · z'_k, s_k = gate_k · R_k / (z_k + ε·sign z_k),
/// and they contribute coefficient · Σ_parts sign · a' ⊙ (w'ᵀ s) to R_j.
public struct LRPRuleTerm: Equatable, Sendable {
    /// α, −β, or 1
    public var coefficient: Float
    public var gate: LRPGate
    public var parts: [LRPRulePart]

    public init(coefficient: Float = 1, gate: LRPGate = .everywhere, parts: [LRPRulePart]) {
        (self.coefficient, self.gate, self.parts) = (coefficient, gate, parts)
    }
}

/// What is added to a denominator before dividing.
public enum LRPStabilizer: Equatable, Sendable {
    /// Nothing: LRP-0 divides by z itself, and passes nothing back where z = 0 exactly (0/0 := 0).
    case none
    /// z + ε·sign(z), sign(0) = +1, as Zennit's `stabilize`: the denominator moves away from 0
    /// and never changes sign. (The article writes ε + z; the two agree when z > 0.)
    case epsilon(Float)

    /// ε, 0 for `.none`.
    public var epsilon: Float {
        if case let .epsilon(value) = self { return value }
        return 0
    }

    /// The stabilised denominator, or nil where `.none` meets z = 0.
    public func stabilize(_ z: Float) -> Float? {
        switch self {
        case .none: return z == 0 ? nil : z
        case let .epsilon(epsilon): return z + (z >= 0 ? epsilon : -epsilon)
        }
    }
}

/// An LRP rule: its terms and its stabiliser, plus a name for ledgers and tables.
public struct LRPRule: Equatable, Sendable, CustomStringConvertible {
    /// Short name with the rule's parameters, e.g. "LRP-ε (ε = 0.01)", "γ (γ = 0.25)".
    public let name: String
    public let terms: [LRPRuleTerm]
    public let stabilizer: LRPStabilizer

    public init(name: String, terms: [LRPRuleTerm], stabilizer: LRPStabilizer) {
        (self.name, self.terms, self.stabilizer) = (name, terms, stabilizer)
    }

    public var description: String { name }

    /// The ε of the denominator z + ε·sign(z): 0 for LRP-0.
    public var stabilizerEpsilon: Float { stabilizer.epsilon }

    /// The stabilised denominator z + ε·sign(z) (sign 0 = +1), or nil where LRP-0 meets z = 0.
    public func stabilize(_ z: Float) -> Float? { stabilizer.stabilize(z) }

    /// Zennit's default stabiliser of every rule but ε (its `stabilizer=1e-6`).
    public static let defaultStabilizer: Float = 1e-6

    // MARK: the rules

    /// LRP-0 (Bach et al. 2015): share R_k in proportion to the contributions.
    ///
    ///     R_j = Σ_k  a_j w_jk / z_k · R_k,        z_k = Σ_j a_j w_jk + b_k
    ///
    /// On a bias-free ReLU network this is gradient × input, and it conserves: Σ_j R_j = Σ_k R_k.
    public static let zero = LRPRule(name: "LRP-0", terms: [LRPRuleTerm(parts: [.plain])], stabilizer: .none)

    /// LRP-ε: LRP-0 with ε·sign(z_k) added to the denominator; absorbs the share ε/(z_k + ε·sign z_k)
    /// of R_k, most where z_k is small (weak or contradictory evidence).
    ///
    ///     R_j = Σ_k  a_j w_jk / (z_k + ε·sign z_k) · R_k
    public static func epsilon(_ epsilon: Float) -> LRPRule {
        LRPRule(name: "LRP-ε (ε = \(epsilon))", terms: [LRPRuleTerm(parts: [.plain])], stabilizer: .epsilon(epsilon))
    }

    /// z⁺ (Zennit's ZPlus, = αβ with α = 1, β = 0): only the positive contributions share R_k.
    /// A contribution a_j w_jk is positive when a and w have the same sign: a⁺w⁺ or a⁻w⁻.
    ///
    ///     R_j = Σ_k  (a⁺_j w⁺_jk + a⁻_j w⁻_jk) / (z⁺_k + ε) · R_k
    ///     z⁺_k = Σ_j (a⁺_j w⁺_jk + a⁻_j w⁻_jk) + b⁺_k
    ///
    /// After a ReLU (a ≥ 0) this is the classic z⁺ rule, a_j w⁺_jk / Σ_j a_j w⁺_jk. Every share is
    /// ≥ 0, so R keeps the sign of R_k; it conserves up to what b⁺ and ε keep.
    public static func zPlus(stabilizer: Float = defaultStabilizer) -> LRPRule {
        LRPRule(name: "z⁺", terms: [LRPRuleTerm(parts: positiveContributions)], stabilizer: .epsilon(stabilizer))
    }

    /// z⁺ with Zennit's stabiliser 1e-6.
    public static let zPlus = zPlus()

    /// αβ (Bach et al. 2015): positive and negative contributions shared out separately, the
    /// positive ones weighted by α and the negative ones by β.
    ///
    ///     R_j = Σ_k  ( α · z⁺_jk / (z⁺_k + ε)  −  β · z⁻_jk / (z⁻_k − ε) ) · R_k
    ///     z⁺_jk = a⁺_j w⁺_jk + a⁻_j w⁻_jk,   z⁺_k = Σ_j z⁺_jk + b⁺_k     (≥ 0)
    ///     z⁻_jk = a⁺_j w⁻_jk + a⁻_j w⁺_jk,   z⁻_k = Σ_j z⁻_jk + b⁻_k     (≤ 0)
    ///
    /// Each of the two terms hands on all of R_k, so the layer passes on (α − β)·R_k: with
    /// α − β = 1 it conserves (up to bias and ε), which is why that is required.
    public static func alphaBeta(alpha: Float, beta: Float, stabilizer: Float = defaultStabilizer) throws -> LRPRule {
        guard alpha >= 0 && beta >= 0 else {
            throw MiniNetError.invalidArgument("αβ rule: α = \(alpha) and β = \(beta) must both be ≥ 0")
        }
        guard alpha - beta == 1 else {
            throw MiniNetError.invalidArgument("αβ rule: α − β must equal 1 so that relevance is conserved, but α − β = \(alpha) − \(beta) = \(alpha - beta)")
        }
        return LRPRule(name: "αβ (α = \(shortNumber(alpha)), β = \(shortNumber(beta)))",
                       terms: [LRPRuleTerm(coefficient: alpha, parts: positiveContributions),
                               LRPRuleTerm(coefficient: -beta, parts: negativeContributions)],
                       stabilizer: .epsilon(stabilizer))
    }

    /// α = 2, β = 1, the αβ rule of Zennit's EpsilonAlpha2Beta1.
    public static let alpha2Beta1 = try! alphaBeta(alpha: 2, beta: 1)

    /// γ (Montavon et al. 2019), generalised to inputs of both signs as in Zennit (Andéol et al.
    /// 2021): the contributions that agree with the sign of z_k are boosted by the factor 1 + γ.
    ///
    ///     where z_k > 0:  R_j = Σ_k (a⁺_j (w + γw⁺)_jk + a⁻_j (w + γw⁻)_jk) / (z_k + γ z⁺_k + ε) · R_k
    ///     where z_k < 0:  R_j = Σ_k (a⁺_j (w + γw⁻)_jk + a⁻_j (w + γw⁺)_jk) / (z_k + γ z⁻_k − ε) · R_k
    ///     where z_k = 0:  R_k is not passed on
    ///
    /// with z_k = Σ_j a_j w_jk + b_k and z⁺_k, z⁻_k of the αβ rule. After a ReLU (a ≥ 0) and for
    /// z_k > 0 it is the classic a_j (w_jk + γw⁺_jk) / Σ_j a_j (w_jk + γw⁺_jk). γ = 0 gives LRP-ε
    /// with a tiny ε; γ → ∞ gives z⁺. It conserves up to bias and ε.
    public static func gamma(_ gamma: Float = 0.25, stabilizer: Float = defaultStabilizer) -> LRPRule {
        LRPRule(name: "γ (γ = \(shortNumber(gamma)))",
                terms: [LRPRuleTerm(gate: .positiveOutput,
                                    parts: [LRPRulePart(.positivePart, .plusGammaPositive(gamma)),
                                            LRPRulePart(.negativePart, .plusGammaNegative(gamma), keepsBias: false)]),
                        LRPRuleTerm(gate: .negativeOutput,
                                    parts: [LRPRulePart(.positivePart, .plusGammaNegative(gamma)),
                                            LRPRulePart(.negativePart, .plusGammaPositive(gamma), keepsBias: false)])],
                stabilizer: .epsilon(stabilizer))
    }

    /// zᴮ (Montavon et al. 2017), for the first layer, whose input lies in a box l ≤ a ≤ h (the
    /// pixel range after normalisation: l = (0 − mean)/std, h = (1 − mean)/std per channel).
    ///
    ///     R_j = Σ_k  (a_j w_jk − l_j w⁺_jk − h_j w⁻_jk) / (z_k + ε·sign z_k) · R_k
    ///     z_k = Σ_j (a_j w_jk − l_j w⁺_jk − h_j w⁻_jk)
    ///
    /// Every numerator is ≥ 0 inside the box (a − l ≥ 0 meets w⁺, a − h ≤ 0 meets w⁻). The biases
    /// of the three runs cancel (b − b⁺ − b⁻ = 0), so it conserves up to ε.
    ///
    /// - Parameters: low, high: l and h, one per input channel (or one for all).
    public static func zBox(low: [Float], high: [Float], stabilizer: Float = defaultStabilizer) -> LRPRule {
        LRPRule(name: "zᴮ",
                terms: [LRPRuleTerm(parts: [.plain,
                                            LRPRulePart(.channelConstant(low), .positivePart, sign: -1),
                                            LRPRulePart(.channelConstant(high), .negativePart, sign: -1)])],
                stabilizer: .epsilon(stabilizer))
    }

    /// flat (Lapuschkin et al. 2019): every output spreads its relevance evenly over the inputs it
    /// sees, ignoring both the input and the weights (all set to 1, no bias).
    ///
    ///     R_j = Σ_k  1 / (n_k + ε) · R_k,        n_k = the number of inputs output k sees
    ///
    /// (padding is not an input). It conserves up to ε. Used on the first layer, it makes the
    /// heatmap a smooth spread of the relevance that reached that layer.
    public static func flat(stabilizer: Float = defaultStabilizer) -> LRPRule {
        LRPRule(name: "flat", terms: [LRPRuleTerm(parts: [LRPRulePart(.ones, .ones, keepsBias: false)])],
                stabilizer: .epsilon(stabilizer))
    }

    /// flat with Zennit's stabiliser 1e-6.
    public static let flat = flat()

    // MARK: building blocks

    /// z⁺_jk: a⁺w⁺ (with b'⁺, the positive part of the modified bias) and a⁻w⁻ (no bias).
    static let positiveContributions = [LRPRulePart(.positivePart, .positivePart),
                                        LRPRulePart(.negativePart, .negativePart, keepsBias: false)]

    /// z⁻_jk: a⁺w⁻ (with b⁻) and a⁻w⁺ (no bias).
    static let negativeContributions = [LRPRulePart(.positivePart, .negativePart),
                                        LRPRulePart(.negativePart, .positivePart, keepsBias: false)]

    /// 2 for 2.0, 0.25 for 0.25: a parameter as a person writes it.
    static func shortNumber(_ value: Float) -> String {
        value == value.rounded() && Swift.abs(value) < 1e6 ? String(Int(value)) : "\(value)"
    }
}

/// The one function that applies any `LRPRule` to a linear layer, as Zennit's `BasicHook.backward`
/// does for every rule (zennit/core.py). It needs only the layer's forward and backward passes:
///
///     z'   = layer_{w', b'}(a')                      one forward pass per part of the rule
///     z    = Σ_parts sign · z'                       per term
///     s    = gate · R_out / (z + ε·sign z)           one number per output neuron and term
///     c    = w'ᵀ s                                   = that part's backward pass applied to s
///     R_in = Σ_terms coefficient · Σ_parts sign · a' ⊙ c
///
/// and keeps the ledger: where the relevance that did not reach the input went.

/// What a rule did at one layer: the relevance at the input, and where the rest went.
public struct RuleOutcome {
    /// Same shape as the layer's input: R_j.
    public var relevance: Tensor
    /// Σ_terms coefficient · Σ_k b'_k · s_k, with b'_k the term's bias (Σ_parts sign · b'):
    /// the share the biases keep.
    public var absorbedByBias: Double
    /// Σ_terms coefficient · Σ_k ε·sign(z_k) · s_k, plus any R_k that is not passed on at all
    /// (LRP-0 where z_k = 0, γ where the layer's output is exactly 0).
    public var absorbedByStabilizer: Double
    /// Same shape as the input: Σ_k |a'_j w'_jk s_k| over the rule's parts for every input j, the
    /// size of the terms the rule shared out to it (what the float32 rounding of R_j is measured against).
    public var termMagnitudes: Tensor? = nil
    /// Σ_k |s_k| · (|b'_k| + ε) over the terms: the size of the bias and ε terms of the ledger.
    public var absorbedMagnitude = 0.0
    /// The most terms in one float32 sum of the rule: each z' adds fan-in + 1 (with the bias), and
    /// c_j = Σ_k w'_jk s_k adds fan-out; an error of either moves the ledger by γ · Σ|terms|.
    public var sumLength = 0
}

extension LRPRule {
    /// `apply(to:input:relevance:output:measuringRounding:sharing:)` for one rule alone.
    public func apply(to layer: Layer, input: Tensor, relevance: Tensor, output: Tensor? = nil,
                      measuringRounding: Bool = true) throws -> RuleOutcome {
        try apply(to: layer, input: input, relevance: relevance, output: output, measuringRounding: measuringRounding,
                  sharing: nil)
    }

    /// Applies the rule to a Conv2d, Linear or GlobalAveragePool layer (a pooling layer is a
    /// linear layer with weights 1/Z and no bias).
    ///
    /// Because each term's z_k = Σ_parts sign · (Σ_j a'_j w'_jk + b'_k), the relevance balances exactly:
    ///
    ///     Σ_k R_k = Σ_j R_j + Σ_k b'_k s_k + Σ_k (ε·sign z_k) s_k (+ R not passed on)
    ///
    /// summed over the terms with their coefficients (α − β = 1 makes the αβ rule's add up to 1).
    ///
    /// - Parameters:
    ///   - input: a, the layer's input, [N, …]
    ///   - relevance: R_out, same shape as the layer's output, [N, …]
    ///   - output: z, the layer's output for this input when a recorded forward pass already
    ///     ran the layer on it (its backward cache is then still that pass's); nil to run it here.
    ///   - measuringRounding: also measure Σ|terms| (`termMagnitudes`, `absorbedMagnitude`), the
    ///     size the float32 rounding of this layer's ledger is bounded by. It costs one more
    ///     backward pass of the layer with |w'| per part (and, for a dense layer, its forward
    ///     pass); without it both stay nil and 0.
    ///   - sharing: the runs of parts already made at this layer for the same input by other rule
    ///     maps walking with this one (`RelevancePropagator`), and where this rule's new runs go.
    func apply(to layer: Layer, input: Tensor, relevance: Tensor, output: Tensor? = nil,
               measuringRounding: Bool = true, sharing: RuleRunCache?) throws -> RuleOutcome {
        let hadParameterGradients = layer.computesParameterGradients
        layer.setParameterGradients(false)
        defer { layer.setParameterGradients(hadParameterGradients) }

        // The layer's own output z = Σ_j a_j w_jk + b_k: the shape R must have, and the γ rule's gate.
        let plainOutput = output ?? layer.forward(input)
        guard plainOutput.shape == relevance.shape else {
            throw MiniNetError.invalidArgument("\(layer.name): relevance shape \(relevance.shape) does not match the output \(plainOutput.shape)")
        }
        // 1. One forward pass per part that can contribute (a⁻ after a ReLU is 0: skipped). A
        // term of coefficient 0 (αβ's β = 0) adds 0 · its parts to R_j and 0 to the ledger: skipped.
        let terms = self.terms.filter { $0.coefficient != 0 }
        let runs = try terms.map { term in
            try term.parts.compactMap { part in
                let make = { try RuleRun(part: part, layer: layer, input: input, plainOutput: plainOutput) }
                return try sharing.map { try $0.run(of: part, make: make) } ?? make()
            }
        }
        let channels = plainOutput.rank >= 2 ? plainOutput.shape[1] : 1
        let planeSize = plainOutput.rank >= 2 ? plainOutput.count / Swift.max(plainOutput.shape[0] * channels, 1) : 1
        let epsilon = stabilizerEpsilon

        // 2. Each term's denominator and shares s_k, and the ledger.
        var shares: [Tensor] = []
        var absorbedByBias = 0.0
        var absorbedByStabilizer = 0.0
        var absorbedMagnitude = 0.0
        for (term, termRuns) in zip(terms, runs) {
            let z = Self.denominator(termRuns, shape: plainOutput.shape)
            let (termBias, termBiasSize) = Self.bias(termRuns, channels: channels)
            let coefficient = Double(term.coefficient)
            var share = Tensor(shape: z.shape) { _ in }    // s_k, every entry written below
            // One plane (image n, channel o) at a time, so that b'_o is read once per plane; the
            // planes in parallel, each keeping its own sums, which are then added in plane order.
            // A share costs a division and three sums in Double, about 4 simple operations: so
            // weighted, a ResNet's 14 × 14 stage on one picture (256 planes of 196) is shared out
            // too (LRP-ε on a ResNet-34, 2 threads: 54 ms against 55–56 ms alone).
            let planes = z.count / Swift.max(planeSize, 1)
            // Per plane: Σ s_k, Σ (ε·sign z_k) s_k plus the R_k dropped, and Σ |s_k|.
            var planeSums = [(shares: Double, stabilized: Double, magnitude: Double)](repeating: (0, 0, 0), count: planes)
            let gate = term.gate
            let stabilizer = self.stabilizer
            z.data.withUnsafeBufferPointer { z in
                relevance.data.withUnsafeBufferPointer { relevance in
                    plainOutput.data.withUnsafeBufferPointer { plain in
                        share.data.withUnsafeMutableBufferPointer { share in
                            planeSums.withUnsafeMutableBufferPointer { planeSums in
                                Parallel.forEach(planes, cost: 4 * planeSize) { plane in
                                    planeSums[plane] = Self.shareOut((plane * planeSize)..<((plane + 1) * planeSize), z: z,
                                                                     relevance: relevance, plain: plain, gate: gate,
                                                                     stabilizer: stabilizer, into: share)
                                }
                            }
                        }
                    }
                }
            }
            for (plane, sums) in planeSums.enumerated() {
                absorbedByStabilizer += coefficient * sums.stabilized
                absorbedByBias += coefficient * (termBias[plane % channels] * sums.shares)
                if measuringRounding {
                    absorbedMagnitude += Swift.abs(coefficient) * sums.magnitude * (termBiasSize[plane % channels] + Double(epsilon))
                }
            }
            shares.append(share)
        }
        // R_k that no term passes on (the γ rule where z_k = 0): Σ_terms coefficient · gate ≠ 1.
        absorbedByStabilizer += notPassedOn(relevance: relevance, plainOutput: plainOutput)

        // 3. Back through each part's own weights, and the parts combined as the terms say.
        var inputRelevance: Tensor?
        var magnitudes: Tensor?
        let (fanIn, fanOut) = try Self.fans(of: layer, input: input)
        for (index, (term, termRuns)) in zip(terms, runs).enumerated() {
            var positive: Tensor?, negative: Tensor?            // Σ a' ⊙ c over the parts of each sign
            for run in termRuns {
                let contribution = sharing?.contribution(of: run, shares: shares[index]) ?? run.contribution(shares[index])
                if run.part.sign > 0 { positive = positive.map { $0 + contribution } ?? contribution }
                else { negative = negative.map { $0 + contribution } ?? contribution }
                if measuringRounding {
                    let size = try run.termMagnitudes(shares: shares[index]) * Swift.abs(term.coefficient)
                    magnitudes = magnitudes.map { $0 + size } ?? size
                }
            }
            var termRelevance = positive ?? Tensor(zeros: input.shape)
            if let negative { termRelevance = termRelevance - negative }
            if term.coefficient != 1 { termRelevance = termRelevance * term.coefficient }
            inputRelevance = inputRelevance.map { $0 + termRelevance } ?? termRelevance
        }
        // Each part's z' adds fan-in + 1 terms, its c adds fan-out, and the parts' results are added.
        let runCount = runs.joined().count
        let sumLength = runCount * (fanIn + 1) + fanOut + Swift.max(runCount - 1, 0)
        return RuleOutcome(relevance: inputRelevance ?? Tensor(zeros: input.shape), absorbedByBias: absorbedByBias,
                           absorbedByStabilizer: absorbedByStabilizer,
                           termMagnitudes: measuringRounding ? (magnitudes ?? Tensor(zeros: input.shape)) : nil,
                           absorbedMagnitude: absorbedMagnitude, sumLength: sumLength)
    }

    /// One plane's shares, s_k = gate_k · R_k / (z_k + ε·sign z_k) for k in `range` (0 where the
    /// gate is shut, and where LRP-0 meets z_k = 0, whose R_k is dropped), written to `share`,
    /// and the plane's three sums in Double:
    ///
    ///     shares = Σ_k s_k,   stabilized = Σ_k (ε·sign z_k) s_k + Σ_{dropped k} R_k,   magnitude = Σ_k |s_k|
    ///
    /// Eight k at a time, each sum in eight lanes (k − range.lowerBound mod 8, as `sumInLanes`),
    /// the lanes added in order at the end and the last k mod 8 one by one: one order whatever
    /// the processor, and no addition waiting for the one before. Where a lane has nothing to
    /// add it adds an exact 0.
    static func shareOut(_ range: Range<Int>, z: UnsafeBufferPointer<Float>, relevance: UnsafeBufferPointer<Float>,
                         plain: UnsafeBufferPointer<Float>, gate: LRPGate, stabilizer: LRPStabilizer,
                         into share: UnsafeMutableBufferPointer<Float>) -> (shares: Double, stabilized: Double, magnitude: Double) {
        var (sharesLanes, stabilizedLanes, magnitudeLanes) = (SIMD8<Double>(), SIMD8<Double>(), SIMD8<Double>())
        var k = range.lowerBound
        let load = { (values: UnsafeBufferPointer<Float>, k: Int) in
            UnsafeRawPointer(values.baseAddress! + k).loadUnaligned(as: SIMD8<Float>.self)
        }
        while k + 8 <= range.upperBound {
            let (zk, rk) = (load(z, k), load(relevance, k))
            var open = SIMDMask<SIMD8<Int32>>(repeating: true)
            switch gate {
            case .everywhere: break
            case .positiveOutput: open = load(plain, k) .> 0
            case .negativeOutput: open = load(plain, k) .< 0
            }
            var denominator = zk
            var dropped = SIMDMask<SIMD8<Int32>>(repeating: false)
            switch stabilizer {
            case .none: dropped = open .& (zk .== 0)     // LRP-0 at z_k = 0 drops R_k
            case let .epsilon(epsilon):
                denominator = zk + SIMD8<Float>(repeating: -epsilon).replacing(with: epsilon, where: zk .>= 0)
            }
            let passes = open .& .!dropped
            let s = SIMD8<Float>().replacing(with: rk / denominator, where: passes)
            UnsafeMutableRawPointer(share.baseAddress! + k).storeBytes(of: s, as: SIMD8<Float>.self)
            let shareInDouble = SIMD8<Double>(s)
            sharesLanes += shareInDouble
            magnitudeLanes += SIMD8<Double>(s.replacing(with: -s, where: s .< 0))
            stabilizedLanes += SIMD8<Double>((denominator - zk).replacing(with: 0, where: .!passes)) * shareInDouble
            stabilizedLanes += SIMD8<Double>(rk.replacing(with: 0, where: .!dropped))
            k += 8
        }
        var (shares, stabilized, magnitude) = (0.0, 0.0, 0.0)
        for lane in 0..<8 {
            shares += sharesLanes[lane]
            stabilized += stabilizedLanes[lane]
            magnitude += magnitudeLanes[lane]
        }
        for k in k..<range.upperBound {
            share[k] = 0
            switch gate {
            case .everywhere: break
            case .positiveOutput: if !(plain[k] > 0) { continue }
            case .negativeOutput: if !(plain[k] < 0) { continue }
            }
            let zk = z[k]
            guard let denominator = stabilizer.stabilize(zk) else {
                stabilized += Double(relevance[k])
                continue
            }
            let s = relevance[k] / denominator
            share[k] = s
            shares += Double(s)
            magnitude += Double(Swift.abs(s))
            stabilized += Double(denominator - zk) * Double(s)
        }
        return (shares, stabilized, magnitude)
    }

    /// z = Σ sign · z' over a term's runs, as Zennit adds them: the parts with sign + first, then
    /// minus the sum of the parts with sign − (zB: z'₁ − (z'₂ + z'₃)). Zeros when no part runs.
    static func denominator(_ runs: [RuleRun], shape: [Int]) -> Tensor {
        let positive = runs.filter { $0.part.sign > 0 }.map(\.output)
        let negative = runs.filter { $0.part.sign < 0 }.map(\.output)
        var z = positive.dropFirst().reduce(positive.first ?? Tensor(zeros: shape), +)
        if let first = negative.first { z = z - negative.dropFirst().reduce(first, +) }
        return z
    }

    /// Per output channel, Σ sign · b' over a term's runs (the bias of its denominator) and
    /// Σ |b'| (its size, for the rounding of the ledger).
    static func bias(_ runs: [RuleRun], channels: Int) -> (value: [Double], size: [Double]) {
        var value = [Double](repeating: 0, count: channels), size = value
        for run in runs {
            guard let bias = run.bias else { continue }
            for c in 0..<channels {
                value[c] += Double(run.part.sign) * Double(bias.data[c])
                size[c] += Double(Swift.abs(bias.data[c]))
            }
        }
        return (value, size)
    }

    /// Σ_k R_k · (1 − Σ_terms coefficient · [term passes k on]): 0 unless a gate leaves some R_k behind.
    ///
    /// Summed term by term: Σ_k R_k − Σ_terms coefficient · Σ_{k the term passes on} R_k.
    func notPassedOn(relevance: Tensor, plainOutput: Tensor) -> Double {
        guard terms.contains(where: { $0.gate != .everywhere }) else { return 0 }
        let everything = relevance.sum()
        let (positive, negative) = relevance.data.withUnsafeBufferPointer { r in
            plainOutput.data.withUnsafeBufferPointer { z in
                Self.signedSums(r, by: z)
            }
        }
        var total = everything
        for term in terms {
            switch term.gate {
            case .everywhere: total -= Double(term.coefficient) * everything
            case .positiveOutput: total -= Double(term.coefficient) * positive
            case .negativeOutput: total -= Double(term.coefficient) * negative
            }
        }
        return total
    }

    /// (Σ_{z_k > 0} R_k, Σ_{z_k < 0} R_k) in Double, in blocks of `Parallel.sumBlock` added in
    /// order, each block in eight lanes as `sumInLanes` (one pass over R and z for both sums).
    static func signedSums(_ r: UnsafeBufferPointer<Float>, by z: UnsafeBufferPointer<Float>) -> (Double, Double) {
        let blocks = (r.count + Parallel.sumBlock - 1) / Parallel.sumBlock
        var partial = [(Double, Double)](repeating: (0, 0), count: blocks)
        partial.withUnsafeMutableBufferPointer { partial in
            Parallel.forEach(blocks, cost: Parallel.sumBlock) { block in
                let range = (block * Parallel.sumBlock)..<Swift.min(r.count, (block + 1) * Parallel.sumBlock)
                var (positiveLanes, negativeLanes) = (SIMD8<Double>(), SIMD8<Double>())
                var k = range.lowerBound
                while k + 8 <= range.upperBound {
                    let rk = UnsafeRawPointer(r.baseAddress! + k).loadUnaligned(as: SIMD8<Float>.self)
                    let zk = UnsafeRawPointer(z.baseAddress! + k).loadUnaligned(as: SIMD8<Float>.self)
                    positiveLanes += SIMD8<Double>(rk.replacing(with: 0, where: .!(zk .> 0)))
                    negativeLanes += SIMD8<Double>(rk.replacing(with: 0, where: .!(zk .< 0)))
                    k += 8
                }
                var (positive, negative) = (0.0, 0.0)
                for lane in 0..<8 { positive += positiveLanes[lane]; negative += negativeLanes[lane] }
                for k in k..<range.upperBound {
                    if z[k] > 0 { positive += Double(r[k]) } else if z[k] < 0 { negative += Double(r[k]) }
                }
                partial[block] = (positive, negative)
            }
        }
        var (positive, negative) = (0.0, 0.0)
        for (p, n) in partial { positive += p; negative += n }
        return (positive, negative)
    }

    /// (fan-in, fan-out) of a linear layer: the terms of one output's sum, and the most outputs
    /// one input reaches (a convolution of stride σ reaches ⌈k/σ⌉² outputs per channel).
    static func fans(of layer: Layer, input: Tensor) throws -> (Int, Int) {
        switch layer {
        case let conv as Conv2d:
            let reach = (conv.kernelSize + conv.stride - 1) / conv.stride
            return (conv.inputChannels * conv.kernelSize * conv.kernelSize, conv.outputChannels * reach * reach)
        case let linear as Linear:
            return (linear.inputFeatures, linear.outputFeatures)
        case is GlobalAveragePool:
            return (input.count / Swift.max(input.shape[0] * input.shape[1], 1), 1)
        default:
            throw MiniNetError.invalidArgument("\(layer.name): an LRP rule needs a linear layer, not \(layer.typeName)")
        }
    }
}

/// The runs made at one layer, for one input, by part: several rule maps walking together
/// (`RelevancePropagator`) make each part's modified layer and run it forward once. A run's
/// backward pass reads only the layer's cache of that forward pass, so any map can take it.
///
/// The backward passes are shared too, where two maps hand a run the same shares s bit for bit:
/// maps whose rules agree above a layer carry the same relevance down to it (EpsilonPlus and
/// EpsilonPlusFlat everywhere above the first layer, z⁺ and αβ with β = 0, γ and
/// EpsilonGammaBox), and a⁺ ⊙ (w⁺ᵀ s) is then the same tensor for both. Only equal bits count,
/// so every map still gets exactly what it would get alone.
final class RuleRunCache {
    private var runs: [(part: LRPRulePart, run: RuleRun?)] = []
    /// a' ⊙ (w'ᵀ s) for the shares each run was asked for, dropped with the cache.
    private var contributions: [(part: LRPRulePart, shares: Tensor, contribution: Tensor)] = []

    /// The run of `part`, made by `make` the first time (nil: the part cannot contribute).
    func run(of part: LRPRulePart, make: () throws -> RuleRun?) rethrows -> RuleRun? {
        if let kept = runs.first(where: { $0.part == part }) { return kept.run }
        let run = try make()
        runs.append((part, run))
        return run
    }

    /// `run.contribution(shares)`, computed once for each run and each bit pattern of shares.
    func contribution(of run: RuleRun, shares: Tensor) -> Tensor {
        if let kept = contributions.first(where: { $0.part == run.part && $0.shares.hasSameBits(as: shares) }) {
            return kept.contribution
        }
        let contribution = run.contribution(shares)
        contributions.append((run.part, shares, contribution))
        return contribution
    }
}

/// One part of a rule on one layer: the layer with the part's weights w' and bias b', run on a'.
struct RuleRun {
    let part: LRPRulePart
    /// The layer itself (a, w, b unchanged), or a copy with w' and b'.
    let layer: Layer
    /// Average pooling's modified weights w'(1/Z) as a factor on the pooling: w'(1/Z)·Z (1 for w).
    let scale: Float
    /// b' [Cout] this run adds, or nil.
    let bias: Tensor?
    /// a'
    let input: Tensor
    /// z' = layer_{w', b'}(a')
    let output: Tensor

    /// nil when the part cannot contribute: a' = 0 everywhere and no bias, or w' = 0 and no bias.
    /// `plainOutput` is the layer's output for `input`, whose pass the layer's backward cache
    /// still holds: the part that is the layer itself (a, w, b) uses the layer and that output.
    init?(part: LRPRulePart, layer: Layer, input: Tensor, plainOutput: Tensor) throws {
        self.part = part
        let modify: (Float) -> Float = part.parameters.apply
        let originalBias: Tensor?
        switch layer {
        case let conv as Conv2d: originalBias = conv.bias?.value
        case let linear as Linear: originalBias = linear.bias?.value
        case is GlobalAveragePool: originalBias = nil
        default: throw MiniNetError.invalidArgument("\(layer.name): an LRP rule needs a linear layer, not \(layer.typeName)")
        }
        if case let .channelConstant(values) = part.input {
            let channels = input.rank >= 2 ? input.shape[1] : 1
            guard values.count == 1 || values.count == channels else {
                throw MiniNetError.invalidArgument("\(layer.name): the rule's input has \(values.count) values per channel (zB's bounds) for \(channels) channels")
            }
        }
        let bias = part.keepsBias ? originalBias.map { part.parameters.apply(to: $0) } : nil
        if part.input.vanishes(on: input) && bias == nil { return nil }
        self.bias = bias
        self.input = part.input.apply(to: input)
        var scale: Float = 1
        if part.input == .identity && part.parameters == .identity && (part.keepsBias || originalBias == nil) {
            self.layer = layer
            self.scale = 1
            self.output = plainOutput
            return
        }
        let copy: Layer
        switch layer {
        case let conv as Conv2d:
            let weight = part.parameters.apply(to: conv.weight.value)
            if bias == nil && weight.data.allSatisfy({ $0 == 0 }) { return nil }
            // A part that is the layer after all, bit for bit (γ = 0 on a⁺ = a after a ReLU):
            // the same layer on the same numbers, whose output the recorded pass already has.
            let sameBias = bias.map { conv.bias?.value.hasSameBits(as: $0) ?? false } ?? (conv.bias == nil)
            if sameBias && weight.hasSameBits(as: conv.weight.value) && self.input.hasSameBits(as: input) {
                self.layer = layer
                self.scale = 1
                self.output = plainOutput
                return
            }
            copy = Conv2d(inputChannels: conv.inputChannels, outputChannels: conv.outputChannels,
                          kernelSize: conv.kernelSize, stride: conv.stride, padding: conv.padding,
                          bias: bias != nil, weight: weight, biasValue: bias)
        case let linear as Linear:
            let dense = Linear(inputFeatures: linear.inputFeatures, outputFeatures: linear.outputFeatures, bias: bias != nil)
            dense.weight.value = part.parameters.apply(to: linear.weight.value)
            if bias == nil && dense.weight.value.data.allSatisfy({ $0 == 0 }) { return nil }
            if let bias { dense.bias?.value = bias }
            copy = dense
        default:
            // Average pooling: every weight is 1/Z, so w' is one number; the pooling scaled by w'·Z.
            let planeSize = input.count / Swift.max(input.shape[0] * input.shape[1], 1)
            let weight = 1 / Float(planeSize)
            let modified = modify(weight)
            if modified == 0 { return nil }
            scale = modified == weight ? 1 : modified * Float(planeSize)
            copy = GlobalAveragePool()
        }
        copy.name = layer.name
        copy.setParameterGradients(false)
        self.layer = copy
        self.scale = scale
        let output = copy.forward(self.input)
        self.output = scale == 1 ? output : output * scale
    }

    /// c = w'ᵀ s, the part's backward pass (after its forward pass in `init`).
    func backward(_ shares: Tensor) -> Tensor {
        let c = layer.backward(shares)
        return scale == 1 ? c : c * scale
    }

    /// a' ⊙ c: what the part hands each input j, before its sign and its term's coefficient.
    func contribution(_ shares: Tensor) -> Tensor {
        input * backward(shares)
    }

    /// |a'| ⊙ (|w'|ᵀ |s|): for every input j, Σ_k |a'_j w'_jk s_k|, by the layer's backward pass
    /// with |w'| in place of w' (one more backward pass of the layer; a convolution needs no
    /// forward pass for it).
    func termMagnitudes(shares: Tensor) throws -> Tensor {
        let absoluteInput = input.magnitudes
        let absoluteShares = shares.magnitudes
        switch layer {
        case let conv as Conv2d:
            return absoluteInput * conv.absoluteCopy().inputGradient(absoluteShares, forInputOf: absoluteInput)
        case let linear as Linear:
            let absolute = Linear(inputFeatures: linear.inputFeatures, outputFeatures: linear.outputFeatures, bias: false)
            absolute.weight.value = linear.weight.value.map(Swift.abs)
            absolute.setParameterGradients(false)
            _ = absolute.forward(absoluteInput)
            return absoluteInput * absolute.backward(absoluteShares)
        default:
            let pool = GlobalAveragePool()              // weights 1/Z are positive already
            _ = pool.forward(absoluteInput)
            let magnitudes = absoluteInput * pool.backward(absoluteShares)
            return scale == 1 ? magnitudes : magnitudes * Swift.abs(scale)
        }
    }
}

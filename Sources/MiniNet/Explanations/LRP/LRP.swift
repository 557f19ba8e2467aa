/// Layer-wise relevance propagation (LRP): start at the output with R = one-hot · y^c and pass
/// the relevance back layer by layer with the rules of an `LRPRuleMap`, down to the pixels:
///
///     R_j = Σ_k z_jk / Σ_j z_jk · R_k          (LRP-0, see `LRPRule`)
///
/// On a bias-free ReLU network LRP-0 conserves relevance at every layer, so Σ_i R_i = f(x).
/// With biases and ε, each layer keeps a part; the ledger `steps` records where it went:
///
///     f(x) = Σ_i R_i + Σ_layers (absorbed by bias + absorbed by ε)

/// What happened at one layer on the way back.
public struct LRPLayerStep {
    /// The layer's dotted name, e.g. "features.8"; "<name> (sum)" for a residual addition.
    public var layer: String
    public var typeName: String
    public var treatment: String
    /// Σ R at the layer's output (what it received).
    public var relevanceAtOutput: Double
    /// Σ R at the layer's input (what it passed on).
    public var relevanceAtInput: Double
    public var absorbedByBias: Double
    public var absorbedByStabilizer: Double
    /// [1, …]: a, the layer's input (for a residual addition: the sum s).
    public var activation: Tensor
    /// [1, …]: R at the layer's input (for a residual addition: R_body + R_shortcut); nil when
    /// the run kept only each layer's totals (`keepingLayerRelevance: false`).
    public var relevance: Tensor?
    /// Σ_j |R_j| over the same R: the size of the relevance this layer handed on, which bounds
    /// the rounding of the sums below it (`LRPResult.conservationTolerance`).
    public var relevanceMagnitude: Double
    /// [1, …] like `relevance`: Σ_k |a_j w_jk s_k| for every input j (nil where no rule applied).
    public var termMagnitudes: Tensor? = nil
    /// Σ|terms| of this layer's ledger, Σ_jk |a_j w_jk s_k| + Σ_k |s_k| (|b_k| + ε): the float32
    /// rounding of Σ R_in + bias kept + ε kept against Σ R_out is at most γ_sumLength times it
    /// (0 when LRP ran without `measuringRounding`).
    public var termMagnitude = 0.0
    /// The most terms in one float32 sum on this layer's way back (0 where nothing was added).
    public var sumLength = 0
}

public struct LRPResult {
    /// [C, H, W]: R_i of every input value.
    public var relevance: Tensor
    /// Σ R at the input of each layer, from the output back; the first entry is ("output", y^c).
    public var layerTotals: [(layer: String, total: Double)]
    /// y^c, the target logit of the (canonized) network: the relevance that starts at the top.
    public var score: Float
    /// [L]: all logits of the network LRP ran on.
    public var logits: [Float]
    /// The ledger, one entry per leaf layer (and residual addition), from the output back.
    public var steps: [LRPLayerStep]
    /// Σ R at the output and at the input of every layer, containers included, by dotted name.
    public var sums: [String: (output: Double, input: Double)] = [:]

    /// Σ over layers of what biases and ε kept: f(x) − Σ_i R_i, summed layer by layer.
    public var totalAbsorbed: Double { steps.reduce(0) { $0 + $1.absorbedByBias + $1.absorbedByStabilizer } }
}

/// LRP of one image with one rule for all Conv2d/Linear layers and the default treatment of
/// the other layers (`LRPRuleMap`).
///
/// - Parameters:
///   - input: the normalised image, [C, H, W]
///   - target: the class c whose logit y^c is explained
///   - canonize: merge BatchNorm into the convolutions first (needed when the network has BatchNorm)
public func layerwiseRelevance(classifier: ImageClassifier, input: Tensor, target: Int, rule: LRPRule,
                               canonize: Bool = true) throws -> LRPResult {
    try layerwiseRelevance(classifier: classifier, input: input, target: target,
                           ruleMap: LRPRuleMap(linear: rule), canonize: canonize)
}

/// LRP with a full rule map (e.g. `LRPRuleMap.zennitEpsilon(1e-6)`, Zennit's composite).
/// `leavingNeutralBatchNorm` merges BatchNorm as Zennit 0.5's canonizer does (see
/// `mergingBatchNorm`), to reproduce Zennit's numbers rather than the exact merge.
///
/// `measuringRounding: false` skips each layer's Σ|terms| (`LRPLayerStep.termMagnitude`, the
/// per-layer rounding bound the lessons check against); `LRPResult.conservationTolerance` does
/// not need it. `keepingLayerRelevance: false` keeps each layer's totals but not its tensor of
/// relevance (`LRPLayerStep.relevance` is nil); the tolerance does not need that either.
public func layerwiseRelevance(classifier: ImageClassifier, input: Tensor, target: Int, ruleMap: LRPRuleMap,
                               canonize: Bool = true, leavingNeutralBatchNorm: Bool = false,
                               measuringRounding: Bool = true, keepingLayerRelevance: Bool = true) throws -> LRPResult {
    try layerwiseRelevance(classifier: classifier, input: input, target: target, ruleMaps: [ruleMap], canonize: canonize,
                           leavingNeutralBatchNorm: leavingNeutralBatchNorm, measuringRounding: measuringRounding,
                           keepingLayerRelevance: keepingLayerRelevance)[0]
}

/// LRP of one image and class under several rule maps, one result per map, in their order.
/// The rules read only each layer's input (and the plain layer's output), which do not depend
/// on the rule: BatchNorm is merged once and the forward pass recorded once for all of them,
/// so n maps cost one forward pass and n backward walks instead of n of each.
public func layerwiseRelevance(classifier: ImageClassifier, input: Tensor, target: Int, ruleMaps: [LRPRuleMap],
                               canonize: Bool = true, leavingNeutralBatchNorm: Bool = false,
                               measuringRounding: Bool = true, keepingLayerRelevance: Bool = true) throws -> [LRPResult] {
    guard input.shape == classifier.inputSize else {
        throw MiniNetError.invalidArgument("input has shape \(input.shape), the network expects \(classifier.inputSize)")
    }
    guard target >= 0 && target < classifier.classNames.count else {
        throw MiniNetError.invalidArgument("class \(target) is out of range 0..<\(classifier.classNames.count)")
    }
    classifier.network.setTraining(false)
    let network = canonize ? try classifier.mergedBatchNorm(leavingNeutral: leavingNeutralBatchNorm) : classifier.network
    let propagations = try propagateRelevance(through: network, input: input.reshaped([1] + input.shape), ruleMaps: ruleMaps,
                                              measuringRounding: measuringRounding,
                                              keepingLayerRelevance: keepingLayerRelevance) { logits in
        var start = Tensor(zeros: logits.shape)                // logits [1, L]
        start.data[target] = logits.data[target]               // R = one-hot · y^c
        return start
    }
    return propagations.map { propagation in
        let score = propagation.topActivation.data[target]
        let totals = [(layer: "output", total: Double(score))]
            + propagation.steps.map { (layer: $0.layer, total: $0.relevanceAtInput) }
        return LRPResult(relevance: propagation.relevance.slice(0), layerTotals: totals, score: score,
                         logits: propagation.topActivation.data, steps: propagation.steps, sums: propagation.sums)
    }
}

/// LRP of one image under a composite (`LRPComposite`, e.g. `.epsilonPlus()` or
/// `LRPComposite.named("epsilon-gamma-box", for: classifier)`), explaining the logit of `target`:
/// R starts as one-hot · y^c at the logits.
///
/// - Parameters:
///   - input: the normalised image, [C, H, W]
///   - target: `.logit(c)`. A probability is not a sum of contributions of the layer below
///     (softmax has no LRP rule), so `.probability(c)` is an error.
///   - canonize: merge BatchNorm into the convolutions first (needed when the network has BatchNorm)
///   - leavingNeutralBatchNorm: merge as Zennit 0.5 does (see `mergingBatchNorm`), to reproduce its numbers
public func layerwiseRelevance(classifier: ImageClassifier, input: Tensor, target: ExplanationTarget,
                               composite: LRPComposite, canonize: Bool = true,
                               leavingNeutralBatchNorm: Bool = false, measuringRounding: Bool = true,
                               keepingLayerRelevance: Bool = true) throws -> LRPResult {
    guard case let .logit(classIndex) = target else {
        throw MiniNetError.invalidArgument("LRP explains a logit: softmax has no LRP rule, so explain .logit(\(target.classIndex)) instead of a probability")
    }
    return try layerwiseRelevance(classifier: classifier, input: input, target: classIndex, ruleMap: composite.ruleMap,
                                  canonize: canonize, leavingNeutralBatchNorm: leavingNeutralBatchNorm,
                                  measuringRounding: measuringRounding, keepingLayerRelevance: keepingLayerRelevance)
}

/// LRP from any starting relevance at the output of `network` (a whole network, or a prefix of
/// one from `networkPrefix`) down to its input.
public struct RelevancePropagation {
    /// [N, …]: the network's input.
    public var input: Tensor
    /// [N, …]: R at the input.
    public var relevance: Tensor
    /// [N, …]: A, the network's output for `input`.
    public var topActivation: Tensor
    /// [N, …]: the relevance LRP started with at the output.
    public var topRelevance: Tensor
    /// The ledger, one entry per leaf layer (and residual addition), from the output back.
    public var steps: [LRPLayerStep]
    /// Σ R at the output and at the input of every layer LRP went through, containers (e.g. a
    /// residual block "layer2.1") included, by dotted name.
    public var sums: [String: (output: Double, input: Double)]

    /// Σ over the ledger of what biases and ε kept.
    public var totalAbsorbed: Double { steps.reduce(0) { $0 + $1.absorbedByBias + $1.absorbedByStabilizer } }
}

/// Runs `network` on `input` to get its output A, starts with R = `startingRelevance(A)` there,
/// and propagates R back to the input with the rules of `ruleMap`. The article's experiment
/// starts inside a network with R = A; the classifier's LRP starts at the logits with one-hot · y^c.
///
/// - Parameters:
///   - network: the layers to go through, already canonized if the rule map needs it
///   - input: [N, …], the network's input
///   - measuringRounding: measure every layer's Σ|terms| for its ledger's rounding bound
///     (`LRPLayerStep.termMagnitude`; 0 and nil without it, which saves a pass per layer)
///   - keepingLayerRelevance: keep R at every layer's input in the ledger (`LRPLayerStep.relevance`),
///     not only its totals
///   - startingRelevance: A [N, …] → R [N, …] of the same shape
public func propagateRelevance(through network: Layer, input: Tensor, ruleMap: LRPRuleMap, measuringRounding: Bool = true,
                               startingRelevance: (Tensor) throws -> Tensor) throws -> RelevancePropagation {
    try propagateRelevance(through: network, input: input, ruleMaps: [ruleMap], measuringRounding: measuringRounding,
                           startingRelevance: startingRelevance)[0]
}

/// The same under several rule maps, one forward pass recorded for all of them (the rules read
/// each layer's recorded input and output, and the plain layer's backward cache, none of which
/// a rule changes): one result per map, in their order.
public func propagateRelevance(through network: Layer, input: Tensor, ruleMaps: [LRPRuleMap], measuringRounding: Bool = true,
                               keepingLayerRelevance: Bool = true,
                               startingRelevance: (Tensor) throws -> Tensor) throws -> [RelevancePropagation] {
    try withoutActuallyEscaping(startingRelevance) { start in
        try propagateRelevance(through: network, input: input, runs: ruleMaps.map { ($0, start) },
                               measuringRounding: measuringRounding, keepingLayerRelevance: keepingLayerRelevance)
    }
}

/// The same for several (rule map, starting relevance) pairs, one forward pass recorded for all
/// of them: one result per pair, in their order.
public func propagateRelevance(through network: Layer, input: Tensor,
                               runs: [(ruleMap: LRPRuleMap, startingRelevance: (Tensor) throws -> Tensor)],
                               measuringRounding: Bool = true, keepingLayerRelevance: Bool = true) throws -> [RelevancePropagation] {
    guard !runs.isEmpty else { return [] }
    // LRP reads no parameter gradient: without them the recorded forward pass takes the
    // inference path (Winograd F(4×4), nothing kept for a weight gradient).
    return try network.withoutParameterGradients {
        var propagator = RelevancePropagator(ruleMaps: runs.map(\.ruleMap), measuresRounding: measuringRounding,
                                             keepsLayerRelevance: keepingLayerRelevance)
        let output = propagator.record(network, input: input)        // A, and every layer's input on the way
        let starts = try runs.map { _, startingRelevance in
            let start = try startingRelevance(output)
            guard start.shape == output.shape else {
                throw MiniNetError.invalidArgument("starting relevance has shape \(start.shape), the network's output \(output.shape)")
            }
            return start
        }
        // All maps walk the network together, layer by layer (`RelevancePropagator`).
        let relevances = try propagator.propagate(through: network, input: input, relevances: starts)
        return zip(zip(starts, relevances), propagator.walks).map { pair, walk in
            RelevancePropagation(input: input, relevance: pair.1, topActivation: output, topRelevance: pair.0,
                                 steps: walk.steps, sums: walk.sums)
        }
    }
}

/// The first layers of `network`: its top-level children up to and including the one named
/// `last` (its dotted or its local name). The layers are shared, not copied.
public func networkPrefix(_ network: Sequential, through last: String) throws -> Sequential {
    guard let index = network.layers.firstIndex(where: { $0.layer.name == last || $0.name == last }) else {
        throw MiniNetError.invalidArgument("no top-level layer named '\(last)'; they are: \(network.layers.map(\.name).joined(separator: ", "))")
    }
    let prefix = Sequential(named: network.layers[...index].map { ($0.name, $0.layer) })
    prefix.name = network.name
    return prefix
}

/// Walks the layer tree backwards; leaves apply their treatment from the rule map. The rules
/// need each layer's input a: one forward pass (`record`) keeps them all, so that containers
/// need not run their children again.
///
/// Several rule maps walk together, layer by layer: at each layer every map takes its own rule
/// on its own relevance, but a part that several maps' rules share (z⁺'s a⁺w⁺ in EpsilonPlus,
/// EpsilonPlusFlat and both αβ rules; the same γ in two composites) is made and run forward
/// once for all of them (`RuleRunCache`), and dropped when the walk leaves the layer. Each map
/// computes exactly what it would alone.
struct RelevancePropagator {
    /// One map's walk: its rules and its ledger.
    struct Walk {
        var ruleMap: LRPRuleMap
        /// The layer the rule map's `firstLayer` rule applies to, once found in the network (the
        /// first layer `propagate` is called with is the root of the tree).
        var firstLayer: ObjectIdentifier?
        /// From the output back.
        var steps: [LRPLayerStep] = []
        /// Σ R at the output and input of every layer visited, containers included.
        var sums: [String: (output: Double, input: Double)] = [:]
    }
    var walks: [Walk]
    var searchedFirstLayer = false

    /// Whether each rule also measures Σ|terms|, what its ledger's rounding is bounded by
    /// (`LRPRule.apply(…measuringRounding:)`): the lessons check every layer's ledger with it.
    let measuresRounding: Bool
    /// Whether each ledger step keeps R at its layer's input (`LRPLayerStep.relevance`), or only
    /// its totals: on a ResNet-34 the tensors of one walk take about 25 MB, and a lesson that
    /// walks ten maps and reads only their totals need not hold them all at once.
    let keepsLayerRelevance: Bool

    init(ruleMaps: [LRPRuleMap], measuresRounding: Bool = true, keepsLayerRelevance: Bool = true) {
        walks = ruleMaps.map { Walk(ruleMap: $0) }
        self.measuresRounding = measuresRounding
        self.keepsLayerRelevance = keepsLayerRelevance
    }

    init(ruleMap: LRPRuleMap, measuresRounding: Bool = true) {
        self.init(ruleMaps: [ruleMap], measuresRounding: measuresRounding)
    }

    /// The first map's ledger.
    var steps: [LRPLayerStep] { walks[0].steps }

    /// The input of every layer in the last recorded forward pass, by layer identity.
    var recordedInputs: [ObjectIdentifier: Tensor] = [:]
    /// Each residual block's two branch outputs (body, shortcut) in that pass.
    var recordedBranches: [ObjectIdentifier: (body: Tensor, shortcut: Tensor)] = [:]
    /// The output of every leaf layer in that pass: the z of a rule, without running the layer again.
    var recordedOutputs: [ObjectIdentifier: Tensor] = [:]

    /// The forward pass of `layer` from `input`, layer by layer, keeping what LRP needs.
    mutating func record(_ layer: Layer, input: Tensor) -> Tensor {
        recordedInputs[ObjectIdentifier(layer)] = input
        switch layer {
        case let sequential as Sequential:
            var activation = input
            for (_, child) in sequential.layers { activation = record(child, input: activation) }
            return activation
        case let residual as Residual:
            var bodyOutput = input
            for (_, child) in residual.body { bodyOutput = record(child, input: bodyOutput) }
            let shortcutOutput = residual.shortcut.map { record($0.layer, input: input) } ?? input
            recordedBranches[ObjectIdentifier(residual)] = (bodyOutput, shortcutOutput)
            let sum = bodyOutput + shortcutOutput
            return residual.activation.map { record($0.layer, input: sum) } ?? sum
        default:
            let output = layer.forward(input)
            recordedOutputs[ObjectIdentifier(layer)] = output
            return output
        }
    }

    /// R with its Σ R: each layer's Σ R at its input is the next layer down's Σ R at its
    /// output, so the walk adds up every tensor of relevance once.
    struct SummedRelevance {
        var values: Tensor
        var total: Double

        init(_ values: Tensor, total: Double? = nil) {
            self.values = values
            self.total = total ?? values.sum()
        }
    }

    /// input: the layer's input [N, …]; relevance: R at its output [N, …] → R at its input, for
    /// the first map (a propagator of one map).
    mutating func propagate(through layer: Layer, input: Tensor, relevance: Tensor) throws -> Tensor {
        try propagate(through: layer, input: input, relevances: [relevance])[0]
    }

    /// The same for every map at once, one starting relevance per map.
    mutating func propagate(through layer: Layer, input: Tensor, relevances: [Tensor]) throws -> [Tensor] {
        precondition(relevances.count == walks.count, "one starting relevance per rule map")
        return try propagate(through: layer, input: input, relevance: relevances.map { SummedRelevance($0) }).map { $0!.values }
    }

    /// One entry per map: R at the layer's output, or nil for a map whose walk does not pass
    /// through this layer (a residual shortcut under `residualBodyOnly`).
    mutating func propagate(through layer: Layer, input: Tensor, relevance summed: [SummedRelevance?]) throws -> [SummedRelevance?] {
        if !searchedFirstLayer {
            for index in walks.indices {
                walks[index].firstLayer = walks[index].ruleMap.firstLayer?.firstLayer(in: layer).map(ObjectIdentifier.init)
            }
            searchedFirstLayer = true
        }
        if layer is Sequential || layer is Residual {
            let inputRelevance: [SummedRelevance?]
            if let sequential = layer as? Sequential {
                inputRelevance = try propagate(sequential: sequential, input: input, relevance: summed)
            } else {
                inputRelevance = try propagate(residual: layer as! Residual, input: input, relevance: summed)
            }
            for (index, (output, input)) in zip(summed, inputRelevance).enumerated() {
                if let output, let input { walks[index].sums[layer.name] = (output.total, input.total) }
            }
            return inputRelevance
        }
        // The runs of a rule's parts at this layer, shared by the maps whose rules have them.
        let sharedRuns = RuleRunCache()
        var ranForward = false
        var result = summed
        for (index, summed) in summed.enumerated() {
            guard let summed else { continue }
            let walk = walks[index]
            let relevance = summed.values
            let treatment = try walk.ruleMap.treatment(for: layer, isFirstLayer: walk.firstLayer == ObjectIdentifier(layer))
            var outcome = RuleOutcome(relevance: relevance, absorbedByBias: 0, absorbedByStabilizer: 0)
            switch treatment {
            case .container:
                throw MiniNetError.invalidArgument("\(layer.name): LRP cannot open \(layer.typeName)")
            case let .rule(rule):
                outcome = try rule.apply(to: layer, input: input, relevance: relevance,
                                         output: recordedOutputs[ObjectIdentifier(layer)], measuringRounding: measuresRounding,
                                         sharing: sharedRuns)
            case .passThrough:
                break
            case .toWinner, .reshape:
                // Both route each output value to one input position: exactly their backward pass.
                if !ranForward { _ = layer.forward(input); ranForward = true }
                outcome.relevance = layer.backward(relevance)
            }
            let passedOn = treatment == .passThrough ? summed : SummedRelevance(outcome.relevance)
            var termMagnitude = (outcome.termMagnitudes?.sum() ?? 0) + outcome.absorbedMagnitude
            var sumLength = outcome.sumLength
            if let pool = layer as? MaxPool2d, treatment == .toWinner {
                // Overlapping windows add up the R of every window an input won: ⌈k/σ⌉² terms at most.
                let reach = (pool.kernelSize + pool.stride - 1) / pool.stride
                (termMagnitude, sumLength) = (measuresRounding ? relevance.magnitudeSum() : 0, reach * reach)
            }
            walks[index].steps.append(LRPLayerStep(layer: layer.name, typeName: layer.typeName, treatment: treatment.description,
                                                   relevanceAtOutput: summed.total, relevanceAtInput: passedOn.total,
                                                   absorbedByBias: outcome.absorbedByBias, absorbedByStabilizer: outcome.absorbedByStabilizer,
                                                   activation: input, relevance: keepsLayerRelevance ? outcome.relevance : nil,
                                                   relevanceMagnitude: outcome.relevance.magnitudeSum(), termMagnitudes: outcome.termMagnitudes,
                                                   termMagnitude: termMagnitude, sumLength: sumLength))
            walks[index].sums[layer.name] = (summed.total, passedOn.total)
            result[index] = passedOn
        }
        return result
    }

    mutating func propagate(sequential: Sequential, input: Tensor, relevance: [SummedRelevance?]) throws -> [SummedRelevance?] {
        var inputs: [Tensor] = []                  // the input of each child
        var activation = input
        for (_, child) in sequential.layers {
            if let recorded = recordedInputs[ObjectIdentifier(child)] {
                inputs.append(recorded)
            } else {
                inputs.append(activation)
                activation = child.forward(activation)
            }
        }
        var current = relevance
        for (index, (_, child)) in sequential.layers.enumerated().reversed() {
            current = try propagate(through: child, input: inputs[index], relevance: current)
        }
        return current
    }

    /// s = body(x) + shortcut(x), y = activation(s): the activation passes R through, the sum
    /// is split between the branches (`splitResidualRelevance`), and each branch goes back to x.
    /// With `residualBodyOnly` the body takes all of R_s and the shortcut is not visited.
    mutating func propagate(residual: Residual, input: Tensor, relevance: [SummedRelevance?]) throws -> [SummedRelevance?] {
        var bodyInputs: [Tensor] = []
        var bodyOutput = input
        let shortcutOutput: Tensor
        if let branches = recordedBranches[ObjectIdentifier(residual)] {
            bodyInputs = residual.body.map { recordedInputs[ObjectIdentifier($0.layer)] ?? input }
            (bodyOutput, shortcutOutput) = branches
        } else {
            for (_, layer) in residual.body {
                bodyInputs.append(bodyOutput)
                bodyOutput = layer.forward(bodyOutput)
            }
            shortcutOutput = residual.shortcut?.layer.forward(input) ?? input
        }
        // s = u + v, as the recorded pass gave it to the activation (or added here).
        let sum = residual.activation.flatMap { recordedInputs[ObjectIdentifier($0.layer)] } ?? bodyOutput + shortcutOutput
        var sumRelevance = relevance
        if let activation = residual.activation?.layer {
            sumRelevance = try propagate(through: activation, input: sum, relevance: relevance)
        }
        var bodyRelevance = sumRelevance
        var shortcutRelevance = [SummedRelevance?](repeating: nil, count: walks.count)
        for (index, summed) in sumRelevance.enumerated() {
            guard let summed else { continue }
            let ruleMap = walks[index].ruleMap
            let split = ruleMap.residualBodyOnly
                ? (body: summed.values, shortcut: Tensor(zeros: summed.values.shape), absorbed: 0)
                : splitResidualRelevance(body: bodyOutput, shortcut: shortcutOutput, relevance: summed.values,
                                         rule: ruleMap.residualSum)
            let bodySplit = SummedRelevance(split.body)
            let shortcutSplit = SummedRelevance(split.shortcut, total: ruleMap.residualBodyOnly ? 0 : nil)
            let treatment = ruleMap.residualBodyOnly ? "all to the body" : "split by contribution (\(ruleMap.residualSum))"
            let summedSplit = split.body + split.shortcut
            walks[index].steps.append(LRPLayerStep(layer: "\(residual.name) (sum)", typeName: "Residual", treatment: treatment,
                                                   relevanceAtOutput: summed.total,
                                                   relevanceAtInput: bodySplit.total + shortcutSplit.total,
                                                   absorbedByBias: 0, absorbedByStabilizer: split.absorbed,
                                                   activation: sum, relevance: keepsLayerRelevance ? summedSplit : nil,
                                                   relevanceMagnitude: summedSplit.magnitudeSum(),
                                                   // No sum but R_body + R_shortcut below: 2 terms, Σ|R_u| + |R_v|.
                                                   termMagnitude: measuresRounding ? split.body.magnitudeSum() + split.shortcut.magnitudeSum() : 0,
                                                   sumLength: 2))
            bodyRelevance[index] = bodySplit
            // A map that sends everything into the body does not visit the shortcut.
            if !ruleMap.residualBodyOnly { shortcutRelevance[index] = shortcutSplit }
        }
        for (index, (_, layer)) in residual.body.enumerated().reversed() {
            bodyRelevance = try propagate(through: layer, input: bodyInputs[index], relevance: bodyRelevance)
        }
        if let shortcut = residual.shortcut?.layer, shortcutRelevance.contains(where: { $0 != nil }) {
            shortcutRelevance = try propagate(through: shortcut, input: input, relevance: shortcutRelevance)
        }
        return zip(bodyRelevance, shortcutRelevance).enumerated().map { index, pair in
            guard let body = pair.0 else { return nil }
            if walks[index].ruleMap.residualBodyOnly { return body }
            guard let shortcut = pair.1 else { return nil }
            return SummedRelevance(body.values + shortcut.values)
        }
    }
}

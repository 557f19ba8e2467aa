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
    /// [1, …]: R at the layer's input (for a residual addition: R_body + R_shortcut).
    public var relevance: Tensor
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

/// LRP with a full rule map (e.g. Zennit's Norm rule `.epsilon(1e-6)` for average pooling).
public func layerwiseRelevance(classifier: ImageClassifier, input: Tensor, target: Int, ruleMap: LRPRuleMap,
                               canonize: Bool = true) throws -> LRPResult {
    guard input.shape == classifier.inputSize else {
        throw MiniNetError.invalidArgument("input has shape \(input.shape), the network expects \(classifier.inputSize)")
    }
    guard target >= 0 && target < classifier.classNames.count else {
        throw MiniNetError.invalidArgument("class \(target) is out of range 0..<\(classifier.classNames.count)")
    }
    classifier.network.setTraining(false)
    let network = canonize ? try mergingBatchNorm(classifier.network) : classifier.network
    let batch = input.reshaped([1] + input.shape)
    let logits = network.forward(batch)                        // [1, L]
    let score = logits.data[target]
    var start = Tensor(zeros: logits.shape)
    start.data[target] = score                                 // R = one-hot · y^c

    var propagator = RelevancePropagator(ruleMap: ruleMap)
    let relevance = try propagator.propagate(through: network, input: batch, relevance: start)
    let totals = [(layer: "output", total: Double(score))]
        + propagator.steps.map { (layer: $0.layer, total: $0.relevanceAtInput) }
    return LRPResult(relevance: relevance.slice(0), layerTotals: totals, score: score,
                     logits: logits.data, steps: propagator.steps)
}

/// Walks the layer tree backwards. Containers re-run their forward pass to know each child's
/// input a (the rules need it); leaves apply their treatment from the rule map.
struct RelevancePropagator {
    let ruleMap: LRPRuleMap
    /// From the output back.
    var steps: [LRPLayerStep] = []

    /// input: the layer's input [N, …]; relevance: R at its output [N, …] → R at its input.
    mutating func propagate(through layer: Layer, input: Tensor, relevance: Tensor) throws -> Tensor {
        let treatment = try ruleMap.treatment(for: layer)
        var outcome = RuleOutcome(relevance: relevance, absorbedByBias: 0, absorbedByStabilizer: 0)
        switch treatment {
        case .container:
            if let sequential = layer as? Sequential { return try propagate(sequential: sequential, input: input, relevance: relevance) }
            if let residual = layer as? Residual { return try propagate(residual: residual, input: input, relevance: relevance) }
            throw MiniNetError.invalidArgument("\(layer.name): LRP cannot open \(layer.typeName)")
        case let .rule(rule):
            outcome = try rule.apply(to: layer, input: input, relevance: relevance)
        case .passThrough:
            break
        case .toWinner, .reshape:
            // Both route each output value to one input position: exactly their backward pass.
            _ = layer.forward(input)
            outcome.relevance = layer.backward(relevance)
        }
        steps.append(LRPLayerStep(layer: layer.name, typeName: layer.typeName, treatment: treatment.description,
                                  relevanceAtOutput: relevance.sum(), relevanceAtInput: outcome.relevance.sum(),
                                  absorbedByBias: outcome.absorbedByBias, absorbedByStabilizer: outcome.absorbedByStabilizer,
                                  activation: input, relevance: outcome.relevance))
        return outcome.relevance
    }

    mutating func propagate(sequential: Sequential, input: Tensor, relevance: Tensor) throws -> Tensor {
        var inputs: [Tensor] = []                  // the input of each child
        var activation = input
        for (_, child) in sequential.layers {
            inputs.append(activation)
            activation = child.forward(activation)
        }
        var current = relevance
        for (index, (_, child)) in sequential.layers.enumerated().reversed() {
            current = try propagate(through: child, input: inputs[index], relevance: current)
        }
        return current
    }

    /// s = body(x) + shortcut(x), y = activation(s): the activation passes R through, the sum
    /// is split between the branches (`splitResidualRelevance`), and each branch goes back to x.
    mutating func propagate(residual: Residual, input: Tensor, relevance: Tensor) throws -> Tensor {
        var bodyInputs: [Tensor] = []
        var bodyOutput = input
        for (_, layer) in residual.body {
            bodyInputs.append(bodyOutput)
            bodyOutput = layer.forward(bodyOutput)
        }
        let shortcutOutput = residual.shortcut?.layer.forward(input) ?? input
        var sumRelevance = relevance
        if let activation = residual.activation?.layer {
            sumRelevance = try propagate(through: activation, input: bodyOutput + shortcutOutput, relevance: relevance)
        }
        let split = splitResidualRelevance(body: bodyOutput, shortcut: shortcutOutput, relevance: sumRelevance,
                                           rule: ruleMap.residualSum)
        steps.append(LRPLayerStep(layer: "\(residual.name) (sum)", typeName: "Residual", treatment: "split by contribution",
                                  relevanceAtOutput: sumRelevance.sum(),
                                  relevanceAtInput: split.body.sum() + split.shortcut.sum(),
                                  absorbedByBias: 0, absorbedByStabilizer: split.absorbed,
                                  activation: bodyOutput + shortcutOutput, relevance: split.body + split.shortcut))
        var bodyRelevance = split.body
        for (index, (_, layer)) in residual.body.enumerated().reversed() {
            bodyRelevance = try propagate(through: layer, input: bodyInputs[index], relevance: bodyRelevance)
        }
        var shortcutRelevance = split.shortcut
        if let shortcut = residual.shortcut?.layer {
            shortcutRelevance = try propagate(through: shortcut, input: input, relevance: shortcutRelevance)
        }
        return bodyRelevance + shortcutRelevance
    }
}

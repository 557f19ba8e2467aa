import Foundation
import MiniNet

/// Layer-wise relevance propagation on the small CNN (Bach et al. 2015; Montavon et al. 2019).
///
/// Relevance starts at the output as R = one-hot · y^c and flows back, layer by layer:
///
///     R_j = Σ_k z_jk / Σ_j z_jk · R_k,        z_jk = a_j w_jk                    (LRP-0)
///     R_j = Σ_k a_j w_jk / (ε·sign(z_k) + Σ_j a_j w_jk) · R_k                     (LRP-ε)
///
/// On the bias-free ReLU network LRP-0 conserves relevance, Σ_i R_i = f(x), and equals
/// gradient × input. On the model with biases the lesson keeps a ledger of where relevance goes:
///
///     f(x) = Σ_i R_i + Σ_layers (absorbed by biases + absorbed by ε)
///
/// On a torchvision ResNet (no bias-free twin) it checks LRP-0 = gradient × input on the
/// network itself. Both end with the source article's experiment three ways (`articleSteps`):
/// its code as it runs, what its author meant, and canonically; on a ResNet over the backbone
/// up to layer3 from R = A, on the small CNN over the whole network from a class score.
public enum LRPLesson: Lesson {
    public static let id = "lrp"
    /// One line for `tutor lessons`, in the reader's language.
    public static var summary: String { translated("Layer-wise relevance propagation: share the score back, layer by layer") }

    /// ε of the ledger step: large enough to see it absorb relevance, small next to the logits.
    static let ledgerEpsilon: Float = 0.1

    public static func build(_ context: LessonContext) throws -> Notebook {
        let text = try LessonText(lesson: id, language: context.language)
        let classifier = context.classifier
        let setup = try LessonSetup(context)
        let (picture, input, logits, target, className) = (setup.picture, setup.input, setup.logits, setup.target, setup.className)

        let notebook = Notebook(lesson: id, title: text("title"))
        notebook.prose(text("intro"))

        // Step 1: the picture, the score, and BatchNorm folded away.
        notebook.step(text("score.title"), id: "lrp.score")
        notebook.prose(text("score.body", ["class": className, "score": format(logits[target])]))
        notebook.table(text("score.table"), headers: ["c", "class", "y^c"],
                       rows: logits.indices.map { ["\($0)", classifier.classNames[$0], format(logits[$0])] },
                       limit: .ranked(byColumn: 2, keeping: [target]), dataColumns: [1])
        // On a ResNet (there is no bias-free one) step 3 runs LRP-0 on the same recorded pass.
        let isResNet = classifier.network.allLayers.contains { $0 is Residual }
        let needsLRPZero = context.biasFreeClassifier == nil && isResNet
        let results = try layerwiseRelevance(classifier: classifier, input: input, target: target,
                                             ruleMaps: [LRPRuleMap(linear: .epsilon(ledgerEpsilon))]
                                                 + (needsLRPZero ? [LRPRuleMap(linear: .zero)] : []))
        let epsilonResult = results[0]
        guard let head = classifier.network.allLayers.last(where: { $0 is Linear }) as? Linear,
              let headStep = epsilonResult.steps.first(where: { $0.layer == head.name }),
              let headRelevance = headStep.relevance else {
            throw MiniNetError.invalidModel("the lesson needs a network that ends in a Linear layer")
        }
        let pooled = headStep.activation.reshaped([head.inputFeatures])        // [K]: a_j
        let headWeights = head.weight.value                                    // [L, K]
        // The merged network's logits, and on a ResNet its gradient ∂y^c/∂x from the same pass (step 3).
        let merged = try classifier.mergedBatchNorm()
        let (mergedLogits, mergedGradient) = merged.withoutParameterGradients {
            let logits = merged.forward(input.reshaped([1] + input.shape))          // [1, L]
            guard needsLRPZero else { return (logits, Tensor?.none) }
            var seed = Tensor(zeros: logits.shape)
            seed.data[target] = 1
            return (logits, merged.backward(seed).slice(0))                        // [3, H, W]: ∂f/∂x
        }
        notebook.prose(text("score.merge"))
        notebook.math("w' = w·γ/√(σ² + eps),   b' = (b − μ)·γ/√(σ² + eps) + β",
                      latex: #"w' = w\,\frac{\gamma}{\sqrt{\sigma^2+\mathrm{eps}}},\quad b' = (b-\mu)\,\frac{\gamma}{\sqrt{\sigma^2+\mathrm{eps}}} + \beta"#)
        // Two full forward passes with different arithmetic (BatchNorm after the sums, or merged
        // into them): each carries depth · γₙ · M (see `ImageClassifier.forwardTolerance`), M
        // measured on the pooled features LRP's pass recorded.
        let forward = classifier.forwardTolerance(pooledFeatures: pooled,
                                                  pooledCells: epsilonResult.pooledCells(in: classifier.network))
        notebook.check(.equal(text("score.check"), "logits with BatchNorm", Tensor(shape: [logits.count], data: logits),
                              "logits merged", mergedLogits.reshaped([logits.count]), tolerance: forward + forward))

        // Step 2: the rules, tried on the last layer where they can be followed by hand.
        notebook.step(text("rule.title"), id: "lrp.rule")
        notebook.prose(text("rule.body"))
        notebook.math("R_j = Σ_k z_jk / Σ_j z_jk · R_k,   z_jk = a_j w_jk",
                      latex: #"R_j = \sum_k \frac{z_{jk}}{\sum_{j} z_{jk}}\, R_k, \qquad z_{jk} = a_j w_{jk}"#)
        notebook.prose(text("rule.epsilon", ["epsilon": "\(ledgerEpsilon)"]))
        notebook.math("R_j = Σ_k a_j w_jk / (ε·sign(z_k) + Σ_j a_j w_jk) · R_k",
                      latex: #"R_j = \sum_k \frac{a_j w_{jk}}{\epsilon\,\mathrm{sign}(z_k) + \sum_j a_j w_{jk}}\, R_k"#)
        notebook.prose(text("rule.example"))
        let headBias = head.bias?.value.data[target] ?? 0
        // R_j by loops: only output c carries relevance (R_k = 0 for k ≠ c).
        var z = headBias
        for j in 0..<head.inputFeatures { z += pooled.data[j] * headWeights[target, j] }
        let denominator = z + (z >= 0 ? ledgerEpsilon : -ledgerEpsilon)
        let byLoops = Tensor(shape: [head.inputFeatures], data: (0..<head.inputFeatures).map {
            pooled.data[$0] * headWeights[target, $0] / denominator * epsilonResult.score
        })
        notebook.tensor("a", pooled, caption: text("rule.activation", ["layer": head.name]))
        notebook.tensor("R", headRelevance.reshaped([head.inputFeatures]), caption: text("rule.relevance", ["layer": head.name]))
        // Both sides compute R_j = a_j w_jc · y^c/(z + ε·sign z) with the same a, w and y^c; only z
        // differs: the network's sum and the loop's sum of K + 1 terms, each off by at most
        // γ_K+1 · Σ|a_j w_jc| + |b|, which moves R_j by R_j · δz/|z + ε·sign z|. A wrong z, one
        // term short, moves the largest R_j by that term's share.
        let terms = (0..<head.inputFeatures).map { Double(pooled.data[$0] * headWeights[target, $0]) } + [Double(headBias)]
        let largestRelevance = Double(byLoops.data.map(abs).max() ?? 0) / Double(abs(denominator))
        let zRounding = Tolerance.sum(count: terms.count, magnitude: largestRelevance * terms.reduce(0) { $0 + abs($1) },
                                      largestTerm: largestRelevance * (terms.map(abs).max() ?? 0))
        notebook.check(.equal(text("rule.check"), "gradient trick", headRelevance.reshaped([head.inputFeatures]),
                              "loops", byLoops, tolerance: zRounding + zRounding))

        // Steps 3–4: exact conservation on the bias-free network; on a ResNet (there is no
        // bias-free one) LRP-0 = gradient × input on the network itself, biases and all.
        if let biasFree = context.biasFreeClassifier {
            try conservationSteps(notebook, text: text, classifier: biasFree, picture: picture, target: target)
        } else if needsLRPZero, let gradient = mergedGradient {
            gradientStepWithBiases(notebook, text: text, result: results[1], gradient: gradient, input: input)
        } else {
            notebook.step(text("conservation.title"), id: "lrp.conservation")
            notebook.prose(text("conservation.missing"))
        }

        // Step 5: the ledger on the model with biases.
        notebook.step(text("ledger.title"), id: "lrp.ledger")
        notebook.prose(text("ledger.body", ["epsilon": "\(ledgerEpsilon)"]))
        notebook.table(text("ledger.table"), headers: ["layer", "type", "rule", "Σ R received", "Σ R passed on", "bias kept", "ε kept"],
                       rows: ledgerRows(epsilonResult, network: classifier.network))
        let totalBias = epsilonResult.steps.reduce(0) { $0 + $1.absorbedByBias }
        let totalEpsilon = epsilonResult.steps.reduce(0) { $0 + $1.absorbedByStabilizer }
        let pixelTotal = epsilonResult.relevance.sum()
        notebook.prose(text("ledger.totals", ["score": format(epsilonResult.score), "pixels": format(pixelTotal),
                                               "bias": format(totalBias), "epsilon": format(totalEpsilon)]))
        notebook.math(translated("f(x) = Σ_i R_i + Σ_layers (bias kept + ε kept)"),
                      latex: translated(#"f(x) = \sum_i R_i + \sum_{\text{layers}} \left(\text{bias kept} + \epsilon\text{ kept}\right)"#))
        notebook.check(.equal(text("ledger.check"), "f(x)", Double(epsilonResult.score),
                              "Σ R_i + bias + ε", pixelTotal + totalBias + totalEpsilon,
                              tolerance: ledgerTolerance(epsilonResult.steps, inputRelevance: epsilonResult.relevance)))

        // Step 6: the heatmap.
        notebook.step(text("heatmap.title"), id: "lrp.heatmap")
        notebook.prose(text("heatmap.body"))
        let heatmap = channelSum(epsilonResult.relevance)                     // [H, W]
        notebook.tensor(translated("Σ_channels R"), heatmap, caption: text("heatmap.caption"))
        let photo = RGBImage(tensor: picture)
        notebook.picture(text("heatmap.row", ["class": className]), [
            .image(text("heatmap.input"), photo),
            AttributionPanels.heatmap(text("heatmap.relevance"), heatmap),
            AttributionPanels.overlay(text("heatmap.overlay"), heatmap, on: photo),
        ])

        // Steps 7–9: the article's experiment three ways, and the control it missed.
        try articleSteps(notebook, text: text, classifier: classifier, picture: picture, target: target,
                         logits: logits, seed: context.seed, photo: photo)
        notebook.references(text)
        return notebook
    }

    /// LRP-0 = gradient × input on a ReLU network with biases: by induction from the top,
    /// every neuron holds R_k = z_k ∂f/∂z_k (true at the output, R = y^c), and then
    ///
    ///     R_j = Σ_k a_j w_jk / z_k · z_k ∂f/∂z_k = a_j Σ_k w_jk ∂f/∂z_k = a_j ∂f/∂a_j.
    ///
    /// ReLU keeps it (z_k ∂f/∂z_k = a_k ∂f/∂a_k where the ReLU is on, 0 where it is off), and so
    /// does the residual split: R_u = u R_s/s = u ∂f/∂s = u ∂f/∂u. The biases do not break the
    /// identity, they only keep their share: f(x) = Σ_i R_i + Σ bias kept.
    ///
    /// - Parameters:
    ///   - result: LRP-0 of the input
    ///   - gradient: [3, H, W], ∂f/∂x of the merged network, the function LRP ran on. It equals the
    ///     original (step 1), but not bit for bit: where a max-pooling window holds two equal
    ///     maxima (flat parts of a photo), rounding could make the two networks pick different winners.
    static func gradientStepWithBiases(_ notebook: Notebook, text: LessonText, result: LRPResult, gradient: Tensor,
                                       input: Tensor) {
        notebook.step(text("resnet.gradient.title"), id: "lrp.gradient")
        notebook.prose(text("resnet.gradient.body"))
        notebook.math("R_j = Σ_k a_j w_jk / z_k · z_k ∂f/∂z_k = a_j ∂f/∂a_j",
                      latex: #"R_j = \sum_k \frac{a_j w_{jk}}{z_k}\, z_k \frac{\partial f}{\partial z_k} = a_j \frac{\partial f}{\partial a_j}"#)
        let gradientTimesInput = gradient * input
        notebook.tensor(translated("Σ_channels ∂f/∂x"), channelSum(gradient), caption: text("gradient.caption"))
        notebook.check(.equal(text("gradient.check"), "LRP-0", result.relevance, "gradient × input", gradientTimesInput,
                              tolerance: gradientTolerance(result.steps)))
        let bias = result.steps.reduce(0) { $0 + $1.absorbedByBias }
        let dropped = result.steps.reduce(0) { $0 + $1.absorbedByStabilizer }
        let pixels = result.relevance.sum()
        notebook.prose(text("resnet.gradient.ledger", ["score": format(result.score), "pixels": format(pixels),
                                                        "bias": format(bias), "dropped": format(dropped)]))
        notebook.check(.equal(text("resnet.gradient.ledger-check"), "f(x)", Double(result.score),
                              "Σ R_i + bias kept + dropped", pixels + bias + dropped,
                              tolerance: ledgerTolerance(result.steps, inputRelevance: result.relevance)))
    }

    /// One row per layer of the ledger; a residual block (dozens of them in a ResNet) is
    /// summed into one row: what reached its output, what left its input, what its layers kept.
    static func ledgerRows(_ result: LRPResult, network: Layer) -> [[String]] {
        let blocks = network.allLayers.filter { $0 is Residual }.map(\.name)
        func block(of layer: String) -> String? {
            blocks.first { layer.hasPrefix($0 + ".") || layer.hasPrefix($0 + " (") }
        }
        var rows: [[String]] = []
        var index = 0
        let steps = result.steps
        while index < steps.count {
            guard let name = block(of: steps[index].layer), let sums = result.sums[name] else {
                let step = steps[index]
                rows.append([step.layer, step.typeName, step.treatment, format(step.relevanceAtOutput), format(step.relevanceAtInput),
                             format(step.absorbedByBias), format(step.absorbedByStabilizer)])
                index += 1
                continue
            }
            var end = index
            while end < steps.count && block(of: steps[end].layer) == name { end += 1 }
            let inside = steps[index..<end]
            rows.append([name, "Residual block", "its layers' rules, sum split", format(sums.output), format(sums.input),
                         format(inside.reduce(0) { $0 + $1.absorbedByBias }), format(inside.reduce(0) { $0 + $1.absorbedByStabilizer })])
            index = end
        }
        return rows
    }

    /// ε of the backbone experiment, in both versions: Zennit's default.
    static let backboneEpsilon: Float = 1e-6

    /// The second article's normalisation, one mean and one standard deviation for all three
    /// channels (its albumentations `Normalize((0.7931,)*3, (0.1738,)*3)`), used on a ResNet.
    static let articleMean: Float = 0.7931
    static let articleStd: Float = 0.1738

    /// Where the article's experiment runs: the network it walks, where it starts, and the
    /// points at which the table adds up the relevance.
    struct ArticleSetup {
        /// The module list the article's code walks.
        var network: Sequential
        /// The same with BatchNorm merged into the convolutions (the classifier's kept merge).
        var merged: Layer
        /// [1, C, H, W]
        var input: Tensor
        /// What the table calls the top, e.g. "layer3" or "y^c".
        var topLabel: String
        /// Two starting relevances at the top of `network`: the article's and a control.
        var start: Tensor
        var controlStart: Tensor
        var startDescription: String
        var controlDescription: String
        /// Short names of the two starts, for picture captions.
        var startLabel: String
        var controlLabel: String
        /// Layers whose output Σ R the table shows, top first (the pixels come last).
        var points: [String]
        /// The stage (index into `points`) a layer of the ledger belongs to: what lies below a point.
        var stageOf: (String) -> Int
        var stageNames: [String]
    }

    /// On a ResNet, the article's backbone conv1 … layer3 from R = A; on the small CNN, the whole
    /// network from R = one-hot · y^c, with another class as the control.
    static func articleSetup(classifier: ImageClassifier, picture: Tensor, target: Int, logits: [Float],
                             seed: UInt64) throws -> ArticleSetup {
        if classifier.network.allLayers.contains(where: { $0 is Residual }) {
            let backbone = try networkPrefix(classifier.network, through: "layer3")
            guard let mergedNetwork = try classifier.mergedBatchNorm() as? Sequential else {
                throw MiniNetError.invalidModel("the merged network is not a list of layers")
            }
            var input = picture                                            // [3, H, W], the article's normalisation
            for index in input.data.indices { input.data[index] = (picture.data[index] - articleMean) / articleStd }
            let batch = input.reshaped([1] + input.shape)
            let activation = backbone.forward(batch)                       // A at layer3's output
            var generator = SeededGenerator(seed: seed)
            var control = activation
            for index in control.data.indices { control.data[index] = Float.random(in: -1...1, using: &generator) }
            let stages = ["layer3", "layer2", "layer1"]
            return ArticleSetup(network: backbone, merged: try networkPrefix(mergedNetwork, through: "layer3"), input: batch, topLabel: "layer3", start: activation, controlStart: control,
                                startDescription: "R = A", controlDescription: "R = random",
                                startLabel: "from A", controlLabel: "from random",
                                points: ["layer3", "layer2", "layer1", "maxpool"],
                                stageOf: { layer in stages.firstIndex { layer.hasPrefix($0 + ".") } ?? 3 },
                                stageNames: stages + ["conv1 … maxpool"])
        }
        let network = classifier.network
        let input = classifier.normalize(picture).reshaped([1] + picture.shape)
        let other = logits.indices.filter { $0 != target }.max { logits[$0] < logits[$1] } ?? target
        func oneHot(_ index: Int) -> Tensor {
            var start = Tensor(zeros: [1, logits.count])
            start.data[index] = logits[index]
            return start
        }
        // The three convolution blocks of the small CNN end with features.3, features.7 and the head.
        func featureIndex(_ layer: String) -> Int? {
            layer.hasPrefix("features.") ? Int(layer.dropFirst("features.".count).prefix { $0.isNumber }) : nil
        }
        return ArticleSetup(network: network, merged: try classifier.mergedBatchNorm(), input: input, topLabel: "y^c", start: oneHot(target), controlStart: oneHot(other),
                            startDescription: "R = one-hot · y^\(target)", controlDescription: "R = one-hot · y^\(other)",
                            startLabel: "class \(target)", controlLabel: "class \(other)",
                            points: ["classifier", "features.7", "features.3"],
                            stageOf: { layer in featureIndex(layer).map { $0 >= 8 ? 0 : $0 >= 4 ? 1 : 2 } ?? 0 },
                            stageNames: ["features.8 … classifier", "features.4 … features.7", "features.0 … features.3"])
    }

    /// The article's experiment three ways, and the control it missed:
    ///
    /// (i)   its code as it runs (`ArticleLRP`): R₀ = x ⊙ conv1ᵀ(s₀), whatever the start;
    /// (ii)  what its author meant: BatchNorm hands R on, each block sends all of R into its body;
    /// (iii) canonically: BatchNorm merged into the convolutions, and each residual sum
    ///       s = u + v split by contribution, R_u = u R_s/(s + ε sign s), R_v = v R_s/(s + ε sign s).
    ///
    /// (ii) and (iii) use LRP-ε on the convolutions. The ledger of (iii) balances,
    ///
    ///     Σ R_top = Σ_i R_i + Σ_layers (bias kept + ε kept),
    ///
    /// and the lesson checks that (ii)'s does not.
    static func articleSteps(_ notebook: Notebook, text: LessonText, classifier: ImageClassifier, picture: Tensor,
                             target: Int, logits: [Float], seed: UInt64, photo: RGBImage) throws {
        let setup = try articleSetup(classifier: classifier, picture: picture, target: target, logits: logits, seed: seed)
        let isResNet = setup.topLabel == "layer3"
        guard let conv1 = setup.network.allLayers.first(where: { $0 is Conv2d }) as? Conv2d else {
            throw MiniNetError.invalidModel("the lesson needs a network that starts with a convolution")
        }

        // (i): the article's code, from two different starts.
        let asRun = try required(ArticleLRP.inputRelevance(setup.network, input: setup.input, startingRelevance: setup.start))
        let asRunControl = try required(ArticleLRP.inputRelevance(setup.network, input: setup.input,
                                                                       startingRelevance: setup.controlStart))
        let closedForm = ArticleLRP.firstLayerReference(conv1, input: setup.input)

        notebook.step(text("article.title"), id: "lrp.article")
        notebook.prose(text(isResNet ? "article.body.resnet" : "article.body.small",
                            ["top": setup.topLabel, "start": translated(setup.startDescription)]))
        notebook.prose(text("article.asrun"))
        notebook.math("z = layer(x),   s = y / (z + 10⁻⁹),   R = x ⊙ ∂(Σ z ⊙ s)/∂x",
                      latex: #"z = \mathrm{layer}(x),\quad s = \frac{y}{z + 10^{-9}},\quad R = x \odot \frac{\partial \sum z \odot s}{\partial x}"#)
        notebook.prose(text("article.asrun.closed", ["conv1": conv1.name]))
        notebook.math("R₀ = x ⊙ conv1ᵀ(s₀),   s₀ = z₀ / (z₀ + 10⁻⁹) ≈ 1,   z₀ = conv1(x)",
                      latex: #"R_0 = x \odot \mathrm{conv1}^\top(s_0),\quad s_0 = \frac{z_0}{z_0 + 10^{-9}} \approx 1,\quad z_0 = \mathrm{conv1}(x)"#)
        // The code's route adds each input value's terms in two float32 stages (the matrix
        // product, then col2im); the loops add them in Double.
        let closedTolerance = Tolerance.elementwise(count: closedForm.termCount, magnitudes: closedForm.termMagnitudes, depth: 2)
        notebook.check(.equal(text("article.asrun.check"), "(i) R₀", asRun, "x ⊙ conv1ᵀ(s₀) by loops", closedForm.relevance,
                              tolerance: closedTolerance))
        notebook.check(.equal(text("article.asrun.same", ["start": translated(setup.startDescription), "control": translated(setup.controlDescription)]),
                              "(i) from \(setup.startDescription)", asRun, "(i) from \(setup.controlDescription)", asRunControl,
                              tolerance: .exact))

        // (ii) and (iii), from the article's start.
        let articleMap = LRPRuleMap(linear: .epsilon(backboneEpsilon), batchNormPassThrough: true, residualBodyOnly: true)
        let canonicalMap = LRPRuleMap(linear: .epsilon(backboneEpsilon), residualSum: .epsilon(backboneEpsilon))
        // (ii)'s ledger is shown to miss, not bounded: its layers' Σ|terms| are not measured.
        let article = try propagateRelevance(through: setup.network, input: setup.input, ruleMap: articleMap,
                                             measuringRounding: false) { _ in setup.start }
        // (iii) from the control start too (step 9), on the same recorded pass.
        let canonicalRuns = try propagateRelevance(through: setup.merged, input: setup.input,
                                                   runs: [(canonicalMap, { _ in setup.start }), (canonicalMap, { _ in setup.controlStart })])
        let (canonical, canonicalControl) = (canonicalRuns[0], canonicalRuns[1])

        notebook.prose(text("article.meant", ["epsilon": "\(backboneEpsilon)"]))
        notebook.math("R_u = u ⊙ R_s / (s + ε·sign s),   R_v = v ⊙ R_s / (s + ε·sign s),   s = u + v",
                      latex: #"R_u = \frac{u \odot R_s}{s + \epsilon\,\mathrm{sign}\,s},\quad R_v = \frac{v \odot R_s}{s + \epsilon\,\mathrm{sign}\,s},\quad s = u + v"#)

        func kept(_ run: RelevancePropagation, in stage: Int) -> (bias: Double, epsilon: Double) {
            run.steps.filter { setup.stageOf($0.layer) == stage }
                .reduce((0, 0)) { ($0.0 + $1.absorbedByBias, $0.1 + $1.absorbedByStabilizer) }
        }
        func total(_ run: RelevancePropagation, at point: String?) -> Double {
            point.map { run.sums[$0]?.output ?? .nan } ?? run.relevance.sum()
        }
        let points: [String?] = setup.points + [nil]
        let rows = points.enumerated().map { index, point -> [String] in
            let stage = index == 0 ? nil : index - 1
            let articleKept = stage.map { kept(article, in: $0) }
            let canonicalKept = stage.map { kept(canonical, in: $0) }
            return [index == 0 ? "\(point ?? "") (top)" : point ?? "input", stage.map { setup.stageNames[$0] } ?? "",
                    formatWide(total(article, at: point)), articleKept.map { formatWide($0.bias + $0.epsilon) } ?? "",
                    formatWide(total(canonical, at: point)),
                    canonicalKept.map { formatWide($0.bias) } ?? "", canonicalKept.map { formatWide($0.epsilon) } ?? ""]
        }
        notebook.table(text("backbone.table"),
                       headers: ["Σ R at the output of", "kept in", "(ii) Σ R", "(ii) ε kept", "(iii) Σ R", "(iii) bias kept", "(iii) ε kept"],
                       rows: rows)

        // (iii): the ledger balances, to the rounding of the sums its layers added up.
        let canonicalTop = canonical.topRelevance.sum()
        let ledger = ledgerTolerance(canonical.steps, inputRelevance: canonical.relevance)
        notebook.math(translated("Σ R_top = Σ_i R_i + Σ_layers (bias kept + ε kept)"),
                      latex: translated(#"\sum R_{\text{top}} = \sum_i R_i + \sum_{\text{layers}} \left(\text{bias kept} + \epsilon\text{ kept}\right)"#))
        notebook.check(.equal(text("backbone.canonical-check"), "Σ R_top", canonicalTop,
                              "Σ R_i + kept", canonical.relevance.sum() + canonical.totalAbsorbed, tolerance: ledger))
        let articleGrowth = largestRelevanceMagnitude(article.steps) / Swift.max(article.topRelevance.magnitudeSum(), .leastNonzeroMagnitude)
        let canonicalGrowth = largestRelevanceMagnitude(canonical.steps) / Swift.max(canonical.topRelevance.magnitudeSum(), .leastNonzeroMagnitude)
        if isResNet {
            // (ii): the same ledger misses Σ R_top by more than the tolerance (iii) meets.
            let articleTop = article.topRelevance.sum()
            let articleMiss = abs(articleTop - (article.relevance.sum() + article.totalAbsorbed))
            notebook.check(.truth(text("backbone.article-check"),
                                  articleMiss.isFinite
                                      ? "|Σ R_top − (Σ R_i + kept)| = \(formatWide(articleMiss)) > \(formatWide(ledger.value))"
                                      : "|Σ R_top − (Σ R_i + kept)| is not even a number: the relevance overflowed Float32",
                                  !articleMiss.isFinite || articleMiss > ledger.value))

            // Why (ii) goes wrong.
            notebook.step(text("backbone.why.title"), id: "lrp.article-why")
            notebook.prose(text("backbone.why.body", ["articleGrowth": formatWide(articleGrowth),
                                                      "canonicalGrowth": formatWide(canonicalGrowth)]))
            notebook.math("R_j = a_j Σ_k w_jk R_k / (z_k + ε·sign z_k)",
                          latex: #"R_j = a_j \sum_k \frac{w_{jk}\, R_k}{z_k + \epsilon\,\mathrm{sign}\,z_k}"#)
            notebook.check(.truth(text("backbone.growth-check"),
                                  "(ii) \(articleGrowth.isFinite ? formatWide(articleGrowth) : "overflow") > (iii) \(formatWide(canonicalGrowth))",
                                  !articleGrowth.isFinite || articleGrowth > canonicalGrowth))
        } else {
            notebook.prose(text("article.meant.small", ["articleGrowth": formatWide(articleGrowth),
                                                        "canonicalGrowth": formatWide(canonicalGrowth)]))
        }
        let asRunMap = channelSum(asRun.slice(0))                              // [H, W]
        let articleMap2D = channelSum(article.relevance.slice(0))               // [H, W]
        let canonicalMap2D = channelSum(canonical.relevance.slice(0))           // [H, W]
        notebook.picture(text("article.row", ["top": setup.topLabel]), [
            .image(text("heatmap.input"), photo),
            AttributionPanels.heatmap(text("article.asrun.label"), asRunMap),
            AttributionPanels.heatmap(text("backbone.article"), articleMap2D),
            AttributionPanels.heatmap(text("backbone.canonical"), canonicalMap2D),
        ])

        // The control the article missed: the same methods from another start.
        let controlMap2D = channelSum(canonicalControl.relevance.slice(0))
        notebook.step(text("control.title"), id: "lrp.control")
        notebook.prose(text(isResNet ? "control.body.resnet" : "control.body.small",
                            ["start": translated(setup.startDescription), "control": translated(setup.controlDescription),
                             "mean": "\(articleMean)", "std": "\(articleStd)"]))
        // (iii) from two starts differs by more than the rounding of its two ledgers could make it.
        let difference = zip(canonical.relevance.data, canonicalControl.relevance.data).reduce(0.0) { $0 + Double(abs($1.0 - $1.1)) }
        let controlLedger = ledger + ledgerTolerance(canonicalControl.steps, inputRelevance: canonicalControl.relevance)
        notebook.check(.truth(text("control.check"),
                              "Σ_i |R_i − R'_i| = \(formatWide(difference)) > \(formatWide(controlLedger.value))",
                              difference > controlLedger.value))
        notebook.picture(text("control.row"), [
            AttributionPanels.heatmap(text("control.asrun", ["start": translated(setup.startLabel)]), asRunMap),
            AttributionPanels.heatmap(text("control.asrun", ["start": translated(setup.controlLabel)]), channelSum(asRunControl.slice(0))),
            AttributionPanels.heatmap(text("control.canonical", ["start": translated(setup.startLabel)]), canonicalMap2D),
            AttributionPanels.heatmap(text("control.canonical", ["start": translated(setup.controlLabel)]), controlMap2D),
        ])
    }

    /// A missing input relevance, as a lesson error rather than a crash.
    static func required(_ value: Tensor?) throws -> Tensor {
        guard let value else { throw MiniNetError.invalidModel("the article's code found no input relevance") }
        return value
    }

    /// Like `format`, but in scientific notation for magnitudes the fixed format cannot show.
    static func formatWide(_ value: Double) -> String {
        let size = abs(value)
        return size != 0 && (size >= 1e6 || size < 1e-4) ? String(format: "%.4e", value) : format(value)
    }

    /// The largest Σ_j |R_j| over the ledger's layers: the scale of the rounding in sums of relevance.
    static func largestRelevanceMagnitude(_ steps: [LRPLayerStep]) -> Double {
        steps.map(\.relevanceMagnitude).max() ?? 0
    }

    /// Layer-wise conservation, Σ_i R_i = f(x), and LRP-0 = gradient × input on the bias-free network.
    static func conservationSteps(_ notebook: Notebook, text: LessonText, classifier: ImageClassifier,
                                  picture: Tensor, target: Int) throws {
        let input = classifier.normalize(picture)
        let result = try layerwiseRelevance(classifier: classifier, input: input, target: target, rule: .zero)
        let score = Double(result.score)

        notebook.step(text("conservation.title"), id: "lrp.conservation")
        notebook.prose(text("conservation.body", ["score": format(result.score)]))
        notebook.table(text("conservation.table"), headers: ["Σ R at the input of", "type", "rule", "Σ R"],
                       rows: [["output (y^c)", "", "", format(result.score)]] + result.steps.map {
                           [$0.layer, $0.typeName, $0.treatment, format($0.relevanceAtInput)]
                       })
        // Each layer has its own tolerance (its sums, its terms); a layer that adds nothing (ReLU,
        // Flatten) must be exact. The first layer, where the relevance reaches the pixels, is
        // shown with both sides; every layer is checked, and one that fails is named. (Showing
        // the layer that used most of its tolerance would name a different layer on another
        // processor.)
        let layerChecks = result.steps.map { step in
            Check.equal(text("conservation.layers"), "Σ R_in at \(step.layer)", step.relevanceAtInput,
                        "Σ R_out at \(step.layer)", step.relevanceAtOutput, tolerance: layerTolerance(step))
        }
        if let first = layerChecks.last { notebook.check(first) }
        let failing = zip(result.steps, layerChecks).filter { !$0.1.ok }.map(\.0.layer)
        notebook.check(.truth(text("conservation.every", ["count": "\(layerChecks.count)"]),
                              failing.isEmpty ? text("conservation.every.holds") : failing.joined(separator: ", "), failing.isEmpty))
        notebook.math("Σ_i R_i = f(x)", latex: #"\sum_i R_i = f(x)"#)
        notebook.check(.equal(text("conservation.check"), "Σ_i R_i", result.relevance.sum(), "f(x)", score,
                              tolerance: ledgerTolerance(result.steps, inputRelevance: result.relevance)))

        notebook.step(text("gradient.title"), id: "lrp.gradient")
        notebook.prose(text("gradient.body"))
        notebook.math("R_i = x_i · ∂f/∂x_i", latex: #"R_i = x_i \, \frac{\partial f}{\partial x_i}"#)
        let logits = classifier.forward(input.reshaped([1] + input.shape))
        var seed = Tensor(zeros: logits.shape)
        seed.data[target] = 1
        let gradient = classifier.backward(seed).slice(0)                      // [3, H, W]: ∂f/∂x
        classifier.network.zeroGradients()
        let gradientTimesInput = gradient * input
        notebook.tensor(translated("Σ_channels ∂f/∂x"), channelSum(gradient), caption: text("gradient.caption"))
        notebook.check(.equal(text("gradient.check"), "LRP-0", result.relevance, "gradient × input", gradientTimesInput,
                              tolerance: gradientTolerance(result.steps)))
    }

    /// The rounding of one layer's ledger, Σ R_in + bias kept + ε kept = Σ R_out: z_k adds
    /// fan-in + 1 terms and c_j = Σ_k w_jk s_k adds fan-out terms, each off by γ · Σ|terms|, and
    /// both sums' terms are the z_jk s_k (with b_k s_k and ε s_k): at most γ_sumLength ·
    /// Σ_jk |a_j w_jk s_k| (`LRPLayerStep.termMagnitude`). Leaving out the largest R_j must show.
    static func layerTolerance(_ step: LRPLayerStep) -> Tolerance {
        guard step.sumLength > 0 else { return .exact }   // R passed on unchanged
        return .sum(count: step.sumLength, magnitude: step.termMagnitude,
                    largestTerm: step.relevance.map { Double($0.data.map(abs).max() ?? 0) })
    }

    /// The rounding of a whole ledger, f(x) (or Σ R_top) = Σ_i R_i + Σ_layers (bias kept + ε kept).
    /// It telescopes: each layer's Σ R_out = Σ R_in + kept + its own rounding, so the errors of
    /// the layers simply add, Σ_layers γₙ · Σ|terms| ≤ γ_max n · Σ_layers Σ|terms| (depth 1: an
    /// error made at one layer is passed on as relevance, and the layers below conserve it).
    /// The sums in Double (Σ R_i, the kept amounts) add nothing. Leaving out the largest term of
    /// the ledger, one pixel's R_i or one layer's kept amount, must show.
    static func ledgerTolerance(_ steps: [LRPLayerStep], inputRelevance: Tensor) -> Tolerance {
        let largestPixel = Double(inputRelevance.data.map(abs).max() ?? 0)
        let largestKept = steps.map { Swift.max(abs($0.absorbedByBias), abs($0.absorbedByStabilizer)) }.max() ?? 0
        return .sum(count: steps.map(\.sumLength).max() ?? 1, magnitude: steps.reduce(0) { $0 + $1.termMagnitude },
                    largestTerm: Swift.max(largestPixel, largestKept))
    }

    /// The rounding of LRP-0 = gradient × input, pixel by pixel. Both routes run the same
    /// backward sums c = Wᵀ s layer by layer (LRP with s = R/z, the gradient with s = ∂f/∂z), so
    /// each is off by the rounding of those sums: γ of the sum lengths of all the layers,
    /// Σ_layers γₙ ≤ γ_Σn, times the size of a pixel's terms at the first layer,
    /// Σ_k |x_i w_ik s_k| (errors made higher up reach the pixel through 1-Lipschitz ReLU and
    /// max-pooling and these same weights). Two routes, two parts. A pixel's largest term is at
    /// least its mean term, Σ_k |x_i w_ik s_k| / n of the first layer.
    static func gradientTolerance(_ steps: [LRPLayerStep]) -> Tolerance {
        guard let first = steps.last(where: { $0.termMagnitudes != nil }), let magnitudes = first.termMagnitudes else {
            return .exact
        }
        let largest = Double(magnitudes.data.max() ?? 0)
        let route = Tolerance.sum(count: steps.reduce(0) { $0 + $1.sumLength }, magnitude: largest,
                                  largestTerm: largest / Double(Swift.max(first.sumLength, 1)))
        return route + route
    }

    /// [C, H, W] → [H, W]: the relevance of a pixel is the sum over its colour channels.
    static func channelSum(_ relevance: Tensor) -> Tensor { AttributionDisplay.channelSum(relevance) }

    static func format(_ value: Float) -> String { format(Double(value)) }
    static func format(_ value: Double) -> String { String(format: "%.5f", value) }
}

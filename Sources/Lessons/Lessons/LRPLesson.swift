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
public enum LRPLesson: Lesson {
    public static let id = "lrp"
    public static let summary = "Layer-wise relevance propagation: share the score back, layer by layer"

    /// ε of the ledger step: large enough to see it absorb relevance, small next to the logits.
    static let ledgerEpsilon: Float = 0.1

    public static func build(_ context: LessonContext) throws -> Notebook {
        let text = try LessonText(lesson: id, language: context.language)
        let classifier = context.classifier
        let imageSize = classifier.inputSize[1]
        if let layer = context.layer, classifier.layer(named: layer) == nil {
            throw MiniNetError.invalidArgument("no layer named '\(layer)'; layers are: \(classifier.layerNames.joined(separator: ", "))")
        }
        if let target = context.targetClass, !(0..<classifier.classNames.count).contains(target) {
            throw MiniNetError.invalidArgument("class \(target) is out of range 0..<\(classifier.classNames.count)")
        }
        let picture = context.pictureOrDefault(imageSize: imageSize)          // [3, H, W] in 0…1
        let input = classifier.normalize(picture)                              // [3, H, W]
        classifier.network.setTraining(false)
        let logits = classifier.forward(input.reshaped([1] + input.shape)).data // [L]
        let predicted = Tensor(shape: [logits.count], data: logits).argmax
        let target = context.targetClass ?? predicted
        let className = classifier.classNames[target]

        let notebook = Notebook(lesson: id, title: text("title"))
        notebook.prose(text("intro"))

        // Step 1: the picture, the score, and BatchNorm folded away.
        notebook.step(text("score.title"))
        notebook.prose(text("score.body", ["class": className, "score": format(logits[target])]))
        notebook.table(text("score.table"), headers: ["c", "class", "y^c"],
                       rows: logits.indices.map { ["\($0)", classifier.classNames[$0], format(logits[$0])] })
        let merged = try mergingBatchNorm(classifier.network)
        let mergedLogits = merged.forward(input.reshaped([1] + input.shape))
        notebook.prose(text("score.merge"))
        notebook.math("w' = w·γ/√(σ² + eps),   b' = (b − μ)·γ/√(σ² + eps) + β",
                      latex: #"w' = w\,\frac{\gamma}{\sqrt{\sigma^2+\mathrm{eps}}},\quad b' = (b-\mu)\,\frac{\gamma}{\sqrt{\sigma^2+\mathrm{eps}}} + \beta"#)
        let logitScale = Double(logits.map(abs).max() ?? 1)
        notebook.check(.equal(text("score.check"), "logits with BatchNorm", Tensor(shape: [logits.count], data: logits),
                              "logits merged", mergedLogits.reshaped([logits.count]), tolerance: 1e-5 * Swift.max(1, logitScale)))

        // Step 2: the rules, tried on the last layer where they can be followed by hand.
        notebook.step(text("rule.title"))
        notebook.prose(text("rule.body"))
        notebook.math("R_j = Σ_k z_jk / Σ_j z_jk · R_k,   z_jk = a_j w_jk",
                      latex: #"R_j = \sum_k \frac{z_{jk}}{\sum_{j} z_{jk}}\, R_k, \qquad z_{jk} = a_j w_{jk}"#)
        notebook.prose(text("rule.epsilon", ["epsilon": "\(ledgerEpsilon)"]))
        notebook.math("R_j = Σ_k a_j w_jk / (ε·sign(z_k) + Σ_j a_j w_jk) · R_k",
                      latex: #"R_j = \sum_k \frac{a_j w_{jk}}{\epsilon\,\mathrm{sign}(z_k) + \sum_j a_j w_{jk}}\, R_k"#)
        notebook.prose(text("rule.example"))
        let epsilonResult = try layerwiseRelevance(classifier: classifier, input: input, target: target,
                                                   rule: .epsilon(ledgerEpsilon))
        guard let head = classifier.network.allLayers.last(where: { $0 is Linear }) as? Linear,
              let headStep = epsilonResult.steps.first(where: { $0.layer == head.name }) else {
            throw MiniNetError.invalidModel("the lesson needs a network that ends in a Linear layer")
        }
        let pooled = headStep.activation.reshaped([head.inputFeatures])        // [K]: a_j
        let headWeights = head.weight.value                                    // [L, K]
        let headBias = head.bias?.value.data[target] ?? 0
        // R_j by loops: only output c carries relevance (R_k = 0 for k ≠ c).
        var z = headBias
        for j in 0..<head.inputFeatures { z += pooled.data[j] * headWeights[target, j] }
        let denominator = z + (z >= 0 ? ledgerEpsilon : -ledgerEpsilon)
        let byLoops = Tensor(shape: [head.inputFeatures], data: (0..<head.inputFeatures).map {
            pooled.data[$0] * headWeights[target, $0] / denominator * epsilonResult.score
        })
        notebook.tensor("a", pooled, caption: text("rule.activation", ["layer": head.name]))
        notebook.tensor("R", headStep.relevance.reshaped([head.inputFeatures]), caption: text("rule.relevance", ["layer": head.name]))
        notebook.check(.equal(text("rule.check"), "gradient trick", headStep.relevance.reshaped([head.inputFeatures]),
                              "loops", byLoops, tolerance: 1e-5 * Swift.max(1, Double(byLoops.data.map(abs).max() ?? 0))))

        // Steps 3–4: exact conservation on the bias-free network.
        if let biasFree = context.biasFreeClassifier {
            try conservationSteps(notebook, text: text, classifier: biasFree, picture: picture, target: target)
        } else {
            notebook.step(text("conservation.title"))
            notebook.prose(text("conservation.missing"))
        }

        // Step 5: the ledger on the model with biases.
        notebook.step(text("ledger.title"))
        notebook.prose(text("ledger.body", ["epsilon": "\(ledgerEpsilon)"]))
        notebook.table(text("ledger.table"), headers: ["layer", "type", "rule", "Σ R received", "Σ R passed on", "bias kept", "ε kept"],
                       rows: epsilonResult.steps.map {
                           [$0.layer, $0.typeName, $0.treatment, format($0.relevanceAtOutput), format($0.relevanceAtInput),
                            format($0.absorbedByBias), format($0.absorbedByStabilizer)]
                       })
        let totalBias = epsilonResult.steps.reduce(0) { $0 + $1.absorbedByBias }
        let totalEpsilon = epsilonResult.steps.reduce(0) { $0 + $1.absorbedByStabilizer }
        let pixelTotal = epsilonResult.relevance.sum()
        notebook.prose(text("ledger.totals", ["score": format(epsilonResult.score), "pixels": format(pixelTotal),
                                               "bias": format(totalBias), "epsilon": format(totalEpsilon)]))
        notebook.math("f(x) = Σ_i R_i + Σ_layers (bias kept + ε kept)",
                      latex: #"f(x) = \sum_i R_i + \sum_{\text{layers}} \left(\text{bias kept} + \epsilon\text{ kept}\right)"#)
        let ledgerScale = Swift.max(1, abs(Double(epsilonResult.score)), totalMagnitude(epsilonResult.relevance))
        notebook.check(.equal(text("ledger.check"), "f(x)", Double(epsilonResult.score),
                              "Σ R_i + bias + ε", pixelTotal + totalBias + totalEpsilon, tolerance: 1e-5 * ledgerScale))

        // Step 6: the heatmap.
        notebook.step(text("heatmap.title"))
        notebook.prose(text("heatmap.body"))
        let heatmap = channelSum(epsilonResult.relevance)                     // [H, W]
        notebook.tensor("Σ_channels R", heatmap, caption: text("heatmap.caption"))
        let photo = RGBImage(tensor: picture)
        notebook.picture(text("heatmap.row", ["class": className]), [
            .image(text("heatmap.input"), photo),
            .heatmap(text("heatmap.relevance"), heatmap, map: .diverging),
            .overlay(text("heatmap.overlay"), heatmap: heatmap, on: photo, map: .diverging),
        ])
        return notebook
    }

    /// Layer-wise conservation, Σ_i R_i = f(x), and LRP-0 = gradient × input on the bias-free network.
    static func conservationSteps(_ notebook: Notebook, text: LessonText, classifier: ImageClassifier,
                                  picture: Tensor, target: Int) throws {
        let input = classifier.normalize(picture)
        let result = try layerwiseRelevance(classifier: classifier, input: input, target: target, rule: .zero)
        let score = Double(result.score)
        let scale = Swift.max(1, abs(score), totalMagnitude(result.relevance))

        notebook.step(text("conservation.title"))
        notebook.prose(text("conservation.body", ["score": format(result.score)]))
        notebook.table(text("conservation.table"), headers: ["Σ R at the input of", "type", "rule", "Σ R"],
                       rows: [["output (y^c)", "", "", format(result.score)]] + result.steps.map {
                           [$0.layer, $0.typeName, $0.treatment, format($0.relevanceAtInput)]
                       })
        let worstLayer = result.steps.map { abs($0.relevanceAtInput - $0.relevanceAtOutput) }.max() ?? 0
        notebook.check(.equal(text("conservation.layers"), "max over layers |Σ R_in − Σ R_out|", worstLayer,
                              "0", 0, tolerance: 1e-5 * scale))
        notebook.math("Σ_i R_i = f(x)", latex: #"\sum_i R_i = f(x)"#)
        notebook.check(.equal(text("conservation.check"), "Σ_i R_i", result.relevance.sum(), "f(x)", score,
                              tolerance: 1e-5 * scale))

        notebook.step(text("gradient.title"))
        notebook.prose(text("gradient.body"))
        notebook.math("R_i = x_i · ∂f/∂x_i", latex: #"R_i = x_i \, \frac{\partial f}{\partial x_i}"#)
        let logits = classifier.forward(input.reshaped([1] + input.shape))
        var seed = Tensor(zeros: logits.shape)
        seed.data[target] = 1
        let gradient = classifier.backward(seed).slice(0)                      // [3, H, W]: ∂f/∂x
        classifier.network.zeroGradients()
        let gradientTimesInput = gradient * input
        notebook.tensor("∂f/∂x", gradient, caption: text("gradient.caption"))
        let largest = Double(Swift.max(abs(gradientTimesInput.max), abs(gradientTimesInput.min)))
        notebook.check(.equal(text("gradient.check"), "LRP-0", result.relevance, "gradient × input", gradientTimesInput,
                              tolerance: 1e-5 * Swift.max(largest, 1e-3)))
    }

    /// Σ_i |R_i|: the size of the numbers a sum of relevances adds up, the scale of its rounding.
    static func totalMagnitude(_ tensor: Tensor) -> Double {
        tensor.data.reduce(0) { $0 + Double(abs($1)) }
    }

    /// [C, H, W] → [H, W]: the relevance of a pixel is the sum over its colour channels.
    static func channelSum(_ relevance: Tensor) -> Tensor {
        var map = Tensor(zeros: Array(relevance.shape.dropFirst()))
        for channel in 0..<relevance.shape[0] { map += relevance.slice(channel) }
        return map
    }

    static func format(_ value: Float) -> String { format(Double(value)) }
    static func format(_ value: Double) -> String { String(format: "%.5f", value) }
}

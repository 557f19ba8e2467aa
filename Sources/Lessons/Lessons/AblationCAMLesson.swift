import Foundation
import MiniNet

/// Ablation-CAM (Desai & Ramaswamy), computed on the small CNN with every intermediate number:
///
///     y^c_k   = the class score with A^k set to 0 and the rest of the network re-run
///     w^c_k   = (y^c − y^c_k) / y^c                 the fraction of the score that channel k carries
///     L^c     = ReLU( Σ_k w^c_k A^k )
///
/// With a global-average-pooling → linear head right after the layer, ablation is exact:
///
///     y^c − y^c_k = W_ck · mean(A^k)      and      Σ_k (y^c − y^c_k) = y^c − b_c
///
/// The lesson also shows why ablation still works where gradients saturate (a softmax
/// probability near 1), and that a score near 0 gives a clear error instead of a division by 0.
public enum AblationCAMLesson: Lesson {
    public static let id = "ablationcam"
    /// One line for `tutor lessons`, in the reader's language.
    public static var summary: String { translated("Ablation-CAM: switch off one feature map at a time and weigh it by the score it carried") }

    /// The probability above which a prediction counts as saturated in step 6.
    static let confidentProbability: Float = 0.999

    public static func build(_ context: LessonContext) throws -> Notebook {
        let text = try LessonText(lesson: id, language: context.language)
        let classifier = context.classifier
        let setup = try LessonSetup(context)
        let (picture, input, layer, logits, predicted, targetClass) =
            (setup.picture, setup.input, setup.layer, setup.logits, setup.predicted, setup.target)
        let target = ExplanationTarget.logit(targetClass)
        let className = classifier.classNames[targetClass]

        // Count the forward passes of the whole explanation: the head runs once for the
        // full pass and once per batch of ablated copies; the first layer runs only once.
        let method = AblationCAM(classifier: classifier)
        let head = classifier.network.allLayers.last { !($0 is Sequential) }
        let first = classifier.network.allLayers.first { !($0 is Sequential) }
        let counter = PassCounter()
        head?.hooks.forward = { output in counter.headPasses += 1; return output }
        if let first, first.name != layer { first.hooks.forward = { output in counter.firstPasses += 1; return output } }
        let result: CAMResult
        do {
            defer { head?.hooks.forward = nil; if first?.name != layer { first?.hooks.forward = nil } }
            result = try method.explain(input: input, layer: layer, target: target)
        }
        let activations = result.activations                                  // [K, h, w]
        let (channels, height, width) = (activations.shape[0], activations.shape[1], activations.shape[2])
        let score = result.score                                              // y^c
        let values = ["class": className, "classIndex": "\(targetClass)", "layer": layer,
                      "channels": "\(channels)", "height": "\(height)", "width": "\(width)",
                      "score": format(score), "predicted": classifier.classNames[predicted]]

        let notebook = Notebook(lesson: id, title: text("title"))
        notebook.prose(text("intro", values))

        // Step 1: the score and the feature maps.
        notebook.step(text("score.title"), id: "ablationcam.score")
        notebook.prose(text("score.body", values))
        notebook.table(text("score.table"), headers: ["class", "zᶜ"],
                       rows: CAMLessonSupport.shownClasses(logits, target: targetClass).map { [classifier.classNames[$0], format(logits[$0])] },
                       dataColumns: [0])
        notebook.tensor("A", activations, caption: text("score.caption", values))

        // Step 2: ablate each channel.
        let ablatedScores = try method.ablatedScores(activations: activations, layer: layer, target: target) // [K]
        let drops = ablatedScores.map { score - $0 }                          // y^c − y^c_k
        let norms = (0..<channels).map { Float(sqrt(activations.slice($0).map { $0 * $0 }.sum())) }
        let means = (0..<channels).map { Float(activations.slice($0).mean()) }
        let fractions = drops.map { $0 / score }                              // w^c_k by hand
        notebook.step(text("ablate.title"), id: "ablationcam.ablate")
        notebook.prose(text("ablate.body", values))
        notebook.math(translated("yᶜₖ = yᶜ(A with Aᵏ = 0),   slopeₖ = (yᶜ − yᶜₖ)/‖Aᵏ‖,   wᶜₖ = (yᶜ − yᶜₖ)/yᶜ"),
                      latex: translated(#"y^c_k = y^c\big|_{A^k = 0}, \quad \mathrm{slope}_k = \frac{y^c - y^c_k}{\lVert A^k \rVert}, \quad w^c_k = \frac{y^c - y^c_k}{y^c}"#))
        notebook.table(text("ablate.table", values),
                       headers: ["k", "mean(Aᵏ)", "‖Aᵏ‖", "yᶜₖ", "yᶜ − yᶜₖ", "slope", "wᶜₖ"],
                       rows: (0..<channels).map { k in
                           ["\(k)", format(means[k]), format(norms[k]), format(ablatedScores[k]), format(drops[k]),
                            norms[k] > 0 ? format(drops[k] / norms[k]) : "—", format(fractions[k])]
                       }, limit: .ranked(byMagnitudeOf: 6))
        let batches = (channels + method.batchSize - 1) / method.batchSize
        notebook.prose(text("ablate.passes", ["batch": "\(method.batchSize)", "channels": "\(channels)",
                                              "batches": "\(batches)", "passes": "\(1 + batches)"]))
        // Pass counts are integers: they agree exactly or not at all.
        notebook.check(.equal(text("ablate.passes-check"), "head passes counted", Double(counter.headPasses),
                              "1 + ⌈K/batch⌉", Double(1 + batches), tolerance: .exact))
        if let first, first.name != layer {
            notebook.check(.equal(text("ablate.first-check", ["first": first.name]), "passes counted",
                                  Double(counter.firstPasses), "one full pass", 1, tolerance: .exact))
        }

        // Step 3: from drops to weights.
        notebook.step(text("fraction.title"), id: "ablationcam.fraction")
        notebook.prose(text("fraction.body", values))
        // The article's reason for the fraction, measured on the table of step 2: ‖Aᵏ‖ against
        // the drop, over the maps that change the score at all.
        let slopes = norms.indices.filter { norms[$0] > 0 }.map { Double(drops[$0] / norms[$0]) }
        let ratios = norms.indices.filter { drops[$0] != 0 }.map { Double(norms[$0]) / Double(abs(drops[$0])) }.sorted()
        if !ratios.isEmpty, let slopeMin = slopes.min(), let slopeMax = slopes.max() {
            let median = ratios[(ratios.count - 1) / 2]                       // the lower median
            let normValues = ["ratio": format(Float(median)), "slopeMin": format(Float(slopeMin)), "slopeMax": format(Float(slopeMax))]
            let holds = median > 1
            notebook.prose(text(holds ? "fraction.norms.large" : "fraction.norms.small", normValues))
            // The sentence against the table, counted instead of sorted: the lower median is
            // above 1 exactly when more than half of the maps have ‖Aᵏ‖ > |yᶜ − yᶜₖ|.
            let larger = norms.indices.filter { drops[$0] != 0 && abs(drops[$0]) < norms[$0] }.count
            notebook.check(.truth(text(holds ? "fraction.norms.check" : "fraction.norms.check-small"),
                                  "‖Aᵏ‖ > |yᶜ − yᶜₖ| for \(larger) of \(ratios.count) maps",
                                  holds == (2 * larger > ratios.count)))
        }
        notebook.prose(text("fraction.own", values))
        if score < 0 { notebook.prose(text("fraction.negative", values)) }
        let bySlope = rankedChannels(norms.indices.map { norms[$0] > 0 ? drops[$0] / norms[$0] : 0 })
        let byFraction = rankedChannels(fractions)
        notebook.prose(text("fraction.ranking", ["slopeTop": "\(bySlope[0])", "fractionTop": "\(byFraction[0])"]))
        notebook.tensor("wᶜ", Tensor(shape: [channels], data: result.weights), caption: text("fraction.caption"))
        // The same float32 operations, (yᶜ − yᶜₖ)/yᶜ, on the same ablated scores (the same
        // batches through the same layers): bit for bit the same numbers.
        notebook.check(.equal(text("fraction.check"), "(yᶜ − yᶜₖ)/yᶜ by hand", Tensor(shape: [channels], data: fractions),
                              "AblationCAM.weights", Tensor(shape: [channels], data: result.weights), tolerance: .exact))

        // Step 4: a linear head makes ablation exact.
        notebook.step(text("linear.title"), id: "ablationcam.linear")
        let headLinear = head as? Linear
        let feedsHead = (layer == context.defaultCAMLayer(for: classifier) || layer == "features")
            && headLinear?.inputFeatures == channels
        if let linear = headLinear, feedsHead {
            let row = Array(linear.weight.value.data[(targetClass * channels)..<((targetClass + 1) * channels)]) // [K]
            let bias = linear.bias?.value.data[targetClass] ?? 0
            let predictedDrops = (0..<channels).map { row[$0] * means[$0] }   // W_ck · mean(A^k)
            let rounding = headRounding(activations: activations, row: row, bias: bias)
            notebook.prose(text("linear.body", values))
            notebook.math("yᶜ = Σₖ Wᶜₖ · mean(Aᵏ) + b_c   ⇒   yᶜ − yᶜₖ = Wᶜₖ · mean(Aᵏ)",
                          latex: #"y^c = \sum_k W_{ck}\,\mathrm{mean}(A^k) + b_c \;\Rightarrow\; y^c - y^c_k = W_{ck}\,\mathrm{mean}(A^k)"#)
            // yᶜ and yᶜₖ are two float32 logits, each rounded on its own: two logits' worth. The
            // right side is one product of a Double mean, exact to u.
            notebook.check(.equal(text("linear.per-channel"), "yᶜ − yᶜₖ (ablation)", Tensor(shape: [channels], data: drops),
                                  "Wᶜₖ · mean(Aᵏ)", Tensor(shape: [channels], data: predictedDrops),
                                  tolerance: rounding.logit + rounding.logit))
            // Σₖ (yᶜ − yᶜₖ) − (yᶜ − b_c) = (K − 1)·e − Σₖ eₖ, with e the rounding of yᶜ (in every
            // drop, once cancelled by the right side) and eₖ that of yᶜₖ: 2K − 1 logits' worth.
            // Leaving out one channel's drop, the largest one, must still show.
            let largestDrop = drops.reduce(0) { max($0, Double(abs($1))) }
            let sumTolerance = Tolerance.sum(count: rounding.logit.count, magnitude: Double(2 * channels - 1) * rounding.magnitude,
                                             largestTerm: largestDrop, depth: 2)
            notebook.check(.equal(text("linear.sum"), "Σₖ (yᶜ − yᶜₖ)", drops.reduce(0.0) { $0 + Double($1) },
                                  "yᶜ − b_c", Double(score) - Double(bias), tolerance: sumTolerance))
        } else {
            notebook.prose(text("linear.skipped", values))
        }

        // Step 5: the map.
        notebook.step(text("map.title"), id: "ablationcam.map")
        notebook.prose(text("map.body", values))
        notebook.math("Lᶜ = ReLU(Σₖ wᶜₖ Aᵏ)", latex: #"L^c = \mathrm{ReLU}\Big(\sum_k w^c_k A^k\Big)"#)
        notebook.tensor("Σₖ wᶜₖ Aᵏ", result.weightedSum, caption: text("map.sum-caption", values))
        notebook.tensor("Lᶜ", result.map, caption: text("map.caption", values))
        let mapByLoops = CAMLessonSupport.weightedSumByLoops(activations, weights: fractions).map { max($0, 0) }
        // AblationCAM adds K float32 products per pixel; the loops add them in Double (exact to u).
        // ReLU cannot enlarge the difference.
        let termSizes = CAMLessonSupport.weightedSumByLoops(activations.map(abs), weights: fractions.map(abs)) // Σₖ |wᶜₖ Aᵏ|
        notebook.check(.equal(text("map.check"), "ReLU(Σ wᶜₖ Aᵏ) by loops", mapByLoops, "AblationCAM.map", result.map,
                              tolerance: .elementwise(count: channels, magnitudes: termSizes)))
        let photo = RGBImage(tensor: picture)
        notebook.picture(text("map.picture", values), [
            .image(text("map.input"), photo),
            .heatmap("Ablation-CAM", result.normalized),
            .overlay(text("map.overlay"), heatmap: result.normalized, on: photo),
            .heatmap("Σₖ wᶜₖ Aᵏ", result.weightedSum, map: .diverging),
        ])

        // Step 6: gradient saturation.
        try saturationStep(notebook, text: text, classifier: classifier, layer: layer, context: context)

        // Step 7: a score near 0.
        notebook.step(text("zero.title"), id: "ablationcam.zero")
        notebook.prose(text("zero.body", ["minimum": "\(method.minimumScore)"]))
        let strict = AblationCAM(classifier: classifier)
        strict.minimumScore = abs(score) + 1
        var message = ""
        do { _ = try strict.explain(input: input, layer: layer, target: target) } catch { message = "\(error)" }
        notebook.prose(text("zero.demo", ["minimum": format(strict.minimumScore), "score": format(score),
                                          "message": translated(message.isEmpty ? "(no error)" : message)]))
        notebook.check(.truth(text("zero.check"), "AblationCAM threw: \(!message.isEmpty)",
                              message.contains("too close to 0")))
        notebook.references(text)
        return notebook
    }

    /// Step 6: on a confidently classified sample, the probability P_c is flat in the
    /// activations, so Grad-CAM's α (a slope) nearly vanishes; ablation measures a finite
    /// change, which on a saturating softmax is larger than the slope predicts:
    ///
    ///     gradient estimate of the drop:  g_k = Σ_ij ∂P_c/∂A^k_ij · A^k_ij
    ///     actual drop:                    P_c − P_c,k
    static func saturationStep(_ notebook: Notebook, text: LessonText, classifier: ImageClassifier,
                               layer: String, context: LessonContext) throws {
        notebook.step(text("saturation.title"), id: "ablationcam.saturation")
        // The shapes data set offers many pictures to find a confident one; a photo model has the reader's photo.
        let images: [Tensor]                                                                     // N × [3, H, W]
        if context.usesShapesData {
            let dataset = ShapesDataset(count: 64, seed: 2026, imageSize: classifier.inputSize[1])
            images = (0..<dataset.count).map { classifier.normalize(dataset.sample(at: $0).image) }
        } else {
            images = [classifier.normalize(context.pictureOrDefault(imageSize: classifier.inputSize[1]))]
        }
        let sampleCount = images.count
        let batchLogits = classifier.forward(Tensor.stack(images))                              // [N, L]
        let probabilities = softmax(batchLogits)                                                 // [N, L]
        let classes = batchLogits.shape[1]
        // The first confident sample from index `seed` on, else the most confident one.
        var chosen = Int(context.seed % UInt64(sampleCount))
        var best: Float = -1
        for offset in 0..<sampleCount {
            let index = (Int(context.seed % UInt64(sampleCount)) + offset) % sampleCount
            let top = probabilities.data[(index * classes)..<((index + 1) * classes)].max() ?? 0
            if top > best { best = top; chosen = index }
            if top > confidentProbability { break }
        }
        let row = Array(probabilities.data[(chosen * classes)..<((chosen + 1) * classes)])
        let confidentClass = Tensor(shape: [classes], data: row).argmax
        let probability = row[confidentClass]
        if probability <= confidentProbability && !context.usesShapesData {
            notebook.prose(text("saturation.unconfident", ["class": classifier.classNames[confidentClass],
                                                           "probability": String(format: "%.6f", probability),
                                                           "threshold": "\(confidentProbability)"]))
            return
        }
        let input = images[chosen]                                                               // [3, H, W]
        let probabilityTarget = ExplanationTarget.probability(confidentClass)

        let gradCAM = try GradCAM(classifier: classifier).explain(input: input, layer: layer, target: probabilityTarget)
        let probe = try LayerProbe(classifier: classifier, input: input, layer: layer, target: probabilityTarget)
        let ablation = AblationCAM(classifier: classifier)
        let ablatedProbabilities = try ablation.ablatedScores(activations: probe.activations, layer: layer,
                                                              target: probabilityTarget)         // [K]
        let logitResult = try ablation.explain(input: input, layer: layer, target: .logit(confidentClass))
        let channels = probe.activations.shape[0]
        let planeSize = probe.activations.count / channels
        let probabilityDrops = ablatedProbabilities.map { probability - $0 }                     // P − P_k
        let gradientEstimates = (0..<channels).map { k -> Float in                                // g_k
            var total = 0.0
            for index in (k * planeSize)..<((k + 1) * planeSize) {
                total += Double(probe.gradients.data[index]) * Double(probe.activations.data[index])
            }
            return Float(total)
        }
        let largestAlpha = gradCAM.weights.map(abs).max() ?? 0
        let ranking = rankedChannels(probabilityDrops)
        let top = ranking[0]
        let values = ["sample": "\(chosen)", "class": classifier.classNames[confidentClass],
                      "probability": String(format: "%.6f", probability), "threshold": "\(confidentProbability)",
                      "alpha": String(format: "%.2e", largestAlpha), "top": "\(top)",
                      "drop": String(format: "%.2e", probabilityDrops[top]),
                      "estimate": String(format: "%.2e", gradientEstimates[top]),
                      "ratio": String(format: "%.2f", probabilityDrops[top] / gradientEstimates[top]),
                      "logitTop": "\(rankedChannels(logitResult.weights)[0])"]
        notebook.prose(text("saturation.body", values))
        notebook.math("∂P_c/∂z_c = P_c(1 − P_c) → 0,   gₖ = Σᵢⱼ ∂P_c/∂Aᵏᵢⱼ · Aᵏᵢⱼ",
                      latex: #"\frac{\partial P_c}{\partial z_c} = P_c(1 - P_c) \to 0, \qquad g_k = \sum_{i,j} \frac{\partial P_c}{\partial A^k_{ij}} A^k_{ij}"#)
        notebook.table(text("saturation.table"),
                       headers: ["k", "αᵏ (Grad-CAM on P)", "gₖ", "P − Pₖ", "(P − Pₖ)/gₖ", "wᶜₖ on P", "wᶜₖ on z"],
                       rows: ranking.prefix(6).map { k in
                           [String(k), String(format: "%.2e", gradCAM.weights[k]), String(format: "%.2e", gradientEstimates[k]),
                            String(format: "%.2e", probabilityDrops[k]),
                            gradientEstimates[k] != 0 ? String(format: "%.2f", probabilityDrops[k] / gradientEstimates[k]) : "—",
                            String(format: "%.2e", probabilityDrops[k] / probability), format(logitResult.weights[k])]
                       })
        notebook.check(.truth(text("saturation.confident", values), "P = \(values["probability"] ?? "") > \(confidentProbability)",
                              probability > confidentProbability))
        notebook.check(.truth(text("saturation.alpha"), "max |α| = \(values["alpha"] ?? "") < 1e-3", largestAlpha < 1e-3))
        notebook.check(.truth(text("saturation.drop", values),
                              "P − Pₖ = \(values["drop"] ?? "") > gₖ = \(values["estimate"] ?? "")",
                              probabilityDrops[top] > gradientEstimates[top] && probabilityDrops[top] > 0))
        notebook.prose(text("saturation.lesson", values))
    }

    /// The rounding of one float32 logit of the head GAP → Linear after the layer:
    ///
    ///     yᶜ = Σₖ Wᶜₖ · mean(Aᵏ) + b_c,    M = Σₖ |Wᶜₖ| · mean(|Aᵏ|) + |b_c|
    ///
    /// two sums (depth 2): the average pooling of h·w terms per channel, and the K + 1 terms of
    /// the linear layer. Each pooling error is at most γ_hw · mean(|Aᵏ|), weighed by |Wᶜₖ|, so M
    /// bounds both. `logit` is one logit's tolerance (its largest term the largest |Wᶜₖ mean(Aᵏ)|
    /// or |b_c|), `magnitude` is M.
    static func headRounding(activations: Tensor, row: [Float], bias: Float) -> (logit: Tolerance, magnitude: Double) {
        let channels = activations.shape[0]
        let planeSize = activations.count / max(channels, 1)
        var magnitude = Double(abs(bias))
        var largestTerm = Double(abs(bias))
        for k in 0..<channels {
            let plane = activations.slice(k)
            magnitude += Double(abs(row[k])) * plane.map(abs).mean()
            largestTerm = max(largestTerm, abs(Double(row[k]) * plane.mean()))
        }
        let count = max(channels + 1, planeSize + 1)
        return (.sum(count: count, magnitude: magnitude, largestTerm: largestTerm, depth: 2), magnitude)
    }

    /// Channel indices sorted by value, largest first.
    static func rankedChannels(_ values: [Float]) -> [Int] {
        values.indices.sorted { values[$0] > values[$1] || (values[$0] == values[$1] && $0 < $1) }
    }

    static func format(_ value: Float) -> String { String(format: "%.4f", value) }

    /// Counts forward passes through two layers with hooks.
    final class PassCounter {
        var headPasses = 0
        var firstPasses = 0
    }
}

import Foundation
import MiniNet

/// Lesson "cam": Class Activation Mapping (Zhou et al. 2016) on the tutor's CNN, in the
/// article's notation, with every identity checked on the network's own numbers:
///
///     F^k = Σ_{x,y} f_k(x, y)                    (the article; the network takes the mean, F^k/Z)
///     S_c = Σ_k w^c_k F^k_mean + b_c              P_c = exp(S_c) / Σ_j exp(S_j)
///     M_c(x, y) = Σ_k w^c_k f_k(x, y)             S_c = (1/Z) Σ_{x,y} M_c(x, y) + b_c
///
/// then M_c is upsampled to the picture (bilinear, align_corners = False). The pipeline is
/// MiniNet's `CAM`; the lesson recomputes each identity independently.
public enum CAMLesson: Lesson {
    public static let id = "cam"
    /// One line for `tutor lessons`, in the reader's language.
    public static var summary: String { translated("Class Activation Mapping: weigh the last feature maps by the classifier's weights") }

    public static func build(_ context: LessonContext) throws -> Notebook {
        let text = try LessonText(lesson: id, language: context.language)
        let classifier = context.classifier
        let names = classifier.classNames
        let camLayer = context.defaultCAMLayer(for: classifier)
        if let chosen = context.layer, chosen != camLayer {
            _ = try CAMLessonSupport.layer(context)    // an unknown name gets the "no layer named" message
            throw MiniNetError.invalidArgument(
                "CAM explains only '\(camLayer)', the layer that feeds global average pooling; '\(chosen)' needs Grad-CAM (tutor lesson gradcam)")
        }
        guard let head = classifier.network.allLayers.last(where: { $0 is Linear }) as? Linear,
              let pool = classifier.network.allLayers.first(where: { $0 is GlobalAveragePool }) else {
            throw MiniNetError.invalidModel("CAM needs global average pooling followed by a linear layer")
        }
        let (image, input) = try CAMLessonSupport.picture(context)          // [3, H, W] each

        // The network's own pooled features F_mean [1, K, 1, 1], captured on the way.
        var pooledByNetwork: Tensor?
        pool.hooks.forward = { output in pooledByNetwork = output; return output }
        defer { pool.hooks.forward = nil }
        // The pass CAM makes below takes the same route (Winograd or im2col, by the same rule),
        // so the pooling checks compare two orders of one sum, as their tolerance models.
        classifier.prepareForExplanation()
        let logits = classifier.forward(input.reshaped([1] + input.shape)).data    // [L]
        pool.hooks.forward = nil
        let c = try CAMLessonSupport.targetClass(context, logits: logits)
        let result = try CAM(classifier: classifier).explain(input: input, layer: camLayer, target: .logit(c))
        let features = result.activations                                           // [K, h, w]
        let (channels, height, width) = (features.shape[0], features.shape[1], features.shape[2])
        let cells = height * width                                                  // Z
        let values = ["class": names[c], "c": "\(c)", "layer": camLayer, "K": "\(channels)",
                      "h": "\(height)", "w": "\(width)", "Z": "\(cells)",
                      "H": "\(input.shape[1])", "W": "\(input.shape[2])"]
        let notebook = Notebook(lesson: id, title: text("title"))
        notebook.prose(text("intro", values))

        // Step 1: the feature maps f_k of the last block.
        notebook.step(text("features.title"), id: "cam.features")
        notebook.prose(text("features.body", values))
        notebook.tensor("f", features, caption: text("features.caption", values))
        let strongest = (0..<channels).max { features.slice($0).sum() < features.slice($1).sum() } ?? 0
        notebook.picture(text("features.picture"), [
            .image("x", RGBImage(tensor: image)),
            .heatmap("f_\(strongest)", minMaxNormalize(features.slice(strongest))),
        ])

        // Step 2: global average pooling, the network's mean and the article's sum.
        notebook.step(text("pooling.title"), id: "cam.pooling")
        notebook.prose(text("pooling.body", values))
        notebook.math("F^k_sum = Σ_{x,y} f_k(x, y),   F^k_mean = (1/Z) Σ_{x,y} f_k(x, y) = F^k_sum / Z",
                      latex: #"F^k_{\mathrm{sum}} = \sum_{x,y} f_k(x,y), \qquad F^k_{\mathrm{mean}} = \frac{1}{Z}\sum_{x,y} f_k(x,y) = \frac{F^k_{\mathrm{sum}}}{Z}"#)
        let pooledSum = Tensor(shape: [channels], data: (0..<channels).map { Float(features.slice($0).sum()) })
        let pooledMean = Tensor(shape: [channels], data: (0..<channels).map { Float(features.slice($0).mean()) })
        let networkMean = pooledByNetwork?.reshaped([channels]) ?? Tensor(zeros: [0])
        notebook.tensor("F_sum", pooledSum, caption: text("pooling.sum"))
        notebook.tensor("F_mean", networkMean, caption: text("pooling.mean"))
        // Each F^k is a float32 sum of Z terms on each side; Σ|terms| is mean|f_k| (× Z for the sum).
        let absoluteMeans = Tensor(shape: [channels], data: (0..<channels).map { Float(features.slice($0).map(abs).mean()) })
        let meanTolerance = Tolerance.elementwise(count: cells, magnitudes: absoluteMeans)
        notebook.check(.equal(text("pooling.network"), "F_mean (network)", networkMean,
                              "(1/Z) Σ f_k", pooledMean, tolerance: meanTolerance + meanTolerance))
        let sumTolerance = Tolerance.elementwise(count: cells, magnitudes: absoluteMeans * Float(cells))
        notebook.check(.equal(text("pooling.relation", values), "F_sum", pooledSum, "Z · F_mean", networkMean * Float(cells),
                              tolerance: sumTolerance + sumTolerance))

        // Step 3: the class score and its probability.
        notebook.step(text("score.title"), id: "cam.score")
        notebook.prose(text("score.body", values))
        notebook.math("S_c = Σ_k w^c_k F^k_mean + b_c = Σ_k (w^c_k / Z) F^k_sum + b_c",
                      latex: #"S_c = \sum_k w^c_k F^k_{\mathrm{mean}} + b_c = \sum_k \frac{w^c_k}{Z} F^k_{\mathrm{sum}} + b_c"#)
        let classCount = head.outputFeatures
        let weightsOf = { (j: Int) in Array(head.weight.value.data[(j * channels)..<((j + 1) * channels)]) }
        let biasOf = { (j: Int) in head.bias?.value.data[j] ?? 0 }
        let scores: [Double] = (0..<classCount).map { j in
            zip(weightsOf(j), pooledMean.data).reduce(Double(biasOf(j))) { $0 + Double($1.0) * Double($1.1) }
        }
        let scoresFromSums: [Double] = (0..<classCount).map { j in
            zip(weightsOf(j), pooledSum.data).reduce(Double(biasOf(j))) { $0 + Double($1.0) / Double(cells) * Double($1.1) }
        }
        notebook.tensor("w^c", Tensor(shape: [channels], data: result.weights), caption: text("score.weights", values))
        // Both sides pool Z cells and add K + 1 terms, each route in float32 somewhere.
        let logitTolerance = Tolerance.pooledLogit(features, weights: weightsOf(c), bias: biasOf(c))
        notebook.check(.equal(text("score.check", values), "S_c", scores[c], "z_c (network)", Double(logits[c]),
                              tolerance: logitTolerance + logitTolerance))
        notebook.check(.equal(text("score.sums"), "Σ_k (w^c_k/Z) F^k_sum + b_c", scoresFromSums[c], "S_c", scores[c],
                              tolerance: logitTolerance + logitTolerance))
        notebook.math("P_c = exp(S_c) / Σ_j exp(S_j)", latex: #"P_c = \frac{e^{S_c}}{\sum_j e^{S_j}}"#)
        let largest = scores.max() ?? 0
        let exponentials = scores.map { exp($0 - largest) }
        // The softmax by hand, from the network's logits: the two sides differ only by the
        // rounding of float32 exponentials and of a sum of L probabilities (Σ|terms| = 1).
        let logitsLargest = Double(logits.max() ?? 0)
        let exponentialsOfLogits = logits.map { exp(Double($0) - logitsLargest) }
        let probability = exponentialsOfLogits[c] / exponentialsOfLogits.reduce(0, +)
        let networkProbabilities = softmax(Tensor(shape: [1, logits.count], data: logits)).data
        notebook.table(text("score.table"), headers: ["j", "class", "b_j", "S_j", "P_j"],
                       rows: (0..<classCount).map { j in
                           ["\(j)", names[j], CAMLessonSupport.number(biasOf(j)), CAMLessonSupport.number(scores[j]),
                            CAMLessonSupport.number(exponentials[j] / exponentials.reduce(0, +))]
                       }, limit: .ranked(byColumn: 3, keeping: [c]), dataColumns: [1])
        notebook.check(.equal(text("score.probability", values), "exp(z_c)/Σ_j exp(z_j)", probability,
                              "softmax(z)_c", Double(networkProbabilities[c]),
                              tolerance: .sum(count: logits.count, magnitude: 1, largestTerm: probability)))

        // Step 4: the class activation map, and the score as its average plus the bias.
        notebook.step(text("map.title"), id: "cam.map")
        notebook.prose(text("map.body", values))
        notebook.math("M_c(x, y) = Σ_k w^c_k f_k(x, y),   S_c = (1/Z) Σ_{x,y} M_c(x, y) + b_c",
                      latex: #"M_c(x,y) = \sum_k w^c_k f_k(x,y), \qquad S_c = \frac{1}{Z}\sum_{x,y} M_c(x,y) + b_c"#)
        let mapByLoops = CAMLessonSupport.weightedSumByLoops(features, weights: weightsOf(c))          // [h, w]
        notebook.tensor("M_c", result.weightedSum, caption: text("map.caption", values))
        let weightedSumTolerance = Tolerance.weightedSum(features, weights: weightsOf(c))
        notebook.check(.equal(text("map.loops"), "CAM.weightedSum", result.weightedSum, "Σ_k w^c_k f_k (loops)", mapByLoops,
                              tolerance: weightedSumTolerance + weightedSumTolerance))
        let mapSum = mapByLoops.sum()
        notebook.check(.equal(text("map.score", values), "(1/Z) Σ M_c + b_c", mapSum / Double(cells) + Double(biasOf(c)),
                              "z_c", Double(logits[c]), tolerance: logitTolerance + logitTolerance))
        let cellsTolerance = Tolerance.pooledLogit(features, weights: weightsOf(c), bias: biasOf(c), scale: Double(cells))
        notebook.check(.equal(text("map.article"), "Σ_{x,y} M_c", mapSum, "Z · (S_c − b_c)",
                              Double(cells) * (Double(logits[c]) - Double(biasOf(c))), tolerance: cellsTolerance + cellsTolerance))
        notebook.prose(text("map.bias", ["bias": CAMLessonSupport.number(biasOf(c)),
                                         "mean": CAMLessonSupport.number(mapSum / Double(cells))]))
        notebook.tensor("ReLU(M_c)", result.map, caption: text("map.relu"))

        // Step 5: upsampling to the picture.
        notebook.step(text("upsample.title"), id: "cam.upsample")
        notebook.prose(text("upsample.body", values))
        notebook.math(translated("src(i) = max(0, (i + ½)·h/H − ½),   M↑(i, j) = Σ bilinear weights × the 4 nearest cells"),
                      latex: #"\mathrm{src}(i) = \max\!\left(0, (i + \tfrac12)\tfrac{h}{H} - \tfrac12\right)"#)
        let upsampledByFormula = bilinear(result.map, height: input.shape[1], width: input.shape[2])
        notebook.tensor("M↑", result.upsampled, caption: text("upsample.caption", values))
        let upsamplingTolerance = Tolerance.upsampling(result.map)
        notebook.check(.equal(text("upsample.formula"), "CAM.upsampled", result.upsampled, "formula", upsampledByFormula,
                              tolerance: upsamplingTolerance + upsamplingTolerance))
        let constant = Tensor(repeating: 0.75, shape: [1, height, width])
        let upsampledConstant = resizeBilinear(constant, height: input.shape[1], width: input.shape[2])
        notebook.check(.equal(text("upsample.constant"), "upsampled 0.75", upsampledConstant,
                              "0.75", Tensor(repeating: 0.75, shape: upsampledConstant.shape),
                              tolerance: Tolerance.upsampling(constant.reshaped([height, width]))))
        notebook.check(.equal(text("upsample.corner"), "M↑(0, 0)", Double(result.upsampled[0, 0]),
                              "ReLU(M_c)(0, 0)", Double(result.map[0, 0]), tolerance: upsamplingTolerance))
        let photo = RGBImage(tensor: image)
        notebook.picture(text("upsample.picture", values), [
            .image("x", photo),
            .heatmap("ReLU(M_c) \(height)×\(width)", minMaxNormalize(result.map)),
            .heatmap("M↑ \(input.shape[1])×\(input.shape[2])", result.normalized),
            .overlay("overlay", heatmap: result.normalized, on: photo),
        ])

        // Step 6: two classes, one picture.
        if context.usesShapesData {
            try twoClassScene(context, notebook: notebook, text: text, layer: camLayer)
        } else {
            try twoClassPhoto(context, notebook: notebook, text: text, layer: camLayer, head: head, image: image, input: input, logits: logits)
        }
        notebook.references(text)
        return notebook
    }

    /// On a photo without shape masks (an ImageNet ResNet): the CAMs of the two most likely
    /// classes and their contrast, with the identity that ties the contrast to the logits,
    ///
    ///     (1/Z) Σ_{x,y} (M_a − M_b)(x, y) = (z_a − b_a) − (z_b − b_b)
    static func twoClassPhoto(_ context: LessonContext, notebook: Notebook, text: LessonText, layer: String, head: Linear,
                              image: Tensor, input: Tensor, logits: [Float]) throws {
        let names = classifier(context).classNames
        let ranked = logits.indices.sorted { logits[$0] > logits[$1] }
        let a = context.targetClass ?? ranked[0]
        let b = ranked.first { $0 != a } ?? a
        let cam = CAM(classifier: context.classifier)
        let results = try [a, b].map { try cam.explain(input: input, layer: layer, target: .logit($0)) }
        notebook.step(text("scene.title"), id: "cam.scene")
        notebook.prose(text("photo.body", ["a": names[a], "b": names[b]]))
        let photo = RGBImage(tensor: image)
        notebook.picture(text("scene.picture"), [
            .image("x", photo),
            .overlay("CAM \(names[a])", heatmap: results[0].normalized, on: photo),
            .overlay("CAM \(names[b])", heatmap: results[1].normalized, on: photo),
        ])
        let (height, width) = (image.shape[1], image.shape[2])
        let contrastCells = results[0].weightedSum - results[1].weightedSum               // [h, w]
        let contrast = resizeBilinear(contrastCells.reshaped([1] + contrastCells.shape), height: height, width: width)
            .reshaped([height, width])                                                    // [H, W]
        notebook.prose(text("scene.contrast", ["a": names[a], "b": names[b]]))
        notebook.math("M_a − M_b = Σ_k (w^a_k − w^b_k) f_k,   (1/Z) Σ_{x,y} (M_a − M_b) = (z_a − b_a) − (z_b − b_b)",
                      latex: #"M_a - M_b = \sum_k (w^a_k - w^b_k)\, f_k, \qquad \frac{1}{Z}\sum_{x,y} (M_a - M_b) = (z_a - b_a) - (z_b - b_b)"#)
        notebook.picture(text("scene.contrast.picture", ["a": names[a], "b": names[b]]), [
            .image("x", photo),
            .heatmap("M_\(names[a]) − M_\(names[b])", contrast, map: .diverging),
        ])
        let bias = head.bias?.value.data ?? [Float](repeating: 0, count: logits.count)
        let meanContrast = contrastCells.sum() / Double(contrastCells.count)
        let logitContrast = (Double(logits[a]) - Double(bias[a])) - (Double(logits[b]) - Double(bias[b]))
        // Two logits on each side, each rounded as a pooled linear score of the same maps.
        let channels = results[0].activations.shape[0]
        let rowOf = { (j: Int) in Array(head.weight.value.data[(j * channels)..<((j + 1) * channels)]) }
        let logitsTolerance = [a, b].map { Tolerance.pooledLogit(results[0].activations, weights: rowOf($0), bias: bias[$0]) }
            .reduce(Tolerance.exact, +)
        notebook.check(.equal(text("photo.check", ["a": names[a], "b": names[b]]), "(1/Z) Σ (M_a − M_b)", meanContrast,
                              "(z_a − b_a) − (z_b − b_b)", logitContrast, tolerance: logitsTolerance + logitsTolerance))
        notebook.prose(text("photo.after", ["a": names[a], "b": names[b]]))
    }

    static func classifier(_ context: LessonContext) -> ImageClassifier { context.classifier }

    /// CAMs of both classes of a two-shape scene, side by side, and where their mass falls.
    static func twoClassScene(_ context: LessonContext, notebook: Notebook, text: LessonText, layer: String) throws {
        let classifier = context.classifier
        let size = classifier.inputSize[1]
        guard ShapesDataset.imageSizes.contains(size), classifier.inputSize[1] == classifier.inputSize[2],
              classifier.classNames.count >= 3 else {
            throw MiniNetError.invalidModel("the two-shape scene needs a shapes model with square \(ShapesDataset.imageSizes) inputs")
        }
        let scene = ShapesDataset.twoShapeScene(seed: context.seed, imageSize: size)
        let input = classifier.normalize(scene.image)
        let cam = CAM(classifier: classifier)
        let results = try scene.labels.map { try cam.explain(input: input, layer: layer, target: .logit($0)) }
        let (a, b) = (scene.labels[0], scene.labels[1])
        let names = classifier.classNames
        notebook.step(text("scene.title"), id: "cam.scene")
        notebook.prose(text("scene.body", ["a": names[a], "b": names[b]]))
        let photo = RGBImage(tensor: scene.image)
        notebook.picture(text("scene.picture"), [
            .image("x", photo),
            .overlay("CAM \(names[a])", heatmap: results[0].normalized, on: photo),
            .overlay("CAM \(names[b])", heatmap: results[1].normalized, on: photo),
        ])
        // fraction[i][m]: share of the mass of class i's map (ReLU, upsampled) inside mask m.
        let fraction = results.map { result in
            scene.masks.map { CAMLessonSupport.massFraction(result.upsampled, inside: $0) }
        }
        notebook.table(text("scene.table"), headers: ["map", "mass in \(names[a]) mask", "mass in \(names[b]) mask"],
                       rows: [0, 1].map { i in
                           ["CAM \(names[scene.labels[i]])", CAMLessonSupport.number(fraction[i][0]), CAMLessonSupport.number(fraction[i][1])]
                       })
        let sharesHold = fraction[0][0] > fraction[1][0] && fraction[1][1] > fraction[0][1]
        notebook.prose(text(sharesHold ? "scene.shares.hold" : "scene.shares.fail", ["a": names[a], "b": names[b]]))

        // The contrast M_a − M_b = Σ_k (w^a_k − w^b_k) f_k: the CAM of the logit difference z_a − z_b.
        let (height, width) = (scene.image.shape[1], scene.image.shape[2])
        let signed = results.map { result in
            resizeBilinear(result.weightedSum.reshaped([1] + result.weightedSum.shape), height: height, width: width)
                .reshaped([height, width])
        }
        let contrast = signed[0] - signed[1]                                       // [H, W]
        let meanOn = scene.masks.map { mask in (contrast * mask).sum() / max(mask.sum(), 1e-12) }
        notebook.prose(text("scene.contrast", ["a": names[a], "b": names[b]]))
        notebook.math("M_a − M_b = Σ_k (w^a_k − w^b_k) f_k",
                      latex: #"M_a - M_b = \sum_k (w^a_k - w^b_k)\, f_k"#)
        notebook.picture(text("scene.contrast.picture", ["a": names[a], "b": names[b]]), [
            .image("x", photo),
            .heatmap("M_\(names[a]) − M_\(names[b])", contrast, map: .diverging),
        ])
        notebook.check(.truth(text("scene.contrast.check", ["a": names[a], "b": names[b]]),
                              "mean on \(names[a]) \(CAMLessonSupport.number(meanOn[0])) > mean on \(names[b]) \(CAMLessonSupport.number(meanOn[1]))",
                              meanOn[0] > meanOn[1]))
        notebook.prose(text("scene.after"))
    }

    /// Bilinear upsampling of one map [h, w] → [H, W] as torch's interpolate with
    /// align_corners = False: output pixel i looks at source row
    ///
    ///     s = max(0, (i + ½)·h/H − ½),   y₀ = ⌊s⌋,  y₁ = min(y₀ + 1, h − 1),  λ = s − y₀
    ///
    /// and mixes (1 − λ)·row y₀ + λ·row y₁ (the same along columns).
    static func bilinear(_ map: Tensor, height outputHeight: Int, width outputWidth: Int) -> Tensor {
        let (height, width) = (map.shape[0], map.shape[1])
        func source(_ i: Int, _ count: Int, _ outputCount: Int) -> (Int, Int, Double) {
            let s = max(0, (Double(i) + 0.5) * Double(count) / Double(outputCount) - 0.5)
            let low = min(Int(s.rounded(.down)), count - 1)
            return (low, min(low + 1, count - 1), s - Double(low))
        }
        var output = Tensor(zeros: [outputHeight, outputWidth])
        for i in 0..<outputHeight {
            let (y0, y1, ly) = source(i, height, outputHeight)
            for j in 0..<outputWidth {
                let (x0, x1, lx) = source(j, width, outputWidth)
                let top = (1 - lx) * Double(map[y0, x0]) + lx * Double(map[y0, x1])
                let bottom = (1 - lx) * Double(map[y1, x0]) + lx * Double(map[y1, x1])
                output[i, j] = Float((1 - ly) * top + ly * bottom)
            }
        }
        return output
    }
}

import Foundation
import MiniNet

/// Lesson "gradcam": Grad-CAM (Selvaraju et al. 2017) in three steps, with checks:
///
///     1. ∂y^c/∂A^k by backpropagation           (checked by central finite differences)
///     2. α^c_k = (1/Z) Σ_{i,j} ∂y^c/∂A^k_{ij}
///     3. L^c = ReLU(Σ_k α^c_k A^k)
///
/// then why it generalises CAM: at the layer that feeds GAP → linear, ∂y^c/∂A^k_{ij} = w^c_k/Z
/// everywhere, so α^c_k = w^c_k/Z and L^c = ReLU(M_c)/Z; and it works at any other layer too.
/// The pipeline is MiniNet's `GradCAM`; the lesson recomputes each identity independently.
public enum GradCAMLesson: Lesson {
    public static let id = "gradcam"
    /// One line for `tutor lessons`, in the reader's language.
    public static var summary: String { translated("Grad-CAM: weigh feature maps by the average gradient of the class score") }

    /// The step of the central differences (the activations are of order 1).
    static let finiteDifferenceStep: Float = 1e-2

    public static func build(_ context: LessonContext) throws -> Notebook {
        let text = try LessonText(lesson: id, language: context.language)
        let classifier = context.classifier
        let names = classifier.classNames
        let setup = try LessonSetup(context)
        let (layer, image, input, logits, c) = (setup.layer, setup.picture, setup.input, setup.logits, setup.target)
        let gradCAM = GradCAM(classifier: classifier)
        let probe = try LayerProbe(classifier: classifier, input: input, layer: layer, target: .logit(c))
        let result = try gradCAM.explain(input: input, layer: layer, target: .logit(c))
        let activations = probe.activations                                  // [K, h, w]
        let gradients = probe.gradients                                      // [K, h, w]
        let (channels, height, width) = (activations.shape[0], activations.shape[1], activations.shape[2])
        let cells = height * width                                           // Z
        // The rounding of one score re-run from A, and the step h that keeps it small: the layers
        // after A are piecewise linear, so a central difference has no truncation error between
        // kinks, and its rounding error is at most δ/h. h = 32·δ / max|∂y/∂A| (a power of 2, at
        // least 1/100) keeps that below 1/32 of the largest gradient.
        let rerunTolerance = classifier.forwardTolerance(input: input, target: c, after: layer)
        let largestGradient = max(CAMLessonSupport.scale(gradients), .leastNormalMagnitude)
        let step = max(finiteDifferenceStep, Float(pow(2, log2(32 * rerunTolerance.value / largestGradient).rounded(.up))))
        let values = ["class": names[c], "c": "\(c)", "layer": layer, "K": "\(channels)", "h": "\(height)",
                      "w": "\(width)", "Z": "\(cells)", "step": "\(step)"]
        let notebook = Notebook(lesson: id, title: text("title"))
        notebook.prose(text("intro", values))

        // Step 1: the gradient, by backpropagation and by finite differences.
        notebook.step(text("gradient.title"), id: "gradcam.gradient")
        notebook.prose(text("gradient.body", values))
        notebook.tensor("A", activations, caption: text("gradient.activations", values))
        notebook.tensor("∂y^c/∂A", gradients, caption: text("gradient.caption", values))
        notebook.math("∂y^c/∂A^k_{ij} ≈ [y^c(A + h·e_{kij}) − y^c(A − h·e_{kij})] / 2h",
                      latex: #"\frac{\partial y^c}{\partial A^k_{ij}} \approx \frac{y^c(A + h\,e_{kij}) - y^c(A - h\,e_{kij})}{2h}"#)
        let rerun = try scoreAfter(layer, activations: activations, classifier: classifier, target: c)
        let basePiece = classifier.network.linearPieceSignature
        notebook.check(.equal(text("gradient.rerun"), "y^c (re-run from A)", Double(rerun),
                              "y^c", Double(logits[c]), tolerance: rerunTolerance + rerunTolerance))
        var backpropagated: [Float] = []
        var numerical: [Float] = []
        var rows: [[String]] = []
        var skipped = 0
        var smallestStep = step
        for index in candidatePositions(gradients, seed: context.seed) where backpropagated.count < 4 {
            // A ReLU that switches or a max-pool window that changes its winner within ±h puts
            // a kink between the points, where a finite difference measures no derivative; the
            // network's linear piece (its ReLU and max-pool pattern) tells. The step is halved
            // up to three times to stay on one piece; a position that still is not is left out.
            var positionStep = step
            var onOnePiece = false
            var (plus, minus, high, low) = (activations, activations, Float(0), Float(0))
            for _ in 0..<4 {
                (plus, minus) = (activations, activations)
                plus.data[index] += positionStep
                minus.data[index] -= positionStep
                high = try scoreAfter(layer, activations: plus, classifier: classifier, target: c)
                let highPiece = classifier.network.linearPieceSignature
                low = try scoreAfter(layer, activations: minus, classifier: classifier, target: c)
                if highPiece == basePiece && classifier.network.linearPieceSignature == basePiece { onOnePiece = true; break }
                positionStep /= 2
            }
            guard onOnePiece else {
                skipped += 1
                continue
            }
            smallestStep = min(smallestStep, positionStep)
            // Divided by the step actually taken: A ± h is itself rounded.
            let estimate = Float((Double(high) - Double(low)) / (Double(plus.data[index]) - Double(minus.data[index])))
            backpropagated.append(gradients.data[index])
            numerical.append(estimate)
            let (k, i, j) = (index / cells, (index % cells) / width, index % width)
            rows.append(["(\(k), \(i), \(j))", CAMLessonSupport.number(activations.data[index]),
                         String(format: "%.6f", gradients.data[index]), String(format: "%.6f", estimate)])
        }
        // (y⁺ − y⁻)/2h: each score within δ, so the estimate within 2δ/2h; backpropagation adds
        // its own rounding through the same layers, with the gradients as magnitude.
        let rerunPart = rerunTolerance.parts[0]
        let backpropagationTolerance = Tolerance.sum(count: rerunPart.count, magnitude: largestGradient,
                                                     largestTerm: largestGradient, depth: rerunPart.depth)
        let differenceModel = rerunTolerance.scaled(by: 1 / Double(smallestStep))
        let differenceTolerance = Tolerance(parts: differenceModel.parts.map { part in
            var part = part
            part.largestTerm = largestGradient     // a mistake in the gradient shows at its own scale
            return part
        }, extra: 0, extraReason: nil) + backpropagationTolerance
        notebook.table(text("gradient.table"), headers: ["(k, i, j)", "A^k_ij", "backprop", "finite difference"], rows: rows)
        let backpropagatedTensor = Tensor(shape: [backpropagated.count], data: backpropagated)
        notebook.check(.equal(text("gradient.check", values), "backprop", backpropagatedTensor,
                              "finite differences", Tensor(shape: [numerical.count], data: numerical),
                              tolerance: differenceTolerance))
        notebook.check(.truth(text("gradient.enough"), "\(numerical.count) positions compared", numerical.count >= 2))
        if skipped > 0 { notebook.prose(text("gradient.kinks", ["skipped": "\(skipped)"])) }

        // Step 2: the channel weights α.
        notebook.step(text("weights.title"), id: "gradcam.weights")
        notebook.prose(text("weights.body", values))
        notebook.math("α^c_k = (1/Z) Σ_{i,j} ∂y^c/∂A^k_{ij}",
                      latex: #"\alpha^c_k = \frac{1}{Z}\sum_{i,j} \frac{\partial y^c}{\partial A^k_{ij}}"#)
        let alpha = Tensor(shape: [channels], data: result.weights)
        let alphaByHand = Tensor(shape: [channels], data: (0..<channels).map { Float(gradients.slice($0).mean()) })
        notebook.tensor("α^c", alpha, caption: text("weights.caption", values))
        // Each α_k is a mean of Z gradients on both sides; Σ|terms| is mean|∂y^c/∂A^k|.
        let meanGradients = Tensor(shape: [channels], data: (0..<channels).map { Float(gradients.slice($0).map(abs).mean()) })
        let alphaTolerance = Tolerance.elementwise(count: cells, magnitudes: meanGradients)
        notebook.check(.equal(text("weights.check"), "GradCAM weights", alpha, "(1/Z) Σ ∂y^c/∂A^k", alphaByHand,
                              tolerance: alphaTolerance + alphaTolerance))

        // Step 3: the map.
        notebook.step(text("map.title"), id: "gradcam.map")
        notebook.prose(text("map.body", values))
        notebook.math("L^c = ReLU(Σ_k α^c_k A^k)", latex: #"L^c = \mathrm{ReLU}\Big(\sum_k \alpha^c_k A^k\Big)"#)
        let mapByHand = relu(CAMLessonSupport.weightedSumByLoops(activations, weights: alphaByHand.data))
        notebook.tensor("L^c", result.map, caption: text("map.caption", values))
        // K terms per cell; the two sides' α differ by up to the tolerance above, times Σ_k A^k.
        let mapTolerance = Tolerance.weightedSum(activations, weights: alphaByHand.data)
        let largestActivationSum = (0..<cells).map { cell in (0..<channels).reduce(0.0) { $0 + Double(abs(activations.data[$1 * cells + cell])) } }.max() ?? 0
        notebook.check(.equal(text("map.check"), "GradCAM map", result.map, "ReLU(Σ α A) (loops)", mapByHand,
                              tolerance: mapTolerance + mapTolerance + (alphaTolerance + alphaTolerance).scaled(by: largestActivationSum)))
        let photo = RGBImage(tensor: image)
        notebook.picture(text("map.picture", values), [
            .image("x", photo),
            .heatmap("L^c \(height)×\(width)", minMaxNormalize(result.map)),
            .overlay("Grad-CAM", heatmap: result.normalized, on: photo),
        ])

        // Step 4: at the last layer Grad-CAM is CAM.
        try versusCAM(context, notebook: notebook, text: text, input: input, target: c)

        // Step 5: any layer works.
        let camLayer = context.defaultCAMLayer(for: classifier)
        if let earlier = CAMLessonSupport.earlierFeatureLayer(before: layer == camLayer ? camLayer : layer, in: classifier) {
            let early = try gradCAM.explain(input: input, layer: earlier, target: .logit(c))
            let earlyProbe = try LayerProbe(classifier: classifier, input: input, layer: earlier, target: .logit(c))
            notebook.step(text("earlier.title"), id: "gradcam.earlier")
            notebook.prose(text("earlier.body", ["layer": earlier, "K": "\(early.activations.shape[0])",
                                                 "h": "\(early.activations.shape[1])", "w": "\(early.activations.shape[2])",
                                                 "last": camLayer]))
            notebook.tensor("α^c (\(earlier))", Tensor(shape: [early.weights.count], data: early.weights),
                            caption: text("earlier.caption", ["layer": earlier]))
            let spread = largestSpreadWithinChannel(earlyProbe.gradients)
            notebook.check(.truth(text("earlier.spread", ["layer": earlier]),
                                  "max_k (max − min of ∂y^c/∂A^k) = \(String(format: "%.6f", spread)) > 0", spread > 0))
            notebook.picture(text("earlier.picture", ["class": names[c]]), [
                .image("x", photo),
                .overlay("Grad-CAM \(earlier)", heatmap: early.normalized, on: photo),
                .overlay("Grad-CAM \(layer)", heatmap: result.normalized, on: photo),
            ])
        }
        notebook.references(text)
        return notebook
    }

    /// Step 4: at the layer feeding global average pooling → linear, α^c_k = w^c_k / Z and
    /// Grad-CAM = ReLU(M_c) / Z.
    static func versusCAM(_ context: LessonContext, notebook: Notebook, text: LessonText, input: Tensor, target c: Int) throws {
        let classifier = context.classifier
        let camLayer = context.defaultCAMLayer(for: classifier)
        guard let head = classifier.network.allLayers.last(where: { $0 is Linear }) as? Linear else {
            throw MiniNetError.invalidModel("the model has no final linear layer")
        }
        let probe = try LayerProbe(classifier: classifier, input: input, layer: camLayer, target: .logit(c))
        let gradCAM = try GradCAM(classifier: classifier).explain(input: input, layer: camLayer, target: .logit(c))
        let cam = try CAM(classifier: classifier).explain(input: input, layer: camLayer, target: .logit(c))
        let (channels, cells) = (probe.activations.shape[0], probe.activations.shape[1] * probe.activations.shape[2])
        let weights = Tensor(shape: [channels], data: Array(head.weight.value.data[(c * channels)..<((c + 1) * channels)]))
        notebook.step(text("versus.title"), id: "gradcam.versus")
        notebook.prose(text("versus.body", ["layer": camLayer, "Z": "\(cells)"]))
        notebook.math("y^c = Σ_k w^c_k (1/Z) Σ_{i,j} A^k_{ij} + b_c  ⇒  ∂y^c/∂A^k_{ij} = w^c_k / Z  ⇒  α^c_k = w^c_k / Z",
                      latex: #"y^c = \sum_k w^c_k \frac{1}{Z}\sum_{i,j} A^k_{ij} + b_c \;\Rightarrow\; \frac{\partial y^c}{\partial A^k_{ij}} = \frac{w^c_k}{Z} \;\Rightarrow\; \alpha^c_k = \frac{w^c_k}{Z}"#)
        let spread = largestSpreadWithinChannel(probe.gradients)
        // ∂y^c/∂A^k_ij = w^c_k / Z comes out of one multiplication per cell: exact up to one
        // rounding of |w^c_k| / Z (n = 1 term; two values of a channel differ by at most twice that).
        let weightScale = CAMLessonSupport.scale(weights) / Double(cells)
        let gradientTolerance = Tolerance.sum(count: 1, magnitude: weightScale)
        notebook.check(.equal(text("versus.constant"), "max_k (max − min of ∂y^c/∂A^k)", Double(spread), "0", 0,
                              tolerance: gradientTolerance + gradientTolerance))
        // α is the mean of Z equal gradients (Z terms of |w^c_k|/Z), w^c/Z one division.
        let alpha = Tensor(shape: [channels], data: gradCAM.weights)
        notebook.check(.equal(text("versus.alpha"), "α^c", alpha, "w^c / Z", weights * (1 / Float(cells)),
                              tolerance: .sum(count: cells, magnitude: weightScale) + gradientTolerance))
        notebook.math("L^c = ReLU(Σ_k (w^c_k/Z) A^k) = ReLU(M_c) / Z",
                      latex: #"L^c = \mathrm{ReLU}\Big(\sum_k \frac{w^c_k}{Z} A^k\Big) = \frac{\mathrm{ReLU}(M_c)}{Z}"#)
        let camOverZ = cam.map * (1 / Float(cells))
        // Both maps add K terms per cell, with weights that agree to the tolerance of α.
        let camTolerance = Tolerance.weightedSum(probe.activations, weights: (weights * (1 / Float(cells))).data)
        let largestActivationSum = (0..<cells).map { cell in (0..<channels).reduce(0.0) { $0 + Double(abs(probe.activations.data[$1 * cells + cell])) } }.max() ?? 0
        notebook.check(.equal(text("versus.map"), "Grad-CAM", gradCAM.map, "ReLU(CAM) / Z", camOverZ,
                              tolerance: camTolerance + camTolerance
                                + (Tolerance.sum(count: cells, magnitude: weightScale) + gradientTolerance).scaled(by: largestActivationSum)))
        notebook.prose(text("versus.after"))
    }

    /// y^c with the activation of `layer` replaced by `activations` [K, h, w]: only the layers
    /// after it are re-run (eval mode, so BatchNorm uses its running statistics).
    static func scoreAfter(_ layer: String, activations: Tensor, classifier: ImageClassifier, target c: Int) throws -> Float {
        classifier.prepareForExplanation()
        guard let logits = classifier.network.forward(after: layer, activation: activations.reshaped([1] + activations.shape)) else {
            throw MiniNetError.invalidArgument("cannot re-run the network from inside '\(layer)'; choose a layer at the level of a block")
        }
        return logits.data[c]
    }

    /// Flat indices into [K, h, w] to check the gradient at, in order of preference: one
    /// position chosen by the seed, then the largest |∂y^c/∂A| (where a mistake would show most),
    /// then 40 more drawn by the seed, for when the largest all sit next to a kink.
    static func candidatePositions(_ gradients: Tensor, seed: UInt64) -> [Int] {
        let ranked = gradients.data.indices.sorted { abs(gradients.data[$0]) > abs(gradients.data[$1]) }
        var generator = SeededGenerator(seed: seed, stream: 0x6772_6164)
        let chosen = generator.integer(below: gradients.count)
        let drawn = (0..<40).map { _ in generator.integer(below: gradients.count) }
        var seen = Set<Int>()
        return ([chosen] + ranked.prefix(24) + drawn).filter { seen.insert($0).inserted }
    }

    /// max over channels k of (max − min of the map k): 0 when each channel's map is constant. [K, h, w]
    static func largestSpreadWithinChannel(_ maps: Tensor) -> Float {
        (0..<maps.shape[0]).map { maps.slice($0).max - maps.slice($0).min }.max() ?? 0
    }

    static func relu(_ map: Tensor) -> Tensor { map.map { max($0, 0) } }
}

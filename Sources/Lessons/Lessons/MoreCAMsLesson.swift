import Foundation
import MiniNet

/// Lesson "morecams": the rest of the CAM family, every method of `ExplainerRegistry` that is a
/// `CAMFamilyExplainer`, on the network's own numbers:
///
/// 1. one pipeline: L^c = ReLU(Σ_k w_k A^k + b) or ReLU(Σ_k W^k ⊙ A^k), only the weights differ;
/// 2. Grad-CAM++ (Chattopadhay et al. 2018) derived from its assumption Y^c = exp(S^c):
///
///        a^k_{ij} = ∂²Y/∂A² / (2 ∂²Y/∂A² + Σ_{ab} A^k_{ab} ∂³Y/∂A³)
///        ∂²Y/∂A² = e^S (g² + S″),   ∂³Y/∂A³ = e^S (g³ + 3 g S″ + S‴),   g = ∂S/∂A^k_{ij}
///
///    and S″ = S‴ = 0 in a ReLU network, so a = g² / (2g² + Σ A g³): the powers of the gradient
///    stand in for the higher derivatives. The lesson measures S′, S″ and S‴ by finite
///    differences at the layer that feeds global average pooling (where S is linear in A, so a
///    difference has no truncation error) and checks that a computed from them equals a from
///    the powers of the backpropagated gradient, within the rounding of the re-runs;
/// 3. at that layer g^k_{ij} = w_{ck}/Z, so HiResCAM = Grad-CAM, LayerCAM = Grad-CAM with its
///    negative weights set to 0, XGrad-CAM's weights are α_k ΣA/(ΣA + ε), Grad-CAM++'s are
///    ReLU(w_{ck})/(2 + w_{ck} F_k) (each a check);
/// 4. at an earlier layer they differ (checked), and on a scene with two classes the methods
///    that use the class differ from Eigen-CAM, which does not (checked);
/// 5. a table of every CAM method of the registry on one picture.
public enum MoreCAMsLesson: Lesson {
    public static let id = "morecams"
    /// One line for `tutor lessons`, in the reader's language.
    public static var summary: String { translated("More CAMs: Grad-CAM++ from its assumption, HiResCAM = Grad-CAM, and every CAM method on one picture") }

    /// |g|·h, how far one finite-difference step moves the score. S is linear in A at the layer
    /// the differences are taken at, so the step may be large: the rounding of a re-run grows
    /// with the step (the perturbed cell enters the logit's sum), but slower than the step, and
    /// the derivatives' bounds δ/h, 4δ/h², 3δ/h³ shrink with it.
    static let scoreStep = 16.0

    /// At most this many channels are differentiated (the largest positive gradients).
    static let differentiatedChannels = 32

    /// How many perturbed copies of A are re-run at once.
    static let batchSize = 64

    public static func build(_ context: LessonContext) throws -> Notebook {
        let text = try LessonText(lesson: id, language: context.language)
        let classifier = context.classifier
        let names = classifier.classNames
        let camLayer = context.defaultCAMLayer(for: classifier)
        let chosenLayer = try CAMLessonSupport.layer(context)
        let head = try poolingHead(of: classifier, after: camLayer)
        let (image, input) = try CAMLessonSupport.picture(context)             // [3, H, W] each
        classifier.prepareForExplanation()
        let logits = classifier.forward(input.reshaped([1] + input.shape)).data   // [L]
        let c = try CAMLessonSupport.targetClass(context, logits: logits)
        let probe = try LayerProbe(classifier: classifier, input: input, layer: camLayer, target: .logit(c))
        let (channels, height, width) = (probe.activations.shape[0], probe.activations.shape[1], probe.activations.shape[2])
        let cells = height * width
        let camExplainers = ExplainerRegistry.all.compactMap { $0 as? CAMFamilyExplainer }
        let values = ["class": names[c], "c": "\(c)", "layer": camLayer, "K": "\(channels)", "h": "\(height)",
                      "w": "\(width)", "Z": "\(cells)", "count": "\(camExplainers.count)"]
        let notebook = Notebook(lesson: id, title: text("title"))
        notebook.prose(text("intro", values))

        // Step 1: one pipeline, the weights differ.
        notebook.step(text("family.title"), id: "morecams.family")
        notebook.prose(text("family.body", values))
        notebook.math("L^c = ReLU(Σ_k w^c_k A^k + b)", latex: #"L^c = \mathrm{ReLU}\Big(\sum_k w^c_k A^k + b\Big)"#)
        notebook.math("L^c = ReLU(Σ_k W^k ⊙ A^k)", latex: #"L^c = \mathrm{ReLU}\Big(\sum_k W^k \odot A^k\Big)"#)
        notebook.table(text("family.table"), headers: ["id", "what it computes"],
                       rows: camExplainers.map { [$0.id, $0.summary] })

        // Steps 2 and 3: Grad-CAM++ from Y = exp(S), and its powers checked by differences.
        try plusPlusSteps(notebook, text: text, classifier: classifier, head: head, probe: probe, layer: camLayer,
                          target: c, input: input, seed: context.seed, values: values)

        // Step 4: at the layer that feeds GAP → linear, HiResCAM = Grad-CAM, and two more collapse.
        try lastLayerStep(notebook, text: text, classifier: classifier, probe: probe, layer: camLayer,
                          target: c, input: input, values: values)

        // Every method at that layer, for the lesson's picture and class, and for the scene's other
        // class when the scene is this picture (a photo network): Score-CAM's masked inputs and
        // Ablation-CAM's ablated copies then run once for both classes.
        let scene = try twoClassPicture(context, input: input, image: image, logits: logits)
        let otherClasses = scene.input == input ? scene.classes.filter { $0 != c } : []
        var atLast: [String: CAMResult] = [:]
        var known: [Int: [String: CAMResult]] = [:]
        // Score-CAM costs one forward pass of the whole network per channel: on a ResNet-34 that
        // is 512 passes at layer4 (about 20 s on 2 cores) and 256 more at layer3. On a photo
        // network it runs only with --every-pass, and the lesson says what it would cost.
        let leftOut: Set<String> = context.trimsSlowSteps ? ["scorecam"] : []
        let runExplainers = camExplainers.filter { !leftOut.contains($0.id) }
        // One forward and backward pass per class, shared by every method (each would make the same).
        let probes = try [probe] + otherClasses.map {
            try LayerProbe(classifier: classifier, input: input, layer: camLayer, target: .logit($0))
        }
        for explainer in runExplainers {
            let method = explainer.method(classifier)
            if let scoreCAM = method as? ScoreCAM, let report = context.progress {
                scoreCAM.progress = { done, total in report(translated("Score-CAM: {$1} masked pictures", with: total), Double(done) / Double(total)) }
            }
            let results = try method.explain(input: input, probes: probes)
            atLast[explainer.id] = results[0]
            for (other, result) in zip(otherClasses, results.dropFirst()) { known[other, default: [:]][explainer.id] = result }
        }
        if scene.input == input { known[c] = atLast }

        // Step 5: at an earlier layer they differ.
        // There Ablation-CAM re-runs the layers above it once per channel as well (256 times at
        // layer3 of a ResNet-34, about 2 s), and is left out with Score-CAM.
        let earlier = chosenLayer != camLayer ? chosenLayer : CAMLessonSupport.earlierFeatureLayer(before: camLayer, in: classifier)
        let passTime = leftOut.isEmpty ? 0 : LessonSetup.secondsOfOnePass(classifier, input: input)
        if let earlier {
            try earlierLayerStep(notebook, text: text, classifier: classifier, explainers: camExplainers, camLayer: camLayer,
                                 earlier: earlier, atLast: atLast, target: c, input: input, image: image,
                                 leavingOut: leftOut.isEmpty ? [] : leftOut.union(["ablationcam"]), secondsPerPass: passTime)
        }

        // Steps 6 and 7: two classes on one picture, and every method of the registry on it.
        try sceneSteps(notebook, text: text, classifier: classifier, explainers: runExplainers, layer: camLayer, scene: scene,
                       known: known)
        if !leftOut.isEmpty {
            notebook.prose(text("table.left-out", ["methods": leftOut.sorted().joined(separator: ", "), "layer": camLayer,
                                                   "K": "\(channels)", "seconds": String(format: "%.0f", passTime * Double(channels)),
                                                   "ms": String(format: "%.0f", 1000 * passTime), "method": leftOut.sorted()[0]]))
        }
        notebook.references(text)
        return notebook
    }

    // MARK: - Grad-CAM++

    /// One channel's derivatives of S along the cell (i, j): S′, S″, S‴ by central differences
    /// of re-runs from A ± h·e, ± 2h·e, the backpropagated g, and the bounds of each difference.
    struct ChannelDerivatives {
        var channel: Int
        /// ∂S/∂A^k_{ij} by backpropagation
        var gradient: Double
        var step: Double
        /// Σ_{ab} A^k_{ab}
        var activationSum: Double
        /// [S(h) − S(−h)]/2h, [S(h) − 2S(0) + S(−h)]/h², [S(2h) − 2S(h) + 2S(−h) − S(−2h)]/2h³
        var first: Double
        var second: Double
        var third: Double
        /// Bounds of the rounding of each difference: δ/h, 4δ/h², 3δ/h³ (δ the rounding of one re-run)
        var firstBound: Double
        var secondBound: Double
        var thirdBound: Double

        /// (∂²Y/∂A²)/Y = S′² + S″ and (∂³Y/∂A³)/Y = S′³ + 3S′S″ + S‴, from the differences.
        var secondOfY: Double { first * first + second }
        var thirdOfY: Double { first * first * first + 3 * first * second + third }
        /// How far those two can be from g², g³: the bounds carried through the products, with g
        /// in place of S′ within its own bound.
        var secondOfYBound: Double { 2 * abs(first) * firstBound + firstBound * firstBound + secondBound }
        var thirdOfYBound: Double {
            let s1 = abs(first) + firstBound
            return 3 * s1 * s1 * firstBound + 3 * (s1 * secondBound + abs(second) * firstBound + firstBound * secondBound) + thirdBound
        }

        /// The paper's a = ∂²Y / (2∂²Y + ΣA ∂³Y), with the derivatives from the differences.
        var coefficientFromDerivatives: Double { secondOfY / (2 * secondOfY + activationSum * thirdOfY) }
        /// a = g² / (2g² + ΣA g³), the powers of the backpropagated gradient.
        var coefficientFromPowers: Double {
            let g = gradient
            return g * g / (2 * g * g + activationSum * g * g * g)
        }
        /// |a(p + dp, q + dq) − a(p, q)| ≤ |ΣA| (|q| dp + |p| dq + dp dq) / (den · (den − 2dp − |ΣA| dq)),
        /// with p, q the derivatives of Y over Y, dp, dq their bounds and den = 2p + ΣA q.
        var coefficientBound: Double {
            let (p, q) = (secondOfY, thirdOfY)
            let (dp, dq) = (secondOfYBound, thirdOfYBound)
            let denominator = 2 * p + activationSum * q
            let lowest = denominator - 2 * dp - abs(activationSum) * dq
            guard lowest > 0 else { return .infinity }
            return abs(activationSum) * (abs(q) * dp + abs(p) * dq + dp * dq) / (denominator * lowest)
        }
    }

    /// The derivatives of S along one cell of every channel with g > 0 (at most
    /// `differentiatedChannels` of them, the largest gradients first).
    static func channelDerivatives(classifier: ImageClassifier, probe: LayerProbe, layer: String, target c: Int,
                                   input: Tensor, cell: Int) throws -> [ChannelDerivatives] {
        let activations = probe.activations                                     // [K, h, w]
        let cells = activations.shape[1] * activations.shape[2]
        let positive = (0..<activations.shape[0]).filter { probe.gradients.data[$0 * cells + cell] > 0 }
            .sorted { probe.gradients.data[$0 * cells + cell] > probe.gradients.data[$1 * cells + cell] }
            .prefix(differentiatedChannels)
        // The rounding of one re-run: the forward model of the layers after `layer`, whose
        // magnitude M grows by |g|·|t| when the cell is moved by t (its term enters the logit's sum).
        let rerun = classifier.forwardTolerance(input: input, target: c, after: layer)
        guard let part = rerun.parts.first else { return [] }
        let offsets: [Double] = [-2, -1, 1, 2]
        var copies: [(channel: Int, step: Double, offset: Int)] = []
        var steps: [Int: Double] = [:]
        for k in positive {
            let g = Double(probe.gradients.data[k * cells + cell])
            // h a power of 2 near scoreStep/g.
            let step = pow(2, (log2(scoreStep / g)).rounded())
            steps[k] = step
            for index in offsets.indices { copies.append((k, step, index)) }
        }
        // S(0) once, then every perturbed copy, in batches.
        var scores: [Double] = []
        let plain = activations.reshaped([1] + activations.shape)
        scores.append(Double(try rerunScores(classifier, layer: layer, batch: plain, target: c)[0]))
        var perturbed: [Double] = []
        var start = 0
        while start < copies.count {
            let end = min(start + batchSize, copies.count)
            var data = [Float]()
            data.reserveCapacity((end - start) * activations.count)
            for copy in copies[start..<end] {
                var values = activations.data
                values[copy.channel * cells + cell] += Float(offsets[copy.offset] * copy.step)
                data += values
            }
            let batch = Tensor(shape: [end - start] + activations.shape, data: data)
            perturbed += try rerunScores(classifier, layer: layer, batch: batch, target: c).map(Double.init)
            start = end
        }
        let s0 = scores[0]
        return positive.enumerated().map { order, k in
            let g = Double(probe.gradients.data[k * cells + cell])
            let h = steps[k] ?? 1
            let s = Array(perturbed[(order * 4)..<(order * 4 + 4)])            // S(−2h), S(−h), S(h), S(2h)
            let a = Double(activations.data[k * cells + cell])
            // One re-run's rounding at the largest step, and the rounding of A + t itself
            // (|g| · u · |A + t|), which moves S as an error of the score would.
            let delta = Tolerance.sum(count: part.count, magnitude: part.magnitude + 2 * abs(g) * h, depth: part.depth).value
                + abs(g) * Tolerance.unitRoundoff * (abs(a) + 2 * h)
            let plane = activations.slice(k)
            return ChannelDerivatives(
                channel: k, gradient: g, step: h, activationSum: plane.sum(),
                first: (s[2] - s[1]) / (2 * h), second: (s[2] - 2 * s0 + s[1]) / (h * h),
                third: (s[3] - 2 * s[2] + 2 * s[1] - s[0]) / (2 * h * h * h),
                firstBound: delta / h, secondBound: 4 * delta / (h * h), thirdBound: 3 * delta / (h * h * h))
        }
    }

    /// y^c of each copy of the activations [N, K, h, w] of `layer`, the layers after it re-run.
    static func rerunScores(_ classifier: ImageClassifier, layer: String, batch: Tensor, target c: Int) throws -> [Float] {
        classifier.prepareForExplanation()
        guard let logits = classifier.network.forward(after: layer, activation: batch) else {
            throw MiniNetError.invalidArgument("cannot re-run the network from inside '\(layer)'; choose a layer at the level of a block")
        }
        let classes = logits.shape[1]
        return (0..<batch.shape[0]).map { logits.data[$0 * classes + c] }
    }

    static func plusPlusSteps(_ notebook: Notebook, text: LessonText, classifier: ImageClassifier, head: Linear,
                              probe: LayerProbe, layer: String, target c: Int, input: Tensor,
                              seed: UInt64, values: [String: String]) throws {
        let activations = probe.activations
        let (channels, width) = (activations.shape[0], activations.shape[2])
        let cells = activations.shape[1] * width
        // The derivation.
        notebook.step(text("plusplus.title"), id: "morecams.plusplus")
        notebook.prose(text("plusplus.body", values))
        notebook.math("w^c_k = Σ_{i,j} a^{kc}_{ij} · ReLU(∂Y^c/∂A^k_{ij}),   Y^c = Σ_k w^c_k Σ_{i,j} A^k_{ij}",
                      latex: #"w^c_k = \sum_{i,j} a^{kc}_{ij}\,\mathrm{ReLU}\Big(\frac{\partial Y^c}{\partial A^k_{ij}}\Big), \qquad Y^c = \sum_k w^c_k \sum_{i,j} A^k_{ij}"#)
        notebook.prose(text("plusplus.solve"))
        notebook.math("a^{kc}_{ij} = ∂²Y^c/∂(A^k_{ij})² / [2 ∂²Y^c/∂(A^k_{ij})² + Σ_{a,b} A^k_{ab} · ∂³Y^c/∂(A^k_{ij})³]",
                      latex: #"a^{kc}_{ij} = \frac{\dfrac{\partial^2 Y^c}{(\partial A^k_{ij})^2}}{2\dfrac{\partial^2 Y^c}{(\partial A^k_{ij})^2} + \sum_{a,b} A^k_{ab}\,\dfrac{\partial^3 Y^c}{(\partial A^k_{ij})^3}}"#)
        notebook.prose(text("plusplus.exponential"))
        notebook.math("Y = e^S:   ∂Y/∂A = e^S g,   ∂²Y/∂A² = e^S (g² + S″),   ∂³Y/∂A³ = e^S (g³ + 3 g S″ + S‴),   g = ∂S/∂A^k_{ij}",
                      latex: #"Y = e^S:\quad \frac{\partial Y}{\partial A} = e^S g,\quad \frac{\partial^2 Y}{\partial A^2} = e^S (g^2 + S''),\quad \frac{\partial^3 Y}{\partial A^3} = e^S (g^3 + 3 g S'' + S'''),\quad g = \frac{\partial S}{\partial A^k_{ij}}"#)
        notebook.prose(text("plusplus.powers"))
        notebook.math("S″ = S‴ = 0   ⇒   a^{kc}_{ij} = g² / (2g² + Σ_{a,b} A^k_{ab} · g³) = 1 / (2 + g · Σ_{a,b} A^k_{ab})",
                      latex: #"S'' = S''' = 0 \;\Rightarrow\; a^{kc}_{ij} = \frac{g^2}{2 g^2 + \sum_{a,b} A^k_{ab}\, g^3} = \frac{1}{2 + g \sum_{a,b} A^k_{ab}}"#)
        notebook.prose(text("plusplus.cancel"))

        // The check: S′, S″, S‴ by differences at one cell, a both ways.
        var generator = SeededGenerator(seed: seed, stream: 0x6d6f_7265)
        let cell = generator.integer(below: cells)
        let (row, column) = (cell / width, cell % width)
        let derivatives = try channelDerivatives(classifier: classifier, probe: probe, layer: layer, target: c, input: input, cell: cell)
        notebook.step(text("derivatives.title"), id: "morecams.derivatives")
        notebook.prose(text("derivatives.body", values.merging(["i": "\(row)", "j": "\(column)", "step": formatted(scoreStep),
                                                                 "n": "\(derivatives.count)"]) { $1 }))
        notebook.math("S′ ≈ [S(h) − S(−h)]/2h,   S″ ≈ [S(h) − 2S(0) + S(−h)]/h²,   S‴ ≈ [S(2h) − 2S(h) + 2S(−h) − S(−2h)]/2h³",
                      latex: #"S' \approx \frac{S(h) - S(-h)}{2h},\quad S'' \approx \frac{S(h) - 2S(0) + S(-h)}{h^2},\quad S''' \approx \frac{S(2h) - 2S(h) + 2S(-h) - S(-2h)}{2h^3}"#)
        notebook.table(text("derivatives.table"),
                       headers: ["k", "h", "g (backprop)", "S′ (differences)", "S″", "S‴"],
                       rows: derivatives.map { d in
                           // S″ and S‴ are rounding only: "≈" shows a number whose digits are the processor's.
                           ["\(d.channel)", formatted(d.step), scientific(d.gradient), scientific(d.first),
                            "≈" + scientific(d.second), "≈" + scientific(d.third)]
                       }, limit: .ranked(byMagnitudeOf: 2, shown: 4))
        let largestCurvature = derivatives.map { abs($0.second) / ($0.gradient * $0.gradient) }.max() ?? 0
        let largestThird = derivatives.map { abs($0.third) / pow($0.gradient, 3) }.max() ?? 0
        notebook.prose(text("derivatives.flat", ["second": "≈" + scientific(largestCurvature), "third": "≈" + scientific(largestThird)]))
        // Each ratio is off by the bound of its differences over g² or g³; g itself carries two
        // roundings (w_ck times 1/Z, see the last step), so g³ carries 6.
        let ratios = derivatives.map { Float($0.secondOfY / ($0.gradient * $0.gradient)) }
            + derivatives.map { Float($0.thirdOfY / pow($0.gradient, 3)) }
        let ratioBound = derivatives.map { max($0.secondOfYBound / ($0.gradient * $0.gradient), $0.thirdOfYBound / pow($0.gradient, 3)) }.max() ?? 0
        notebook.check(.equal(text("derivatives.powers"), "(∂ⁿY/∂Aⁿ)/(Y gⁿ), n = 2, 3", Tensor(shape: [2, derivatives.count], data: ratios),
                              "1", Tensor(repeating: 1, shape: [2, derivatives.count]),
                              tolerance: .absolute(ratioBound, because: "differences of re-runs: the rounding δ of each over h, h² and h³")
                                + .sum(count: 6, magnitude: 1)))
        notebook.math("a(S′, S″, S‴) = (S′² + S″) / [2(S′² + S″) + ΣA (S′³ + 3S′S″ + S‴)],   a(g) = g² / (2g² + ΣA g³)",
                      latex: #"a(S', S'', S''') = \frac{S'^2 + S''}{2(S'^2 + S'') + \sum A\,(S'^3 + 3S'S'' + S''')},\qquad a(g) = \frac{g^2}{2g^2 + \sum A\, g^3}"#)
        let fromDerivatives = Tensor(shape: [derivatives.count], data: derivatives.map { Float($0.coefficientFromDerivatives) })
        let fromPowers = Tensor(shape: [derivatives.count], data: derivatives.map { Float($0.coefficientFromPowers) })
        let coefficientBound = derivatives.map(\.coefficientBound).max() ?? 0
        notebook.check(.equal(text("derivatives.check"), "a(S′, S″, S‴)", fromDerivatives, "a(g)", fromPowers,
                              tolerance: .absolute(coefficientBound, because: "the bounds of S′, S″, S‴ carried through a")
                                + .sum(count: 6, magnitude: Double(fromPowers.data.max() ?? 0))))

        // The weights at this layer: Z equal cells, so w_k = Z · a · ReLU(g) = ReLU(w_ck)/(2 + w_ck F_k).
        notebook.prose(text("derivatives.weights", values))
        notebook.math("w^c_k = Z · a · ReLU(w_{ck}/Z) = ReLU(w_{ck}) / (2 + w_{ck} F_k),   F_k = (1/Z) Σ_{i,j} A^k_{ij}",
                      latex: #"w^c_k = Z\,a\,\mathrm{ReLU}\Big(\frac{w_{ck}}{Z}\Big) = \frac{\mathrm{ReLU}(w_{ck})}{2 + w_{ck} F_k}, \qquad F_k = \frac{1}{Z}\sum_{i,j} A^k_{ij}"#)
        let paper = GradCAMPlusPlus(classifier: classifier)
        paper.stabilizer = 0
        let paperResult = try paper.explain(input: input, layer: layer, target: .logit(c))
        let headRow = (0..<channels).map { Double(head.weight.value.data[c * head.inputFeatures + $0]) }
        let pooled = (0..<channels).map { activations.slice($0).mean() }
        let closedForm = Tensor(shape: [channels], data: (0..<channels).map { k in
            Float(max(headRow[k], 0) / (2 + headRow[k] * pooled[k]))
        })
        let paperWeights = Tensor(shape: [channels], data: paperResult.weights)
        // Each weight adds Z equal terms a·g (in Double, from float g with two roundings); the
        // closed form is a few operations on w and F (F a mean of Z values).
        notebook.check(.equal(text("derivatives.closed"), "Grad-CAM++ weights (ε = 0)", paperWeights,
                              "ReLU(w_ck)/(2 + w_ck F_k)", closedForm,
                              tolerance: .elementwise(count: cells, magnitudes: closedForm) + .elementwise(count: cells, magnitudes: closedForm)))
        let library = try GradCAMPlusPlus(classifier: classifier).explain(input: input, layer: layer, target: .logit(c))
        let largestWeight = Double(paperWeights.data.map(abs).max() ?? 0)
        let shift = zip(library.weights, paperResult.weights).map { Double(abs($0 - $1)) }.max() ?? 0
        let smallestGradient = derivatives.map(\.gradient).min() ?? 0
        notebook.prose(text("derivatives.epsilon", ["shift": percent(largestWeight > 0 ? shift / largestWeight : 0),
                                                    "g": scientific(smallestGradient),
                                                    "g2": scientific(2 * smallestGradient * smallestGradient)]))
    }

    // MARK: - The last layer

    /// At the layer that feeds GAP → linear, g^k_{ij} = w_{ck}/Z in every cell: HiResCAM's
    /// Σ_k g^k ⊙ A^k is Grad-CAM's Σ_k α_k A^k, LayerCAM's Σ_k ReLU(g^k) ⊙ A^k is Σ_k ReLU(α_k) A^k,
    /// and XGrad-CAM's Σ A g / (Σ A + ε) is α_k ΣA/(ΣA + ε).
    static func lastLayerStep(_ notebook: Notebook, text: LessonText, classifier: ImageClassifier, probe: LayerProbe,
                              layer: String, target c: Int, input: Tensor, values: [String: String]) throws {
        let activations = probe.activations
        let (channels, cells) = (activations.shape[0], activations.shape[1] * activations.shape[2])
        let gradCAM = try GradCAM(classifier: classifier).explain(input: input, layer: layer, target: .logit(c))
        let hiRes = try HiResCAM(classifier: classifier).explain(input: input, layer: layer, target: .logit(c))
        let layerCAM = try LayerCAM(classifier: classifier).explain(input: input, layer: layer, target: .logit(c))
        let xGradCAM = XGradCAM(classifier: classifier)
        let xGrad = try xGradCAM.explain(input: input, layer: layer, target: .logit(c))
        notebook.step(text("last.title"), id: "morecams.last")
        notebook.prose(text("last.body", values))
        notebook.math("y^c = Σ_k w_{ck} (1/Z) Σ_{i,j} A^k_{ij} + b_c   ⇒   g^k_{ij} = w_{ck}/Z = α^c_k   ⇒   Σ_k g^k_{ij} A^k_{ij} = Σ_k α^c_k A^k_{ij}",
                      latex: #"y^c = \sum_k w_{ck}\,\frac{1}{Z}\sum_{i,j} A^k_{ij} + b_c \;\Rightarrow\; g^k_{ij} = \frac{w_{ck}}{Z} = \alpha^c_k \;\Rightarrow\; \sum_k g^k_{ij} A^k_{ij} = \sum_k \alpha^c_k A^k_{ij}"#)
        // α is the mean of Z gradients that are each w_ck/Z up to two roundings; the two maps add
        // K terms per cell with weights that agree to that, times Σ_k |A^k_ij|.
        let alpha = gradCAM.weights
        let alphaMagnitudes = Tensor(shape: [channels], data: alpha.map(abs))
        let alphaTolerance = Tolerance.elementwise(count: cells, magnitudes: alphaMagnitudes) + .elementwise(count: 2, magnitudes: alphaMagnitudes)
        let largestActivationSum = (0..<cells).map { cell in (0..<channels).reduce(0.0) { $0 + Double(abs(activations.data[$1 * cells + cell])) } }.max() ?? 0
        let mapTolerance = Tolerance.weightedSum(activations, weights: alpha)
        notebook.check(.equal(text("last.hirescam"), "HiResCAM Σ_k g^k ⊙ A^k", hiRes.weightedSum, "Grad-CAM Σ_k α_k A^k", gradCAM.weightedSum,
                              tolerance: mapTolerance + mapTolerance + alphaTolerance.scaled(by: largestActivationSum)))
        notebook.prose(text("last.others"))
        let positiveAlpha = alpha.map { max($0, 0) }
        let layerByLoops = CAMLessonSupport.weightedSumByLoops(activations, weights: positiveAlpha)
        let layerTolerance = Tolerance.weightedSum(activations, weights: positiveAlpha)
        notebook.check(.equal(text("last.layercam"), "LayerCAM Σ_k ReLU(g^k) ⊙ A^k", layerCAM.weightedSum,
                              "Σ_k ReLU(α_k) A^k (loops)", layerByLoops,
                              tolerance: layerTolerance + layerTolerance + alphaTolerance.scaled(by: largestActivationSum)))
        let xByHand = Tensor(shape: [channels], data: (0..<channels).map { k in
            let total = activations.slice(k).sum()
            return Float(Double(alpha[k]) * total / (total + xGradCAM.stabilizer))
        })
        // Σ_{ij} A g adds Z terms of size |α| A (in Double from float g, as α was): the same rounding as α.
        notebook.check(.equal(text("last.xgradcam"), "XGrad-CAM weights", Tensor(shape: [channels], data: xGrad.weights),
                              "α_k ΣA/(ΣA + ε)", xByHand, tolerance: alphaTolerance + alphaTolerance))
        notebook.table(text("last.table"), headers: ["CAM method", "weight of channel k at this layer"], rows: [
            ["CAM", "w_ck"],
            ["Grad-CAM", "α_k = w_ck/Z"],
            ["HiResCAM", "w_ck/Z in every cell: Grad-CAM's map"],
            ["LayerCAM", "ReLU(w_ck)/Z in every cell"],
            ["XGrad-CAM", "(w_ck/Z) · ΣA^k/(ΣA^k + ε)"],
            ["Grad-CAM++ (ε = 0)", "ReLU(w_ck)/(2 + w_ck F_k)"],
        ])
        notebook.prose(text("last.after"))
    }

    // MARK: - An earlier layer

    /// The CAM methods at an earlier layer, where the gradient varies over the plane: HiResCAM
    /// and Grad-CAM differ (checked); how alike each method is to Grad-CAM at both layers.
    static func earlierLayerStep(_ notebook: Notebook, text: LessonText, classifier: ImageClassifier, explainers: [CAMFamilyExplainer],
                                 camLayer: String, earlier: String, atLast: [String: CAMResult], target c: Int,
                                 input: Tensor, image: Tensor, leavingOut: Set<String> = [], secondsPerPass: Double = 0) throws {
        // CAM reads the linear layer's weights, which belong to the last layer only.
        let usable = explainers.filter { $0.id != "cam" }
        var atEarlier: [String: CAMResult] = [:]
        let probe = try LayerProbe(classifier: classifier, input: input, layer: earlier, target: .logit(c))
        for explainer in usable where !leavingOut.contains(explainer.id) {
            atEarlier[explainer.id] = try explainer.method(classifier).explain(input: input, probe: probe)
        }
        guard let gradCAM = atEarlier["gradcam"], let hiRes = atEarlier["hirescam"], let lastGradCAM = atLast["gradcam"] else { return }
        let activations = gradCAM.activations
        let (channels, height, width) = (activations.shape[0], activations.shape[1], activations.shape[2])
        let cells = height * width
        notebook.step(text("earlier.title"), id: "morecams.earlier")
        notebook.prose(text("earlier.body", ["layer": earlier, "K": "\(channels)", "h": "\(height)", "w": "\(width)", "last": camLayer]))
        // The same comparison as at the last layer: if the maps were equal, they would agree to
        // its tolerance; they are farther apart than that.
        let gradients = hiRes.elementWeights ?? Tensor(zeros: activations.shape)     // HiResCAM's W = ∂y^c/∂A
        let alphaMagnitudes = Tensor(shape: [channels], data: gradCAM.weights.map(abs))
        let spread = (0..<channels).map { k -> Double in
            let plane = gradients.slice(k)
            return Double(plane.max - plane.min)
        }.max() ?? 0
        let largestActivationSum = (0..<cells).map { cell in (0..<channels).reduce(0.0) { $0 + Double(abs(activations.data[$1 * cells + cell])) } }.max() ?? 0
        let mapTolerance = Tolerance.weightedSum(activations, weights: gradCAM.weights)
        let equalTolerance = mapTolerance + mapTolerance
            + (Tolerance.elementwise(count: cells, magnitudes: alphaMagnitudes) + .elementwise(count: 2, magnitudes: alphaMagnitudes)).scaled(by: largestActivationSum)
        let difference = Double(hiRes.weightedSum.maxAbsDifference(gradCAM.weightedSum))
        notebook.check(.truth(text("earlier.differ", ["layer": earlier]),
                              "max |HiResCAM − Grad-CAM| = \(scientific(difference)) > \(scientific(equalTolerance.value))",
                              difference > equalTolerance.value))
        notebook.prose(text("earlier.spread", ["spread": scientific(spread)]))
        // Element-wise Grad-CAM = LayerCAM where A ≥ 0: ReLU(g·a) = ReLU(g)·a, bit for bit.
        if activations.min >= 0, let elementWise = atEarlier["gradcam-elementwise"], let layerCAM = atEarlier["layercam"] {
            notebook.prose(text("earlier.elementwise"))
            notebook.check(.equal(text("earlier.elementwise.check", ["layer": earlier]), "element-wise Grad-CAM",
                                  elementWise.weightedSum, "LayerCAM", layerCAM.weightedSum, tolerance: .exact))
        }
        let rows = usable.map { explainer -> [String] in
            let last = atLast[explainer.id].map { correlation($0.map, lastGradCAM.map) } ?? "—"
            let early = atEarlier[explainer.id].map { correlation($0.map, gradCAM.map) } ?? "—"
            return [explainer.id, last, early]
        }
        notebook.table(text("earlier.table"), headers: ["id", "ρ with Grad-CAM at \(camLayer)", "ρ with Grad-CAM at \(earlier)"], rows: rows)
        if !leavingOut.isEmpty {
            let left = usable.filter { leavingOut.contains($0.id) }.map(\.id)
            notebook.prose(text("earlier.left-out", ["methods": left.joined(separator: ", "), "layer": earlier, "K": "\(channels)",
                                                     "method": left.first ?? "",
                                                     "seconds": String(format: "%.0f", secondsPerPass * Double(channels))]))
        }
        let photo = RGBImage(tensor: image)
        var panels: [Panel] = [.image("x", photo)]
        for id in ["gradcam", "hirescam", "gradcam++", "layercam"] {
            if let result = atEarlier[id] { panels.append(.overlay("\(result.method) \(earlier)", heatmap: result.normalized, on: photo)) }
        }
        notebook.picture(text("earlier.picture", ["layer": earlier]), panels)
    }

    // MARK: - Two classes, one picture

    /// The picture of the last steps: two classes a and b, with their masks when known.
    struct TwoClassPicture {
        var image: Tensor
        var input: Tensor
        var classes: [Int]
        /// [H, W] each, 1 on the shape of classes[i]; nil on a photo.
        var masks: [Tensor]?
    }

    /// On the small CNN the two-shape scene (with its masks); on an ImageNet network the lesson's
    /// photo with its two most likely classes (the chosen class first).
    static func twoClassPicture(_ context: LessonContext, input: Tensor, image: Tensor, logits: [Float]) throws -> TwoClassPicture {
        let classifier = context.classifier
        if context.usesShapesData && classifier.classNames.count >= 2 {
            let scene = ShapesDataset.twoShapeScene(seed: context.seed, imageSize: classifier.inputSize[1])
            return TwoClassPicture(image: scene.image, input: classifier.normalize(scene.image), classes: scene.labels, masks: scene.masks)
        }
        let ranked = logits.indices.sorted { logits[$0] > logits[$1] }
        let a = context.targetClass ?? ranked[0]
        let b = ranked.first { $0 != a } ?? a
        return TwoClassPicture(image: image, input: input, classes: [a, b], masks: nil)
    }

    static func sceneSteps(_ notebook: Notebook, text: LessonText, classifier: ImageClassifier, explainers: [CAMFamilyExplainer],
                           layer: String, scene: TwoClassPicture, known: [Int: [String: CAMResult]]) throws {
        let names = classifier.classNames
        let (a, b) = (scene.classes[0], scene.classes[1])
        var results: [String: [CAMResult]] = [:]                             // id → [map of a, map of b]
        var probes: [Int: LayerProbe] = [:]                                  // class → its probe, shared by the methods
        for explainer in explainers {
            let missing = scene.classes.filter { known[$0]?[explainer.id] == nil }
            for missingClass in missing where probes[missingClass] == nil {
                probes[missingClass] = try LayerProbe(classifier: classifier, input: scene.input, layer: layer, target: .logit(missingClass))
            }
            let computed = try explainer.method(classifier).explain(input: scene.input, probes: missing.map { probes[$0]! })
            let byClass = Dictionary(zip(missing, computed), uniquingKeysWith: { first, _ in first })
            results[explainer.id] = scene.classes.map { known[$0]?[explainer.id] ?? byClass[$0]! }
        }
        let pair = ["a": names[a], "b": names[b]]
        let photo = RGBImage(tensor: scene.image)

        // Step 6: the scene, and the one method that does not look at the class.
        notebook.step(text("scene.title"), id: "morecams.scene")
        notebook.prose(text(scene.masks == nil ? "scene.body.photo" : "scene.body.shapes", pair))
        var panels: [Panel] = [.image("x", photo)]
        for id in ["gradcam", "eigencam"] {
            guard let maps = results[id] else { continue }
            panels.append(.overlay("\(maps[0].method) \(names[a])", heatmap: maps[0].normalized, on: photo))
            panels.append(.overlay("\(maps[1].method) \(names[b])", heatmap: maps[1].normalized, on: photo))
        }
        notebook.picture(text("scene.picture", pair), panels)
        if let eigen = results["eigencam"] {
            notebook.prose(text("scene.eigencam"))
            // The same code on the same activations: the class never enters.
            notebook.check(.equal(text("scene.eigencam.check", pair), "Eigen-CAM for \(names[a])", eigen[0].weightedSum,
                                  "Eigen-CAM for \(names[b])", eigen[1].weightedSum, tolerance: .exact))
        }
        if let gradCAM = results["gradcam"] {
            let difference = Double(gradCAM[0].weightedSum.maxAbsDifference(gradCAM[1].weightedSum))
            let tolerance = Tolerance.weightedSum(gradCAM[0].activations, weights: gradCAM[0].weights)
                + Tolerance.weightedSum(gradCAM[1].activations, weights: gradCAM[1].weights)
            notebook.check(.truth(text("scene.gradcam.check", pair),
                                  "max |L^\(names[a]) − L^\(names[b])| = \(scientific(difference)) > \(scientific(tolerance.value))",
                                  difference > tolerance.value))
        }

        // Step 7: every CAM method of the registry on this picture.
        notebook.step(text("table.title"), id: "morecams.table")
        notebook.prose(text(scene.masks == nil ? "table.body.photo" : "table.body.shapes", pair.merging(["layer": layer]) { $1 }))
        var rows: [[String]] = []
        var ownShare = 0
        for explainer in explainers {
            guard let maps = results[explainer.id] else { continue }
            let peaks = maps.map { peak(of: $0.upsampled) }
            let together = correlation(maps[0].map, maps[1].map)
            if let masks = scene.masks {
                let shares = [CAMLessonSupport.massFraction(maps[0].upsampled, inside: masks[0]),
                              CAMLessonSupport.massFraction(maps[1].upsampled, inside: masks[1])]
                let others = [CAMLessonSupport.massFraction(maps[0].upsampled, inside: masks[1]),
                              CAMLessonSupport.massFraction(maps[1].upsampled, inside: masks[0])]
                if shares[0] > others[0] && shares[1] > others[1] { ownShare += 1 }
                let places = peaks.map { peak -> String in
                    if masks[0][peak.row, peak.column] > 0.5 { return names[a] }
                    if masks[1][peak.row, peak.column] > 0.5 { return names[b] }
                    return translated("background")
                }
                rows.append([explainer.id, CAMLessonSupport.number(shares[0]), CAMLessonSupport.number(shares[1]),
                             places.joined(separator: " / "), together])
            } else {
                let cells = maps.map { peak(of: $0.map) }
                rows.append([explainer.id, "(\(cells[0].row), \(cells[0].column))", "(\(cells[1].row), \(cells[1].column))", together])
            }
        }
        if scene.masks != nil {
            notebook.table(text("table.table", pair),
                           headers: ["id", "map of \(names[a]): mass in \(names[a]) mask", "map of \(names[b]): mass in \(names[b]) mask",
                                     "peaks on", "ρ between the two maps"],
                           rows: rows, dataColumns: [3])
            notebook.prose(text("table.shares", pair.merging(["count": "\(ownShare)", "total": "\(rows.count)"]) { $1 }))
        } else {
            notebook.table(text("table.table", pair),
                           headers: ["id", "peak of the map of \(names[a])", "peak of the map of \(names[b])",
                                     "ρ between the two maps"], rows: rows)
        }

        // The pipeline is shared: every map is ReLU of its own weighted sum, recomputed by loops.
        var fromMethods: [Float] = []
        var byLoops: [Float] = []
        var tolerance = Tolerance.exact
        for explainer in explainers {
            guard let result = results[explainer.id]?[0] else { continue }
            let sum: Tensor
            let routeTolerance: Tolerance
            if let elementWeights = result.elementWeights {
                sum = elementSumByLoops(result.activations, elementWeights)
                routeTolerance = elementTolerance(result.activations, elementWeights)
            } else {
                sum = CAMLessonSupport.weightedSumByLoops(result.activations, weights: result.weights).map { $0 + result.offset }
                // Eigen-CAM's offset b is added once to every cell.
                routeTolerance = Tolerance.weightedSum(result.activations, weights: result.weights)
                    + (result.offset == 0 ? .exact : .sum(count: 1, magnitude: Double(abs(result.offset))))
            }
            fromMethods += result.map.data
            byLoops += sum.data.map { max($0, 0) }
            if routeTolerance.value > tolerance.value { tolerance = routeTolerance }
        }
        notebook.check(.equal(text("table.pipeline", ["count": "\(explainers.count)"]), "each method's map",
                              Tensor(shape: [fromMethods.count], data: fromMethods), "ReLU(its weighted sum) (loops)",
                              Tensor(shape: [byLoops.count], data: byLoops), tolerance: tolerance + tolerance))
        if let score = results["scorecam"]?[0] {
            // A softmax over K channels: K terms of size ≤ 1, each exponential rounded once.
            notebook.check(.equal(text("table.scorecam"), "Σ_k w_k (Score-CAM)", score.weights.reduce(0) { $0 + Double($1) },
                                  "1", 1, tolerance: .sum(count: score.weights.count, magnitude: 1,
                                                          largestTerm: Double(score.weights.max() ?? 0))))
        }
        notebook.prose(text("table.after"))
    }

    // MARK: - Helpers

    /// The last Linear layer, after checking that `layer` feeds global average pooling and then
    /// only that layer (a Flatten between is fine): the head every identity of this lesson uses.
    static func poolingHead(of classifier: ImageClassifier, after layer: String) throws -> Linear {
        let layers = classifier.network.allLayers
        guard let index = layers.firstIndex(where: { $0.name == layer }) else {
            throw MiniNetError.invalidArgument("no layer named '\(layer)'; layers are: \(classifier.layerNames.joined(separator: ", "))")
        }
        let after = layers[(index + layers[index].allLayers.count)...].filter { !($0 is Sequential) && !($0 is Residual) }
        let kinds = after.filter { !($0 is Flatten) }
        guard kinds.count == 2, kinds[0] is GlobalAveragePool, let head = kinds[1] as? Linear else {
            throw MiniNetError.invalidModel("the lesson needs a network whose last feature maps feed global average pooling and one linear layer")
        }
        return head
    }

    /// Σ_k W^k_{ij} A^k_{ij}, one cell at a time in Double. [K, h, w], [K, h, w] → [h, w]
    static func elementSumByLoops(_ activations: Tensor, _ weights: Tensor) -> Tensor {
        let (channels, height, width) = (activations.shape[0], activations.shape[1], activations.shape[2])
        var map = Tensor(zeros: [height, width])
        for i in 0..<height {
            for j in 0..<width {
                var total = 0.0
                for k in 0..<channels { total += Double(weights[k, i, j]) * Double(activations[k, i, j]) }
                map[i, j] = Float(total)
            }
        }
        return map
    }

    /// The rounding of Σ_k W^k_{ij} A^k_{ij}: K terms per cell, Σ|terms| the largest over the cells.
    static func elementTolerance(_ activations: Tensor, _ weights: Tensor) -> Tolerance {
        let channels = activations.shape[0]
        let cells = activations.count / max(channels, 1)
        var largestMagnitude = 0.0
        var largestTerm = 0.0
        for cell in 0..<cells {
            var magnitude = 0.0
            for k in 0..<channels {
                let term = abs(Double(weights.data[k * cells + cell]) * Double(activations.data[k * cells + cell]))
                magnitude += term
                largestTerm = max(largestTerm, term)
            }
            largestMagnitude = max(largestMagnitude, magnitude)
        }
        return .sum(count: channels, magnitude: largestMagnitude, largestTerm: largestTerm)
    }

    /// The cell of the largest value of a map [h, w] (the first, row by row, among equals).
    static func peak(of map: Tensor) -> (row: Int, column: Int) {
        let index = map.argmax
        return (index / map.shape[1], index % map.shape[1])
    }

    /// Spearman's ρ of two maps, "—" when one is constant (all 0 after the ReLU).
    static func correlation(_ a: Tensor, _ b: Tensor) -> String {
        spearmanCorrelation(a.data, b.data).map { String(format: "%.3f", $0) } ?? "—"
    }

    static func scientific(_ value: Double) -> String { String(format: "%.3e", value) }

    static func formatted(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e9 ? String(Int(value)) : String(format: "%.4g", value)
    }

    static func percent(_ fraction: Double) -> String { String(format: "%.3g %%", 100 * fraction) }
}

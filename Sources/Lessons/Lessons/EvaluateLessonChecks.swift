import Foundation
import MiniNet

// Steps 4 and 5 of the lesson "evaluate": localisation on the object's mask, and the sanity
// checks of Adebayo et al. (2018).
extension EvaluateLesson {
    // MARK: - Step 4: localisation

    static func localisationStep(_ s: Setting) throws {
        let (text, notebook) = (s.text, s.notebook)
        notebook.step(text("localisation.title"), id: "evaluate.localisation")
        notebook.prose(text("localisation.body"))
        notebook.math("hit = [argmax R ∈ M],  mass = Σ_M R⁺ / Σ R⁺,  rank = |top_K(R) ∩ M| / K",
                      latex: #"\mathrm{hit} = [\arg\max_p R(p) \in M],\quad \mathrm{mass} = \frac{\sum_{p \in M} R^+(p)}{\sum_p R^+(p)},\quad \mathrm{rank} = \frac{|\mathrm{top}_K(R) \cap M|}{K},\quad K = |M|"#)
        if let coverage = s.coverage {
            let mask = ObjectMask(coverage: coverage)
            let maps = [("Grad-CAM", s.gradCAM.heatmap), ("random map", s.randomMap), ("Sobel edges", s.edgeMap)]
            let values = ["class": s.className, "M": "\(mask.count)", "N": "\(mask.pixelCount)",
                          "f": EvaluateLessonSupport.percent(mask.areaFraction)]
            notebook.prose(text("localisation.picture.body", values))
            var rows = maps.map { name, map -> [String] in
                let scores = Localisation.scores(map, mask: mask)
                let point = scores.pointingGame
                return [name, "(\(point.row), \(point.column))", point.hit ? "hit" : "miss",
                        EvaluateLessonSupport.optional(scores.relevanceMass), EvaluateLessonSupport.optional(scores.relevanceRank)]
            }
            let expected = LocalisationMetric.allCases.map { $0.randomMapExpectation(mask: mask).mean }
            rows.append(["random, expected", "—", EvaluateLessonSupport.percent(expected[0]) + " hits",
                         EvaluateLessonSupport.number(expected[1]), EvaluateLessonSupport.number(expected[2])])
            notebook.table(text("localisation.table"), headers: ["map", "peak", "pointing game", "relevance mass", "rank accuracy"],
                           rows: rows)
            notebook.prose(text("localisation.after", values))
        } else {
            notebook.prose(text("localisation.photo"))
        }

        // A random map scores the mask's area fraction: the baseline, checked on many masks.
        let size = 32
        let dataset = ShapesDataset(count: randomMapCount, seed: Trainer.validationSeed, imageSize: size)
        let masks = (0..<randomMapCount).map { ObjectMask(coverage: dataset.sample(at: $0).mask) }
        let randomMaps = (0..<randomMapCount).map {
            ControlMaps.random(height: size, width: size, seed: s.context.seed, stream: UInt64($0))
        }
        let meanArea = masks.reduce(0) { $0 + $1.areaFraction } / Double(masks.count)
        notebook.prose(text("localisation.random", ["count": "\(randomMapCount)", "size": "\(size) × \(size)",
                                                    "area": EvaluateLessonSupport.percent(meanArea)]))
        let scores = zip(randomMaps, masks).map { map, mask in Localisation.scores(map, mask: mask) }
        // The pointing game's identity holds as well, but one hit or miss per map makes its
        // sampling error large; the two scores that add up many pixels test the rule sharply.
        for metric in [LocalisationMetric.relevanceMass, .relevanceRank] {
            notebook.check(metric.randomMapCheck(scores: scores.map { metric.value(in: $0) ?? 0 }, masks: masks))
        }
    }

    // MARK: - Step 5: sanity checks

    /// The methods of the sanity checks: Grad-CAM; guided backprop, which Adebayo et al. found
    /// to stay nearly the same whatever the weights; input × gradient, whose factor x keeps the
    /// picture in every map.
    static let sanityMethods = ["gradcam", "guided-backprop", "input-x-gradient"]
    /// The lesson's picture and this many more validation pictures (shapes only), for means.
    static let sanityExtraPictures = 7

    static func sanityStep(_ s: Setting) throws {
        let (text, notebook, classifier) = (s.text, s.notebook, s.classifier)
        notebook.step(text("sanity.title"), id: "evaluate.sanity")
        notebook.prose(text("sanity.body"))
        // The lesson's picture, and on the shapes network a few validation pictures more.
        var inputs = [s.input]
        var targets: [ExplanationTarget] = [.logit(s.c)]
        if s.usesShapes {
            let dataset = ShapesDataset(count: sanityExtraPictures, seed: Trainer.validationSeed, imageSize: s.height)
            for index in 0..<dataset.count {
                let input = classifier.normalize(dataset.sample(at: index).image)
                inputs.append(input)
                targets.append(.logit(classifier.inferenceLogits(input.reshaped([1] + input.shape)).argmax))
            }
        }
        let granularity: SanityChecks.Granularity = s.isResNet ? (s.trims ? .stages : .blocks) : .layers
        let cascade = SanityChecks.cascade(of: classifier, granularity: granularity)
        let explainers = sanityMethods.compactMap(ExplainerRegistry.explainer(id:))
        let cascades = try SanityChecks.cascadingRandomisation(
            classifier, explainers: explainers, inputs: inputs, targets: targets, settings: s.gradCAMSettings,
            granularity: granularity, seed: s.context.seed, keepingHeatmaps: true) { finished, total in
                s.context.progress?(translated("sanity checks: cascading randomisation"), Double(finished) / Double(max(total, 1)))
            }
        let results = Dictionary(uniqueKeysWithValues: zip(explainers.map(\.id), cascades))
        let names = sanityMethods.map(displayName)
        notebook.prose(text(s.usesShapes ? "sanity.cascade.shapes" : granularity == .stages ? "sanity.cascade.stages" : "sanity.cascade.photo",
                            ["steps": "\(cascade.count)", "count": "\(inputs.count)"]))
        let rows = cascade.indices.map { index -> [String] in
            var row = ["\(index + 1)", cascade[index].name]
            for id in sanityMethods {
                let step = results[id]?.steps[index]
                row.append(EvaluateLessonSupport.optional(step?.mean(\.rankCorrelationOfAbsolute)) + " / "
                           + EvaluateLessonSupport.optional(step?.mean(\.structuralSimilarity)))
            }
            return row
        }
        notebook.table(text("sanity.table"), headers: ["step", "random down to"] + names.map { "\($0): ρ / SSIM" },
                       rows: rows, dataColumns: [1])
        // The maps of the lesson's picture along the cascade.
        var panels: [Panel] = []
        for id in sanityMethods.prefix(2) {
            guard let result = results[id] else { continue }
            for index in [0, 1] {
                let map = index == 0 ? result.originalHeatmaps[0] : result.steps[index - 1].heatmaps[0]
                let caption = index == 0 ? "\(displayName(id)), trained" : "\(displayName(id)), random to \(cascade[index - 1].name)"
                panels.append(panel(caption, map, signed: result.originalHeatmaps[0].min < 0 || id != "gradcam"))
            }
        }
        notebook.picture(text("sanity.picture"), panels)
        try headCheck(s, firstStep: cascade.first, randomHeadWeights: results["gradcam"]?.steps.first?.channelWeights.first ?? nil)
        var reading: [String: String] = [:]
        for (key, id) in zip(["gradcam", "guided", "ixg"], sanityMethods) {
            reading[key + "Head"] = EvaluateLessonSupport.optional(results[id]?.steps.first?.mean(\.rankCorrelationOfAbsolute))
            reading[key + "End"] = EvaluateLessonSupport.optional(results[id]?.steps.last?.mean(\.rankCorrelationOfAbsolute))
        }
        notebook.prose(text("sanity.reading", reading))

        // The data randomisation test, on the shapes network.
        guard s.usesShapes else {
            notebook.prose(text("sanity.data.photo"))
            return
        }
        let options = EvaluateLessonSupport.shuffledTraining
        let shuffled = try EvaluateLessonSupport.trained(options, shippedAs: EvaluateLessonSupport.shuffledModelFile,
                                                         context: s.context) { fraction in
            s.context.progress?(translated("training the small CNN on shuffled labels"), fraction)
        }
        notebook.prose(text("sanity.data.body", [
            "images": "\(options.trainingImages)", "epochs": "\(options.epochs)",
            "training": EvaluateLessonSupport.percent(shuffled.report.trainingAccuracy),
            "validation": EvaluateLessonSupport.percent(shuffled.report.validationAccuracy),
            "chance": EvaluateLessonSupport.percent(1 / Double(classifier.classNames.count))]))
        if let note = EvaluateLessonSupport.shippedNote(text, shuffled, options: options) { notebook.prose(note) }
        var dataRows: [[String]] = []
        for id in sanityMethods {
            guard let explainer = ExplainerRegistry.explainer(id: id) else { continue }
            let similarities = try SanityChecks.dataRandomisation(trained: classifier, shuffledLabels: shuffled.classifier,
                                                                  explainer: explainer, inputs: inputs, targets: targets,
                                                                  settings: s.gradCAMSettings)
            let mean = { (measure: (MapSimilarity) -> Double?) in EvaluateLessonSupport.mean(similarities.map(measure)) }
            dataRows.append([displayName(id), EvaluateLessonSupport.optional(mean(\.rankCorrelationOfAbsolute)),
                             EvaluateLessonSupport.optional(mean(\.structuralSimilarity))])
        }
        notebook.table(text("sanity.data.table", ["count": "\(inputs.count)"]),
                       headers: ["method", "ρ (true, shuffled labels)", "SSIM"], rows: dataRows)
        notebook.prose(text("sanity.data.after"))
    }

    /// Why Grad-CAM changes as soon as the head is random: at the layer that feeds global average
    /// pooling, ∂y^c/∂A^k_ij = w_ck / Z in every cell, so Grad-CAM's weights are the head's row c
    /// divided by Z, whatever the head holds. Checked against a copy whose head is re-initialised
    /// as the cascade's first step does: the α_k of that step's Grad-CAM (`randomHeadWeights`)
    /// against the copy's head.
    static func headCheck(_ s: Setting, firstStep: SanityChecks.RandomisationStep?, randomHeadWeights: [Float]?) throws {
        let classifier = s.classifier
        let layer = s.setup.layer
        guard let firstStep, let head = try? MoreCAMsLesson.poolingHead(of: classifier, after: layer),
              firstStep.layers == [head.name] else { return }
        let copy = try SanityChecks.copy(of: classifier)
        for name in firstStep.layers {
            if let layer = copy.layer(named: name) { SanityChecks.reinitialise(layer, seed: s.context.seed) }
        }
        guard let randomHead = copy.layer(named: head.name) as? Linear, let weights = randomHeadWeights,
              weights.count == randomHead.inputFeatures else { return }
        let features = randomHead.inputFeatures
        let cells = s.gradCAM.raw.count                  // the cascade's Grad-CAM is at the same layer
        let row = (0..<features).map { randomHead.weight.value.data[s.c * features + $0] }
        let expected = Tensor(shape: [features], data: row.map { Float(Double($0) / Double(cells)) })
        // Each cell's gradient w/Z is rounded once, their mean adds Z of them and divides by Z,
        // and the expected side is rounded once: Z + 2 roundings of a number of size |w|/Z.
        let tolerance = Tolerance.elementwise(count: cells + 2, magnitudes: expected.map(abs))
        s.notebook.prose(s.text("sanity.head", ["head": head.name, "layer": layer, "Z": "\(cells)"]))
        s.notebook.check(.equal(s.text("sanity.head.check", ["head": head.name]), "Grad-CAM's α_k, random head",
                                Tensor(shape: [weights.count], data: weights), "w_ck / Z of the random head", expected,
                                tolerance: tolerance))
    }

    /// "Grad-CAM", "guided backprop", … for tables.
    static func displayName(_ id: String) -> String {
        switch id {
        case "gradcam": return "Grad-CAM"
        case "gradcam++": return "Grad-CAM++"
        case "ig": return "IG"
        case "lrp-epsilon": return "LRP-ε"
        case "guided-backprop": return "guided backprop"
        case "input-x-gradient": return "input × gradient"
        default: return id
        }
    }

    /// A heatmap panel: a CAM in 0…1 with the jet colours, a signed map on the diverging scale.
    static func panel(_ caption: String, _ map: Tensor, signed: Bool) -> Panel {
        signed ? AttributionPanels.heatmap(caption, map) : .heatmap(caption, map)
    }
}

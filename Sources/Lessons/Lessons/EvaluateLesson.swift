import Foundation
import MiniNet

/// Lesson "evaluate": how good is an explanation? A heatmap always looks like something; the
/// lesson measures maps against the network and against the truth, on its own numbers:
///
/// 1. why: Grad-CAM, a random map and the picture's edges, side by side;
/// 2. faithfulness by deletion and insertion (Petsiuk et al. 2018): the curve built point by
///    point, x_k = x with its n_k most relevant pixels replaced by the fill x̃,
///
///        s_k = P_c(x_k),   AUC = Σ_k (f_{k+1} − f_k)(s_k + s_{k+1})/2 = (Σ_k s_k − s_0/2 − s_S/2)/S
///
///    and the identities at the ends: deletion at 100 % = P_c(x̃), insertion at 100 % = P_c(x);
/// 3. average drop and increase in confidence (Chattopadhay et al. 2018), and ROAD (Rong et al.
///    2022), which fills the removed pixels from their neighbours;
/// 4. localisation on the object's mask: pointing game, relevance mass and rank accuracy, with
///    a random map and the Sobel edges as controls, and the check that a random map's relevance
///    mass is the mask's area fraction within its sampling error;
/// 5. sanity checks (Adebayo et al. 2018): cascading randomisation of the layers from the top,
///    and the same network trained on shuffled labels;
/// 6. the table of methods × metrics on shapes validation pictures;
/// 7. a planted shortcut (issue 16): a network trained where a mark goes with one class, and
///    which methods find the mark.
///
/// Pictures of the shapes data set have masks; a photo has none, so on an ImageNet network
/// steps 4 and 6 explain what they would measure, and steps 5 and 7 use the small CNN the
/// lesson trains for itself where they need one.
public enum EvaluateLesson: Lesson {
    public static let id = "evaluate"
    /// One line for `tutor lessons`, in the reader's language.
    public static var summary: String {
        translated("How good is an explanation? Deletion and insertion, ROAD, localisation on masks, sanity checks and a planted shortcut")
    }

    /// Points of a deletion or insertion curve: S = 32 steps, so 32 pixels per step at 32×32.
    static let curveSteps = 32
    /// The first points of the deletion curve that the lesson builds itself (3 on a photo
    /// network without --every-pass, where each is a pass of tens of milliseconds).
    static let pointsByHand = 5
    static let trimmedPointsByHand = 3
    /// ROAD's removal percentages in this lesson (pytorch-grad-cam uses 10, 20, …, 90).
    static let roadPercentages: [Double] = [10, 30, 50, 70, 90]
    /// On a photo network without --every-pass (`LessonContext.trimsSlowSteps`), where a forward
    /// pass takes 20–40 ms instead of 1: curves of 8 steps (4 curves × 9 points instead of
    /// 4 × 33), ROAD at three percentages, and the cascade by stages instead of blocks. Each
    /// measure keeps its meaning, with coarser detail (docs/performance.md counts the passes).
    static let trimmedCurveSteps = 8
    static let trimmedRoadPercentages: [Double] = [10, 50, 90]
    /// Random maps and masks for the check of the random map's expected scores.
    static let randomMapCount = 200

    /// The lesson's picture, the network's answer and the maps every step reuses.
    struct Setting {
        var text: LessonText
        var context: LessonContext
        var setup: LessonSetup
        var notebook: Notebook
        /// The true mask of the lesson's picture ([H, W], coverage 0…1); nil for a photo.
        var coverage: Tensor?
        var gradCAM: Explanation
        /// Independent uniform values, one per pixel (`ControlMaps.random`).
        var randomMap: Tensor
        /// The length of the luminance's gradient (`ControlMaps.sobelEdges`).
        var edgeMap: Tensor

        var classifier: ImageClassifier { setup.classifier }
        var c: Int { setup.target }
        var input: Tensor { setup.input }
        var className: String { setup.className }
        var photo: RGBImage { RGBImage(tensor: setup.picture) }
        var height: Int { setup.picture.shape[1] }
        var width: Int { setup.picture.shape[2] }
        var usesShapes: Bool { context.usesShapesData }
        var isResNet: Bool { classifier.network.allLayers.contains { $0 is Residual } }
        /// Fewer passes in the slow steps (a photo network without --every-pass).
        var trims: Bool { context.trimsSlowSteps }
        var curveSteps: Int { trims ? EvaluateLesson.trimmedCurveSteps : EvaluateLesson.curveSteps }
        var pointsByHand: Int { trims ? EvaluateLesson.trimmedPointsByHand : EvaluateLesson.pointsByHand }
        var roadPercentages: [Double] { trims ? EvaluateLesson.trimmedRoadPercentages : EvaluateLesson.roadPercentages }
        /// The score of the faithfulness measures: the probability, as Petsiuk and Chattopadhay use.
        var score: ExplanationTarget { .probability(c) }
        var gradCAMSettings: ExplainerSettings {
            var settings = EvaluateLessonSupport.settings
            settings.layer = setup.layer
            return settings
        }
    }

    public static func build(_ context: LessonContext) throws -> Notebook {
        let text = try LessonText(lesson: id, language: context.language)
        let setup = try LessonSetup(context)
        let notebook = Notebook(lesson: id, title: text("title"))
        let (height, width) = (setup.picture.shape[1], setup.picture.shape[2])
        var gradCAMSettings = EvaluateLessonSupport.settings
        gradCAMSettings.layer = setup.layer
        let gradCAM = try EvaluateLessonSupport.heatmap("gradcam", setup.classifier, setup.input, setup.target, settings: gradCAMSettings)
        let setting = Setting(
            text: text, context: context, setup: setup, notebook: notebook,
            coverage: context.usesShapesData ? context.defaultPictureMask(imageSize: height) : nil, gradCAM: gradCAM,
            randomMap: ControlMaps.random(height: height, width: width, seed: context.seed),
            edgeMap: ControlMaps.sobelEdges(setup.picture))
        notebook.prose(text("intro", ["class": setup.className, "c": "\(setup.target)",
                                      "p": EvaluateLessonSupport.number(setting.fullProbability)]))
        if setting.trims {
            let seconds = LessonSetup.secondsOfOnePass(setup.classifier, input: setup.input)
            notebook.prose(text("intro.trimmed", ["ms": String(format: "%.0f", 1000 * seconds),
                                                  "steps": "\(trimmedCurveSteps)", "fullSteps": "\(curveSteps)",
                                                  "road": trimmedRoadPercentages.map { "\(Int($0))" }.joined(separator: ", "),
                                                  "fullRoad": roadPercentages.map { "\(Int($0))" }.joined(separator: ", ")]))
        }

        try whyStep(setting)
        try deletionStep(setting)
        try confidenceStep(setting)
        try localisationStep(setting)
        try sanityStep(setting)
        try tableStep(setting)
        try shortcutStep(setting)
        notebook.references(text)
        return notebook
    }

    // MARK: - Step 1: why

    static func whyStep(_ s: Setting) throws {
        let (text, notebook) = (s.text, s.notebook)
        notebook.step(text("why.title"), id: "evaluate.why")
        notebook.prose(text("why.body"))
        notebook.picture(text(s.coverage == nil ? "why.picture.photo" : "why.picture", ["class": s.className]), [
            .image("x", s.photo)] + (s.coverage.map { [Panel.heatmap("mask M", $0)] } ?? []) + [
            .overlay("Grad-CAM", heatmap: s.gradCAM.heatmap, on: s.photo),
            .heatmap("random map", s.randomMap),
            .heatmap("Sobel edges", EvaluateLessonSupport.unitMap(s.edgeMap)),
        ])
        notebook.prose(text(s.usesShapes ? "why.truth.shapes" : "why.truth.photo"))
    }

    // MARK: - Step 2: deletion and insertion

    static func deletionStep(_ s: Setting) throws {
        let (text, notebook, classifier) = (s.text, s.notebook, s.classifier)
        let steps = s.curveSteps
        let pixels = s.height * s.width
        // The four curves together: their ends (x, and each fill alone) are scored once for all.
        let together = try Faithfulness.curves([.init(.deletion, heatmap: s.gradCAM.heatmap), .init(.insertion, heatmap: s.gradCAM.heatmap),
                                              .init(.deletion, heatmap: s.randomMap), .init(.insertion, heatmap: s.randomMap)],
                                             classifier: classifier, input: s.input, target: s.score, steps: steps)
        let (deletion, insertion, randomDeletion, randomInsertion) = (together[0], together[1], together[2], together[3])
        notebook.step(text("deletion.title"), id: "evaluate.deletion")
        notebook.prose(text("deletion.body", ["N": "\(pixels)", "S": "\(steps)", "per": "\(pixels / steps)",
                                              "class": s.className]))
        notebook.math("x_k = x̃ ⊙ [rank < n_k] + x ⊙ [rank ≥ n_k],  n_k = ⌊k·N/S⌋,  s_k = P_c(x_k)",
                      latex: #"x_k = \tilde x \odot [\mathrm{rank} < n_k] + x \odot [\mathrm{rank} \ge n_k], \qquad n_k = \lfloor kN/S \rfloor, \qquad s_k = P_c(x_k)"#)

        // The first points by hand: the lesson deletes the pixels itself and runs the network on
        // each picture alone; MiniNet's curve ran them in batches.
        let order = Localisation.pixelsByRelevance(s.gradCAM.heatmap)
        let channels = s.input.shape[0]
        var byHand: [Float] = []
        var tolerance = Tolerance.exact
        var rows: [[String]] = []
        for k in 0..<min(s.pointsByHand, deletion.scores.count) {
            let deleted = deletedPicture(s.input, order: order, count: deletion.pixelCounts[k], channels: channels)
            let (score, pointTolerance, logits) = Faithfulness.scoreWithTolerance(classifier: classifier, image: deleted, target: s.score)
            byHand.append(score)
            if pointTolerance.value > tolerance.value { tolerance = pointTolerance }
            let predicted = logits.argmax
            rows.append(["\(k)", "\(deletion.pixelCounts[k])", EvaluateLessonSupport.percent(deletion.fractions[k]),
                         EvaluateLessonSupport.number(score), EvaluateLessonSupport.number(deletion.scores[k]),
                         classifier.classNames[predicted]])
        }
        notebook.table(text("deletion.table"), headers: ["k", "n_k", "n_k / N", "P_c(x_k), alone", "P_c(x_k), curve", "predicted"],
                       rows: rows, dataColumns: [5])
        notebook.check(.equal(text("deletion.points", ["count": "\(byHand.count)"]), "P_c(x_k), built here",
                              Tensor(shape: [byHand.count], data: byHand), "P_c(x_k), Faithfulness.curves",
                              Tensor(shape: [byHand.count], data: Array(deletion.scores.prefix(byHand.count))), tolerance: tolerance))
        // The whole curves, and their areas.
        var blur = ""
        if case let .blur(size, sigma) = PerturbationFill.petsiukBlur { blur = "\(size) × \(size), σ = \(EvaluateLessonSupport.short(sigma))" }
        notebook.prose(text("deletion.curve", ["blur": blur]))
        let curves = [("deletion, Grad-CAM", deletion), ("deletion, random map", randomDeletion),
                      ("insertion, Grad-CAM", insertion), ("insertion, random map", randomInsertion)]
        notebook.table(text("deletion.sparklines"), headers: ["curve", "s_0 … s_\(steps)", "AUC"],
                       rows: curves.map { [$0.0, EvaluateLessonSupport.sparkline($0.1.scores), EvaluateLessonSupport.number($0.1.area)] },
                       dataColumns: [1])
        notebook.prose(text("deletion.area"))
        notebook.math("AUC = Σ_k (f_{k+1} − f_k)(s_k + s_{k+1})/2 = (Σ_k s_k − s_0/2 − s_S/2)/S",
                      latex: #"\mathrm{AUC} = \sum_k (f_{k+1} - f_k)\,\frac{s_k + s_{k+1}}{2} = \frac{1}{S}\Big(\sum_{k=0}^{S} s_k - \frac{s_0}{2} - \frac{s_S}{2}\Big), \qquad f_k = \frac{n_k}{N}"#)
        notebook.check(areaCheck(text, deletion))
        notebook.prose(text("deletion.ends", [
            "full": EvaluateLessonSupport.number(deletion.fullScore), "fill": EvaluateLessonSupport.number(deletion.fillScore),
            "blurred": EvaluateLessonSupport.number(insertion.fillScore)]))
        // The far ends; the near ends (s_0) hold as well and are checked by MiniNet's tests.
        notebook.check(deletion.checks[1])
        notebook.check(insertion.checks[1])
        notebook.prose(text("deletion.after"))
    }

    /// The input [C, H, W] with its first `count` pixels of `order` set to the fill 0 (the data
    /// set's mean colour) in every channel.
    static func deletedPicture(_ input: Tensor, order: [Int], count: Int, channels: Int) -> Tensor {
        var deleted = input
        let planeSize = input.count / channels
        for pixel in order.prefix(count) {
            for channel in 0..<channels { deleted.data[channel * planeSize + pixel] = 0 }
        }
        return deleted
    }

    /// A normalised input [3, H, W] as the picture a person sees.
    static func pixelPicture(_ classifier: ImageClassifier, _ input: Tensor) -> RGBImage {
        RGBImage(tensor: classifier.denormalize(input))
    }

    /// The trapezoid area MiniNet computes (step by step over the fractions) against Petsiuk's
    /// form for equal steps, (Σ s_k − s_0/2 − s_S/2)/S: both sums of S + 1 terms s_k/S.
    static func areaCheck(_ text: LessonText, _ curve: PerturbationCurve) -> Check {
        let steps = Double(curve.scores.count - 1)
        let scores = curve.scores.map(Double.init)
        let petsiuk = (scores.reduce(0, +) - scores[0] / 2 - scores[scores.count - 1] / 2) / steps
        let terms = scores.map { $0 / steps }
        return .equal(text("deletion.area.check"), "AUC, trapezoid by trapezoid", curve.area,
                      "(Σ s_k − s_0/2 − s_S/2)/S", petsiuk, tolerance: .sum(of: terms) + .sum(of: terms))
    }

    // MARK: - Step 3: confidence and ROAD

    static func confidenceStep(_ s: Setting) throws {
        let (text, notebook, classifier) = (s.text, s.notebook, s.classifier)
        notebook.step(text("confidence.title"), id: "evaluate.confidence")
        notebook.prose(text("confidence.body"))
        notebook.math("AD = (100/n) Σ_i max(0, Y_i − O_i)/Y_i,  IC = (100/n) Σ_i [O_i > Y_i]",
                      latex: #"\mathrm{AD} = \frac{100}{n}\sum_i \frac{\max(0, Y_i - O_i)}{Y_i},\qquad \mathrm{IC} = \frac{100}{n}\sum_i [O_i > Y_i]"#)
        let maps = [("Grad-CAM", s.gradCAM.heatmap), ("random map", s.randomMap), ("Sobel edges", s.edgeMap)]
        let changes = try Faithfulness.confidenceChanges(classifier: classifier, inputs: maps.map { _ in s.input },
                                                         heatmaps: maps.map(\.1), targets: maps.map { _ in s.score })
        notebook.table(text("confidence.table", ["class": s.className]),
                       headers: ["map", "Y = P_c(x)", "O = P_c(x ⊙ M)", "max(0, Y − O) / Y", "O > Y"],
                       rows: zip(maps, changes).map { map, change in
                           [map.0, EvaluateLessonSupport.number(change.fullScore), EvaluateLessonSupport.number(change.maskedScore),
                            EvaluateLessonSupport.optional(change.relativeDrop), change.increased ? "yes" : "no"]
                       })

        // ROAD: the removed pixels filled from their neighbours.
        notebook.prose(text("road.body"))
        let roads = try ROAD.combined(classifier: classifier, input: s.input, heatmaps: [s.gradCAM.heatmap, s.randomMap], target: s.score,
                                      percentages: s.roadPercentages)
        let (gradCAMRoad, randomRoad) = (roads[0], roads[1])
        notebook.table(text("road.table"), headers: ["removed", "Grad-CAM, MoRF", "Grad-CAM, LeRF", "random, MoRF", "random, LeRF"],
                       rows: s.roadPercentages.indices.map { index in
                           ["\(Int(s.roadPercentages[index])) %"] + [gradCAMRoad.mostRelevantFirst, gradCAMRoad.leastRelevantFirst,
                                                                    randomRoad.mostRelevantFirst, randomRoad.leastRelevantFirst]
                               .map { EvaluateLessonSupport.number($0.scores[index]) }
                       })
        // The imputation's own identity, at the worst pixel of every removal of both orders.
        let imputationChecks = gradCAMRoad.mostRelevantFirst.checks + gradCAMRoad.leastRelevantFirst.checks
        if let worst = imputationChecks.max(by: { $0.usedFraction < $1.usedFraction }) { notebook.check(worst) }
        // The pictures at 50 %, which both lists of percentages hold: the ones ROAD scored.
        let half = 50.0
        guard let halfIndex = s.roadPercentages.firstIndex(of: half) else { preconditionFailure("ROAD's percentages hold 50") }
        let removed = ROAD.removedPixels(heatmap: s.gradCAM.heatmap, percent: half, order: .mostRelevantFirst)
        var blanked = s.input
        let planeSize = s.height * s.width
        for (pixel, isRemoved) in removed.enumerated() where isRemoved {
            for channel in 0..<s.input.shape[0] { blanked.data[channel * planeSize + pixel] = 0 }
        }
        notebook.picture(text("road.picture"), [
            .image("x", s.photo),
            .image("MoRF \(Int(half)) %, fill 0", pixelPicture(classifier, blanked)),
            .image("MoRF \(Int(half)) %, imputed", pixelPicture(classifier, gradCAMRoad.mostRelevantFirst.imputedImages[halfIndex])),
            .image("LeRF \(Int(half)) %, imputed", pixelPicture(classifier, gradCAMRoad.leastRelevantFirst.imputedImages[halfIndex])),
        ])
        notebook.prose(text("road.after", [
            "gradcam": EvaluateLessonSupport.number(gradCAMRoad.score), "random": EvaluateLessonSupport.number(randomRoad.score)]))
    }
}

extension EvaluateLesson.Setting {
    /// P_c(x), the probability of the explained class for the lesson's picture.
    var fullProbability: Float {
        ExplanationTarget.probability(c).valueAndGradient(logits: setup.logits).value
    }
}

import ArgumentParser
import Foundation
import Lessons
import MiniNet

/// The explanation methods `tutor explain` offers.
enum ExplanationMethod: String, ExpressibleByArgument, CaseIterable {
    case cam, gradcam, ablationcam
    case lrpZero = "lrp-0", lrpEpsilon = "lrp-epsilon"
    case ig, saliency

    var isClassActivationMap: Bool { [.cam, .gradcam, .ablationcam].contains(self) }
}

/// How LRP merges each BatchNorm into the convolution before it.
enum BatchNormMerge: String, ExpressibleByArgument, CaseIterable {
    /// The merged network computes exactly what the original one does.
    case exact
    /// As Zennit 0.5's canonizer: the BatchNorm left behind still divides by √(1 + eps).
    case zennit
}

extension IntegrationMethod: ExpressibleByArgument {}
extension AttributionSign: ExpressibleByArgument {}
extension ColorMap: ExpressibleByArgument {}
extension Baseline: ExpressibleByArgument {}

struct ExplainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: translated("Explain one prediction with CAM, Grad-CAM, Ablation-CAM, LRP, Integrated Gradients or saliency."),
        discussion: translated("""
        Prints the target score y^c, the channel weights (CAM family) or the attribution totals, \
        and the checks that apply to the method. --save-npy writes the raw result: for the CAM \
        family the map after ReLU at the layer's own resolution, before upsampling and \
        normalisation; for input attributions a C×H×W array. --overlay blends the heatmap over \
        the picture (jet for CAMs, a diverging map for signed attributions, scaled as Captum's \
        visualize_image_attr scales them: see --sign and --outlier-perc). Integrated Gradients \
        defaults follow Captum: Gauss–Legendre, 50 steps, zero baseline.
        """)
    )

    @Argument(help: .translated("The PNG picture to explain (or give --input-npy). A ResNet sees it as torchvision prepares it: shorter side 256, centre crop 224."))
    var image: String?

    @Option(help: .translated("The explanation method."))
    var method: ExplanationMethod = .gradcam

    // .unconditional on numeric options: "--steps -5" must reach validate(), which names the
    // bad value, instead of -5 being read as a flag ("Missing value for '--steps'").
    @Option(name: .customLong("class"), parsing: .unconditional, help: .translated("The class to explain, by name or index. By default the predicted class."))
    var targetClass: String?

    @Option(help: .translated("The layer for the CAM family, such as features.10 or layer3.5. By default the last convolution block (layer4's last block in a ResNet)."))
    var layer: String?

    @Option(parsing: .unconditional, help: .translated("The number of integration steps for Integrated Gradients (at most 10000)."))
    var steps = 50

    @Option(help: .translated("The integration rule for Integrated Gradients."))
    var integration: IntegrationMethod = .gaussLegendre

    @Option(help: .translated("The baseline x′ for Integrated Gradients: zero (Captum's default), black or blurred."))
    var baseline: Baseline = .zero

    @Option(parsing: .unconditional, help: .translated("ε of the LRP epsilon rule (a finite number ≥ 0)."))
    var epsilon: Float = 1e-6

    @Option(name: .customLong("batchnorm-merge"), help: .translated(
        "How LRP folds each BatchNorm into the convolution before it: exact (the default; the merged network computes the same function), or zennit (as Zennit 0.5's ResNet canonizer does, which leaves a BatchNorm behind that still divides by √(1 + eps); use it to compare with Zennit's numbers).",
        valueName: "merge"))
    var batchNormMerge: BatchNormMerge?

    @Option(name: .customLong("input-npy"), help: .translated("An already preprocessed C×H×W float32 .npy to explain instead of a picture."))
    var inputNpy: String?

    @Option(name: .customLong("save-npy"), help: .translated("Write the raw result to this .npy file."))
    var saveNpy: String?

    @Option(help: .translated("Write the heatmap blended over the picture to this PNG file."))
    var overlay: String?

    @Option(help: .translated(
        "Which part of a signed attribution (lrp-0, lrp-epsilon, ig, saliency) the overlay shows, as Captum's visualize_image_attr: positive (evidence for the class), negative (against it), absolute (|a|) or all (both signs, the default).",
        valueName: "sign"))
    var sign: AttributionSign?

    @Option(help: .translated(
        "The colour map of the overlay: jet (the default for the CAM family, as pytorch-grad-cam), diverging (blue–white–red, the default for attributions) or white-to-black (the second article's map for IG, which reads 0…1: use it with --sign positive or absolute).",
        valueName: "map"))
    var colormap: ColorMap?

    @Option(name: .customLong("outlier-perc"), parsing: .unconditional, help: .translated(
        "The share of an attribution's mass, in percent, that the overlay's colour scale clips, as Captum's outlier_perc: the scale is the value at which the sorted |values| reach (100 − P)% of their total. Default 1, as the second article draws its IG map.",
        valueName: "P"))
    var outlierPercent: Double?

    @OptionGroup var model: ModelOptions

    @OptionGroup var display: ColorOptions

    @Flag(help: .translated("Print the target score, the weights and the checks as JSON."))
    var json = false

    /// The most integration steps --steps allows.
    static let maximumSteps = 10_000

    func validate() throws {
        if (image == nil) == (inputNpy == nil) { throw ValidationError(translated("Give a picture to explain or --input-npy PATH, exactly one of them.")) }
        guard (integration.minimumSteps...Self.maximumSteps).contains(steps) else {
            throw ValidationError(translated("--steps {$1} is out of range: use {$2} to {$3} steps with --integration {$4}, for example --steps 50.",
                                             with: steps, integration.minimumSteps, Self.maximumSteps, integration.rawValue))
        }
        // `epsilon >= 0` is false for NaN, so "--epsilon nan" is refused here too.
        guard epsilon >= 0 && epsilon.isFinite else {
            throw ValidationError(translated("--epsilon {$1} is not allowed: use a finite number ≥ 0, for example --epsilon 1e-6.", with: epsilon))
        }
        if let overlay, !overlay.lowercased().hasSuffix(".png") {
            throw ValidationError(translated("--overlay must name a .png file, for example --overlay heatmap.png."))
        }
        if let outlierPercent, !(outlierPercent >= 0 && outlierPercent < 100) {
            throw ValidationError(translated(
                "--outlier-perc {$1} is out of range: use a percentage from 0 up to (not including) 100, for example --outlier-perc 1.", with: outlierPercent))
        }
        if method.isClassActivationMap && (sign != nil || outlierPercent != nil) {
            throw ValidationError(translated(
                "--sign and --outlier-perc apply to attributions (lrp-0, lrp-epsilon, ig, saliency); a {$1} map is already cut at zero and scaled to 0…1, so leave them out.",
                with: method.rawValue))
        }
        if batchNormMerge != nil && method != .lrpZero && method != .lrpEpsilon {
            throw ValidationError(translated("--batchnorm-merge applies to --method lrp-0 and lrp-epsilon only; leave it out with --method {$1}.",
                                             with: method.rawValue))
        }
        if let saveNpy, !saveNpy.lowercased().hasSuffix(".npy") {
            throw ValidationError(translated("--save-npy must name a .npy file, for example --save-npy map.npy."))
        }
    }

    @OptionGroup var language: LanguageOption

    func run() throws {
        let classifier = try model.loadClassifier()
        let input: Tensor
        let picture: Tensor  // [3, H, W] in 0…1, for the overlay
        if let inputNpy {
            input = try loadInputNpy(inputNpy, for: classifier)
            picture = classifier.denormalize(input)
        } else {
            var options = ExplanationOptions()
            options.image = image
            picture = try options.loadImage(for: classifier)!
            input = classifier.normalize(picture)
        }
        var selection = ExplanationOptions()
        selection.targetClass = targetClass
        selection.layer = layer
        let logits = classifier.forward(input.reshaped([1] + input.shape)).data
        let target = try selection.resolveClass(for: classifier) ?? Tensor(shape: [logits.count], data: logits).argmax
        let layerName = try selection.resolveLayer(for: classifier)
            ?? LessonContext(classifier: classifier).defaultCAMLayer(for: classifier)

        var report: [String: Any] = ["method": method.rawValue, "class": target, "label": classifier.classNames[target],
                                     "logits": logits.map(Double.init)]
        var checks: [Check] = []
        let raw: Tensor
        let heatmap: Tensor
        let colorMap: ColorMap

        if method.isClassActivationMap {
            let explainer: ClassActivationMapMethod
            switch method {
            case .cam: explainer = CAM(classifier: classifier)
            case .ablationcam: explainer = AblationCAM(classifier: classifier)
            default: explainer = GradCAM(classifier: classifier)
            }
            let result = try explainer.explain(input: input, layer: layerName, target: .logit(target))
            report["layer"] = layerName
            report["target_score"] = Double(result.score)
            report["weights"] = result.weights.map(Double.init)
            if method == .cam, let head = classifier.network.allLayers.last(where: { $0 is Linear }) as? Linear {
                // S_c = (1/Z) Σ_{x,y} M_c(x, y) + b_c with M_c before ReLU; each side pools Z cells
                // and adds K + 1 terms in float32.
                let planeSize = Double(result.weightedSum.count)
                let bias = head.bias?.value.data[target] ?? 0
                let tolerance = Tolerance.pooledLogit(result.activations, weights: result.weights, bias: bias)
                checks.append(.equal("S_c = (1/Z) Σ M_c + b_c", "S_c", Double(result.score),
                                     "(1/Z) Σ M_c + b_c", result.weightedSum.sum() / planeSize + Double(bias),
                                     tolerance: tolerance + tolerance))
            }
            raw = result.map
            heatmap = result.normalized
            colorMap = .jet
        } else {
            let score = Double(logits[target])
            report["target_score"] = score
            switch method {
            case .lrpZero, .lrpEpsilon:
                // LRP-ε uses Zennit's composite (Norm on average pooling and residual sums), so the
                // result can be compared with Zennit's EpsilonComposite-style attribution.
                let ruleMap = method == .lrpZero ? LRPRuleMap(linear: .zero) : .zennitEpsilon(epsilon)
                let merge = batchNormMerge ?? .exact
                let result = try layerwiseRelevance(classifier: classifier, input: input, target: target, ruleMap: ruleMap,
                                                    leavingNeutralBatchNorm: merge == .zennit)
                report["batchnorm_merge"] = merge.rawValue
                report["relevance_total"] = result.relevance.sum()
                report["absorbed"] = result.totalAbsorbed
                checks.append(.equal(translated("f(x) = Σ_i R_i + relevance absorbed by biases and ε"), "f(x)", Double(result.score),
                                     translated("Σ_i R_i + absorbed"), result.relevance.sum() + result.totalAbsorbed,
                                     tolerance: result.conservationTolerance(classifier: classifier, input: input)))
                raw = result.relevance
            case .ig:
                let reference = baseline.make(for: input, classifier: classifier)
                let result = try integratedGradients(classifier: classifier, input: input, baseline: reference,
                                                     target: .logit(target), steps: steps, method: integration)
                report["steps"] = steps
                report["integration"] = integration.rawValue
                report["baseline"] = baseline.rawValue
                report["score_at_baseline"] = Double(result.scoreAtBaseline)
                report["attribution_total"] = result.totalAttribution
                checks.append(.equal(translated("Σ_i IG_i = f(x) − f(x′) (completeness)"), "Σ_i IG_i", result.totalAttribution,
                                     "f(x) − f(x′)", Double(result.scoreAtInput) - Double(result.scoreAtBaseline),
                                     tolerance: result.completenessTolerance(classifier: classifier, input: input, baseline: reference)))
                raw = result.attributions
            default:
                raw = try saliency(classifier: classifier, input: input, target: .logit(target), absolute: false)
            }
            var summed = Tensor(zeros: [raw.shape[1], raw.shape[2]])
            for c in 0..<raw.shape[0] {
                for index in 0..<summed.count { summed.data[index] += raw.data[c * summed.count + index] }
            }
            // Shown as Captum's visualize_image_attr shows it: one sign, scaled so that the top
            // P% of the mass is clipped (one outlier must not wash out the rest).
            let shownSign = sign ?? .all
            let shownOutliers = outlierPercent ?? 1
            heatmap = AttributionDisplay.normalize(summed, sign: shownSign, outlierPercent: shownOutliers)
            report["overlay_sign"] = shownSign.rawValue
            report["overlay_outlier_perc"] = shownOutliers
            colorMap = .diverging
        }
        report["checks"] = checks.map { check -> [String: Any] in
            ["name": check.name, "left": check.left, "right": check.right, "residual": check.residual,
             "tolerance": check.tolerance, "tolerance_formula": check.model?.description ?? "", "ok": check.ok]
        }

        if let saveNpy { try NumpyFile.write(raw, to: saveNpy) }
        if let overlay {
            let blended = Lessons.overlay(heatmap, on: RGBImage(tensor: picture), map: colormap ?? colorMap)
            try blended.scaled(width: blended.width * 8, height: blended.height * 8, interpolation: .nearest).write(to: overlay)
        }
        if json {
            try Terminal.printJSON(report)
        } else {
            // Numbers at the lessons' precision, checks drawn as the lessons draw them.
            let renderer = TerminalRenderer(color: display.useColor, width: TerminalRenderer.standardOutputWidth())
            let score = formatLessonNumber(report["target_score"] as? Double ?? .nan)
            print(fitLines(translated("{$1}: class {$2} ({$3}), yᶜ = {$4}", with: method.rawValue, target, classifier.classNames[target], score),
                           width: renderer.width))
            if let weights = report["weights"] as? [Double] {
                let ranked = weights.indices.sorted { weights[$0] > weights[$1] }.prefix(5)
                print(fitLines("  " + translated("layer {$1}; top channel weights: {$2}", with: layerName,
                                                 ranked.map { "k=\($0) \(formatLessonNumber(weights[$0]))" }.joined(separator: ", ")),
                               width: renderer.width))
            }
            for check in checks {
                print(renderer.renderCheck(check))
            }
            if let saveNpy { print("  " + translated("raw result {$1} written to {$2}", with: raw.shape, saveNpy)) }
            if let overlay { print("  " + translated("overlay written to {$1}", with: overlay)) }
        }
        let failed = checks.filter { !$0.ok }
        if !failed.isEmpty {
            Terminal.printError("tutor: " + translated("{$1} check(s) failed: {$2}", with: failed.count, failed.map(\.name).joined(separator: "; ")))
            throw ExitCode(1)
        }
    }
}

import ArgumentParser
import Foundation
import Lessons
import MiniNet

/// A method of `ExplainerRegistry`, named on the command line (`--method gradcam++`): the
/// registry gives the choices, so a new method needs no edit here.
struct MethodChoice: ExpressibleByArgument {
    let explainer: any Explainer

    init?(argument: String) {
        guard let explainer = ExplainerRegistry.explainer(id: argument) else { return nil }
        self.explainer = explainer
    }

    static var allValueStrings: [String] { ExplainerRegistry.ids }
    var defaultValueDescription: String { explainer.id }
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
        abstract: translated("Explain one prediction with any method of the registry: the CAM family, LRP, Integrated Gradients, saliency and the other gradient methods."),
        discussion: translated("""
        Prints the target score y^c, the channel weights (CAM family) or the attribution totals, \
        and the checks that apply to the method; on a colour terminal it also draws the picture, \
        the map and the overlay. --save-npy writes the raw result: for the CAM \
        family the map after ReLU at the layer's own resolution, before upsampling and \
        normalisation; for input attributions a C×H×W array. --overlay blends the heatmap over \
        the picture (jet for CAMs, a diverging map for signed attributions, scaled as Captum's \
        visualize_image_attr scales them: see --sign and --outlier-perc). Integrated Gradients \
        defaults follow Captum: Gauss–Legendre, 50 steps, zero baseline.
        """) + methodsSection() + examplesSection([
            "tutor explain images/shapes/square.png --method gradcam --overlay map.png",
            "tutor explain photo.png --weights resnet34.pth --method ig --steps 200 --json",
            "tutor explain photo.png --weights resnet34.pth --method lrp-epsilon",
        ])
    )

    @Argument(help: .translated("The PNG picture to explain (or give --input-npy). A ResNet sees it as torchvision prepares it: shorter side 256, centre crop 224."))
    var image: String?

    @Option(help: .translated("The explanation method (the list below says what each does)."))
    var method = MethodChoice(argument: "gradcam")!

    // .unconditional on numeric options: "--steps -5" must reach validate(), which names the
    // bad value, instead of -5 being read as a flag ("Missing value for '--steps'").
    @Option(name: .customLong("class"), parsing: .unconditional, help: .translated("The class to explain, by name or index. By default the predicted class."))
    var targetClass: String?

    @Option(help: .translated("The layer for the CAM family, such as features.10 or layer3.5. By default the last convolution block (layer4's last block in a ResNet)."))
    var layer: String?

    @Option(parsing: .unconditional, help: .translated("The number of integration steps for Integrated Gradients (at most 10000; default 50)."), number: NumberText.whole)
    var steps: Int?

    @Option(help: .translated("The integration rule for Integrated Gradients (default gauss-legendre)."))
    var integration: IntegrationMethod?

    @Option(help: .translated("The baseline x′ for Integrated Gradients: zero (Captum's default), black or blurred."))
    var baseline: Baseline?

    @Option(parsing: .unconditional, help: .translated("ε of the LRP epsilon rule (a finite number ≥ 0; default 1e-6, as Zennit)."), number: NumberText.float)
    var epsilon: Float?

    @Option(help: .translated(
        "The LRP composite of --method lrp, as Zennit names them: epsilon (the default), epsilon-plus, epsilon-plus-flat, epsilon-gamma-box or epsilon-alpha2-beta1.",
        valueName: "name"))
    var composite: String?

    @Option(name: .customLong("batchnorm-merge"), help: .translated(
        "How LRP folds each BatchNorm into the convolution before it: exact (the default; the merged network computes the same function), or zennit (as Zennit 0.5's ResNet canonizer does, which leaves a BatchNorm behind that still divides by √(1 + eps); use it to compare with Zennit's numbers).",
        valueName: "merge"))
    var batchNormMerge: BatchNormMerge?

    @Option(parsing: .unconditional, help: .translated("How many noisy copies of the input SmoothGrad and VarGrad average (1 to 10000; default 50)."), number: NumberText.whole)
    var samples: Int?

    @Option(parsing: .unconditional, help: .translated(
        "The noise of SmoothGrad and VarGrad: σ as a fraction of the input's range (max − min), from 0 to 10; default 0.15, as the SmoothGrad paper recommends 10–20%.",
        valueName: "fraction"), number: NumberText.real)
    var noise: Double?

    @Option(parsing: .unconditional, help: .translated("The seed of SmoothGrad's and VarGrad's noise (default 0): the same seed gives the same map on every machine."), number: NumberText.seed)
    var seed: UInt64?

    @Option(name: .customLong("input-npy"), help: .translated("An already preprocessed C×H×W float32 .npy to explain instead of a picture."))
    var inputNpy: String?

    @Option(name: .customLong("save-npy"), help: .translated("Write the raw result to this .npy file."))
    var saveNpy: String?

    @Option(help: .translated("Write the heatmap blended over the picture to this PNG file."))
    var overlay: String?

    @Option(help: .translated(
        "Which part of an attribution to the input the overlay shows, as Captum's visualize_image_attr: positive (evidence for the class), negative (against it), absolute (|a|) or all (both signs, the default).",
        valueName: "sign"))
    var sign: AttributionSign?

    @Option(help: .translated(
        "The colour map of the overlay: jet (the default for the CAM family, as pytorch-grad-cam), diverging (blue–white–red, the default for attributions) or white-to-black (the second article's map for IG, which reads 0…1: use it with --sign positive or absolute).",
        valueName: "map"))
    var colormap: ColorMap?

    @Option(name: .customLong("outlier-perc"), parsing: .unconditional, help: .translated(
        "The share of an attribution's mass, in percent, that the overlay's colour scale clips, as Captum's outlier_perc: the scale is the value at which the sorted |values| reach (100 − P)% of their total. Default 1, as the second article draws its IG map.",
        valueName: "P"), number: NumberText.real)
    var outlierPercent: Double?

    @OptionGroup var model: ModelOptions

    @OptionGroup var display: ColorOptions

    @Flag(help: .translated("Print the target score, the weights and the checks as JSON."))
    var json = false

    @OptionGroup var language: LanguageOption

    /// The settings given on the command line, by the flag that gave each.
    var givenSettings: [(flag: String, setting: ExplainerSetting)] {
        var given: [(String, ExplainerSetting)] = []
        if layer != nil { given.append(("--layer", .layer)) }
        if steps != nil { given.append(("--steps", .steps)) }
        if integration != nil { given.append(("--integration", .integration)) }
        if baseline != nil { given.append(("--baseline", .baseline)) }
        if epsilon != nil { given.append(("--epsilon", .epsilon)) }
        if composite != nil { given.append(("--composite", .composite)) }
        if batchNormMerge != nil { given.append(("--batchnorm-merge", .batchNormMerge)) }
        if samples != nil { given.append(("--samples", .samples)) }
        if noise != nil { given.append(("--noise", .noise)) }
        if seed != nil { given.append(("--seed", .seed)) }
        return given
    }

    /// What the explainer is told: the defaults, and what the command line gave.
    var settings: ExplainerSettings {
        var settings = ExplainerSettings()
        settings.layer = layer
        if let steps { settings.steps = steps }
        if let integration { settings.integration = integration }
        if let baseline { settings.baseline = baseline }
        if let epsilon { settings.epsilon = epsilon }
        if let composite { settings.composite = composite }
        settings.zennitBatchNormMerge = batchNormMerge == .zennit
        if let samples { settings.samples = samples }
        if let noise { settings.noise = noise }
        if let seed { settings.seed = seed }
        return settings
    }

    func validate() throws {
        let id = method.explainer.id
        if (image == nil) == (inputNpy == nil) { throw ValidationError(translated("Give a picture to explain or --input-npy PATH, exactly one of them.")) }
        let integration = integration ?? .gaussLegendre
        if let steps, !(integration.minimumSteps...10_000).contains(steps) {
            throw ValidationError(translated("--steps {$1} is out of range: use {$2} to {$3} steps with --integration {$4}, for example --steps 50.",
                                             with: steps, integration.minimumSteps, 10_000, integration.rawValue))
        }
        // `epsilon >= 0` is false for NaN, so "--epsilon nan" is refused here too.
        if let epsilon, !(epsilon >= 0 && epsilon.isFinite) {
            throw ValidationError(translated("--epsilon {$1} is not allowed: use a finite number ≥ 0, for example --epsilon 1e-6.", with: epsilon))
        }
        if let composite, !LRPComposite.ids.contains(composite) {
            throw ValidationError(translated("--composite {$1} is not an LRP composite; use one of: {$2}.",
                                             with: composite, LRPComposite.ids.joined(separator: ", ")))
        }
        if let samples, !(1...10_000).contains(samples) {
            throw ValidationError(translated("--samples {$1} is out of range: use 1 to 10000, for example --samples 50.", with: samples))
        }
        if let noise, !(noise >= 0 && noise <= 10) {
            throw ValidationError(translated("--noise {$1} is out of range: use a fraction of the input's range from 0 to 10, for example --noise 0.15.", with: noise))
        }
        if let overlay, !overlay.lowercased().hasSuffix(".png") {
            throw ValidationError(translated("--overlay must name a .png file, for example --overlay heatmap.png."))
        }
        if let outlierPercent, !(outlierPercent >= 0 && outlierPercent < 100) {
            throw ValidationError(translated(
                "--outlier-perc {$1} is out of range: use a percentage from 0 up to (not including) 100, for example --outlier-perc 1.", with: outlierPercent))
        }
        if method.explainer.settings.contains(.layer) && (sign != nil || outlierPercent != nil) {
            throw ValidationError(translated(
                "--sign and --outlier-perc apply to attributions to the input; a {$1} map is already cut at zero and scaled to 0…1, so leave them out.",
                with: id))
        }
        if let saveNpy, !saveNpy.lowercased().hasSuffix(".npy") {
            throw ValidationError(translated("--save-npy must name a .npy file, for example --save-npy map.npy."))
        }
        try OutputFiles.check([.init(flag: "--save-npy", path: saveNpy, example: "map.npy"), .init(flag: "--overlay", path: overlay, example: "heatmap.png")],
                              inputs: [(translated("the picture"), image), ("--input-npy", inputNpy), ("--weights", model.weights)])
        // A flag the method does not read would be ignored without a word; say which methods read it.
        for (flag, setting) in givenSettings where !method.explainer.settings.contains(setting) {
            let readers = ExplainerRegistry.all.filter { $0.settings.contains(setting) }.map(\.id).joined(separator: ", ")
            throw ValidationError(translated("{$1} applies to --method {$2}; leave it out with --method {$3}.", with: flag, readers, id))
        }
    }

    func run() throws {
        let classifier = try model.loadClassifier()
        // Evaluation mode and no parameter gradients before the first pass: with them on, a
        // convolution keeps its im2col matrix (96 MiB for ResNet-34) and skips Winograd.
        classifier.prepareForExplanation()
        // One or two passes: making U for the 7 × 7 stage would cost as much as it saves, and 84 MB.
        Conv2d.smallStagesTakeWinograd = false
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
        _ = try selection.resolveLayer(for: classifier)
        let target: Int
        if let chosen = try selection.resolveClass(for: classifier) {
            target = chosen
        } else {
            target = classifier.inferenceLogits(input.reshaped([1] + input.shape)).argmax
        }
        let explainer = method.explainer
        var settings = settings
        let passes = PassCount()
        let started = Date()
        let methodID = explainer.id
        settings.progress = { done, total in
            passes.total = total
            ProgressBar().update(label: translated("{$1}: {$2} passes through the network", with: methodID, total),
                                 fraction: Double(done) / Double(max(total, 1)), detail: "")
        }
        var explanation = try explainer.explain(input, classifier: classifier, target: .logit(target), settings: settings)
        // A last line only after a wait worth reporting (Score-CAM, IG or SmoothGrad on a photo network, not the small CNN).
        if passes.total > 0 && Date().timeIntervalSince(started) >= 1 {
            ProgressBar().finish(label: translated("{$1}: {$2} passes through the network", with: methodID, passes.total), detail: "")
        }
        explanation.checks = explanation.checks.map(\.inReadersLanguage)
        // Finite inputs can still overflow float32 on the way (values near 3e38): a map of NaN or
        // ∞ is no explanation, and is not written.
        if explanation.raw.data.contains(where: { !$0.isFinite }) || !explanation.score.isFinite {
            throw MiniNetError.file(inputNpy ?? image ?? "",
                                    "its explanation overflows float32 (NaN or ∞ in the result): the input's values are too large for the network")
        }

        // An attribution to the input is shown as Captum's visualize_image_attr shows it: one
        // sign, scaled so that the top P% of the mass is clipped (one outlier must not wash out
        // the rest). A CAM is already in 0…1.
        let isCAM = explanation.layer != nil
        let shownSign = sign ?? .all
        let shownOutliers = outlierPercent ?? 1
        let heatmap = isCAM ? explanation.heatmap
            : AttributionDisplay.normalize(explanation.heatmap, sign: shownSign, outlierPercent: shownOutliers)
        if let saveNpy { try NumpyFile.write(explanation.raw, to: saveNpy) }
        if let overlay {
            let blended = Lessons.overlay(heatmap, on: RGBImage(tensor: picture), map: colormap ?? (isCAM ? .jet : .diverging))
            try blended.scaled(width: blended.width * 8, height: blended.height * 8, interpolation: .nearest).write(to: overlay)
        }
        if json {
            Terminal.printJSON(report(explanation, classifier: classifier,
                                      overlay: isCAM ? [] : [("overlay_sign", .string(shownSign.rawValue)),
                                                             ("overlay_outlier_perc", .double(shownOutliers))]))
        } else {
            printSummary(explanation, classifier: classifier)
            // On a colour terminal the map is shown too, as the lessons show theirs.
            if display.useColor {
                let shown = colormap ?? (isCAM ? .jet : .diverging)
                let photo = RGBImage(tensor: picture)
                print(TerminalRenderer(color: true, width: TerminalRenderer.standardOutputWidth()).renderPicture(Picture(
                    title: translated("The map of {$1} for class {$2} ({$3})", with: explanation.method, explanation.target.classIndex,
                                      classifier.classNames[explanation.target.classIndex]),
                    panels: [.image(translated("input"), photo), .heatmap(explanation.method, heatmap, map: shown),
                             .overlay(translated("overlay"), heatmap: heatmap, on: photo, map: shown)])), terminator: "")
            }
        }
        let failed = explanation.checks.filter { !$0.ok }
        if !failed.isEmpty {
            Terminal.printError("tutor: " + translated("{$1} check(s) failed: {$2}", with: failed.count, failed.map(\.name).joined(separator: "; ")))
            throw ExitCode(1)
        }
    }

    /// The explanation for scripts: what was explained, the settings the method read, its
    /// figures and weights, and every check with both sides.
    func report(_ explanation: Explanation, classifier: ImageClassifier, overlay: [(String, JSONOutput)]) -> JSONOutput {
        let c = explanation.target.classIndex
        var members: [(String, JSONOutput)] = [
            ("method", .string(explanation.method)), ("class", .integer(c)), ("label", .string(classifier.classNames[c])),
            ("target_score", .double(Double(explanation.score))), ("logits", .doubles(explanation.logits)),
        ]
        if let layer = explanation.layer { members.append(("layer", .string(layer))) }
        let settings = self.settings
        for setting in ExplainerSetting.allCases where method.explainer.settings.contains(setting) && setting != .layer {
            let key = setting.rawValue.replacingOccurrences(of: "-", with: "_")
            switch setting {
            case .steps: members.append((key, .integer(settings.steps)))
            case .integration: members.append((key, .string(settings.integration.rawValue)))
            case .baseline: members.append((key, .string(settings.baseline.rawValue)))
            case .epsilon: members.append((key, .double(Double(settings.epsilon))))
            case .composite: members.append((key, .string(settings.composite)))
            case .batchNormMerge: members.append((key, .string((batchNormMerge ?? .exact).rawValue)))
            case .samples: members.append((key, .integer(settings.samples)))
            case .noise: members.append((key, .double(settings.noise)))
            case .seed: members.append((key, .string("\(settings.seed)")))
            case .layer: break
            }
        }
        // A figure that repeats a setting (SmoothGrad's `samples`) is given once, as the setting.
        members += explanation.figures.filter { figure in !members.contains { $0.0 == figure.name } }.map { ($0.name, .double($0.value)) }
        if let weights = explanation.channelWeights { members.append(("weights", .doubles(weights))) }
        members += overlay
        // The lessons' form of a check, and the formula on its own as explain always gave it.
        members.append(("checks", .array(explanation.checks.map { check in
            guard case let .object(fields) = JSONRenderer.value(check) else { return JSONRenderer.value(check) }
            return .object(fields + [("tolerance_formula", .string(check.model?.description ?? ""))])
        })))
        return .object(members)
    }

    /// What a figure's JSON key means, for people, in the reader's language; a key not listed
    /// here is shown as it is.
    static func label(ofFigure key: String) -> String {
        switch key {
        case "relevance_total": return translated("Σ_i R_i (relevance of the pixels)")
        case "absorbed": return translated("absorbed by biases and ε")
        case "attribution_total": return translated("Σ_i attribution")
        case "score_at_baseline": return translated("yᶜ at the baseline")
        case "noise_sigma": return translated("noise σ")
        case "samples": return translated("noisy samples")
        case "mean_noisy_score": return translated("mean yᶜ of the noisy samples")
        default: return key
        }
    }

    /// The explanation for people: the score, the strongest channel weights, the figures, and
    /// the checks drawn as the lessons draw them.
    func printSummary(_ explanation: Explanation, classifier: ImageClassifier) {
        let renderer = TerminalRenderer(color: display.useColor, width: TerminalRenderer.standardOutputWidth())
        let c = explanation.target.classIndex
        print(fitLines(translated("{$1}: class {$2} ({$3}), yᶜ = {$4}", with: explanation.method, c, classifier.classNames[c],
                                  formatLessonNumber(Double(explanation.score))), width: renderer.width))
        if let layer = explanation.layer, let weights = explanation.channelWeights {
            let ranked = weights.indices.sorted { weights[$0] > weights[$1] }.prefix(5)
            print(fitLines("  " + translated("layer {$1}; top channel weights: {$2}", with: layer,
                                             ranked.map { "k=\($0) \(formatLessonNumber(Double(weights[$0])))" }.joined(separator: ", ")),
                           width: renderer.width))
        }
        if !explanation.figures.isEmpty {
            // A count is shown as a whole number, any other figure at the lessons' precision.
            let shown = explanation.figures.map { figure in
                "\(Self.label(ofFigure: figure.name)) = " + (figure.value == figure.value.rounded() && abs(figure.value) < 1e9
                    ? String(Int(figure.value)) : formatLessonNumber(figure.value))
            }
            print(fitLines("  " + shown.joined(separator: ", "),
                           width: renderer.width))
        }
        for check in explanation.checks {
            print(renderer.renderCheck(check))
        }
        if explanation.checks.isEmpty {
            print(fitLines("  " + translated("No identity to check for {$1} here; docs/cam-methods.md says which methods have one, and where.",
                                             with: explanation.method), width: renderer.width))
        }
        if let saveNpy { print("  " + translated("raw result {$1} written to {$2}", with: explanation.raw.shape, saveNpy)) }
        if let overlay { print("  " + translated("overlay written to {$1}", with: overlay)) }
    }
}

/// The passes a long method reported, for the progress bar's last line.
private final class PassCount: @unchecked Sendable {
    var total = 0
}

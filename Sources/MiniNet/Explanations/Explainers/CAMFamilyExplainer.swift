/// The CAM family on the common interface: a `ClassActivationMapMethod` (which supplies the
/// channel weights; the pipeline weighted sum → ReLU → upsample → normalise is shared) run at
/// `settings.layer`, or at the classifier's default CAM layer.
public struct CAMFamilyExplainer: Explainer {
    public let id: String
    public let summary: String
    public let settings: Set<ExplainerSetting> = [.layer]
    /// Makes the method for a classifier.
    public let method: @Sendable (ImageClassifier) -> ClassActivationMapMethod
    /// The identities this method can verify on its result.
    public let checks: @Sendable (CAMResult, ImageClassifier) -> [Check]

    public init(id: String, summary: String, method: @escaping @Sendable (ImageClassifier) -> ClassActivationMapMethod,
                checks: @escaping @Sendable (CAMResult, ImageClassifier) -> [Check] = { _, _ in [] }) {
        self.id = id
        self.summary = summary
        self.method = method
        self.checks = checks
    }

    public func explain(_ input: Tensor, classifier: ImageClassifier, target: ExplanationTarget,
                        settings: ExplainerSettings) throws -> Explanation {
        try explain(input, classifier: classifier, target: target, settings: settings, probe: nil)
    }

    /// The same from a probe of `settings.layer` already made (`SharedGradientPass`), or with a
    /// probe of its own when `probe` is nil.
    func explain(_ input: Tensor, classifier: ImageClassifier, target: ExplanationTarget,
                 settings: ExplainerSettings, probe: LayerProbe?) throws -> Explanation {
        let layer = settings.layer ?? classifier.defaultCAMLayer
        let method = method(classifier)
        if let scoreCAM = method as? ScoreCAM, let progress = settings.progress {
            scoreCAM.progress = progress
        }
        let result = try probe.map { try method.explain(input: input, probe: $0) } ?? method.explain(input: input, layer: layer, target: target)
        return Explanation(method: id, target: target, score: result.score, logits: result.logits, layer: layer,
                           raw: result.map, heatmap: result.normalized, isSigned: false,
                           channelWeights: result.weights, checks: checks(result, classifier))
    }
}

extension CAMFamilyExplainer {
    public static let cam = CAMFamilyExplainer(
        id: "cam", summary: "CAM: the weights of the linear layer after global average pooling (Zhou et al. 2016)",
        method: { CAM(classifier: $0) }, checks: CAMIdentities.camPooling)

    public static let gradCAM = CAMFamilyExplainer(
        id: "gradcam", summary: "Grad-CAM: channels weighted by the spatial mean of the gradient (Selvaraju et al. 2017)",
        method: { GradCAM(classifier: $0) }, checks: CAMIdentities.gradientPooling)

    public static let ablationCAM = CAMFamilyExplainer(
        id: "ablationcam", summary: "Ablation-CAM: channels weighted by how much the score drops without them (Desai & Ramaswamy 2020)",
        method: { AblationCAM(classifier: $0) }, checks: CAMIdentities.ablationDrops)
}

/// One interface for every explanation method, as Captum's `attribute(inputs, target, …)`:
/// an explainer takes a prepared input, a classifier, a target and the settings it reads, and
/// returns one `Explanation`, with the identities it could verify as checks.
///
///     let explainer = ExplainerRegistry.explainer(id: "gradcam")!
///     let explanation = try explainer.explain(input, classifier: classifier, target: .logit(3),
///                                             settings: ExplainerSettings())
///     explanation.heatmap          // [H, W], at the input's size
///     explanation.checks           // e.g. completeness for IG, conservation for LRP
///
/// Adding a method: one file that defines it (and, for a CAM variant, its
/// `ClassActivationMapMethod` subclass), and one line in `ExplainerRegistry.all`
/// (docs/architecture.md has the checklist).
public protocol Explainer: Sendable {
    /// The name on the command line: `tutor explain --method ID`.
    var id: String { get }
    /// One line for `--help` and `tutor explain --list`.
    var summary: String { get }
    /// The settings this method reads; the command line refuses the others with it.
    var settings: Set<ExplainerSetting> { get }

    /// - Parameters:
    ///   - input: the prepared (normalised) image, [C, H, W]
    ///   - target: the score y^c to explain
    func explain(_ input: Tensor, classifier: ImageClassifier, target: ExplanationTarget,
                 settings: ExplainerSettings) throws -> Explanation
}

/// A setting an explainer may read.
public enum ExplainerSetting: String, CaseIterable, Sendable {
    case layer, steps, integration, baseline, epsilon
    case batchNormMerge = "batchnorm-merge"
    case samples, noise, seed
    case composite
}

/// Every setting any explainer reads, with the defaults the reference libraries use.
public struct ExplainerSettings: Sendable {
    /// The layer a CAM explains; nil means `ImageClassifier.defaultCAMLayer`.
    public var layer: String?
    /// Points of the integral (Integrated Gradients); Captum's default is 50.
    public var steps = 50
    public var integration = IntegrationMethod.gaussLegendre
    public var baseline = Baseline.zero
    /// ε of the LRP-ε rule.
    public var epsilon: Float = 1e-6
    /// The LRP composite, by id (`LRPComposite.ids`): Zennit's default, ε everywhere.
    public var composite = "epsilon"
    /// Merge BatchNorm as Zennit 0.5's canonizer does, which leaves a BatchNorm behind that
    /// still divides by √(1 + eps); false merges exactly.
    public var zennitBatchNormMerge = false
    /// Noisy copies of the input (SmoothGrad, VarGrad); the SmoothGrad paper uses 50 (Captum's
    /// `NoiseTunnel` defaults to 5).
    public var samples = 50
    /// σ of the noise as a fraction of the input's range, σ/(x_max − x_min) (SmoothGrad, VarGrad);
    /// the paper finds 10 % to 20 % best.
    public var noise = 0.15
    /// The seed of the noise (`SmoothGradNoise`): the same seed gives the same map on every machine.
    public var seed: UInt64 = 0
    /// Told (passes done, all passes) by a method whose passes take long on a photo network
    /// (Score-CAM: one forward pass per channel; IG: one forward and backward pass per point of
    /// the path; SmoothGrad and VarGrad: one per noisy copy), after each batch, for a progress
    /// bar; nil to stay silent.
    public var progress: (@Sendable (_ done: Int, _ total: Int) -> Void)?

    public init() {}
}

/// What every explainer returns.
public struct Explanation {
    /// The explainer's id.
    public var method: String
    public var target: ExplanationTarget
    /// y^c, the explained score.
    public var score: Float
    /// [L]: the logits of the network the method ran on.
    public var logits: [Float]
    /// The layer a CAM explained; nil for attributions to the input.
    public var layer: String?
    /// The raw result at its own resolution: for the CAM family the map after its ReLU at the
    /// layer's resolution [h, w]; for attributions [C, H, W].
    public var raw: Tensor
    /// [H, W] at the input's size: a CAM upsampled and scaled to 0…1, or an attribution summed
    /// over the colour channels (still signed: how to show it is the renderer's choice).
    public var heatmap: Tensor
    /// Whether `heatmap` has both signs worth showing (most attributions) or is ≥ 0 (CAMs, VarGrad).
    public var isSigned: Bool
    /// [K]: the channel weights, for the CAM methods that have them.
    public var channelWeights: [Float]?
    /// Named numbers worth reporting beside the map ("relevance_total", "score_at_baseline", …),
    /// in the order they are best read.
    public var figures: [(name: String, value: Double)]
    /// The identities the method verified, each with both sides, residual and tolerance.
    public var checks: [Check]

    public init(method: String, target: ExplanationTarget, score: Float, logits: [Float], layer: String? = nil,
                raw: Tensor, heatmap: Tensor, isSigned: Bool, channelWeights: [Float]? = nil,
                figures: [(name: String, value: Double)] = [], checks: [Check] = []) {
        self.method = method
        self.target = target
        self.score = score
        self.logits = logits
        self.layer = layer
        self.raw = raw
        self.heatmap = heatmap
        self.isSigned = isSigned
        self.channelWeights = channelWeights
        self.figures = figures
        self.checks = checks
    }

    /// Whether every check passed (also when there are none).
    public var allChecksPass: Bool { checks.allSatisfy(\.ok) }
}

/// Every explanation method `tutor` offers, in the order `--help` lists them.
public enum ExplainerRegistry {
    public static let all: [any Explainer] = [
        CAMFamilyExplainer.cam,
        CAMFamilyExplainer.gradCAM,
        CAMFamilyExplainer.ablationCAM,
        CAMFamilyExplainer.gradCAMPlusPlus,
        CAMFamilyExplainer.xGradCAM,
        CAMFamilyExplainer.hiResCAM,
        CAMFamilyExplainer.gradCAMElementWise,
        CAMFamilyExplainer.layerCAM,
        CAMFamilyExplainer.scoreCAM,
        CAMFamilyExplainer.eigenCAM,
        LRPExplainer.zero,
        LRPExplainer.epsilon,
        LRPExplainer.composite,
        IntegratedGradientsExplainer(),
        SaliencyExplainer(),
        InputTimesGradientExplainer(),
        SmoothGradExplainer.smoothGrad,
        SmoothGradExplainer.varGrad,
        GuidedBackpropExplainer(),
    ]

    public static var ids: [String] { all.map(\.id) }

    public static func explainer(id: String) -> (any Explainer)? {
        all.first { $0.id == id }
    }
}

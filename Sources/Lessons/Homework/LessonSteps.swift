import Foundation

/// Where in a lesson a hint sends the student: a step named by its stable id, the id the lesson
/// gives it with `Notebook.step(_:id:)`. Step numbers are not used: they differ between models
/// (the Grad-CAM lesson has one step more on a ResNet before "Grad-CAM generalises CAM", the LRP
/// lesson has other steps), but an id names the same step on every model; a test builds every
/// lesson on the small CNN and on a ResNet and finds every id below.
public struct LessonStep: Equatable, Sendable {
    public var lesson: HomeworkLesson
    /// The step's id in the lesson's notebook, e.g. "gradcam.weights".
    public var id: String

    public init(lesson: HomeworkLesson, id: String) {
        self.lesson = lesson
        self.id = id
    }

    /// The step's title as the lesson prints it in the reader's language, e.g. "The channel
    /// weights α^c_k", read from the lesson's text resource (`<id without the lesson>.title`);
    /// the id when the text is missing.
    public var title: String {
        LessonStep.titles[Language.current]?[id] ?? LessonStep.titles[.en]?[id] ?? id
    }

    /// "See `tutor lesson gradcam`, step “The channel weights α^c_k” (gradcam.weights)"
    public var reference: String {
        translated("See `tutor lesson {$1}`, step “{$2}” ({$3})", with: lesson.rawValue, title, id)
    }

    /// The title of every step a hint names, in every language, read once.
    private static let titles: [Language: [String: String]] = {
        var titles = [Language: [String: String]]()
        for language in Language.allCases {
            for lesson in HomeworkLesson.allCases {
                guard let text = try? LessonText(lesson: lesson.rawValue, language: language.rawValue) else { continue }
                for step in all where step.lesson == lesson {
                    let key = step.id.dropFirst(lesson.rawValue.count + 1).replacingOccurrences(of: "-", with: ".") + ".title"
                    if let title = text.sections[key] { titles[language, default: [:]][step.id] = title }
                }
            }
        }
        return titles
    }()

    public static let camPooling = LessonStep(lesson: .cam, id: "cam.pooling")
    public static let camScore = LessonStep(lesson: .cam, id: "cam.score")
    public static let camMap = LessonStep(lesson: .cam, id: "cam.map")
    public static let camUpsampling = LessonStep(lesson: .cam, id: "cam.upsample")

    public static let gradcamGradient = LessonStep(lesson: .gradcam, id: "gradcam.gradient")
    public static let gradcamWeights = LessonStep(lesson: .gradcam, id: "gradcam.weights")
    public static let gradcamMap = LessonStep(lesson: .gradcam, id: "gradcam.map")
    public static let gradcamVersusCAM = LessonStep(lesson: .gradcam, id: "gradcam.versus")

    public static let ablationScores = LessonStep(lesson: .ablationcam, id: "ablationcam.ablate")
    public static let ablationWeights = LessonStep(lesson: .ablationcam, id: "ablationcam.fraction")
    public static let ablationLinearHead = LessonStep(lesson: .ablationcam, id: "ablationcam.linear")
    public static let ablationMap = LessonStep(lesson: .ablationcam, id: "ablationcam.map")

    /// Grad-CAM++ from Y = exp(y^c); HiResCAM = Grad-CAM at the last layer; an earlier layer;
    /// the class-blind Eigen-CAM; the family and its weights.
    public static let morecamsFamily = LessonStep(lesson: .morecams, id: "morecams.family")
    public static let morecamsPlusPlus = LessonStep(lesson: .morecams, id: "morecams.plusplus")
    public static let morecamsLast = LessonStep(lesson: .morecams, id: "morecams.last")
    public static let morecamsEarlier = LessonStep(lesson: .morecams, id: "morecams.earlier")
    public static let morecamsScene = LessonStep(lesson: .morecams, id: "morecams.scene")

    public static let lrpForward = LessonStep(lesson: .lrp, id: "lrp.score")
    public static let lrpRule = LessonStep(lesson: .lrp, id: "lrp.rule")
    /// Where relevance goes, layer by layer: on the small CNN and on a ResNet alike (the
    /// bias-free conservation step exists only where there is a bias-free model).
    public static let lrpLedger = LessonStep(lesson: .lrp, id: "lrp.ledger")
    public static let lrpGradientTimesInput = LessonStep(lesson: .lrp, id: "lrp.gradient")

    /// The formula and completeness.
    public static let igFormula = LessonStep(lesson: .ig, id: "ig.formula")
    public static let igRules = LessonStep(lesson: .ig, id: "ig.rules")
    public static let igBaselines = LessonStep(lesson: .ig, id: "ig.baselines")

    /// Deletion and insertion curves, localisation on the mask, the sanity checks, the planted mark.
    public static let evaluateDeletion = LessonStep(lesson: .evaluate, id: "evaluate.deletion")
    public static let evaluateLocalisation = LessonStep(lesson: .evaluate, id: "evaluate.localisation")
    public static let evaluateSanity = LessonStep(lesson: .evaluate, id: "evaluate.sanity")
    public static let evaluateShortcut = LessonStep(lesson: .evaluate, id: "evaluate.shortcut")

    /// Every step a hint may name.
    public static let all: [LessonStep] = [
        camPooling, camScore, camMap, camUpsampling,
        gradcamGradient, gradcamWeights, gradcamMap, gradcamVersusCAM,
        ablationScores, ablationWeights, ablationLinearHead, ablationMap,
        morecamsFamily, morecamsPlusPlus, morecamsLast, morecamsEarlier, morecamsScene,
        lrpForward, lrpRule, lrpLedger, lrpGradientTimesInput,
        igFormula, igRules, igBaselines,
        evaluateDeletion, evaluateLocalisation, evaluateSanity, evaluateShortcut,
    ]
}

/// How much help `check --hint` gives: each level adds one hint to the ones before.
public enum HintLevel: Int, CaseIterable, Comparable, Sendable {
    /// Which lesson step to reread, and what to look at there.
    case nudge = 1
    /// The formula, in the lesson's notation.
    case formula = 2
    /// The first step of the work, on the student's own numbers, stopping short of the answer.
    case firstStep = 3

    public static func < (lhs: HintLevel, rhs: HintLevel) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// The three hints of a question. None gives the answer: the first step is worked on the
/// student's numbers but stops before the arithmetic that gives the result.
public struct Hints: Equatable, Sendable {
    public var step: LessonStep
    public var nudge: String
    public var formula: String
    public var firstStep: String

    public init(_ step: LessonStep, nudge: String, formula: String, firstStep: String) {
        self.step = step
        self.nudge = nudge
        self.formula = formula
        self.firstStep = firstStep
    }

    /// One hint as the report prints it.
    public func text(_ level: HintLevel) -> String {
        switch level {
        case .nudge: return step.reference + ": " + nudge
        case .formula: return translated("formula: {$1}", with: formula)
        case .firstStep: return translated("first step: {$1}", with: firstStep)
        }
    }

    /// The hints up to `level`, in order.
    public func texts(upTo level: HintLevel) -> [String] {
        HintLevel.allCases.filter { $0 <= level }.map(text)
    }
}

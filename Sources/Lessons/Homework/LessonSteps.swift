/// Where in each lesson a hint sends the student. Kept in one table so that when a lesson's
/// steps are renumbered only this file changes.
public struct LessonStep: Sendable {
    public var lesson: HomeworkLesson
    public var number: Int
    public var topic: String

    /// "See `tutor lesson gradcam`, step 2 (the channel weights α)"
    public var reference: String {
        "See `tutor lesson \(lesson.rawValue)`, step \(number) (\(topic))"
    }

    /// The reference followed by a reminder of the idea (never the answer).
    public func hint(_ idea: String) -> String { reference + ": " + idea }

    public static let camPooling = LessonStep(lesson: .cam, number: 2, topic: "global average pooling")
    public static let camScore = LessonStep(lesson: .cam, number: 3, topic: "the class score")
    public static let camMap = LessonStep(lesson: .cam, number: 4, topic: "the class activation map")
    public static let camUpsampling = LessonStep(lesson: .cam, number: 5, topic: "upsampling to the image")

    public static let gradcamGradient = LessonStep(lesson: .gradcam, number: 1, topic: "the gradient ∂y^c/∂A^k")
    public static let gradcamWeights = LessonStep(lesson: .gradcam, number: 2, topic: "the channel weights α")
    public static let gradcamMap = LessonStep(lesson: .gradcam, number: 3, topic: "weighted sum and ReLU")
    public static let gradcamVersusCAM = LessonStep(lesson: .gradcam, number: 4, topic: "Grad-CAM generalises CAM")

    public static let ablationScores = LessonStep(lesson: .ablationcam, number: 2, topic: "switching off one map at a time")
    public static let ablationWeights = LessonStep(lesson: .ablationcam, number: 3, topic: "from drops to weights")
    public static let ablationMap = LessonStep(lesson: .ablationcam, number: 5, topic: "the Ablation-CAM map")
    public static let ablationCost = LessonStep(lesson: .ablationcam, number: 2, topic: "how many forward passes ablation costs")

    public static let lrpForward = LessonStep(lesson: .lrp, number: 1, topic: "the score to explain")
    public static let lrpZero = LessonStep(lesson: .lrp, number: 2, topic: "the LRP-0 rule")
    public static let lrpConservation = LessonStep(lesson: .lrp, number: 3, topic: "conservation on the bias-free network")
    public static let lrpEpsilon = LessonStep(lesson: .lrp, number: 5, topic: "the epsilon rule and where relevance goes")
    public static let lrpGradientTimesInput = LessonStep(lesson: .lrp, number: 4, topic: "LRP-0 and gradient × input")

    public static let igPath = LessonStep(lesson: .ig, number: 2, topic: "the formula and its straight-line path")
    public static let igRiemann = LessonStep(lesson: .ig, number: 3, topic: "Riemann sums")
    public static let igGaussLegendre = LessonStep(lesson: .ig, number: 3, topic: "Gauss–Legendre quadrature")
    public static let igCompleteness = LessonStep(lesson: .ig, number: 4, topic: "completeness")
    public static let igBaselines = LessonStep(lesson: .ig, number: 5, topic: "choosing a baseline")
}

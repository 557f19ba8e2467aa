import MiniNet

/// One exercise before it is personalised: its id, lesson, title and generator.
public struct ExerciseTemplate {
    public let id: String
    public let lesson: HomeworkLesson
    /// The title in English, the phrase book's key.
    let englishTitle: String
    let generate: (inout StudentDraw) -> ExerciseContent

    init(id: String, lesson: HomeworkLesson, title: String, generate: @escaping (inout StudentDraw) -> ExerciseContent) {
        self.id = id
        self.lesson = lesson
        self.englishTitle = title
        self.generate = generate
    }

    /// The title in the reader's language.
    public var title: String { translated(englishTitle) }

    /// The exercise as `student` sees it in practice mode: numbers drawn from FNV-1a("id/student").
    public func make(student: String) -> Exercise {
        make(student: student, course: nil)
    }

    /// The exercise as `student` sees it: in `course`, numbers drawn from the course's
    /// HMAC-SHA256 seed; without a course (practice), from FNV-1a("id/student"). The student id
    /// is taken in its normal form (`HomeworkCatalog.normalizedStudentID`), so that `nguyễn`
    /// typed with a combining accent gets the same numbers as with the precomposed letter.
    public func make(student: String, course: Course?) -> Exercise {
        let student = (try? HomeworkCatalog.normalizedStudentID(student)) ?? student
        var draw = course.map { StudentDraw(seed: $0.seed(exercise: id, student: student)) }
            ?? StudentDraw(exercise: id, student: student)
        // The numbers, answers and option order are drawn in English; only then are the words
        // put into the reader's language.
        let content = generate(&draw).inReadersLanguage()
        return Exercise(id: id, lesson: lesson, title: title, student: student,
                        introduction: content.introduction, given: content.given, questions: content.questions,
                        mode: course?.mode ?? .practice)
    }
}

/// Every exercise, lesson by lesson.
public enum HomeworkCatalog {
    public static let templates: [ExerciseTemplate] = [
        ExerciseTemplate(id: "cam-1", lesson: .cam, title: "From feature maps to class scores", generate: CAMExercises.scores),
        ExerciseTemplate(id: "cam-2", lesson: .cam, title: "The class activation map", generate: CAMExercises.activationMap),
        ExerciseTemplate(id: "cam-3", lesson: .cam, title: "Upsampling, and mean versus sum pooling", generate: CAMExercises.upsamplingAndMean),
        ExerciseTemplate(id: "gradcam-1", lesson: .gradcam, title: "Channel weights from gradients", generate: GradCAMExercises.weightsFromGradients),
        ExerciseTemplate(id: "gradcam-2", lesson: .gradcam, title: "Grad-CAM on a pooling + linear head", generate: GradCAMExercises.linearHead),
        ExerciseTemplate(id: "gradcam-3", lesson: .gradcam, title: "The ReLU and counterfactual evidence", generate: GradCAMExercises.positiveAndCounterfactual),
        ExerciseTemplate(id: "ablationcam-1", lesson: .ablationcam, title: "Weights from ablated scores", generate: AblationCAMExercises.weightsFromScores),
        ExerciseTemplate(id: "ablationcam-2", lesson: .ablationcam, title: "Ablation on a pooling + linear head", generate: AblationCAMExercises.linearHead),
        ExerciseTemplate(id: "ablationcam-3", lesson: .ablationcam, title: "The map, and what ablation costs", generate: AblationCAMExercises.mapAndCost),
        ExerciseTemplate(id: "morecams-1", lesson: .morecams, title: "Grad-CAM++ from the powers of the gradient", generate: MoreCAMsExercises.plusPlusWeights),
        ExerciseTemplate(id: "morecams-2", lesson: .morecams, title: "HiResCAM and Grad-CAM at two layers", generate: MoreCAMsExercises.hiResAgainstGradCAM),
        ExerciseTemplate(id: "morecams-3", lesson: .morecams, title: "Score-CAM, LayerCAM and a map that ignores the class", generate: MoreCAMsExercises.scoreLayerAndEigen),
        ExerciseTemplate(id: "lrp-1", lesson: .lrp, title: "LRP-0 through one neuron", generate: LRPExercises.oneNeuron),
        ExerciseTemplate(id: "lrp-2", lesson: .lrp, title: "LRP-0 through a small ReLU network", generate: LRPExercises.smallNetwork),
        ExerciseTemplate(id: "lrp-3", lesson: .lrp, title: "The epsilon rule", generate: LRPExercises.epsilonRule),
        ExerciseTemplate(id: "ig-1", lesson: .ig, title: "Riemann sums along the path", generate: IGExercises.riemannSums),
        ExerciseTemplate(id: "ig-2", lesson: .ig, title: "Two inputs, completeness, gradient × input", generate: IGExercises.twoInputs),
        ExerciseTemplate(id: "ig-3", lesson: .ig, title: "Black and blurred baselines", generate: IGExercises.baselines),
        ExerciseTemplate(id: "evaluate-1", lesson: .evaluate, title: "The area under deletion and insertion curves", generate: EvaluateExercises.deletionArea),
        ExerciseTemplate(id: "evaluate-2", lesson: .evaluate, title: "Pointing game, relevance mass and rank accuracy", generate: EvaluateExercises.localisationScores),
        ExerciseTemplate(id: "evaluate-3", lesson: .evaluate, title: "Reading the randomisation tests", generate: EvaluateExercises.randomisationReading),
        ExerciseTemplate(id: "evaluate-4", lesson: .evaluate, title: "Find your planted mark", generate: EvaluateExercises.findTheMark),
    ]

    public static func template(id: String) -> ExerciseTemplate? {
        templates.first { $0.id == id }
    }

    /// The templates an argument names: one exercise id ("cam-2") or a lesson name ("cam", all of it).
    public static func templates(named name: String) throws -> [ExerciseTemplate] {
        if let single = template(id: name) { return [single] }
        if let lesson = HomeworkLesson(rawValue: name) { return templates.filter { $0.lesson == lesson } }
        throw MiniNetError.invalidArgument(translated(
            "unknown exercise `{$1}`: use an exercise id such as cam-1 or a lesson name ({$2}); `tutor homework list` shows them all", with:
            name, HomeworkLesson.allCases.map(\.rawValue).joined(separator: ", ")))
    }

    /// The template of one exercise id; a lesson name or an unknown id is an error.
    public static func singleTemplate(id: String) throws -> ExerciseTemplate {
        if let template = template(id: id) { return template }
        if HomeworkLesson(rawValue: id) != nil {
            throw MiniNetError.invalidArgument(translated(
                "`{$1}` is a lesson, not one exercise: answers are checked one exercise at a time, e.g. {$2}-1", with: id, id))
        }
        throw MiniNetError.invalidArgument(translated(
            "unknown exercise `{$1}`: `tutor homework list` shows the exercise ids, such as cam-1", with: id))
    }

    /// The one exercise `id` for `student`, in practice mode or in `course`.
    public static func exercise(id: String, student: String, course: Course? = nil) throws -> Exercise {
        let template = try singleTemplate(id: id)
        return template.make(student: try normalizedStudentID(student), course: course)
    }

    /// The longest student id, in Unicode scalars (as long as a name in an answers file).
    public static let studentIDLength = AnswerFileLimits.standard.nameLength

    /// Throws unless `student` is a valid student id (see `normalizedStudentID`).
    public static func validateStudentID(_ student: String) throws {
        _ = try normalizedStudentID(student)
    }

    /// The student id in the form that decides the numbers, or an error naming the problem.
    ///
    /// Student ids name answer files (nguyễn.json) and appear in messages and grade sheets, so
    /// they are kept to letters of any alphabet (with their accents), digits, '-', '_' and '.',
    /// not starting with '.', at most `studentIDLength` characters. Spaces, control and format
    /// characters (a right-to-left override), path separators and punctuation are refused.
    ///
    /// The normal form: full-width forms folded to ASCII (`ａｌｉｃｅ` is `alice`), then Unicode
    /// NFC, so that "ễ" typed as one precomposed letter or as "e" plus two combining accents
    /// is the same id, and the same bytes seed the exercise. Case is kept: `Alice` is not `alice`.
    /// (The rule lives beside the answers-file parser, which applies it to `student = …`.)
    public static func normalizedStudentID(_ student: String) throws -> String {
        try inReadersLanguage { try AnswersFile.normalizedStudentID(student) }
    }
}

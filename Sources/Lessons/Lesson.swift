import Foundation
import MiniNet

/// What a lesson is run with: the models, the picture, and the reader's choices.
public struct LessonContext {
    /// The network the lesson explains (by default models/mininet.safetensors).
    public var classifier: ImageClassifier
    /// The same architecture without biases or BatchNorm (models/mininet-nobias.safetensors),
    /// for lessons that show exact conservation; nil when not available.
    public var biasFreeClassifier: ImageClassifier?
    /// The picture to explain, [3, H, W] with values in 0…1, at the network's input size.
    /// Nil means the lesson picks its own deterministic picture from the shapes data set.
    public var image: Tensor?
    /// The class to explain (`--class`); nil means the predicted class.
    public var targetClass: Int?
    /// The layer to explain (`--layer`); nil means the lesson's default (the last conv block).
    public var layer: String?
    /// Seeds every random choice of the lesson (`--seed`).
    public var seed: UInt64
    /// Language of the prose: "en" or "vi" (`Language.current` unless a caller chooses).
    public var language: String
    /// Told about long computations (a description, the fraction done in 0…1), so that a
    /// front end can show a progress bar; nil to stay silent.
    public var progress: ((String, Double) -> Void)?
    /// Run every forward pass a step asks for (`--every-pass`), even on a photo network where
    /// some steps would take tens of seconds; see `trimsSlowSteps`.
    public var everyPass = false
    /// Where a network that ships in models/ lies, by file name (for example
    /// "mininet-shortcut.safetensors"), or nil; a lesson that trains a network of its own loads
    /// the shipped one when its training record matches, and trains it itself otherwise.
    public var shippedModel: (String) -> String? = { _ in nil }

    public init(classifier: ImageClassifier, biasFreeClassifier: ImageClassifier? = nil, image: Tensor? = nil,
                targetClass: Int? = nil, layer: String? = nil, seed: UInt64 = 7, language: String = Language.current.rawValue) {
        self.classifier = classifier
        self.biasFreeClassifier = biasFreeClassifier
        self.image = image
        self.targetClass = targetClass
        self.layer = layer
        self.seed = seed
        self.language = language
    }

    /// The picture to explain: `image`, or sample `seed` of a fixed shapes data set (drawn at
    /// the nearest size the data set offers and resized, for a network of another input size).
    public func pictureOrDefault(imageSize: Int) -> Tensor {
        if let image { return image }
        let drawnSize = Swift.min(Swift.max(imageSize, ShapesDataset.imageSizes.lowerBound), ShapesDataset.imageSizes.upperBound)
        let picture = ShapesDataset(count: 64, seed: 2026, imageSize: drawnSize).sample(at: Int(seed % 64)).image
        return drawnSize == imageSize ? picture : resizeBilinear(picture, height: imageSize, width: imageSize)
    }

    /// The true mask of the object in the default picture ([H, W], 1 on the shape), when the
    /// lesson draws its own picture from the shapes data set at the network's size; nil for a
    /// picture the reader gave, whose object nobody marked.
    public func defaultPictureMask(imageSize: Int) -> Tensor? {
        guard image == nil, ShapesDataset.imageSizes.contains(imageSize) else { return nil }
        return ShapesDataset(count: 64, seed: 2026, imageSize: imageSize).sample(at: Int(seed % 64)).mask
    }

    /// Whether the network classifies the shapes data set (the small CNN), so that lessons can
    /// draw more pictures from it; false for an ImageNet ResNet, which gets the reader's photo.
    public var usesShapesData: Bool {
        let size = classifier.inputSize
        return classifier.classNames == ShapesDataset.classNames && ShapesDataset.imageSizes.contains(size[1]) && size[1] == size[2]
    }

    /// Whether the slow steps run fewer passes: on a photo network (a ResNet at 224², about
    /// 40 ms a forward pass on 2 cores) unless `everyPass`. Each lesson that trims says what it
    /// left out, what that would cost, and how to get it; the small CNN always runs everything.
    public var trimsSlowSteps: Bool { !everyPass && !usesShapesData }

    /// The default layer for the CAM family (MiniNet's `ImageClassifier.defaultCAMLayer`).
    public func defaultCAMLayer(for classifier: ImageClassifier) -> String {
        classifier.defaultCAMLayer
    }

    /// The layers whose output is a feature map a CAM can explain (`ImageClassifier.featureMapLayers`).
    static func featureMapLayers(of classifier: ImageClassifier) -> [String] {
        classifier.featureMapLayers
    }
}

/// One lesson of the tutor: an id (`tutor lesson ID`), a one-line summary, and a function
/// that computes every number and check of the lesson into a notebook.
public protocol Lesson {
    static var id: String { get }
    static var summary: String { get }
    static func build(_ context: LessonContext) throws -> Notebook
}

/// Every lesson, in teaching order.
public enum LessonCatalog {
    public static let all: [Lesson.Type] = [
        IntroLesson.self, CAMLesson.self, GradCAMLesson.self, AblationCAMLesson.self, MoreCAMsLesson.self, LRPLesson.self,
        LRPRulesLesson.self, IGLesson.self, EvaluateLesson.self,
    ]

    public static func lesson(id: String) -> Lesson.Type? {
        all.first { $0.id == id }
    }
}

extension Notebook {
    /// The lesson's last cells: its references (`references.title` and the list `references`
    /// in the lesson's text), so that a student can read the papers behind each step.
    func references(_ text: LessonText) {
        Notebook.reportStepTime("end")
        heading(text("references.title"))
        prose(text("references"))
    }
}

import Foundation
import MiniNet

/// What every lesson starts from, resolved once from the reader's choices: the picture and the
/// input the network sees, its logits, the class explained and the layer. A class or a layer
/// the network does not have is a one-line error here, before any work is done.
struct LessonSetup {
    let classifier: ImageClassifier
    /// [3, H, W] in 0…1: the reader's picture, or the lesson's own from the shapes data set.
    let picture: Tensor
    /// [3, H, W]: `picture` normalised as the network expects.
    let input: Tensor
    /// [L]: the logits z of `input`, in evaluation mode.
    let logits: [Float]
    /// The class the network predicts: argmax of `logits`.
    let predicted: Int
    /// The class explained: the reader's `--class`, or `predicted`.
    let target: Int
    /// The layer a CAM explains: the reader's `--layer`, or the last feature-map layer.
    let layer: String

    var className: String { classifier.classNames[target] }

    init(_ context: LessonContext) throws {
        classifier = context.classifier
        layer = try CAMLessonSupport.layer(context)
        if let chosen = context.targetClass, !classifier.classNames.indices.contains(chosen) {
            throw MiniNetError.invalidArgument("class \(chosen) is out of range 0..<\(classifier.classNames.count)")
        }
        (picture, input) = try CAMLessonSupport.picture(context)
        classifier.prepareForExplanation()
        let logits = classifier.forward(input.reshaped([1] + input.shape)).data
        let predicted = logits.indices.max { logits[$0] < logits[$1] } ?? 0
        self.logits = logits
        self.predicted = predicted
        target = context.targetClass ?? predicted
    }

    /// The wall-clock seconds of one forward pass of `input` [C, H, W], for what a trimmed
    /// lesson says about the passes it left out. One pass, timed once: the lessons call this
    /// after their own passes, so the network is warm (its Winograd kernels made), and the
    /// number is only said, never checked.
    static func secondsOfOnePass(_ classifier: ImageClassifier, input: Tensor) -> Double {
        let batch = input.reshaped([1] + input.shape)
        let start = DispatchTime.now().uptimeNanoseconds
        _ = classifier.inferenceLogits(batch)
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }
}

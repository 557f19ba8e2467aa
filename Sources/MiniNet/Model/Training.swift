import Foundation

/// Adam (Kingma & Ba), as torch.optim.Adam with no weight decay:
///
///     m ← β₁·m + (1 − β₁)·g          v ← β₂·v + (1 − β₂)·g²
///     θ ← θ − lr · (m / (1 − β₁ᵗ)) / (√(v / (1 − β₂ᵗ)) + ε)
public final class Adam {
    public var learningRate: Float
    public let beta1: Float = 0.9
    public let beta2: Float = 0.999
    public let epsilon: Float = 1e-8
    private let parameters: [Parameter]
    private var firstMoments: [[Float]]
    private var secondMoments: [[Float]]
    private var step = 0

    public init(parameters: [Parameter], learningRate: Float) {
        self.parameters = parameters
        self.learningRate = learningRate
        firstMoments = parameters.map { [Float](repeating: 0, count: $0.value.count) }
        secondMoments = firstMoments
    }

    public func update() {
        step += 1
        let correction1 = 1 - pow(beta1, Float(step))
        let correction2 = 1 - pow(beta2, Float(step))
        let (beta1, beta2, learningRate, epsilon) = (beta1, beta2, learningRate, epsilon)
        for (p, parameter) in parameters.enumerated() {
            // Through buffers: one change of `parameter.value` per step, not one per entry.
            parameter.value.data.withUnsafeMutableBufferPointer { value in
                parameter.gradient.data.withUnsafeBufferPointer { gradient in
                    firstMoments[p].withUnsafeMutableBufferPointer { m in
                        secondMoments[p].withUnsafeMutableBufferPointer { v in
                            for index in value.indices {
                                let g = gradient[index]
                                m[index] = beta1 * m[index] + (1 - beta1) * g
                                v[index] = beta2 * v[index] + (1 - beta2) * g * g
                                let mHat = m[index] / correction1
                                let vHat = v[index] / correction2
                                value[index] -= learningRate * mHat / (vHat.squareRoot() + epsilon)
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Codable and Equatable so that a model file can record how it was trained (`TrainingRecord`).
public struct TrainingOptions: Sendable, Codable, Equatable {
    public var epochs = 10
    public var batchSize = 32
    public var learningRate: Float = 0.003
    public var seed: UInt64 = 1
    public var trainingImages = 3000
    public var validationImages = 600
    public var bias = true
    /// A mark planted on the training pictures (`PlantedShortcut`, split `.training`); nil
    /// trains on the plain data set. Validation stays on the plain validation pictures.
    public var shortcut: PlantedShortcut? = nil
    /// When set, the training labels are permuted by the seeded permutation
    /// `Trainer.shuffledLabels(_:seed:)`, for the data-randomisation sanity check (Adebayo et
    /// al. 2018): the network can then only memorise, and an explanation method whose maps
    /// look the same for it as for the properly trained network does not depend on the data.
    public var shuffledLabelsSeed: UInt64? = nil
    public init() {}
}

/// What happened in one epoch.
public struct EpochReport: Codable, Equatable, Sendable {
    public var epoch: Int
    public var trainingLoss: Double
    public var trainingAccuracy: Double
    public var validationAccuracy: Double
    public var seconds: Double

    public init(epoch: Int, trainingLoss: Double, trainingAccuracy: Double, validationAccuracy: Double, seconds: Double) {
        (self.epoch, self.trainingLoss, self.trainingAccuracy) = (epoch, trainingLoss, trainingAccuracy)
        (self.validationAccuracy, self.seconds) = (validationAccuracy, seconds)
    }
}

/// Progress within an epoch, for a progress bar.
public struct TrainingProgress: Sendable {
    public var epoch: Int
    public var epochs: Int
    public var batch: Int
    public var batches: Int
    public var runningLoss: Double
    public var runningAccuracy: Double
}

public enum Trainer {
    /// Seeds of the training, validation and shortcut-test pictures: three different seeds,
    /// so no picture is in two of them.
    public static let trainingSeed: UInt64 = 20_261_123
    public static let validationSeed: UInt64 = 777
    public static let shortcutTestSeed: UInt64 = 31_337

    /// The data sets used for training and validation: fixed seeds, disjoint streams. The
    /// training pictures carry `options.shortcut`'s mark, if any; the validation pictures never do.
    public static func dataSets(_ options: TrainingOptions) -> (training: ShapesDataset, validation: ShapesDataset) {
        (ShapesDataset(count: options.trainingImages, seed: trainingSeed, shortcut: options.shortcut, split: .training),
         ShapesDataset(count: options.validationImages, seed: validationSeed))
    }

    /// The shortcut-breaking test split: `options.validationImages` new pictures (seed
    /// `shortcutTestSeed`) with the mark on half of every class (`PlantedShortcut.Split.test`);
    /// nil without a shortcut. `planting(_:split:)` gives the same pictures all marked or none.
    public static func shortcutTestSet(_ options: TrainingOptions) -> ShapesDataset? {
        guard let shortcut = options.shortcut else { return nil }
        return ShapesDataset(count: options.validationImages, seed: shortcutTestSeed, shortcut: shortcut, split: .test)
    }

    /// `labels` permuted by a Fisher–Yates shuffle driven by `SeededGenerator(seed:)`: every
    /// class keeps its count, but which picture gets which label is random, so the labels
    /// carry no information about the pictures. The same seed gives the same permutation.
    public static func shuffledLabels(_ labels: [Int], seed: UInt64) -> [Int] {
        var generator = SeededGenerator(seed: seed, stream: 3)
        var shuffled = labels
        for index in stride(from: shuffled.count - 1, to: 0, by: -1) {
            shuffled.swapAt(index, generator.integer(below: index + 1))
        }
        return shuffled
    }

    /// He initialisation for convolutions (std √(2/fan_in), suited to ReLU), and PyTorch's
    /// default U(−1/√fan_in, 1/√fan_in) for the linear layer; biases start at 0. The same
    /// seed always gives the same weights.
    public static func initialize(_ classifier: ImageClassifier, seed: UInt64) {
        var generator = SeededGenerator(seed: seed, stream: 1)
        for layer in classifier.network.allLayers {
            if let conv = layer as? Conv2d {
                let fanIn = Float(conv.inputChannels * conv.kernelSize * conv.kernelSize)
                let std = (2 / fanIn).squareRoot()
                conv.weight.value.data = generator.normals(count: conv.weight.value.count, scale: std)
            } else if let linear = layer as? Linear {
                let bound = 1 / Float(linear.inputFeatures).squareRoot()
                for index in linear.weight.value.data.indices { linear.weight.value.data[index] = generator.uniform(-bound, bound) }
            }
        }
    }

    /// Fraction of images classified correctly, evaluated in batches.
    public static func accuracy(_ classifier: ImageClassifier, on dataSet: ShapesDataset, batchSize: Int = 256) -> Double {
        let predicted = predictions(classifier, on: dataSet, batchSize: batchSize)
        let correct = predicted.indices.filter { predicted[$0] == dataSet.label(at: $0) }.count
        return Double(correct) / Double(max(dataSet.count, 1))
    }

    /// The predicted class (arg max of the logits) of every picture of `dataSet`, in batches.
    public static func predictions(_ classifier: ImageClassifier, on dataSet: ShapesDataset, batchSize: Int = 256) -> [Int] {
        classifier.network.setTraining(false)
        var predicted = [Int]()
        predicted.reserveCapacity(dataSet.count)
        for start in stride(from: 0, to: dataSet.count, by: batchSize) {
            let end = min(start + batchSize, dataSet.count)
            let logits = classifier.forward(normalizeBatch(dataSet.batch(start..<end).images, classifier))
            let classes = logits.shape[1]
            for n in 0..<(end - start) {
                predicted.append(Tensor(shape: [classes], data: Array(logits.data[(n * classes)..<((n + 1) * classes)])).argmax)
            }
        }
        return predicted
    }

    /// The fraction of normalised images [N, C, H, W] classified as `labels`, in batches of 256.
    static func accuracy(_ classifier: ImageClassifier, images: Tensor, labels: [Int]) -> Double {
        classifier.network.setTraining(false)
        let imageSize = images.count / max(labels.count, 1)
        var correct = 0
        for start in stride(from: 0, to: labels.count, by: 256) {
            let end = min(start + 256, labels.count)
            let batch = Tensor(shape: [end - start] + Array(images.shape.dropFirst()),
                               data: Array(images.data[(start * imageSize)..<(end * imageSize)]))
            correct += countCorrect(classifier.inferenceLogits(batch), Array(labels[start..<end]))
        }
        return Double(correct) / Double(max(labels.count, 1))
    }

    static func countCorrect(_ logits: Tensor, _ labels: [Int]) -> Int {
        let classes = logits.shape[1]
        var correct = 0
        for (n, label) in labels.enumerated() {
            let row = Tensor(shape: [classes], data: Array(logits.data[(n * classes)..<((n + 1) * classes)]))
            if row.argmax == label { correct += 1 }
        }
        return correct
    }

    static func normalizeBatch(_ images: Tensor, _ classifier: ImageClassifier) -> Tensor {
        var result = images
        let channels = images.shape[1]
        let planeSize = images.shape[2] * images.shape[3]
        for n in 0..<images.shape[0] {
            for c in 0..<channels {
                let (mean, std) = (classifier.spec.mean[c], classifier.spec.std[c])
                let start = (n * channels + c) * planeSize
                for index in start..<(start + planeSize) { result.data[index] = (images.data[index] - mean) / std }
            }
        }
        return result
    }

    /// Mini-batch training with Adam and cross-entropy; the learning rate falls by cosine
    /// annealing to 0 over the run. Returns the trained classifier and a report per epoch.
    public static func train(
        options: TrainingOptions,
        progress: (TrainingProgress) -> Void = { _ in },
        epochFinished: (EpochReport) -> Void = { _ in }
    ) throws -> (classifier: ImageClassifier, reports: [EpochReport]) {
        let spec = ModelSpec.miniNet(classNames: ShapesDataset.classNames, bias: options.bias)
        let classifier = try ImageClassifier(spec: spec)
        initialize(classifier, seed: options.seed)
        classifier.network.setParameterGradients(true)
        // Nothing needs ∂loss/∂pictures: the first convolution skips it while training.
        let firstConvolution = classifier.network.allLayers.first { $0.children.isEmpty } as? Conv2d
        firstConvolution?.computesInputGradient = false
        defer { firstConvolution?.computesInputGradient = true }
        let (training, validation) = dataSets(options)
        let parameters = classifier.network.namedParameters.map(\.parameter)
        let optimizer = Adam(parameters: parameters, learningRate: options.learningRate)
        var generator = SeededGenerator(seed: options.seed, stream: 2)
        let batches = (training.count + options.batchSize - 1) / options.batchSize
        let totalSteps = Float(batches * options.epochs)
        var step: Float = 0
        var reports: [EpochReport] = []

        // All training images once, normalised; batches are gathered from here.
        let everything = training.batch(0..<training.count)
        let allImages = normalizeBatch(everything.images, classifier)
        let allLabels = options.shuffledLabelsSeed.map { shuffledLabels(everything.labels, seed: $0) } ?? everything.labels
        let imageSize = allImages.count / max(training.count, 1)
        // The validation pictures are drawn once, not at every epoch.
        let validationSet = validation.batch(0..<validation.count)
        let validationImages = normalizeBatch(validationSet.images, classifier)

        for epoch in 1...max(options.epochs, 1) where options.epochs > 0 {
            let started = Date()
            var order = Array(0..<training.count)
            for index in stride(from: order.count - 1, to: 0, by: -1) {
                order.swapAt(index, generator.integer(below: index + 1))
            }
            var lossTotal = 0.0
            var correct = 0
            var seen = 0
            for batch in 0..<batches {
                let members = order[(batch * options.batchSize)..<min((batch + 1) * options.batchSize, order.count)]
                var data = [Float]()
                data.reserveCapacity(members.count * imageSize)
                for member in members { data.append(contentsOf: allImages.data[(member * imageSize)..<((member + 1) * imageSize)]) }
                let images = Tensor(shape: [members.count] + Array(allImages.shape.dropFirst()), data: data)
                let labels = members.map { allLabels[$0] }

                classifier.network.setTraining(true)
                classifier.network.zeroGradients()
                let logits = classifier.forward(images)
                let (loss, logitsGradient) = crossEntropy(logits: logits, labels: labels)
                _ = classifier.backward(logitsGradient)
                optimizer.learningRate = options.learningRate * 0.5 * (1 + cos(Float.pi * step / totalSteps))
                optimizer.update()
                step += 1

                lossTotal += Double(loss) * Double(members.count)
                correct += countCorrect(logits, labels)
                seen += members.count
                progress(TrainingProgress(epoch: epoch, epochs: options.epochs, batch: batch + 1, batches: batches,
                                          runningLoss: lossTotal / Double(seen), runningAccuracy: Double(correct) / Double(seen)))
            }
            let report = EpochReport(epoch: epoch, trainingLoss: lossTotal / Double(max(seen, 1)),
                                     trainingAccuracy: Double(correct) / Double(max(seen, 1)),
                                     validationAccuracy: accuracy(classifier, images: validationImages, labels: validationSet.labels),
                                     seconds: Date().timeIntervalSince(started))
            reports.append(report)
            epochFinished(report)
        }
        classifier.network.setTraining(false)
        return (classifier, reports)
    }
}

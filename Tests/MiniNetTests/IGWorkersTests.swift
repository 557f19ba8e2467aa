import XCTest
@testable import MiniNet

/// Integrated Gradients with one batch of the path per thread, each on its own copy of the
/// network (`IGWorkers`): the same bits as on one thread, and the copies share the weights and
/// the transformed kernels instead of holding their own.
final class IGWorkersTests: XCTestCase {
    /// A ResNet whose stem gives 16 × 112 × 112 values per point, so that 24 points make a batch
    /// large enough to go to one thread.
    private func network() throws -> ImageClassifier {
        let shape = ResNetShape(usesBottleneck: false, blocks: [1, 1, 1, 1], stemChannels: 16, planes: [16, 16, 32, 32], classCount: 6)
        let classifier = try ImageClassifier(spec: .resNet(shape, classNames: (0..<6).map { "class \($0)" }, imageSize: 224))
        Trainer.initialize(classifier, seed: 3)
        classifier.prepareForExplanation()
        return classifier
    }

    func testBatchesOnTheirOwnThreadsGiveTheBitsOfOneThread() throws {
        let classifier = try network()
        let input = GradientCheck.uniform([3, 224, 224], seed: 4)
        let (steps, batchSize) = (100, 24)
        func run(threads: Int) throws -> IGResult {
            try GemmTests.withThreads(threads) {
                try integratedGradients(classifier: classifier, input: input, baseline: Tensor(zeros: input.shape),
                                        target: .logit(2), steps: steps, method: .gaussLegendre, batchSize: batchSize)
            }
        }
        let workers = GemmTests.withThreads(2) {
            IGWorkers.copies(of: classifier, batches: 5, pointsPerBatch: batchSize, valuesPerPoint: 16 * 112 * 112).count
        }
        XCTAssertEqual(workers, 1, "two threads: the classifier and one copy")
        let one = try run(threads: 1)
        for threads in [2, 3] {
            let shared = try run(threads: threads)
            XCTAssertEqual(shared.attributions.data.map(\.bitPattern), one.attributions.data.map(\.bitPattern), "\(threads) threads")
            XCTAssertEqual(shared.pathDerivatives.map(\.bitPattern), one.pathDerivatives.map(\.bitPattern), "\(threads) threads")
        }
    }

    func testACopySharesTheWeightsAndTheTransformedKernels() throws {
        let classifier = try network()
        _ = classifier.inferenceLogits(GradientCheck.uniform([8, 3, 224, 224], seed: 5))   // makes layer1's transformed kernels
        let copy = try classifier.copySharingWeights()
        let pairs = zip(copy.network.allLayers, classifier.network.allLayers).compactMap { pair -> (Conv2d, Conv2d)? in
            guard let mine = pair.0 as? Conv2d, let original = pair.1 as? Conv2d else { return nil }
            return (mine, original)
        }
        XCTAssertFalse(pairs.isEmpty)
        for (mine, original) in pairs {
            let shared = mine.weight.value.data.withUnsafeBufferPointer { a in
                original.weight.value.data.withUnsafeBufferPointer { $0.baseAddress == a.baseAddress }
            }
            XCTAssertTrue(shared, "\(mine.name): the weights are the original's storage")
            XCTAssertEqual(mine.transformedKernelStorage, original.transformedKernelStorage, "\(mine.name): the same transformed kernels")
        }
        XCTAssertTrue(pairs.contains { !$0.1.transformedKernelStorage.isEmpty }, "some layer took Winograd's path")
        let images = GradientCheck.uniform([1, 3, 224, 224], seed: 6)
        XCTAssertEqual(copy.forward(images).data.map(\.bitPattern), classifier.forward(images).data.map(\.bitPattern))
    }

    /// Hooks, a small batch, or one thread keep every batch on the classifier itself.
    func testNoCopiesWhereTheyCannotHelp() throws {
        let classifier = try network()
        GemmTests.withThreads(2) {
            XCTAssertEqual(IGWorkers.copies(of: classifier, batches: 5, pointsPerBatch: 8, valuesPerPoint: 3 * 32 * 32).count, 0, "small batches")
            XCTAssertEqual(IGWorkers.copies(of: classifier, batches: 2, pointsPerBatch: 24, valuesPerPoint: 16 * 112 * 112).count, 0, "two batches")
            classifier.layer(named: "layer2")!.hooks.forward = { $0 }
            XCTAssertEqual(IGWorkers.copies(of: classifier, batches: 5, pointsPerBatch: 24, valuesPerPoint: 16 * 112 * 112).count, 0, "a hook")
            classifier.layer(named: "layer2")!.hooks.forward = nil
        }
        GemmTests.withThreads(1) {
            XCTAssertEqual(IGWorkers.copies(of: classifier, batches: 5, pointsPerBatch: 24, valuesPerPoint: 16 * 112 * 112).count, 0, "one thread")
        }
    }
}

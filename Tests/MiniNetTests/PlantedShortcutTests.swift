import Foundation
import MiniNet
import XCTest

final class PlantedShortcutTests: XCTestCase {
    /// FNV-1a 64 over the little-endian bytes of the float32 values of the images, then the
    /// masks, then the labels of the first `count` samples.
    func fingerprint(_ dataSet: ShapesDataset, count: Int) -> UInt64 {
        var hash: UInt64 = 14_695_981_039_346_656_037
        func add(_ values: [Float]) {
            for value in values {
                var bits = value.bitPattern.littleEndian
                for _ in 0..<4 {
                    hash = (hash ^ UInt64(bits & 0xFF)) &* 1_099_511_628_211
                    bits >>= 8
                }
            }
        }
        let samples = (0..<count).map(dataSet.sample(at:))
        samples.forEach { add($0.image.data) }
        samples.forEach { add($0.mask.data) }
        add(samples.map { Float($0.label) })
        return hash
    }

    // MARK: Old data unchanged

    /// The first 12 training samples, fingerprinted from `tutor dataset`'s train_x.npy,
    /// train_masks.npy and train_y.npy written before the planted shortcut existed: the
    /// plain data set is bit for bit what it was.
    func testThePlainDataSetIsBitIdenticalToBefore() {
        let training = Trainer.dataSets(TrainingOptions()).training
        XCTAssertNil(training.shortcut)
        XCTAssertEqual(fingerprint(training, count: 12), 10_097_745_416_734_137_932)
        XCTAssertEqual(fingerprint(ShapesDataset(count: 12, seed: Trainer.trainingSeed), count: 12), 10_097_745_416_734_137_932)
    }

    /// A shortcut data set is the plain one plus the mark: unmarked pictures are identical,
    /// marked ones differ only inside the mark, and their shape mask is cut where the mark hides it.
    func testTheMarkChangesOnlyItsOwnPixels() {
        let shortcut = PlantedShortcut.inCorner(.topLeft, label: 0, rate: 0.5)
        let plain = ShapesDataset(count: 36, seed: 4)
        let marked = ShapesDataset(count: 36, seed: 4, shortcut: shortcut, split: .test)
        let markPixels = shortcut.mask()
        XCTAssertEqual(markPixels.sum(), Double(shortcut.side * shortcut.side))
        for index in 0..<plain.count {
            let before = plain.sample(at: index), after = marked.sample(at: index)
            XCTAssertEqual(after.label, before.label)
            guard marked.isMarked(at: index) else {
                XCTAssertEqual(after.image, before.image)
                XCTAssertEqual(after.mask, before.mask)
                XCTAssertNil(after.markMask)
                continue
            }
            XCTAssertEqual(after.markMask, markPixels)
            XCTAssertNotEqual(after.image, before.image)
            for pixel in 0..<(32 * 32) where markPixels.data[pixel] == 0 {
                for channel in 0..<3 { XCTAssertEqual(after.image.data[channel * 1024 + pixel], before.image.data[channel * 1024 + pixel]) }
                XCTAssertEqual(after.mask.data[pixel], before.mask.data[pixel])
            }
            for pixel in 0..<(32 * 32) where markPixels.data[pixel] == 1 { XCTAssertEqual(after.mask.data[pixel], 0) }
        }
    }

    // MARK: How often the mark is planted

    /// Training: P(mark | class) = rate, 0 elsewhere (±4 standard errors of a binomial share);
    /// test: exactly every second block of three, so half of every class.
    func testMarkRatesPerSplit() {
        let shortcut = PlantedShortcut.inCorner(.bottomRight, label: 1, rate: 0.9, otherClassRate: 0.05)
        let training = ShapesDataset(count: 3000, seed: Trainer.trainingSeed, shortcut: shortcut, split: .training)
        let own = (0..<training.count).filter { training.label(at: $0) == 1 }
        let other = (0..<training.count).filter { training.label(at: $0) != 1 }
        func share(_ indices: [Int], in dataSet: ShapesDataset) -> Double {
            Double(indices.filter(dataSet.isMarked(at:)).count) / Double(indices.count)
        }
        XCTAssertEqual(share(own, in: training), 0.9, accuracy: 4 * (0.9 * 0.1 / Double(own.count)).squareRoot())
        XCTAssertEqual(share(other, in: training), 0.05, accuracy: 4 * (0.05 * 0.95 / Double(other.count)).squareRoot())
        let none = training.planting(PlantedShortcut.inCorner(.bottomRight, label: 1), split: .training)
        XCTAssertEqual(share(other, in: none), 0, "otherClassRate 0 marks no other picture")

        let test = training.planting(shortcut, split: .test)
        for label in 0..<3 {
            let members = (0..<test.count).filter { test.label(at: $0) == label }
            XCTAssertEqual(members.filter(test.isMarked(at:)).count, members.count / 2, "class \(label)")
        }
        XCTAssertTrue((0..<60).allSatisfy(test.planting(shortcut, split: .allMarked).isMarked(at:)))
        XCTAssertFalse((0..<60).contains(where: test.planting(shortcut, split: .noneMarked).isMarked(at:)))
    }

    func testPicturesAreAPureFunctionOfSeedAndIndex() {
        let shortcut = PlantedShortcut.forStudent(seed: 77)
        let dataSet = ShapesDataset(count: 30, seed: 9, shortcut: shortcut, split: .training)
        let again = ShapesDataset(count: 30, seed: 9, shortcut: shortcut, split: .training)
        XCTAssertEqual(dataSet.batch(0..<30).images, again.batch(0..<30).images)
        XCTAssertEqual(dataSet.sample(at: 17).image, again.batch(15..<20).images.slice(2))
        let otherSeed = ShapesDataset(count: 30, seed: 10, shortcut: shortcut, split: .training)
        XCTAssertNotEqual(dataSet.batch(0..<30).images, otherSeed.batch(0..<30).images)
    }

    // MARK: Where the mark is

    func testPlacesAndGridCells() {
        let corner = PlantedShortcut.inCorner(.bottomRight, label: 2)
        XCTAssertEqual([corner.x, corner.y, corner.side], [26, 26, 4])
        XCTAssertTrue(corner.gridCell() == (3, 3))
        XCTAssertEqual(corner.className, "triangle")
        let topLeft = PlantedShortcut.inCorner(.topLeft, label: 0)
        XCTAssertEqual([topLeft.x, topLeft.y], [2, 2])
        for corner in PlantedShortcut.Corner.allCases {
            XCTAssertTrue(PlantedShortcut.inCorner(corner, label: 0).gridCell() == corner.cell, corner.rawValue)
        }
        // At 64×64 a cell is 16 pixels; the mark is centred in it: 16·2 + (16 − 4)/2 = 38.
        let large = PlantedShortcut.inCell(row: 1, column: 2, label: 0, imageSize: 64)
        XCTAssertEqual([large.x, large.y], [38, 22])
        XCTAssertTrue(large.gridCell(imageSize: 64) == (1, 2))
        XCTAssertEqual(large.mask(imageSize: 64).sum(), 16)
        XCTAssertThrowsError(try PlantedShortcut.validated(x: 0, y: 0, label: 3))
        XCTAssertThrowsError(try PlantedShortcut.validated(x: 0, y: 0, label: 0, rate: .nan))
        XCTAssertThrowsError(try ShapesDataset.validated(count: 3, seed: 1, shortcut: PlantedShortcut(x: 30, y: 0, label: 0)))
    }

    /// Student marks: always a rim cell (never the four centre cells), every one of the
    /// 12 cells and 3 classes is drawn for some student, and a seed always gives the same mark.
    func testStudentMarksAreOnTheRimAndCoverEveryChoice() {
        var seen = Set<[Int]>()
        for seed in UInt64(0)..<400 {
            let mark = PlantedShortcut.forStudent(seed: seed)
            let cell = mark.gridCell()
            XCTAssertFalse((1...2).contains(cell.row) && (1...2).contains(cell.column), "seed \(seed): centre cell \(cell)")
            XCTAssertEqual(mark, PlantedShortcut.forStudent(seed: seed))
            seen.insert([cell.row, cell.column, mark.label])
        }
        XCTAssertEqual(PlantedShortcut.studentCells.count, 12)
        XCTAssertEqual(seen.count, 36, "12 cells × 3 classes")
    }

    // MARK: Training

    func testShuffledLabelsAreASeededPermutation() {
        let labels = (0..<300).map { $0 % 3 }
        let shuffled = Trainer.shuffledLabels(labels, seed: 5)
        XCTAssertEqual(shuffled.sorted(), labels.sorted(), "every class keeps its count")
        XCTAssertEqual(shuffled, Trainer.shuffledLabels(labels, seed: 5))
        XCTAssertNotEqual(shuffled, Trainer.shuffledLabels(labels, seed: 6))
        // A random permutation leaves about 1/3 of 3-class labels unchanged (±4 standard errors).
        let kept = Double(zip(shuffled, labels).filter { $0 == $1 }.count) / 300
        XCTAssertEqual(kept, 1.0 / 3, accuracy: 4 * (2.0 / 9 / 300).squareRoot())
    }

    /// Weights of a tiny run, as the bytes of every parameter.
    func weights(_ options: TrainingOptions) throws -> [Float] {
        try Trainer.train(options: options).classifier.network.namedParameters.flatMap(\.parameter.value.data)
    }

    func testShortcutAndShuffledTrainingAreDeterministic() throws {
        var options = TrainingOptions()
        (options.epochs, options.trainingImages, options.validationImages) = (1, 24, 6)
        let plain = try weights(options)
        var shortcut = options
        shortcut.shortcut = PlantedShortcut.inCorner(.bottomRight, label: 1)
        var shuffled = options
        shuffled.shuffledLabelsSeed = 3
        XCTAssertEqual(try weights(shortcut), try weights(shortcut))
        XCTAssertEqual(try weights(shuffled), try weights(shuffled))
        XCTAssertNotEqual(try weights(shortcut), plain)
        XCTAssertNotEqual(try weights(shuffled), plain)
    }

    /// The network learns the mark. After a short run (360 pictures, 4 epochs: about 6 s of
    /// CPU in a debug build) it has barely learned the shapes, but the mark already decides:
    /// the other classes' test pictures are called "square" far more often once the mark is
    /// on them, and their accuracy drops. Training is deterministic on any machine and thread
    /// count, so these are fixed numbers (0.17 → 0.87 and 0.62 → 0.12 when written), not
    /// samples; the margins only leave room for a change of the training code. The full
    /// run's figures are in docs/evaluation.md.
    func testTheNetworkLearnsTheMark() throws {
        var options = TrainingOptions()
        (options.epochs, options.trainingImages, options.validationImages, options.batchSize) = (4, 360, 90, 16)
        options.shortcut = PlantedShortcut.inCorner(.bottomRight, label: 1)
        let (classifier, _) = try Trainer.train(options: options)
        let evaluation = Trainer.evaluateShortcut(classifier, on: try XCTUnwrap(Trainer.shortcutTestSet(options)))
        XCTAssertEqual(evaluation.count, 90)
        XCTAssertEqual(evaluation.otherClassIndices.count, 60)
        let called = (evaluation.otherClassCalledShortcutClassWithoutMark, evaluation.otherClassCalledShortcutClassWithMark)
        XCTAssertGreaterThan(called.1 - called.0, 0.4, "called square: \(called.0) → \(called.1)")
        let accuracy = (evaluation.otherClassAccuracyWithoutMark, evaluation.otherClassAccuracyWithMark)
        XCTAssertGreaterThan(accuracy.0 - accuracy.1, 0.3, "other classes' accuracy: \(accuracy.0) → \(accuracy.1)")
        XCTAssertLessThan(evaluation.accuracyWithMark, evaluation.accuracyWithoutMark)
    }

    /// The evaluation's shares, on predictions made up by hand.
    func testShortcutEvaluationArithmetic() {
        let shortcut = PlantedShortcut.inCorner(.topRight, label: 1)
        // Pictures 0–2 are block 0 (marked in the test split), 3–5 block 1 (not marked).
        let evaluation = ShortcutEvaluation(shortcut: shortcut, labels: [0, 1, 2, 2, 1, 0],
                                            predictedWithoutMark: [0, 1, 2, 2, 1, 1],
                                            predictedWithMark: [1, 1, 1, 2, 1, 1],
                                            markedInTestSplit: [true, true, true, false, false, false],
                                            markedLikeTraining: [false, true, false, false, true, false])
        XCTAssertEqual(evaluation.accuracyWithoutMark, 5.0 / 6)
        XCTAssertEqual(evaluation.accuracyWithMark, 3.0 / 6)
        XCTAssertEqual(evaluation.testSplitAccuracy, 3.0 / 6)  // 0 ✗, 1 ✓, 2 ✗ marked; 3 ✓, 4 ✓, 5 ✗ not
        XCTAssertEqual(evaluation.trainingLikeAccuracy, 5.0 / 6)  // only the two squares marked: as without
        XCTAssertEqual(evaluation.otherClassIndices, [0, 2, 3, 5])
        XCTAssertEqual(evaluation.otherClassAccuracyWithoutMark, 3.0 / 4)
        XCTAssertEqual(evaluation.otherClassAccuracyWithMark, 1.0 / 4)
        XCTAssertEqual(evaluation.otherClassCalledShortcutClassWithoutMark, 1.0 / 4)
        XCTAssertEqual(evaluation.otherClassCalledShortcutClassWithMark, 3.0 / 4)
    }
}

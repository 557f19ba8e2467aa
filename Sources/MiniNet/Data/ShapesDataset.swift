/// One picture of the shapes data set with its class and where the shape is.
public struct ShapeSample: Sendable {
    /// [3, H, W], values in 0…1
    public var image: Tensor
    /// Class index: `ShapeKind(rawValue: label)`, name `ShapesDataset.classNames[label]`.
    public var label: Int
    /// [H, W]: fraction (0…1) of each pixel covered by the shape; 0 on clutter and background
    /// (and, in a picture carrying a planted mark, 0 where the mark hides the shape).
    public var mask: Tensor
    /// The shape's geometry in pixel coordinates.
    public var placement: ShapePlacement
    /// [H, W]: the planted mark's coverage (`PlantedShortcut.mask`) when this picture carries
    /// it; nil when it does not (always nil in a data set without a shortcut).
    public var markMask: Tensor? = nil
}

/// A picture with two shapes of different classes that do not overlap, for showing class
/// activation maps of two classes on the same image.
public struct TwoShapeScene: Sendable {
    /// [3, H, W], values in 0…1
    public var image: Tensor
    /// The two class indices, always different.
    public var labels: [Int]
    /// Two masks [H, W], `masks[i]` for `labels[i]`; they never share a pixel.
    public var masks: [Tensor]
    /// The two shapes' geometry, `placements[i]` for `labels[i]`.
    public var placements: [ShapePlacement]
}

/// A deterministic synthetic data set of circles, squares and triangles on cluttered,
/// noisy backgrounds: small enough to train a CNN in seconds on a CPU, hard enough that the
/// network must look at the shape (see `ShapeSceneRenderer` for how a picture is drawn).
///
/// Each sample is a pure function of (seed, index, imageSize): sample i is drawn by its own
/// `SeededGenerator(seed: seed, stream: i)`, so `sample(at:)` is random access and gives the
/// same picture on every platform.
///
/// Labels are balanced: indices 3b, 3b+1, 3b+2 hold the three classes in a random order
/// (a seeded permutation per block b), so any prefix of the data set has each class within
/// one of count / 3.
///
/// With a `shortcut`, some pictures carry a planted mark (which ones: `PlantedShortcut.isMarked`
/// for the data set's `split`). The mark is painted over the finished picture, so picture i
/// is the plain data set's picture i everywhere outside the mark, and the pictures without
/// the mark are bit-identical to the plain data set's.
public struct ShapesDataset: Sendable {
    /// Class names, indexed by label: ["circle", "square", "triangle"].
    public static let classNames: [String] = ShapeKind.allCases.map(\.name)
    /// Supported picture sizes (square pictures, side in pixels).
    public static let imageSizes: ClosedRange<Int> = 32...64
    /// Radius of a single sample's bounding circle, in pixels at 32×32 (scaled with the size).
    public static let radiusRange: ClosedRange<Float> = 5...11
    /// Bounding radius of each shape of a two-shape scene, in pixels at 32×32 (smaller, so two fit).
    public static let twoShapeRadiusRange: ClosedRange<Float> = 5...8

    /// Number of samples; indices run over 0 ..< count.
    public var count: Int
    public let seed: UInt64
    /// Side of the square pictures in pixels.
    public let imageSize: Int
    /// A mark planted on some of the pictures, or nil for the plain data set.
    public let shortcut: PlantedShortcut?
    /// Which pictures carry the `shortcut`'s mark (ignored without one).
    public let split: PlantedShortcut.Split

    /// Streams of the label permutations and two-shape scenes are kept apart from the
    /// sample streams (0, 1, 2, …) by their top bits.
    private static let labelStreamTag: UInt64 = 1 << 63
    private static let twoShapeStreamTag: UInt64 = 1 << 62

    /// A data set description; nothing is generated until `sample(at:)` or `batch(_:)`.
    /// `count` must be ≥ 0, `imageSize` in 32…64 and the shortcut's mark inside the picture
    /// (use `validated` for arguments a person typed).
    public init(count: Int, seed: UInt64, imageSize: Int = 32, shortcut: PlantedShortcut? = nil,
                split: PlantedShortcut.Split = .training) {
        precondition(count >= 0, "ShapesDataset count must be at least 0, got \(count)")
        precondition(ShapesDataset.imageSizes.contains(imageSize),
                     "ShapesDataset image size must be in 32…64, got \(imageSize)")
        precondition(shortcut?.fits(imageSize: imageSize) ?? true, "the planted mark does not fit in \(imageSize)×\(imageSize)")
        self.count = count
        self.seed = seed
        self.imageSize = imageSize
        self.shortcut = shortcut
        self.split = split
    }

    /// Like `init`, but a bad argument becomes a thrown one-line error instead of a crash.
    public static func validated(count: Int, seed: UInt64, imageSize: Int = 32, shortcut: PlantedShortcut? = nil,
                                 split: PlantedShortcut.Split = .training) throws -> ShapesDataset {
        guard count >= 0 else {
            throw MiniNetError.invalidArgument("shapes data set: count must be at least 0, got \(count)")
        }
        guard imageSizes.contains(imageSize) else {
            throw MiniNetError.invalidArgument("shapes data set: image size must be between 32 and 64 pixels, got \(imageSize)")
        }
        if let shortcut, !shortcut.fits(imageSize: imageSize) {
            throw MiniNetError.invalidArgument("shapes data set: the planted mark at x \(shortcut.x), y \(shortcut.y) does not fit in \(imageSize)×\(imageSize) pixels")
        }
        return ShapesDataset(count: count, seed: seed, imageSize: imageSize, shortcut: shortcut, split: split)
    }

    /// The same pictures with another `shortcut` and `split` (e.g. the test pictures with
    /// and without the mark).
    public func planting(_ shortcut: PlantedShortcut?, split: PlantedShortcut.Split) -> ShapesDataset {
        ShapesDataset(count: count, seed: seed, imageSize: imageSize, shortcut: shortcut, split: split)
    }

    /// The class of sample `index`, without drawing the picture.
    ///
    ///     label(i) = πᵦ[i mod 3],   b = ⌊i / 3⌋
    ///
    /// where πᵦ is a Fisher–Yates shuffle of (0, 1, 2) drawn from the generator of block b.
    public func label(at index: Int) -> Int {
        precondition(index >= 0, "negative sample index \(index)")
        var generator = SeededGenerator(seed: seed, stream: ShapesDataset.labelStreamTag | UInt64(index / 3))
        var order = Array(0..<ShapeKind.allCases.count)
        for position in stride(from: order.count - 1, to: 0, by: -1) {
            order.swapAt(position, generator.integer(below: position + 1))
        }
        return order[index % 3]
    }

    /// Whether sample `index` carries the planted mark, without drawing the picture (always
    /// false without a shortcut).
    public func isMarked(at index: Int) -> Bool {
        guard let shortcut else { return false }
        return shortcut.isMarked(index: index, label: label(at: index), seed: seed, split: split)
    }

    /// Sample `index` (0 ..< count): always the same picture for the same seed, index, size,
    /// shortcut and split.
    public func sample(at index: Int) -> ShapeSample {
        precondition(index >= 0 && index < count, "sample index \(index) out of range 0..<\(count)")
        let label = label(at: index)
        var generator = SeededGenerator(seed: seed, stream: UInt64(index))
        let kind = ShapeKind.allCases[label]
        let scene = ShapeSceneRenderer.render(kinds: [kind], radiusRange: ShapesDataset.radiusRange,
                                              imageSize: imageSize, generator: &generator)
        var sample = ShapeSample(image: scene.image, label: label, mask: scene.masks[0], placement: scene.placements[0])
        if let shortcut, shortcut.isMarked(index: index, label: label, seed: seed, split: split) {
            plant(shortcut, on: &sample, index: index)
        }
        return sample
    }

    /// Paints the mark over the picture; the shape's mask becomes mask · (1 − mark), as the
    /// shape is no longer visible where the mark covers it.
    private func plant(_ shortcut: PlantedShortcut, on sample: inout ShapeSample, index: Int) {
        let markMask = shortcut.mask(imageSize: imageSize)
        sample.image = shortcut.stamp(on: sample.image, seed: seed, index: index)
        for pixel in markMask.data.indices where markMask.data[pixel] > 0 { sample.mask.data[pixel] = 0 }
        sample.markMask = markMask
    }

    /// Samples `indices` stacked into one batch. Each sample is drawn from its own stream, so
    /// the threads draw them side by side, each into its own place: the same pictures as one
    /// after another.
    ///
    /// - Returns: images [N, 3, H, W] and their N labels.
    public func batch(_ indices: Range<Int>) -> (images: Tensor, labels: [Int]) {
        precondition(indices.lowerBound >= 0 && indices.upperBound <= count,
                     "batch \(indices) out of range 0..<\(count)")
        let imageCount = 3 * imageSize * imageSize
        let labels = indices.map(label(at:))
        let data = [Float](unsafeUninitializedCapacity: indices.count * imageCount) { buffer, initialised in
            let images = SendableMutablePointer(buffer.baseAddress!)
            Parallel.forEach(indices.count, cost: 64 * imageCount) { offset in
                let picture = sample(at: indices.lowerBound + offset).image.data
                picture.withUnsafeBufferPointer { (images.pointer + offset * imageCount).update(from: $0.baseAddress!, count: imageCount) }
            }
            initialised = indices.count * imageCount
        }
        return (Tensor(shape: [indices.count, 3, imageSize, imageSize], data: data), labels)
    }

    /// A picture with two shapes of different classes, drawn like the data set's samples but
    /// with smaller shapes (bounding radius 5–8 px at 32×32) whose bounding circles are at
    /// least 2 px apart.
    ///
    /// - Parameters:
    ///   - seed: decides everything, including which two classes appear (unless `labels` is given).
    ///   - labels: optionally, the two (different) classes to draw, e.g. [0, 2] for circle and triangle.
    public static func twoShapeScene(seed: UInt64, imageSize: Int = 32, labels: [Int]? = nil) -> TwoShapeScene {
        precondition(imageSizes.contains(imageSize), "two-shape scene size must be in 32…64, got \(imageSize)")
        var generator = SeededGenerator(seed: seed, stream: twoShapeStreamTag)
        let classCount = ShapeKind.allCases.count
        let chosen: [Int]
        if let labels {
            precondition(labels.count == 2 && labels[0] != labels[1] && labels.allSatisfy { (0..<classCount).contains($0) },
                         "a two-shape scene needs two different class indices, got \(labels)")
            chosen = labels
        } else {
            // Two different classes: the first uniformly, the second uniformly among the rest.
            let first = generator.integer(below: classCount)
            let second = (first + 1 + generator.integer(below: classCount - 1)) % classCount
            chosen = [first, second]
        }
        let scene = ShapeSceneRenderer.render(kinds: chosen.map { ShapeKind.allCases[$0] },
                                              radiusRange: twoShapeRadiusRange, imageSize: imageSize,
                                              generator: &generator)
        return TwoShapeScene(image: scene.image, labels: chosen, masks: scene.masks, placements: scene.placements)
    }
}

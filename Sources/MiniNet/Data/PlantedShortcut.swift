/// A planted shortcut: a small mark that goes with one class in the training pictures, so a
/// network can learn to answer from the mark instead of the shape ("Clever Hans" features:
/// Lapuschkin et al. 2019 found a classifier that recognised horses by a copyright tag in the
/// corner). The test split breaks the link, so a network that learned the mark loses accuracy
/// there, and an explanation method can be judged by whether its map lands on the mark.
///
/// The mark is a `side`×`side` checkerboard of single pixels, `colour` on the pixels where
/// (row + column) within the mark is even and black on the others: a high-frequency pattern
/// that nothing else in the shapes pictures has (the shapes are flat, the clutter is lines
/// and round dots), so it is easy to detect and cannot be mistaken for part of a shape.
/// It is painted on top of the finished picture, with its own pixel noise (see `stamp`).
///
/// How often it is planted, per split (see `Split`):
///
///     training:  P(mark | class = label) = rate,   P(mark | other class) = otherClassRate
///     test:      the mark on every second block of three pictures: half of every class
///
/// The defaults, rate 0.9 and otherClassRate 0, make the mark a perfect predictor where it
/// is present (P(label | mark) = 1), so it is the cheapest way to get those pictures right
/// and the network learns it before the shapes. It is not total: the 10 % of the class's
/// pictures without the mark, and both other classes, can only be told apart by their
/// shapes, so the network still learns shapes. On pictures marked as in training it then
/// scores almost perfectly, as a validation set with the training set's bias would show; the
/// test split reveals the shortcut (measured figures, and rate 1 for comparison, in
/// docs/evaluation.md, "Planted shortcut").
///
/// Positions are in pixels of the picture: (x, y) is the top-left pixel of the mark (column,
/// row), so the mark covers columns x ..< x + side and rows y ..< y + side. For naming a place
/// (homework answers, lesson text) the picture is cut into a 4×4 grid of cells (`gridCell`).
/// The properties are constants checked by the initialisers, so a mark is always valid.
public struct PlantedShortcut: Equatable, Sendable {
    /// Where a corner mark goes: the corner cell of the 4×4 grid.
    public enum Corner: String, CaseIterable, Sendable {
        case topLeft = "top-left", topRight = "top-right", bottomLeft = "bottom-left", bottomRight = "bottom-right"

        /// (row, column) of the corner's cell in the `gridCells`×`gridCells` grid.
        public var cell: (row: Int, column: Int) {
            let last = PlantedShortcut.gridCells - 1
            switch self {
            case .topLeft: return (0, 0)
            case .topRight: return (0, last)
            case .bottomLeft: return (last, 0)
            case .bottomRight: return (last, last)
            }
        }
    }

    /// Which pictures of a data set carry the mark.
    public enum Split: String, CaseIterable, Sendable {
        /// Correlated with the class: `rate` of the class's pictures, `otherClassRate` of the others'.
        case training
        /// The correlation broken: pictures 6b, 6b+1, 6b+2 (every second block of three, each
        /// block holding one picture of every class) carry it, so half of every class does.
        case test
        /// Every picture, whatever its class.
        case allMarked
        /// No picture (the same pictures as `allMarked`, without the mark).
        case noneMarked
    }

    /// The picture is named as a grid of 4×4 cells, rows and columns numbered 0…3 from the top left.
    public static let gridCells = 4
    /// The default colour: yellow, (R, G, B) = (1, 0.85, 0).
    public static let defaultColour: [Float] = [1, 0.85, 0]
    /// The default side of the mark in pixels.
    public static let defaultSide = 4
    /// Sides allowed: from 2 pixels (the smallest checkerboard) to 8 (a whole cell at 32×32).
    public static let sideRange = 2...8
    /// The default share of the class's training pictures that carry the mark.
    public static let defaultRate = 0.9
    /// Standard deviation of the noise on the mark's pixels: the middle of the scenes' own
    /// noise, σ ∈ [0.02, 0.05] (see `ShapeSceneRenderer`), so the mark is as noisy as the rest.
    public static let noiseStandardDeviation: Float = 0.035

    /// Column of the mark's top-left pixel.
    public let x: Int
    /// Row of the mark's top-left pixel.
    public let y: Int
    /// Side of the square mark in pixels (`sideRange`).
    public let side: Int
    /// The class the mark goes with (index into `ShapesDataset.classNames`).
    public let label: Int
    /// (R, G, B) in 0…1 of the checkerboard's coloured pixels.
    public let colour: [Float]
    /// In training, the fraction of the class's pictures that carry the mark (0…1).
    public let rate: Double
    /// In training, the fraction of the other classes' pictures that carry the mark (0…1).
    public let otherClassRate: Double

    /// Streams of the mark decisions and the mark noise, apart from the data set's sample
    /// streams (0, 1, 2, …), label streams (bit 63) and two-shape stream (bit 62).
    static let decisionStreamTag: UInt64 = 1 << 61
    static let noiseStreamTag: UInt64 = 1 << 60
    static let studentStreamTag: UInt64 = 1 << 59

    /// A mark with its top-left pixel at (x, y). Arguments out of range are programming errors
    /// (a crash); `validated` turns them into a thrown one-line error instead.
    public init(x: Int, y: Int, label: Int, side: Int = PlantedShortcut.defaultSide, colour: [Float] = PlantedShortcut.defaultColour,
                rate: Double = PlantedShortcut.defaultRate, otherClassRate: Double = 0) {
        if let problem = PlantedShortcut.problem(x: x, y: y, label: label, side: side, colour: colour,
                                                  rate: rate, otherClassRate: otherClassRate) {
            preconditionFailure(problem)
        }
        (self.x, self.y, self.label, self.side, self.colour) = (x, y, label, side, colour)
        (self.rate, self.otherClassRate) = (rate, otherClassRate)
    }

    /// Like `init`, but a bad argument becomes a thrown one-line error.
    public static func validated(x: Int, y: Int, label: Int, side: Int = defaultSide, colour: [Float] = defaultColour,
                                 rate: Double = defaultRate, otherClassRate: Double = 0) throws -> PlantedShortcut {
        if let problem = problem(x: x, y: y, label: label, side: side, colour: colour, rate: rate, otherClassRate: otherClassRate) {
            throw MiniNetError.invalidArgument(problem)
        }
        return PlantedShortcut(x: x, y: y, label: label, side: side, colour: colour, rate: rate, otherClassRate: otherClassRate)
    }

    /// What is wrong with these arguments, or nil. (`!(r >= 0 && r <= 1)` also refuses NaN.)
    private static func problem(x: Int, y: Int, label: Int, side: Int, colour: [Float],
                                rate: Double, otherClassRate: Double) -> String? {
        if x < 0 || y < 0 { return "planted shortcut: the mark's position must not be negative, got x \(x), y \(y)" }
        if !sideRange.contains(side) {
            return "planted shortcut: the mark's side must be \(sideRange.lowerBound) to \(sideRange.upperBound) pixels, got \(side)"
        }
        if !ShapeKind.allCases.indices.contains(label) { return "planted shortcut: class \(label) does not exist" }
        if colour.count != 3 || !colour.allSatisfy({ $0 >= 0 && $0 <= 1 }) {
            return "planted shortcut: the colour must be three values in 0…1, got \(colour)"
        }
        if !(rate >= 0 && rate <= 1) || !(otherClassRate >= 0 && otherClassRate <= 1) {
            return "planted shortcut: rates must be in 0…1, got \(rate) and \(otherClassRate)"
        }
        return nil
    }

    // MARK: Placing the mark by name

    /// Columns (or rows) of grid cell `index` in a picture of `imageSize` pixels:
    /// ⌊index · S / 4⌋ ..< ⌊(index + 1) · S / 4⌋ (8 pixels per cell at 32×32).
    public static func cellSpan(_ index: Int, imageSize: Int) -> Range<Int> {
        (index * imageSize / gridCells)..<((index + 1) * imageSize / gridCells)
    }

    /// A mark centred in cell (row, column) of the 4×4 grid of a picture of `imageSize` pixels.
    /// At 32×32 a 4-pixel mark in cell (r, c) covers x = 8c + 2 … 8c + 5, y = 8r + 2 … 8r + 5.
    public static func inCell(row: Int, column: Int, label: Int, imageSize: Int = 32, side: Int = defaultSide,
                              rate: Double = defaultRate, otherClassRate: Double = 0) -> PlantedShortcut {
        precondition((0..<gridCells).contains(row) && (0..<gridCells).contains(column),
                     "grid cell (\(row), \(column)) is outside the 4×4 grid")
        let columns = cellSpan(column, imageSize: imageSize)
        let rows = cellSpan(row, imageSize: imageSize)
        precondition(side <= min(columns.count, rows.count), "a \(side)-pixel mark does not fit in a cell of \(imageSize)/4 pixels")
        return PlantedShortcut(x: columns.lowerBound + (columns.count - side) / 2,
                               y: rows.lowerBound + (rows.count - side) / 2, label: label, side: side, rate: rate,
                               otherClassRate: otherClassRate)
    }

    /// A mark in the corner cell of the grid, e.g. `.bottomRight`: cell (3, 3).
    public static func inCorner(_ corner: Corner, label: Int, imageSize: Int = 32, side: Int = defaultSide,
                                rate: Double = defaultRate, otherClassRate: Double = 0) -> PlantedShortcut {
        inCell(row: corner.cell.row, column: corner.cell.column, label: label, imageSize: imageSize, side: side, rate: rate,
               otherClassRate: otherClassRate)
    }

    /// The cells a per-student mark may take: the 12 cells on the rim of the 4×4 grid, row by
    /// row. The four centre cells are left out: every shape's centre lies at least 6 pixels
    /// from the edges (radius ≥ 5 plus a 1-pixel margin), so the shapes cover the centre most
    /// often, and a mark that is mostly hidden under the shape would teach nothing.
    public static let studentCells: [(row: Int, column: Int)] = (0..<gridCells).flatMap { row in
        (0..<gridCells).compactMap { column -> (row: Int, column: Int)? in
            let inCentre = (1...gridCells - 2).contains(row) && (1...gridCells - 2).contains(column)
            return inCentre ? nil : (row, column)
        }
    }

    /// A student's own mark: one of the 12 rim cells and one of the 3 classes, both drawn from
    /// `seed` (36 combinations; the homework system derives the seed per student). The side
    /// and rate are the defaults.
    public static func forStudent(seed: UInt64, imageSize: Int = 32) -> PlantedShortcut {
        var generator = SeededGenerator(seed: seed, stream: studentStreamTag)
        let cell = studentCells[generator.integer(below: studentCells.count)]
        let label = generator.integer(below: ShapeKind.allCases.count)
        return inCell(row: cell.row, column: cell.column, label: label, imageSize: imageSize)
    }

    /// The grid cell (row, column) that holds the mark's centre, in a picture of `imageSize`
    /// pixels. The centre is at x + side/2; in half-pixels 2x + side, so the cell is
    /// ⌊(2x + side) · 4 / (2S)⌋ with no rounding.
    public func gridCell(imageSize: Int = 32) -> (row: Int, column: Int) {
        func cell(_ start: Int) -> Int {
            min((2 * start + side) * PlantedShortcut.gridCells / (2 * imageSize), PlantedShortcut.gridCells - 1)
        }
        return (cell(y), cell(x))
    }

    /// The class's name, e.g. "square".
    public var className: String { ShapesDataset.classNames[label] }

    /// True if the whole mark lies inside a picture of `imageSize` pixels.
    public func fits(imageSize: Int) -> Bool {
        x + side <= imageSize && y + side <= imageSize
    }

    // MARK: Which pictures carry it

    /// Whether picture `index` (of class `label`) of the data set with this `seed` carries the
    /// mark in `split`. A pure function: in training, the mark is present when a uniform
    /// u ∈ [0, 1) drawn from the picture's own decision stream is below the class's rate, so
    /// the same picture is marked in every run and the expected share is exactly the rate.
    public func isMarked(index: Int, label: Int, seed: UInt64, split: Split) -> Bool {
        switch split {
        case .training:
            var generator = SeededGenerator(seed: seed, stream: PlantedShortcut.decisionStreamTag | UInt64(index))
            return Double(generator.nextUniform()) < (label == self.label ? rate : otherClassRate)
        case .test: return (index / 3) % 2 == 0
        case .allMarked: return true
        case .noneMarked: return false
        }
    }

    // MARK: Drawing it

    /// The mark's coverage [H, W] in a picture of `imageSize` pixels: 1 on its side × side
    /// pixels, 0 elsewhere. The same whether or not a picture carries the mark, so relevance on
    /// the mark's place can be measured on unmarked pictures too (as a control).
    public func mask(imageSize: Int = 32) -> Tensor {
        precondition(fits(imageSize: imageSize), "the mark at (\(x), \(y)) does not fit in \(imageSize)×\(imageSize)")
        var mask = Tensor(zeros: [imageSize, imageSize])
        for row in y..<(y + side) {
            for column in x..<(x + side) { mask.data[row * imageSize + column] = 1 }
        }
        return mask
    }

    /// `image` [3, H, W] with the mark painted over it. Pixel (i, j) of the mark (row i,
    /// column j from its top-left) gets
    ///
    ///     value = clamp(base + σ z, 0, 1),   base = colour if (i + j) is even, else 0 (black)
    ///
    /// with σ = `noiseStandardDeviation` and z standard normal from the picture's own noise
    /// stream (seed, index): a pure function of them, and no number of the picture's own
    /// streams is used, so everything outside the mark stays bit-identical.
    public func stamp(on image: Tensor, seed: UInt64, index: Int) -> Tensor {
        let size = image.shape[2]
        precondition(image.shape == [3, size, size] && fits(imageSize: size), "the mark does not fit a picture \(image.shape)")
        var generator = SeededGenerator(seed: seed, stream: PlantedShortcut.noiseStreamTag | UInt64(index))
        var result = image
        for i in 0..<side {
            for j in 0..<side {
                for channel in 0..<3 {
                    let base = (i + j) % 2 == 0 ? colour[channel] : 0
                    let noisy = base + PlantedShortcut.noiseStandardDeviation * generator.normal()
                    result.data[(channel * size + y + i) * size + x + j] = min(max(noisy, 0), 1)
                }
            }
        }
        return result
    }
}

/// How a trained classifier does on the shortcut-breaking test pictures: each picture is
/// classified twice, without the mark and with it, so every difference comes from the mark
/// alone (a paired comparison: no picture-to-picture variation in it).
///
/// Everything below is computed from the stored predictions; "other classes" are the
/// pictures whose class is not the shortcut's, which is where a learned shortcut shows: the
/// mark pulls them towards the shortcut's class.
public struct ShortcutEvaluation: Equatable, Sendable {
    public let shortcut: PlantedShortcut
    /// True class of each test picture.
    public let labels: [Int]
    /// Predicted class of each test picture without the mark.
    public let predictedWithoutMark: [Int]
    /// Predicted class of the same pictures with the mark painted on.
    public let predictedWithMark: [Int]
    /// Whether each picture carries the mark in the test split (half of every class).
    public let markedInTestSplit: [Bool]
    /// Whether each picture would carry the mark by the training rule (`rate` of the
    /// shortcut's class, `otherClassRate` of the others): a validation set with the same
    /// bias as the training set, which is what a practitioner usually has.
    public let markedLikeTraining: [Bool]

    public init(shortcut: PlantedShortcut, labels: [Int], predictedWithoutMark: [Int], predictedWithMark: [Int],
                markedInTestSplit: [Bool], markedLikeTraining: [Bool]) {
        precondition([predictedWithoutMark.count, predictedWithMark.count, markedInTestSplit.count, markedLikeTraining.count]
                        .allSatisfy { $0 == labels.count },
                     "a shortcut evaluation needs one prediction and marking of each kind per picture")
        self.shortcut = shortcut
        self.labels = labels
        self.predictedWithoutMark = predictedWithoutMark
        self.predictedWithMark = predictedWithMark
        self.markedInTestSplit = markedInTestSplit
        self.markedLikeTraining = markedLikeTraining
    }

    /// Number of test pictures.
    public var count: Int { labels.count }
    /// Indices of the pictures whose class is not the shortcut's.
    public var otherClassIndices: [Int] { labels.indices.filter { labels[$0] != shortcut.label } }

    /// Fraction of `indices` for which `predicate` holds (0 for no indices).
    static func fraction(_ indices: [Int], _ predicate: (Int) -> Bool) -> Double {
        Double(indices.filter(predicate).count) / Double(max(indices.count, 1))
    }

    /// Accuracy on the test pictures, none marked.
    public var accuracyWithoutMark: Double {
        Self.fraction(Array(labels.indices)) { predictedWithoutMark[$0] == labels[$0] }
    }
    /// Accuracy on the same pictures, all marked.
    public var accuracyWithMark: Double {
        Self.fraction(Array(labels.indices)) { predictedWithMark[$0] == labels[$0] }
    }
    /// Accuracy when the pictures flagged in `marked` carry the mark and the others do not.
    public func accuracy(marked: [Bool]) -> Double {
        Self.fraction(Array(labels.indices)) { index in
            (marked[index] ? predictedWithMark[index] : predictedWithoutMark[index]) == labels[index]
        }
    }
    /// Accuracy on the test split proper: the marked half classified with its mark, the rest without.
    public var testSplitAccuracy: Double { accuracy(marked: markedInTestSplit) }
    /// Accuracy on the same pictures marked as the training pictures are: what a validation
    /// set with the training set's bias would report.
    public var trainingLikeAccuracy: Double { accuracy(marked: markedLikeTraining) }
    /// Accuracy on the other classes' pictures without the mark.
    public var otherClassAccuracyWithoutMark: Double {
        Self.fraction(otherClassIndices) { predictedWithoutMark[$0] == labels[$0] }
    }
    /// Accuracy on the other classes' pictures with the mark: the mark is on the wrong class.
    public var otherClassAccuracyWithMark: Double {
        Self.fraction(otherClassIndices) { predictedWithMark[$0] == labels[$0] }
    }
    /// Fraction of the other classes' pictures called the shortcut's class, without the mark.
    public var otherClassCalledShortcutClassWithoutMark: Double {
        Self.fraction(otherClassIndices) { predictedWithoutMark[$0] == shortcut.label }
    }
    /// Fraction of the other classes' pictures called the shortcut's class, with the mark.
    public var otherClassCalledShortcutClassWithMark: Double {
        Self.fraction(otherClassIndices) { predictedWithMark[$0] == shortcut.label }
    }
}

extension Trainer {
    /// Classifies the shortcut test pictures (`dataSet`, normally `shortcutTestSet`) without
    /// and with the mark.
    public static func evaluateShortcut(_ classifier: ImageClassifier, on dataSet: ShapesDataset) -> ShortcutEvaluation {
        guard let shortcut = dataSet.shortcut else { preconditionFailure("evaluateShortcut needs a data set with a planted shortcut") }
        return ShortcutEvaluation(
            shortcut: shortcut,
            labels: (0..<dataSet.count).map(dataSet.label(at:)),
            predictedWithoutMark: predictions(classifier, on: dataSet.planting(shortcut, split: .noneMarked)),
            predictedWithMark: predictions(classifier, on: dataSet.planting(shortcut, split: .allMarked)),
            markedInTestSplit: (0..<dataSet.count).map { dataSet.planting(shortcut, split: .test).isMarked(at: $0) },
            markedLikeTraining: (0..<dataSet.count).map { dataSet.planting(shortcut, split: .training).isMarked(at: $0) })
    }
}

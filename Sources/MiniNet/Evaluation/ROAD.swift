import Foundation

/// ROAD, RemOve And Debias (Rong et al. 2022, "A Consistent and Efficient Evaluation Strategy for
/// Attribution Methods"): remove a percentage of the pixels in the order of the map, fill them by
/// noisy linear imputation (`NoisyLinearImputation`) so that the removal itself leaves no shape
/// for the network to recognise, and watch the score.
///
/// - MoRF, most relevant first: a faithful map makes the score fall fast (lower is better);
/// - LeRF, least relevant first: removing what the map calls unimportant should keep the score
///   (higher is better);
/// - pytorch-grad-cam's ROADCombined = (mean LeRF change − mean MoRF change) / 2 over the
///   percentages: one number, higher is better.
///
/// Which pixels are removed (`Selection`):
/// - `.percentileThreshold`, pytorch-grad-cam's convention (RemoveMostRelevantFirst): removing
///   r % at MoRF removes every pixel with h ≥ T, T = numpy's percentile of h at 100 − r (linear
///   interpolation); LeRF does the same on 1 − h (float32). Equal values are removed together,
///   so ties can remove a little more than r %. pytorch-grad-cam's own `percentile` argument is
///   this 100 − r: ROADMostRelevantFirst(percentile=80) removes the top 20 %.
/// - `.rank`, the paper's and Quantus's: the first ⌊N · r / 100⌋ pixels of the order (ties by
///   pixel index).
public enum ROAD {
    public enum Order: String, Sendable, CaseIterable {
        case mostRelevantFirst = "MoRF"
        case leastRelevantFirst = "LeRF"
    }

    public enum Selection: String, Sendable, CaseIterable {
        case percentileThreshold
        case rank
    }

    /// pytorch-grad-cam's ROAD…Average and ROADCombined: 10 %, 20 %, …, 90 % removed.
    public static let defaultPercentages: [Double] = [10, 20, 30, 40, 50, 60, 70, 80, 90]

    /// numpy's percentile (method "linear") of float32 values, operation for operation:
    ///
    ///     v = (n − 1) · q/100,  a = sorted[⌊v⌋],  b = sorted[⌊v⌋ + 1],  t = v − ⌊v⌋
    ///     T = a + (b − a)·t       if t < ½
    ///     T = b − (b − a)·(1 − t) if t ≥ ½        (in float32, t rounded to float32)
    public static func percentile(_ values: [Float], _ percent: Double) -> Float {
        precondition(!values.isEmpty, "percentile of no values")
        let sorted = values.sorted()
        let virtual = Double(sorted.count - 1) * (percent / 100)
        guard virtual < Double(sorted.count - 1) else { return sorted[sorted.count - 1] }
        guard virtual > 0 else { return sorted[0] }
        let below = virtual.rounded(.down)
        let (a, b) = (sorted[Int(below)], sorted[Int(below) + 1])
        let t = virtual - below
        return t >= 0.5 ? b - (b - a) * Float(1 - t) : a + (b - a) * Float(t)
    }

    /// Which pixels [H·W] (true = removed) go when r = `percent` % are removed in `order`:
    ///
    ///     percentileThreshold:  removed_i = v_i ≥ T,  T = percentile(v, 100 − r),  v = h (MoRF) or 1 − h (LeRF)
    ///     rank:                 removed = the first ⌊N·r/100⌋ pixels of the order (MoRF: h descending,
    ///                           LeRF: h ascending; ties by pixel index)
    public static func removedPixels(heatmap: Tensor, percent: Double, order: Order,
                                     selection: Selection = .percentileThreshold) -> [Bool] {
        switch selection {
        case .percentileThreshold:
            // LeRF ranks 1 − h, as pytorch-grad-cam does (float32).
            let values = order == .mostRelevantFirst ? heatmap.data : heatmap.data.map { 1 - $0 }
            let threshold = percentile(values, 100 - percent)
            return values.map { !($0 < threshold) }
        case .rank:
            let ranked = order == .mostRelevantFirst ? Faithfulness.pixelOrder(heatmap)
                : Faithfulness.pixelOrder(heatmap.map { -$0 })
            var removed = [Bool](repeating: false, count: heatmap.count)
            for pixel in ranked.prefix(Int(Double(heatmap.count) * percent / 100)) { removed[pixel] = true }
            return removed
        }
    }

    /// The noise stream of one removal: MoRF and LeRF apart by bit 32, the percentage in
    /// thousandths below it.
    public static func noiseStream(order: Order, percent: Double) -> UInt64 {
        (order == .leastRelevantFirst ? 1 << 32 : 0) | UInt64((percent * 1000).rounded())
    }
}

/// ROAD at several percentages in one order.
public struct ROADCurve: Sendable {
    public var order: ROAD.Order
    public var selection: ROAD.Selection
    public var target: ExplanationTarget
    public var noise: ImputationNoise
    /// r: the percent of the pixels to remove at each point (the paper's axis).
    public var percentages: [Double]
    /// How many pixels were removed at each point.
    public var removedCounts: [Int]
    /// y^c of the imputed picture at each point.
    public var scores: [Float]
    /// The imputed picture [C, H, W] at each point, normalised as the input.
    public var imputedImages: [Tensor]
    /// The predicted class at each point: Quantus's ROAD reports whether it is still the label.
    public var predictedClasses: [Int]
    /// y^c of the untouched picture, scored in the same batches as the imputed ones.
    public var fullScore: Float
    /// Every imputed pixel is the weighted mean of its neighbours, at every point and channel.
    public var checks: [Check]

    /// y_after − y_before in float32 at each point: pytorch-grad-cam's ROADMostRelevantFirst /
    /// ROADLeastRelevantFirst value.
    public var changes: [Float] { scores.map { $0 - fullScore } }
    /// The mean change over the percentages: pytorch-grad-cam's ROAD…Average.
    public var averageChange: Double {
        changes.isEmpty ? 0 : changes.reduce(0) { $0 + Double($1) } / Double(changes.count)
    }
    public var allChecksPass: Bool { checks.allSatisfy(\.ok) }
}

/// Both orders, and pytorch-grad-cam's ROADCombined.
public struct ROADCombined: Sendable {
    public var mostRelevantFirst: ROADCurve
    public var leastRelevantFirst: ROADCurve
    /// (mean LeRF change − mean MoRF change) / 2: higher is better.
    public var score: Double {
        (leastRelevantFirst.averageChange - mostRelevantFirst.averageChange) / 2
    }
}

extension ROAD {
    /// ROAD in one order: for each r in `percentages`, remove r % of the pixels (`removedPixels`),
    /// impute them with noise stream `noiseStream(order:percent:)`, and score the result; the
    /// imputed pictures go through the network `batchSize` at a time.
    public static func curve(classifier: ImageClassifier, input: Tensor, heatmap: Tensor, target: ExplanationTarget,
                             order: Order, percentages: [Double] = defaultPercentages,
                             selection: Selection = .percentileThreshold, noise: ImputationNoise = ImputationNoise(),
                             batchSize: Int = Faithfulness.defaultBatchSize) throws -> ROADCurve {
        let image = try checkedImage(input, heatmap: heatmap, classifier: classifier, target: target, percentages: percentages,
                                     batchSize: batchSize)
        let imputed = try imputedPictures(image, heatmap: heatmap, orders: [order], percentages: percentages,
                                          selection: selection, noise: noise)
        return curves(classifier: classifier, image: image, target: target, orders: [order], percentages: percentages,
                      selection: selection, noise: noise, batchSize: batchSize, imputed: imputed)[0]
    }

    /// The input [C, H, W] after the checks every ROAD call makes of its arguments.
    static func checkedImage(_ input: Tensor, heatmap: Tensor, classifier: ImageClassifier, target: ExplanationTarget,
                             percentages: [Double], batchSize: Int) throws -> Tensor {
        let image = try Faithfulness.checkedImage(input, heatmap: heatmap, classifier: classifier, target: target)
        try Faithfulness.checkBatchSize(batchSize)
        guard percentages.allSatisfy({ $0 > 0 && $0 < 100 }) else {
            throw MiniNetError.invalidArgument("ROAD removes between 0 and 100 percent of the pixels (exclusive); got \(percentages)")
        }
        return image
    }

    /// Each order's pictures with r % removed and imputed, for every r of `percentages`
    /// ([order][percentage]). Every picture is its own linear system with its own noise
    /// stream, so they are solved side by side on the threads (`Gemm.concurrently`) with the
    /// same results as one after another.
    static func imputedPictures(_ image: Tensor, heatmap: Tensor, orders: [Order], percentages: [Double], selection: Selection,
                                noise: ImputationNoise) throws -> [[NoisyLinearImputation.Result]] {
        try imputedPictures(image, heatmaps: [heatmap], orders: orders, percentages: percentages, selection: selection, noise: noise)[0]
    }

    /// The same for several maps, [map][order][percentage], all in one set of jobs so that the
    /// threads share the large systems (the higher percentages) of every map.
    static func imputedPictures(_ image: Tensor, heatmaps: [Tensor], orders: [Order], percentages: [Double], selection: Selection,
                                noise: ImputationNoise) throws -> [[[NoisyLinearImputation.Result]]] {
        let jobs = heatmaps.indices.flatMap { map in orders.flatMap { order in percentages.map { (map, order, $0) } } }
        var outcomes = [Result<NoisyLinearImputation.Result, Error>?](repeating: nil, count: jobs.count)
        outcomes.withUnsafeMutableBufferPointer { slots in
            Gemm.concurrently(jobs.count) { index in
                let (map, order, percent) = jobs[index]
                slots[index] = Result {
                    try NoisyLinearImputation.impute(image, removed: removedPixels(heatmap: heatmaps[map], percent: percent, order: order,
                                                                                   selection: selection),
                                                     noise: noise, stream: noiseStream(order: order, percent: percent))
                }
            }
        }
        let pictures = try outcomes.map { try $0!.get() }
        return heatmaps.indices.map { map in
            orders.indices.map { order in
                let first = (map * orders.count + order) * percentages.count
                return Array(pictures[first..<(first + percentages.count)])
            }
        }
    }

    /// The curve of each order from its imputed pictures ([order][percentage]): the whole picture
    /// and every imputed one go through the network together, `batchSize` at a time, so that
    /// y^c(x), which every change y^c(imputed) − y^c(x) subtracts, is scored once for all.
    static func curves(classifier: ImageClassifier, image: Tensor, target: ExplanationTarget, orders: [Order], percentages: [Double],
                       selection: Selection, noise: ImputationNoise, batchSize: Int,
                       imputed: [[NoisyLinearImputation.Result]]) -> [ROADCurve] {
        let pictures = [image] + imputed.joined().map(\.image)
        let logits = Faithfulness.batchedLogits(classifier: classifier, count: pictures.count, imageShape: image.shape, batchSize: batchSize) {
            _ = $1.update(fromContentsOf: pictures[$0].data)
        }
        let scores = target.values(batchLogits: logits)
        var next = 1                                            // row 0 is the whole picture
        return zip(orders, imputed).map { order, imputed in
            let rows = next..<(next + imputed.count)
            next = rows.upperBound
            return ROADCurve(order: order, selection: selection, target: target, noise: noise, percentages: percentages,
                             removedCounts: imputed.map(\.removedPixels.count), scores: Array(scores[rows]),
                             imputedImages: imputed.map(\.image),
                             predictedClasses: rows.map { logits.slice($0).argmax }, fullScore: scores[0],
                             checks: imputed.flatMap(\.checks))
        }
    }

    /// MoRF and LeRF at the same percentages, and their combination.
    public static func combined(classifier: ImageClassifier, input: Tensor, heatmap: Tensor, target: ExplanationTarget,
                                percentages: [Double] = defaultPercentages, selection: Selection = .percentileThreshold,
                                noise: ImputationNoise = ImputationNoise(),
                                batchSize: Int = Faithfulness.defaultBatchSize) throws -> ROADCombined {
        try combined(classifier: classifier, input: input, heatmaps: [heatmap], target: target, percentages: percentages,
                     selection: selection, noise: noise, batchSize: batchSize)[0]
    }

    /// The same for several maps of one picture, one result per map: every picture of every map
    /// is imputed side by side on the threads, and the untouched picture, which every change
    /// subtracts, is scored once in the same batches as all of them. Each map's imputed pictures
    /// are those of a call for it alone; its scores come from other batches, so they agree with
    /// that call's within the tolerance of a batch.
    public static func combined(classifier: ImageClassifier, input: Tensor, heatmaps: [Tensor], target: ExplanationTarget,
                                percentages: [Double] = defaultPercentages, selection: Selection = .percentileThreshold,
                                noise: ImputationNoise = ImputationNoise(),
                                batchSize: Int = Faithfulness.defaultBatchSize) throws -> [ROADCombined] {
        let images = try heatmaps.map {
            try checkedImage(input, heatmap: $0, classifier: classifier, target: target, percentages: percentages, batchSize: batchSize)
        }
        guard let image = images.first else { return [] }
        let orders: [Order] = [.mostRelevantFirst, .leastRelevantFirst]
        let imputed = try imputedPictures(image, heatmaps: heatmaps, orders: orders, percentages: percentages,
                                          selection: selection, noise: noise)
        let curves = curves(classifier: classifier, image: image, target: target, orders: heatmaps.flatMap { _ in orders },
                            percentages: percentages, selection: selection, noise: noise, batchSize: batchSize,
                            imputed: imputed.flatMap { $0 })
        return heatmaps.indices.map { ROADCombined(mostRelevantFirst: curves[2 * $0], leastRelevantFirst: curves[2 * $0 + 1]) }
    }
}

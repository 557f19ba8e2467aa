import Foundation

/// Scores explanation methods on a set of pictures with every measure of this folder, and the
/// two controls beside them, so that each score has a baseline: what `tutor evaluate` prints
/// and what a lesson can show as a table.
///
///     let report = try Evaluation.run(classifier: classifier, pictures: pictures,
///                                     maps: [.method(gradCAM), .method(ig), .randomControl, .edgeControl],
///                                     settings: EvaluationSettings())
///     report.method(id: "gradcam")?.summary(.pointingGame)?.mean       // hit rate, 0…1
///     report.checks.failedCount                                       // identities that failed
///
/// For each map (a method's heatmap, or a control map) and each picture:
/// - faithfulness (Faithfulness.swift, ConfidenceChange.swift, ROAD.swift): the deletion and
///   insertion curves and their areas, the change in confidence when the picture is multiplied
///   by the map, ROAD most and least relevant first;
/// - localisation (Localisation.swift), when the picture has a mask: pointing game, relevance
///   mass, relevance rank accuracy;
/// - sanity checks (SanityChecks.swift): the similarity of the map to the one after cascading
///   randomisation of the layers (mean over the steps), and to the map of a network trained on
///   shuffled labels.
///
/// Everything is a pure function of the classifier, the pictures, the maps and the settings:
/// the pictures are shared out among threads (each with its own copy of the network), and each
/// result is the same on 1 thread or many.
public enum Evaluation {}

// MARK: - What is evaluated

/// One picture to evaluate on.
public struct EvaluationPicture: Sendable {
    /// How the picture is named in reports: "shapes #12", a file name.
    public var name: String
    /// The normalised input [C, H, W].
    public var input: Tensor
    /// The class explained, c: every map explains the logit z_c, and the faithfulness scores
    /// follow y^c (`EvaluationSettings.score`).
    public var target: Int
    /// The object's pixels, when known (every picture of the shapes data set); nil skips the
    /// localisation scores.
    public var mask: ObjectMask?
    /// The picture's own random stream (its index in the data set): the random control map of
    /// this picture is `ControlMaps.random(…, seed: seed, stream: stream)`, whatever else is
    /// evaluated.
    public var stream: UInt64

    public init(name: String, input: Tensor, target: Int, mask: ObjectMask? = nil, stream: UInt64 = 0) {
        self.name = name
        self.input = input
        self.target = target
        self.mask = mask
        self.stream = stream
    }
}

/// A map to score: an explanation method, or one of the two controls, which know nothing of
/// the network (ControlMaps.swift).
public enum EvaluatedMap: Sendable {
    case method(any Explainer)
    /// Independent uniform values: `ControlMaps.random`.
    case randomControl
    /// The Sobel edges of the picture: `ControlMaps.sobelEdges`.
    case edgeControl

    public static let randomControlID = "random"
    public static let edgeControlID = "edges"

    /// The method's id, or "random" / "edges".
    public var id: String {
        switch self {
        case let .method(explainer): return explainer.id
        case .randomControl: return Self.randomControlID
        case .edgeControl: return Self.edgeControlID
        }
    }

    public var isControl: Bool {
        if case .method = self { return false }
        return true
    }

    /// The map [H, W] of one picture for its target, with the identities the method checked.
    /// The controls never read the network: given another network, they give the same map.
    /// `isSigned`: the map has both signs (most attributions to the input); the controls are ≥ 0.
    func map(of picture: EvaluationPicture, classifier: ImageClassifier,
             settings: EvaluationSettings) throws -> (heatmap: Tensor, isSigned: Bool, checks: [Check]) {
        switch self {
        case let .method(explainer):
            let explanation = try explainer.explain(picture.input, classifier: classifier, target: .logit(picture.target),
                                                    settings: settings.explainer)
            return (explanation.heatmap, explanation.isSigned, explanation.checks)
        case .randomControl:
            return (ControlMaps.random(height: picture.input.shape[1], width: picture.input.shape[2],
                                       seed: settings.seed, stream: picture.stream), false, [])
        case .edgeControl:
            return (ControlMaps.sobelEdges(classifier.denormalize(picture.input)), false, [])
        }
    }
}

/// Which score the faithfulness measures follow as pixels are taken away.
public enum EvaluationScore: String, CaseIterable, Sendable {
    /// y^c = softmax(z)_c, as Petsiuk et al. and Chattopadhay et al. measure: curves in 0…1.
    case probability
    /// y^c = z_c, the logit the methods explain.
    case logit

    public func target(_ classIndex: Int) -> ExplanationTarget {
        self == .probability ? .probability(classIndex) : .logit(classIndex)
    }
}

/// Everything the measures can be told; the defaults are those of the papers and of
/// pytorch-grad-cam (docs/evaluation.md, "The command").
public struct EvaluationSettings: Sendable {
    /// What the methods are told (layer, steps of IG, ε of LRP, …).
    public var explainer = ExplainerSettings()
    public var score = EvaluationScore.probability
    /// Faithfulness on or off.
    public var faithfulness = true
    /// Steps of the deletion and insertion curves (steps + 1 points, from nothing to every
    /// pixel); nil: the picture's height, one row's worth of pixels per step, as Petsiuk et
    /// al.'s code takes 224 pixels per step at 224 × 224 (32 steps for the shapes).
    public var curveSteps: Int? = nil
    /// What a deleted pixel becomes: 0 in the normalised input, the data set's mean colour
    /// (Petsiuk et al.'s deletion substrate).
    public var deletionFill = PerturbationFill.mean
    /// What the picture is before insertion puts pixels back: Petsiuk et al.'s blurred copy.
    public var insertionFill = PerturbationFill.petsiukBlur
    /// How a map ≥ 0 (a CAM, a control) becomes the mask M in 0…1 that multiplies the picture
    /// for the change in confidence: pytorch-grad-cam's min–max scaling.
    public var confidenceScaling = MaskScaling.minMax
    /// A signed map (most attributions) becomes M = max(h, 0) / max h instead: its negative
    /// part speaks against the class, and min–max scaling would give the pixels without any
    /// relevance M ≈ ½ rather than 0, so that the picture would keep half of its background and
    /// the scores could not be compared with a CAM's. false: `confidenceScaling` for every map.
    public var cutSignedMapsAtZero = true
    /// ROAD's percentages of pixels removed, and which pixels: the first ⌊N·r/100⌋ of the
    /// map's order (Rong et al. and Quantus), so every map removes exactly as many.
    public var roadPercentages = ROAD.defaultPercentages
    public var roadSelection = ROAD.Selection.rank
    /// σ of ROAD's imputation noise, in the normalised input's units (Rong et al.: 0.01).
    public var roadNoise: Float = 0.01
    /// How many perturbed pictures go through the network at once.
    public var batchSize = Faithfulness.defaultBatchSize
    /// Pointing-game tolerance t in pixels (0: the maximum itself must be on the object).
    public var pointingTolerance = 0
    /// Seeds the random control maps, the ROAD noise of picture i (seed + i) and the random
    /// weights of the cascade: Quantus's default seed for MPRT, 42.
    public var seed: UInt64 = 42
    /// Cascading randomisation on or off.
    public var cascade = true
    /// The sanity checks (the cascade, the shuffled labels) on the first this many pictures
    /// only; nil: on all. They explain every picture once per step of the cascade, which for
    /// Integrated Gradients is most of an evaluation's time, and their means settle on fewer
    /// pictures than the others' (a similarity varies little from picture to picture).
    public var sanityPictures: Int? = nil
    /// Threads, each with its own copy of the network: Gemm's limit (TUTOR_THREADS) by default.
    public var threads = Gemm.maximumThreads

    public init() {}
}

// MARK: - Metrics

/// One number per (map, picture), averaged over the pictures in the tables.
public enum EvaluationMetric: String, CaseIterable, Sendable {
    case deletionArea = "deletion-auc"
    case insertionArea = "insertion-auc"
    case averageDrop = "average-drop"
    case increaseInConfidence = "increase-in-confidence"
    case roadMostRelevantFirst = "road-morf"
    case roadLeastRelevantFirst = "road-lerf"
    case roadCombined = "road-combined"
    case pointingGame = "pointing-game"
    case relevanceMass = "relevance-mass"
    case relevanceRank = "relevance-rank"
    case cascadeRankCorrelation = "cascade-spearman-abs"
    case cascadeSSIM = "cascade-ssim"
    case shuffledLabelsRankCorrelation = "shuffled-labels-spearman-abs"
    case shuffledLabelsSSIM = "shuffled-labels-ssim"

    public enum Family: String, CaseIterable, Sendable {
        case faithfulness, localisation, sanity
    }

    public var family: Family {
        switch self {
        case .deletionArea, .insertionArea, .averageDrop, .increaseInConfidence,
             .roadMostRelevantFirst, .roadLeastRelevantFirst, .roadCombined: return .faithfulness
        case .pointingGame, .relevanceMass, .relevanceRank: return .localisation
        case .cascadeRankCorrelation, .cascadeSSIM, .shuffledLabelsRankCorrelation, .shuffledLabelsSSIM: return .sanity
        }
    }

    /// Which way a score is better.
    public enum Direction: String, Sendable {
        case higher, lower
        /// Nearer 0: the similarities of the sanity checks. A map that stays alike when the
        /// network it explains is destroyed does not explain the network; one that turns into
        /// its opposite (ρ < 0) still depends on it, but no more than one near 0.
        case nearerZero = "nearer 0"
    }

    public var better: Direction {
        switch self {
        case .insertionArea, .increaseInConfidence, .roadLeastRelevantFirst, .roadCombined,
             .pointingGame, .relevanceMass, .relevanceRank: return .higher
        case .deletionArea, .averageDrop, .roadMostRelevantFirst: return .lower
        case .cascadeRankCorrelation, .cascadeSSIM, .shuffledLabelsRankCorrelation, .shuffledLabelsSSIM: return .nearerZero
        }
    }

    /// Whether `a` is a better score than `b`.
    public func isBetter(_ a: Double, than b: Double) -> Bool {
        switch better {
        case .higher: return a > b
        case .lower: return a < b
        case .nearerZero: return abs(a) < abs(b)
        }
    }

    /// A name for tables, in English (the command translates it).
    public var title: String {
        switch self {
        case .deletionArea: return "deletion AUC"
        case .insertionArea: return "insertion AUC"
        case .averageDrop: return "average drop %"
        case .increaseInConfidence: return "increase in confidence %"
        case .roadMostRelevantFirst: return "ROAD, most relevant first"
        case .roadLeastRelevantFirst: return "ROAD, least relevant first"
        case .roadCombined: return "ROAD combined"
        case .pointingGame: return "pointing game, hit rate"
        case .relevanceMass: return "relevance mass inside the mask"
        case .relevanceRank: return "relevance rank accuracy"
        case .cascadeRankCorrelation: return "cascade: Spearman ρ of |maps|"
        case .cascadeSSIM: return "cascade: SSIM"
        case .shuffledLabelsRankCorrelation: return "shuffled labels: Spearman ρ of |maps|"
        case .shuffledLabelsSSIM: return "shuffled labels: SSIM"
        }
    }
}

/// The mean of one metric over the pictures where it is defined, and its standard error.
public struct MetricSummary: Sendable, Equatable {
    /// nil when the metric is defined on no picture.
    public var mean: Double?
    /// s/√n with s the sample standard deviation (n − 1); nil for fewer than two values.
    public var standardError: Double?
    /// n: the pictures where the metric is defined.
    public var count: Int

    public init(_ values: [Double?]) {
        let defined = values.compactMap { $0 }
        count = defined.count
        guard !defined.isEmpty else { (mean, standardError) = (nil, nil); return }
        let average = defined.reduce(0, +) / Double(defined.count)
        mean = average
        guard defined.count > 1 else { standardError = nil; return }
        let variance = defined.reduce(0) { $0 + ($1 - average) * ($1 - average) } / Double(defined.count - 1)
        standardError = (variance / Double(defined.count)).squareRoot()
    }
}

/// A curve averaged over the pictures, point by point.
public struct MeanCurve: Sendable, Equatable {
    /// The x of each point: the fraction of pixels changed, a percentage, a step number.
    public var x: [Double]
    /// The mean over the pictures at each point.
    public var y: [Double]

    public init(x: [Double], y: [Double]) {
        precondition(x.count == y.count, "a curve needs one y per x: \(x.count) and \(y.count)")
        (self.x, self.y) = (x, y)
    }

    /// The pointwise mean of curves that share their x.
    static func mean(x: [Double], of curves: [[Double]]) -> MeanCurve? {
        guard let first = curves.first else { return nil }
        precondition(curves.allSatisfy { $0.count == first.count } && first.count == x.count, "curves of different lengths")
        let sums = curves.reduce(into: [Double](repeating: 0, count: x.count)) { total, curve in
            for index in curve.indices { total[index] += curve[index] }
        }
        return MeanCurve(x: x, y: sums.map { $0 / Double(curves.count) })
    }
}

/// The curves a map gets, averaged over the pictures.
public enum EvaluationCurve: String, CaseIterable, Sendable {
    /// y^c against the fraction of pixels deleted.
    case deletion
    /// y^c against the fraction of pixels inserted.
    case insertion
    /// y^c against the percentage removed, most relevant first.
    case roadMostRelevantFirst = "road-morf"
    /// y^c against the percentage removed, least relevant first.
    case roadLeastRelevantFirst = "road-lerf"
}

/// One step of the cascade, averaged over the pictures.
public struct CascadeStepSummary: Sendable, Equatable {
    public var step: SanityChecks.RandomisationStep
    /// Means over the pictures where each is defined (`SanityChecks.CascadeStep.mean`).
    public var rankCorrelationOfAbsolute: Double?
    public var rankCorrelation: Double?
    public var structuralSimilarity: Double?
}

/// The results of one map.
public struct MethodEvaluation: Sendable {
    public var id: String
    public var isControl: Bool
    /// Per metric, one value per picture (nil where undefined), in the pictures' order.
    public var values: [EvaluationMetric: [Double?]]
    /// The mean curves (deletion, insertion, ROAD).
    public var curves: [EvaluationCurve: MeanCurve]
    /// The cascade, top step first; empty without it.
    public var cascade: [CascadeStepSummary]

    /// The mean and standard error of a metric; nil when it was not computed.
    public func summary(_ metric: EvaluationMetric) -> MetricSummary? {
        values[metric].map(MetricSummary.init)
    }
}

// MARK: - Checks, counted

/// Every identity checked during an evaluation, counted by name: an evaluation runs tens of
/// thousands, so they are kept as counts, the most used room of each, and the failures.
public struct CheckTally: Sendable {
    public struct Entry: Sendable {
        public var name: String
        public var count: Int
        public var failed: Int
        /// The check that used the largest share of its tolerance (residual / tolerance).
        public var tightest: Check
    }

    /// In the order the names first appeared.
    public private(set) var entries: [Entry] = []
    /// The failed checks, with where they happened ("shapes #12, gradcam"), the first
    /// `keptFailures` of them.
    public private(set) var failures: [(place: String, check: Check)] = []
    public static let keptFailures = 50

    public init() {}

    public var count: Int { entries.reduce(0) { $0 + $1.count } }
    public var failedCount: Int { entries.reduce(0) { $0 + $1.failed } }

    public mutating func add(_ check: Check, at place: String) {
        if let index = entries.firstIndex(where: { $0.name == check.name }) {
            entries[index].count += 1
            if !check.ok { entries[index].failed += 1 }
            if check.usedFraction > entries[index].tightest.usedFraction || (!check.ok && entries[index].tightest.ok) {
                entries[index].tightest = check
            }
        } else {
            entries.append(Entry(name: check.name, count: 1, failed: check.ok ? 0 : 1, tightest: check))
        }
        if !check.ok && failures.count < Self.keptFailures { failures.append((place, check)) }
    }

    /// Adds another tally's counts after this one's (the order stays that of the pictures).
    public mutating func add(_ other: CheckTally) {
        for entry in other.entries {
            if let index = entries.firstIndex(where: { $0.name == entry.name }) {
                entries[index].count += entry.count
                entries[index].failed += entry.failed
                if entry.tightest.usedFraction > entries[index].tightest.usedFraction || (!entry.tightest.ok && entries[index].tightest.ok) {
                    entries[index].tightest = entry.tightest
                }
            } else {
                entries.append(entry)
            }
        }
        failures += other.failures.prefix(Self.keptFailures - failures.count)
    }
}

/// The network of the data-randomisation test: the same architecture trained on shuffled
/// labels (`TrainingOptions.shuffledLabelsSeed`), ready or to be trained during the evaluation.
public enum ShuffledLabelsNetwork {
    case trained(ImageClassifier)
    /// `Trainer.train(options:)` with these options; the training is one of the units of the
    /// `.maps` phase's progress per batch.
    case train(TrainingOptions)
}

// MARK: - The report

/// Where the evaluation is: `done` of `total` units of a phase.
public struct EvaluationProgress: Sendable {
    public enum Phase: String, Sendable {
        /// The maps and their faithfulness and localisation scores: one unit per (picture, map).
        case maps
        /// Cascading randomisation: one unit per explanation of a randomised network.
        case cascade
        /// The maps of the network trained on shuffled labels: one unit per (picture, method).
        case shuffledLabels
    }

    public var phase: Phase
    public var done: Int
    public var total: Int
    /// How far the phase is, 0…1: `done / total` and the parts of the units under way (a
    /// map's deletion and insertion curves on a photo network take many batches of passes).
    public var fraction: Double

    public init(phase: Phase, done: Int, total: Int, fraction: Double? = nil) {
        (self.phase, self.done, self.total) = (phase, done, total)
        self.fraction = fraction ?? Double(done) / Double(Swift.max(total, 1))
    }
}

public struct EvaluationReport: Sendable {
    public var pictureCount: Int
    /// The maps in the order given: the methods, then the controls.
    public var methods: [MethodEvaluation]
    /// The metrics computed, in `EvaluationMetric`'s order.
    public var metrics: [EvaluationMetric]
    /// The cascade's steps, top first; empty without the cascade.
    public var cascadeSteps: [SanityChecks.RandomisationStep]
    public var checks: CheckTally

    public func method(id: String) -> MethodEvaluation? { methods.first { $0.id == id } }
}

// MARK: - Running it

extension Evaluation {
    /// Scores every map on every picture (see `Evaluation`).
    ///
    /// - Parameters:
    ///   - classifier: the trained network; never changed (the work is on copies).
    ///   - pictures: at least one, all of the network's input size.
    ///   - maps: the methods and controls, in the order of the report.
    ///   - shuffledLabels: the same architecture trained on shuffled labels, or how to train it,
    ///     for the data-randomisation test; nil leaves it out.
    ///   - progress: called from one thread at a time, after each unit of work.
    public static func run(classifier: ImageClassifier, pictures: [EvaluationPicture], maps: [EvaluatedMap],
                           settings: EvaluationSettings = EvaluationSettings(), shuffledLabels: ShuffledLabelsNetwork? = nil,
                           progress: @escaping (EvaluationProgress) -> Void = { _ in }) throws -> EvaluationReport {
        guard !pictures.isEmpty else { throw MiniNetError.invalidArgument("an evaluation needs at least one picture") }
        guard !maps.isEmpty else { throw MiniNetError.invalidArgument("an evaluation needs at least one method or control") }
        for picture in pictures where picture.input.shape != classifier.inputSize {
            throw MiniNetError.invalidArgument("picture \(picture.name) has shape \(picture.input.shape); the network takes \(classifier.inputSize)")
        }
        let threads = Swift.max(1, settings.threads)
        let workers = Workers(classifier: classifier, count: threads)

        // 1. Every (picture, map): the map, then its faithfulness and localisation scores. A
        //    network to train on shuffled labels is the first item, so that one thread trains
        //    it while the others score maps.
        let items = pictures.indices.flatMap { p in maps.indices.map { m in (picture: p, map: m) } }
        var training: TrainingOptions?
        if case let .train(options)? = shuffledLabels { training = options }
        let trainingUnits = training.map { ($0.trainingImages + $0.batchSize - 1) / $0.batchSize * $0.epochs } ?? 0
        let reporter = ProgressReporter(phase: .maps, total: items.count + trainingUnits, report: progress)
        let firstMap = training == nil ? 0 : 1
        let phaseOne: [PhaseOneResult] = try workers.perform(firstMap + items.count) { worker, index in
            if let training, index == 0 {
                return .network(try Trainer.train(options: training, progress: { _ in reporter.step() }).classifier)
            }
            let (p, m) = items[index - firstMap]
            defer { reporter.step(unit: index) }
            return .scores(try scores(of: maps[m], on: pictures[p], classifier: worker, settings: settings) { reporter.part(of: index, $0) })
        }
        let scored = phaseOne.compactMap { result -> MapScores? in
            if case let .scores(scores) = result { return scores }
            return nil
        }
        var shuffledNetwork: ImageClassifier?
        switch shuffledLabels {
        case let .trained(network)?: shuffledNetwork = network
        case .train?: if case let .network(network) = phaseOne[0] { shuffledNetwork = network }
        case nil: break
        }
        func scoresOf(picture p: Int, map m: Int) -> MapScores { scored[p * maps.count + m] }

        var checks = CheckTally()
        for (index, item) in items.enumerated() {
            for check in scored[index].checks { checks.add(check, at: "\(pictures[item.picture].name), \(maps[item.map].id)") }
        }
        // A random map's expected localisation scores are the mask's area fraction.
        if let random = maps.firstIndex(where: { if case .randomControl = $0 { return true }; return false }) {
            let masked = pictures.indices.filter { pictures[$0].mask != nil }
            if !masked.isEmpty {
                for metric in LocalisationMetric.allCases {
                    let defined = masked.compactMap { p -> (Double, ObjectMask)? in
                        guard let value = scoresOf(picture: p, map: random).localisation.flatMap(metric.value(in:)) else { return nil }
                        return (value, pictures[p].mask!)
                    }
                    guard !defined.isEmpty else { continue }
                    checks.add(metric.randomMapCheck(scores: defined.map(\.0), masks: defined.map(\.1), tolerance: settings.pointingTolerance),
                               at: "\(EvaluatedMap.randomControlID), \(defined.count)")
                }
            }
        }

        // 2. Cascading randomisation, and 3. the network trained on shuffled labels.
        let steps = settings.cascade ? SanityChecks.cascade(of: classifier, granularity: .blocks) : []
        //    Both on the first `sanityPictures` pictures; the others get no value (nil).
        let sanityPictures = Array(pictures.prefix(Swift.max(1, settings.sanityPictures ?? pictures.count)))
        let unchecked = [MapSimilarity?](repeating: nil, count: pictures.count - sanityPictures.count)
        let originals = maps.indices.map { m in sanityPictures.indices.map { p in scoresOf(picture: p, map: m).heatmap } }
        let cascade = settings.cascade
            ? try cascadeSimilarities(classifier: classifier, steps: steps, pictures: sanityPictures, maps: maps, originals: originals,
                                      settings: settings, workers: workers, progress: progress)
            : nil
        let shuffled = try shuffledNetwork.map { network in
            try shuffledLabelSimilarities(classifier: network, pictures: sanityPictures, maps: maps, originals: originals,
                                          settings: settings, threads: threads, progress: progress)
        }

        // 4. Per map: the values of every metric, picture by picture, and the mean curves.
        var computed = Set<EvaluationMetric>()
        let methods = maps.indices.map { m -> MethodEvaluation in
            let mine = pictures.indices.map { scoresOf(picture: $0, map: m) }
            var values: [EvaluationMetric: [Double?]] = [:]
            for metric in EvaluationMetric.allCases {
                let column = mine.map { $0.values[metric] ?? nil }
                if column.contains(where: { $0 != nil }) { values[metric] = column }
            }
            if pictures.contains(where: { $0.mask != nil }) {
                values[.pointingGame] = mine.map { $0.localisation.map { $0.pointingGame.hit ? 1 : 0 } }
                values[.relevanceMass] = mine.map { $0.localisation?.relevanceMass }
                values[.relevanceRank] = mine.map { $0.localisation?.relevanceRank }
            }
            var stepSummaries: [CascadeStepSummary] = []
            if let cascade {
                let similarities = cascade[m]                                  // [picture][step]
                values[.cascadeRankCorrelation] = similarities.map { meanOfDefined($0.map(\.rankCorrelationOfAbsolute)) } + unchecked.map { _ in nil }
                values[.cascadeSSIM] = similarities.map { meanOfDefined($0.map(\.structuralSimilarity)) } + unchecked.map { _ in nil }
                stepSummaries = steps.indices.map { s in
                    CascadeStepSummary(step: steps[s],
                                       rankCorrelationOfAbsolute: meanOfDefined(similarities.map { $0[s].rankCorrelationOfAbsolute }),
                                       rankCorrelation: meanOfDefined(similarities.map { $0[s].rankCorrelation }),
                                       structuralSimilarity: meanOfDefined(similarities.map { $0[s].structuralSimilarity }))
                }
            }
            if let shuffled {
                values[.shuffledLabelsRankCorrelation] = shuffled[m].map(\.rankCorrelationOfAbsolute) + unchecked.map { _ in nil }
                values[.shuffledLabelsSSIM] = shuffled[m].map(\.structuralSimilarity) + unchecked.map { _ in nil }
            }
            var curves: [EvaluationCurve: MeanCurve] = [:]
            for curve in EvaluationCurve.allCases {
                let all = mine.compactMap { $0.curves[curve] }
                if all.count == mine.count, let x = all.first?.x, let mean = MeanCurve.mean(x: x, of: all.map(\.y)) { curves[curve] = mean }
            }
            computed.formUnion(values.keys)
            return MethodEvaluation(id: maps[m].id, isControl: maps[m].isControl, values: values, curves: curves, cascade: stepSummaries)
        }
        return EvaluationReport(pictureCount: pictures.count, methods: methods,
                                metrics: EvaluationMetric.allCases.filter(computed.contains), cascadeSteps: steps, checks: checks)
    }

    /// The mean of the values that are defined; nil when none is.
    static func meanOfDefined(_ values: [Double?]) -> Double? {
        let defined = values.compactMap { $0 }
        return defined.isEmpty ? nil : defined.reduce(0, +) / Double(defined.count)
    }
}

// MARK: - One map on one picture

extension Evaluation {
    /// The outcome of one unit of the first phase.
    enum PhaseOneResult {
        case network(ImageClassifier)
        case scores(MapScores)
    }

    /// What one map scores on one picture.
    struct MapScores: Sendable {
        var heatmap: Tensor
        var values: [EvaluationMetric: Double?] = [:]
        var localisation: LocalisationScores?
        /// Each curve's x and y on this picture.
        var curves: [EvaluationCurve: MeanCurve] = [:]
        var checks: [Check] = []
    }

    ///
    /// - Parameter part: told how much of the work is done (0…1) as the map's own passes and
    ///   the curves' batches go by, for a progress bar.
    static func scores(of map: EvaluatedMap, on picture: EvaluationPicture, classifier: ImageClassifier,
                       settings: EvaluationSettings, part: @escaping @Sendable (Double) -> Void = { _ in }) throws -> MapScores {
        // A method with passes of its own to report (IG, Score-CAM, SmoothGrad) takes the first
        // half of the bar, the curves the rest; without them the curves take it all.
        var mapSettings = settings
        let mapReports = ReportedFlag()
        mapSettings.explainer.progress = { done, total in
            mapReports.value = true
            part(0.5 * Double(done) / Double(Swift.max(total, 1)))
        }
        let (heatmap, isSigned, methodChecks) = try map.map(of: picture, classifier: classifier, settings: mapSettings)
        var result = MapScores(heatmap: heatmap, checks: methodChecks)
        if settings.faithfulness {
            let start = mapReports.value ? 0.5 : 0
            try faithfulness(of: heatmap, isSigned: isSigned, on: picture, classifier: classifier, settings: settings, into: &result) { done in
                part(start + (0.95 - start) * done)
            }
        }
        if let mask = picture.mask {
            result.localisation = Localisation.scores(heatmap, mask: mask, tolerance: settings.pointingTolerance)
        }
        return result
    }
}

// MARK: - Faithfulness

extension Evaluation {
    /// The faithfulness scores of one map on one picture, its curves, and the identities
    /// checked along the way (the ends of each curve, every imputed pixel of ROAD).
    ///
    ///     deletion-auc, insertion-auc      areas under y^c over the fraction of pixels changed
    ///     average-drop                     100 · max(0, Y − O)/Y,  Y = y^c(x), O = y^c(x ⊙ M); nil when Y ≤ 0
    ///                                      (M: the map min–max scaled, or for a signed map its
    ///                                      positive part over its maximum)
    ///     increase-in-confidence           100 · [O > Y]
    ///     road-morf, road-lerf             mean over r of y^c(x with r % imputed) − y^c(x)
    ///     road-combined                    (road-lerf − road-morf) / 2
    ///
    /// The ROAD noise of picture i has seed `settings.seed + i`, so the pictures do not share it.
    static func faithfulness(of heatmap: Tensor, isSigned: Bool, on picture: EvaluationPicture, classifier: ImageClassifier,
                             settings: EvaluationSettings, into result: inout MapScores,
                             curvesDone: (Double) -> Void = { _ in }) throws {
        let target = settings.score.target(picture.target)
        let steps = settings.curveSteps ?? picture.input.shape[1]
        // Both curves at once: x, which ends one and starts the other, is scored once.
        let curves = try Faithfulness.curves([.init(.deletion, heatmap: heatmap, fill: settings.deletionFill),
                                              .init(.insertion, heatmap: heatmap, fill: settings.insertionFill)],
                                             classifier: classifier, input: picture.input, target: target, steps: steps,
                                             batchSize: settings.batchSize) { done, total in curvesDone(Double(done) / Double(total)) }
        let (deletion, insertion) = (curves[0], curves[1])
        result.values[.deletionArea] = deletion.area
        result.values[.insertionArea] = insertion.area
        result.curves[.deletion] = MeanCurve(x: deletion.fractions, y: deletion.scores.map(Double.init))
        result.curves[.insertion] = MeanCurve(x: insertion.fractions, y: insertion.scores.map(Double.init))
        result.checks += deletion.checks + insertion.checks

        let (mask, scaling) = isSigned && settings.cutSignedMapsAtZero
            ? (positivePartScaled(heatmap), MaskScaling.asGiven) : (heatmap, settings.confidenceScaling)
        let change = try Faithfulness.confidenceChange(classifier: classifier, input: picture.input, heatmap: mask, target: target,
                                                       scaling: scaling)
        result.values[.averageDrop] = change.relativeDrop.map { 100 * $0 }
        result.values[.increaseInConfidence] = change.increased ? 100 : 0

        let road = try ROAD.combined(classifier: classifier, input: picture.input, heatmap: heatmap, target: target,
                                     percentages: settings.roadPercentages, selection: settings.roadSelection,
                                     noise: ImputationNoise(standardDeviation: settings.roadNoise, seed: settings.seed &+ picture.stream),
                                     batchSize: settings.batchSize)
        result.values[.roadMostRelevantFirst] = road.mostRelevantFirst.averageChange
        result.values[.roadLeastRelevantFirst] = road.leastRelevantFirst.averageChange
        result.values[.roadCombined] = road.score
        result.curves[.roadMostRelevantFirst] = MeanCurve(x: road.mostRelevantFirst.percentages, y: road.mostRelevantFirst.scores.map(Double.init))
        result.curves[.roadLeastRelevantFirst] = MeanCurve(x: road.leastRelevantFirst.percentages, y: road.leastRelevantFirst.scores.map(Double.init))
        result.checks += road.mostRelevantFirst.checks + road.leastRelevantFirst.checks
    }
}

extension Evaluation {
    /// M = max(h, 0) / max h, in 0…1; all 0 when no value is positive.
    public static func positivePartScaled(_ heatmap: Tensor) -> Tensor {
        let largest = heatmap.max
        return largest > 0 ? heatmap.map { Swift.max($0, 0) / largest } : Tensor(zeros: heatmap.shape)
    }
}

// MARK: - Sanity checks

extension Evaluation {
    /// For each map, picture and step of the cascade: the trained network's map against the
    /// map after the step, as `SanityChecks.cascadingRandomisation` computes it (the same
    /// re-initialisation, seed and comparison), without explaining the trained network again.
    /// Each thread randomises its own copy of the network, step by step, for its share of the
    /// pictures. The controls, which do not read the network, are compared with themselves.
    ///
    /// - Returns: [map][picture][step]
    static func cascadeSimilarities(classifier: ImageClassifier, steps: [SanityChecks.RandomisationStep], pictures: [EvaluationPicture],
                                    maps: [EvaluatedMap], originals: [[Tensor]], settings: EvaluationSettings,
                                    workers: Workers, progress: @escaping (EvaluationProgress) -> Void) throws -> [[[MapSimilarity]]] {
        // Work items: (map, a slice of the pictures); several slices per thread, so that a slow
        // method does not leave the other threads idle at the end.
        let sliceCount = Swift.min(pictures.count, workers.count * 4)
        let slices = (0..<sliceCount).map { s in (s * pictures.count / sliceCount)..<((s + 1) * pictures.count / sliceCount) }
        let items = maps.indices.flatMap { m in slices.map { (map: m, pictures: $0) } }
        let reporter = ProgressReporter(phase: .cascade, total: maps.count * pictures.count * steps.count, report: progress)
        let results: [[[MapSimilarity]]] = try workers.perform(items.count) { _, index in
            let (m, slice) = items[index]
            if maps[m].isControl {
                // A control's map does not depend on the network: after every step it is the
                // map it was, so it is made and compared once per picture.
                return try slice.map { p in
                    let again = try maps[m].map(of: pictures[p], classifier: classifier, settings: settings).heatmap
                    let similarity = try Similarity.compare(originals[m][p], again)
                    for _ in steps { reporter.step() }
                    return [MapSimilarity](repeating: similarity, count: steps.count)
                }
            }
            let network = try SanityChecks.copy(of: classifier)
            let prepared = slice.map { Similarity.PreparedMap(originals[m][$0]) }
            var similarities = [[MapSimilarity]](repeating: [], count: slice.count)
            for step in steps {
                for layer in step.layers.compactMap(network.layer(named:)) { SanityChecks.reinitialise(layer, seed: settings.seed) }
                for (offset, p) in slice.enumerated() {
                    let randomised = try maps[m].map(of: pictures[p], classifier: network, settings: settings).heatmap
                    similarities[offset].append(try Similarity.compare(prepared[offset], Similarity.PreparedMap(randomised)))
                    reporter.step()
                }
            }
            return similarities
        }
        return maps.indices.map { m in items.indices.filter { items[$0].map == m }.flatMap { results[$0] } }
    }

    /// For each map and picture: the trained network's map against that of the network
    /// trained on shuffled labels (`SanityChecks.dataRandomisation`, without explaining the
    /// trained network again).
    ///
    /// - Returns: [map][picture]
    static func shuffledLabelSimilarities(classifier: ImageClassifier, pictures: [EvaluationPicture], maps: [EvaluatedMap],
                                          originals: [[Tensor]], settings: EvaluationSettings, threads: Int,
                                          progress: @escaping (EvaluationProgress) -> Void) throws -> [[MapSimilarity]] {
        let items = maps.indices.flatMap { m in pictures.indices.map { p in (map: m, picture: p) } }
        let reporter = ProgressReporter(phase: .shuffledLabels, total: items.count, report: progress)
        let similarities: [MapSimilarity] = try Workers(classifier: classifier, count: threads).perform(items.count) { network, index in
            let (m, p) = items[index]
            defer { reporter.step() }
            let shuffled = try maps[m].map(of: pictures[p], classifier: network, settings: settings).heatmap
            return try Similarity.compare(originals[m][p], shuffled)
        }
        return maps.indices.map { m in Array(similarities[(m * pictures.count)..<((m + 1) * pictures.count)]) }
    }
}

// MARK: - Threads

extension Evaluation {
    /// A copy of the network per thread (a network keeps each layer's input for the backward
    /// pass, so two threads cannot share one), and a way to share work out among them.
    final class Workers: @unchecked Sendable {
        let networks: [ImageClassifier]
        var count: Int { networks.count }

        init(classifier: ImageClassifier, count: Int) {
            // The first thread works on the classifier itself, the others on copies; a copy
            // that cannot be made (it always can) leaves that thread out.
            // Gemm.concurrently runs at most Gemm.maximumThreads bodies at once.
            let threads = Swift.max(1, Swift.min(count, Gemm.maximumThreads))
            networks = [classifier] + (1..<threads).compactMap { _ in try? SanityChecks.copy(of: classifier) }
        }

        /// body(network, i) for i in 0..<count, each i once, spread over the threads: a thread
        /// takes the next i when it is done with one. Returns the results in the order of i;
        /// the first error in that order is thrown.
        func perform<Result>(_ count: Int, _ body: @escaping (ImageClassifier, Int) throws -> Result) throws -> [Result] {
            var results = [Result?](repeating: nil, count: count)
            var errors = [(index: Int, error: Error)]()
            var next = 0
            let lock = NSLock()
            // Gemm.concurrently keeps every product inside on its own thread, and gives each of
            // its bodies one network.
            Gemm.concurrently(networks.count) { worker in
                let network = self.networks[worker]
                while true {
                    lock.lock()
                    let index = next
                    next += 1
                    let stop = index >= count || !errors.isEmpty
                    lock.unlock()
                    if stop { return }
                    do {
                        let result = try body(network, index)
                        lock.lock()
                        results[index] = result
                        lock.unlock()
                    } catch {
                        lock.lock()
                        errors.append((index, error))
                        lock.unlock()
                    }
                }
            }
            if let first = errors.min(by: { $0.index < $1.index }) { throw first.error }
            return results.map { $0! }
        }
    }

    /// Whether a method told of its passes (set from the method's own thread, read after it returns).
    final class ReportedFlag: @unchecked Sendable {
        var value = false
    }

    /// Counts units of work done on any thread and reports them one at a time, with the parts
    /// of the units under way; reports 0 done when made, so that the phase's clock starts then.
    final class ProgressReporter: @unchecked Sendable {
        let phase: EvaluationProgress.Phase
        let total: Int
        let report: (EvaluationProgress) -> Void
        private var done = 0
        private var parts: [Int: Double] = [:]          // unit → the part of it done, 0…1
        private let lock = NSLock()

        init(phase: EvaluationProgress.Phase, total: Int, report: @escaping (EvaluationProgress) -> Void) {
            (self.phase, self.total, self.report) = (phase, total, report)
            report(EvaluationProgress(phase: phase, done: 0, total: total))
        }

        /// One unit done; `unit` names it if it reported parts of itself.
        func step(unit: Int? = nil) {
            lock.lock()
            defer { lock.unlock() }
            done += 1
            if let unit { parts[unit] = nil }
            send()
        }

        /// `fraction` (0…1) of `unit` is done.
        func part(of unit: Int, _ fraction: Double) {
            lock.lock()
            defer { lock.unlock() }
            parts[unit] = Swift.min(Swift.max(fraction, 0), 1)
            send()
        }

        private func send() {
            let underWay = parts.values.reduce(0, +)
            report(EvaluationProgress(phase: phase, done: done, total: total,
                                      fraction: Swift.min((Double(done) + underWay) / Double(Swift.max(total, 1)), 1)))
        }
    }
}

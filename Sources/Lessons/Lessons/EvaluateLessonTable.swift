import Foundation
import MiniNet

// Steps 6 and 7 of the lesson "evaluate": every method against every metric on shapes
// validation pictures, and the planted shortcut.
extension EvaluateLesson {
    /// Validation pictures of the table (the first ones of `Trainer.validationSeed`).
    static let tablePictures = 30
    /// Points of the table's curves: 16 steps of 64 pixels at 32×32.
    static let tableCurveSteps = 16
    /// Pictures per forward pass for the table's curves (a picture's 7 maps give 213 pictures).
    static let tableBatchSize = 64
    /// Pictures of the shortcut step: the first test pictures of the classes the mark does not go with.
    static let shortcutPictures = 12

    /// One map's scores on the table's pictures.
    struct TableRow {
        var name: String
        var deletion: [Double] = []
        var insertion: [Double] = []
        var changes: [ConfidenceChange] = []
        var localisation: [LocalisationScores] = []

        var deletionArea: Double { deletion.reduce(0, +) / Double(max(deletion.count, 1)) }
        var insertionArea: Double { insertion.reduce(0, +) / Double(max(insertion.count, 1)) }
        var hits: Double {
            Double(localisation.filter(\.pointingGame.hit).count) / Double(max(localisation.count, 1))
        }
        var mass: Double? { EvaluateLessonSupport.mean(localisation.map(\.relevanceMass)) }
        var rank: Double? { EvaluateLessonSupport.mean(localisation.map(\.relevanceRank)) }
    }

    // MARK: - Step 6: the table

    static func tableStep(_ s: Setting) throws {
        let (text, notebook, classifier) = (s.text, s.notebook, s.classifier)
        notebook.step(text("table.title"), id: "evaluate.table")
        guard s.usesShapes else {
            notebook.prose(text("table.photo", ["methods": EvaluateLessonSupport.tableMethods.joined(separator: ",")]))
            return
        }
        let dataset = ShapesDataset(count: tablePictures, seed: Trainer.validationSeed, imageSize: s.height)
        let samples = (0..<tablePictures).map(dataset.sample(at:))
        let inputs = samples.map { classifier.normalize($0.image) }
        let masks = samples.map { ObjectMask(coverage: $0.mask) }
        let names = EvaluateLessonSupport.tableMethods.map(displayName) + ["random map", "Sobel edges"]
        notebook.prose(text("table.body", ["count": "\(tablePictures)", "steps": "\(tableCurveSteps)",
                                           "methods": "\(EvaluateLessonSupport.tableMethods.count)"]))
        var rows = names.map { TableRow(name: $0) }
        let work = Double(rows.count * tablePictures)
        for (index, sample) in samples.enumerated() {
            let input = inputs[index]
            let explanations = try EvaluateLessonSupport.tableMethods.map {
                try EvaluateLessonSupport.heatmap($0, classifier, input, sample.label)
            }
            var maps = explanations.map(\.heatmap)
            maps.append(ControlMaps.random(height: s.height, width: s.width, seed: s.context.seed, stream: UInt64(index)))
            maps.append(ControlMaps.sobelEdges(sample.image))
            // As `tutor evaluate` does: a signed map keeps its positive part over its maximum for
            // the change in confidence (min–max scaling would keep half of the background).
            let signed = explanations.map(\.isSigned) + [false, false]
            let target = ExplanationTarget.probability(sample.label)
            // Every map's deletion and insertion curves in one call: x and the two fills are
            // scored once for all of them, and the perturbed pictures go through in full batches.
            let curves = try Faithfulness.curves(maps.flatMap { [.init(.deletion, heatmap: $0), .init(.insertion, heatmap: $0)] },
                                                 classifier: classifier, input: input, target: target, steps: tableCurveSteps,
                                                 batchSize: tableBatchSize)
            for (row, map) in maps.enumerated() {
                s.context.progress?(translated("the table: methods × metrics"), (Double(index * rows.count + row)) / work)
                rows[row].deletion.append(curves[2 * row].area)
                rows[row].insertion.append(curves[2 * row + 1].area)
                rows[row].localisation.append(Localisation.scores(map, mask: masks[index]))
                let confidenceMask = signed[row] ? Evaluation.positivePartScaled(map) : map
                rows[row].changes.append(try Faithfulness.confidenceChange(classifier: classifier, input: input, heatmap: confidenceMask,
                                                                           target: target, scaling: signed[row] ? .asGiven : .minMax))
            }
        }
        let summaries = rows.map { Faithfulness.summary(of: $0.changes) }
        notebook.table(text("table.table", ["count": "\(tablePictures)"]),
                       headers: ["map", "del. ↓", "ins. ↑", "AD ↓", "IC ↑", "hits ↑", "mass ↑", "rank ↑"],
                       rows: zip(rows, summaries).map { row, summary in
                           [row.name, EvaluateLessonSupport.number(row.deletionArea), EvaluateLessonSupport.number(row.insertionArea),
                            summary.averageDropPercent.map { String(format: "%.1f", $0) } ?? "—",
                            String(format: "%.1f", summary.increaseInConfidencePercent),
                            EvaluateLessonSupport.percent(row.hits), EvaluateLessonSupport.optional(row.mass),
                            EvaluateLessonSupport.optional(row.rank)]
                       })
        let methods = Array(rows.prefix(EvaluateLessonSupport.tableMethods.count))
        func best(_ key: (TableRow) -> Double?, lowest: Bool = false) -> TableRow {
            methods.max { a, b in
                let (x, y) = (key(a) ?? -.infinity, key(b) ?? -.infinity)
                return lowest ? x > y : x < y
            } ?? methods[0]
        }
        let bestDeletion = best(\.deletionArea, lowest: true)
        let bestInsertion = best(\.insertionArea)
        let bestMass = best(\.mass)
        let random = rows[rows.count - 2]
        let meanArea = masks.reduce(0) { $0 + $1.areaFraction } / Double(masks.count)
        notebook.prose(text(Set([bestDeletion.name, bestInsertion.name, bestMass.name]).count == 1 ? "table.after.agree" : "table.after.differ", [
            "deletion": bestDeletion.name, "deletionValue": EvaluateLessonSupport.number(bestDeletion.deletionArea),
            "insertion": bestInsertion.name, "insertionValue": EvaluateLessonSupport.number(bestInsertion.insertionArea),
            "mass": bestMass.name, "massValue": EvaluateLessonSupport.optional(bestMass.mass),
            "randomDeletion": EvaluateLessonSupport.number(random.deletionArea),
            "randomMass": EvaluateLessonSupport.optional(random.mass), "area": EvaluateLessonSupport.number(meanArea)]))
    }

    // MARK: - Step 7: the planted shortcut

    static func shortcutStep(_ s: Setting) throws {
        let (text, notebook) = (s.text, s.notebook)
        let options = EvaluateLessonSupport.shortcutTraining
        guard let mark = options.shortcut, let testSet = Trainer.shortcutTestSet(options) else { return }
        notebook.step(text("shortcut.title"), id: "evaluate.shortcut")
        let cell = mark.gridCell()
        let names = ShapesDataset.classNames
        let values = ["class": mark.className, "row": "\(cell.row)", "column": "\(cell.column)", "side": "\(mark.side)",
                      "rate": EvaluateLessonSupport.percent(mark.rate), "images": "\(options.trainingImages)",
                      "epochs": "\(options.epochs)", "test": "\(testSet.count)",
                      "grid": "\(PlantedShortcut.gridCells) × \(PlantedShortcut.gridCells)"]
        notebook.prose(text(s.usesShapes ? "shortcut.body" : "shortcut.body.photo", values))
        let trained = try EvaluateLessonSupport.trained(options, shippedAs: EvaluateLessonSupport.shortcutModelFile,
                                                        context: s.context) { fraction in
            s.context.progress?(translated("training the small CNN with a planted mark"), fraction)
        }
        if let note = EvaluateLessonSupport.shippedNote(text, trained, options: options) { notebook.prose(note) }
        let network = trained.classifier
        let evaluation = Trainer.evaluateShortcut(network, on: testSet)
        let others = names.indices.filter { $0 != mark.label }.map { names[$0] }.joined(separator: ", ")
        notebook.table(text("shortcut.accuracy", ["count": "\(testSet.count)"]), headers: ["pictures", "accuracy"], rows: [
            ["test pictures, marked as in training", EvaluateLessonSupport.percent(evaluation.trainingLikeAccuracy)],
            ["test pictures, no mark", EvaluateLessonSupport.percent(evaluation.accuracyWithoutMark)],
            ["test split (half of every class marked)", EvaluateLessonSupport.percent(evaluation.testSplitAccuracy)],
        ])
        notebook.prose(text("shortcut.accuracy.after", values.merging([
            "others": others, "biased": EvaluateLessonSupport.percent(evaluation.trainingLikeAccuracy),
            "split": EvaluateLessonSupport.percent(evaluation.testSplitAccuracy),
            "calledWithout": EvaluateLessonSupport.percent(evaluation.otherClassCalledShortcutClassWithoutMark),
            "calledWith": EvaluateLessonSupport.percent(evaluation.otherClassCalledShortcutClassWithMark)]) { $1 }))

        // The methods on the other classes' test pictures, with the mark and without it, each
        // asked why the network says the mark's class.
        let marked = testSet.planting(mark, split: .allMarked)
        let plain = testSet.planting(mark, split: .noneMarked)
        let indices = Array(evaluation.otherClassIndices.prefix(shortcutPictures))
        let markMask = ObjectMask(coverage: mark.mask(imageSize: testSet.imageSize))
        let mapNames = EvaluateLessonSupport.tableMethods.map(displayName) + ["random map"]
        var withMark = [[LocalisationScores]](repeating: [], count: mapNames.count)
        var withoutMark = [[LocalisationScores]](repeating: [], count: mapNames.count)
        var outside = 0.0
        var shownPanels: [Panel] = []
        for (order, index) in indices.enumerated() {
            let pictures = [marked.sample(at: index).image, plain.sample(at: index).image]
            for pixel in 0..<markMask.pixelCount where !markMask.inside[pixel] {
                for channel in 0..<3 {
                    let offset = channel * markMask.pixelCount + pixel
                    outside = max(outside, Double(abs(pictures[0].data[offset] - pictures[1].data[offset])))
                }
            }
            for (version, picture) in pictures.enumerated() {
                let input = network.normalize(picture)
                var maps = try EvaluateLessonSupport.tableMethods.map {
                    try EvaluateLessonSupport.heatmap($0, network, input, mark.label)
                }.map(\.heatmap)
                maps.append(ControlMaps.random(height: testSet.imageSize, width: testSet.imageSize, seed: s.context.seed,
                                               stream: UInt64(index)))
                for (row, map) in maps.enumerated() {
                    let scores = Localisation.scores(map, mask: markMask)
                    if version == 0 { withMark[row].append(scores) } else { withoutMark[row].append(scores) }
                }
                if order == 0 && version == 0 {
                    let photo = RGBImage(tensor: picture)
                    shownPanels = [.image("x (\(names[testSet.label(at: index)]))", photo)]
                        + zip(EvaluateLessonSupport.tableMethods, maps).filter { $0.0 != "gradcam++" }.map { id, map in
                            id.hasPrefix("gradcam") ? Panel.overlay(displayName(id), heatmap: map, on: photo)
                                : AttributionPanels.overlay(displayName(id), map, on: photo)
                        }
                }
            }
        }
        notebook.prose(text("shortcut.methods", values.merging(["count": "\(indices.count)", "others": others,
                                                                "area": EvaluateLessonSupport.percent(markMask.areaFraction)]) { $1 }))
        notebook.picture(text("shortcut.picture", values), shownPanels)
        func hits(_ scores: [LocalisationScores]) -> Double {
            Double(scores.filter(\.pointingGame.hit).count) / Double(max(scores.count, 1))
        }
        var revealing: [String] = []
        let rows = mapNames.indices.map { row -> [String] in
            let markedHits = hits(withMark[row])
            if row < EvaluateLessonSupport.tableMethods.count && markedHits >= 0.5 { revealing.append(mapNames[row]) }
            return [mapNames[row], EvaluateLessonSupport.optional(EvaluateLessonSupport.mean(withMark[row].map(\.relevanceMass))),
                    EvaluateLessonSupport.optional(EvaluateLessonSupport.mean(withoutMark[row].map(\.relevanceMass))),
                    EvaluateLessonSupport.percent(markedHits), EvaluateLessonSupport.percent(hits(withoutMark[row]))]
        }
        notebook.table(text("shortcut.table", values), headers: ["map", "mass, marked", "mass, plain", "peak, marked", "peak, plain"],
                       rows: rows)
        // The paired pictures differ only where the mark is: every other difference is zero.
        notebook.check(.equal(text("shortcut.paired", ["count": "\(indices.count)"]), "largest |marked − plain| outside the mark",
                              outside, "no difference", 0, tolerance: .exact))
        let revealed = revealing.isEmpty ? "—" : revealing.joined(separator: ", ")
        notebook.prose(text("shortcut.after", values.merging(["revealed": revealed, "count": "\(revealing.count)",
                                                              "total": "\(EvaluateLessonSupport.tableMethods.count)"]) { $1 }))
    }
}

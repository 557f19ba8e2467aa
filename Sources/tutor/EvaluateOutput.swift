import Foundation
import Lessons
import MiniNet

/// The network of the data-randomisation test: the shipped file it was loaded from (nil when
/// it was trained during the evaluation), and the `tutor train` command that trains it.
struct ShuffledLabelsSource {
    let file: String?
    let command: String
}

/// What `tutor evaluate` writes: the tables for people, JSON and CSV for scripts, and the
/// plots. Every number comes from the `EvaluationReport`.
struct EvaluationOutput {
    let report: EvaluationReport
    let settings: EvaluationSettings
    let source: PictureSource
    let sanity: SanityChoice
    let shuffledLabels: ShuffledLabelsSource?
    let modelDescription: String
    let seconds: Double
    let classifier: ImageClassifier

    // MARK: Names

    /// The key of a metric in JSON and CSV: its id with "_" for "-" ("deletion_auc").
    static func key(_ metric: EvaluationMetric) -> String { metric.rawValue.replacingOccurrences(of: "-", with: "_") }

    static func key(_ curve: EvaluationCurve) -> String { curve.rawValue.replacingOccurrences(of: "-", with: "_") }

    /// A curve's name in a plot's legend: a method's id as it is, a control with what it is.
    static func legend(_ method: MethodEvaluation) -> String {
        switch method.id {
        case EvaluatedMap.randomControlID: return translated("random (control)")
        case EvaluatedMap.edgeControlID: return translated("edges (control)")
        default: return method.id
        }
    }

    /// ↑ higher is better, ↓ lower, →0 nearer 0.
    static func arrow(_ metric: EvaluationMetric) -> String {
        switch metric.better {
        case .higher: return "↑"
        case .lower: return "↓"
        case .nearerZero: return "→0"
        }
    }

    static func familyTitle(_ family: EvaluationMetric.Family) -> String {
        switch family {
        case .faithfulness: return translated("Faithfulness: does the map point at what the network uses?")
        case .localisation: return translated("Localisation: does the map fall on the object?")
        case .sanity: return translated("Sanity checks: does the map change when the network is destroyed?")
        }
    }

    /// A mean as the tables show it: percentages with one decimal, the rest with three.
    static func formatted(_ value: Double?, _ metric: EvaluationMetric) -> String {
        guard let value else { return "–" }
        switch metric {
        case .averageDrop, .increaseInConfidence: return String(format: "%.1f", value)
        default: return String(format: "%.3f", value)
        }
    }

    // MARK: Tables

    func tables(color: Bool, width: Int, plotFiles: [String], csv: String?) -> String {
        let notebook = Notebook(lesson: "evaluate", title: translated("tutor evaluate: {$1} beside the controls random and edges, on {$2}",
                                                                      with: report.methods.filter { !$0.isControl }.map(\.id).joined(separator: ", "),
                                                                      pictureDescription))
        notebook.add(.prose(setupDescription))
        for family in EvaluationMetric.Family.allCases {
            let metrics = report.metrics.filter { $0.family == family }
            guard !metrics.isEmpty else { continue }
            let rows = metrics.map { metric -> [String] in
                let means = report.methods.map { $0.summary(metric)?.mean }
                // The best of the methods (not of the controls), named in the last column.
                let candidates = report.methods.indices.filter { !report.methods[$0].isControl && means[$0] != nil }
                let bestValue = candidates.map { means[$0]! }.min { metric.isBetter($0, than: $1) }
                // Every method that reaches the best value as shown (ties named together).
                let best = candidates.filter { Self.formatted(means[$0], metric) == Self.formatted(bestValue, metric) }
                // A method is worth naming only where it beats both controls; where the better
                // control does as well (as shown) or better, the column names that control.
                let controls = report.methods.indices.filter { report.methods[$0].isControl && means[$0] != nil }
                let bestControl = controls.min { metric.isBetter(means[$0]!, than: means[$1]!) }
                let controlDoesAsWell = bestValue.flatMap { value in bestControl.map { control in
                    metric.isBetter(means[control]!, than: value) || Self.formatted(means[control], metric) == Self.formatted(value, metric)
                } } ?? false
                let named = best.isEmpty ? "–"
                    : controlDoesAsWell ? translated("none beats {$1}", with: report.methods[bestControl!].id)
                    : best.map { report.methods[$0].id }.joined(separator: ", ")
                return [translated(metric.title) + " " + Self.arrow(metric)] + means.map { Self.formatted($0, metric) } + [named]
            }
            notebook.add(.table(title: Self.familyTitle(family),
                                headers: [translated("metric (mean over the pictures)")] + report.methods.map(\.id) + [translated("best method")],
                                rows: rows, limit: nil))
        }
        notebook.add(.prose(readingNotes))
        if !report.metrics.contains(where: { $0.family == .localisation }) {
            notebook.add(.prose(translated("Localisation needs the object's mask: give --mask with the picture, or evaluate on --dataset shapes.")))
        }
        if report.metrics.contains(where: { $0.family == .sanity }), sanityPictureCount < report.pictureCount {
            notebook.add(.prose(translated("The sanity checks ran on the first {$1} of the {$2} pictures (--sanity-count).",
                                           with: sanityPictureCount, report.pictureCount)))
        }
        if !report.cascadeSteps.isEmpty {
            notebook.add(.prose(translated("The cascade randomised, from the top, {$1}.",
                                           with: report.cascadeSteps.map(\.name).joined(separator: ", "))))
        }
        let checkRows = report.checks.entries.map { entry -> [String] in
            [translated(entry.name), "\(entry.count)", "\(entry.failed)", String(format: "%.2f", entry.tightest.usedFraction)]
        }
        if !checkRows.isEmpty {
            notebook.add(.table(title: translated("Identities checked"),
                                headers: [translated("identity"), translated("times checked"), translated("times failed"), translated("most tolerance used")],
                                rows: checkRows, limit: nil))
            notebook.add(.prose(translated("Each identity must hold within a tolerance from the float32 error model; the last column is the largest |Δ|/tolerance it reached (above 1 it fails).")))
        }
        var closing = [translated("Evaluated in {$1} s.", with: String(format: "%.1f", seconds))]
        if let csv { closing.append(translated("CSV written to {$1}.", with: csv)) }
        if !plotFiles.isEmpty { closing.append(translated("Plots written: {$1}.", with: plotFiles.joined(separator: ", "))) }
        notebook.add(.prose(closing.joined(separator: " ")))
        // The renderer closes a lesson with a count of its checks; an evaluation counts its own.
        var pieces: [String] = []
        TerminalRenderer(color: color, width: width).render(notebook) { pieces.append($0) }
        return pieces.dropLast().joined()
    }

    /// The pictures the sanity checks ran on.
    var sanityPictureCount: Int { Swift.min(settings.sanityPictures ?? report.pictureCount, report.pictureCount) }

    var pictureDescription: String {
        switch source {
        case let .shapes(_, count): return translated("{$1} pictures of the shapes validation set", with: count)
        case let .picture(path, _, _): return path
        }
    }

    /// What was evaluated, how, and with which conventions.
    var setupDescription: String {
        let targetRule: String
        switch source {
        case let .shapes(seed, _):
            targetRule = translated("Pictures: the shapes validation set (seed {$1}); each explains its true class.", with: seed)
        case let .picture(_, _, target):
            targetRule = translated("The picture explains the predicted class, {$1} ({$2}).", with: target, classifier.classNames[target])
        }
        let scoreRule = settings.score == .probability
            ? translated("Faithfulness follows the softmax probability of that class.")
            : translated("Faithfulness follows the logit of that class.")
        var description = translated("Network: {$1}.", with: modelDescription) + " " + targetRule + " " + scoreRule
        if let shuffledLabels {
            description += " " + (shuffledLabels.file.map {
                translated("The network trained on shuffled labels: {$1}, which `{$2}` writes.", with: $0, shuffledLabels.command)
            } ?? translated("The network trained on shuffled labels was trained here, as `{$1}` trains it.", with: shuffledLabels.command))
        }
        return description
    }

    var readingNotes: String {
        translated("↑ higher is better, ↓ lower is better, →0 nearer 0 is better. A method shows something only where it beats both controls: random (independent uniform values, seed {$1}) and edges (the Sobel edges of the picture).",
                   with: settings.seed)
    }

    // MARK: CSV

    /// One row per map and metric: the mean, its standard error and how many pictures it is over.
    func csv() -> String {
        var lines = ["method,role,family,metric,mean,standard_error,count,better"]
        for method in report.methods {
            for metric in report.metrics {
                guard let summary = method.summary(metric) else { continue }
                let fields = [method.id, method.isControl ? "control" : "method", metric.family.rawValue, metric.rawValue,
                              summary.mean.map { "\($0)" } ?? "", summary.standardError.map { "\($0)" } ?? "",
                              "\(summary.count)", metric.better.rawValue]
                lines.append(fields.map(Self.csvField).joined(separator: ","))
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A field quoted when it holds a comma, a quote or a line break (RFC 4180).
    static func csvField(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    // MARK: JSON

    func json(plotFiles: [String], csv: String?) -> JSONOutput {
        func number(_ value: Double?) -> JSONOutput { value.map { .double($0) } ?? .null }
        var pictures: [(String, JSONOutput)]
        switch source {
        case let .shapes(seed, count):
            pictures = [("source", .string("shapes")), ("split", .string("validation")), ("seed", .string("\(seed)")), ("count", .integer(count)),
                        ("target", .string("true class"))]
        case let .picture(path, mask, target):
            pictures = [("source", .string("picture")), ("path", .string(path)), ("mask", mask.map { .string($0) } ?? .null),
                        ("count", .integer(1)), ("target", .string("predicted class")), ("class", .integer(target)),
                        ("label", .string(classifier.classNames[target]))]
        }
        let methods = report.methods.map { method -> JSONOutput in
            var members: [(String, JSONOutput)] = [("id", .string(method.id)), ("role", .string(method.isControl ? "control" : "method"))]
            members.append(("metrics", .object(report.metrics.compactMap { metric in
                method.summary(metric).map { summary in
                    (Self.key(metric), .object([("mean", number(summary.mean)), ("standard_error", number(summary.standardError)),
                                                ("count", .integer(summary.count)), ("better", .string(metric.better.rawValue))]))
                }
            })))
            members.append(("curves", .object(EvaluationCurve.allCases.compactMap { curve in
                method.curves[curve].map { (Self.key(curve), .object([("x", .doubles($0.x)), ("mean", .doubles($0.y))])) }
            })))
            if !method.cascade.isEmpty {
                members.append(("cascade", .array(method.cascade.map { step in .object([
                    ("step", .string(step.step.name)), ("layers", .array(step.step.layers.map { .string($0) })),
                    ("spearman_abs", number(step.rankCorrelationOfAbsolute)), ("spearman", number(step.rankCorrelation)),
                    ("ssim", number(step.structuralSimilarity)),
                ]) })))
            }
            members.append(("per_picture", .object(report.metrics.compactMap { metric in
                method.values[metric].map { (Self.key(metric), .array($0.map(number))) }
            })))
            return .object(members)
        }
        let checks: JSONOutput = .object([
            ("count", .integer(report.checks.count)), ("failed", .integer(report.checks.failedCount)),
            ("by_name", .array(report.checks.entries.map { entry in .object([
                ("name", .string(entry.name)), ("count", .integer(entry.count)), ("failed", .integer(entry.failed)),
                ("largest_used_fraction", .double(entry.tightest.usedFraction)),
            ]) })),
            ("failures", .array(report.checks.failures.map { failure in .object([
                ("place", .string(failure.place)), ("name", .string(failure.check.name)),
                ("left_label", .string(failure.check.leftLabel)), ("left", .double(failure.check.left)),
                ("right_label", .string(failure.check.rightLabel)), ("right", .double(failure.check.right)),
                ("residual", .double(failure.check.residual)), ("tolerance", .double(failure.check.tolerance)),
                ("tolerance_formula", .string(failure.check.model?.description ?? "")),
            ]) })),
        ])
        return .object([
            ("model", .string(modelDescription)),
            ("pictures", .object(pictures)),
            ("settings", .object([
                ("score", .string(settings.score.rawValue)), ("seed", .string("\(settings.seed)")),
                ("pointing_tolerance", .integer(settings.pointingTolerance)),
                ("sanity", .string(sanity.rawValue)), ("sanity_pictures", .integer(sanityPictureCount)),
                ("cascade_granularity", .string(SanityChecks.Granularity.blocks.rawValue)),
                ("shuffled_labels_network", shuffledLabels.map { .string($0.file ?? "trained") } ?? .null),
                ("shuffled_labels_command", shuffledLabels.map { .string($0.command) } ?? .null),
            ])),
            ("metrics", .array(report.metrics.map { .string(Self.key($0)) })),
            ("methods", .array(methods)),
            ("cascade_steps", .array(report.cascadeSteps.map { .string($0.name) })),
            ("checks", checks),
            ("csv", csv.map { .string($0) } ?? .null),
            ("plots", .array(plotFiles.map { .string($0) })),
            ("seconds", .double(seconds)),
        ])
    }
}

// MARK: Plots

extension EvaluationOutput {
    /// Draws the mean curves into `folder` (created if needed) and returns the files written:
    /// deletion.png and insertion.png, and with the cascade cascade-ssim.png and
    /// cascade-spearman.png.
    /// Every name `writePlots` may give a file.
    static let plotFileNames: Set<String> = ["deletion.png", "insertion.png", "cascade-ssim.png", "cascade-spearman.png"]

    func writePlots(into folder: String) throws -> [String] {
        do { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) } catch {
            throw MiniNetError.file(folder, "cannot create the folder")
        }
        var written: [String] = []
        func write(_ plot: CurvePlot, _ name: String) throws {
            let path = URL(fileURLWithPath: folder).appendingPathComponent(name).path
            try plot.write(to: path)
            written.append(path)
        }
        let scoreLabel = settings.score == .probability ? translated("mean probability of the class") : translated("mean logit of the class")
        let curves: [(EvaluationCurve, String, String, String)] = [
            (.deletion, "deletion.png", translated("Deletion: the most relevant pixels first (lower is better)"), translated("fraction of the pixels deleted")),
            (.insertion, "insertion.png", translated("Insertion: the most relevant pixels first (higher is better)"), translated("fraction of the pixels inserted")),
        ]
        for (curve, file, title, xLabel) in curves {
            var plot = CurvePlot(title: title, xLabel: xLabel, yLabel: scoreLabel)
            plot.series = report.methods.compactMap { method in
                method.curves[curve].map { CurvePlot.Series(label: Self.legend(method), x: $0.x, y: $0.y, isControl: method.isControl) }
            }
            if !plot.series.isEmpty { try write(plot, file) }
        }
        if !report.cascadeSteps.isEmpty {
            let measures: [(String, String, (CascadeStepSummary) -> Double?)] = [
                ("cascade-ssim.png", "SSIM", { $0.structuralSimilarity }),
                ("cascade-spearman.png", translated("Spearman ρ of |maps|"), { $0.rankCorrelationOfAbsolute }),
            ]
            for (file, measure, value) in measures {
                var plot = CurvePlot(title: translated("Cascading randomisation: {$1} of each map with the trained network's map", with: measure),
                                     xLabel: translated("layers randomised, from the top down"), yLabel: measure)
                plot.categories = report.cascadeSteps.map(\.name)
                plot.series = report.methods.map { method in
                    let points = method.cascade.enumerated().compactMap { step, summary in value(summary).map { (Double(step), $0) } }
                    return CurvePlot.Series(label: Self.legend(method), x: points.map(\.0), y: points.map(\.1), isControl: method.isControl)
                }
                try write(plot, file)
            }
        }
        return written
    }
}

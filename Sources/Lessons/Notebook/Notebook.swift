import Foundation
import MiniNet

/// A lesson as a literate notebook: numbered steps of prose, formulas, tensors, tables,
/// pictures and checks. A lesson only *builds* a notebook; renderers turn it into terminal
/// text (`TerminalRenderer`), a Markdown page with PNG pictures (`MarkdownRenderer`) or
/// JSON (`JSONRenderer`), so every lesson looks the same everywhere.
///
///     let text = try LessonText(lesson: "grad-cam")
///     let notebook = Notebook(lesson: "grad-cam", title: text("title"))
///     notebook.step(text("weights.title"))
///     notebook.prose(text("weights.intro", ["layer": layerName]))
///     notebook.math("αᶜₖ = (1/Z) Σᵢ Σⱼ ∂yᶜ/∂Aᵏᵢⱼ",
///                   latex: #"\alpha_k^c = \frac{1}{Z}\sum_i\sum_j \frac{\partial y^c}{\partial A^k_{ij}}"#)
///     notebook.tensor("α", weights, caption: "one weight per feature map")     // [K]
///     notebook.check(.equal("S_c = Σ M_c", "S_c", score, "Σ M_c", camSum, tolerance: 1e-5))
///     notebook.picture("Where the network looks", [
///         .image("input", photo), .heatmap("Grad-CAM", cam), .overlay("overlay", heatmap: cam, on: photo)])
///
/// Cells added before the first `step(_:)` form an unnumbered introduction (step 0).
///
/// Every text a cell gets is put into the reader's language as it is added (`translated`):
/// prose comes translated from the lesson's text files, and the short texts code writes
/// (table headers, the sides of a check) through the phrase book, so renderers print what
/// they are given.
public final class Notebook {
    /// A short identifier, e.g. "grad-cam"; names the files a renderer writes.
    public let lesson: String
    public let title: String
    public private(set) var steps: [Step] = []
    /// What the lesson ran on (network, picture, class, layer, seed, language), for `--json`:
    /// enough to run it again and get the same numbers. Empty when the caller did not say.
    public var run: [(String, JSONOutput)] = []

    public init(lesson: String, title: String) {
        self.lesson = lesson
        self.title = title
    }

    /// Starts the next numbered step (1, 2, …); later cells belong to it.
    ///
    /// - Parameter id: a name for the step that does not change when steps are added or left
    ///   out, e.g. "gradcam.weights": step numbers differ between models (a ResNet has steps the
    ///   small CNN has not), so homework hints name steps by id. Unique within a notebook.
    public func step(_ title: String, id: String? = nil) {
        Notebook.reportStepTime(id ?? title)
        let number = (steps.last?.number ?? 0) + 1
        steps.append(Step(number: number, title: translated(title), id: id, cells: []))
    }

    /// With TUTOR_STEP_TIMES set, `step` writes to stderr how long the lesson took since the
    /// previous step began (or since start-up), the process's peak resident memory so far, and
    /// the heap's bytes in use and held (`MiniNet.heapUsage`):
    /// the work a lesson does before a step's heading, for finding the slow or large part of a
    /// lesson on a large network. A developer's tool, in English.
    nonisolated(unsafe) static var lastStepTime = Date()

    /// The step-time line of `label` (a step's id, or "end" after the last step's work).
    static func reportStepTime(_ label: String) {
        guard ProcessInfo.processInfo.environment["TUTOR_STEP_TIMES"] != nil else { return }
        let now = Date()
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        let (inUse, held) = MiniNet.heapUsage
        fputs("step-time \(label): \(String(format: "%.3f", now.timeIntervalSince(lastStepTime))) s since the previous step, "
              + "peak \(usage.ru_maxrss / 1024) MB, heap \(inUse >> 20) MB in use of \(held >> 20) MB held\n", stderr)
        lastStepTime = now
    }

    /// The step with this stable id, or nil.
    public func step(id: String) -> Step? {
        steps.first { $0.id == id }
    }

    public func add(_ cell: Cell) {
        if steps.isEmpty { steps.append(Step(number: 0, title: "", id: nil, cells: [])) }
        steps[steps.count - 1].cells.append(cell)
    }

    public func heading(_ text: String) { add(.heading(translated(text))) }

    public func prose(_ text: String) { add(.prose(translated(text))) }

    /// - Parameters:
    ///   - unicode: for terminals, e.g. "Lᶜ = ReLU(Σₖ αᶜₖ Aᵏ)".
    ///   - latex: for Markdown, without `$$`, e.g. `L^c = \mathrm{ReLU}(\sum_k \alpha_k^c A^k)`.
    public func math(_ unicode: String, latex: String) { add(.math(unicode: unicode, latex: latex)) }

    public func tensor(_ name: String, _ value: Tensor, caption: String? = nil) {
        add(.tensor(name: name, value: value, caption: caption.map(translated)))
    }

    /// - Parameters:
    ///   - rows: each as many entries as `headers`; numbers already formatted.
    ///   - limit: which rows people see when there are many (JSON keeps them all); without
    ///     one, a table over 20 rows shows its first and last 6.
    ///   - dataColumns: columns whose cells are data of the model, class names, kept as they
    ///     are: ImageNet has classes named "rule" and "mask", words the phrase book translates.
    public func table(_ title: String? = nil, headers: [String], rows: [[String]], limit: RowLimit? = nil,
                      dataColumns: Set<Int> = []) {
        let cells = rows.map { row in row.enumerated().map { dataColumns.contains($0.offset) ? $0.element : translated($0.element) } }
        add(.table(title: title.map(translated), headers: headers.map(translated), rows: cells, limit: limit))
    }

    public func picture(_ picture: Picture) {
        var picture = picture
        picture.title = translated(picture.title)
        for index in picture.panels.indices { picture.panels[index].caption = translated(picture.panels[index].caption) }
        add(.picture(picture))
    }

    public func picture(_ title: String, _ panels: [Panel]) { picture(Picture(title: title, panels: panels)) }

    /// Adds the check and returns whether it passed.
    @discardableResult
    public func check(_ check: Check) -> Bool {
        add(.check(check.inReadersLanguage))
        return check.ok
    }

    /// Every check, in order.
    public var checks: [Check] {
        steps.flatMap { step in
            step.cells.compactMap { cell -> Check? in
                if case let .check(check) = cell { return check }
                return nil
            }
        }
    }

    /// True when every check passed (also when there are none).
    public var allChecksPass: Bool { checks.allSatisfy(\.ok) }
}

/// A numbered step of a notebook. Step 0 (untitled) holds cells added before the first step.
public struct Step: Sendable {
    public let number: Int
    public let title: String
    /// The stable id, e.g. "gradcam.weights" (see `Notebook.step(_:id:)`); nil for step 0.
    public let id: String?
    public var cells: [Cell]
}

/// One piece of a notebook.
public enum Cell: Sendable {
    /// A sub-heading inside a step.
    case heading(String)
    /// Paragraphs of text; a blank line separates paragraphs, lines starting with "- " are
    /// bullets, `backticks` mark code.
    case prose(String)
    /// A formula: Unicode for terminals (`∂yᶜ/∂Aᵏ`, `Σ`, `α`), LaTeX for Markdown.
    case math(unicode: String, latex: String)
    /// A named tensor, printed with `Tensor.formatted`.
    case tensor(name: String, value: Tensor, caption: String?)
    case table(title: String?, headers: [String], rows: [[String]], limit: RowLimit?)
    case picture(Picture)
    case check(Check)
}

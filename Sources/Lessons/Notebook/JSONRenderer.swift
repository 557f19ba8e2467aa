import Foundation
import MiniNet

/// Renders a notebook as JSON, for programs (tests, graders, other front ends).
///
///     {
///       "all_checks_pass": true,
///       "checks": [ …every check, as in the cells… ],
///       "lesson": "engine-demo",
///       "run": { "weights": "models/mininet.safetensors", "image": null, "class": null, "layer": null,
///                "seed": "7", "language": "en", "every_pass": false },
///       "steps": [ { "number": 1, "id": "engine-demo.features", "title": "…", "cells": [
///           { "kind": "prose", "text": "…" },
///           { "kind": "math", "unicode": "…", "latex": "…" },
///           { "kind": "tensor", "name": "A", "caption": "…", "shape": [2, 6, 6], "data": [ … ] },
///           { "kind": "table", "title": "…", "headers": [ … ], "rows": [[ … ]] },
///           { "kind": "picture", "title": "…", "panels": [
///               { "caption": "…", "content": "heatmap", "color_map": "jet",
///                 "heatmap": { "name": "…", "shape": [6, 6], "data": [ … ] } } ] },
///           { "kind": "check", "name": "…", "left_label": "…", "left": 1.0, "right_label": "…",
///             "right": 1.0, "residual": 0.0, "tolerance": 1e-06, "ok": true } ] } ],
///       "title": "…"
///     }
///
/// Written by `JSONOutput`, the one JSON writer of `tutor`: keys are sorted and numbers are
/// printed in their shortest exact form, so the same notebook always gives the same bytes. NaN
/// and infinities (never valid JSON) become null.
public struct JSONRenderer: NotebookRenderer {
    /// Indented, one value per line; otherwise one line.
    public var pretty: Bool

    public init(pretty: Bool = true) {
        self.pretty = pretty
    }

    public func render(_ notebook: Notebook) throws -> String {
        let document: JSONOutput = .sortedObject([
            "lesson": .string(notebook.lesson),
            "title": .string(notebook.title),
            "all_checks_pass": .bool(notebook.allChecksPass),
            "run": notebook.run.isEmpty ? .null : .sortedObject(Dictionary(notebook.run) { first, _ in first }),
            "checks": .array(notebook.checks.map(Self.value)),
            "steps": .array(notebook.steps.map { step in
                .sortedObject([
                    "number": .integer(step.number),
                    "id": step.id.map(JSONOutput.string) ?? .null,
                    "title": .string(step.title),
                    "cells": .array(step.cells.map(Self.value)),
                ])
            }),
        ])
        return (pretty ? document.rendered() : document.renderedCompactly()) + "\n"
    }

    static func value(_ cell: Cell) -> JSONOutput {
        switch cell {
        case let .heading(text):
            return .sortedObject(["kind": .string("heading"), "text": .string(text)])
        case let .prose(text):
            return .sortedObject(["kind": .string("prose"), "text": .string(text)])
        case let .math(unicode, latex):
            return .sortedObject(["kind": .string("math"), "unicode": .string(unicode), "latex": .string(latex)])
        case let .tensor(name, tensor, caption):
            var object = tensorObject(name: name, tensor)
            object["kind"] = .string("tensor")
            object["caption"] = caption.map(JSONOutput.string) ?? .null
            return .sortedObject(object)
        case let .table(title, headers, rows, _):
            return .sortedObject([
                "kind": .string("table"),
                "title": title.map(JSONOutput.string) ?? .null,
                "headers": .array(headers.map(JSONOutput.string)),
                "rows": .array(rows.map { .array($0.map(JSONOutput.string)) }),
            ])
        case let .picture(picture):
            return .sortedObject([
                "kind": .string("picture"),
                "title": .string(picture.title),
                "panels": .array(picture.panels.map(panelValue)),
            ])
        case let .check(check):
            return value(check)
        }
    }

    static func panelValue(_ panel: Panel) -> JSONOutput {
        var object: [String: JSONOutput] = ["caption": .string(panel.caption)]
        switch panel.content {
        case let .image(image):
            object["content"] = .string("image")
            object["width"] = .integer(image.width)
            object["height"] = .integer(image.height)
        case let .heatmap(heatmap, map):
            object["content"] = .string("heatmap")
            object["color_map"] = .string(map.rawValue)
            object["heatmap"] = .sortedObject(tensorObject(name: panel.caption, heatmap))
        case let .overlay(heatmap, map, image):
            object["content"] = .string("overlay")
            object["color_map"] = .string(map.rawValue)
            object["heatmap"] = .sortedObject(tensorObject(name: panel.caption, heatmap))
            object["width"] = .integer(image.width)
            object["height"] = .integer(image.height)
        }
        return .sortedObject(object)
    }

    /// A check as every JSON output writes it (lesson pages, `tutor explain --json`): both
    /// sides with their labels, the residual, the tolerance and the error model behind it.
    public static func value(_ check: Check) -> JSONOutput {
        var object: [String: JSONOutput] = [
            "kind": .string("check"),
            "name": .string(check.name),
            "left_label": .string(check.leftLabel),
            "left": .double(check.left),
            "right_label": .string(check.rightLabel),
            "right": .double(check.right),
            "residual": .double(check.residual),
            "tolerance": .double(check.tolerance),
            "truth": .bool(check.kind == .truth),
            "ok": .bool(check.ok),
            "coarse": .bool(check.isCoarse),
        ]
        if let note = check.note { object["note"] = .string(note) }
        if let model = check.model {
            object["tolerance_model"] = .sortedObject([
                "formula": .string(model.description),
                "parts": .array(model.parts.map { part in
                    .sortedObject(["n": .integer(part.count), "sum_abs_terms": .double(part.magnitude),
                             "largest_term": .double(part.largestTerm), "depth": .integer(part.depth),
                             "safety": .double(part.safety), "value": .double(part.value)])
                }),
                "extra": .double(model.extra),
            ].merging(model.extraReason.map { ["extra_reason": JSONOutput.string($0)] } ?? [:]) { a, _ in a })
        }
        return .sortedObject(object)
    }

    static func tensorObject(name: String, _ tensor: Tensor) -> [String: JSONOutput] {
        [
            "name": .string(name),
            "shape": .array(tensor.shape.map(JSONOutput.integer)),
            "data": .array(tensor.data.map(JSONOutput.float)),
        ]
    }
}

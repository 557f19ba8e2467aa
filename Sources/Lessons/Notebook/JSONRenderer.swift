import Foundation
import MiniNet

/// Renders a notebook as JSON, for programs (tests, graders, other front ends).
///
///     {
///       "all_checks_pass": true,
///       "checks": [ …every check, as in the cells… ],
///       "lesson": "engine-demo",
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
/// Keys are sorted and numbers are printed in their shortest exact form, so the same
/// notebook always gives the same bytes. NaN and infinities (never valid JSON) become null.
public struct JSONRenderer: NotebookRenderer {
    /// Indented, one value per line; otherwise one line.
    public var pretty: Bool

    public init(pretty: Bool = true) {
        self.pretty = pretty
    }

    public func render(_ notebook: Notebook) throws -> String {
        let document: JSONValue = .object([
            "lesson": .string(notebook.lesson),
            "title": .string(notebook.title),
            "all_checks_pass": .bool(notebook.allChecksPass),
            "checks": .array(notebook.checks.map(Self.value)),
            "steps": .array(notebook.steps.map { step in
                .object([
                    "number": .int(step.number),
                    "id": step.id.map(JSONValue.string) ?? .null,
                    "title": .string(step.title),
                    "cells": .array(step.cells.map(Self.value)),
                ])
            }),
        ])
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(document)
        guard let text = String(data: data, encoding: .utf8) else {
            throw MiniNetError.invalidArgument("notebook '\(notebook.lesson)': JSON output is not UTF-8")
        }
        return text + "\n"
    }

    static func value(_ cell: Cell) -> JSONValue {
        switch cell {
        case let .heading(text):
            return .object(["kind": .string("heading"), "text": .string(text)])
        case let .prose(text):
            return .object(["kind": .string("prose"), "text": .string(text)])
        case let .math(unicode, latex):
            return .object(["kind": .string("math"), "unicode": .string(unicode), "latex": .string(latex)])
        case let .tensor(name, tensor, caption):
            var object = tensorObject(name: name, tensor)
            object["kind"] = .string("tensor")
            object["caption"] = caption.map(JSONValue.string) ?? .null
            return .object(object)
        case let .table(title, headers, rows, _):
            return .object([
                "kind": .string("table"),
                "title": title.map(JSONValue.string) ?? .null,
                "headers": .array(headers.map(JSONValue.string)),
                "rows": .array(rows.map { .array($0.map(JSONValue.string)) }),
            ])
        case let .picture(picture):
            return .object([
                "kind": .string("picture"),
                "title": .string(picture.title),
                "panels": .array(picture.panels.map(panelValue)),
            ])
        case let .check(check):
            return value(check)
        }
    }

    static func panelValue(_ panel: Panel) -> JSONValue {
        var object: [String: JSONValue] = ["caption": .string(panel.caption)]
        switch panel.content {
        case let .image(image):
            object["content"] = .string("image")
            object["width"] = .int(image.width)
            object["height"] = .int(image.height)
        case let .heatmap(heatmap, map):
            object["content"] = .string("heatmap")
            object["color_map"] = .string(map.rawValue)
            object["heatmap"] = .object(tensorObject(name: panel.caption, heatmap))
        case let .overlay(heatmap, map, image):
            object["content"] = .string("overlay")
            object["color_map"] = .string(map.rawValue)
            object["heatmap"] = .object(tensorObject(name: panel.caption, heatmap))
            object["width"] = .int(image.width)
            object["height"] = .int(image.height)
        }
        return .object(object)
    }

    static func value(_ check: Check) -> JSONValue {
        var object: [String: JSONValue] = [
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
        ]
        if let note = check.note { object["note"] = .string(note) }
        if let model = check.model {
            object["tolerance_model"] = .object([
                "formula": .string(model.description),
                "parts": .array(model.parts.map { part in
                    .object(["n": .int(part.count), "sum_abs_terms": .double(part.magnitude),
                             "largest_term": .double(part.largestTerm), "depth": .int(part.depth),
                             "safety": .double(part.safety), "value": .double(part.value)])
                }),
                "extra": .double(model.extra),
            ].merging(model.extraReason.map { ["extra_reason": JSONValue.string($0)] } ?? [:]) { a, _ in a })
        }
        return .object(object)
    }

    static func tensorObject(name: String, _ tensor: Tensor) -> [String: JSONValue] {
        [
            "name": .string(name),
            "shape": .array(tensor.shape.map(JSONValue.int)),
            "data": .array(tensor.data.map(JSONValue.float)),
        ]
    }
}

/// A JSON document tree; objects are written with sorted keys by `JSONEncoder`.
enum JSONValue: Encodable {
    case string(String)
    case int(Int)
    case float(Float)
    case double(Double)
    case bool(Bool)
    case null
    case array([JSONValue])
    case object([String: JSONValue])

    func encode(to encoder: Encoder) throws {
        switch self {
        case let .array(values):
            var container = encoder.unkeyedContainer()
            for value in values { try container.encode(value) }
        case let .object(values):
            var container = encoder.container(keyedBy: Key.self)
            for (key, value) in values { try container.encode(value, forKey: Key(key)) }
        default:
            var container = encoder.singleValueContainer()
            switch self {
            case let .string(value): try container.encode(value)
            case let .int(value): try container.encode(value)
            case let .float(value): value.isFinite ? try container.encode(value) : try container.encodeNil()
            case let .double(value): value.isFinite ? try container.encode(value) : try container.encodeNil()
            case let .bool(value): try container.encode(value)
            default: try container.encodeNil()
            }
        }
    }

    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ string: String) { stringValue = string }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
}

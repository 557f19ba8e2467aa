import Foundation

/// Printing a tensor for a person to read.
///
///     tensor [2, 3, 4]  min -0.5120  max 1.2030  mean 0.0310
///       [0] =
///          0.1000  -0.5120   0.3000   0.0000
///          …
///
/// - Rank 0 prints the number, rank 1 one row, rank 2 a grid of rows and columns.
/// - Rank ≥ 3 prints, like PyTorch, one labelled 2-D grid per index of the leading axes:
///   a [C, H, W] tensor prints `[0] =`, `[1] =`, … one H×W grid per channel, and an
///   [N, C, H, W] tensor prints `[0, 0] =`, `[0, 1] =`, ….
/// - Every number has the same number of decimals and is right-aligned to one common
///   width, so decimal points and signs line up in columns.
/// - An axis longer than `maxPerAxis` shows only its first and last few entries; the
///   middle is elided with `…` along a row, `⋮` down a column or between blocks, and
///   `⋱` where an elided row meets an elided column.
extension Tensor: CustomStringConvertible {
    /// The summary form: header plus an elided body (at most 6 entries per axis).
    public var description: String { formatted() }

    /// The tensor as text: a header line with shape and statistics, then the values.
    ///
    /// - Parameters:
    ///   - precision: decimals printed for every number.
    ///   - full: print every value, however big the tensor.
    ///   - maxPerAxis: when not `full`, an axis longer than this shows its first
    ///     ⌈maxPerAxis/2⌉ and last ⌊maxPerAxis/2⌋ entries (at least 1 each).
    public func formatted(precision: Int = 4, full: Bool = false, maxPerAxis: Int = 6) -> String {
        let precision = Swift.max(0, Swift.min(precision, 12))
        var lines = [header(precision: precision)]
        guard count > 0 else { return lines[0] }

        // For each axis, the indices shown; `nil` marks where the elided middle goes.
        let shownIndices: [[Int?]] = shape.map { length in
            TensorLayout.shownIndices(length: length, full: full, maxPerAxis: maxPerAxis)
        }

        // One common column width over every value that will be printed.
        var width = 1
        TensorLayout.forEachShownOffset(tensor: self, shownIndices: shownIndices) { offset in
            width = Swift.max(width, TensorLayout.number(data[offset], precision: precision).count)
        }
        let cell = { (offset: Int) -> String in
            TensorLayout.padLeft(TensorLayout.number(self.data[offset], precision: precision), to: width)
        }
        let marker = { (symbol: String) -> String in TensorLayout.padLeft(symbol, to: width) }

        switch rank {
        case 0:
            lines.append("  " + TensorLayout.number(data[0], precision: precision))
        case 1:
            let row = shownIndices[0].map { index in index.map(cell) ?? marker("…") }
            lines.append("  " + row.joined(separator: "  "))
        default:
            // The leading axes choose a block; the last two axes are the block's rows and columns.
            let leadingAxes = rank - 2
            let blockSize = shape[rank - 2] * shape[rank - 1]
            let rowIndices = shownIndices[rank - 2]
            let columnIndices = shownIndices[rank - 1]
            let gridIndent = leadingAxes == 0 ? "  " : "    "

            func appendGrid(blockOffset: Int) {
                for row in rowIndices {
                    let cells: [String] = columnIndices.map { column in
                        switch (row, column) {
                        case let (row?, column?): return cell(blockOffset + row * shape[rank - 1] + column)
                        case (nil, nil): return marker("⋱")
                        case (nil, _): return marker("⋮")
                        case (_, nil): return marker("…")
                        }
                    }
                    lines.append(gridIndent + cells.joined(separator: "  "))
                }
            }

            if leadingAxes == 0 {
                appendGrid(blockOffset: 0)
            } else {
                for leading in TensorLayout.product(Array(shownIndices[0..<leadingAxes])) {
                    if let gapAxis = leading.firstIndex(where: { $0 == nil }) {
                        // Print one "⋮" line per elided run, at the axis that was elided.
                        let laterAxesAtStart = ((gapAxis + 1)..<leadingAxes).allSatisfy { axis in
                            leading[axis] == shownIndices[axis][0]
                        }
                        guard laterAxesAtStart else { continue }
                        let hidden = shape[gapAxis] - shownIndices[gapAxis].compactMap { $0 }.count
                        lines.append("  ⋮  (\(hidden) more along axis \(gapAxis))")
                        continue
                    }
                    let indices = leading.compactMap { $0 }
                    var blockIndex = 0
                    for (axis, index) in indices.enumerated() { blockIndex = blockIndex * shape[axis] + index }
                    lines.append("  [" + indices.map(String.init).joined(separator: ", ") + "] =")
                    appendGrid(blockOffset: blockIndex * blockSize)
                }
            }
        }
        return lines.joined(separator: "\n")
    }

    /// `tensor [2, 3, 4]  min -0.5120  max 1.2030  mean 0.0310` (NaN values are counted, not compared).
    private func header(precision: Int) -> String {
        let shapeText = "tensor [" + shape.map(String.init).joined(separator: ", ") + "]"
        guard count > 0 else { return shapeText + "  (empty)" }
        var smallest = Float.infinity
        var largest = -Float.infinity
        var total = 0.0
        var nanCount = 0
        for value in data {
            if value.isNaN { nanCount += 1; continue }
            smallest = Swift.min(smallest, value)
            largest = Swift.max(largest, value)
            total += Double(value)
        }
        let finiteCount = count - nanCount
        var text = shapeText
        if finiteCount > 0 {
            text += "  min " + TensorLayout.number(smallest, precision: precision)
            text += "  max " + TensorLayout.number(largest, precision: precision)
            text += "  mean " + TensorLayout.number(Float(total / Double(finiteCount)), precision: precision)
        }
        if nanCount > 0 { text += "  nan \(nanCount)" }
        return text
    }
}

/// Index bookkeeping for `Tensor.formatted`.
enum TensorLayout {
    static func shownIndices(length: Int, full: Bool, maxPerAxis: Int) -> [Int?] {
        let limit = Swift.max(2, maxPerAxis)
        if full || length <= limit { return Array(0..<length) }
        let head = (limit + 1) / 2
        let tail = limit / 2
        return Array(0..<head) + [nil] + Array((length - tail)..<length)
    }

    /// Every combination of one entry per list (the last list varies fastest).
    static func product(_ lists: [[Int?]]) -> [[Int?]] {
        var combinations: [[Int?]] = [[]]
        for list in lists {
            combinations = combinations.flatMap { prefix in list.map { prefix + [$0] } }
        }
        return combinations
    }

    /// Calls `body` with the data offset of every value that will be printed.
    static func forEachShownOffset(tensor: Tensor, shownIndices: [[Int?]], _ body: (Int) -> Void) {
        let strides = tensor.strides
        func visit(axis: Int, offset: Int) {
            if axis == tensor.rank { body(offset); return }
            for index in shownIndices[axis] {
                if let index { visit(axis: axis + 1, offset: offset + index * strides[axis]) }
            }
        }
        visit(axis: 0, offset: 0)
    }

    /// Fixed decimals; a value that rounds to zero prints without a minus sign.
    static func number(_ value: Float, precision: Int) -> String {
        if value.isNaN { return "nan" }
        if value.isInfinite { return value > 0 ? "inf" : "-inf" }
        let text = String(format: "%.\(precision)f", Double(value))
        if text.hasPrefix("-"), text.dropFirst().allSatisfy({ $0 == "0" || $0 == "." }) {
            return String(text.dropFirst())
        }
        return text
    }

    static func padLeft(_ text: String, to width: Int) -> String {
        let missing = width - text.count
        return missing > 0 ? String(repeating: " ", count: missing) + text : text
    }
}

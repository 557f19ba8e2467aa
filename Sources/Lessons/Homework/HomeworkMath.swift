// The little arithmetic the exercise generators share. Maps are [[Double]] rows (H×W),
// small enough to be worked by hand.

enum HomeworkMath {
    /// Σ over all cells.
    static func sum(_ map: [[Double]]) -> Double { map.joined().reduce(0, +) }

    /// (1/Z) Σ over all cells, Z = number of cells.
    static func mean(_ map: [[Double]]) -> Double { sum(map) / Double(map.joined().count) }

    /// The cells row by row, the order in which a map is written as an answer.
    static func flatten(_ map: [[Double]]) -> [Double] { Array(map.joined()) }

    /// Σ_k weights[k] · maps[k], cell by cell.
    static func weightedSum(_ maps: [[[Double]]], _ weights: [Double]) -> [[Double]] {
        var result = maps[0].map { $0.map { _ in 0.0 } }
        for (map, weight) in zip(maps, weights) {
            for row in map.indices {
                for column in map[row].indices { result[row][column] += weight * map[row][column] }
            }
        }
        return result
    }

    static func relu(_ value: Double) -> Double { max(0, value) }

    static func relu(_ map: [[Double]]) -> [[Double]] { map.map { $0.map(relu) } }

    /// Σ_i a_i · b_i
    static func dot(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }

    /// Index of the largest value, or nil when it is shared (a question needs one clear answer).
    static func uniqueArgmax(_ values: [Double]) -> Int? {
        guard let best = values.max() else { return nil }
        let winners = values.indices.filter { values[$0] == best }
        return winners.count == 1 ? winners[0] : nil
    }
}

/// Arithmetic written out, not evaluated, for the first step of a worked hint: the student
/// sees their own numbers in place and does the arithmetic that gives the answer.
enum WorkedText {
    /// A number as a term: negative numbers in parentheses, "(-1)", so that "2 · (-1)" reads right.
    static func term(_ value: Double) -> String {
        value < 0 ? "(\(formatNumber(value)))" : formatNumber(value)
    }

    /// "1 + 0 + (-2)"
    static func sum(_ values: [Double]) -> String {
        values.map(term).joined(separator: " + ")
    }

    /// "2 · 3 + (-1) · 4"
    static func products(_ a: [Double], _ b: [Double]) -> String {
        zip(a, b).map { "\(term($0)) · \(term($1))" }.joined(separator: " + ")
    }

    /// "[1, 2, 3]"
    static func list(_ values: [Double]) -> String {
        "[" + values.map(formatNumber).joined(separator: ", ") + "]"
    }
}

extension HomeworkMath {
    /// The largest cell (what max pooling keeps).
    static func largest(_ map: [[Double]]) -> Double { map.joined().max() ?? 0 }

    /// The map with `value` added to every cell.
    static func adding(_ value: Double, to map: [[Double]]) -> [[Double]] { map.map { $0.map { $0 + value } } }

    /// Σ_k ReLU(weights[k] · maps[k]): the ReLU applied to each weighted map before the sum.
    static func sumOfReLUs(_ maps: [[[Double]]], _ weights: [Double]) -> [[Double]] {
        var result = maps[0].map { $0.map { _ in 0.0 } }
        for (map, weight) in zip(maps, weights) {
            for row in map.indices {
                for column in map[row].indices { result[row][column] += relu(weight * map[row][column]) }
            }
        }
        return result
    }

    /// Index of the smallest value, or nil when it is shared.
    static func uniqueArgmin(_ values: [Double]) -> Int? { uniqueArgmax(values.map { -$0 }) }
}

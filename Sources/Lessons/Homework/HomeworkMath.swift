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

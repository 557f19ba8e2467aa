import Foundation

/// How much of a long table people see. A ResNet has 1000 classes and 512 channels; a page
/// or a terminal shows the rows that matter and says how many it leaves out, `--verbose`
/// shows every row, and JSON always holds every row.
///
///     notebook.table("Scores", headers: ["c", "class", "z_c"], rows: rows,
///                    limit: .ranked(byColumn: 2, keeping: [target]))     // the 10 largest z_c
///     notebook.table("Ledger", headers: …, rows: rows)                  // > 20 rows: first and last 6
public struct RowLimit: Sendable, Equatable {
    public enum Order: Sendable, Equatable {
        /// The first and last rows in the lesson's order; the middle is left out.
        case asGiven
        /// The rows with the largest numbers in this column, largest first.
        case largest(column: Int)
        /// The rows with the largest magnitudes (|value|) in this column, largest first.
        case largestMagnitude(column: Int)
    }

    /// Rows shown, besides the pinned ones.
    public var shown: Int
    public var order: Order
    /// Rows (indices into the table's rows) shown whatever their rank, such as the explained class.
    public var pinned: [Int]

    public init(shown: Int = 10, order: Order = .asGiven, pinned: [Int] = []) {
        self.shown = Swift.max(1, shown)
        self.order = order
        self.pinned = pinned
    }

    /// The `shown` rows with the largest numbers in `column`, and the rows in `pinned`.
    public static func ranked(byColumn column: Int, shown: Int = 10, keeping pinned: [Int] = []) -> RowLimit {
        RowLimit(shown: shown, order: .largest(column: column), pinned: pinned)
    }

    /// The `shown` rows with the largest |number| in `column`, and the rows in `pinned`.
    public static func ranked(byMagnitudeOf column: Int, shown: Int = 10, keeping pinned: [Int] = []) -> RowLimit {
        RowLimit(shown: shown, order: .largestMagnitude(column: column), pinned: pinned)
    }

    /// What a table longer than `automaticThreshold` rows without a limit of its own shows.
    public static let automatic = RowLimit(shown: 12, order: .asGiven)
    public static let automaticThreshold = 20
}

/// The rows of a table that a renderer shows, in order, with the gaps where rows are left out.
struct ShownRows {
    enum Entry: Equatable {
        case row([String])
        /// This many rows left out here.
        case gap(Int)
    }

    var entries: [Entry]
    /// Rows left out in all.
    var hidden: Int
    var total: Int
    /// How the rows are ranked when they are: "z_c", or "|wᶜₖ|" for magnitudes.
    var rankedBy: String?

    /// Every row, or (not `verbose`) those `limit` keeps (`RowLimit.automatic` for a table over
    /// 20 rows with no limit). Hiding a single row saves nothing, so it is shown.
    init(headers: [String], rows: [[String]], limit: RowLimit?, verbose: Bool) {
        total = rows.count
        rankedBy = nil
        let limit = limit ?? (rows.count > RowLimit.automaticThreshold ? RowLimit.automatic : nil)
        let pinned = Set((limit?.pinned ?? []).filter { rows.indices.contains($0) })
        guard let limit, !verbose, rows.count > limit.shown + pinned.count + 1 else {
            entries = rows.map(Entry.row)
            hidden = 0
            return
        }
        switch limit.order {
        case .asGiven:
            let head = (limit.shown + 1) / 2
            let kept = Set(0..<head).union((rows.count - limit.shown / 2)..<rows.count).union(pinned)
            var entries: [Entry] = []
            var skipped = 0
            for index in rows.indices {
                if kept.contains(index) {
                    if skipped > 0 { entries.append(.gap(skipped)) }
                    skipped = 0
                    entries.append(.row(rows[index]))
                } else {
                    skipped += 1
                }
            }
            if skipped > 0 { entries.append(.gap(skipped)) }
            self.entries = entries
            hidden = rows.count - kept.count
        case let .largest(column), let .largestMagnitude(column):
            let magnitude: Bool
            if case .largestMagnitude = limit.order { magnitude = true } else { magnitude = false }
            // Cells that are not numbers rank last; ties keep the lesson's order.
            func key(_ index: Int) -> Double {
                guard column < rows[index].count, let value = Double(rows[index][column]), !value.isNaN else { return -.infinity }
                return magnitude ? abs(value) : value
            }
            let ranked = rows.indices.sorted { key($0) > key($1) || (key($0) == key($1) && $0 < $1) }
            var kept = Array(ranked.prefix(limit.shown))
            kept += ranked.dropFirst(limit.shown).filter(pinned.contains)
            entries = kept.map { .row(rows[$0]) } + [.gap(rows.count - kept.count)]
            hidden = rows.count - kept.count
            rankedBy = column < headers.count ? (magnitude ? "|" + headers[column] + "|" : headers[column]) : nil
        }
    }
}

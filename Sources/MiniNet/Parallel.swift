/// Work that is the same computation on every index (an activation, a normalisation, a copy)
/// shared out over the threads of `Gemm.concurrently`. Each index is computed on its own, in the
/// same order of operations on whichever thread, so how the range is cut changes no result:
/// the outputs are bit-identical for 1 thread or 16.
///
/// Without this, such loops run on one thread while the products around them use every core:
/// on 2 cores they took a fifth of a ResNet's forward pass.
enum Parallel {
    /// Below this many indices a loop stays on the calling thread: handing work to a second
    /// thread costs a few microseconds, the time of some tens of thousands of simple operations.
    static let minimumPerShare = 1 << 15

    /// body(range) for consecutive ranges that together cover 0 ..< count.
    /// `cost` is the work per index in units of a simple operation (a plane of H·W values: H·W).
    static func forRanges(_ count: Int, cost: Int = 1, _ body: (Range<Int>) -> Void) {
        let shares = Swift.min(Gemm.maximumThreads, count, Swift.max(1, count * Swift.max(cost, 1) / minimumPerShare))
        if shares <= 1 {
            body(0..<count)
            return
        }
        Gemm.concurrently(shares) { share in
            body((share * count / shares)..<((share + 1) * count / shares))
        }
    }

    /// The values a block of `blockSum` adds up before its result joins the others.
    static let sumBlock = 1 << 14

    /// Σ over 0 ..< count of a sum that `block` computes for one range: the range cut into
    /// blocks of `sumBlock` indices at fixed places, the blocks shared out over the threads, and
    /// their results added in order. Where the cuts fall depends on `count` alone, so the result
    /// has the same bits for 1 thread or 16.
    static func blockSum(_ count: Int, _ block: (Range<Int>) -> Double) -> Double {
        let blocks = (count + sumBlock - 1) / sumBlock
        if blocks <= 1 { return block(0..<count) }
        var partial = [Double](repeating: 0, count: blocks)
        partial.withUnsafeMutableBufferPointer { partial in
            forEach(blocks, cost: sumBlock) { index in
                partial[index] = block((index * sumBlock)..<Swift.min(count, (index + 1) * sumBlock))
            }
        }
        var total = 0.0
        for value in partial { total += value }
        return total
    }

    /// body(index) for every index in 0 ..< count, the indices shared out in consecutive ranges.
    static func forEach(_ count: Int, cost: Int = 1, _ body: (Int) -> Void) {
        forRanges(count, cost: cost) { range in
            for index in range { body(index) }
        }
    }
}

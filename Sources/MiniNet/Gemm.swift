import CBLAS
import Dispatch

/// Matrix products for the layers: C = α·op(A)·op(B) + β·C, all row-major.
///
/// op(A) is [M, K], op(B) is [K, N], C is [M, N]; `transposeA` means A is stored as [K, M]
/// (likewise B as [N, K]). The work goes to OpenBLAS's `cblas_sgemm`; `referenceGemm` below
/// is the same product as three plain loops, kept for tests and for reading. A large product is
/// cut into one block of C per thread.
public enum Gemm {
    /// Limits the products to the given number of threads (PyTorch's `torch.set_num_threads`).
    public static func setThreads(_ count: Int) {
        maximumThreads = max(1, count)
    }

    /// The most threads a large product may use (2 by default, the machine's cores).
    nonisolated(unsafe) static var maximumThreads = 2

    /// Products below this many multiply-adds run on one thread: for the small matrices of a
    /// 32×32 network, handing half to a second thread costs more than it saves.
    static let threadingThreshold = 1 << 24

    /// Set while `concurrently` runs: every product then stays on the thread that calls it.
    nonisolated(unsafe) private static var runningConcurrently = false

    /// OpenBLAS itself always runs on one thread; the threads are shared out here instead.
    /// (OpenBLAS's own idle threads spin for a while after each product, and took a core away
    /// from the threads of `concurrently`.)
    private static let singleThreadedOpenBLAS: Void = openblas_set_num_threads(1)

    /// Runs body(0), …, body(count − 1) on up to `maximumThreads` threads at once; products
    /// inside stay on the thread that calls them.
    public static func concurrently(_ count: Int, _ body: (Int) -> Void) {
        if maximumThreads <= 1 || count <= 1 || runningConcurrently {
            for index in 0..<count { body(index) }
            return
        }
        runningConcurrently = true
        DispatchQueue.concurrentPerform(iterations: count, execute: body)
        runningConcurrently = false
    }

    public static func multiply(
        _ a: UnsafePointer<Float>, transposeA: Bool = false,
        _ b: UnsafePointer<Float>, transposeB: Bool = false,
        into c: UnsafeMutablePointer<Float>,
        m: Int, n: Int, k: Int, alpha: Float = 1, beta: Float = 0
    ) {
        guard m > 0, n > 0 else { return }
        guard k > 0 else {
            // op(A)·op(B) is all zeros; only the β·C term remains.
            for index in 0..<(m * n) { c[index] = beta == 0 ? 0 : beta * c[index] }
            return
        }
        _ = singleThreadedOpenBLAS
        let (lda, ldb) = (transposeA ? m : k, transposeB ? k : n)
        /// C[rows, columns] of the product, with the leading dimensions of the whole matrices.
        func block(rows: Range<Int>, columns: Range<Int>) {
            let aStart = transposeA ? a + rows.lowerBound : a + rows.lowerBound * k
            let bStart = transposeB ? b + columns.lowerBound * k : b + columns.lowerBound
            cblas_sgemm(
                CblasRowMajor,
                transposeA ? CblasTrans : CblasNoTrans,
                transposeB ? CblasTrans : CblasNoTrans,
                Int32(rows.count), Int32(columns.count), Int32(k), alpha,
                aStart, Int32(lda), bStart, Int32(ldb),
                beta, c + rows.lowerBound * n + columns.lowerBound, Int32(n)
            )
        }
        let shares = m * n * k < threadingThreshold || runningConcurrently ? 1 : maximumThreads
        if shares == 1 {
            block(rows: 0..<m, columns: 0..<n)
            return
        }
        // The longer side of C is cut into one piece per thread, at multiples of 16 (whole cache
        // lines, whole register blocks).
        let splitsColumns = n >= m
        let length = splitsColumns ? n : m
        let piece = ((length + shares - 1) / shares + 15) / 16 * 16
        let pieces = (length + piece - 1) / piece
        concurrently(pieces) { index in
            let part = (index * piece)..<Swift.min(length, (index + 1) * piece)
            if splitsColumns { block(rows: 0..<m, columns: part) } else { block(rows: part, columns: 0..<n) }
        }
    }

    /// C[i, j] = α · Σ_p op(A)[i, p] · op(B)[p, j] + β · C[i, j], accumulated in Double.
    public static func referenceMultiply(
        _ a: [Float], transposeA: Bool = false,
        _ b: [Float], transposeB: Bool = false,
        into c: inout [Float],
        m: Int, n: Int, k: Int, alpha: Float = 1, beta: Float = 0
    ) {
        for i in 0..<m {
            for j in 0..<n {
                var total = 0.0
                for p in 0..<k {
                    let aValue = transposeA ? a[p * m + i] : a[i * k + p]
                    let bValue = transposeB ? b[j * k + p] : b[p * n + j]
                    total += Double(aValue) * Double(bValue)
                }
                let previous = beta == 0 ? 0 : beta * c[i * n + j]
                c[i * n + j] = alpha * Float(total) + previous
            }
        }
    }
}

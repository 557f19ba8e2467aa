import CBLAS

/// Matrix products for the layers: C = α·op(A)·op(B) + β·C, all row-major.
///
/// op(A) is [M, K], op(B) is [K, N], C is [M, N]; `transposeA` means A is stored as [K, M]
/// (likewise B as [N, K]). The work goes to OpenBLAS's `cblas_sgemm`; `referenceGemm` below
/// is the same product as three plain loops, kept for tests and for reading.
public enum Gemm {
    /// Limits OpenBLAS to the given number of threads (PyTorch's `torch.set_num_threads`).
    public static func setThreads(_ count: Int) {
        maximumThreads = max(1, count)
    }

    /// The most threads a large product may use (2 by default, the machine's cores).
    nonisolated(unsafe) static var maximumThreads = 2
    nonisolated(unsafe) private static var currentThreads = 0

    /// Products below this many multiply-adds run on one thread: for the small matrices of a
    /// 32×32 network, waking a second OpenBLAS thread costs more than it saves.
    static let threadingThreshold = 1 << 26

    private static func chooseThreads(work: Int) {
        let wanted = work < threadingThreshold ? 1 : maximumThreads
        if wanted != currentThreads {
            openblas_set_num_threads(Int32(wanted))
            currentThreads = wanted
        }
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
        chooseThreads(work: m * n * k)
        cblas_sgemm(
            CblasRowMajor,
            transposeA ? CblasTrans : CblasNoTrans,
            transposeB ? CblasTrans : CblasNoTrans,
            Int32(m), Int32(n), Int32(k), alpha,
            a, Int32(transposeA ? m : k),
            b, Int32(transposeB ? k : n),
            beta, c, Int32(n)
        )
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

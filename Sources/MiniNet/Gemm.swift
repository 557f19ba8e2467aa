import CBLAS
import CKernels
import Dispatch
import Foundation

/// Matrix products for the layers: C = α·op(A)·op(B) + β·C, all row-major.
///
/// op(A) is [M, K], op(B) is [K, N], C is [M, N]; `transposeA` means A is stored as [K, M]
/// (likewise B as [N, K]). The work goes to OpenBLAS's `cblas_sgemm`, or under
/// `ArithmeticVariant.referenceGemm` to MiniNet's own plain loops; A·Bᵀ with a long K and a
/// small C (a weight gradient) goes to dot products of rows (`multiplyRowsByRows`).
/// `referenceMultiply` below is the same product accumulated in Double, kept for tests.
///
/// A large product is cut into blocks of C, and the threads take the blocks. OpenBLAS rounds a
/// block's edges differently from its inside (leftover rows and columns go to other kernels),
/// so the cut depends on the shape (M, N, K) alone, never on the number of threads: then every
/// entry of C is summed the same way on 1 thread or on 16, and the result is bit-identical.
/// The cut never splits K, so no sum is shared between threads.
public enum Gemm {
    /// Limits the products to the given number of threads (PyTorch's `torch.set_num_threads`),
    /// between 1 and `threadLimit`.
    public static func setThreads(_ count: Int) {
        maximumThreads = Swift.min(Swift.max(1, count), threadLimit)
    }

    /// The most threads `setThreads` accepts.
    public static let threadLimit = 256

    /// The most threads a large product may use: every core of the machine by default.
    public private(set) nonisolated(unsafe) static var maximumThreads = ProcessInfo.processInfo.activeProcessorCount

    /// Products below this many multiply-adds (one block's worth) stay in one block: handing
    /// part of a smaller one to a second thread costs more than it saves. (With Dispatch, whose
    /// sleeping worker took 75–150 µs to wake, the limit was 2²⁴ and the small network's products
    /// all stayed on one thread; the spinning pool starts a region in about 2 µs, and 2²² took
    /// 3 epochs of training from 2.27–2.66 s to 2.05–2.48 s on 2 threads. The cut depends on the
    /// shape alone, so the trained weights are the same on every thread count; they differ from
    /// those of the old limit in the last bits, as any other cut would.)
    static let threadingThreshold = 1 << 22

    /// A larger product is cut into blocks of about this many multiply-adds (a millisecond or
    /// so of one core), enough blocks for the threads of a large machine to share evenly.
    static let blockWork = 1 << 22

    /// Blocks are at least this many rows or columns wide, multiples of 16 (whole cache lines,
    /// whole register blocks): every block packs all of A or B again, which is cheap only next
    /// to a wide enough block.
    static let smallestBlock = 64

    /// Set while `concurrently` runs: every product then stays on the thread that calls it.
    nonisolated(unsafe) private static var runningConcurrently = false

    /// Whether a `concurrently` region is running, so that work started now stays on its thread.
    static var isRunningConcurrently: Bool { runningConcurrently }

    /// OpenBLAS itself always runs on one thread; the threads are shared out here instead.
    /// (OpenBLAS's own idle threads spin for a while after each product, and took a core away
    /// from the threads of `concurrently`.)
    private static let singleThreadedOpenBLAS: Void = {
        _ = openBLASKernels
        openblas_set_num_threads(1)
    }()

    /// The name of the OpenBLAS kernels in use ("SkylakeX", "Haswell", …). OpenBLAS chooses
    /// them from the processor's model and falls back to SSE3 ("Prescott") for a model it does
    /// not know, as virtual machines often report; MiniNet then chooses again from what the
    /// processor can do (AVX-512, AVX2 + FMA), once, before the first product. A person's
    /// OPENBLAS_CORETYPE is left alone.
    public static let openBLASKernels: String = String(cString: tutor_choose_openblas_kernels())

    /// OPENBLAS_CORETYPE when a person set it (and so chose `openBLASKernels`), else nil.
    public static var openBLASKernelsSetting: String? {
        guard let value = ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"], !value.isEmpty else { return nil }
        return value
    }

    /// The kernels MiniNet would choose for this processor from what it can do (AVX-512,
    /// AVX2 + FMA, AVX, SSE), whatever OPENBLAS_CORETYPE says: "SKYLAKEX", "HASWELL",
    /// "SANDYBRIDGE" or "PRESCOTT"; "unknown" on a processor other than x86-64.
    public static let openBLASKernelsForProcessor: String = String(cString: tutor_openblas_kernels_for_processor())

    /// The processor's kernels when OPENBLAS_CORETYPE chose narrower ones (Haswell's 256-bit
    /// registers on a processor with AVX-512, as some shared machines set for every process),
    /// else nil: a benchmark's reader should know that the products ran below the machine's width.
    public static var widerOpenBLASKernelsLeftOut: String? {
        guard openBLASKernelsSetting != nil, let used = registerBits(ofOpenBLASKernels: openBLASKernels),
              let possible = registerBits(ofOpenBLASKernels: openBLASKernelsForProcessor), possible > used else { return nil }
        return openBLASKernelsForProcessor
    }

    /// The register width, in bits, of OpenBLAS's x86-64 kernels of that name (any case); nil
    /// for a name not listed here.
    static func registerBits(ofOpenBLASKernels name: String) -> Int? {
        switch name.lowercased() {
        case "skylakex", "cooperlake", "sapphirerapids": return 512
        case "haswell", "zen", "sandybridge", "bulldozer", "piledriver", "steamroller", "excavator": return 256
        case "prescott", "core2", "penryn", "dunnington", "nehalem", "atom", "opteron", "opteron_sse3", "barcelona", "bobcat": return 128
        default: return nil
        }
    }

    /// Runs body(0), …, body(count − 1) on at most `maximumThreads` threads, the calling one and
    /// the spinning pool's (thread_pool.h): worker w of T takes w, w + T, w + 2T, …, so which
    /// thread computes what depends on count and T alone. Products inside stay on the thread
    /// that calls them.
    public static func concurrently(_ count: Int, _ body: (Int) -> Void) {
        let workers = Swift.min(maximumThreads, count)
        if workers <= 1 || runningConcurrently {
            for index in 0..<count { body(index) }
            return
        }
        runningConcurrently = true
        defer { runningConcurrently = false }
        withoutActuallyEscaping(body) { body in
            var part: (Int) -> Void = { worker in
                for index in stride(from: worker, to: count, by: workers) { body(index) }
            }
            // The spinning pool (thread_pool.h) starts a region in about two microseconds where
            // Dispatch wakes a sleeping thread (75–150 µs on a virtual machine); it declines
            // when another thread holds it.
            let ranOnPool = withUnsafeMutablePointer(to: &part) { part in
                tutor_pool_run(workers, { context, worker in
                    context!.assumingMemoryBound(to: ((Int) -> Void).self).pointee(worker)
                }, part) == 0
            }
            if !ranOnPool {
                // concurrentPerform alone would start one worker per core, whatever maximumThreads says.
                DispatchQueue.concurrentPerform(iterations: workers) { worker in part(worker) }
            }
        }
    }

    /// How a product of this shape is cut: along the columns of C or its rows, in pieces of
    /// `piece` (the last may be shorter). Depends on m, n and k only.
    static func blocks(m: Int, n: Int, k: Int) -> (splitsColumns: Bool, piece: Int, count: Int) {
        let splitsColumns = n >= m
        let length = splitsColumns ? n : m
        guard m * n * k >= threadingThreshold else { return (splitsColumns, length, 1) }
        let wanted = (m * n * k + blockWork - 1) / blockWork
        let piece = Swift.max(smallestBlock, ((length + wanted - 1) / wanted + 15) / 16 * 16)
        return (splitsColumns, piece, (length + piece - 1) / piece)
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
        let usesPlainLoops = ArithmeticVariant.current == .referenceGemm
        if !usesPlainLoops && !transposeA && transposeB && alpha == 1 && sumsRowsByRows(m: m, n: n, k: k) {
            multiplyRowsByRows(a, b, into: c, m: m, n: n, k: k, beta: beta)
            return
        }
        if !usesPlainLoops && !transposeB && alpha == 1 && beta == 0
            && takesNarrowProduct(m: m, n: n, transposeA: transposeA, ownLoopsWider: ownLoopsWiderThanOpenBLAS) {
            multiplyNarrow(a, transposeA: transposeA, b, into: c, m: m, n: n, k: k)
            return
        }
        let (lda, ldb) = (transposeA ? m : k, transposeB ? k : n)
        /// C[rows, columns] of the product, with the leading dimensions of the whole matrices.
        func block(rows: Range<Int>, columns: Range<Int>) {
            let aStart = transposeA ? a + rows.lowerBound : a + rows.lowerBound * k
            let bStart = transposeB ? b + columns.lowerBound * k : b + columns.lowerBound
            let cStart = c + rows.lowerBound * n + columns.lowerBound
            if usesPlainLoops {
                plainLoopProduct(aStart, transposeA: transposeA, lda: lda, bStart, transposeB: transposeB, ldb: ldb,
                                 into: cStart, ldc: n, m: rows.count, n: columns.count, k: k, alpha: alpha, beta: beta)
                return
            }
            cblas_sgemm(
                CblasRowMajor,
                transposeA ? CblasTrans : CblasNoTrans,
                transposeB ? CblasTrans : CblasNoTrans,
                Int32(rows.count), Int32(columns.count), Int32(k), alpha,
                aStart, Int32(lda), bStart, Int32(ldb),
                beta, cStart, Int32(n)
            )
        }
        let (splitsColumns, piece, count) = blocks(m: m, n: n, k: k)
        let length = splitsColumns ? n : m
        concurrently(count) { index in
            let part = (index * piece)..<Swift.min(length, (index + 1) * piece)
            if splitsColumns { block(rows: 0..<m, columns: part) } else { block(rows: part, columns: 0..<n) }
        }
    }

    /// Whether C = A·Bᵀ goes to `tutor_rows_dot_rows` instead of OpenBLAS: k long next to m and n,
    /// and C small. A weight gradient ∂L/∂W = ∂L/∂Y × columnsᵀ of the small CNN (k = N·OH·OW =
    /// 32·32·32 for its first convolution, C 8 × 27) is such a product: OpenBLAS copies both
    /// long matrices into its packed layout first, which took most of the product's time, and
    /// C's 216 entries left a second thread nothing to do.
    static func sumsRowsByRows(m: Int, n: Int, k: Int) -> Bool {
        k >= 1024 && m * n <= 1 << 14 && k >= 8 * Swift.max(m, n)
    }

    /// C = A·Bᵀ + β·C, A [m, k] and B [n, k] stored by rows, as dot products of rows
    /// (Sources/CKernels/product_kernels.c): each entry's terms go to 16 partial sums in the order
    /// of p, so the entry does not depend on the vector width or on how the rows of B are shared
    /// out among the threads; they take runs of 4 rows of B.
    static func multiplyRowsByRows(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, into c: UnsafeMutablePointer<Float>,
                                   m: Int, n: Int, k: Int, beta: Float) {
        let groups = (n + 3) / 4
        let workers = m * n * k >= threadingThreshold ? Swift.min(maximumThreads, groups) : 1
        concurrently(workers) { worker in
            let from = 4 * (groups * worker / workers), to = Swift.min(n, 4 * (groups * (worker + 1) / workers))
            guard from < to else { return }
            tutor_rows_dot_rows(a, k, b, k, c, n, m, from, to, k, beta)
        }
    }

    /// Whether MiniNet's own loops, at the widest width the processor has, hold more bits per
    /// register than the OpenBLAS kernels in use: AVX-512 against OpenBLAS's 256-bit Haswell
    /// kernels, as when a machine's environment sets OPENBLAS_CORETYPE=Haswell for every process
    /// on an AVX-512 processor. False where OpenBLAS's kernels are not known by name, and off
    /// x86-64. It does not follow `VectorWidth.current`, so a narrower width chosen for a test
    /// takes the same products, with the same bits. `ownLoopsWiderForTesting` replaces it in tests.
    public static var ownLoopsWiderThanOpenBLAS: Bool {
        ownLoopsWiderForTesting ?? (VectorWidth.widest.lanes * 32 > openBLASRegisterBits ?? .max)
    }

    nonisolated(unsafe) static var ownLoopsWiderForTesting: Bool?

    private static let openBLASRegisterBits: Int? = registerBits(ofOpenBLASKernels: openBLASKernels)

    /// Whether C = op(A)·B (α = 1, β = 0) goes to `tutor_multiply_narrow` rather than OpenBLAS:
    /// where MiniNet's loops are the wider (`ownLoopsWiderThanOpenBLAS`), for 16 columns or more.
    /// Measured alone on one thread of such a machine (tools/bench/narrow_products.c), it ran 1.35
    /// to 2.6 times OpenBLAS's speed on every product shape of a ResNet (Winograd's positions,
    /// im2col's W × columns and Wᵀ × ∂L/∂Y), but two: A stored by columns against a multiple of 512
    /// columns, whose rows of B then lie a multiple of 2 KiB apart and share cache sets (64 × 64
    /// × 512: 0.45 times OpenBLAS's speed), and A stored by columns with rows not a multiple of 16
    /// (the kernel goes down the rows 16 at a time and computes the rest one entry at a time).
    /// At the same width (AVX2 against Haswell's kernels) the two ran level, so nothing changes there.
    static func takesNarrowProduct(m: Int, n: Int, transposeA: Bool, ownLoopsWider: Bool) -> Bool {
        ownLoopsWider && n >= 16 && (!transposeA || (m % 16 == 0 && n % 512 != 0))
    }

    /// C = op(A)·B by `tutor_multiply_narrow`, the rows of C shared out over the threads in pieces
    /// of a multiple of 32 (the kernel's blocks). Each entry is one chain of fused multiply-adds
    /// over k in order, so no cut changes a bit.
    static func multiplyNarrow(_ a: UnsafePointer<Float>, transposeA: Bool, _ b: UnsafePointer<Float>, into c: UnsafeMutablePointer<Float>,
                               m: Int, n: Int, k: Int) {
        let wanted = m * n * k >= threadingThreshold ? (m * n * k + blockWork - 1) / blockWork : 1
        let piece = Swift.max(32, ((m + wanted - 1) / wanted + 31) / 32 * 32)
        let (a, b, c) = (SendablePointer(a), SendablePointer(b), SendableMutablePointer(c))
        concurrently((m + piece - 1) / piece) { index in
            let from = index * piece, rows = Swift.min(m, from + piece) - from
            // A [m, k] by rows: row r at a + r·k; A stored [k, m]: entry (r, p) at a[p·m + r].
            tutor_multiply_narrow(transposeA ? a.pointer + from : a.pointer + from * k, transposeA ? 1 : k, transposeA ? m : 1,
                                  b.pointer, c.pointer + from * n, rows, k, n)
        }
    }

    /// MiniNet's own product, C = α·op(A)·op(B) + β·C with leading dimensions lda, ldb, ldc as
    /// in BLAS: every entry summed in Float in the natural order p = 0, 1, …, K − 1, where
    /// OpenBLAS keeps several partial sums in vector registers and adds them at the end. The
    /// loops run i, p, j, so that the innermost one walks a row of op(B) and a row of sums
    /// side by side (vector code), while each sum still takes its terms in the order of p.
    /// That loop moves two pointers instead of counting j: in a debug build (the tests) it runs
    /// three times faster so.
    static func plainLoopProduct(
        _ a: UnsafePointer<Float>, transposeA: Bool, lda: Int,
        _ b: UnsafePointer<Float>, transposeB: Bool, ldb: Int,
        into c: UnsafeMutablePointer<Float>, ldc: Int,
        m: Int, n: Int, k: Int, alpha: Float, beta: Float
    ) {
        // Row p of op(B) starts at rowsOfB + p·rowStride; a B stored as [N, K] is first copied
        // out transposed, so that every row is contiguous.
        let sums = UnsafeMutablePointer<Float>.allocate(capacity: n)
        let copy = transposeB ? UnsafeMutablePointer<Float>.allocate(capacity: k * n) : nil
        defer { sums.deallocate(); copy?.deallocate() }
        if let copy {
            for p in 0..<k { for j in 0..<n { copy[p * n + j] = b[j * ldb + p] } }
        }
        let (rowsOfB, rowStride) = copy.map { (UnsafePointer($0), n) } ?? (b, ldb)
        let end = sums + n
        for i in 0..<m {
            sums.update(repeating: 0, count: n)
            for p in 0..<k {
                let aValue = transposeA ? a[p * lda + i] : a[i * lda + p]
                var (sum, entry) = (sums, rowsOfB + p * rowStride)
                while sum < end {
                    sum.pointee += aValue * entry.pointee
                    sum += 1
                    entry += 1
                }
            }
            let cRow = c + i * ldc
            // β = 0 means C is not read, as in BLAS (it may hold anything).
            for j in 0..<n { cRow[j] = beta == 0 ? alpha * sums[j] : alpha * sums[j] + beta * cRow[j] }
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

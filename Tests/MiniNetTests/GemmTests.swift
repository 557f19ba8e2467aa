import CKernels
import Foundation
import XCTest
@testable import MiniNet

/// `Gemm.multiply` (OpenBLAS) against the three-loop `Gemm.referenceMultiply`:
///
///     C = α·op(A)·op(B) + β·C,    op(A) [M, K], op(B) [K, N], C [M, N], all row-major.
final class GemmTests: XCTestCase {
    /// The float32 error model of one entry of C = α·op(A)·op(B) + β·C, against the reference:
    ///
    /// - `Gemm.multiply` adds K products (γ_{K+1} on Σ_p |a_ip b_pj|, any order or blocking, FMA
    ///   or not), scales by α and adds β·c (2 more roundings on |α|Σ|a b| + |β c|): γ_{K+3};
    /// - `Gemm.referenceMultiply` adds in Double (error K·2⁻⁵³, below float32's u), then rounds
    ///   the sum, α·sum, β·c and the addition to float32: γ_4 on the same magnitude.
    ///
    /// So |C − C_ref| ≤ 4·(γ_{K+3} + γ_4)·(|α|·Σ_p |a_ip b_pj| + |β c_ij|), entry by entry.
    static func entryTolerance(k: Int, magnitude: Double, largestTerm: Double) -> Tolerance {
        .sum(count: k + 3, magnitude: magnitude, largestTerm: largestTerm) + .sum(count: 4, magnitude: magnitude, largestTerm: largestTerm)
    }

    /// Compares `actual` with `expected` entry by entry, each within its own `entryTolerance`,
    /// and reports the entry that used most of its tolerance; that entry with its largest product
    /// left out must fail.
    static func assertProductsAgree(_ test: XCTestCase, actual: [Float], expected: [Float], a: [Float], b: [Float], start: [Float],
                                    m: Int, n: Int, k: Int, transposeA: Bool, transposeB: Bool, alpha: Float, beta: Float,
                                    _ label: String, file: StaticString = #filePath, line: UInt = #line) {
        var worst: (index: Int, used: Double, tolerance: Tolerance, largest: Double) = (0, -1, .exact, 0)
        for i in 0..<m {
            for j in 0..<n {
                var magnitude = Double(abs(beta * start[i * n + j]))
                var largest = 0.0
                for p in 0..<k {
                    let aValue = transposeA ? a[p * m + i] : a[i * k + p]
                    let bValue = transposeB ? b[j * k + p] : b[p * n + j]
                    let term = abs(Double(alpha) * Double(aValue) * Double(bValue))
                    magnitude += term
                    largest = max(largest, term)
                }
                let tolerance = entryTolerance(k: k, magnitude: magnitude, largestTerm: largest)
                let residual = abs(Double(actual[i * n + j]) - Double(expected[i * n + j]))
                let used = tolerance.value > 0 ? residual / tolerance.value : (residual == 0 ? 0 : .infinity)
                if used > worst.used || used.isNaN { worst = (i * n + j, used, tolerance, largest) }
            }
        }
        let check = test.assertWithin(Double(actual[worst.index]), Double(expected[worst.index]), worst.tolerance,
                                      "\(label), entry \(worst.index)", file: file, line: line)
        if worst.largest > 0 {
            test.assertCatches(check, broken: Double(actual[worst.index]) - worst.largest, "\(label): a product left out",
                               file: file, line: line)
        }
    }

    /// Runs both implementations from the same starting C and compares them within the float32
    /// error model (`entryTolerance`).
    private func compare(m: Int, n: Int, k: Int, transposeA: Bool, transposeB: Bool,
                         alpha: Float, beta: Float, seed: UInt64,
                         file: StaticString = #filePath, line: UInt = #line) {
        // At least one element each, so that K = 0 still has valid (unread) pointers.
        let a = GradientCheck.uniform([max(m * k, 1)], seed: seed).data
        let b = GradientCheck.uniform([max(k * n, 1)], seed: seed &+ 1).data
        let start = GradientCheck.uniform([m * n], seed: seed &+ 2).data
        var expected = start
        Gemm.referenceMultiply(a, transposeA: transposeA, b, transposeB: transposeB, into: &expected,
                               m: m, n: n, k: k, alpha: alpha, beta: beta)
        var actual = start
        a.withUnsafeBufferPointer { aPointer in
            b.withUnsafeBufferPointer { bPointer in
                actual.withUnsafeMutableBufferPointer { cPointer in
                    Gemm.multiply(aPointer.baseAddress!, transposeA: transposeA, bPointer.baseAddress!,
                                  transposeB: transposeB, into: cPointer.baseAddress!,
                                  m: m, n: n, k: k, alpha: alpha, beta: beta)
                }
            }
        }
        Self.assertProductsAgree(self, actual: actual, expected: expected, a: a, b: b, start: start, m: m, n: n, k: k,
                                 transposeA: transposeA, transposeB: transposeB, alpha: alpha, beta: beta,
                                 "m \(m) n \(n) k \(k) transposeA \(transposeA) transposeB \(transposeB) α \(alpha) β \(beta)",
                                 file: file, line: line)
    }

    func testAllTransposeCombinationsOnOddSizes() {
        var seed: UInt64 = 1
        for transposeA in [false, true] {
            for transposeB in [false, true] {
                for (m, n, k) in [(1, 1, 1), (3, 5, 7), (7, 3, 5), (13, 17, 11), (33, 1, 65), (1, 29, 3), (64, 65, 63)] {
                    compare(m: m, n: n, k: k, transposeA: transposeA, transposeB: transposeB,
                            alpha: 1, beta: 0, seed: seed)
                    seed += 3
                }
            }
        }
    }

    func testAlphaAndBeta() {
        var seed: UInt64 = 100
        for (alpha, beta) in [(Float(2.5), Float(0)), (1, 1), (-0.5, 0.75), (0, 2), (1.5, -1)] {
            for transposeA in [false, true] {
                for transposeB in [false, true] {
                    compare(m: 9, n: 6, k: 5, transposeA: transposeA, transposeB: transposeB,
                            alpha: alpha, beta: beta, seed: seed)
                    seed += 3
                }
            }
        }
    }

    /// K = 0: op(A)·op(B) is the empty sum, so C becomes β·C (and exactly 0 for β = 0, even if
    /// C held NaN, as BLAS specifies).
    func testEmptyInnerDimension() {
        for beta in [Float(0), 1, -2] {
            compare(m: 4, n: 3, k: 0, transposeA: false, transposeB: true, alpha: 1, beta: beta, seed: 7)
        }
        var c: [Float] = [.nan, 1, 2, 3]
        let empty: [Float] = [0]
        empty.withUnsafeBufferPointer { a in
            c.withUnsafeMutableBufferPointer { cPointer in
                Gemm.multiply(a.baseAddress!, a.baseAddress!, into: cPointer.baseAddress!, m: 2, n: 2, k: 0, beta: 0)
            }
        }
        XCTAssertEqual(c, [0, 0, 0, 0])
    }

    /// A hand-worked product pins the row-major layout itself (a transposed-layout bug would
    /// still agree between two implementations that share it).
    func testHandWorkedProduct() {
        // A = [[1, 2, 3], [4, 5, 6]], B = [[1, 0], [0, 1], [1, 1]]  →  A·B = [[4, 5], [10, 11]]
        let a: [Float] = [1, 2, 3, 4, 5, 6]
        let b: [Float] = [1, 0, 0, 1, 1, 1]
        let aTransposed: [Float] = [1, 4, 2, 5, 3, 6]
        let bTransposed: [Float] = [1, 0, 1, 0, 1, 1]
        for (left, transposeA) in [(a, false), (aTransposed, true)] {
            for (right, transposeB) in [(b, false), (bTransposed, true)] {
                var c = [Float](repeating: 0, count: 4)
                left.withUnsafeBufferPointer { l in
                    right.withUnsafeBufferPointer { r in
                        c.withUnsafeMutableBufferPointer { out in
                            Gemm.multiply(l.baseAddress!, transposeA: transposeA, r.baseAddress!, transposeB: transposeB,
                                          into: out.baseAddress!, m: 2, n: 2, k: 3)
                        }
                    }
                }
                XCTAssertEqual(c, [4, 5, 10, 11], "transposeA \(transposeA) transposeB \(transposeB)")
                var reference = [Float](repeating: 0, count: 4)
                Gemm.referenceMultiply(left, transposeA: transposeA, right, transposeB: transposeB,
                                       into: &reference, m: 2, n: 2, k: 3)
                XCTAssertEqual(reference, [4, 5, 10, 11], "reference, transposeA \(transposeA) transposeB \(transposeB)")
            }
        }
    }

    /// Runs body with the products limited to `threads`, then restores the limit in use.
    static func withThreads<Result>(_ threads: Int, _ body: () throws -> Result) rethrows -> Result {
        let previous = Gemm.maximumThreads
        Gemm.setThreads(threads)
        defer { Gemm.setThreads(previous) }
        return try body()
    }

    /// Seeded A [m·k], B [k·n] and starting C [m·n].
    private func matrices(m: Int, n: Int, k: Int) -> (a: [Float], b: [Float], c: [Float]) {
        (GradientCheck.uniform([m * k], seed: 1).data, GradientCheck.uniform([k * n], seed: 2).data,
         GradientCheck.uniform([m * n], seed: 3).data)
    }

    /// C = 0.5·op(A)·op(B) + C on `threads` threads.
    private func product(_ matrices: (a: [Float], b: [Float], c: [Float]), m: Int, n: Int, k: Int,
                         transposeA: Bool = false, transposeB: Bool = false, threads: Int) -> [Float] {
        var c = matrices.c
        Self.withThreads(threads) {
            matrices.a.withUnsafeBufferPointer { a in
                matrices.b.withUnsafeBufferPointer { b in
                    c.withUnsafeMutableBufferPointer { c in
                        Gemm.multiply(a.baseAddress!, transposeA: transposeA, b.baseAddress!, transposeB: transposeB,
                                      into: c.baseAddress!, m: m, n: n, k: k, alpha: 0.5, beta: 1)
                    }
                }
            }
        }
        return c
    }

    /// The blocks of a product depend on its shape only, so any number of threads gives the
    /// same bits: cut along rows or columns, every transpose, sizes that leave a short last block.
    func testLargeProductsAreBitIdenticalOnAnyThreadCount() {
        let shapes = [(300, 250, 250), (130, 520, 250), (1000, 70, 300), (33, 4099, 129), (64, 3136, 576)]
        for (index, (m, n, k)) in shapes.enumerated() {
            XCTAssertGreaterThan(Gemm.blocks(m: m, n: n, k: k).count, 2, "\(m)×\(n)×\(k) is cut into several blocks")
            let inputs = matrices(m: m, n: n, k: k)
            // Every transpose on the first two shapes, the plain product on the others.
            let transposes = index < 2 ? [(false, false), (false, true), (true, false), (true, true)] : [(false, false)]
            for (transposeA, transposeB) in transposes {
                let one = product(inputs, m: m, n: n, k: k, transposeA: transposeA, transposeB: transposeB, threads: 1)
                for threads in [2, 3, 16] {
                    let many = product(inputs, m: m, n: n, k: k, transposeA: transposeA, transposeB: transposeB, threads: threads)
                    XCTAssertTrue(one.withUnsafeBytes { one in many.withUnsafeBytes { one.elementsEqual($0) } },
                                  "\(m)×\(n)×\(k), transposeA \(transposeA), transposeB \(transposeB): \(threads) threads against 1")
                }
            }
        }
    }

    /// Where MiniNet's loops are wider than OpenBLAS's kernels, op(A)·B with α = 1, β = 0 and 16
    /// columns or more goes to the narrow kernel, but A stored by columns with rows not a
    /// multiple of 16 or a multiple of 512 columns; otherwise nothing does.
    func testWhichProductsTheNarrowKernelTakes() {
        XCTAssertTrue(Gemm.takesNarrowProduct(m: 128, n: 784, transposeA: false, ownLoopsWider: true))
        XCTAssertTrue(Gemm.takesNarrowProduct(m: 3, n: 16, transposeA: false, ownLoopsWider: true))
        XCTAssertTrue(Gemm.takesNarrowProduct(m: 576, n: 784, transposeA: true, ownLoopsWider: true))
        XCTAssertFalse(Gemm.takesNarrowProduct(m: 128, n: 15, transposeA: false, ownLoopsWider: true))
        XCTAssertFalse(Gemm.takesNarrowProduct(m: 147, n: 784, transposeA: true, ownLoopsWider: true))
        XCTAssertFalse(Gemm.takesNarrowProduct(m: 64, n: 1024, transposeA: true, ownLoopsWider: true))
        XCTAssertFalse(Gemm.takesNarrowProduct(m: 128, n: 784, transposeA: false, ownLoopsWider: false))
    }

    /// The products of the tests above on each side of `takesNarrowProduct`, whichever side
    /// this machine's OpenBLAS puts them on; and a narrow product cut into several pieces of rows,
    /// A by rows and by columns: within the error model, the same bits on any number of threads.
    func testProductsAgreeWhicheverKernelTakesThem() {
        onEachSideOfTheOwnProductsRule { _ in
            testAllTransposeCombinationsOnOddSizes()
            testAlphaAndBeta()
            testLargeProductsAreBitIdenticalOnAnyThreadCount()
        }
        defer { Gemm.ownLoopsWiderForTesting = nil }
        Gemm.ownLoopsWiderForTesting = true
        let (m, n, k) = (160, 700, 300)
        let inputs = matrices(m: m, n: n, k: k)
        for transposeA in [false, true] {
            XCTAssertTrue(Gemm.takesNarrowProduct(m: m, n: n, transposeA: transposeA, ownLoopsWider: true))
            compare(m: m, n: n, k: k, transposeA: transposeA, transposeB: false, alpha: 1, beta: 0, seed: 900)
            let one = product(inputs, m: m, n: n, k: k, transposeA: transposeA, threads: 1)
            for threads in [2, 3, 16] {
                XCTAssertTrue(one.elementsEqual(product(inputs, m: m, n: n, k: k, transposeA: transposeA, threads: threads)) {
                    $0.bitPattern == $1.bitPattern
                }, "narrow \(m)×\(n)×\(k), transposeA \(transposeA): \(threads) threads against 1")
            }
        }
    }

    /// C = A·Bᵀ with k long next to m and n (a weight gradient's shape) goes to the dot products
    /// of rows (`Gemm.multiplyRowsByRows`): within the error model of any order of the sums,
    /// from β = 0 and β = 1, on shapes that leave partial 4 × 4 blocks, a k that is no multiple
    /// of 16, and several chunks of k; and the same bits on any number of threads.
    func testRowsByRowsProductsAgreeWithTheReferenceOnAnyThreadCount() {
        for (m, n, k) in [(8, 27, 1543), (5, 13, 2051), (16, 72, 1030), (1, 1, 1031), (32, 144, 2048)] {
            XCTAssertTrue(Gemm.sumsRowsByRows(m: m, n: n, k: k), "\(m)×\(n)×\(k) goes to the dot products of rows")
            for beta: Float in [0, 1] {
                compare(m: m, n: n, k: k, transposeA: false, transposeB: true, alpha: 1, beta: beta, seed: UInt64(m * n + k))
            }
            let inputs = matrices(m: m, n: n, k: k)
            func rowsByRows(threads: Int) -> [Float] {
                var c = inputs.c
                Self.withThreads(threads) {
                    inputs.a.withUnsafeBufferPointer { a in
                        inputs.b.withUnsafeBufferPointer { b in
                            c.withUnsafeMutableBufferPointer { c in
                                Gemm.multiply(a.baseAddress!, b.baseAddress!, transposeB: true, into: c.baseAddress!,
                                              m: m, n: n, k: k, beta: 1)
                            }
                        }
                    }
                }
                return c
            }
            let one = rowsByRows(threads: 1)
            for threads in [2, 3, 16] {
                XCTAssertTrue(one.elementsEqual(rowsByRows(threads: threads)) { $0.bitPattern == $1.bitPattern },
                              "\(m)×\(n)×\(k): \(threads) threads against 1")
            }
        }
        // A product OpenBLAS keeps: C too large, or k not long enough.
        XCTAssertFalse(Gemm.sumsRowsByRows(m: 512, n: 512, k: 4096))
        XCTAssertFalse(Gemm.sumsRowsByRows(m: 8, n: 1000, k: 512))
    }

    /// A product started from inside `concurrently` (as Winograd's 16 products are) runs its
    /// blocks on the calling thread: the same blocks, the same bits.
    func testAProductInsideConcurrentlyGivesTheSameBits() {
        let (m, n, k) = (130, 520, 250)
        let inputs = matrices(m: m, n: n, k: k)
        let alone = product(inputs, m: m, n: n, k: k, threads: 3)
        var inside: [[Float]] = Array(repeating: [], count: 4)
        let lock = NSLock()
        Self.withThreads(3) {
            Gemm.concurrently(4) { index in
                let result = self.product(inputs, m: m, n: n, k: k, threads: 3)
                lock.lock(); inside[index] = result; lock.unlock()
            }
        }
        for result in inside {
            XCTAssertTrue(alone.elementsEqual(result) { $0.bitPattern == $1.bitPattern })
        }
    }

    /// `concurrently` never runs more bodies at once than the thread limit, however many it has.
    func testConcurrentlyStaysWithinTheThreadLimit() {
        let lock = NSLock()
        for threads in [1, 2, 3] {
            var (running, mostAtOnce) = (0, 0)
            Self.withThreads(threads) {
                Gemm.concurrently(40) { _ in
                    lock.lock(); running += 1; mostAtOnce = max(mostAtOnce, running); lock.unlock()
                    usleep(200)
                    lock.lock(); running -= 1; lock.unlock()
                }
            }
            XCTAssertLessThanOrEqual(mostAtOnce, threads)
        }
    }

    /// The spinning pool behind `concurrently` (thread_pool.c) runs every index exactly once:
    /// regions back to back (threads still spinning), after a pause (threads asleep, woken),
    /// from four threads at once (one holds the pool, the others fall back to Dispatch), and
    /// with more threads than the machine has cores (threads sleep instead of spinning).
    func testConcurrentlyRunsEveryIndexOnceWhateverTheTiming() {
        func runs(_ count: Int) -> [Int] {
            var seen = [Int](repeating: 0, count: count)
            let lock = NSLock()
            Gemm.concurrently(count) { index in lock.lock(); seen[index] += 1; lock.unlock() }
            return seen
        }
        for threads in [2, 3, 4 * ProcessInfo.processInfo.activeProcessorCount] {
            Self.withThreads(threads) {
                for round in 0..<200 {
                    let count = 1 + round % 37
                    XCTAssertEqual(runs(count), [Int](repeating: 1, count: count), "\(threads) threads, region \(round)")
                    if round % 50 == 49 { usleep(2_000) }
                }
                let lock = NSLock()
                var fromEachCaller = [[Int]](repeating: [], count: 4)
                DispatchQueue.concurrentPerform(iterations: 4) { caller in
                    var all = [Int]()
                    for _ in 0..<50 { all += runs(23) }
                    lock.lock(); fromEachCaller[caller] = all; lock.unlock()
                }
                for all in fromEachCaller { XCTAssertEqual(all, [Int](repeating: 1, count: 50 * 23)) }
            }
        }
    }

    /// MiniNet's plain-loop product (ArithmeticVariant.referenceGemm) against the Double one, and
    /// on any thread count the same bits.
    func testPlainLoopProductAgreesWithTheReference() {
        ArithmeticVariant.with(.referenceGemm) {
            var seed: UInt64 = 7
            for transposeA in [false, true] {
                for transposeB in [false, true] {
                    for (alpha, beta) in [(Float(1), Float(0)), (-0.5, 0.75)] {
                        compare(m: 13, n: 17, k: 11, transposeA: transposeA, transposeB: transposeB, alpha: alpha, beta: beta, seed: seed)
                        seed += 3
                    }
                    let (m, n, k) = (130, 520, 250)
                    let inputs = matrices(m: m, n: n, k: k)
                    XCTAssertEqual(product(inputs, m: m, n: n, k: k, transposeA: transposeA, transposeB: transposeB, threads: 1),
                                   product(inputs, m: m, n: n, k: k, transposeA: transposeA, transposeB: transposeB, threads: 3))
                }
            }
            compare(m: 130, n: 520, k: 250, transposeA: true, transposeB: true, alpha: 0.5, beta: 1, seed: 99)
        }
    }
    /// `tutor_multiply_dot_rows` (include/dot_products.h), C = A·Bᵀ in 16 lanes per entry: within
    /// the error model of any order of the sums, on shapes that leave partial 4 × 7 blocks, an
    /// inner length that is no multiple of 16 (and one shorter than 16); rows written in two
    /// pieces give the same bits as in one, and rows outside the pieces are not touched.
    func testDotProductsOfRowsAgreeWithTheReference() {
        for (offset, (rows, inner, columns)) in [(16, 1040, 49), (13, 17, 9), (5, 1024, 1), (8, 3, 7), (9, 2305, 36)].enumerated() {
            let a = GradientCheck.uniform([rows, inner], seed: 900 + UInt64(offset)).data
            let b = GradientCheck.uniform([columns, inner], seed: 950 + UInt64(offset)).data
            var expected = [Float](repeating: 0, count: rows * columns)
            Gemm.referenceMultiply(a, b, transposeB: true, into: &expected, m: rows, n: columns, k: inner)
            func product(pieces: [Range<Int>]) -> [Float] {
                var c = [Float](repeating: .nan, count: rows * columns)
                a.withUnsafeBufferPointer { a in
                    b.withUnsafeBufferPointer { b in
                        c.withUnsafeMutableBufferPointer { c in
                            for piece in pieces {
                                tutor_multiply_dot_rows(a.baseAddress!, b.baseAddress!, c.baseAddress!, columns, columns, inner,
                                                        piece.lowerBound, piece.upperBound)
                            }
                        }
                    }
                }
                return c
            }
            let whole = product(pieces: [0..<rows])
            Self.assertProductsAgree(self, actual: whole, expected: expected, a: a, b: b, start: expected.map { _ in 0 },
                                     m: rows, n: columns, k: inner, transposeA: false, transposeB: true, alpha: 1, beta: 0,
                                     "dot products of rows \(rows)×\(inner)×\(columns)")
            let split = rows / 3
            XCTAssertTrue(whole.elementsEqual(product(pieces: [split..<rows, 0..<split])) { $0.bitPattern == $1.bitPattern },
                          "\(rows)×\(inner)×\(columns): rows in two pieces")
            let partial = product(pieces: [split..<rows])
            XCTAssertTrue(partial.prefix(split * columns).allSatisfy(\.isNaN), "rows before the piece untouched")
        }
    }

    /// `tutor_im2col_rows` is a copy: every entry equals the definition in its header, for
    /// kernels whose taps fit its table (1, 3, 5) and one that does not (9 × 9), with and
    /// without stride and padding, for any range of positions.
    func testIm2colRowsCopiesTheDefinition() {
        for (kernel, stride, padding) in [(1, 1, 0), (3, 1, 1), (3, 2, 1), (3, 2, 0), (5, 2, 2), (9, 1, 4)] {
            let (channels, height, width) = (3, 11, 9)
            let x = GradientCheck.uniform([channels, height, width], seed: 41).data
            let outputHeight = (height + 2 * padding - kernel) / stride + 1, outputWidth = (width + 2 * padding - kernel) / stride + 1
            let positions = outputHeight * outputWidth, patch = channels * kernel * kernel
            var expected = [Float](repeating: 0, count: positions * patch)
            for i in 0..<outputHeight {
                for j in 0..<outputWidth {
                    for c in 0..<channels {
                        for u in 0..<kernel {
                            for v in 0..<kernel {
                                let (y, column) = (i * stride + u - padding, j * stride + v - padding)
                                guard (0..<height).contains(y), (0..<width).contains(column) else { continue }
                                expected[(i * outputWidth + j) * patch + (c * kernel + u) * kernel + v] = x[(c * height + y) * width + column]
                            }
                        }
                    }
                }
            }
            let split = positions / 3
            var columnsT = [Float](repeating: .nan, count: positions * patch)
            x.withUnsafeBufferPointer { x in
                columnsT.withUnsafeMutableBufferPointer { out in
                    for range in [split..<positions, 0..<split] {
                        tutor_im2col_rows(x.baseAddress!, out.baseAddress!, channels, height, width, kernel, stride, padding,
                                          outputHeight, outputWidth, range.lowerBound, range.upperBound)
                    }
                }
            }
            XCTAssertEqual(columnsT.map(\.bitPattern), expected.map(\.bitPattern), "kernel \(kernel), stride \(stride), padding \(padding)")
        }
    }

    /// One picture through a convolution with long patches and few positions (a ResNet's last
    /// stage) takes the dot products of rows; it stays within the error model of the im2col
    /// product done by plain loops, with and without a stride, and gives the same bits on any
    /// number of threads.
    func testOnePictureConvolutionByDotProductsAgreesWithIm2col() {
        for (side, stride) in [(6, 1), (13, 2)] {
            let conv = Conv2d(inputChannels: 130, outputChannels: 70, kernelSize: 3, stride: stride, padding: 1, bias: true,
                              weight: GradientCheck.uniform([70, 130, 3, 3], seed: 31), biasValue: GradientCheck.uniform([70], seed: 32))
            let input = GradientCheck.uniform([1, 130, side, side], seed: 33)
            let positions = conv.outputSize(height: side, width: side)
            XCTAssertTrue(Conv2d.takesRowDotProducts(outputChannels: 70, positions: positions.height * positions.width, patchSize: 130 * 9))
            let expected = ArithmeticVariant.with(.referenceGemm) { conv.forward(input) }
            let one = Self.withThreads(1) { conv.forward(input) }
            // |w|, |x| < 1 and |b| < 1: each output adds at most 1170 products and a bias.
            assertWithin(one, expected, .sum(count: 130 * 9 + 1, magnitude: 130 * 9 + 1, largestTerm: 1) + .sum(count: 4, magnitude: 130 * 9 + 1, largestTerm: 1),
                         "one picture by dot products, \(side)×\(side), stride \(stride)")
            for threads in [2, 3] {
                XCTAssertEqual(Self.withThreads(threads) { conv.forward(input) }.data.map(\.bitPattern), one.data.map(\.bitPattern),
                               "\(threads) threads against 1")
            }
        }
        XCTAssertFalse(Conv2d.takesRowDotProducts(outputChannels: 256, positions: 196, patchSize: 1152), "a 14 × 14 plane stays with OpenBLAS")
        XCTAssertFalse(Conv2d.takesRowDotProducts(outputChannels: 512, positions: 49, patchSize: 256), "a 1 × 1 downsampling stays with OpenBLAS")
    }
}

extension XCTestCase {
    /// Runs body with OpenBLAS's kernels taken as wide as MiniNet's loops (false), then as
    /// narrower (true), whatever this machine's are, so that the products go to OpenBLAS and then
    /// to `tutor_multiply_narrow` wherever `Gemm.takesNarrowProduct` allows; restores the
    /// machine's own answer after. Failures inside are followed by one that names the side.
    func onEachSideOfTheOwnProductsRule(file: StaticString = #filePath, line: UInt = #line, _ body: (Bool) throws -> Void) rethrows {
        defer { Gemm.ownLoopsWiderForTesting = nil }
        for wider in [false, true] {
            let failuresBefore = testRun?.totalFailureCount ?? 0
            defer {
                let failures = (testRun?.totalFailureCount ?? 0) - failuresBefore
                if failures > 0 {
                    XCTFail("the \(failures) failure(s) above came with ownLoopsWiderForTesting = \(wider)", file: file, line: line)
                }
            }
            Gemm.ownLoopsWiderForTesting = wider
            try body(wider)
        }
    }
}

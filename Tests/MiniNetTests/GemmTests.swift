import XCTest
@testable import MiniNet

/// `Gemm.multiply` (OpenBLAS) against the three-loop `Gemm.referenceMultiply`:
///
///     C = α·op(A)·op(B) + β·C,    op(A) [M, K], op(B) [K, N], C [M, N], all row-major.
final class GemmTests: XCTestCase {
    /// Runs both implementations from the same starting C and compares within Float32 rounding:
    /// each entry sums K products, so its error is bounded by ≈ K·ε·Σ|terms|.
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
        // |terms| ≤ 1, so Σ|terms| ≤ |α|·K + |β|.
        let bound = 4 * Float.ulpOfOne * Float(max(k, 1)) * (abs(alpha) * Float(k) + abs(beta)) + 1e-6
        var worst: Float = 0
        for index in expected.indices { worst = max(worst, abs(expected[index] - actual[index])) }
        XCTAssertLessThanOrEqual(worst, bound,
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

    /// Thread count must not change the result beyond rounding.
    func testThreadCountDoesNotChangeTheResult() {
        Gemm.setThreads(1)
        compare(m: 70, n: 80, k: 90, transposeA: true, transposeB: false, alpha: 1, beta: 0, seed: 55)
        Gemm.setThreads(2)
        compare(m: 70, n: 80, k: 90, transposeA: true, transposeB: false, alpha: 1, beta: 0, seed: 55)
    }

    /// Products above the threading threshold are cut into blocks of rows or of columns; each
    /// transpose and both cuts give what one thread gives, β = 1 accumulation included.
    func testBlocksOnTwoThreadsEqualOneThread() {
        for (m, n, k) in [(300, 250, 250), (130, 520, 250)] {
            XCTAssertGreaterThanOrEqual(m * n * k, Gemm.threadingThreshold)
            for transposeA in [false, true] {
                for transposeB in [false, true] {
                    let a = GradientCheck.uniform([m * k], seed: 1).data
                    let b = GradientCheck.uniform([k * n], seed: 2).data
                    let start = GradientCheck.uniform([m * n], seed: 3).data
                    func product(threads: Int) -> [Float] {
                        Gemm.setThreads(threads)
                        defer { Gemm.setThreads(2) }
                        var c = start
                        a.withUnsafeBufferPointer { a in
                            b.withUnsafeBufferPointer { b in
                                c.withUnsafeMutableBufferPointer { c in
                                    Gemm.multiply(a.baseAddress!, transposeA: transposeA, b.baseAddress!, transposeB: transposeB,
                                                  into: c.baseAddress!, m: m, n: n, k: k, alpha: 0.5, beta: 1)
                                }
                            }
                        }
                        return c
                    }
                    let (one, two) = (product(threads: 1), product(threads: 2))
                    let difference = zip(one, two).map { abs($0 - $1) }.max() ?? 0
                    XCTAssertLessThan(difference, 1e-4, "\(m)×\(n)×\(k), transposeA \(transposeA), transposeB \(transposeB)")
                }
            }
        }
    }
}

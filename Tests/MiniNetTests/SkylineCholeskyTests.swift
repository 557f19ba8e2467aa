import XCTest
@testable import MiniNet

/// ROAD's linear system solved by the blocked skyline Cholesky (NoisyLinearImputation.swift).
/// The order of its sums, at every vector width, is tested in VectorWidthTests.
final class SkylineCholeskyTests: XCTestCase {
    /// The blocked skyline Cholesky against a dense one: on pictures whose unknowns are not a
    /// multiple of four (partial last block) and whose envelopes start anywhere, the entries
    /// left of each row's first nonzero stay exact zeros, and L Lᵀ = A and the solution agree
    /// with plain Gaussian elimination within Double's rounding (A is diagonally dominant and
    /// its entries at most 1, so 1e-12 is about two hundred times the rounding of a sum of 50
    /// terms).
    func testBlockedCholeskyAgreesWithDenseElimination() {
        var partialBlocks = 0
        for (height, width, fraction, seed) in [(13, 11, 0.6, UInt64(1)), (9, 17, 0.35, 2), (7, 7, 0.95, 3), (5, 3, 0.5, 4)] {
            var generator = SeededGenerator(seed: seed)
            let mask = (0..<(height * width)).map { _ in Double(generator.nextUniform()) < fraction }
            let system = NoisyLinearImputation.System(removed: mask, height: height, width: width)
            let n = system.removed.count
            guard n > 0 && n < mask.count else { continue }
            if n % NoisyLinearImputation.SkylineCholesky.blockRows != 0 { partialBlocks += 1 }
            var dense = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
            for i in 0..<n {
                dense[i][i] = system.diagonal[i]
                for slot in 0..<8 where system.neighbours[i * 8 + slot] >= 0 {
                    dense[i][system.neighbours[i * 8 + slot]] = -NoisyLinearImputation.neighbourWeights[slot].weight
                }
            }
            let factor = NoisyLinearImputation.SkylineCholesky(system)
            func l(_ i: Int, _ k: Int) -> Double { k >= factor.start[i] && k <= i ? factor.values[factor.rowOffset[i] + k] : 0 }
            for i in 0..<n {
                let firstNonzero = (0...i).first { dense[i][$0] != 0 } ?? i
                for k in factor.start[i]..<firstNonzero { XCTAssertEqual(l(i, k), 0, "L[\(i)][\(k)] outside the envelope") }
                for j in 0...i {
                    var product = 0.0
                    for k in 0...j { product += l(i, k) * l(j, k) }
                    XCTAssertEqual(product, dense[i][j], accuracy: 1e-12, "(L Lᵀ)[\(i)][\(j)], \(height)×\(width)")
                }
            }
            let b = (0..<n).map { Double($0 % 7) / 3 - 1 }
            var matrix = dense, rhs = b
            for column in 0..<n {
                for row in (column + 1)..<n where matrix[row][column] != 0 {
                    let factor = matrix[row][column] / matrix[column][column]
                    for k in column..<n { matrix[row][k] -= factor * matrix[column][k] }
                    rhs[row] -= factor * rhs[column]
                }
            }
            var expected = [Double](repeating: 0, count: n)
            for row in (0..<n).reversed() {
                var total = rhs[row]
                for k in (row + 1)..<n { total -= matrix[row][k] * expected[k] }
                expected[row] = total / matrix[row][row]
            }
            for (actual, wanted) in zip(factor.solve(b), expected) { XCTAssertEqual(actual, wanted, accuracy: 1e-12) }
        }
        XCTAssertGreaterThanOrEqual(partialBlocks, 2, "cases whose last block is partial")
    }

    /// The three colour channels solved together give each channel's single solve, bit for bit,
    /// at every vector width (rows of 0 to 200 terms, so every part of the sums' order is used).
    func testThreeChannelsTogetherAreThreeSolves() {
        var solved = 0
        for (height, width, fraction, seed) in [(31, 29, 0.9, UInt64(5)), (24, 40, 0.5, 6), (12, 12, 0.2, 7)] {
            var generator = SeededGenerator(seed: seed)
            let mask = (0..<(height * width)).map { _ in Double(generator.nextUniform()) < fraction }
            let system = NoisyLinearImputation.System(removed: mask, height: height, width: width)
            let n = system.removed.count
            guard n > 0 && n < mask.count else { continue }
            let factor = NoisyLinearImputation.SkylineCholesky(system)
            let b = (0..<3).map { c in (0..<n).map { _ in Double(generator.uniform(-1, 1)) + Double(c) } }
            for vectorWidth in VectorWidth.available {
                let (together, alone) = VectorWidth.with(vectorWidth) {
                    let (u0, u1, u2) = factor.solve(b[0], b[1], b[2])
                    return ([u0, u1, u2], b.map(factor.solve))
                }
                for c in 0..<3 {
                    XCTAssertEqual(together[c].map(\.bitPattern), alone[c].map(\.bitPattern), "channel \(c), \(height)×\(width), \(vectorWidth)")
                }
                solved += 1
            }
        }
        XCTAssertGreaterThanOrEqual(solved, 3 * VectorWidth.available.count)
    }
}

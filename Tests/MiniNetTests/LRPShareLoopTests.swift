import Foundation
import XCTest
@testable import MiniNet

/// The loops that share out one plane's relevance (`LRPRule.shareOut`) and sum it by the sign of
/// z (`LRPRule.signedSums`), eight values at a time, against the same formulas one value at a
/// time: every share bit for bit, the sums to the rounding of a sum in another order.
final class LRPShareLoopTests: XCTestCase {
    /// z with exact zeros, both signs and a spread of sizes; R and the plain output alike.
    func values(_ count: Int, seed: UInt64) -> (z: [Float], relevance: [Float], plain: [Float]) {
        var generator = SeededGenerator(seed: seed)
        func draw() -> [Float] {
            (0..<count).map { index in index % 7 == 3 ? 0 : generator.uniform(-1, 1) * Float(1 << (index % 5)) }
        }
        return (draw(), draw(), draw())
    }

    /// The formulas one value at a time, with each sum in one running Double.
    func reference(_ z: [Float], _ relevance: [Float], _ plain: [Float], gate: LRPGate,
                   stabilizer: LRPStabilizer) -> (shares: [Float], sums: (Double, Double, Double)) {
        var shares = [Float](repeating: 0, count: z.count)
        var (total, stabilized, magnitude) = (0.0, 0.0, 0.0)
        for k in z.indices {
            if gate == .positiveOutput && !(plain[k] > 0) || gate == .negativeOutput && !(plain[k] < 0) { continue }
            guard let denominator = stabilizer.stabilize(z[k]) else {
                stabilized += Double(relevance[k])
                continue
            }
            shares[k] = relevance[k] / denominator
            total += Double(shares[k])
            magnitude += Double(abs(shares[k]))
            stabilized += Double(denominator - z[k]) * Double(shares[k])
        }
        return (shares, (total, stabilized, magnitude))
    }

    func testSharesAreBitForBitAndSumsAgreeForEveryGateAndStabiliser() {
        for count in [0, 5, 8, 13, 64, 67] {
            let (z, relevance, plain) = values(count, seed: UInt64(count) + 1)
            for gate in [LRPGate.everywhere, .positiveOutput, .negativeOutput] {
                for stabilizer in [LRPStabilizer.none, .epsilon(1e-6), .epsilon(0.25)] {
                    var shares = [Float](repeating: .nan, count: count)
                    let sums = z.withUnsafeBufferPointer { z in
                        relevance.withUnsafeBufferPointer { relevance in
                            plain.withUnsafeBufferPointer { plain in
                                shares.withUnsafeMutableBufferPointer { shares in
                                    LRPRule.shareOut(0..<count, z: z, relevance: relevance, plain: plain, gate: gate,
                                                     stabilizer: stabilizer, into: shares)
                                }
                            }
                        }
                    }
                    let expected = reference(z, relevance, plain, gate: gate, stabilizer: stabilizer)
                    let what = "\(count) values, \(gate), \(stabilizer)"
                    XCTAssertEqual(shares.map(\.bitPattern), expected.shares.map(\.bitPattern), what)
                    // The same terms in another order: |Δ| ≤ γ_n Σ|terms| in Double, n ≤ count.
                    let bound = { (size: Double) in 2 * Double(count) * Double.ulpOfOne * size }
                    XCTAssertEqual(sums.shares, expected.sums.0, accuracy: bound(expected.sums.2), what)
                    XCTAssertEqual(sums.magnitude, expected.sums.2, accuracy: bound(expected.sums.2), what)
                    let stabilizedSize = zip(z, relevance).map { Double(abs($0.1)) + abs(Double($0.0)) }.reduce(0, +)
                    XCTAssertEqual(sums.stabilized, expected.sums.1, accuracy: bound(stabilizedSize + expected.sums.2), what)
                }
            }
        }
    }

    func testSignedSumsSplitTheRelevanceBySignOfZ() {
        for count in [0, 7, 8, 100, Parallel.sumBlock + 9] {
            let (z, relevance, _) = values(count, seed: UInt64(count) + 11)
            let (positive, negative) = relevance.withUnsafeBufferPointer { r in
                z.withUnsafeBufferPointer { z in LRPRule.signedSums(r, by: z) }
            }
            var expected = (0.0, 0.0)
            for k in z.indices {
                if z[k] > 0 { expected.0 += Double(relevance[k]) } else if z[k] < 0 { expected.1 += Double(relevance[k]) }
            }
            let size = relevance.map { Double(abs($0)) }.reduce(0, +)
            XCTAssertEqual(positive, expected.0, accuracy: 2 * Double(count) * Double.ulpOfOne * size, "\(count)")
            XCTAssertEqual(negative, expected.1, accuracy: 2 * Double(count) * Double.ulpOfOne * size, "\(count)")
        }
    }
}

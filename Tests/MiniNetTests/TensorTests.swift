import XCTest
import MiniNet

final class TensorTests: XCTestCase {
    func testIndexingIsRowMajor() {
        var tensor = Tensor(zeros: [2, 3, 4])
        tensor[1, 2, 3] = 5
        XCTAssertEqual(tensor.data[1 * 12 + 2 * 4 + 3], 5)
        XCTAssertEqual(tensor.strides, [12, 4, 1])
    }

    /// Σ in blocks and lanes: the same bits on 1, 2 and 16 threads, Σ|x| likewise, and both
    /// within the rounding of a Double sum of the exact float values.
    func testSumsAreTheSameOnEveryThreadCount() {
        let values = GradientCheck.uniform([3 * (1 << 16) + 5], seed: 7)   // several blocks and a ragged end
        let sums = [1, 2, 16].map { threads in GemmTests.withThreads(threads) { (values.sum(), values.magnitudeSum()) } }
        for (sum, magnitude) in sums.dropFirst() {
            XCTAssertEqual(sum.bitPattern, sums[0].0.bitPattern)
            XCTAssertEqual(magnitude.bitPattern, sums[0].1.bitPattern)
        }
        var (running, runningMagnitude) = (0.0, 0.0)
        for value in values.data { running += Double(value); runningMagnitude += Double(abs(value)) }
        let bound = 2 * Double(values.count) * Double.ulpOfOne * runningMagnitude
        XCTAssertEqual(sums[0].0, running, accuracy: bound)
        XCTAssertEqual(sums[0].1, runningMagnitude, accuracy: bound)
        XCTAssertEqual(Tensor(shape: [3], data: [-1, 2, -0.5]).magnitudes.data, [1, 2, 0.5])
    }
}

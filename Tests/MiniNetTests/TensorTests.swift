import XCTest
import MiniNet

final class TensorTests: XCTestCase {
    func testIndexingIsRowMajor() {
        var tensor = Tensor(zeros: [2, 3, 4])
        tensor[1, 2, 3] = 5
        XCTAssertEqual(tensor.data[1 * 12 + 2 * 4 + 3], 5)
        XCTAssertEqual(tensor.strides, [12, 4, 1])
    }
}

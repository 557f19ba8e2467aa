import Foundation
import XCTest
@testable import MiniNet

/// `AttributionDisplay.normalize` against Captum 0.9's `_normalize_attr` on the same heavy-tailed
/// attribution, for every sign and three outlier percentages (Fixtures/parity/visualize.json,
/// made by tools/parity/make_visualization_parity.py).
final class AttributionDisplayTests: XCTestCase {
    struct Fixture: Decodable {
        struct Case: Decodable {
            var sign: String
            var outlier_perc: Double
            var normalized: [[Double]]
        }
        var shape_hwc: [Int]
        var attribution_hwc: [Double]
        var cases: [Case]
    }

    func testMatchesCaptumForEverySignAndOutlierPercentage() throws {
        let url = try XCTUnwrap(Bundle.module.url(forResource: "visualize", withExtension: "json", subdirectory: "Fixtures/parity"))
        let fixture = try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
        let (height, width, channels) = (fixture.shape_hwc[0], fixture.shape_hwc[1], fixture.shape_hwc[2])
        // Captum takes [H, W, C]; MiniNet's maps are [C, H, W].
        var attribution = Tensor(zeros: [channels, height, width])
        for h in 0..<height {
            for w in 0..<width {
                for c in 0..<channels {
                    attribution.data[(c * height + h) * width + w] = Float(fixture.attribution_hwc[(h * width + w) * channels + c])
                }
            }
        }
        let signs: [String: AttributionSign] = ["positive": .positive, "negative": .negative, "absolute_value": .absolute, "all": .all]
        XCTAssertEqual(fixture.cases.count, 12)
        for reference in fixture.cases {
            let sign = try XCTUnwrap(signs[reference.sign])
            let shown = AttributionDisplay.normalize(attribution, sign: sign, outlierPercent: reference.outlier_perc)
            XCTAssertEqual(shown.shape, [height, width])
            // Values in −1…1 from a sum of three float32 numbers divided by a threshold: Captum's
            // float32 sums and ours in Double differ by a few units of 2⁻²⁴ (the parity bound of
            // the issue is 1e-6 on these normalised values).
            let worst = zip(shown.data, reference.normalized.flatMap { $0 }).map { abs(Double($0) - $1) }.max() ?? 0
            XCTAssertLessThanOrEqual(worst, 1e-6, "\(reference.sign), outlier \(reference.outlier_perc)%")
            // Some values are clipped at the bound, so the outlier percentage did its job.
            XCTAssertTrue(shown.data.contains { abs($0) == 1 }, "\(reference.sign)")
        }
    }

    func testOneOutlierNoLongerSetsTheScale() {
        // 999 values of 1 and one of 5. Divided by max |a| the 999 show at 0.2. With P = 1 the
        // running sum of the sorted values passes 99% of 1004 at the 994th value 1, so the
        // threshold is 1: the map shows at full strength and the outlier is clipped to 1.
        var map = Tensor(zeros: [40, 25])
        for index in map.data.indices { map.data[index] = 1 }
        map.data[0] = 5
        let shown = AttributionDisplay.normalize(map, sign: .positive, outlierPercent: 1)
        XCTAssertEqual(shown.data[1], 1)
        XCTAssertEqual(shown.data[0], 1)
        // With P = 0 nothing is clipped: the threshold is the largest value.
        XCTAssertEqual(AttributionDisplay.normalize(map, sign: .positive, outlierPercent: 0).data[1], 0.2, accuracy: 1e-7)
        XCTAssertEqual(AttributionDisplay.normalize(Tensor(zeros: [2, 2]), sign: .all, outlierPercent: 1).data, [0, 0, 0, 0])
    }
}

import Foundation
import XCTest
import MiniNet

/// Parity with a reference that is ill-conditioned in float32 (docs/numerics.md).
///
/// Input gradients and LRP relevances of deep networks move by much more than a few float32
/// units when the arithmetic is rounded differently: a ReLU whose pre-activation lies within
/// rounding distance of 0 switches the whole gradient path behind it on or off, and the ε rule
/// divides by pre-activations z that can be far smaller than the sums they are rounded from
/// (ε = 1e-6 stabilises only |z| ≲ 1e-6). A fixed relative tolerance then measures the
/// machine's summation order, not MiniNet. So every such fixture holds, next to the library's
/// float32 result `ref32`, its float64 twin `ref64` (the same library run on `.double()` copies
/// of the model and the input), stored as the float32 difference ref64 − ref32. With
///
///     d_ref  = max |ref32 − ref64| over the stored run and the library's other float32 runs
///              (`float32_spread` in the fixture): how far correct float32 results land
///     d_ours = max |ours  − ref64|   how far MiniNet lands
///
/// The other float32 runs (tools/fixtures/resnet_reference.py, float32_runs) are the same library
/// on its parameters and input rounded once more (x·(1 + u·n), 8 seeds) and, for LRP, PyTorch
/// without oneDNN and with channels_last. One run is one draw of the rounding, and the draws vary
/// by 10×: on ResNet-50 the stored run lands 1.0e-4 from float64, PyTorch without oneDNN 1.1e-3.
///
/// The requirement is
///
///     d_ours ≤ c · d_ref + k · u · depth · max |ref64|,   c = 4, k = 2, u = 2⁻²⁴.
///
/// c = 4: MiniNet and the reference are float32 implementations with different summation orders
/// (OpenBLAS kernels chosen by CPU, with or without FMA, or a plain loop, against oneDNN and
/// PyTorch's kernels); their rounding errors are draws of the same kind, amplified by the same
/// ill-conditioned steps, but a plain float32 loop without FMA rounds more per dot product than
/// any of the reference's runs. The ratios d_ours/d_ref measured on every fixture, for MiniNet
/// with OpenBLAS's Haswell, Zen, Sandybridge and Prescott kernels and with plain-loop products,
/// are listed in docs/numerics.md: at most about 2.3; 4 leaves room for other CPUs.
/// The floor k · u · depth · max |ref64| is the error bound of a well-conditioned float32 chain of
/// `depth` layers (each rounding costs a unit or two of u relative to the result): it only
/// matters where the reference happens to be almost exact in float32 (d_ref ≈ 0).
struct ConditionedParity {
    /// c: how much further from float64 than the reference MiniNet may land.
    static let factor = 4.0
    /// k: units of roundoff per layer in the floor.
    static let floorUnits = 2.0
    /// u = 2⁻²⁴, float32's unit roundoff.
    static let unitRoundoff = 0x1p-24

    let count: Int
    /// max |ref32 − ref64| of the stored float32 reference
    let storedDistance: Double
    /// d_ref: the larger of storedDistance and the fixture's `float32_spread`
    let referenceDistance: Double
    /// max |ours − ref64|
    let ourDistance: Double
    /// max |ref64|
    let largest: Double
    /// k · u · depth · max |ref64|
    let floor: Double
    /// where |ours − ref64| is largest
    let worstIndex: Int
    let ours: Float
    let reference32: Float
    let reference64: Double

    var bound: Double { Self.factor * referenceDistance + floor }
    var ratio: Double { referenceDistance > 0 ? ourDistance / referenceDistance : .infinity }
    var holds: Bool { ourDistance <= bound }

    /// `difference` is float32(ref64 − ref32), so ref64 = ref32 + difference up to u · |difference|.
    /// `spread` is the fixture's float32_spread: max |ref32 − ref64| over several float32 runs.
    init(ours: [Float], reference32: [Float], float64MinusFloat32 difference: [Float], spread: Double?, depth: Int) {
        // (Sizes are checked by `check`; a mismatch compares the common prefix.)
        let count = min(ours.count, reference32.count, difference.count)
        var referenceDistance = 0.0, ourDistance = 0.0, largest = 0.0, worst = 0
        for index in 0..<count {
            let exact = Double(reference32[index]) + Double(difference[index])
            referenceDistance = max(referenceDistance, abs(Double(difference[index])))
            largest = max(largest, abs(exact))
            let distance = abs(Double(ours[index]) - exact)
            if distance > ourDistance { (ourDistance, worst) = (distance, index) }
        }
        self.count = count
        self.storedDistance = referenceDistance
        self.referenceDistance = max(referenceDistance, spread ?? 0)
        self.ourDistance = ourDistance
        self.largest = largest
        self.floor = Self.floorUnits * Self.unitRoundoff * Double(depth) * largest
        self.worstIndex = worst
        self.ours = count == 0 ? 0 : ours[worst]
        self.reference32 = count == 0 ? 0 : reference32[worst]
        self.reference64 = count == 0 ? 0 : Double(reference32[worst]) + Double(difference[worst])
        if count > 0 {
            var o = (0..<count).map { abs(Double(ours[$0]) - Double(reference32[$0]) - Double(difference[$0])) }
            var r = (0..<count).map { abs(Double(difference[$0])) }
            o.sort(); r.sort()
            func q(_ v: [Double], _ f: Double) -> String { String(format: "%.2g", v[min(v.count - 1, Int(f * Double(v.count)))]) }
            quantiles = "ours p50 \(q(o, 0.5)) p90 \(q(o, 0.9)) p99 \(q(o, 0.99)) p99.9 \(q(o, 0.999)) | ref p50 \(q(r, 0.5)) p90 \(q(r, 0.9)) p99 \(q(r, 0.99)) p99.9 \(q(r, 0.999))"
        }
    }

    /// Quantiles of |ours − ref64| and |ref32 − ref64| (for the report).
    var quantiles: String = ""

    var summary: String {
        func short(_ value: Double) -> String { String(format: "%.3g", value) }
        return "d_ours \(short(ourDistance)), d_ref \(short(referenceDistance)) (stored run \(short(storedDistance))), "
            + "ratio \(short(ratio)), "
            + "bound \(short(bound)) (= \(Self.factor)·d_ref + floor \(short(floor))), max |ref64| \(short(largest)), "
            + "d_ref/max \(short(referenceDistance / max(largest, .leastNonzeroMagnitude))); "
            + "worst at [\(worstIndex)]: ours \(ours), ref32 \(reference32), ref64 \(reference64)"
    }

    /// Fails unless d_ours ≤ c · d_ref + floor. With MININET_PARITY_REPORT set in the
    /// environment, prints the measured numbers (docs/numerics.md lists them).
    static func check(_ label: String, ours: [Float], reference32: [Float], float64MinusFloat32: [Float],
                      spread: Double?, depth: Int,
                      file: StaticString = #filePath, line: UInt = #line) -> ConditionedParity {
        XCTAssertEqual(ours.count, reference32.count, "\(label): sizes differ", file: file, line: line)
        XCTAssertEqual(reference32.count, float64MinusFloat32.count, "\(label): float64 twin has the wrong size",
                       file: file, line: line)
        let result = ConditionedParity(ours: ours, reference32: reference32, float64MinusFloat32: float64MinusFloat32,
                                       spread: spread, depth: depth)
        if ProcessInfo.processInfo.environment["MININET_PARITY_REPORT"] != nil {
            print("conditioned parity: \(label): \(result.summary)")
            print("quantiles: \(label): \(result.quantiles)")
        }
        XCTAssertTrue(result.holds, "\(label): \(result.summary)", file: file, line: line)
        return result
    }

    /// `float32_spread` of a file of Fixtures/resnet, from resnet-manifest.json.
    static func resnetSpread(_ file: String) throws -> Double {
        struct Manifest: Decodable {
            struct Entry: Decodable { var file: String; var float32_spread: Double? }
            var files: [Entry]
        }
        let url = try XCTUnwrap(Bundle.module.url(forResource: "Fixtures/resnet/resnet-manifest", withExtension: "json"))
        let manifest = try JSONDecoder().decode(Manifest.self, from: Data(contentsOf: url))
        return try XCTUnwrap(manifest.files.first { $0.file == file }?.float32_spread, "no float32_spread for \(file)")
    }
}

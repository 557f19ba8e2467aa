import Dispatch
import MiniNet

/// What the machine can do at best, so that each time `tutor bench` reports reads as a share
/// of it (issue 17, item 6): the rate of one large single-precision matrix product on the
/// bench's threads, and the arithmetic of one forward pass.
///
/// A convolution done directly costs 2·Cout·Cin·k²·OH·OW FLOPs per image (one multiply and one
/// add per term), a fully connected layer 2·Fout·Fin; BatchNorm, ReLU, pooling and the residual
/// sums add well under 1 % to that and are left out. At the sgemm rate R, a forward pass of F
/// FLOPs cannot take less than F / R seconds done directly. Winograd's F(2×2, 3×3) does the
/// 3×3 convolutions with 16 multiplications for every 36, so F / (time · R) may pass 1: that
/// is the share of the direct limit, not of the machine.
struct BenchLimit {
    /// GFLOP/s of C [n, n] = A [n, n] × B [n, n], the median of `repeats` after one warm-up.
    let sgemmGFLOPsPerSecond: Double
    /// The side n of the product timed.
    let sgemmSize: Int
    /// GFLOP of one forward pass of one image, counted as the direct method does it.
    let forwardGFLOP: Double

    static func measure(classifier: ImageClassifier, batch: Tensor, size: Int = 2048, repeats: Int = 5) -> BenchLimit {
        BenchLimit(sgemmGFLOPsPerSecond: sgemmRate(size: size, repeats: repeats), sgemmSize: size,
                   forwardGFLOP: forwardFLOPs(classifier: classifier, batch: batch) / 1e9 / Double(batch.shape[0]))
    }

    static func sgemmRate(size n: Int, repeats: Int) -> Double {
        // Values of one sign and order, so that no product overflows or turns subnormal.
        let a = (0..<(n * n)).map { Float(($0 % 7) + 1) / 8 }
        let b = (0..<(n * n)).map { Float(($0 % 5) + 1) / 8 }
        var c = [Float](repeating: 0, count: n * n)
        var times: [Double] = []
        for run in 0...repeats {
            let start = DispatchTime.now().uptimeNanoseconds
            a.withUnsafeBufferPointer { a in
                b.withUnsafeBufferPointer { b in
                    c.withUnsafeMutableBufferPointer { c in
                        Gemm.multiply(a.baseAddress!, b.baseAddress!, into: c.baseAddress!, m: n, n: n, k: n)
                    }
                }
            }
            if run > 0 { times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9) }
        }
        return 2 * Double(n) * Double(n) * Double(n) / median(times) / 1e9
    }

    /// FLOPs of one forward pass of `batch`, from the shapes each layer's output takes.
    static func forwardFLOPs(classifier: ImageClassifier, batch: Tensor) -> Double {
        var total = 0.0
        var restore: [() -> Void] = []
        for layer in classifier.network.allLayers {
            let termsPerOutput: Int
            if let convolution = layer as? Conv2d {
                termsPerOutput = convolution.inputChannels * convolution.kernelSize * convolution.kernelSize
            } else if let linear = layer as? Linear {
                termsPerOutput = linear.inputFeatures
            } else {
                continue
            }
            let previous = layer.hooks.forward
            layer.hooks.forward = { output in
                total += 2 * Double(termsPerOutput) * Double(output.count)
                return previous?(output) ?? output
            }
            restore.append { layer.hooks.forward = previous }
        }
        _ = classifier.inferenceLogits(batch)
        for undo in restore { undo() }
        return total
    }
}

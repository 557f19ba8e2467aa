import CKernels

/// Convolution → BatchNorm → ReLU (and a residual block's sum) in one pass over the output, for
/// passes that keep nothing for a backward pass (`GradientRecording.disabled`: scores, curves,
/// the benchmark's forward pass).
///
/// In evaluation mode a BatchNorm2d is one scale and shift per channel c, and the layers after a
/// convolution's output z compute, one entry at a time,
///
///     b = scale_c·z + shift_c          BatchNorm2d
///     s = b + shortcut                 the residual's sum (the last BatchNorm of a block)
///     y = max(0, s)                    ReLU
///
/// Run as separate layers, each reads the whole tensor and writes a new one: three passes over
/// memory and three allocations after every block's last convolution. Here the same three
/// operations run on each entry in one pass, in place in the convolution's output
/// (`tutor_scale_shift_add_relu`), each rounded as the separate layer rounds it (a product and a
/// sum, never fused), with the scale and shift BatchNorm2d itself computes
/// (`scalesAndShifts`): so the result is the same to the bit.
///
/// A layer with a forward hook is never fused: the hook must see that layer's own output.
/// Neither is a pass that records for backward, since each layer's cache holds its own input
/// or output.
enum InferenceFusion {
    /// The convolution, BatchNorm and optional ReLU that start at `index` of `layers` and end
    /// before `end`, when the three (or two) can run as one pass.
    static func match(_ layers: [(name: String, layer: Layer)], at index: Int, before end: Int) -> (conv: Conv2d, batchNorm: BatchNorm2d, relu: Bool)? {
        guard !GradientRecording.isEnabled, index + 1 < end,
              let conv = layers[index].layer as? Conv2d, conv.hooks.forward == nil,
              let batchNorm = layers[index + 1].layer as? BatchNorm2d, batchNorm.hooks.forward == nil, !batchNorm.isTraining
        else { return nil }
        let relu = index + 2 < end && isPlainReLU(layers[index + 2].layer)
        return (conv, batchNorm, relu)
    }

    /// Runs layers[range] one after another on `input`, as `Sequential` does, each convolution,
    /// BatchNorm and ReLU that `match` finds as one pass.
    static func runInOrder(_ layers: [(name: String, layer: Layer)], _ range: Range<Int>, _ input: Tensor) -> Tensor {
        var activation = input
        var index = range.lowerBound
        while index < range.upperBound {
            if let fused = match(layers, at: index, before: range.upperBound) {
                activation = run(fused.conv, fused.batchNorm, relu: fused.relu, activation)
                index += fused.relu ? 3 : 2
            } else {
                activation = layers[index].layer.run(activation)
                index += 1
            }
        }
        return activation
    }

    /// A ReLU whose output goes on unseen (no forward hook).
    static func isPlainReLU(_ layer: Layer) -> Bool {
        type(of: layer) == ReLU.self && layer.hooks.forward == nil
    }

    /// input [N, Cin, H, W] → ReLU?(batchNorm(conv(input)) + addend?) [N, Cout, OH, OW], where
    /// addend (the residual's shortcut) has the output's shape.
    static func run(_ conv: Conv2d, _ batchNorm: BatchNorm2d, relu: Bool, adding addend: Tensor? = nil, _ input: Tensor) -> Tensor {
        var output = conv.forward(input)
        precondition(output.shape[1] == batchNorm.channels, "\(batchNorm.name): BatchNorm2d expects \(batchNorm.channels) channels, got \(output.shape)")
        precondition(addend == nil || addend!.shape == output.shape, "\(conv.name): shortcut \(addend!.shape) for an output \(output.shape)")
        let (scales, shifts, _) = batchNorm.scalesAndShifts(mean: batchNorm.runningMean.data, variance: batchNorm.runningVariance.data)
        let (planes, planeSize, channels) = (output.shape[0] * output.shape[1], output.shape[2] * output.shape[3], output.shape[1])
        output.data.withUnsafeMutableBufferPointer { y in
            let y = SendableMutablePointer(y.baseAddress!)
            func applyToEveryPlane(adding addend: SendablePointer?) {
                Parallel.forEach(planes, cost: planeSize) { plane in      // plane = n·C + c
                    let start = plane * planeSize
                    tutor_scale_shift_add_relu(y.pointer + start, addend.map { $0.pointer + start }, planeSize,
                                               scales[plane % channels], shifts[plane % channels], relu ? 1 : 0)
                }
            }
            if let addend {
                addend.data.withUnsafeBufferPointer { applyToEveryPlane(adding: SendablePointer($0.baseAddress!)) }
            } else {
                applyToEveryPlane(adding: nil)
            }
        }
        return output
    }
}

import CKernels

/// The C loops of the layers (Sources/CKernels/layer_kernels.c), run at the `VectorWidth` in
/// use. Each computes every entry as the Swift loop it replaced did, in the same order, so the
/// results do not depend on the width; the layers share the calls out over the threads.
/// (include/layer_kernels.h says exactly what each computes.)
enum LayerKernels {
    /// Channel c's k·k rows of the im2col columns [Cin·k·k, N·OH·OW] of x [N, Cin, H, W].
    static func im2col(channel: Int, of x: UnsafePointer<Float>, into columns: UnsafeMutablePointer<Float>,
                       channels: Int, batch: Int, height: Int, width: Int,
                       kernelSize: Int, stride: Int, padding: Int, outputHeight: Int, outputWidth: Int) {
        tutor_im2col_channel(x, columns, channel, channels, batch, height, width, kernelSize, stride, padding,
                             outputHeight, outputWidth)
    }

    /// Adds channel c's k·k rows of the columns back into channel c of x (the adjoint of im2col).
    static func col2im(channel: Int, of columns: UnsafePointer<Float>, into x: UnsafeMutablePointer<Float>,
                       channels: Int, batch: Int, height: Int, width: Int,
                       kernelSize: Int, stride: Int, padding: Int, outputHeight: Int, outputWidth: Int) {
        tutor_col2im_channel(columns, x, channel, channels, batch, height, width, kernelSize, stride, padding,
                             outputHeight, outputWidth)
    }

    /// y[i] = x[i] > 0 ? x[i] : 0 for i in range.
    static func reluForward(_ x: UnsafeBufferPointer<Float>, _ y: UnsafeMutableBufferPointer<Float>, range: Range<Int>) {
        guard !range.isEmpty else { return }
        let start = range.lowerBound
        tutor_relu_forward(x.baseAddress! + start, y.baseAddress! + start, range.count)
    }

    /// dx[i] = y[i] > 0 ? dy[i] : 0, or, guided, y[i] > 0 and dy[i] > 0 ? dy[i] : 0, for i in range.
    static func reluBackward(output y: UnsafeBufferPointer<Float>, outputGradient dy: UnsafeBufferPointer<Float>,
                             inputGradient dx: UnsafeMutableBufferPointer<Float>, range: Range<Int>, guided: Bool) {
        guard !range.isEmpty else { return }
        let (y, dy, dx) = (y.baseAddress! + range.lowerBound, dy.baseAddress! + range.lowerBound, dx.baseAddress! + range.lowerBound)
        if guided { tutor_relu_backward_guided(y, dy, dx, range.count) } else { tutor_relu_backward(y, dy, dx, range.count) }
    }

    /// y = scale·x + shift
    static func scaleShift(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int, scale: Float, shift: Float) {
        tutor_scale_shift(x, y, count, scale, shift)
    }

    /// dx = (a·g − b·x) + d
    static func batchNormInputGradient(_ g: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>,
                                       count: Int, a: Float, b: Float, d: Float) {
        tutor_batchnorm_input_gradient(g, x, dx, count, a, b, d)
    }

    /// One plane x [H, W] → y [OH, OW], and (when `winners` is not nil) the flat index
    /// `indexOffset` + row·W + column of each window's winner.
    static func maxPool(plane x: UnsafePointer<Float>, height: Int, width: Int, kernelSize: Int, stride: Int, padding: Int,
                        outputHeight: Int, outputWidth: Int, into y: UnsafeMutablePointer<Float>,
                        winners: UnsafeMutablePointer<Int>?, indexOffset: Int) {
        tutor_maxpool_plane(x, height, width, kernelSize, stride, padding, outputHeight, outputWidth, y, winners, indexOffset)
    }
}

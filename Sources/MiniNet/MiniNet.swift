import CBLAS

/// MiniNet: a small, readable deep-learning library, written to be read by students.
///
/// Legend of symbols used in shape comments throughout MiniNet:
///
///     N   batch size (number of images processed together)
///     C   channels (Cin: input channels, Cout: output channels, K: feature maps of the
///         explained layer, as in the articles' A^k)
///     H   height, W   width (of an image or feature map; OH, OW: output height, width)
///     kH  kW  kernel height and width
///     F   features of a fully connected layer (Fin: inputs, Fout: outputs)
///     L   number of classes (logits)
///
/// Every tensor is Float32, contiguous, row-major (the last index varies fastest), exactly
/// as a contiguous PyTorch tensor: an [N, C, H, W] batch stores element (n, c, y, x) at
/// ((n·C + c)·H + y)·W + x.
///
/// Every layer keeps its forward and backward passes side by side. Backward takes
/// `outputGradient` (∂loss/∂output) and returns `inputGradient` (∂loss/∂input); parameter
/// gradients accumulate (`+=`) until `zeroGradients()` is called, as in PyTorch.
public enum MiniNet {
    public static let version = "0.1.0"

    /// Keeps large buffers (im2col columns, activations) in the heap for reuse instead of
    /// returning them to the system after every layer: glibc otherwise maps and unmaps every
    /// buffer above 128 KiB, and the page faults of the fresh pages cost more than the
    /// arithmetic on a small network.
    public static func configureAllocator() {
        tutor_configure_allocator()
    }

    /// Bytes the allocator has handed out and not had back, and bytes it holds from the system
    /// (glibc's mallinfo2): the difference is free memory kept for reuse.
    public static var heapUsage: (inUse: Int, held: Int) {
        var (inUse, held) = (0, 0)
        tutor_heap_usage(&inUse, &held)
        return (inUse, held)
    }

    /// Which builds of the hot loops run on this processor: OpenBLAS's kernels (e.g. SKYLAKEX)
    /// and the vector width MiniNet's own C loops run with (`VectorWidth`: "avx512", "avx2" or
    /// "sse", followed by "(TUTOR_SIMD=… → …)" when the width asked for was not available).
    public static var kernels: (openBLAS: String, loops: String) {
        (Gemm.openBLASKernels, VectorWidth.report)
    }
}

/// The arithmetic the layers run on. The numbers of a network depend, to float32 rounding, on
/// the order in which each sum is taken; running the same checks under another order shows
/// whether a tolerance covers rounding or only happens to fit one library.
///
/// The `tutor` executable reads `TUTOR_GEMM=reference` and `TUTOR_WINOGRAD=off` to choose
/// `referenceGemm` or `noWinograd` for a whole run.
public enum ArithmeticVariant: String, CaseIterable, Sendable {
    /// OpenBLAS's sgemm for the products, Winograd for large 3×3 convolutions, and MiniNet's own
    /// kernels where OpenBLAS would spend its time copying (for example short patches summed
    /// directly, and one picture's 7 × 7 stage by dot products of rows): the default.
    case openBLAS
    /// MiniNet's plain-loop product (`Gemm.plainLoopProduct`) in place of OpenBLAS everywhere,
    /// each sum taken in Float in the natural order p = 0, 1, …, K − 1; every convolution that
    /// Winograd's transforms do not take goes through im2col and that product.
    case referenceGemm
    /// The default, but no convolution through Winograd's transforms.
    case noWinograd

    /// The variant in use, for every thread. Not meant to change while a network runs.
    public nonisolated(unsafe) static var current: ArithmeticVariant = .openBLAS

    /// Runs body under `variant`, then restores the variant that was in use.
    public static func with<Result>(_ variant: ArithmeticVariant, _ body: () throws -> Result) rethrows -> Result {
        let previous = current
        current = variant
        defer { current = previous }
        return try body()
    }
}

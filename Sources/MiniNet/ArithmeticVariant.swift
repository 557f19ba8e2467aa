/// The arithmetic the layers run on. The numbers of a network depend, to float32 rounding, on
/// the order in which each sum is taken; running the same checks under another order shows
/// whether a tolerance covers rounding or only happens to fit one library.
///
/// The `tutor` executable reads `TUTOR_GEMM=reference` and `TUTOR_WINOGRAD=off` to choose
/// `referenceGemm` or `noWinograd` for a whole run.
public enum ArithmeticVariant: String, CaseIterable, Sendable {
    /// OpenBLAS's sgemm for every product, Winograd for large 3×3 convolutions: the default.
    case openBLAS
    /// MiniNet's plain-loop product (`Gemm.plainLoopProduct`) in place of OpenBLAS everywhere,
    /// each sum taken in Float in the natural order p = 0, 1, …, K − 1.
    case referenceGemm
    /// OpenBLAS, but every convolution through im2col: Winograd's transforms never run.
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

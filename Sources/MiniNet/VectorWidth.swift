import CKernels
import Foundation

/// How many floats one instruction of MiniNet's own C loops (Sources/CKernels: the Winograd
/// transforms and deep layers' Winograd products, im2col, ReLU, BatchNorm, max pooling) works
/// on. Every loop is compiled for all three from one source and the widest the processor has
/// runs (AVX2 and AVX-512 only with FMA), chosen once on first use, so that one binary runs on
/// any x86-64 and uses AVX-512 where there is one.
///
/// The width changes how many entries are computed at once, never how one entry is computed:
/// these loops are element-wise, in the same order, with no fused multiply-add (the narrow
/// products fuse at every width, SSE2 through the C library's `fmaf`), so every width gives the
/// same bits (`VectorWidthTests` checks it). OpenBLAS chooses its own kernels.
///
/// The `tutor` executable reads `TUTOR_SIMD=sse|avx2|avx512` to choose a narrower width for a
/// whole run (`apply(environment:)`).
public enum VectorWidth: String, CaseIterable, Comparable, Sendable {
    /// SSE2, 4 floats: every x86-64 processor has it.
    case sse
    /// AVX2, 8 floats.
    case avx2
    /// AVX-512F, 16 floats.
    case avx512

    /// Floats per vector register.
    public var lanes: Int {
        switch self {
        case .sse: 4
        case .avx2: 8
        case .avx512: 16
        }
    }

    /// The CPUID feature this width needs.
    public var feature: String {
        switch self {
        case .sse: "sse2"
        case .avx2: "avx2"
        case .avx512: "avx512f"
        }
    }

    var code: Int32 {
        switch self {
        case .sse: Int32(TUTOR_VECTOR_SSE)
        case .avx2: Int32(TUTOR_VECTOR_AVX2)
        case .avx512: Int32(TUTOR_VECTOR_AVX512)
        }
    }

    init(code: Int32) {
        self = VectorWidth.allCases.first { $0.code == code } ?? .sse
    }

    public static func < (left: VectorWidth, right: VectorWidth) -> Bool { left.lanes < right.lanes }

    /// The widest width this processor supports.
    public static var widest: VectorWidth {
        let processor = VectorWidth(code: tutor_widest_vector_width())
        return processorLimitForTesting.map { Swift.min($0, processor) } ?? processor
    }

    /// Makes MiniNet act as if the processor had nothing wider (tests of the fallback on a
    /// processor that has everything).
    nonisolated(unsafe) static var processorLimitForTesting: VectorWidth?

    /// The widths this processor supports, narrowest first.
    public static var available: [VectorWidth] { allCases.filter { $0 <= widest } }

    /// The width in use, for every thread. Setting a width the processor lacks is a programming
    /// error; `choose(_:)` says why instead. Not meant to change while a network runs.
    public static var current: VectorWidth {
        get { VectorWidth(code: tutor_vector_width()) }
        set {
            precondition(available.contains(newValue), "this processor has no \(newValue.feature) for VectorWidth.\(newValue)")
            tutor_set_vector_width(newValue.code)
        }
    }

    /// Runs body with `width`, then restores the width that was in use.
    public static func with<Result>(_ width: VectorWidth, _ body: () throws -> Result) rethrows -> Result {
        let previous = current
        current = width
        defer { current = previous }
        return try body()
    }

    /// Why a requested width was not used.
    public enum Fallback: Equatable, Sendable, CustomStringConvertible {
        /// The name is none of sse, avx2, avx512.
        case unknownName(String)
        /// The processor (or its operating system) lacks the width's instructions.
        case unsupported(VectorWidth)

        public var description: String {
            switch self {
            case .unknownName(let name):
                "\"\(name)\" is not a vector width (sse, avx2 or avx512)"
            case .unsupported(let width):
                "this processor has no \(width.feature), which \(width.rawValue) needs"
            }
        }
    }

    /// What the last `choose(_:)` asked for and got, when it could not give what was asked:
    /// kept so that `MiniNet.kernels` can show it (as "avx2 (TUTOR_SIMD=avx512 → avx2)").
    public nonisolated(unsafe) private(set) static var lastFallback: (requested: String, fallback: Fallback)?

    /// Makes `name` the width in use when the processor has it. Otherwise the widest width
    /// the processor has stays (or becomes) the one in use, and the reason is returned.
    @discardableResult
    public static func choose(_ name: String) -> Fallback? {
        let trimmed = name.trimmingCharacters(in: .whitespaces).lowercased()
        let fallback: Fallback?
        if let width = VectorWidth(rawValue: trimmed) {
            fallback = available.contains(width) ? nil : .unsupported(width)
            current = fallback == nil ? width : widest
        } else {
            fallback = .unknownName(name)
            current = widest
        }
        lastFallback = fallback.map { (name, $0) }
        return fallback
    }

    /// Reads `TUTOR_SIMD` (sse, avx2 or avx512) from `environment`: see `choose(_:)`. Without
    /// it the widest width stays in use and nothing is returned. After a fallback it returns a
    /// note for stderr in symbols only, so that it reads the same in every language:
    ///
    ///     TUTOR_SIMD=avx512 → avx2 (avx512f ∉ CPUID)        the processor lacks AVX-512F
    ///     TUTOR_SIMD=avx3 → avx512 (sse | avx2 | avx512)     not a width
    @discardableResult
    public static func apply(environment: [String: String]) -> String? {
        guard let name = environment["TUTOR_SIMD"] else { return nil }
        guard let fallback = choose(name) else { return nil }
        let reason: String
        switch fallback {
        case .unknownName: reason = allCases.map(\.rawValue).joined(separator: " | ")
        case .unsupported(let width): reason = "\(width.feature) ∉ CPUID"
        }
        return "TUTOR_SIMD=\(name) → \(current.rawValue) (\(reason))"
    }

    /// The width in use as `MiniNet.kernels` reports it: "avx512", or "avx2 (TUTOR_SIMD=avx512 → avx2)"
    /// after a fallback.
    static var report: String {
        guard let (requested, _) = lastFallback else { return current.rawValue }
        return "\(current.rawValue) (TUTOR_SIMD=\(requested) → \(current.rawValue))"
    }
}

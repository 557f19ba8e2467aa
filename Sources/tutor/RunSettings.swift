import ArgumentParser
import Foundation
import Lessons
import MiniNet

/// The environment variables every command honours, read once at start-up:
///
///     TUTOR_THREADS=N            the most threads for the matrix products (default: every core)
///     TUTOR_GEMM=reference       MiniNet's plain-loop products instead of OpenBLAS
///     TUTOR_WINOGRAD=off         every convolution through im2col, never Winograd
///     TUTOR_SIMD=sse|avx2|avx512 the vector width of MiniNet's own loops (default: the widest
///                                the processor has; a width it lacks falls back, with a note)
///
/// Results do not depend on TUTOR_THREADS (see Gemm) or TUTOR_SIMD (see VectorWidth); the
/// other two change the rounding, to show how much of a difference is rounding.
enum RunSettings {
    static func apply(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        if let text = environment["TUTOR_THREADS"] {
            guard let threads = Int(text.trimmingCharacters(in: .whitespaces)), (1...Gemm.threadLimit).contains(threads) else {
                throw ValidationError(translated(
                    "TUTOR_THREADS must be a whole number from 1 to {$1} (it is \"{$2}\"); for example TUTOR_THREADS=2, or unset it to use every core.",
                    with: Gemm.threadLimit, text))
            }
            Gemm.setThreads(threads)
        }
        if let text = environment["TUTOR_SIMD"] {
            guard VectorWidth(rawValue: text.trimmingCharacters(in: .whitespaces).lowercased()) != nil else {
                throw ValidationError(translated(
                    "TUTOR_SIMD must be sse, avx2 or avx512 (it is \"{$1}\"); for example TUTOR_SIMD=sse, or unset it to use the widest the processor has.",
                    with: text))
            }
        }
        if let note = VectorWidth.apply(environment: environment) { StandardStreams.writeError(note + "\n") }
        // Read as TUTOR_SIMD is: case and surrounding spaces do not matter.
        func word(_ name: String, _ fallback: String) -> String {
            environment[name].map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? fallback
        }
        let gemm = word("TUTOR_GEMM", "openblas")
        guard ["openblas", "reference"].contains(gemm) else {
            throw ValidationError(translated("TUTOR_GEMM must be openblas or reference (it is \"{$1}\"); for example TUTOR_GEMM=reference.", with: environment["TUTOR_GEMM"] ?? ""))
        }
        let winograd = word("TUTOR_WINOGRAD", "on")
        guard ["on", "off"].contains(winograd) else {
            throw ValidationError(translated("TUTOR_WINOGRAD must be on or off (it is \"{$1}\"); for example TUTOR_WINOGRAD=off.", with: environment["TUTOR_WINOGRAD"] ?? ""))
        }
        switch (gemm, winograd) {
        case ("openblas", "on"): ArithmeticVariant.current = .openBLAS
        case ("reference", "on"): ArithmeticVariant.current = .referenceGemm
        case ("openblas", "off"): ArithmeticVariant.current = .noWinograd
        default:
            throw ValidationError(translated("TUTOR_GEMM=reference and TUTOR_WINOGRAD=off are separate variants; set only one of them."))
        }
    }
}

import ArgumentParser
import Foundation
import MiniNet

/// The environment variables every command honours, read once at start-up:
///
///     TUTOR_THREADS=N            the most threads for the matrix products (default: every core)
///     TUTOR_GEMM=reference       MiniNet's plain-loop products instead of OpenBLAS
///     TUTOR_WINOGRAD=off         every convolution through im2col, never Winograd
///
/// Results do not depend on TUTOR_THREADS (see Gemm); the other two change the rounding, to
/// show how much of a difference is rounding.
enum RunSettings {
    static func apply(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        if let text = environment["TUTOR_THREADS"] {
            guard let threads = Int(text.trimmingCharacters(in: .whitespaces)), (1...Gemm.threadLimit).contains(threads) else {
                throw ValidationError("TUTOR_THREADS must be a whole number from 1 to \(Gemm.threadLimit) (it is \"\(text)\"); "
                                      + "for example TUTOR_THREADS=2, or unset it to use every core.")
            }
            Gemm.setThreads(threads)
        }
        let gemm = environment["TUTOR_GEMM"] ?? "openblas"
        guard ["openblas", "reference"].contains(gemm) else {
            throw ValidationError("TUTOR_GEMM must be openblas or reference (it is \"\(gemm)\"); for example TUTOR_GEMM=reference.")
        }
        let winograd = environment["TUTOR_WINOGRAD"] ?? "on"
        guard ["on", "off"].contains(winograd) else {
            throw ValidationError("TUTOR_WINOGRAD must be on or off (it is \"\(winograd)\"); for example TUTOR_WINOGRAD=off.")
        }
        switch (gemm, winograd) {
        case ("openblas", "on"): ArithmeticVariant.current = .openBLAS
        case ("reference", "on"): ArithmeticVariant.current = .referenceGemm
        case ("openblas", "off"): ArithmeticVariant.current = .noWinograd
        default:
            throw ValidationError("TUTOR_GEMM=reference and TUTOR_WINOGRAD=off are separate variants; set only one of them.")
        }
    }
}

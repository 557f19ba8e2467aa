import Foundation

/// Runs one reader on a fuzzer input. A thrown error is the right answer to a bad file, so it
/// is dropped; with TUTOR_FUZZ_SHOW_ERRORS=1 in the environment it is printed, to see why a
/// seed is refused (e.g. `TUTOR_FUZZ_SHOW_ERRORS=1 .build-fuzz/debug/FuzzNpy Fuzz/Corpus/npy/*`).
public func attempt<Result>(_ read: () throws -> Result) -> Result? {
    do {
        return try read()
    } catch {
        if showErrors { FileHandle.standardError.write(Data("  error: \(error)\n".utf8)) }
        return nil
    }
}

private let showErrors = ProcessInfo.processInfo.environment["TUTOR_FUZZ_SHOW_ERRORS"] == "1"

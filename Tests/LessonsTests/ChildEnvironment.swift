import Foundation

/// The environment of a `tutor` that a test starts: the test's own, without what would choose
/// the language, the width of the page, the arithmetic or the shipped networks behind the test's
/// back, then the test's additions on top. A Vietnamese reader who runs the tests with
/// TUTOR_LANG=vi exported, or on a machine whose locale is vi_VN.UTF-8, a terminal that exports
/// COLUMNS, or a student trying TUTOR_GEMM=reference, must not see a test fail because `tutor`
/// answered in Vietnamese, wrapped at another width or rounded another way; a test that wants
/// one of these asks for it in `added` (or with `--lang vi`). The settings that give the same
/// bits whatever their value (TUTOR_THREADS, TUTOR_SIMD) are left as they are.
enum ChildEnvironment {
    /// Left out of the test's environment: TUTOR_LANG, LC_ALL, LANG, COLUMNS, TUTOR_GEMM,
    /// TUTOR_WINOGRAD, TUTOR_MODELS, and TUTOR_UNTRANSLATED (a log of untranslated phrases).
    static let leftOut: Set<String> = ["TUTOR_LANG", "LC_ALL", "LANG", "COLUMNS", "TUTOR_GEMM", "TUTOR_WINOGRAD", "TUTOR_MODELS",
                                       "TUTOR_UNTRANSLATED"]

    static func tutor(adding added: [String: String] = [:]) -> [String: String] {
        ProcessInfo.processInfo.environment
            .filter { !leftOut.contains($0.key) }
            .merging(added) { _, given in given }
    }
}

import Foundation

/// The environment of a `tutor` that a test starts: the test's own, without what would choose
/// the language or the width of the page behind the test's back, then the test's additions on
/// top. A Vietnamese reader who runs the tests with TUTOR_LANG=vi exported, or on a machine whose
/// locale is vi_VN.UTF-8, or a terminal that exports COLUMNS, must not see a test fail because
/// `tutor` answered in Vietnamese or wrapped at another width; a test that wants either asks for
/// it (`--lang vi`, or TUTOR_LANG, LANG or COLUMNS in `added`).
enum ChildEnvironment {
    /// TUTOR_LANG, LC_ALL, LANG and COLUMNS emptied (an empty one is skipped), and no log of
    /// untranslated phrases (TUTOR_UNTRANSLATED).
    static let neutral = ["TUTOR_LANG": "", "LC_ALL": "", "LANG": "", "COLUMNS": "", "TUTOR_UNTRANSLATED": ""]

    static func tutor(adding added: [String: String] = [:]) -> [String: String] {
        ProcessInfo.processInfo.environment
            .merging(neutral) { _, neutral in neutral }
            .merging(added) { _, given in given }
    }
}

import ArgumentParser
import Foundation
import Lessons
import MiniNet

// The messages `tutor` prints, in the reader's language (see Language and Phrasebook).
// Help texts go through `ArgumentHelp.translated` and the plain `translated(_:)`; a message
// with values in it through `translated(_:with:)`; an error through `readerMessage(for:)`.
// The Vietnamese phrases are in Resources/vi/phrases/cli.txt and errors.txt.

/// What went wrong, in the reader's language, without the "tutor: " in front.
///
/// A MiniNet error about a file is "path: problem": the problem is translated on its own
/// (errors.txt), and the path is shown as it is, since the reader has to find that file. A
/// `ValidationError` thrown by `tutor` itself was written in the reader's language already.
/// Any other error is translated as a whole.
func readerMessage(for error: Error) -> String {
    switch error {
    case let MiniNetError.file(path, problem):
        return escapedForMessage(path) + ": " + translated(problem)
    case let MiniNetError.invalidModel(problem), let MiniNetError.invalidArgument(problem):
        return translated(problem)
    case let validation as ValidationError:
        return validation.message
    default:
        return translated("\(error)")
    }
}

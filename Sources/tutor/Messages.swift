import ArgumentParser
import Foundation
import Lessons
import MiniNet

// The messages `tutor` prints, in the reader's language (see Language and Phrasebook).
// Help texts go through `ArgumentHelp.translated` and the plain `translated(_:)`; a message
// with values in it through `translated(_:with:)`; an error through `readerMessage(for:)`.
// The Vietnamese phrases are in Resources/vi/phrases/cli.txt and errors.txt.

/// `template` in the reader's language, with its holes {$1}, {$2}, … filled by `values`.
///
/// The template itself, holes and all, is the phrase book's key: `translated("--epochs {$1} is
/// out of range", with: epochs)` looks up "--epochs {$1} is out of range" and fills the hole of
/// the translation. So a value never takes part in the lookup, and a flag, a class name or a
/// path that the reader has to type back stays exactly as given, even when it is an English
/// word with a translation of its own ("circle").
func translated(_ template: String, with values: Any...) -> String {
    fillingHoles(of: Lessons.translated(template), with: values.map { "\($0)" })
}

/// `text` with each {$n} replaced by `values[n - 1]`, in one pass: a value that itself
/// contains "{$2}" is not filled again.
func fillingHoles(of text: String, with values: [String]) -> String {
    var result = ""
    var rest = text[...]
    while let open = rest.range(of: "{$") {
        result += rest[..<open.lowerBound]
        let afterOpen = rest[open.upperBound...]
        guard let close = afterOpen.firstIndex(of: "}"), let number = Int(afterOpen[..<close]),
              number >= 1, number <= values.count else {
            result += "{$"
            rest = afterOpen
            continue
        }
        result += values[number - 1]
        rest = afterOpen[afterOpen.index(after: close)...]
    }
    return result + rest
}

/// What went wrong, in the reader's language, without the "tutor: " in front.
///
/// A MiniNet error about a file is "path: problem": the problem is translated on its own
/// (errors.txt), and the path is shown as it is, since the reader has to find that file. A
/// `ValidationError` thrown by `tutor` itself was written in the reader's language already.
/// Any other error is translated as a whole.
func readerMessage(for error: Error) -> String {
    switch error {
    case let MiniNetError.file(path, problem):
        return path + ": " + translated(problem)
    case let MiniNetError.invalidModel(problem), let MiniNetError.invalidArgument(problem):
        return translated(problem)
    case let validation as ValidationError:
        return validation.message
    default:
        return translated("\(error)")
    }
}

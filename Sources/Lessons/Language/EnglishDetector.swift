import Foundation

/// Finds English sentences left in a text meant to be in another language, so that a test
/// (and `TUTOR_UNTRANSLATED`) can point at every text that escaped translation.
///
/// A line counts as English when, outside code spans, formulas, URLs and allowed terms, it has
/// two of English's commonest function words ("the", "of", "with", …), or one of them inside a
/// run of three or more words written in plain ASCII letters. Vietnamese words almost all carry
/// diacritics, and the few that do not ("do", "so", "can", "an", "to", "in") are left off the
/// list, so a Vietnamese sentence with English terms in it (gradient, logit, feature map) passes.
public struct EnglishDetector: Sendable {
    /// Words and phrases that may stay English (class names, paper titles, program names).
    public var allowedTerms: [String]

    public init(allowedTerms: [String] = []) {
        // Longest first, so that "golden retriever" goes before "retriever".
        self.allowedTerms = allowedTerms.filter { !$0.isEmpty }.sorted { $0.count > $1.count }
    }

    static let functionWords: Set<String> = [
        "the", "of", "and", "is", "are", "was", "were", "with", "from", "this", "that", "these", "those",
        "which", "each", "every", "what", "how", "where", "when", "why", "then", "has", "have", "its",
        "their", "into", "by", "for", "not", "does", "be", "been", "it", "or", "as", "at", "we", "you",
        "your", "our", "will", "would", "should", "must", "only", "also", "all", "but", "if", "there",
        "here", "after", "before", "between", "same", "one", "two", "more", "most", "less", "than",
        "on", "use", "gives", "give", "shows", "show", "see",
    ]

    /// The English sentences in `text`, one line each (trimmed), in order.
    public func englishLines(in text: String) -> [String] {
        text.components(separatedBy: "\n").filter(isEnglish).map { $0.trimmingCharacters(in: .whitespaces) }
    }

    /// Whether one line reads as English.
    public func isEnglish(_ line: String) -> Bool {
        var words: [[String]] = [[]]    // runs of ASCII words, split by any other word
        // One-letter words are a formula's symbols (y, c, A, k), not English.
        for word in Self.words(in: strip(line)) where word.count > 1 {
            if word.allSatisfy({ $0.isASCII && $0.isLetter }) {
                words[words.count - 1].append(word.lowercased())
            } else if !words[words.count - 1].isEmpty {
                words.append([])
            }
        }
        let functionWordCount = words.joined().filter(Self.functionWords.contains).count
        if functionWordCount >= 2 { return true }
        return words.contains { run in run.count >= 3 && run.contains(where: Self.functionWords.contains) }
    }

    /// The line without code spans, formulas, URLs, markers and allowed terms.
    func strip(_ line: String) -> String {
        var text = line
        for pattern in ["`[^`]*`", "\\$[^$]*\\$", "https?://\\S+", "⟦[^⟧]*⟧", "\\{[^}]*\\}", "<[^>]*>"] {
            text = text.replacingOccurrences(of: pattern, with: " ", options: .regularExpression)
        }
        for term in allowedTerms {
            text = text.replacingOccurrences(of: term, with: " ", options: .caseInsensitive)
        }
        return text
    }

    /// Words: letters with inner apostrophes or hyphens; everything else separates.
    static func words(in text: String) -> [String] {
        var words: [String] = []
        var current = ""
        for character in text {
            if character.isLetter || (!current.isEmpty && (character == "'" || character == "’")) {
                current.append(character)
            } else {
                if !current.isEmpty { words.append(current) }
                current = ""
            }
        }
        if !current.isEmpty { words.append(current) }
        return words
    }
}

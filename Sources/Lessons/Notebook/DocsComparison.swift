import Foundation
import MiniNet

/// Compares generated lesson pages and pictures with the committed ones by what they say,
/// not byte for byte, so that `tutor export-docs --check` passes on any processor.
///
/// Another CPU (other OpenBLAS kernels, another summation order) changes the last digits of
/// float32 results, which moves the printed numbers slightly. The rules:
///
/// - Pages are compared line by line. Words and punctuation must be equal exactly; the
///   amount of whitespace is ignored (a tensor column widens when one value gains a minus),
///   its presence is not.
/// - Numbers with a decimal point or an exponent agree within half a unit in the last printed
///   digit of each (each was rounded once) plus `relativeMargin` of the larger value.
///   Integers (counts, indices, shapes) must be equal.
/// - In a check row (`| ✓ | name | left | right | residual | tolerance |`) the mark must be
///   equal; left and right may also move by the check's tolerance; the residual of a passing
///   check is rounding noise; the position in "max |Δ| at [i, j]" is noise too, and when it
///   moved, left and right are values of another element and only their labels are compared.
///   The numbers of a passing check's tolerance may move by `boundMargin` of their size: a
///   tolerance is a bound made from measured sizes (Σ|a|, or a quadrature estimate from
///   differences of neighbouring gradients), which rounding and a ReLU gate that flips at a
///   kink move further than the values themselves.
/// - A number written "≈x" is a rounding error shown for its size (float32 against float64,
///   one summation order against another): its digits are the processor's, so only its place
///   on the line is compared.
/// - Pictures must have the same size, and every colour channel may differ by at most
///   `pixelLevels` (out of 255).
///
///     let differences = try DocsComparison().compareFolders(committed: "docs/lessons",
///                                                           generated: scratch, shownAs: "docs/lessons/")
///     if let first = differences.first { print(first) }   // docs/lessons/ig.md:59: expected "…" got "…"
public struct DocsComparison: Sendable {
    /// Allowed difference of a number beyond its printed precision, as a fraction of its size.
    /// Rounding noise of float32 is about 1e-7 relative per operation, but a central finite
    /// difference (h = 0.01) divides a tiny difference of two scores and magnifies that noise
    /// a thousandfold, to a few 1e-4, and LRP-ε on a network whose BatchNorm is not merged
    /// divides by sums near zero (the lrp lesson's naive column moved by 0.13 % between
    /// OpenBLAS's AVX and AVX2 kernels). A change of 0.2 % is still far below anything a lesson
    /// teaches, so a real change (a different formula, model or seed) still shows.
    public var relativeMargin: Double
    /// Largest allowed difference of one colour channel of one pixel, in levels of 255. The jet
    /// colour map changes a channel by about 1000 levels per unit of the normalised value, so a
    /// relative change of 1e-3 in a heat map moves a colour by about one level; 3 leaves room
    /// for rounding of enlarged and blended pixels while a visibly different map still fails.
    public var pixelLevels: Int
    /// Allowed difference of a number in the tolerance of a passing check, as a fraction of its
    /// size (besides its printed precision). Integrated Gradients' quadrature estimate, for
    /// example, sums |g(α_{k+1}) − g(α_k)| over the path, and moved by 0.3 % between OpenBLAS's
    /// Cooperlake and Haswell kernels; 1 % still shows a bound made another way.
    public var boundMargin: Double

    public init(relativeMargin: Double = 2e-3, pixelLevels: Int = 3, boundMargin: Double = 1e-2) {
        self.relativeMargin = relativeMargin
        self.pixelLevels = pixelLevels
        self.boundMargin = boundMargin
    }

    /// The first thing in which a generated file differs from the committed one.
    public struct Difference: Equatable, CustomStringConvertible, Sendable {
        /// As shown to the reader, e.g. "docs/lessons/ig.md".
        public var file: String
        /// The line of a page (from 1); nil for a picture or a whole file.
        public var line: Int?
        /// e.g. `expected "n = 5. Look" got "n = {steps}. Look"`.
        public var message: String

        public init(file: String, line: Int?, message: String) {
            self.file = file
            self.line = line
            self.message = message
        }

        public var description: String { file + (line.map { ":\($0)" } ?? "") + ": " + message }
    }

    // MARK: Folders

    /// One difference per differing file of two folders, sorted by file name: pages (`.md`)
    /// and pictures (`.png`) by content, other files byte for byte. A file only one folder has
    /// is a difference too. `shownAs` is put before file names in the report.
    public func compareFolders(committed: String, generated: String, shownAs: String) throws -> [Difference] {
        let manager = FileManager.default
        let committedNames = Set((try? manager.contentsOfDirectory(atPath: committed)) ?? [])
        let generatedNames = Set(try manager.contentsOfDirectory(atPath: generated))
        var differences: [Difference] = []
        for name in committedNames.union(generatedNames).sorted() {
            let file = shownAs + name
            let committedPath = (committed as NSString).appendingPathComponent(name)
            let generatedPath = (generated as NSString).appendingPathComponent(name)
            guard committedNames.contains(name) else {
                differences.append(Difference(file: file, line: nil, message: "is missing (the lessons generate it)"))
                continue
            }
            guard generatedNames.contains(name) else {
                differences.append(Difference(file: file, line: nil, message: "is not generated by any lesson any more"))
                continue
            }
            if name.hasSuffix(".md") {
                let expected = try Self.readText(committedPath)
                let got = try Self.readText(generatedPath)
                if let difference = comparePages(expected: expected, got: got, file: file) { differences.append(difference) }
            } else if name.hasSuffix(".png") {
                let got = try RGBImage.read(from: generatedPath)
                guard let expected = try? RGBImage.read(from: committedPath) else {
                    differences.append(Difference(file: file, line: nil, message: "is not a readable PNG"))
                    continue
                }
                if let difference = comparePictures(expected: expected, got: got, file: file) { differences.append(difference) }
            } else if manager.contents(atPath: committedPath) != manager.contents(atPath: generatedPath) {
                differences.append(Difference(file: file, line: nil, message: "differs"))
            }
        }
        return differences
    }

    private static func readText(_ path: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw MiniNetError.file(path, "not readable as UTF-8 text")
        }
        return text
    }

    // MARK: Pictures

    /// nil when both pictures have the same size and every channel is within `pixelLevels`.
    public func comparePictures(expected: RGBImage, got: RGBImage, file: String) -> Difference? {
        guard expected.width == got.width && expected.height == got.height else {
            return Difference(file: file, line: nil,
                              message: "expected \(expected.width)×\(expected.height) pixels got \(got.width)×\(got.height)")
        }
        for pixel in 0..<(expected.width * expected.height) {
            let channels = (pixel * 3)..<(pixel * 3 + 3)
            let worst = channels.map { abs(Int(expected.pixels[$0]) - Int(got.pixels[$0])) }.max() ?? 0
            if worst > pixelLevels {
                let rgb = { (image: RGBImage) in "(" + channels.map { String(image.pixels[$0]) }.joined(separator: ", ") + ")" }
                return Difference(file: file, line: nil,
                                  message: "expected RGB \(rgb(expected)) got \(rgb(got)) at pixel (x \(pixel % expected.width), "
                                      + "y \(pixel / expected.width)), \(worst) levels apart (at most \(pixelLevels) allowed)")
            }
        }
        return nil
    }

    // MARK: Pages

    /// The first line on which `got` says something other than `expected`, or nil.
    public func comparePages(expected: String, got: String, file: String) -> Difference? {
        let expectedLines = expected.components(separatedBy: "\n")
        let gotLines = got.components(separatedBy: "\n")
        for index in 0..<max(expectedLines.count, gotLines.count) {
            guard index < expectedLines.count else {
                return Difference(file: file, line: index + 1, message: "expected the end of the page got \(quoted(gotLines[index], at: 0))")
            }
            guard index < gotLines.count else {
                return Difference(file: file, line: index + 1, message: "expected \(quoted(expectedLines[index], at: 0)) got the end of the page")
            }
            let expectedTokens = Self.tokens(expectedLines[index])
            let gotTokens = Self.tokens(gotLines[index])
            if let (expectedAt, gotAt) = firstMismatch(expectedTokens, gotTokens) {
                return Difference(file: file, line: index + 1, message: "expected \(quoted(expectedLines[index], at: expectedAt)) "
                                  + "got \(quoted(gotLines[index], at: gotAt))")
            }
        }
        return nil
    }

    /// The line around character `offset`, in quotes, cut to a readable length.
    private func quoted(_ line: String, at offset: Int) -> String {
        let characters = Array(line)
        let start = max(0, min(offset, characters.count) - 30)
        let end = min(characters.count, start + 80)
        return "\"" + (start > 0 ? "…" : "") + String(characters[start..<end]) + (end < characters.count ? "…" : "") + "\""
    }

    /// What a number on a page is, which decides how much it may move.
    private enum Role {
        case plain
        /// The left or right value of a check: may also move by the check's tolerance.
        case checkValue
        /// Rounding noise: the residual of a passing check; where a tensor check differs most;
        /// left and right when that position moved, since they then belong to another element.
        case noise
        /// A number in the tolerance of a passing check: may move by `boundMargin`.
        case bound
    }

    /// Character offsets (expected, got) of the first tokens that disagree, or nil.
    private func firstMismatch(_ expected: [Token], _ got: [Token]) -> (Int, Int)? {
        let roles = Self.checkRowRoles(expected, got)
        for index in 0..<max(expected.count, got.count) {
            guard index < expected.count, index < got.count else {
                return (Self.offset(ofToken: index, in: expected), Self.offset(ofToken: index, in: got))
            }
            let a = expected[index], b = got[index]
            let agree: Bool
            switch (a.kind, b.kind) {
            case (.space, .space): agree = true
            case (.text, .text): agree = a.text == b.text
            case (.number, .number):
                let isRoundingError = index > 0 && expected[index - 1].text.hasSuffix("≈")
                agree = isRoundingError || numbersAgree(a, b, role: roles?.roles[index] ?? .plain, tolerance: roles?.tolerance)
            default: agree = false
            }
            if !agree { return (a.offset, b.offset) }
        }
        return nil
    }

    /// Where token `index` starts, or the end of the line if there are fewer tokens.
    private static func offset(ofToken index: Int, in tokens: [Token]) -> Int {
        if index < tokens.count { return tokens[index].offset }
        return tokens.last.map { $0.offset + $0.text.count } ?? 0
    }

    private func numbersAgree(_ a: Token, _ b: Token, role: Role, tolerance: CheckTolerance?) -> Bool {
        guard let x = a.number, let y = b.number else { return false }
        switch role {
        case .noise:
            return true
        case .plain, .checkValue, .bound:
            if x.isInteger && y.isInteger { return x.value == y.value }
            let larger = max(abs(x.value), abs(y.value))
            var allowed = x.halfUnit + y.halfUnit + (role == .bound ? boundMargin : relativeMargin) * larger
            if role == .checkValue, let tolerance {
                allowed += tolerance.isRelative ? tolerance.value * larger : tolerance.value
            }
            return abs(x.value - y.value) <= allowed
        }
    }

    private struct CheckTolerance {
        var value: Double
        var isRelative: Bool
    }

    /// For two check rows of the same shape, the role of each token's number and the check's
    /// tolerance; nil when the lines are not both check rows (then every number is plain).
    private static func checkRowRoles(_ expected: [Token], _ got: [Token]) -> (roles: [Role], tolerance: CheckTolerance?)? {
        guard expected.count == got.count,
              let expectedCells = checkRowCells(expected), let gotCells = checkRowCells(got),
              expectedCells.map(\.count) == gotCells.map(\.count) else { return nil }
        let passed = expected[expectedCells[1]].contains { $0.text == "✓" } && got[gotCells[1]].contains { $0.text == "✓" }
        let residualCell = expectedCells[5]
        let positions = worstPosition(in: expected, cell: residualCell)
        let positionMoved = positions.map { expected[$0].number?.value } != positions.map { got[$0].number?.value }
        // The tolerance cell shows how the tolerance was made and ends with its value: "… = 2.8e-05".
        let tolerances = [expected, got].compactMap { row in row[expectedCells[6]].last { $0.kind == .number }?.number?.value }
        let isRelative = expected[residualCell].contains { $0.text == "(relative)" }

        var roles = [Role](repeating: .plain, count: expected.count)
        for index in Array(expectedCells[3]) + Array(expectedCells[4]) { roles[index] = positionMoved ? .noise : .checkValue }
        if passed, let residual = residualCell.first(where: { expected[$0].kind == .number }) { roles[residual] = .noise }
        if passed { for index in expectedCells[6] where expected[index].kind == .number { roles[index] = .bound } }
        for index in positions { roles[index] = .noise }
        return (roles, tolerances.max().map { CheckTolerance(value: $0, isRelative: isRelative) })
    }

    /// Token ranges of the cells of a check row `| ✓ | name | left | right | residual | tolerance |`:
    /// [before the first bar, mark, name, left, right, residual, tolerance, after the last bar].
    private static func checkRowCells(_ tokens: [Token]) -> [Range<Int>]? {
        let bars = tokens.indices.filter { tokens[$0].text == "|" }
        guard bars.count == 7 else { return nil }
        let cells = zip([-1] + bars, bars + [tokens.count]).map { ($0.0 + 1)..<$0.1 }
        let mark = tokens[cells[1]].filter { $0.kind != .space }.map(\.text)
        return mark == ["✓"] || mark == ["✗"] ? cells : nil
    }

    /// Indices of the numbers i, j in "max \|Δ\| at [i, j] of [shape]" within a residual cell
    /// (in Vietnamese "\|Δ\| lớn nhất tại [i, j] trong [shape]").
    private static func worstPosition(in tokens: [Token], cell: Range<Int>) -> [Int] {
        guard let at = cell.first(where: { ["at", "tại"].contains(tokens[$0].text) }) else { return [] }
        var indices: [Int] = []
        for index in (at + 1)..<cell.upperBound {
            if tokens[index].kind == .number { indices.append(index) }
            if tokens[index].text.contains("]") { break }
        }
        return indices
    }

    // MARK: Tokens

    /// A piece of a line: a number, a run of whitespace, or a run of anything else.
    public struct Token: Equatable, Sendable {
        public enum Kind: Equatable, Sendable { case text, space, number }
        public var kind: Kind
        public var text: String
        /// Characters from the start of the line.
        public var offset: Int

        /// The value and precision of a number token; nil for other tokens.
        public var number: PrintedNumber? { kind == .number ? PrintedNumber(text) : nil }
    }

    /// A number as printed: its value and how finely it was rounded.
    public struct PrintedNumber: Equatable, Sendable {
        public var value: Double
        /// Half a unit in the last printed digit: 0.00005 for "2.9799", 5e-9 for "3.0e-07".
        /// Zero for an integer, which is exact (a count, an index, a size).
        public var halfUnit: Double
        /// Printed without a decimal point or exponent.
        public var isInteger: Bool

        /// Parses "2.9799", "−3.2" (U+2212 minus), "1e-05", "1.2e+03", "+7"; nil for anything else.
        public init?(_ text: String) {
            let ascii = text.replacingOccurrences(of: "\u{2212}", with: "-")
            guard let value = Double(ascii), value.isFinite else { return nil }
            let parts = ascii.lowercased().split(separator: "e", maxSplits: 1)
            let mantissa = parts[0]
            let exponent = parts.count > 1 ? Int(parts[1]) ?? 0 : 0
            let decimals = mantissa.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false).dropFirst().first?.count ?? 0
            self.value = value
            self.isInteger = parts.count == 1 && !mantissa.contains(".")
            self.halfUnit = isInteger ? 0 : 0.5 * pow(10, Double(exponent - decimals))
        }
    }

    /// Splits a line into numbers, whitespace and other text, for any language: letters of any
    /// script belong to words, and digits inside a word ("features.10", "step3", "2n") are
    /// part of the word. A number starts with an ASCII digit or a sign (-, −, +) right before
    /// one, and may have a decimal part and an exponent: 42, -0.0064, −3.2, 1e-05, 1.2e+03.
    /// What follows a number ("%", "]", ",") is text of its own.
    public static func tokens(_ line: String) -> [Token] {
        let characters = Array(line)
        var tokens: [Token] = []
        var index = 0
        func append(_ kind: Token.Kind, _ text: String, at offset: Int) {
            if kind != .number, let last = tokens.last, last.kind == kind {
                tokens[tokens.count - 1].text += text
            } else {
                tokens.append(Token(kind: kind, text: text, offset: offset))
            }
        }
        while index < characters.count {
            let character = characters[index]
            if character.isWhitespace {
                append(.space, String(character), at: index)
                index += 1
            } else if let end = numberEnd(characters, from: index) {
                append(.number, String(characters[index..<end]), at: index)
                index = end
            } else {
                append(.text, String(character), at: index)
                index += 1
            }
        }
        return tokens
    }

    private static func isDigit(_ character: Character) -> Bool { character.isASCII && character.isNumber }

    /// Characters that glue a digit to a word: "features.10", "step3", "x_2".
    private static func isWordCharacter(_ character: Character) -> Bool {
        character.isLetter || isDigit(character) || character == "_" || character == "."
    }

    /// The end of the number starting at `start`, or nil if no number starts there.
    private static func numberEnd(_ characters: [Character], from start: Int) -> Int? {
        if start > 0 && isWordCharacter(characters[start - 1]) { return nil }
        var index = start
        func digits() -> Bool {
            let first = index
            while index < characters.count && isDigit(characters[index]) { index += 1 }
            return index > first
        }
        if "-−+".contains(characters[index]) { index += 1 }
        guard digits() else { return nil }
        if index + 1 < characters.count && characters[index] == "." && isDigit(characters[index + 1]) {
            index += 1
            _ = digits()
        }
        if index < characters.count && "eE".contains(characters[index]) {
            let beforeExponent = index
            index += 1
            if index < characters.count && "-−+".contains(characters[index]) { index += 1 }
            if !digits() { index = beforeExponent }
        }
        // "2n", "3rd" or "1.2.3" are words, not numbers.
        if index < characters.count {
            let next = characters[index]
            if next.isLetter || isDigit(next) || next == "_" { return nil }
            if next == "." && index + 1 < characters.count && isDigit(characters[index + 1]) { return nil }
        }
        return index
    }
}

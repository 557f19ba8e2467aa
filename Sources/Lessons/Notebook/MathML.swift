import Foundation

/// Turns the LaTeX of a notebook's formulas into MathML, which browsers draw without any
/// script or network (MathML Core: Chromium 109+, Firefox, Safari).
///
///     MathML.convert(#"\alpha^c_k = \frac{1}{Z}\sum_{i,j} \frac{\partial y^c}{\partial A^k_{ij}}"#)
///     // <math display="block"><mrow><msubsup><mi>α</mi><mi>k</mi><mi>c</mi></msubsup><mo>=</mo>…
///
/// It reads the subset of LaTeX the lessons write: letters, digits and operators; `_` and `^`;
/// `\frac`, `\tfrac`, `\sqrt`; `\sum`, `\int` and `\max` with limits; `\mathrm`, `\text`,
/// `\operatorname`; `\left … \right` and `\big`, `\Big`, `\bigl`, … delimiters; spaces (`\,`,
/// `\;`, `\!`, `\quad`, `\qquad`); `\textstyle`; Greek letters and the usual relations and
/// operators. A command it does not know is printed as its name without the backslash (never
/// as raw LaTeX) and listed in `unknownCommands`, which the tests require to be empty for every
/// formula of every lesson.
public struct MathML {
    /// The `<math>` element.
    public var markup: String
    /// Commands the converter did not know, such as "overbrace".
    public var unknownCommands: [String]

    /// - Parameters:
    ///   - latex: the formula, without `$$`.
    ///   - alternative: a plain-text form for screen readers and copying (the notebook's Unicode form).
    public static func convert(_ latex: String, alternative: String? = nil, display: Bool = true) -> MathML {
        var parser = Parser(tokens: tokenize(latex))
        let body = parser.parseSequence(until: [])
        let alt = alternative.map { " alttext=\"\(escapeHTML($0))\"" } ?? ""
        let markup = "<math xmlns=\"http://www.w3.org/1998/Math/MathML\" display=\"\(display ? "block" : "inline")\"\(alt)>"
            + "<mrow>" + body + "</mrow></math>"
        return MathML(markup: markup, unknownCommands: parser.unknown)
    }

    // MARK: Tokens

    enum Token: Equatable {
        case command(String)   // \frac, \alpha, \, (name without the backslash)
        case open, close       // { }
        case space             // ignored in formulas, kept in \text{…}
        case sub, sup          // _ ^
        case character(Character)
    }

    static func tokenize(_ latex: String) -> [Token] {
        var tokens: [Token] = []
        let characters = Array(latex)
        var index = 0
        while index < characters.count {
            let character = characters[index]
            switch character {
            case "\\":
                var name = ""
                var next = index + 1
                while next < characters.count, characters[next].isLetter, characters[next].isASCII {
                    name.append(characters[next])
                    next += 1
                }
                if name.isEmpty, next < characters.count {
                    name = String(characters[next])   // \, \; \! \{ \} \| \\
                    next += 1
                }
                tokens.append(.command(name))
                index = next
                continue
            case "{": tokens.append(.open)
            case "}": tokens.append(.close)
            case "_": tokens.append(.sub)
            case "^": tokens.append(.sup)
            default:
                if !character.isWhitespace {
                    tokens.append(.character(character))
                } else if tokens.last != .space {
                    tokens.append(.space)
                }
            }
            index += 1
        }
        return tokens
    }

    // MARK: Tables of symbols

    static let greek: [String: String] = [
        "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ϵ", "varepsilon": "ε", "zeta": "ζ",
        "eta": "η", "theta": "θ", "vartheta": "ϑ", "iota": "ι", "kappa": "κ", "lambda": "λ", "mu": "μ", "nu": "ν",
        "xi": "ξ", "pi": "π", "rho": "ρ", "sigma": "σ", "tau": "τ", "upsilon": "υ", "phi": "ϕ", "varphi": "φ",
        "chi": "χ", "psi": "ψ", "omega": "ω", "Gamma": "Γ", "Delta": "Δ", "Theta": "Θ", "Lambda": "Λ", "Xi": "Ξ",
        "Pi": "Π", "Sigma": "Σ", "Upsilon": "Υ", "Phi": "Φ", "Psi": "Ψ", "Omega": "Ω",
        "partial": "∂", "nabla": "∇", "infty": "∞", "ell": "ℓ",
    ]

    static let operators: [String: String] = [
        "odot": "⊙", "otimes": "⊗", "oplus": "⊕", "cdot": "⋅", "times": "×", "div": "÷", "pm": "±", "mp": "∓",
        "approx": "≈", "le": "≤", "leq": "≤", "ge": "≥", "geq": "≥", "ne": "≠", "neq": "≠", "equiv": "≡",
        "sim": "∼", "propto": "∝", "to": "→", "rightarrow": "→", "leftarrow": "←", "Rightarrow": "⇒",
        "Leftarrow": "⇐", "Leftrightarrow": "⇔", "mapsto": "↦", "in": "∈", "notin": "∉", "subset": "⊂",
        "cup": "∪", "cap": "∩", "forall": "∀", "exists": "∃", "ldots": "…", "cdots": "⋯", "dots": "…",
        "mid": "∣", "circ": "∘", "prime": "′", "lVert": "‖", "rVert": "‖", "Vert": "‖", "|": "‖",
        "lvert": "|", "rvert": "|", "vert": "|", "langle": "⟨", "rangle": "⟩", "{": "{", "}": "}",
        "lfloor": "⌊", "rfloor": "⌋", "lceil": "⌈", "rceil": "⌉", "setminus": "∖", "ast": "∗", "star": "⋆",
        "top": "⊤", "bot": "⊥", "intercal": "⊺", "dagger": "†", "perp": "⊥", "parallel": "∥", "ll": "≪", "gg": "≫",
        "coloneqq": "≔", "triangleq": "≜", "gets": "←", "iff": "⟺", "implies": "⟹", "longrightarrow": "⟶",
        "uparrow": "↑", "downarrow": "↓", "neg": "¬", "land": "∧", "lor": "∨", "wedge": "∧", "vee": "∨",
        "emptyset": "∅", "varnothing": "∅", "subseteq": "⊆", "supseteq": "⊇", "supset": "⊃", "ni": "∋",
        "simeq": "≃", "cong": "≅", "lesssim": "≲", "gtrsim": "≳", "bullet": "∙", "vdots": "⋮", "ddots": "⋱",
    ]

    /// Operators whose limits go under and over them in a displayed formula.
    static let largeOperators: [String: String] = ["sum": "∑", "prod": "∏", "coprod": "∐", "bigcup": "⋃", "bigcap": "⋂"]
    static let integrals: [String: String] = ["int": "∫", "iint": "∬", "oint": "∮"]
    /// Named functions, upright; those in `limitFunctions` take limits under them.
    static let functions: Set<String> = ["log", "ln", "exp", "sin", "cos", "tan", "tanh", "sinh", "cosh", "det",
                                         "arg", "max", "min", "sup", "inf", "lim", "argmax", "argmin", "sgn", "dim"]
    static let limitFunctions: Set<String> = ["max", "min", "sup", "inf", "lim", "argmax", "argmin"]

    static let spaces: [String: String] = [",": "0.1667em", ":": "0.2222em", ">": "0.2222em", ";": "0.2778em",
                                            "!": "-0.1667em", "quad": "1em", "qquad": "2em", " ": "0.25em",
                                            "enspace": "0.5em", "thinspace": "0.1667em"]

    static let delimiterSizes: [String: String] = ["big": "1.2em", "bigl": "1.2em", "bigr": "1.2em", "bigm": "1.2em",
                                                   "Big": "1.8em", "Bigl": "1.8em", "Bigr": "1.8em", "Bigm": "1.8em",
                                                   "bigg": "2.4em", "biggl": "2.4em", "biggr": "2.4em",
                                                   "Bigg": "3em", "Biggl": "3em", "Biggr": "3em"]

    static let accents: [String: String] = ["hat": "^", "widehat": "^", "bar": "¯", "overline": "¯", "tilde": "~",
                                            "widetilde": "~", "vec": "→", "dot": "˙", "ddot": "¨"]

    // MARK: Parser

    struct Parser {
        var tokens: [Token]
        var position = 0
        var unknown: [String] = []
        /// Inside \textstyle or a fraction's parts: limits go beside large operators.
        var inlineStyle = false

        init(tokens: [Token]) { self.tokens = tokens }

        var atEnd: Bool { position >= tokens.count }

        mutating func skipSpaces() {
            while tokens[safe: position] == .space { position += 1 }
        }

        mutating func next() -> Token? {
            guard position < tokens.count else { return nil }
            defer { position += 1 }
            return tokens[position]
        }

        /// Atoms up to a closing brace (consumed), the end, or a command in `stops` (not consumed).
        mutating func parseSequence(until stops: Set<String>) -> String {
            var output = ""
            while let token = tokens[safe: position] {
                if token == .space { position += 1; continue }
                if token == .close { position += 1; break }
                if case let .command(name) = token, stops.contains(name) { break }
                if case let .command(name) = token, name == "textstyle" || name == "displaystyle" || name == "scriptstyle" {
                    position += 1
                    let saved = inlineStyle
                    inlineStyle = name != "displaystyle"
                    let rest = parseSequence(until: stops)
                    inlineStyle = saved
                    output += "<mstyle displaystyle=\"\(name == "displaystyle")\"><mrow>\(rest)</mrow></mstyle>"
                    // The closing brace (if any) was consumed by the inner sequence.
                    return output
                }
                output += parseAtomWithScripts()
            }
            return output
        }

        /// A braced group, or a single token, as one MathML element.
        mutating func parseArgument() -> String {
            skipSpaces()
            guard let token = tokens[safe: position] else { return "<mrow></mrow>" }
            if token == .open {
                position += 1
                return "<mrow>" + parseSequence(until: []) + "</mrow>"
            }
            return parseAtom(singleCharacter: true)
        }

        /// The raw text of a braced group (for \text, \mathrm, \operatorname).
        mutating func parseText() -> String {
            skipSpaces()
            guard tokens[safe: position] == .open else {
                if case let .character(character)? = next() { return String(character) }
                return ""
            }
            position += 1
            var text = ""
            var depth = 1
            while let token = next() {
                switch token {
                case .open: depth += 1
                case .close:
                    depth -= 1
                    if depth == 0 { return text }
                case let .character(character): text.append(character)
                case let .command(name):
                    if let space = MathML.spaces[name], !space.hasPrefix("-") { text.append(" ") } else if let symbol = MathML.greek[name] ?? MathML.operators[name] {
                        text.append(symbol)
                    } else { text.append(name) }
                case .sub: text.append("_")
                case .sup: text.append("^")
                case .space: text.append(" ")
                }
            }
            return text
        }

        /// \text{…} keeps its spaces: MathML trims them from the ends of token elements,
        /// so they become no-break spaces.
        func textElement(_ text: String, tag: String = "mtext", attributes: String = "") -> String {
            var text = escapeHTML(text)
            if text.hasPrefix(" ") { text = "\u{A0}" + text.dropFirst() }
            if text.hasSuffix(" ") { text = text.dropLast() + "\u{A0}" }
            return "<\(tag)\(attributes)>\(text)</\(tag)>"
        }

        /// One atom and the subscripts, superscripts and primes that follow it.
        mutating func parseAtomWithScripts() -> String {
            var limitsUnderneath = false
            if case let .command(name)? = tokens[safe: position] {
                limitsUnderneath = !inlineStyle && (MathML.largeOperators[name] != nil || MathML.limitFunctions.contains(name))
            }
            let base = parseAtom(singleCharacter: false)
            var subscriptPart: String?
            var superscriptPart: String?
            var primes = ""
            while true {
                // Spaces may stand between a base and its scripts ("\\sum _i").
                var lookahead = position
                while tokens[safe: lookahead] == .space { lookahead += 1 }
                guard let token = tokens[safe: lookahead], [.sub, .sup, .character("'")].contains(token) else { break }
                position = lookahead
                switch token {
                case .sub:
                    position += 1
                    subscriptPart = parseScript()
                case .sup:
                    position += 1
                    superscriptPart = parseScript()
                case .character("'"):
                    position += 1
                    primes += "′"
                default:
                    break
                }
            }
            return combine(base, subscriptPart, superscriptPart, primes: primes, under: limitsUnderneath)
        }

        mutating func parseScript() -> String {
            let saved = inlineStyle
            inlineStyle = true
            defer { inlineStyle = saved }
            return parseArgument()
        }

        func combine(_ base: String, _ subscriptPart: String?, _ superscriptPart: String?, primes: String, under: Bool) -> String {
            var superscript = superscriptPart
            if !primes.isEmpty {
                superscript = "<mrow><mo>\(primes)</mo>\(superscriptPart ?? "")</mrow>"
            }
            switch (subscriptPart, superscript) {
            case (nil, nil): return base
            case let (sub?, nil): return under ? "<munder>\(base)\(sub)</munder>" : "<msub>\(base)\(sub)</msub>"
            case let (nil, sup?): return under ? "<mover>\(base)\(sup)</mover>" : "<msup>\(base)\(sup)</msup>"
            case let (sub?, sup?):
                return under ? "<munderover>\(base)\(sub)\(sup)</munderover>" : "<msubsup>\(base)\(sub)\(sup)</msubsup>"
            }
        }

        /// - Parameter singleCharacter: a script or argument without braces takes one digit, not a number.
        mutating func parseAtom(singleCharacter: Bool) -> String {
            guard let token = next() else { return "" }
            switch token {
            case .open:
                return "<mrow>" + parseSequence(until: []) + "</mrow>"
            case .close, .space:
                return ""
            case .sub, .sup:
                // A stray script mark (nothing to attach to) is dropped.
                return "<mrow></mrow>"
            case let .character(character):
                if character.isNumber || (character == "." && (tokens[safe: position].map(Self.isDigit) ?? false)) {
                    var number = String(character)
                    while !singleCharacter, let following = tokens[safe: position], case let .character(digit) = following,
                          digit.isNumber || (digit == "." && (tokens[safe: position + 1].map(Self.isDigit) ?? false)) {
                        number.append(digit)
                        position += 1
                    }
                    return "<mn>\(number)</mn>"
                }
                if character.isLetter { return "<mi>\(escapeHTML(String(character)))</mi>" }
                let symbol = character == "-" ? "−" : character == "*" ? "∗" : String(character)
                // Plain brackets keep their size, as in TeX; \left, \right and \big resize them.
                if "()[]|".contains(character) { return "<mo stretchy=\"false\">\(escapeHTML(symbol))</mo>" }
                return "<mo>\(escapeHTML(symbol))</mo>"
            case let .command(name):
                return command(name)
            }
        }

        static func isDigit(_ token: Token) -> Bool {
            if case let .character(character) = token { return character.isNumber }
            return false
        }

        mutating func command(_ name: String) -> String {
            if let symbol = MathML.greek[name] {
                // Capital Greek letters are upright in TeX; small ones italic.
                let upright = symbol.first.map { $0.isUppercase } ?? false || name == "partial" || name == "infty" || name == "nabla"
                return upright ? "<mi mathvariant=\"normal\">\(symbol)</mi>" : "<mi>\(symbol)</mi>"
            }
            if let symbol = MathML.operators[name] {
                let fence = ["lVert", "rVert", "lvert", "rvert", "langle", "rangle", "lfloor", "rfloor", "lceil", "rceil"].contains(name)
                return fence ? "<mo stretchy=\"false\">\(escapeHTML(symbol))</mo>" : "<mo>\(escapeHTML(symbol))</mo>"
            }
            if let symbol = MathML.largeOperators[name] { return "<mo>\(symbol)</mo>" }
            if let symbol = MathML.integrals[name] { return "<mo>\(symbol)</mo>" }
            if MathML.functions.contains(name) { return "<mi mathvariant=\"normal\">\(name)</mi>" }
            if let width = MathML.spaces[name] { return "<mspace width=\"\(width)\"></mspace>" }
            switch name {
            case "frac", "tfrac", "dfrac":
                let saved = inlineStyle
                inlineStyle = true
                let numerator = parseArgument()
                let denominator = parseArgument()
                inlineStyle = saved
                let fraction = "<mfrac>\(numerator)\(denominator)</mfrac>"
                switch name {
                case "tfrac": return "<mstyle displaystyle=\"false\">\(fraction)</mstyle>"
                case "dfrac": return "<mstyle displaystyle=\"true\">\(fraction)</mstyle>"
                default: return fraction
                }
            case "sqrt":
                return "<msqrt>\(parseArgument())</msqrt>"
            case "text", "textrm", "mbox", "textnormal", "textit":
                return textElement(parseText())
            case "mathrm", "operatorname", "mathsf", "mathtt":
                let text = parseText()
                return textElement(text, tag: "mi", attributes: " mathvariant=\"normal\"")
            case "mathbf", "boldsymbol", "bm":
                return "<mstyle mathvariant=\"bold\" style=\"font-weight:bold\">\(parseArgument())</mstyle>"
            case "mathit", "mathcal", "mathbb":
                return parseArgument()
            case "left":
                skipSpaces()
                let open = delimiter(next())
                let inner = parseSequence(until: ["right"])
                _ = next()  // \right
                skipSpaces()
                let close = delimiter(next())
                return "<mrow>" + fence(open) + inner + fence(close) + "</mrow>"
            case "right":
                skipSpaces()
                return fence(delimiter(next()))
            default:
                if let size = MathML.delimiterSizes[name] {
                    skipSpaces()
                    let symbol = delimiter(next())
                    return "<mo stretchy=\"true\" symmetric=\"true\" minsize=\"\(size)\" maxsize=\"\(size)\">\(escapeHTML(symbol))</mo>"
                }
                if let accent = MathML.accents[name] {
                    return "<mover accent=\"true\">\(parseArgument())<mo>\(accent)</mo></mover>"
                }
                if name == "displaystyle" || name == "textstyle" || name == "scriptstyle" || name == "limits" || name == "nolimits" {
                    return ""
                }
                unknown.append(name)
                return "<mi mathvariant=\"normal\">\(escapeHTML(name))</mi>"
            }
        }

        /// The delimiter after \left, \right or \big: "(", "|", "‖", or "" for ".".
        mutating func delimiter(_ token: Token?) -> String {
            switch token {
            case let .character(character)?: return character == "." ? "" : String(character)
            case let .command(name)?:
                if let symbol = MathML.operators[name] { return symbol }
                unknown.append(name)
                return ""
            default: return ""
            }
        }

        func fence(_ symbol: String) -> String {
            symbol.isEmpty ? "" : "<mo fence=\"true\" stretchy=\"true\">\(escapeHTML(symbol))</mo>"
        }
    }
}

extension Array {
    subscript(safe index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
}

/// `text` with &, <, >, " and ' written as entities.
func escapeHTML(_ text: String) -> String {
    var output = ""
    output.reserveCapacity(text.count)
    for character in text {
        switch character {
        case "&": output += "&amp;"
        case "<": output += "&lt;"
        case ">": output += "&gt;"
        case "\"": output += "&quot;"
        case "'": output += "&#39;"
        default: output.append(character)
        }
    }
    return output
}

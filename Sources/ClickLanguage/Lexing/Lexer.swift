/// The kinds of lexeme in the Click language (`doc/click.5`, LEXICAL ISSUES).
enum TokenKind: Equatable, Sendable {
    case identifier
    case variable
    /// `->`
    case arrow
    /// `=>`
    case doubleArrow
    /// `::`
    case doubleColon
    /// `||`
    case doubleBar
    /// `...`
    case ellipsis
    case elementclass
    case require
    case provide
    case define
    /// Any other single character, including `; , ( ) [ ] { } |`.
    case character(UInt8)
    case end

    static let semicolon = TokenKind.character(UInt8(ascii: ";"))
    static let comma = TokenKind.character(UInt8(ascii: ","))
    static let leftParen = TokenKind.character(UInt8(ascii: "("))
    static let rightParen = TokenKind.character(UInt8(ascii: ")"))
    static let leftBracket = TokenKind.character(UInt8(ascii: "["))
    static let rightBracket = TokenKind.character(UInt8(ascii: "]"))
    static let leftBrace = TokenKind.character(UInt8(ascii: "{"))
    static let rightBrace = TokenKind.character(UInt8(ascii: "}"))
    static let bar = TokenKind.character(UInt8(ascii: "|"))
    static let minus = TokenKind.character(UInt8(ascii: "-"))

    var isArrow: Bool { self == .arrow || self == .doubleArrow }

    /// How Click names a lexeme kind in "expected ..." messages.
    var description: String {
        switch self {
        case .identifier: return "identifier"
        case .variable: return "variable"
        case .arrow: return "'->'"
        case .doubleArrow: return "'=>'"
        case .doubleColon: return "'::'"
        case .doubleBar: return "'||'"
        case .ellipsis: return "'...'"
        case .elementclass: return "'elementclass'"
        case .require: return "'require'"
        case .provide: return "'provide'"
        case .define: return "'define'"
        case .character(let c): return "'\(Character(Unicode.Scalar(c)))'"
        case .end: return "end of file"
        }
    }
}

/// One lexeme with the place it came from.
struct Token: Sendable {
    var kind: TokenKind
    /// The lexeme's text; for a variable, its name without `$`.
    var text: String
    var landmark: Landmark
    /// Byte offset just past the lexeme in its source (where a config string would start).
    var end: Int
}

/// Click's lexer: turns configuration text into tokens on demand, with pushback, and reads
/// configuration strings (the raw text between a class's parentheses) when the parser asks.
///
/// Handles whitespace, `//` and `/* */` comments, line directives (`# N "file"`,
/// `#line N "file"`) at the start of a line, identifiers with single `/`, `$variables`, the
/// multi-character tokens `-> => :: || ...`, and balanced config strings in which quotes,
/// `\<...>` and comments hide parentheses.
final class Lexer {
    private let bytes: [UInt8]
    private var position = 0
    private var line = 1
    private var lineStart = 0
    private(set) var file: String
    private let originalFile: String
    private var pushback: [Token] = []
    private let log: DiagnosticLog

    init(text: String, file: String, log: DiagnosticLog) {
        self.bytes = Array(text.utf8)
        self.file = file
        self.originalFile = file
        self.log = log
    }

    /// The current place, for messages about the token just read.
    var landmark: Landmark {
        Landmark(file: file, line: line, column: position - lineStart + 1)
    }

    func error(_ message: String) {
        log.error(message, at: landmark)
    }

    // MARK: Tokens

    func next() -> Token {
        if let token = pushback.popLast() { return token }
        return scan()
    }

    func unread(_ token: Token) {
        pushback.append(token)
    }

    func peek() -> Token {
        let token = next()
        unread(token)
        return token
    }

    /// Reads a token of `kind`, or reports "expected ..." and leaves the input alone.
    @discardableResult
    func expect(_ kind: TokenKind, quiet: Bool = false) -> Bool {
        let token = next()
        if token.kind == kind { return true }
        unread(token)
        if !quiet { error("expected \(kind.description)") }
        return false
    }

    private func isWordByte(_ c: UInt8) -> Bool {
        (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c == 95 || c == 64
    }

    private func isVariableByte(_ c: UInt8) -> Bool {
        (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c == 95
    }

    private func isSpace(_ c: UInt8) -> Bool {
        c == 32 || (c >= 9 && c <= 13)
    }

    private func newline(at index: Int) {
        line += 1
        lineStart = index + 1
    }

    /// Skips a line break at `index` (LF, CR or CRLF) and returns the index after it.
    private func skipBreak(_ index: Int) -> Int {
        if bytes[index] == 13, index + 1 < bytes.count, bytes[index + 1] == 10 {
            newline(at: index + 1)
            return index + 2
        }
        newline(at: index)
        return index + 1
    }

    /// Returns the index just past the end of the line containing `index`.
    private func skipLine(_ start: Int) -> Int {
        var i = start
        while i < bytes.count {
            if bytes[i] == 10 || bytes[i] == 13 { return skipBreak(i) }
            i += 1
        }
        return i
    }

    private func skipBlockComment(_ start: Int) -> Int {
        var i = start
        while i < bytes.count {
            let c = bytes[i]
            if c == 10 || c == 13 {
                i = skipBreak(i)
                continue
            }
            if c == 42, i + 1 < bytes.count, bytes[i + 1] == 47 { return i + 2 }
            i += 1
        }
        return i
    }

    /// `\<...>` hex data: returns the index after `>`; comments inside are skipped.
    private func skipBackslashAngle(_ start: Int) -> Int {
        var i = start
        while i < bytes.count {
            let c = bytes[i]
            if c == 10 || c == 13 {
                i = skipBreak(i)
                continue
            }
            if c == 47, i + 1 < bytes.count {
                if bytes[i + 1] == 47 { i = skipLine(i + 2); continue }
                if bytes[i + 1] == 42 { i = skipBlockComment(i + 2); continue }
            }
            if c == 62 { return i + 1 }
            i += 1
        }
        return i
    }

    private func skipQuote(_ start: Int, closing: UInt8) -> Int {
        var i = start
        while i < bytes.count {
            let c = bytes[i]
            if c == 10 || c == 13 {
                i = skipBreak(i)
                continue
            }
            if c == 92, closing == 34, i + 1 < bytes.count {
                if bytes[i + 1] == 60 { i = skipBackslashAngle(i + 2); continue }
                if bytes[i + 1] == 10 || bytes[i + 1] == 13 {
                    i = skipBreak(i + 1)
                    continue
                }
                i += 2
                continue
            }
            if c == closing { return i + 1 }
            i += 1
        }
        return i
    }

    private func atLineStart(_ index: Int) -> Bool {
        index == 0 || bytes[index - 1] == 10 || bytes[index - 1] == 13
    }

    /// `# N "file"` or `#line N "file"`: sets the line number and file name of what follows.
    /// Returns the index of the line break ending the directive (or the end of input).
    private func lineDirective(_ start: Int) -> Int {
        var i = start + 1
        while i < bytes.count, bytes[i] == 32 || bytes[i] == 9 { i += 1 }
        if i + 4 < bytes.count, bytes[i] == 108, bytes[i + 1] == 105, bytes[i + 2] == 110,
            bytes[i + 3] == 101, bytes[i + 4] == 32 || bytes[i + 4] == 9
        {
            i += 5
            while i < bytes.count, bytes[i] == 32 || bytes[i] == 9 { i += 1 }
        }
        guard i < bytes.count, bytes[i] >= 48, bytes[i] <= 57 else {
            log.error("unknown preprocessor directive", at: landmark)
            var j = i
            while j < bytes.count, bytes[j] != 10, bytes[j] != 13 { j += 1 }
            return j
        }
        var number = 0
        while i < bytes.count, bytes[i] >= 48, bytes[i] <= 57 {
            number = min(number * 10 + Int(bytes[i] - 48), 1 << 40)
            i += 1
        }
        while i < bytes.count, bytes[i] == 32 || bytes[i] == 9 { i += 1 }
        if i < bytes.count, bytes[i] == 34 {
            let first = i
            i += 1
            while i < bytes.count, bytes[i] != 34, bytes[i] != 10, bytes[i] != 13 {
                if bytes[i] == 92, i + 1 < bytes.count, bytes[i + 1] != 10, bytes[i + 1] != 13 { i += 1 }
                i += 1
            }
            let quoted = String(decoding: bytes[first..<min(i, bytes.count)], as: UTF8.self) + "\""
            let name = ConfigText.unquote(quoted)
            file = name.isEmpty ? originalFile : name
        }
        while i < bytes.count, bytes[i] != 10, bytes[i] != 13 { i += 1 }
        // The break that ends the directive counts one line; the directive names the next one.
        line = number - 1
        return i
    }

    private func scan() -> Token {
        var i = position
        while true {
            while i < bytes.count, isSpace(bytes[i]) {
                if bytes[i] == 10 || bytes[i] == 13 {
                    i = skipBreak(i)
                } else {
                    i += 1
                }
            }
            if i >= bytes.count {
                position = bytes.count
                return Token(kind: .end, text: "", landmark: landmark, end: position)
            }
            if bytes[i] == 47, i + 1 < bytes.count, bytes[i + 1] == 47 {
                i = skipLine(i + 2)
            } else if bytes[i] == 47, i + 1 < bytes.count, bytes[i + 1] == 42 {
                i = skipBlockComment(i + 2)
            } else if bytes[i] == 35, atLineStart(i) {
                position = i
                i = lineDirective(i)
            } else {
                break
            }
        }

        let start = i
        let startLandmark = Landmark(file: file, line: line, column: start - lineStart + 1)
        func make(_ kind: TokenKind, _ length: Int, text: String? = nil) -> Token {
            position = start + length
            let body = text ?? String(decoding: bytes[start..<(start + length)], as: UTF8.self)
            return Token(kind: kind, text: body, landmark: startLandmark, end: position)
        }

        let c = bytes[start]
        if isWordByte(c) {
            var j = start + 1
            while true {
                while j < bytes.count, isWordByte(bytes[j]) { j += 1 }
                if j + 1 < bytes.count, bytes[j] == 47, isWordByte(bytes[j + 1]) {
                    j += 1
                    continue
                }
                break
            }
            let word = String(decoding: bytes[start..<j], as: UTF8.self)
            let kind: TokenKind
            switch word {
            case "elementclass": kind = .elementclass
            case "require": kind = .require
            case "provide": kind = .provide
            case "define": kind = .define
            default: kind = .identifier
            }
            return make(kind, j - start, text: word)
        }
        if c == 36 {
            var j = start + 1
            while j < bytes.count, isVariableByte(bytes[j]) { j += 1 }
            if j > start + 1 {
                let name = String(decoding: bytes[(start + 1)..<j], as: UTF8.self)
                return make(.variable, j - start, text: name)
            }
        }
        if start + 1 < bytes.count {
            let d = bytes[start + 1]
            if c == 45, d == 62 { return make(.arrow, 2) }
            if c == 61, d == 62 { return make(.doubleArrow, 2) }
            if c == 58, d == 58 { return make(.doubleColon, 2) }
            if c == 124, d == 124 { return make(.doubleBar, 2) }
        }
        if start + 2 < bytes.count, c == 46, bytes[start + 1] == 46, bytes[start + 2] == 46 {
            return make(.ellipsis, 3)
        }
        // One byte; a multi-byte UTF-8 character is reported whole.
        var length = 1
        if c >= 0xC0 {
            while start + length < bytes.count, bytes[start + length] & 0xC0 == 0x80, length < 4 { length += 1 }
        }
        return make(.character(c), length)
    }

    // MARK: Configuration strings

    /// Reads the configuration string that follows the `(` token `open`, up to but not
    /// including the matching `)`. Parentheses inside quotes, `\<...>` and comments do not
    /// count. Line directives inside are processed and removed.
    func configString(after open: Token) -> String {
        pushback.removeAll()
        position = open.end
        var i = position
        var depth = 1
        var pieceStart = i
        var result: [UInt8] = []
        while i < bytes.count {
            let c = bytes[i]
            if c == 40 {
                depth += 1
            } else if c == 41 {
                depth -= 1
                if depth == 0 { break }
            } else if c == 10 || c == 13 {
                i = skipBreak(i)
                continue
            } else if c == 35, atLineStart(i) {
                result.append(contentsOf: bytes[pieceStart..<i])
                i = lineDirective(i)
                pieceStart = i
                continue
            } else if c == 47, i + 1 < bytes.count, bytes[i + 1] == 47 {
                i = skipLine(i + 2)
                continue
            } else if c == 47, i + 1 < bytes.count, bytes[i + 1] == 42 {
                i = skipBlockComment(i + 2)
                continue
            } else if c == 39 || c == 34 {
                i = skipQuote(i + 1, closing: c)
                continue
            } else if c == 92, i + 1 < bytes.count, bytes[i + 1] == 60 {
                i = skipBackslashAngle(i + 2)
                continue
            }
            i += 1
        }
        let end = min(i, bytes.count)
        if pieceStart < end { result.append(contentsOf: bytes[pieceStart..<end]) }
        position = end
        return String(decoding: result, as: UTF8.self)
    }
}

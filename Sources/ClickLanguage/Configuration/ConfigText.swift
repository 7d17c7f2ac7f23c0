/// Click's configuration-string toolkit (`lib/confparse.cc`): splitting a configuration
/// string into arguments and words, removing comments, unquoting with backslash escapes and
/// `\<hex>` data, and quoting text so that it reads back unchanged.
///
/// Everything works on bytes: configuration strings may carry arbitrary binary data.
public enum ConfigText {
    // MARK: Byte classes

    @inline(__always) static func isSpace(_ c: UInt8) -> Bool { c == 32 || (c >= 9 && c <= 13) }
    @inline(__always) static func isDigit(_ c: UInt8) -> Bool { c >= 48 && c <= 57 }
    @inline(__always) static func isAlpha(_ c: UInt8) -> Bool { (c | 0x20) >= 97 && (c | 0x20) <= 122 }
    @inline(__always) static func isAlnum(_ c: UInt8) -> Bool { isDigit(c) || isAlpha(c) }
    @inline(__always) static func hexValue(_ c: UInt8) -> UInt8? {
        if isDigit(c) { return c - 48 }
        let lower = c | 0x20
        if lower >= 97 && lower <= 102 { return lower - 87 }
        return nil
    }

    // MARK: Scanning helpers

    /// Index just past the comment starting at `i` (which must be `//` or `/*`).
    static func skipComment(_ s: [UInt8], _ i: Int) -> Int {
        if s[i + 1] == 47 {
            var j = i + 2
            while j < s.count, s[j] != 10, s[j] != 13 { j += 1 }
            return j
        }
        var j = i + 2
        while j + 1 < s.count {
            if s[j] == 42, s[j + 1] == 47 { return j + 2 }
            j += 1
        }
        return s.count
    }

    @inline(__always) static func isCommentStart(_ s: [UInt8], _ i: Int) -> Bool {
        s[i] == 47 && i + 1 < s.count && (s[i + 1] == 47 || s[i + 1] == 42)
    }

    /// Skips whitespace and comments from `i`.
    static func skipCommentSpace(_ s: [UInt8], _ i: Int) -> Int {
        var j = i
        while j < s.count {
            if isSpace(s[j]) {
                j += 1
            } else if isCommentStart(s, j) {
                j = skipComment(s, j)
            } else {
                break
            }
        }
        return j
    }

    /// Index just past the quoted text opening at `i` (a `"` or `'`), or the end.
    static func skipQuoted(_ s: [UInt8], _ i: Int) -> Int {
        let quote = s[i]
        var j = i + 1
        while j < s.count {
            if s[j] == 92, quote == 34, j + 1 < s.count {
                if s[j + 1] == 60 {
                    j = skipHexData(s, j)
                    continue
                }
                j += 2
                continue
            }
            if s[j] == quote { return j + 1 }
            j += 1
        }
        return s.count
    }

    /// Index just past `\<...>` opening at `i`.
    static func skipHexData(_ s: [UInt8], _ i: Int) -> Int {
        var j = i + 2
        while j < s.count {
            if isCommentStart(s, j) {
                j = skipComment(s, j)
                continue
            }
            if s[j] == 62 { return j + 1 }
            j += 1
        }
        return s.count
    }

    // MARK: Comments

    /// `cp_uncomment`: trims whitespace and comments from both ends; each run of comments
    /// (with the whitespace around it) inside becomes one space; quoted text is untouched.
    public static func uncomment(_ text: String) -> String {
        String(decoding: uncomment(Array(text.utf8)), as: UTF8.self)
    }

    static func uncomment(_ s: [UInt8]) -> [UInt8] {
        uncomment(s, 0, s.count)
    }

    static func uncomment(_ s: [UInt8], _ from: Int, _ to: Int) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(to - from)
        var i = from
        // Leading whitespace and comments.
        while i < to {
            if isSpace(s[i]) {
                i += 1
            } else if s[i] == 47, i + 1 < to, s[i + 1] == 47 || s[i + 1] == 42 {
                i = min(skipComment(s, i), to)
            } else {
                break
            }
        }
        var pendingSpace = false
        while i < to {
            let c = s[i]
            if c == 47, i + 1 < to, s[i + 1] == 47 || s[i + 1] == 42 {
                // Drop whitespace before the comment, the comment, and whitespace after.
                while let last = out.last, isSpace(last), !pendingSpace { out.removeLast() }
                i = min(skipComment(s, i), to)
                while i < to, isSpace(s[i]) { i += 1 }
                pendingSpace = true
                continue
            }
            if pendingSpace {
                out.append(32)
                pendingSpace = false
            }
            if c == 34 || c == 39 {
                let end = min(skipQuoted(s, i), to)
                out.append(contentsOf: s[i..<end])
                i = end
                continue
            }
            if c == 92, i + 1 < to, s[i + 1] == 60 {
                let end = min(skipHexData(s, i), to)
                out.append(contentsOf: s[i..<end])
                i = end
                continue
            }
            out.append(c)
            i += 1
        }
        // Trailing whitespace (a trailing comment never sets a space).
        while let last = out.last, isSpace(last) { out.removeLast() }
        return out
    }

    // MARK: Splitting

    /// `cp_argvec`: splits at commas outside quotes, `\<...>` and comments; each argument is
    /// uncommented; a final empty argument is dropped, so `E(1, )` means `E(1)`.
    public static func arguments(_ text: String) -> [String] {
        let s = Array(text.utf8)
        return argumentRanges(s).map { String(decoding: uncomment(s, $0.lowerBound, $0.upperBound), as: UTF8.self) }
    }

    static func argumentRanges(_ s: [UInt8]) -> [Range<Int>] {
        var ranges: [Range<Int>] = []
        if s.isEmpty { return ranges }
        var start = 0
        var i = 0
        while i < s.count {
            let c = s[i]
            if c == 44 {
                ranges.append(start..<i)
                i += 1
                start = i
            } else if c == 34 || c == 39 {
                i = skipQuoted(s, i)
            } else if c == 92, i + 1 < s.count, s[i + 1] == 60 {
                i = skipHexData(s, i)
            } else if isCommentStart(s, i) {
                i = skipComment(s, i)
            } else {
                i += 1
            }
        }
        ranges.append(start..<s.count)
        // Drop a final argument that holds nothing but space and comments.
        if let last = ranges.last, skipCommentSpace(s, last.lowerBound) >= last.upperBound {
            ranges.removeLast()
        }
        return ranges
    }

    /// `cp_spacevec`: splits at unquoted whitespace; comments also separate words.
    public static func words(_ text: String) -> [String] {
        let s = Array(text.utf8)
        var words: [String] = []
        var i = skipCommentSpace(s, 0)
        while i < s.count {
            let start = i
            while i < s.count, !isSpace(s[i]), !isCommentStart(s, i) {
                if s[i] == 34 || s[i] == 39 {
                    i = skipQuoted(s, i)
                } else if s[i] == 92, i + 1 < s.count, s[i + 1] == 60 {
                    i = skipHexData(s, i)
                } else {
                    i += 1
                }
            }
            words.append(String(decoding: s[start..<i], as: UTF8.self))
            i = skipCommentSpace(s, i)
        }
        return words
    }

    /// Splits off the first word: returns it and the rest (with leading space removed).
    public static func firstWord(_ text: String) -> (word: String, rest: String) {
        let s = Array(text.utf8)
        var i = skipCommentSpace(s, 0)
        let start = i
        while i < s.count, !isSpace(s[i]), !isCommentStart(s, i) {
            if s[i] == 34 || s[i] == 39 {
                i = skipQuoted(s, i)
            } else if s[i] == 92, i + 1 < s.count, s[i + 1] == 60 {
                i = skipHexData(s, i)
            } else {
                i += 1
            }
        }
        let word = String(decoding: s[start..<i], as: UTF8.self)
        let restStart = skipCommentSpace(s, i)
        return (word, String(decoding: s[restStart...], as: UTF8.self))
    }

    // MARK: Unquoting

    /// `cp_unquote` as bytes: removes quotes, processes escapes inside double quotes and
    /// `\<hex>` anywhere outside single quotes; comments outside quotes are removed first.
    public static func unquoteBytes(_ text: String) -> [UInt8] {
        unquoteBytes(uncomment(Array(text.utf8)))
    }

    static func unquoteBytes(_ s: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(s.count)
        var i = 0
        var quote: UInt8 = 0
        while i < s.count {
            let c = s[i]
            if quote == 0 {
                if c == 34 || c == 39 {
                    quote = c
                    i += 1
                } else if c == 92, i + 1 < s.count, s[i + 1] == 60 {
                    i = appendHexData(s, i, into: &out)
                } else {
                    out.append(c)
                    i += 1
                }
            } else if c == quote {
                quote = 0
                i += 1
            } else if quote == 34, c == 92, i + 1 < s.count {
                i = appendEscape(s, i, into: &out)
            } else {
                out.append(c)
                i += 1
            }
        }
        return out
    }

    /// `cp_unquote` as text (bytes that are not UTF-8 become U+FFFD).
    public static func unquote(_ text: String) -> String {
        String(decoding: unquoteBytes(text), as: UTF8.self)
    }

    /// Processes `\<hex digits>` at `i`; spaces and comments inside are ignored.
    private static func appendHexData(_ s: [UInt8], _ i: Int, into out: inout [UInt8]) -> Int {
        var j = i + 2
        var high: UInt8? = nil
        while j < s.count {
            if isCommentStart(s, j) {
                j = skipComment(s, j)
                continue
            }
            let c = s[j]
            if c == 62 { return j + 1 }
            if let v = hexValue(c) {
                if let h = high {
                    out.append(h << 4 | v)
                    high = nil
                } else {
                    high = v
                }
            }
            j += 1
        }
        return s.count
    }

    /// One backslash escape inside double quotes, at `i` (the backslash).
    private static func appendEscape(_ s: [UInt8], _ i: Int, into out: inout [UInt8]) -> Int {
        let c = s[i + 1]
        switch c {
        case 97: out.append(7); return i + 2       // \a
        case 98: out.append(8); return i + 2       // \b
        case 116: out.append(9); return i + 2      // \t
        case 110: out.append(10); return i + 2     // \n
        case 118: out.append(11); return i + 2     // \v
        case 102: out.append(12); return i + 2     // \f
        case 114: out.append(13); return i + 2     // \r
        case 10: return i + 2                      // backslash-newline vanishes
        case 13: return (i + 2 < s.count && s[i + 2] == 10) ? i + 3 : i + 2
        case 60: return appendHexData(s, i, into: &out)
        case 120:                                  // \x: hex digits, the last two count
            var j = i + 2
            var value: UInt8 = 0
            var any = false
            while j < s.count, let v = hexValue(s[j]) {
                value = value << 4 | v
                any = true
                j += 1
            }
            if any {
                out.append(value)
            } else {
                out.append(120)
            }
            return j
        case 48...55:                              // octal, one to three digits
            var j = i + 1
            var value = 0
            while j < s.count, j < i + 4, s[j] >= 48, s[j] <= 55 {
                value = value * 8 + Int(s[j] - 48)
                j += 1
            }
            out.append(UInt8(truncatingIfNeeded: value))
            return j
        default:
            out.append(c)
            return i + 2
        }
    }

    // MARK: Quoting

    /// True if `text` reads back as itself without quotes (one word, nothing special).
    static func isSafeWord(_ s: [UInt8]) -> Bool {
        if s.isEmpty { return false }
        for (i, c) in s.enumerated() {
            if isAlnum(c) { continue }
            switch c {
            case 95, 46, 45, 58, 64, 43, 37, 42, 33, 63, 61, 126, 94, 38, 35:  // _ . - : @ + % * ! ? = ~ ^ & #
                continue
            case 47:  // '/' unless it starts a comment
                if i + 1 < s.count, s[i + 1] == 47 || s[i + 1] == 42 { return false }
                continue
            default:
                return false
            }
        }
        return true
    }

    /// `cp_quote`: text that `unquote` turns back into `text`; unchanged when it is a plain word.
    public static func quote(_ text: String) -> String {
        quote(bytes: Array(text.utf8))
    }

    public static func quote(bytes s: [UInt8]) -> String {
        if isSafeWord(s) { return String(decoding: s, as: UTF8.self) }
        return "\"" + quotedBody(s) + "\""
    }

    /// The inside of a double-quoted rendering of `s`.
    static func quotedBody(_ s: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(s.count + 2)
        let hex: [UInt8] = Array("0123456789ABCDEF".utf8)
        var i = 0
        while i < s.count {
            let c = s[i]
            switch c {
            case 34: out.append(contentsOf: [92, 34])
            case 92: out.append(contentsOf: [92, 92])
            case 10: out.append(contentsOf: [92, 110])
            case 9: out.append(contentsOf: [92, 116])
            case 13: out.append(contentsOf: [92, 114])
            case 32...126: out.append(c)
            default:
                if c >= 0x80, let length = validUTF8Length(s, i) {
                    out.append(contentsOf: s[i..<(i + length)])
                    i += length
                    continue
                }
                out.append(contentsOf: [92, 60, hex[Int(c >> 4)], hex[Int(c & 15)], 62])
            }
            i += 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func validUTF8Length(_ s: [UInt8], _ i: Int) -> Int? {
        let c = s[i]
        let length: Int
        if c & 0xE0 == 0xC0 { length = 2 } else if c & 0xF0 == 0xE0 { length = 3 } else if c & 0xF8 == 0xF0 { length = 4 } else { return nil }
        guard i + length <= s.count else { return nil }
        for k in 1..<length where s[i + k] & 0xC0 != 0x80 { return nil }
        return length
    }

    /// `cp_unargvec`: joins arguments with ", ".
    public static func joinArguments(_ arguments: [String]) -> String {
        arguments.joined(separator: ", ")
    }

    /// The configuration after a write to a keyword handler, as Click's
    /// `reconfigure_keyword_handler` leaves it: the `KEYWORD value` argument replaced, or
    /// else the positional argument at `position` (when given and present), or else
    /// `KEYWORD value` appended.
    public static func replacingKeyword(_ keyword: String, with value: String, position: Int?, in configuration: String) -> String {
        var arguments = arguments(configuration)
        let named = arguments.firstIndex { argument in
            let bytes = Array(argument.utf8)
            guard let length = keywordLength(bytes) else { return false }
            return String(decoding: bytes[..<length], as: UTF8.self) == keyword
        }
        if let named {
            arguments[named] = keyword + " " + value
        } else if let position, position < arguments.count,
            !arguments[..<(position + 1)].contains(where: { keywordLength(Array($0.utf8)) != nil }) {
            arguments[position] = value
        } else {
            arguments.append(keyword + " " + value)
        }
        return joinArguments(arguments)
    }

    /// `cp_word`: the unquoted value if `text` is exactly one non-empty word.
    public static func word(_ text: String) -> String? {
        let parts = words(text)
        guard parts.count == 1 else { return nil }
        let value = unquote(parts[0])
        if value.isEmpty || value.utf8.contains(where: isSpace) { return nil }
        return value
    }

    /// True if `text` looks like a keyword argument: `[A-Za-z_][A-Za-z0-9_:.?!]*`, then
    /// whitespace, then something (`Args::reset_from`). Returns the keyword's length.
    static func keywordLength(_ s: [UInt8]) -> Int? {
        guard let first = s.first, isAlpha(first) || first == 95 else { return nil }
        var i = 1
        while i < s.count {
            let c = s[i]
            if isAlnum(c) || c == 95 || c == 58 || c == 46 || c == 63 || c == 33 {
                i += 1
            } else {
                break
            }
        }
        var j = i
        while j < s.count, isSpace(s[j]) { j += 1 }
        if j == i || j == s.count { return nil }
        return i
    }
}

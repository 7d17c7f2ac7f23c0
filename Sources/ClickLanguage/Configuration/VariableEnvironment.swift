/// A lexical scope of configuration variables (`lib/variableenv.cc`): the formals and
/// `define`s of one compound instantiation, or of the whole file, with a link to the scope
/// that encloses it. Depth 0 is the file.
public final class VariableEnvironment {
    public let parent: VariableEnvironment?
    public let depth: Int
    public private(set) var names: [String] = []
    public private(set) var values: [String] = []

    public init(parent: VariableEnvironment?) {
        self.parent = parent
        self.depth = (parent?.depth ?? -1) + 1
    }

    /// Defines `name`; returns false if it was already defined here (replacing the value only
    /// when `override` is set).
    @discardableResult
    public func define(_ name: String, _ value: String, override: Bool) -> Bool {
        if let index = names.firstIndex(of: name) {
            if override { values[index] = value }
            return false
        }
        names.append(name)
        values.append(value)
        return true
    }

    public func defines(_ name: String) -> Bool {
        names.contains(name)
    }

    /// The value of `name` here or in an enclosing scope.
    public func value(of name: String) -> String? {
        var scope: VariableEnvironment? = self
        while let current = scope {
            if let index = current.names.firstIndex(of: name) { return current.values[index] }
            scope = current.parent
        }
        return nil
    }

    /// The nearest enclosing scope whose depth is below `depth` (Click's `parent_of`).
    public func ancestor(below depth: Int) -> VariableEnvironment? {
        var scope: VariableEnvironment? = self
        while let current = scope, current.depth >= depth { scope = current.parent }
        return scope
    }
}

extension ConfigText {
    /// `cp_expand`: substitutes `$name`, `${name}`, `${name-default}` and `${name[N]}` (the
    /// N-th word of the value, from 0; N may itself be a variable) in `text`. Nothing is expanded inside single quotes;
    /// inside double quotes the value is re-quoted so that it reads back unchanged. An
    /// undefined variable is left as written. `$(...)` (a Script handler call) is kept, with
    /// variables inside it expanded, to a nesting depth of `maximumCallNesting` (deeper
    /// calls are kept as written: each level is a recursion and a rescan).
    ///
    /// Each variable is expanded afresh where it is used, so a few hundred bytes of nested
    /// `define`s can stand for gigabytes (`$a$a` with `a` as `$b$b`, ...). `budget` is how
    /// many bytes the expansion may scan and write in all; it is charged as it goes, and
    /// the result is nil once it runs out (nothing partial is returned).
    public static func expand(_ text: String, in environment: VariableEnvironment?, budget: inout Int) -> String? {
        expand(text, in: environment, depth: 0, variableDepth: 0, budget: &budget)
    }

    /// `expand(_:in:budget:)` with `defaultExpansionBudget`.
    public static func expand(_ text: String, in environment: VariableEnvironment?) -> String? {
        var budget = defaultExpansionBudget
        return expand(text, in: environment, budget: &budget)
    }

    /// How many bytes one configuration's expansion may scan and write unless told
    /// otherwise: far beyond any real configuration (a 500,000-route table is 15 MB).
    public static let defaultExpansionBudget = 256 << 20

    /// Variable values are expanded again where they are used, to this depth (Click's 10),
    /// so that `define($B $A:gw, $A eth0)` gives `$B` as `eth0:gw` and `define($A $A)` ends.
    static let maximumVariableDepth = 10

    public static let maximumCallNesting = 100

    private static func expand(_ text: String, in environment: VariableEnvironment?, depth: Int, variableDepth: Int, budget: inout Int) -> String? {
        guard let environment, text.utf8.contains(36) else { return text }
        let s = Array(text.utf8)
        budget -= s.count
        if budget < 0 { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(s.count + 16)
        var copied = 0
        var quote: UInt8 = 0
        var i = 0
        while i < s.count {
            let c = s[i]
            switch c {
            case 92:
                if i + 1 < s.count, quote == 34 { i += 1 }
            case 34, 39:
                if quote == 0 { quote = c } else if quote == c { quote = 0 }
            case 47:
                if quote == 0, isCommentStart(s, i) {
                    i = skipComment(s, i)
                    continue
                }
            case 36:
                guard i + 1 < s.count, quote != 39, variableDepth <= maximumVariableDepth else { break }
                let dollar = i
                var name: [UInt8]
                var braced = false
                var nested = false
                if s[i + 1] == 123 {                     // ${...}
                    var j = i + 2
                    while j < s.count, s[j] != 125 { j += 1 }
                    if j >= s.count { break }
                    name = Array(s[(i + 2)..<j])
                    // `${a[$n]}`: variables inside the braces are expanded first.
                    if name.contains(36) {
                        guard let inner = expand(String(decoding: name, as: UTF8.self), in: environment, depth: depth + 1, variableDepth: variableDepth + 1, budget: &budget) else { return nil }
                        name = Array(inner.utf8)
                    }
                    braced = true
                    i = j + 1
                } else if s[i + 1] == 40 {               // $(...): Script's handler calls
                    var level = 1
                    var q: UInt8 = 0
                    var j = i + 2
                    while j < s.count, level > 0 {
                        let d = s[j]
                        if d == 40, q == 0 { level += 1 }
                        else if d == 41, q == 0 { level -= 1 }
                        else if d == 34 || d == 39 { if q == 0 { q = d } else if q == d { q = 0 } }
                        else if d == 92, j + 1 < s.count, q != 39 { j += 1 }
                        else if d == 36, q != 39 { nested = true }
                        j += 1
                    }
                    if level != 0 { break }
                    name = Array(s[(i + 2)..<(j - 1)])
                    i = j
                    out.append(contentsOf: s[copied..<dollar])
                    if nested && depth < maximumCallNesting {
                        guard let inner = expand(String(decoding: name, as: UTF8.self), in: environment, depth: depth + 1, variableDepth: variableDepth, budget: &budget) else { return nil }
                        out.append(contentsOf: Array("$(".utf8))
                        out.append(contentsOf: Array(inner.utf8))
                        out.append(41)
                    } else {
                        out.append(contentsOf: s[dollar..<i])
                    }
                    copied = i
                    continue
                } else if isAlnum(s[i + 1]) || s[i + 1] == 95 {
                    var j = i + 1
                    while j < s.count, isAlnum(s[j]) || s[j] == 95 { j += 1 }
                    name = Array(s[(i + 1)..<j])
                    i = j
                } else if s[i + 1] == 63 || s[i + 1] == 35 {   // $? and $# (Script)
                    name = [s[i + 1]]
                    i += 2
                } else {
                    break
                }
                if let found = lookup(name, braced: braced, in: environment) {
                    guard let value = expand(found, in: environment, depth: depth, variableDepth: variableDepth + 1, budget: &budget) else { return nil }
                    budget -= (dollar - copied) + value.utf8.count
                    if budget < 0 { return nil }
                    out.append(contentsOf: s[copied..<dollar])
                    if quote == 34 {
                        out.append(contentsOf: Array(quotedBody(Array(value.utf8)).utf8))
                    } else {
                        out.append(contentsOf: Array(value.utf8))
                    }
                    copied = i
                }
                continue
            default:
                break
            }
            i += 1
        }
        if copied == 0 { return text }
        out.append(contentsOf: s[copied...])
        return String(decoding: out, as: UTF8.self)
    }

    /// Resolves `name`, `name-default` or `name[N]` (the last two only in braces).
    private static func lookup(_ spelled: [UInt8], braced: Bool, in environment: VariableEnvironment) -> String? {
        var name = spelled
        var fallback: [UInt8]? = nil
        var wordIndex: Int? = nil
        if braced {
            if let minus = name.firstIndex(of: 45) {
                fallback = Array(name[(minus + 1)...])
                name = Array(name[..<minus])
            }
            if name.last == 93, let open = name.lastIndex(of: 91), open + 1 < name.count - 1 {
                let digits = name[(open + 1)..<(name.count - 1)]
                if digits.allSatisfy(isDigit), digits.count < 9 {
                    wordIndex = Int(String(decoding: digits, as: UTF8.self))
                    name = Array(name[..<open])
                }
            }
        }
        if let value = environment.value(of: String(decoding: name, as: UTF8.self)) {
            guard let wordIndex else { return value }
            let parts = words(value)
            return wordIndex < parts.count ? parts[wordIndex] : ""
        }
        return fallback.map { String(decoding: $0, as: UTF8.self) }
    }
}

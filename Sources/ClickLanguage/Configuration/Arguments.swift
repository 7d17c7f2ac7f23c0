/// What a value parser may consult: the element being configured (for the scope of
/// AddressInfo names) and the names in force.
public struct ValueContext: Sendable {
    public var elementName: String
    public var addressNames: AddressNames

    public init(elementName: String = "", addressNames: AddressNames = AddressNames()) {
        self.elementName = elementName
        self.addressNames = addressNames
    }
}

/// What reading one argument found: its value, or Click's words for what is wrong.
public enum ArgumentReading<Value> {
    case value(Value)
    case error(String)
}

/// How to read one kind of argument value: its name (for documentation), Click's message
/// for text that is not a value of the kind ("parse error"; "invalid number" for
/// integers), and the parser (given the argument text, quotes still in place), which
/// returns nil for such text or `.error` with a more precise message (a range).
public struct ValueType<Value>: Sendable {
    public let name: String
    public let invalidMessage: String
    private let evaluate: @Sendable (String, ValueContext) -> ArgumentReading<Value>?

    public init(_ name: String, invalidMessage: String = "parse error",
                reading: @escaping @Sendable (String, ValueContext) -> ArgumentReading<Value>?) {
        self.name = name
        self.invalidMessage = invalidMessage
        self.evaluate = reading
    }

    /// A type whose parser knows only valid and invalid.
    public init(_ name: String, invalidMessage: String = "parse error", parse: @escaping @Sendable (String, ValueContext) -> Value?) {
        self.init(name, invalidMessage: invalidMessage) { text, context in parse(text, context).map { .value($0) } }
    }

    /// The value of `text`, or Click's message for what is wrong with it.
    public func read(_ text: String, _ context: ValueContext) -> ArgumentReading<Value> {
        evaluate(text, context) ?? .error(invalidMessage)
    }

    /// The value of `text`, or nil.
    public func parse(_ text: String, _ context: ValueContext) -> Value? {
        if case .value(let v)? = evaluate(text, context) { return v }
        return nil
    }

    /// A variant that accepts only values passing `check`, named `name`.
    public func checked(_ name: String, _ check: @escaping @Sendable (Value) -> Bool) -> ValueType<Value> {
        let evaluate = self.evaluate
        return ValueType(name, invalidMessage: invalidMessage) { text, context in
            switch evaluate(text, context) {
            case .value(let v)? where !check(v): return nil
            case let other: return other
            }
        }
    }
}

extension ValueType where Value == Bool {
    public static let bool = ValueType("boolean") { text, _ in BoolValue.parse(ConfigText.unquote(text)) }
}

extension ValueType where Value == String {
    /// The argument exactly as written (quotes and all).
    public static let raw = ValueType("argument") { text, _ in text }
    /// The argument unquoted.
    public static let string = ValueType("string") { text, _ in ConfigText.unquote(text) }
    /// One word, unquoted.
    public static let word = ValueType("word") { text, _ in ConfigText.word(text) }
}

extension ValueType where Value == [UInt8] {
    /// The argument unquoted, as bytes (for packet data).
    public static let bytes = ValueType("data") { text, _ in ConfigText.unquoteBytes(text) }
}

extension ValueType where Value == IPv4Address {
    public static let ipv4Address = ValueType("IP address") { text, context in
        let t = ConfigText.unquote(text)
        return IPv4Address.parse(t)?.address ?? context.addressNames.ipv4(t, context: context.elementName)
    }
}

extension ValueType where Value == [IPv4Address] {
    /// Space-separated IP addresses (or AddressInfo names); Click's `Vector<IPAddress>`.
    public static let ipv4AddressList = ValueType("list of IP addresses") { text, context in
        var out: [IPv4Address] = []
        for word in ConfigText.unquote(text).split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }) {
            guard let a = ValueType<IPv4Address>.ipv4Address.parse(String(word), context) else { return nil }
            out.append(a)
        }
        return out
    }
}

extension ValueType where Value == IPv4Prefix {
    /// `ADDR/LEN` or `ADDR/MASK`, or an AddressInfo name.
    public static let ipv4Prefix = ValueType("IP address prefix") { text, context in
        let t = ConfigText.unquote(text)
        return IPv4Prefix.parse(t) ?? context.addressNames.ipv4Prefix(t, context: context.elementName)
    }
    /// Like `ipv4Prefix`, but an address means /32, as Click's `IPPrefixArg(true)` reads
    /// it: `ADDR/LEN` first, then an address (a name that is one too: `a` of
    /// `AddressInfo(a 1.0.0.2/24)` is 1.0.0.2/32), then a prefix name (`a:ipnet`).
    public static let ipv4PrefixOrAddress = ValueType("IP address prefix") { text, context in
        let t = ConfigText.unquote(text)
        if t.contains("/"), let p = IPv4Prefix.parse(t) { return p }
        if let a = ValueType<IPv4Address>.ipv4Address.parse(t, context) { return IPv4Prefix(address: a, length: 32) }
        return context.addressNames.ipv4Prefix(t, context: context.elementName)
    }
}

extension ValueType where Value == IPv6Address {
    public static let ipv6Address = ValueType("IPv6 address") { text, context in
        let t = ConfigText.unquote(text)
        return IPv6Address.parse(t) ?? context.addressNames.ipv6(t, context: context.elementName)
    }
}

extension ValueType where Value == EtherAddress {
    public static let etherAddress = ValueType("Ethernet address") { text, context in
        let t = ConfigText.unquote(text)
        return EtherAddress.parse(t) ?? context.addressNames.ether(t, context: context.elementName)
    }
}

/// Binds an element's configuration arguments to the parameters it reads, as Click's
/// `Args` does (`lib/args.cc`):
///
/// - `mandatory` (`read_mp`): the next positional argument, required; it takes the next
///   argument even if that looks like a keyword argument.
/// - `positional` (`read_p`): the next positional argument if there is one, or a keyword
///   argument of that name.
/// - `keyword` (`read`) and `mandatoryKeyword` (`read_m`): keyword only; when repeated, the
///   last one wins. `allKeywords` (`read_all`) takes every occurrence.
/// - `finish` reports "KEY: unknown argument" for unread keywords and "too many arguments"
///   for unread positional ones.
///
/// An argument is keyword-looking when it starts with `[A-Za-z_][A-Za-z0-9_:.?!]*`, then
/// whitespace, then more text. Errors are collected, prefixed by the keyword, and returned
/// by `finish()`; a failed read returns nil.
public struct Arguments {
    public let arguments: [String]
    /// Per argument: 0 when positional, the keyword's length when keyword-looking, -1 once
    /// consumed as a positional argument, -2 once consumed as a keyword: positional reads
    /// stop at the first keyword already used. (Click's `_kwpos`.)
    private var keywordLengths: [Int]
    public let context: ValueContext
    public private(set) var errors: [String] = []
    /// Every argument name asked for, in order (what an element reads: its documentation
    /// is checked against this).
    public private(set) var requested: [String] = []

    public init(_ arguments: [String], context: ValueContext = ValueContext()) {
        self.arguments = arguments
        self.context = context
        keywordLengths = arguments.map { ConfigText.keywordLength(Array($0.utf8)) ?? 0 }
    }

    public init(configuration: String, context: ValueContext = ValueContext()) {
        self.init(ConfigText.arguments(configuration), context: context)
    }

    public var succeeded: Bool { errors.isEmpty }

    public mutating func error(_ message: String, keyword: String? = nil) {
        errors.append(keyword.map { "\($0): \(message)" } ?? message)
    }

    /// Warnings given with `warning(_:)`, each with the number of errors before it.
    public private(set) var warnings: [(afterErrors: Int, text: String)] = []

    /// A warning about the configuration, printed as given (Click's wording puts
    /// `warning: ` where its error handler's prefix ends: `pattern 3: warning: ...`), in
    /// order with the errors. Warnings alone do not fail the configuration.
    public mutating func warning(_ text: String) {
        warnings.append((errors.count, text))
    }

    /// The errors and warnings in the order they were given.
    public var messages: [String] {
        var out: [String] = []
        var w = 0
        for (i, e) in errors.enumerated() {
            while w < warnings.count, warnings[w].afterErrors <= i { out.append(warnings[w].text); w += 1 }
            out.append(e)
        }
        out += warnings[w...].map(\.text)
        return out
    }

    private func value(at index: Int, keywordLength: Int) -> String {
        guard keywordLength > 0 else { return arguments[index] }
        let bytes = Array(arguments[index].utf8)
        var i = keywordLength
        while i < bytes.count, ConfigText.isSpace(bytes[i]) { i += 1 }
        return String(decoding: bytes[i...], as: UTF8.self)
    }

    /// Click's `Args::find`: the text for `keyword`, consuming it, or nil.
    private mutating func find(_ keyword: String, positional: Bool, mandatory: Bool) -> String? {
        requested.append(keyword)
        let keywordBytes = Array(keyword.utf8)
        var got = -1
        var gotLength = -1
        var position = -1
        for i in keywordLengths.indices {
            if position == -1, keywordLengths[i] != -1 {
                position = keywordLengths[i] >= 0 ? i : -2
            }
            if keywordLengths[i] == keywordBytes.count, arguments[i].utf8.starts(with: keywordBytes) {
                got = i
                gotLength = keywordLengths[i]
                keywordLengths[i] = -2
            }
        }
        if positional, position >= 0, keywordLengths[position] >= 0,
            (got < 0 && mandatory) || keywordLengths[position] == 0
        {
            keywordLengths[position] = -1
            if got < position {
                got = position
                gotLength = 0
            }
        }
        if got < 0 {
            if mandatory { error("required argument missing", keyword: keyword) }
            return nil
        }
        return value(at: got, keywordLength: gotLength)
    }

    private mutating func read<T>(_ keyword: String, _ type: ValueType<T>, positional: Bool, mandatory: Bool) -> T? {
        guard let text = find(keyword, positional: positional, mandatory: mandatory) else { return nil }
        switch type.read(text, context) {
        case .value(let v): return v
        case .error(let message):
            error(message, keyword: keyword)
            return nil
        }
    }

    /// `read_mp`: a mandatory positional argument.
    public mutating func mandatory<T>(_ keyword: String, _ type: ValueType<T>) -> T? {
        read(keyword, type, positional: true, mandatory: true)
    }

    /// `read_p`: an optional positional argument (also accepted as a keyword).
    public mutating func positional<T>(_ keyword: String, _ type: ValueType<T>) -> T? {
        read(keyword, type, positional: true, mandatory: false)
    }

    /// `read`: an optional keyword argument.
    public mutating func keyword<T>(_ keyword: String, _ type: ValueType<T>) -> T? {
        read(keyword, type, positional: false, mandatory: false)
    }

    /// `read_m`: a mandatory keyword argument.
    public mutating func mandatoryKeyword<T>(_ keyword: String, _ type: ValueType<T>) -> T? {
        read(keyword, type, positional: false, mandatory: true)
    }

    /// `read_all`: every occurrence of a keyword, in order.
    public mutating func allKeywords<T>(_ keyword: String, _ type: ValueType<T>) -> [T] {
        requested.append(keyword)
        let keywordBytes = Array(keyword.utf8)
        var result: [T] = []
        for i in keywordLengths.indices
        where keywordLengths[i] == keywordBytes.count && arguments[i].utf8.starts(with: keywordBytes) {
            let text = value(at: i, keywordLength: keywordLengths[i])
            keywordLengths[i] = -2
            switch type.read(text, context) {
            case .value(let v): result.append(v)
            case .error(let message): error(message, keyword: keyword)
            }
        }
        return result
    }

    /// The arguments not yet read, in order (for elements taking a variable list).
    public mutating func remaining() -> [String] {
        var result: [String] = []
        for i in keywordLengths.indices where keywordLengths[i] >= 0 {
            result.append(arguments[i])
            keywordLengths[i] = -1
        }
        return result
    }

    /// Click's `Args::consume` followed by a fresh `Args(conf)`: the arguments not read yet
    /// (with the keywords read so far taken out, so positional arguments after them are
    /// next), as new Arguments. Read them, then `absorb` them back.
    public mutating func consume() -> Arguments {
        var rest: [String] = []
        for i in keywordLengths.indices where keywordLengths[i] >= 0 {
            rest.append(arguments[i])
            keywordLengths[i] = -1
        }
        return Arguments(rest, context: context)
    }

    /// Takes back what was read from `consume()`'s arguments: their errors and names, and
    /// what is left of them (for `finish`).
    public mutating func absorb(_ rest: Arguments) {
        var rest = rest
        requested += rest.requested
        errors += rest.finish()
    }

    /// Checks that every argument was read. Returns all errors (empty on success).
    public mutating func finish() -> [String] {
        var tooMany = false
        for i in keywordLengths.indices {
            if keywordLengths[i] == 0 {
                tooMany = true
            } else if keywordLengths[i] > 0 {
                let bytes = Array(arguments[i].utf8)
                error("\(String(decoding: bytes[0..<keywordLengths[i]], as: UTF8.self)): unknown argument")
            }
        }
        if tooMany { error("too many arguments") }
        return errors
    }
}

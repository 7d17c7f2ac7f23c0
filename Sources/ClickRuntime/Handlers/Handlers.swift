/// One handler: a named read and/or write operation on an element (or on the router when
/// the element is nil), as Click's handlers are. Closures are fine here: handlers run on
/// the control path, never per packet.
public struct Handler {
    public let name: String
    public let read: ((String) throws(ElementError) -> String)?
    public let write: ((String) throws(ElementError) -> Void)?
    /// Read handlers that take a parameter (`lookup 10.0.0.1`).
    public var readTakesParameter = false

    public var isReadable: Bool { read != nil }
    public var isWritable: Bool { write != nil }

    /// Click's `handlers` listing flags: `r`, `w`, `rw`.
    public var flags: String { (isReadable ? "r" : "") + (isWritable ? "w" : "") }
}

/// The handlers of one element, in the order they were added (a later one with the same
/// name replaces an earlier one, as in Click).
public struct HandlerSet {
    public private(set) var handlers: [Handler] = []

    public init() {}

    public subscript(name: String) -> Handler? {
        handlers.last { $0.name == name }
    }

    public mutating func add(_ handler: Handler) {
        handlers.removeAll { $0.name == handler.name }
        handlers.append(handler)
    }

    /// Adds a read handler returning `body()`. A read and a write handler of the same name
    /// make one read/write handler, as in Click.
    public mutating func read(_ name: String, _ body: @escaping () -> String) {
        add(Handler(name: name, read: { _ in body() }, write: self[name]?.write))
    }

    /// Adds a read handler that takes a parameter.
    public mutating func readWithParameter(_ name: String, _ body: @escaping (String) throws(ElementError) -> String) {
        var h = Handler(name: name, read: body, write: self[name]?.write)
        h.readTakesParameter = true
        add(h)
    }

    /// Adds a write handler (joining a read handler of the same name).
    public mutating func write(_ name: String, _ body: @escaping (String) throws(ElementError) -> Void) {
        let existing = self[name]
        var h = Handler(name: name, read: existing?.read, write: body)
        h.readTakesParameter = existing?.readTakesParameter ?? false
        add(h)
    }

    public mutating func readWrite(_ name: String, read: @escaping () -> String, write: @escaping (String) throws(ElementError) -> Void) {
        add(Handler(name: name, read: { _ in read() }, write: write))
    }

    /// A read/write handler over an integer property, parsed with Click's integer syntax.
    public mutating func integer(_ name: String, get: @escaping () -> Int, set: ((Int) throws(ElementError) -> Void)? = nil) {
        if let set {
            readWrite(name, read: { String(get()) }, write: { (text: String) throws(ElementError) in
                try set(try ValueType.int64.written(text))
            })
        } else {
            read(name) { String(get()) }
        }
    }

    /// A read/write handler over a boolean property.
    public mutating func boolean(_ name: String, get: @escaping () -> Bool, set: ((Bool) -> Void)? = nil) {
        if let set {
            readWrite(name, read: { get() ? "true" : "false" }, write: { (text: String) throws(ElementError) in
                guard let v = BoolValue.parse(text.trimmingCharacters()) else { throw ElementError("expected boolean") }
                set(v)
            })
        } else {
            read(name) { get() ? "true" : "false" }
        }
    }
}

import ClickLanguage

extension ValueType {
    /// A value written to a handler, read as the configuration argument of this type
    /// would be: the same range checks, and Click's words for what is wrong.
    public func written(_ text: String) throws(ElementError) -> Value {
        switch read(text.trimmingCharacters(), ValueContext()) {
        case .value(let v): return v
        case .error(let message): throw ElementError(message)
        }
    }
}

extension String {
    /// The string without leading and trailing whitespace.
    public func trimmingCharacters() -> String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s = s.dropFirst() }
        while let l = s.last, l.isWhitespace { s = s.dropLast() }
        return String(s)
    }
}

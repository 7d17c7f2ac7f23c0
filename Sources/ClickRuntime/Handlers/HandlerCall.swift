import ClickLanguage

/// A handler call written in a configuration: `HANDLER [VALUE]` as in `COUNT_CALL 5
/// c.reset` or `END_CALL stop` (Click's `HandlerCall`). Parsed at configuration, checked
/// at initialization with Click's wording (`no element named 'x'`, `no 'x.y' write
/// handler`), so that a misspelt call fails when the router starts rather than being
/// silently skipped when it is reached. Names are looked up as Click does: an element
/// name relative to the calling element's compound first, then a handler of the calling
/// element itself, then a global handler.
public struct HandlerCall: Sendable, CustomStringConvertible {
    /// The handler as written (`c.reset`, `stop`).
    public let handlerText: String
    /// The value passed to a write handler (the rest of the text).
    public let value: String
    /// The element and handler name found by `initialize`: nil element for a global.
    private(set) var elementName: String?
    private(set) var handlerName = ""
    public private(set) var isInitialized = false

    /// Parses `HANDLER [VALUE]`; nil for empty text (Click's "syntax error").
    public init?(_ text: String) {
        let (handler, rest) = ConfigText.firstWord(text)
        guard !handler.isEmpty, !handler.hasSuffix(".") else { return nil }
        handlerText = ConfigText.unquote(handler)
        value = rest
    }

    public var description: String { value.isEmpty ? handlerText : "\(handlerText) \(value)" }

    /// Finds the handler for a call made by `context`; throws Click's message when there
    /// is no such element or handler, or when the handler cannot be written (`write`) or
    /// read.
    public mutating func initialize(in router: Router, context: Element, write: Bool) throws(ElementError) {
        let text = handlerText
        var element: Element? = nil
        var name = text
        if text.hasPrefix(".") {
            name = String(text.dropFirst())
        } else if let dot = text.firstIndex(of: ".") {
            if let e = router.element(named: String(text[..<dot]), relativeTo: context) {
                element = e
                name = String(text[text.index(after: dot)...])
            }
        }
        if element == nil && !text.hasPrefix(".") {
            if context.index >= 0, router.handlers.indices.contains(context.index), router.handlers[context.index][text] != nil {
                element = context
            } else if !text.contains(".") || router.globalHandlers[text] != nil {
                element = nil
            } else if let dot = text.firstIndex(of: ".") {
                throw ElementError("no element named '\(text[..<dot])'")
            }
        }
        let handler = element.map { router.handlers[$0.index][name] } ?? router.globalHandlers[name]
        let unparsed = element.map { "\($0.name).\(name)" } ?? name
        guard let handler, write ? handler.isWritable : handler.isReadable else {
            throw ElementError(write ? "no '\(unparsed)' write handler" : "no '\(unparsed)' read handler")
        }
        if !write && !value.isEmpty && !handler.readTakesParameter {
            throw ElementError("read handler '\(unparsed)' does not take parameters")
        }
        elementName = element?.name
        handlerName = name
        isInitialized = true
    }

    /// Calls the write handler with the value; the error is returned for the caller to
    /// report (Click reports it and goes on).
    @discardableResult
    public func callWrite(in router: Router, value: String? = nil) -> HandlerError? {
        let full = elementName.map { "\($0).\(handlerName)" } ?? handlerName
        do {
            try router.write(isInitialized ? full : handlerText, value ?? self.value)
            return nil
        } catch {
            return error
        }
    }
}

extension Router {
    /// The element `name` as seen from `context`: Click's `Router::find`, which tries the
    /// enclosing compounds of `context` from the innermost out (`a/b/x` looks for `a/b/name`,
    /// then `a/name`, then `name`).
    public func element(named name: String, relativeTo context: Element) -> Element? {
        var prefix = Substring(context.name)
        while let slash = prefix.lastIndex(of: "/") {
            prefix = prefix[..<slash]
            if let e = element(named: "\(prefix)/\(name)") { return e }
        }
        return element(named: name)
    }
}

import ClickRuntime

/// An element class's documentation, as its doc comment gives it (Click's element
/// manual pages): the synopsis, the text (what it does, ports, processing, keywords,
/// handlers), the keywords the synopsis names and the handlers the text names.
/// `clickos-vm --doc CLASS` prints it; a test holds every class to it.
public struct ElementDocumentation: Sendable {
    public let synopsis: String
    public let text: String
    public let keywords: [String]
    /// The keywords given by name (after `*keywords*` in the synopsis).
    public let keywordArguments: [String]
    public let handlers: [String]
    /// Handlers that exist only with some configuration ("`drop_details` (with DETAILS)").
    public let conditionalHandlers: [String]
    /// The source file the documentation comes from.
    public let file: String

    /// The documentation of `className` (or of the class an alias names).
    public static func of(_ className: String) -> ElementDocumentation? {
        if let d = entries[className] { return d }
        guard let type = StandardElements.registry.classes[className] else { return nil }
        return entries[type.className]
    }

    /// The manual page: synopsis, then the text.
    public var page: String {
        synopsis + "\n\n" + text + "\n"
    }
}

/// The element classes a runtime can instantiate, by Click class name (Click's
/// `EXPORT_ELEMENT`). A class is registered by its type; its name is the type's
/// `className`, or an alias.
public struct ElementRegistry {
    public private(set) var classes: [String: Element.Type] = [:]

    public init() {}

    /// Registers `type` under its own class name.
    public mutating func register(_ type: Element.Type) {
        classes[type.className] = type
    }

    /// Registers `type` under another name too (Click's aliases, `SetECN` for `SetIPECN`).
    public mutating func register(_ type: Element.Type, alias: String) {
        classes[alias] = type
    }

    /// Removes a class (a sandbox that must not open files or sockets).
    public mutating func remove(_ name: String) {
        classes[name] = nil
    }

    public var classNames: Set<String> { Set(classes.keys) }

    public func make(_ name: String) -> Element? {
        classes[name]?.init()
    }
}

/// The element classes a runtime can instantiate, by Click class name. Each element file
/// registers itself in its module's list (Click's `EXPORT_ELEMENT`).
public struct ElementRegistry {
    public private(set) var factories: [String: () -> Element] = [:]

    public init() {}

    public mutating func register(_ name: String, _ factory: @escaping () -> Element) {
        factories[name] = factory
    }

    public var classNames: Set<String> { Set(factories.keys) }

    public func make(_ name: String) -> Element? {
        factories[name]?()
    }
}

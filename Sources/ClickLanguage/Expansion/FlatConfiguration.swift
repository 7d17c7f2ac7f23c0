/// A Click configuration flattened into one graph of primitive elements: what a router is
/// built from, and what `click -qo-`, `click-flatten` and the `flatconfig` handler print.
public struct FlatConfiguration: Sendable, Equatable {
    /// One primitive element: its full name (`outer/inner` for compound members), its class
    /// and its configuration string with variables substituted.
    public struct Element: Sendable, Equatable {
        public var name: String
        public var className: String
        public var configuration: String
        public var landmark: Landmark

        public init(name: String, className: String, configuration: String, landmark: Landmark) {
            self.name = name
            self.className = className
            self.configuration = configuration
            self.landmark = landmark
        }
    }

    /// A connection from output `fromPort` of element `from` to input `toPort` of element
    /// `to` (indexes into `elements`). Ordered as Click orders them: by destination, then
    /// source.
    public struct Connection: Sendable, Hashable, Comparable {
        public var from: Int
        public var fromPort: Int
        public var to: Int
        public var toPort: Int

        public init(from: Int, fromPort: Int, to: Int, toPort: Int) {
            self.from = from
            self.fromPort = fromPort
            self.to = to
            self.toPort = toPort
        }

        public static func < (a: Connection, b: Connection) -> Bool {
            (a.to, a.toPort, a.from, a.fromPort) < (b.to, b.toPort, b.from, b.fromPort)
        }
    }

    /// A `require` statement's entry: `package NAME` or `compact_config`.
    public struct Requirement: Sendable, Equatable {
        public var type: String
        public var value: String

        public init(type: String, value: String) {
            self.type = type
            self.value = value
        }
    }

    public var requirements: [Requirement]
    public var elements: [Element]
    public var connections: [Connection]

    public init(requirements: [Requirement] = [], elements: [Element] = [], connections: [Connection] = []) {
        self.requirements = requirements
        self.elements = elements
        self.connections = connections
    }

    /// The index of the element called `name`.
    public func index(of name: String) -> Int? {
        elements.firstIndex { $0.name == name }
    }

    /// The flat configuration text in Click's format (`Router::unparse`): requirements, then
    /// one declaration per element, then connections as chains (a chain continues from a
    /// connection into input 0 of an element to a connection out of it, preferring output 0;
    /// cycles come last).
    public func unparse() -> String {
        var out = ""
        if !requirements.isEmpty {
            let items = requirements.map { $0.value.isEmpty ? $0.type : "\($0.type) \(ConfigText.quote($0.value))" }
            out += "require(" + items.joined(separator: ", ") + ");\n\n"
        }
        for element in elements {
            out += "\(element.name) :: \(element.className)"
            if !element.configuration.isEmpty { out += "(\(element.configuration))" }
            out += ";\n"
        }
        if !elements.isEmpty { out += "\n" }

        let count = connections.count
        // Connections out of output 0 of each element: the only ones that continue a chain.
        var outOf: [Int: [Int]] = [:]
        for (i, c) in connections.enumerated() where c.fromPort == 0 {
            outOf[c.from, default: []].append(i)
        }
        var next = [Int](repeating: -1, count: count)
        var startsChain = [Bool](repeating: true, count: count)
        for (i, c) in connections.enumerated() where c.toPort == 0 {
            var chosen = -1
            for d in outOf[c.to, default: []] where d != i {
                chosen = d
                if connections[d].toPort == 0 { break }
            }
            if chosen >= 0 {
                next[i] = chosen
                startsChain[chosen] = false
            }
        }
        var used = [Bool](repeating: false, count: count)
        var done = false
        while !done {
            for i in 0..<count where !used[i] && startsChain[i] {
                let first = connections[i]
                out += elements[first.from].name
                if first.fromPort != 0 { out += " [\(first.fromPort)]" }
                var d = i
                while d >= 0 && !used[d] {
                    out += d == i ? " -> " : "\n    -> "
                    let c = connections[d]
                    if c.toPort != 0 { out += "[\(c.toPort)] " }
                    out += elements[c.to].name
                    used[d] = true
                    d = next[d]
                }
                out += ";\n"
            }
            done = true
            for i in 0..<count where !used[i] {
                startsChain[i] = true
                done = false
                break
            }
        }
        return out
    }
}

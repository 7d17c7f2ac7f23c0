/// Mnemonic address names defined by `AddressInfo` elements (`elements/standard/
/// addressinfo.hh`). Names are local to the compound that defines them: a name defined in
/// compound `c` is visible to `c/...` elements only; names defined at the top are visible
/// everywhere.
///
/// A name may carry an IPv4 address, an IPv4 prefix, an IPv6 address or prefix and an
/// Ethernet address at once; the suffixes `:ip`, `:ipnet`, `:bcast`, `:gw`, `:eth`, `:ip6`
/// and `:ip6net` pick one kind.
public struct AddressNames: Sendable {
    public struct Entry: Sendable, Equatable {
        public var ipv4: IPv4Address?
        public var ipv4Prefix: IPv4Prefix?
        public var ipv6: IPv6Address?
        public var ipv6Prefix: (address: IPv6Address, length: Int)?
        public var ether: EtherAddress?

        public init() {}

        public static func == (a: Entry, b: Entry) -> Bool {
            a.ipv4 == b.ipv4 && a.ipv4Prefix == b.ipv4Prefix && a.ipv6 == b.ipv6
                && a.ipv6Prefix?.address == b.ipv6Prefix?.address && a.ipv6Prefix?.length == b.ipv6Prefix?.length
                && a.ether == b.ether
        }
    }

    /// Keyed by the defining compound's prefix (`""` or `"c/"`) followed by the name.
    private var entries: [String: Entry] = [:]
    /// PortInfo's port names, keyed as `entries`; each maps a protocol (`tcp`, `udp`, or
    /// `""` for both) to the port.
    private var portEntries: [String: [String: Int]] = [:]

    public init() {}

    public var isEmpty: Bool { entries.isEmpty && portEntries.isEmpty }

    /// Adds the definitions of one `AddressInfo(NAME ADDR [ADDR...], ...)` element called
    /// `elementName`. Returns error messages (one per bad address), empty when all is well.
    @discardableResult
    public mutating func define(configuration: String, elementName: String) -> [String] {
        var errors: [String] = []
        let scope = Self.scope(of: elementName)
        for argument in ConfigText.arguments(configuration) {
            var words = ConfigText.words(argument)
            guard words.count >= 2 else {
                if !argument.isEmpty { errors.append("expected 'NAME ADDRESS [ADDRESS...]'") }
                continue
            }
            let name = ConfigText.unquote(words.removeFirst())
            var entry = entries[scope + name] ?? Entry()
            for word in words.map(ConfigText.unquote) {
                if let prefix = IPv4Prefix.parse(word), word.contains("/") {
                    entry.ipv4Prefix = prefix
                    if prefix.address != prefix.network || prefix.length == 32 { entry.ipv4 = prefix.address }
                } else if let (address, _) = IPv4Address.parse(word) {
                    entry.ipv4 = address
                } else if let ether = EtherAddress.parse(word) {
                    entry.ether = ether
                } else if let slash = word.firstIndex(of: "/"), let a = IPv6Address.parse(String(word[..<slash])),
                    let length = Int(word[word.index(after: slash)...]), length >= 0, length <= 128
                {
                    entry.ipv6Prefix = (a, length)
                } else if let a = IPv6Address.parse(word) {
                    entry.ipv6 = a
                } else if let named = named(word, context: elementName) {
                    // Another name, or a device (`eth0`, `eth0:ip4`), as Click's AddressInfo reads its own values.
                    entry.ipv4 = named.ipv4 ?? entry.ipv4
                    entry.ipv4Prefix = named.ipv4Prefix ?? entry.ipv4Prefix
                    entry.ipv6 = named.ipv6 ?? entry.ipv6
                    entry.ipv6Prefix = named.ipv6Prefix ?? entry.ipv6Prefix
                    entry.ether = named.ether ?? entry.ether
                } else {
                    errors.append("\"\(word)\" is not a recognizable address")
                }
            }
            entries[scope + name] = entry
        }
        return errors
    }

    /// What `text` (a defined name or a device, with an optional kind suffix) stands for
    /// as an AddressInfo value: everything it names without a suffix, one kind with one.
    func named(_ text: String, context: String) -> Entry? {
        let (name, kind) = Self.split(text)
        var found = Entry()
        switch kind {
        case nil:
            if let e = entry(name, context: context) { return e }
            guard let device = DeviceAddresses.lookup(name) else { return nil }
            found.ipv4 = device.ipv4Prefix?.address
            found.ipv4Prefix = device.ipv4Prefix
            found.ether = device.ether
        case "ipnet": found.ipv4Prefix = ipv4Prefix(text, context: context)
        case "eth": found.ether = ether(text, context: context)
        case "ip6": found.ipv6 = ipv6(text, context: context)
        default: found.ipv4 = ipv4(text, context: context)
        }
        return found == Entry() ? nil : found
    }

    /// The compound prefix of an element name: `a/b/c` -> `a/b/`.
    static func scope(of elementName: String) -> String {
        guard let slash = elementName.lastIndex(of: "/") else { return "" }
        return String(elementName[...slash])
    }

    /// The entry for `name` as seen from the element `context`: the innermost compound that
    /// defines it wins.
    public func entry(_ name: String, context: String) -> Entry? {
        var scope = Self.scope(of: context)
        while true {
            if let e = entries[scope + name] { return e }
            if scope.isEmpty { return nil }
            scope.removeLast()
            scope = Self.scope(of: scope)
        }
    }

    /// Defines the port name `name` (PortInfo in element `elementName`) for `proto`
    /// (`tcp`, `udp`), or for both when nil.
    public mutating func definePort(_ name: String, port: Int, protocol proto: String?, elementName: String) {
        portEntries[Self.scope(of: elementName) + name, default: [:]][proto?.lowercased() ?? ""] = port
    }

    /// The port called `name` for `proto` (either protocol when nil) as seen from the
    /// element `context`: the innermost compound that defines it wins.
    public func port(_ name: String, protocol proto: String? = nil, context: String) -> Int? {
        var scope = Self.scope(of: context)
        while true {
            if let ports = portEntries[scope + name] {
                if let p = ports[""] { return p }
                if let proto, let p = ports[proto] { return p }
                if proto == nil, let p = ports.values.min() { return p }
            }
            if scope.isEmpty { return nil }
            scope.removeLast()
            scope = Self.scope(of: scope)
        }
    }

    /// Splits `name:kind` into the name and the kind suffix, if the suffix is one of ours.
    static func split(_ text: String) -> (String, String?) {
        if let colon = text.lastIndex(of: ":") {
            let kind = String(text[text.index(after: colon)...])
            let canonical = ["ip": "ip", "ip4": "ip", "ipnet": "ipnet", "net": "ipnet", "ip4net": "ipnet", "bcast": "bcast",
                             "gw": "gw", "eth": "eth", "ether": "eth", "ethernet": "eth", "ip6": "ip6", "ip6net": "ip6net"]
            if let kind = canonical[kind.lowercased()] {
                return (String(text[..<colon]), kind)
            }
        }
        return (text, nil)
    }

    /// An IPv4 address: `NAME`, `NAME:ip`, `NAME:bcast`, `NAME:gw`, from AddressInfo, else
    /// from the device called NAME (`:gw` is then the default route's gateway through it).
    public func ipv4(_ text: String, context: String) -> IPv4Address? {
        let (name, kind) = Self.split(text)
        let e = entry(name, context: context)
        switch kind {
        case nil, "ip": return e?.ipv4 ?? DeviceAddresses.lookup(name)?.ipv4Prefix?.address
        case "bcast": return (e?.ipv4Prefix ?? DeviceAddresses.lookup(name)?.ipv4Prefix)?.broadcast
        case "gw":
            if let p = e?.ipv4Prefix { return IPv4Address(p.network.value | 1) }
            guard let device = DeviceAddresses.lookup(name) else { return nil }
            return device.gateway ?? device.ipv4Prefix.map { IPv4Address($0.network.value | 1) }
        default: return nil
        }
    }

    public func ipv4Prefix(_ text: String, context: String) -> IPv4Prefix? {
        let (name, kind) = Self.split(text)
        guard kind == nil || kind == "ipnet" else { return nil }
        let e = entry(name, context: context)
        if let p = e?.ipv4Prefix ?? (e == nil ? DeviceAddresses.lookup(name)?.ipv4Prefix : nil) { return p }
        if kind == nil, let a = e?.ipv4 { return IPv4Prefix(address: a, length: 32) }
        return nil
    }

    public func ether(_ text: String, context: String) -> EtherAddress? {
        let (name, kind) = Self.split(text)
        guard kind == nil || kind == "eth" else { return nil }
        return entry(name, context: context)?.ether ?? DeviceAddresses.lookup(name)?.ether
    }

    public func ipv6(_ text: String, context: String) -> IPv6Address? {
        let (name, kind) = Self.split(text)
        guard kind == nil || kind == "ip6" else { return nil }
        return entry(name, context: context)?.ipv6
    }
}

import ClickLanguage
import ClickRuntime

/// One route: destinations in `prefix` go out of `port`, via `gateway` when it is set.
public struct IPRoute: Equatable, Sendable {
    public var prefix: IPv4Prefix
    public var gateway: IPv4Address?
    public var port: Int

    /// Parses `ADDR/MASK [GW] OUT`.
    static func parse(_ text: String, context: ValueContext) -> IPRoute? {
        let words = ConfigText.words(text)
        guard words.count == 2 || words.count == 3 else { return nil }
        let prefixType = ValueType<IPv4Prefix>.ipv4PrefixOrAddress
        guard let prefix = prefixType.parse(words[0], context), let port = Int(words[words.count - 1]) else { return nil }
        var gateway: IPv4Address? = nil
        if words.count == 3 {
            if words[1] == "-" { gateway = nil } else {
                guard let g = ValueType<IPv4Address>.ipv4Address.parse(words[1], context) else { return nil }
                gateway = g.value == 0 ? nil : g
            }
        }
        return IPRoute(prefix: IPv4Prefix(address: prefix.network, mask: prefix.mask), gateway: gateway, port: port)
    }

    /// Click's `table` line: `addr/len  gw|-  port`.
    var description: String {
        "\(prefix)\t\(gateway.map(\.description) ?? "-")\t\(port)"
    }

    /// Click's `IPRoute::unparse()`, as its messages quote a route: spaces, not tabs.
    var plain: String {
        "\(prefix) \(gateway.map(\.description) ?? "-") \(port)"
    }
}

/// Longest-prefix-match over a route list, compiled to a sorted array of address ranges so
/// that a lookup is one binary search with no allocation (the hot path never touches the
/// route list or a dictionary).
struct RangeRouteTable {
    private(set) var routes: [IPRoute] = []
    private var starts: [UInt32] = [0]
    /// Route index per range, -1 for no route.
    private var targets: [Int32] = [-1]

    init(routes: [IPRoute] = []) {
        self.routes = routes
        rebuild()
    }

    /// Compiles the route list to ranges: every route paints the ranges it covers, shorter
    /// prefixes first so that longer ones win. Prefixes nest or are disjoint, so a range is
    /// painted at most once per prefix length: O(n log n) for n routes.
    mutating func rebuild() {
        var bounds: Set<UInt32> = [0]
        for r in routes {
            bounds.insert(r.prefix.network.value)
            let end = r.prefix.broadcast.value
            if end != UInt32.max { bounds.insert(end + 1) }
        }
        starts = bounds.sorted()
        targets = [Int32](repeating: -1, count: starts.count)
        let order = routes.indices.sorted { routes[$0].prefix.mask.nonzeroBitCount < routes[$1].prefix.mask.nonzeroBitCount }
        for i in order {
            let p = routes[i].prefix
            var k = firstRange(atOrAfter: p.network.value)
            while k < starts.count && starts[k] <= p.broadcast.value {
                targets[k] = Int32(i)
                k += 1
            }
        }
    }

    /// The index of the first range starting at or after `address`.
    private func firstRange(atOrAfter address: UInt32) -> Int {
        var lo = 0, hi = starts.count
        while lo < hi {
            let mid = (lo + hi) >> 1
            if starts[mid] < address { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    /// The table as parallel arrays: range starts, and per range the output port (-1 for
    /// no route) and the gateway (0 for none).
    var ranges: (starts: [UInt32], ports: [Int32], gateways: [UInt32]) {
        (starts, targets.map { $0 < 0 ? -1 : Int32(routes[Int($0)].port) }, targets.map { $0 < 0 ? 0 : routes[Int($0)].gateway?.value ?? 0 })
    }

    /// The route for `address`, or nil.
    @inline(__always) func lookup(_ address: UInt32) -> IPRoute? {
        var lo = 0, hi = starts.count - 1
        while lo < hi {
            let mid = (lo + hi + 1) >> 1
            if starts[mid] <= address { lo = mid } else { hi = mid - 1 }
        }
        let t = targets[lo]
        return t < 0 ? nil : routes[Int(t)]
    }

    /// Adds `route` (replacing one with the same prefix when `replace`); false when the
    /// prefix is taken and not replaced. `compile: false` leaves the ranges stale until
    /// `rebuild()`, for a batch of changes.
    mutating func add(_ route: IPRoute, replace: Bool, compile: Bool = true) -> Bool {
        if let i = routes.firstIndex(where: { $0.prefix == route.prefix }) {
            guard replace else { return false }
            routes[i] = route
        } else {
            routes.append(route)
        }
        if compile { rebuild() }
        return true
    }

    /// Removes the route for `prefix`; false when there is none. `compile` as for `add`.
    mutating func remove(_ prefix: IPv4Prefix, compile: Bool = true) -> Bool {
        guard let i = routes.firstIndex(where: { $0.prefix == prefix }) else { return false }
        routes.remove(at: i)
        if compile { rebuild() }
        return true
    }
}

/// StaticIPLookup(ADDR/MASK [GW] OUT, ...) — and LinearIPLookup, RadixIPLookup,
/// DirectIPLookup, RangeIPLookup, LookupIPRoute
///
/// Longest-prefix-match routing on the destination address annotation: a packet goes out
/// of the matching route's OUT port, with the annotation set to GW when the route has one;
/// packets with no route are dropped. All variants share one implementation (a compiled
/// range table); all but StaticIPLookup take route changes while running.
///
/// Ports: 1 input, N outputs, push.
///
/// Handlers: `table` (read), `lookup` (read with an address: `PORT GW` or `-1`); for the
/// dynamic variants `add`, `set`, `remove`, `ctrl` (write: `ctrl` takes lines of
/// `add|set|remove ROUTE`, applied all or nothing).
public class IPLookupBase: Element {
    public override var portCount: String { "1/-" }
    public override var processing: String { "h/h" }
    var table = RangeRouteTable() {
        didSet { compile() }
    }
    var dynamic: Bool { true }

    /// The table compiled into plain memory for the per-packet binary search.
    var starts = UnsafeMutableBufferPointer<UInt32>.allocate(capacity: 1)
    var ports = UnsafeMutableBufferPointer<Int32>.allocate(capacity: 1)
    var gateways = UnsafeMutableBufferPointer<UInt32>.allocate(capacity: 1)

    deinit {
        starts.deallocate()
        ports.deallocate()
        gateways.deallocate()
    }

    func compile() {
        let r = table.ranges
        starts.deallocate()
        ports.deallocate()
        gateways.deallocate()
        starts = .allocate(capacity: r.starts.count)
        _ = starts.initialize(from: r.starts)
        ports = .allocate(capacity: r.ports.count)
        _ = ports.initialize(from: r.ports)
        gateways = .allocate(capacity: r.gateways.count)
        _ = gateways.initialize(from: r.gateways)
    }

    /// Index of the range holding `address` (binary search; `starts[0]` is 0).
    @inline(__always) func rangeIndex(_ address: UInt32) -> Int {
        var lo = 0, hi = starts.count - 1
        while lo < hi {
            let mid = (lo + hi + 1) >> 1
            if starts[mid] <= address { lo = mid } else { hi = mid - 1 }
        }
        return lo
    }

    public override func configure(_ args: inout Arguments) {
        var routes: [IPRoute] = []
        for (i, text) in args.remaining().enumerated() {
            guard let route = IPRoute.parse(text, context: args.context) else {
                args.error("argument \(i + 1) should be 'ADDR/MASK [GATEWAY] OUTPUT'")
                continue
            }
            if route.port < 0 || route.port >= noutputs {
                args.error("route '\(text)' has bad output port")
                continue
            }
            if let existing = routes.first(where: { $0.prefix == route.prefix }), existing != route {
                args.error("route '\(text)' conflicts with existing route '\(existing.description)'")
                continue
            }
            routes.append(route)
        }
        table = RangeRouteTable(routes: routes)
    }

    public override func push(port: Int, _ batch: inout PacketBatch) {
        dispatch(&batch) { p in
            let i = rangeIndex(p.destinationIPAnnotation)
            let gw = gateways[i]
            if gw != 0 { p.destinationIPAnnotation = gw }
            return Int(ports[i])
        }
    }

    public override func takeState(from old: Element) {
        if let old = old as? IPLookupBase, dynamic { table = old.table }
    }

    func parseRoute(_ text: String) throws(ElementError) -> IPRoute {
        guard let route = IPRoute.parse(text, context: ValueContext(elementName: name, addressNames: router.addressNames)) else {
            throw ElementError("expected 'ADDR/MASK [GATEWAY] OUTPUT'")
        }
        guard route.port >= 0 && route.port < noutputs else { throw ElementError("bad output port \(route.port)") }
        return route
    }

    /// Click's message for adding a route whose prefix is taken.
    func conflict(_ route: IPRoute, in table: RangeRouteTable) -> ElementError {
        ElementError("conflict with existing route '\(table.routes.first { $0.prefix == route.prefix }?.plain ?? "")'")
    }

    public override func addHandlers(_ h: inout HandlerSet) {
        h.read("table") { [unowned self] in self.table.routes.map { $0.description + "\n" }.joined() }
        h.readWithParameter("lookup") { [unowned self] (text: String) throws(ElementError) in
            guard let (a, _) = IPv4Address.parse(text.trimmingCharacters()) else { throw ElementError("expected IP address") }
            guard let r = self.table.lookup(a.value) else { return "-1" }
            return "\(r.port)" + (r.gateway.map { " \($0)" } ?? "")
        }
        guard dynamic else { return }
        h.write("add") { [unowned self] (text: String) throws(ElementError) in
            let route = try self.parseRoute(text)
            if !self.table.add(route, replace: false) { throw self.conflict(route, in: self.table) }
        }
        h.write("set") { [unowned self] (text: String) throws(ElementError) in
            _ = self.table.add(try self.parseRoute(text), replace: true)
        }
        h.write("remove") { [unowned self] (text: String) throws(ElementError) in
            let first = ConfigText.words(text).first ?? ""
            guard let p = IPv4Prefix.parse(first, allowBare: true) else { throw ElementError("expected 'ADDR/MASK'") }
            if !self.table.remove(IPv4Prefix(address: p.network, mask: p.mask)) { throw ElementError("route '\(first)' not found") }
        }
        h.write("ctrl") { [unowned self] (text: String) throws(ElementError) in
            var copy = self.table
            for line in text.split(whereSeparator: { $0 == "\n" || $0 == ";" }) {
                let (verb, rest) = ConfigText.firstWord(String(line))
                switch verb {
                case "": continue
                case "add":
                    let route = try self.parseRoute(rest)
                    if !copy.add(route, replace: false, compile: false) { throw self.conflict(route, in: copy) }
                case "set":
                    _ = copy.add(try self.parseRoute(rest), replace: true, compile: false)
                case "remove":
                    guard let p = IPv4Prefix.parse(ConfigText.words(rest).first ?? "", allowBare: true),
                        copy.remove(IPv4Prefix(address: p.network, mask: p.mask), compile: false)
                    else { throw ElementError("bad remove '\(rest)'") }
                default:
                    throw ElementError("unknown command '\(verb)'")
                }
            }
            copy.rebuild()
            self.table = copy
        }
    }
}

public final class StaticIPLookup: IPLookupBase {
    override var dynamic: Bool { false }
}

public final class LinearIPLookup: IPLookupBase {
}

public final class RadixIPLookup: IPLookupBase {
}

public final class DirectIPLookup: IPLookupBase {
}

public final class RangeIPLookup: IPLookupBase {
}

public final class LookupIPRoute: IPLookupBase {
    override var dynamic: Bool { false }
}

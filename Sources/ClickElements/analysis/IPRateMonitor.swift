import ClickLanguage
import ClickRuntime
#if canImport(Glibc)
import Glibc
#endif

/// IPRateMonitor(TYPE, RATIO, THRESH [, MEMORY, ANNO])
///
/// Measures traffic rates per address, zooming in where traffic is heavy. Packets on
/// input 0 count towards their source address's forward rate, packets on input 1 towards
/// their destination address's reverse rate; all pass through unchanged to the output
/// with their input's number. TYPE is PACKETS or BYTES (IP length). Rates are kept per
/// first octet; when a range's forward or reverse rate reaches THRESH per second, its
/// next octet gets counters of its own (down to single hosts), and once a second ranges
/// whose rates have all fallen below THRESH are folded back into their parent. Each
/// packet is counted with probability RATIO (0 < RATIO ≤ 1) and weighs 1/RATIO, so THRESH
/// means the same whatever RATIO is. MEMORY bounds the counters' memory in kilobytes
/// (at least 100; 0, the default, is unlimited). ANNO is accepted for compatibility:
/// Click's rate annotations no longer exist, so packets are not annotated.
///
/// Rates are exponentially weighted moving averages over eighths of a second (weight
/// 1/8 per tick), in units per second.
///
/// Ports: 1 or 2 inputs, as many outputs, agnostic.
///
/// Handlers: `look` (read: the seconds since the last reset, then one line per range,
/// `ADDR\tFORWARD\tREVERSE`, nested ranges indented), `thresh`, `what`, `mem` (read);
/// `memmax` (read/write, kilobytes); `reset` (write).
public final class IPRateMonitor: Element, PacketAction {
    public override var portCount: String { "1-2/=" }
    public override var processing: String { "a/a" }

    /// One address range's counters.
    struct Node {
        var forward = 0.0, reverse = 0.0
        var pendingForward = 0.0, pendingReverse = 0.0
        var tick: Int64 = 0
        /// Child node index per next octet (-1: none), or empty when not zoomed in.
        var children: [Int32] = []
    }

    var countBytes = false
    var ratio = 1.0
    var threshold = 0.0
    var memoryLimit = 0
    var nodes: [Node] = []
    var freeNodes: [Int32] = []
    var resetTime: Int64 = 0
    var lastFold: Int64 = 0
    /// Current port's direction while a batch is handled.
    var forwardDirection = true
    /// The router time for the batch being handled (read once per batch).
    var now: Int64 = 0
    static let tickLength: Int64 = 125_000_000
    static let nodeBytes = 64

    public override func configure(_ args: inout Arguments) {
        if let t = args.mandatory("TYPE", .word) {
            switch t.uppercased() {
            case "PACKETS": countBytes = false
            case "BYTES": countBytes = true
            default: args.error("should be PACKETS or BYTES", keyword: "TYPE")
            }
        }
        ratio = args.mandatory("RATIO", .fixedPoint(fractionBits: 16)) ?? 1
        threshold = Double(args.mandatory("THRESH", .integer) ?? 0)
        memoryLimit = (args.positional("MEMORY", .unsignedInteger) ?? 0) * 1024
        if args.positional("ANNO", .bool) == true {
            configurationWarning("ANNO is not supported and has no effect (no rate annotation is set)")
        }
        if ratio <= 0 || ratio > 1 { args.error("must be between 0 and 1", keyword: "RATIO") }
        if threshold <= 0 { args.error("must be positive", keyword: "THRESH") }
        if memoryLimit > 0 && memoryLimit < 100 * 1024 { memoryLimit = 100 * 1024 }
    }

    public override func initialize() throws(ElementError) { reset() }

    func reset() {
        nodes = [Node(children: Array(repeating: -1, count: 256))]
        freeNodes = []
        resetTime = routerNow()
        lastFold = resetTime
    }

    var liveNodes: Int { nodes.count - freeNodes.count }

    func newNode(_ node: Node) -> Int32? {
        if memoryLimit > 0 && (liveNodes + 1) * Self.nodeBytes + 256 * 4 > memoryLimit { return nil }
        if let i = freeNodes.popLast() {
            nodes[Int(i)] = node
            return i
        }
        nodes.append(node)
        return Int32(nodes.count - 1)
    }

    /// Brings node `i`'s averages up to tick `tick`.
    @inline(__always) func age(_ i: Int, to tick: Int64) {
        let elapsed = tick - nodes[i].tick
        guard elapsed > 0 else { return }
        let perSecond = Double(1_000_000_000 / Self.tickLength)
        // The finished tick's sample, then decay for the empty ticks after it.
        nodes[i].forward += (nodes[i].pendingForward * perSecond - nodes[i].forward) / 8
        nodes[i].reverse += (nodes[i].pendingReverse * perSecond - nodes[i].reverse) / 8
        if elapsed > 1 {
            let decay = pow(7.0 / 8.0, Double(min(elapsed - 1, 1000)))
            nodes[i].forward *= decay
            nodes[i].reverse *= decay
        }
        nodes[i].pendingForward = 0
        nodes[i].pendingReverse = 0
        nodes[i].tick = tick
    }

    @inline(__always) public func action(_ p: Packet) -> Int {
        guard let ip = p.networkHeader, p.networkLength >= 20 else { return 0 }
        if ratio < 1 && router.random.unitInterval() >= ratio { return 0 }
        let weight = (countBytes ? Double(ip.be16(IPv4Header.totalLength)) : 1) / ratio
        let address = forwardDirection ? ip.be32(IPv4Header.source) : ip.be32(IPv4Header.destination)
        let tick = now / Self.tickLength
        var parent = 0
        for level in 0..<4 {
            let octet = Int(address >> UInt32(24 - 8 * level) & 0xFF)
            var child = Int(nodes[parent].children[octet])
            if child < 0 {
                guard let made = newNode(Node(tick: tick)) else { break }
                nodes[parent].children[octet] = made
                child = Int(made)
            }
            age(child, to: tick)
            if forwardDirection { nodes[child].pendingForward += weight } else { nodes[child].pendingReverse += weight }
            let hot = max(nodes[child].forward, nodes[child].reverse) >= threshold
            if nodes[child].children.isEmpty {
                // Zoom in on a hot range (not past single hosts, within the memory bound).
                guard hot, level < 3, memoryLimit == 0 || (liveNodes + 1) * Self.nodeBytes + 512 * 4 <= memoryLimit else { break }
                nodes[child].children = Array(repeating: -1, count: 256)
            }
            parent = child
        }
        if now - lastFold >= 1_000_000_000 {
            fold(tick: tick)
            lastFold = now
        }
        return 0
    }

    /// Folds back ranges whose rates are all below the threshold.
    func fold(tick: Int64) {
        func visit(_ i: Int) {
            guard !nodes[i].children.isEmpty else { return }
            for k in 0..<256 where nodes[i].children[k] >= 0 { visit(Int(nodes[i].children[k])) }
            if i != 0 {
                age(i, to: tick)
                if max(nodes[i].forward, nodes[i].reverse) < threshold { release(children: i) }
            }
        }
        visit(0)
    }

    func release(children i: Int) {
        for k in 0..<nodes[i].children.count where nodes[i].children[k] >= 0 {
            let c = Int(nodes[i].children[k])
            release(children: c)
            nodes[c] = Node()
            freeNodes.append(Int32(c))
        }
        nodes[i].children = []
    }

    public override func push(port: Int, _ batch: inout PacketBatch) {
        forwardDirection = port == 0
        now = routerNow()
        dispatch(&batch) { p in
            _ = action(p)
            return port
        }
    }

    public override func pull(port: Int, into batch: inout PacketBatch, max: Int) {
        forwardDirection = port == 0
        now = routerNow()
        let before = batch.count
        input(port, into: &batch, max: max)
        for i in before..<batch.count { _ = action(batch[i]) }
    }

    /// The `look` text.
    func look() -> String {
        let now = routerNow()
        let tick = now / Self.tickLength
        var out = formatNumber((Double(now - resetTime) / 1e9 * 100).rounded() / 100) + "\n"
        func visit(_ i: Int, _ prefix: String, _ indent: String) {
            for k in 0..<nodes[i].children.count where nodes[i].children[k] >= 0 {
                let c = Int(nodes[i].children[k])
                age(c, to: tick)
                let name = prefix.isEmpty ? String(k) : prefix + "." + String(k)
                out += "\(indent)\(name)\t\(Int(nodes[c].forward.rounded()))\t\(Int(nodes[c].reverse.rounded()))\n"
                visit(c, name, indent + "\t")
            }
        }
        visit(0, "", "")
        return out
    }

    public override func takeState(from old: Element) {
        guard let old = old as? IPRateMonitor else { return }
        nodes = old.nodes
        freeNodes = old.freeNodes
        resetTime = old.resetTime
    }

    public override func addHandlers(_ h: inout HandlerSet) {
        h.read("look") { [unowned self] in self.look() }
        h.read("thresh") { [unowned self] in formatNumber(self.threshold) }
        h.read("what") { [unowned self] in self.countBytes ? "BYTES" : "PACKETS" }
        h.integer("mem", get: { [unowned self] in self.liveNodes * Self.nodeBytes + self.nodes.filter { !$0.children.isEmpty }.count * 256 * 4 })
        h.integer("memmax", get: { [unowned self] in self.memoryLimit / 1024 }, set: { [unowned self] (v: Int) throws(ElementError) in
            guard v >= 0 else { throw ElementError("MEMORY must be non-negative") }
            self.memoryLimit = v == 0 ? 0 : Swift.max(v, 100) * 1024
        })
        h.write("reset") { [unowned self] _ in self.reset() }
    }
}

import ClickLanguage
import ClickRuntime

/// FlowJunction(LEFT, RIGHT [, ACTIVE_LEFT, ACTIVE_RIGHT, CAPACITY, TIMEOUT])
///
/// A ClickOS element (not in Click): the planner's junction in front of and behind a
/// function that runs as several instances. It keeps each flow on one instance in both
/// directions, even when the function rewrites the flow's addresses (a NAT, a load
/// balancer), and keeps flows where they are when instances are added.
///
/// Ports: LEFT + RIGHT inputs and as many outputs, push. Ports 0 to LEFT-1 face the left
/// (towards the chain's ingress), the next RIGHT ports the right. What enters on input k
/// leaves on the other side; output k goes out where input k came in.
///
/// Processing: the first packet of a flow (IPv4 addresses, protocol and, for unfragmented
/// TCP and UDP, ports; both directions are one flow) picks a port on the far side by a
/// symmetric hash over that side's first ACTIVE_LEFT or ACTIVE_RIGHT ports. The flow
/// remembers the port it came in on and the port it took, so packets of either direction
/// go back where the other direction came from. A flow keeps its port when the active
/// counts change, including across a hot reconfiguration (the new junction takes the old
/// one's flows); only a flow whose port is no longer active picks again. Packets that are
/// not IPv4 (ARP) go to the far side's first port.
///
/// Keyword arguments:
/// - LEFT, RIGHT: ports on each side (unsigned, at least 1; mandatory).
/// - ACTIVE_LEFT, ACTIVE_RIGHT: how many of each side's ports new flows use (default all,
///   at least 1).
/// - CAPACITY: flows remembered (default 65536, rounded up to a power of two). A flow idle
///   for TIMEOUT (default 300 s) may be forgotten; when a flow's neighbourhood of the table is
///   full, the least recently seen one is.
///
/// Handlers: `flow_count` (read), `active_left`, `active_right` (read/write).
public final class FlowJunction: Element {
    public override var portCount: String { "2-/2-" }
    public override var processing: String { "h/h" }

    /// One remembered flow: its canonical key, the port on each side (side-relative).
    struct Entry {
        var low: UInt64 = 0
        var high: UInt64 = 0
        var proto: UInt8 = 0
        var used = false
        var left: Int32 = 0
        var right: Int32 = 0
        var lastSeen: Int64 = 0
    }

    var left = 1
    var right = 1
    var activeLeft = 1
    var activeRight = 1
    var timeout: Int64 = 300
    var mask = 0
    /// The table, in plain memory (no reference counting per packet). Invariant: holds
    /// `mask + 1` initialized entries from `configure` to `deinit`.
    var table = UnsafeMutableBufferPointer<Entry>(start: nil, count: 0)
    var flows = 0
    static let probes = 16

    public override func configure(_ args: inout Arguments) {
        left = args.mandatoryKeyword("LEFT", .unsignedInteger) ?? 1
        right = args.mandatoryKeyword("RIGHT", .unsignedInteger) ?? 1
        activeLeft = args.keyword("ACTIVE_LEFT", .unsignedInteger) ?? left
        activeRight = args.keyword("ACTIVE_RIGHT", .unsignedInteger) ?? right
        let capacity = args.keyword("CAPACITY", .unsignedInteger) ?? 65_536
        timeout = args.keyword("TIMEOUT", .wholeSeconds) ?? 300
        if left < 1 { args.error("must be at least 1", keyword: "LEFT") }
        if right < 1 { args.error("must be at least 1", keyword: "RIGHT") }
        if !(1...max(left, 1)).contains(activeLeft) { args.error("must be 1 to LEFT (\(left))", keyword: "ACTIVE_LEFT") }
        if !(1...max(right, 1)).contains(activeRight) { args.error("must be 1 to RIGHT (\(right))", keyword: "ACTIVE_RIGHT") }
        if capacity < 1 || capacity > 1 << 24 { args.error("must be 1 to 16777216", keyword: "CAPACITY") }
        if left + right != ninputs || left + right != noutputs {
            args.error("LEFT + RIGHT is \(left + right), but the element has \(ninputs) inputs and \(noutputs) outputs")
        }
        activeLeft = min(max(activeLeft, 1), left)
        activeRight = min(max(activeRight, 1), right)
        var size = Self.probes
        while size < min(max(capacity, 1), 1 << 24) { size <<= 1 }
        table.deallocate()
        table = .allocate(capacity: size)
        table.initialize(repeating: Entry())
        mask = size - 1
        flows = 0
    }

    deinit { table.deallocate() }

    /// Remembered flows that have not timed out move over from the junction this one replaces.
    public override func takeState(from old: Element) {
        guard let old = old as? FlowJunction else { return }
        let now = routerNow() / 1_000_000_000
        for e in old.table where e.used && now - e.lastSeen <= timeout {
            let slot = find(low: e.low, high: e.high, proto: e.proto, hash: Self.hash(e.low, e.high, e.proto), now: now)
            if !table[slot].used { flows += 1 }
            table[slot] = e
        }
    }

    @inline(__always) static func hash(_ low: UInt64, _ high: UInt64, _ proto: UInt8) -> UInt64 {
        // SplitMix64's finalizer over the canonical endpoints.
        var h = low &* 0x9E37_79B9_7F4A_7C15 ^ high ^ UInt64(proto) << 56
        h = (h ^ (h >> 30)) &* 0xBF58_476D_1CE4_E5B9
        h = (h ^ (h >> 27)) &* 0x94D0_49BB_1331_11EB
        return h ^ (h >> 31)
    }

    /// The slot holding the flow, or the one to put it in: the first never-used slot, else
    /// the first timed-out one, else the least recently seen of the neighbourhood.
    @inline(__always) func find(low: UInt64, high: UInt64, proto: UInt8, hash: UInt64, now: Int64) -> Int {
        var i = Int(truncatingIfNeeded: hash) & mask
        var victim = -1
        var oldest = Int64.max
        for _ in 0..<Self.probes {
            let e = table[i]
            if !e.used { return victim >= 0 && now - oldest > timeout ? victim : i }
            if e.low == low && e.high == high && e.proto == proto { return i }
            if e.lastSeen < oldest {
                oldest = e.lastSeen
                victim = i
            }
            i = (i + 1) & mask
        }
        return victim
    }

    /// The output for one packet that came in on `port`.
    @inline(__always) func route(_ p: Packet, from port: Int, now: Int64) -> Int {
        let fromLeft = port < left
        let o = 14
        guard p.length >= o + 20, p[o - 2] == 0x08, p[o - 1] == 0x00, p[o] >> 4 == 4 else { return fromLeft ? left : 0 }
        let s = UInt64(p.load32(o + 12)), d = UInt64(p.load32(o + 16))
        let proto = p[o + 9]
        var sport: UInt64 = 0, dport: UInt64 = 0
        let headerLength = Int(p[o] & 0x0F) * 4
        let fragment = p.load16(o + 6) & 0x1FFF
        if proto == 6 || proto == 17, fragment == 0, headerLength >= 20, p.length >= o + headerLength + 4 {
            sport = UInt64(p.load16(o + headerLength))
            dport = UInt64(p.load16(o + headerLength + 2))
        }
        let a = s << 16 | sport, b = d << 16 | dport
        let low = min(a, b), high = max(a, b)
        let h = Self.hash(low, high, proto)
        let slot = find(low: low, high: high, proto: proto, hash: h, now: now)
        var e = table[slot]
        let known = e.used && e.low == low && e.high == high && e.proto == proto
        if !known {
            if !e.used { flows += 1 }
            e = Entry(low: low, high: high, proto: proto, used: true, left: 0, right: 0, lastSeen: now)
            if fromLeft {
                e.right = Int32(truncatingIfNeeded: h % UInt64(activeRight))
            } else {
                e.left = Int32(truncatingIfNeeded: h % UInt64(activeLeft))
            }
        }
        e.lastSeen = now
        let out: Int
        if fromLeft {
            e.left = Int32(truncatingIfNeeded: port)
            if Int(e.right) >= activeRight { e.right = Int32(truncatingIfNeeded: h % UInt64(activeRight)) }
            out = left + Int(e.right)
        } else {
            e.right = Int32(truncatingIfNeeded: port - left)
            if Int(e.left) >= activeLeft { e.left = Int32(truncatingIfNeeded: h % UInt64(activeLeft)) }
            out = Int(e.left)
        }
        table[slot] = e
        return out
    }

    public override func push(port: Int, _ batch: inout PacketBatch) {
        let now = routerNow() / 1_000_000_000
        dispatch(&batch) { route($0, from: port, now: now) }
    }

    public override func addHandlers(_ h: inout HandlerSet) {
        h.integer("flow_count", get: { [unowned self] in self.flows })
        h.integer("active_left", get: { [unowned self] in self.activeLeft }, set: { [unowned self] (v: Int) throws(ElementError) in
            guard (1...self.left).contains(v) else { throw ElementError("expected 1 to \(self.left)") }
            self.activeLeft = v
        })
        h.integer("active_right", get: { [unowned self] in self.activeRight }, set: { [unowned self] (v: Int) throws(ElementError) in
            guard (1...self.right).contains(v) else { throw ElementError("expected 1 to \(self.right)") }
            self.activeRight = v
        })
    }
}

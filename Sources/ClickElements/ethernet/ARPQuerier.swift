import ClickLanguage
import ClickRuntime

/// ARPQuerier(IP, ETH [, *keywords* TABLE, CAPACITY, ENTRY_CAPACITY, ENTRY_PACKET_CAPACITY,
/// TIMEOUT, POLL_TIMEOUT, BROADCAST, BROADCAST_POLL]) —
/// ARPQuerier(NAME [, ...]) with an AddressInfo name
///
/// Encapsulates IP packets (input 0, destination address annotation set) in Ethernet
/// headers, learning destinations' Ethernet addresses with ARP: a known, fresh entry
/// sends the packet out of output 0 at once; otherwise the packet waits (at most
/// ENTRY_PACKET_CAPACITY per address, default 16) and an ARP query goes out of output 1
/// (or 0 if there is only one output), at most 10 a second per address. ARP replies
/// (input 1, Ethernet header included) fill the table and release the waiting packets.
/// 0.0.0.0 is dropped; the broadcast address (255.255.255.255, or BROADCAST) goes to
/// ff:ff:ff:ff:ff:ff; multicast goes to 01:00:5e plus the low 23 bits. Entries expire
/// after TIMEOUT (default 5 minutes). The table holds at most CAPACITY entries (2048).
/// With TABLE naming an ARPTable element, that table is used (and shared) instead.
///
/// Ports: 2 inputs (push), 1 or 2 outputs (push); flow code `xy/x`.
///
/// Handlers: `table`, `count`, `queries`, `responses`, `drops` (read); `ipaddr`
/// (read/write); `insert` (write `IP ETH`), `delete` (write `IP`), `clear` (write).
public final class ARPQuerier: Element {
    public override var portCount: String { "2/1-2" }
    public override var processing: String { "h/h" }
    public override var flowCode: String { "xy/x" }

    var myIP: UInt32 = 0
    var myEther = EtherAddress(0)
    var broadcast: UInt32 = 0xFFFF_FFFF
    var capacity = 2048
    var entryPacketCapacity = 16
    var timeout: Int64 = 300_000_000_000
    public private(set) var queries = 0
    public private(set) var responses = 0
    public private(set) var drops = 0

    typealias Entry = ARPEntries.Entry
    /// The table: this querier's own, or an ARPTable element's (TABLE) shared with others.
    var store = ARPEntries()
    var tableName: String?
    var table: [UInt32: Entry] {
        get { store.entries }
        _modify { yield &store.entries }
    }
    /// The last destination resolved and its Ethernet address: most packets of a batch go
    /// to the same next hop, so the dictionary is consulted once per run of them. Valid
    /// while the table's generation is unchanged.
    var cachedIP: UInt32 = 0
    var cachedEther: UInt64 = 0
    var cachedExpiry: Int64 = 0
    var cachedGeneration = 0

    public override func configure(_ args: inout Arguments) {
        let first = args.mandatory("IP", .raw) ?? ""
        if let e = args.positional("ETH", .etherAddress) {
            myEther = e
            if let a = ValueType<IPv4Address>.ipv4Address.parse(first, args.context) ?? ValueType<IPv4Prefix>.ipv4Prefix.parse(first, args.context)?.address {
                myIP = a.value
            } else {
                args.error("expected IP address", keyword: "IP")
            }
        } else if let entry = args.context.addressNames.entry(ConfigText.unquote(first), context: name), let ether = entry.ether,
            let ip = entry.ipv4 ?? entry.ipv4Prefix?.address
        {
            myIP = ip.value
            myEther = ether
            if let p = entry.ipv4Prefix, let l = p.length, l < 31 { broadcast = p.broadcast.value }
        } else {
            args.error("expected 'IP, ETH' or an AddressInfo name with both")
        }
        tableName = args.positional("TABLE", .word)
        capacity = args.keyword("CAPACITY", .unsignedInteger) ?? 2048
        unsupportedKeywords(&args, ["ENTRY_CAPACITY"], because: "this table limits its entries by CAPACITY")
        entryPacketCapacity = args.keyword("ENTRY_PACKET_CAPACITY", .unsignedInteger) ?? 16
        if let t = args.keyword("TIMEOUT", .timestamp) { timeout = ARPEntries.effectiveTimeout(t) }
        unsupportedKeywords(&args, ["POLL_TIMEOUT"])
        if let b = args.keyword("BROADCAST", .ipv4Address) { broadcast = b.value }
        unsupportedKeywords(&args, ["BROADCAST_POLL"])
        // The table is chosen here, before handlers are added, so that they show it.
        if let tableName {
            if let t = router.element(named: tableName) as? ARPTable {
                store = t.store
            } else {
                args.error(router.element(named: tableName) == nil ? "no element named '\(tableName)'" : "'\(tableName)' is not an ARPTable element", keyword: "TABLE")
            }
        } else {
            store.capacity = capacity
            store.entryPacketCapacity = entryPacketCapacity
            store.timeout = timeout
        }
    }

    /// Prepends the Ethernet header for `ether`; false if there is no headroom.
    @inline(__always) func encapsulate(_ p: Packet, _ ether: UInt64) -> Bool {
        guard p.push(14) else { return false }
        let d = p.data
        d.storeBytes(of: UInt32(truncatingIfNeeded: ether >> 16).bigEndian, toByteOffset: 0, as: UInt32.self)
        d.storeBytes(of: UInt16(truncatingIfNeeded: ether).bigEndian, toByteOffset: 4, as: UInt16.self)
        d.storeBytes(of: UInt32(truncatingIfNeeded: myEther.value >> 16).bigEndian, toByteOffset: 6, as: UInt32.self)
        d.storeBytes(of: UInt16(truncatingIfNeeded: myEther.value).bigEndian, toByteOffset: 10, as: UInt16.self)
        d.storeBytes(of: UInt16(0x0800).bigEndian, toByteOffset: 12, as: UInt16.self)
        p.setMACHeader(at: 0)
        return true
    }

    /// An ARP request for `target`, or nil when the pool is empty.
    func query(_ target: UInt32) -> Packet? {
        var frame = [UInt8](repeating: 0xFF, count: 6) + myEther.bytes + [0x08, 0x06, 0, 1, 0x08, 0, 6, 4, 0, 1] + myEther.bytes
        frame += IPv4Address(myIP).bytes + [0, 0, 0, 0, 0, 0] + IPv4Address(target).bytes
        frame += [UInt8](repeating: 0, count: 60 - frame.count)
        queries &+= 1
        return pool.make(frame)
    }

    public override func push(port: Int, _ batch: inout PacketBatch) {
        if port == 1 {
            for i in 0..<batch.count { learn(batch[i]) }
            batch.killAll()
            return
        }
        let now = router.clock.now()
        var pendingQueries: [Packet] = []
        dispatch(&batch) { p in
            let dst = p.destinationIPAnnotation
            if dst == 0 {
                drops &+= 1
                return -1
            }
            var ether: UInt64
            if dst == broadcast || dst == 0xFFFF_FFFF {
                ether = 0xFFFF_FFFF_FFFF
            } else if dst >> 28 == 0xE {
                ether = 0x0100_5E00_0000 | UInt64(dst & 0x7F_FFFF)
            } else if dst == cachedIP && cachedExpiry > now && cachedGeneration == store.generation {
                ether = cachedEther
            } else if let e = table[dst], e.known, e.expiry > now {
                ether = e.ether
                cachedIP = dst
                cachedEther = ether
                cachedExpiry = e.expiry
                cachedGeneration = store.generation
            } else {
                hold(p, for: dst, now: now, queries: &pendingQueries)
                return Element.packetKept
            }
            return encapsulate(p, ether) ? 0 : -1
        }
        for q in pendingQueries { output(noutputs > 1 ? 1 : 0, single: q) }
    }

    /// Keeps `p` until `dst` resolves, asking at most ten times a second.
    func hold(_ p: Packet, for dst: UInt32, now: Int64, queries: inout [Packet]) {
        var e = table[dst] ?? Entry(ether: 0, known: false, expiry: 0, lastQuery: 0, pending: [])
        if table[dst] == nil && table.count >= store.capacity {
            drops &+= 1
            p.kill()
            return
        }
        if e.pending.count >= store.entryPacketCapacity {
            e.pending.removeFirst().kill()
            drops &+= 1
        }
        e.pending.append(p)
        if now - e.lastQuery >= 100_000_000, let q = query(dst) {
            e.lastQuery = now
            queries.append(q)
        }
        table[dst] = e
    }

    /// An ARP packet on input 1, with its Ethernet header. As in Click, every one long enough
    /// counts as a response, and every reply from a unicast sender is learned, asked for or
    /// not; the packets waiting for that address then go out in order.
    func learn(_ p: Packet) {
        guard p.length >= 42 else { return }
        responses &+= 1
        guard p.load16(12) == 0x0806, p.load16(14) == 1, p.load16(16) == 0x0800, p.load16(20) == 2 else { return }
        var ether: UInt64 = 0
        for i in 0..<6 { ether = ether << 8 | UInt64(p[22 + i]) }
        let ip = p.load32(28)
        guard ether & 0x0100_0000_0000 == 0 else { return }
        var e = table[ip] ?? Entry(ether: 0, known: false, expiry: 0, lastQuery: 0, pending: [])
        e.ether = ether
        e.known = true
        e.expiry = store.timeout == 0 ? Int64.max : router.clock.now().saturatingAdd(store.timeout)
        let waiting = e.pending
        e.pending = []
        table[ip] = e
        store.generation &+= 1
        withScratchBatch { out in
            for w in waiting {
                if encapsulate(w, ether) {
                    if out.isFull { output(0, &out) }
                    out.append(w)
                } else {
                    w.kill()
                }
            }
            output(0, &out)
        }
    }

    public override func cleanup() {
        if tableName == nil { store.clear() }
    }

    public override func takeState(from old: Element) {
        guard let old = old as? ARPQuerier, tableName == nil, old.tableName == nil else { return }
        store.entries = old.store.entries
        old.store.entries = [:]
    }

    public override func addHandlers(_ h: inout HandlerSet) {
        store.addTableHandlers(&h, clock: router.clock)
        h.integer("queries", get: { [unowned self] in self.queries })
        h.integer("responses", get: { [unowned self] in self.responses })
        h.integer("drops", get: { [unowned self] in self.drops })
        h.readWrite("ipaddr", read: { [unowned self] in "\(IPv4Address(self.myIP))" }, write: { [unowned self] (t: String) throws(ElementError) in
            guard let (a, _) = IPv4Address.parse(t.trimmingCharacters()) else { throw ElementError("expected IP address") }
            self.myIP = a.value
        })
    }
}

/// An ARP table: IP address → Ethernet address with expiry, plus the packets waiting for
/// each unresolved address. Owned by one ARPQuerier, or by an ARPTable element and shared
/// by the queriers that name it.
public final class ARPEntries {
    struct Entry {
        var ether: UInt64
        var known: Bool
        var expiry: Int64
        var lastQuery: Int64
        var pending: [Packet]
    }
    var entries: [UInt32: Entry] = [:]
    var capacity = 2048
    var entryPacketCapacity = 16
    /// How long an entry stays known; 0: for ever.
    var timeout: Int64 = 300_000_000_000

    /// Click's reading of a TIMEOUT: 0, and anything of 2^32 jiffies (4,294,967 s) or
    /// more, means entries never expire.
    static func effectiveTimeout(_ nanoseconds: Int64) -> Int64 {
        nanoseconds >= 4_294_967 * 1_000_000_000 ? 0 : nanoseconds
    }
    /// Bumped on every change that can invalidate a querier's one-entry cache.
    var generation = 0

    func clear() {
        for (_, e) in entries { e.pending.forEach { $0.kill() } }
        entries = [:]
        generation &+= 1
    }

    /// `table`, `count` (read); `insert` (write `IP ETH`), `delete` (write `IP`), `clear`.
    func addTableHandlers(_ h: inout HandlerSet, clock: RouterClock) {
        h.read("table") { [unowned self] in
            let now = clock.now()
            return self.entries.sorted { $0.key < $1.key }.map { ip, e in
                "\(IPv4Address(ip)) \(e.known && e.expiry > now ? 1 : 0) \(e.known ? EtherAddress(e.ether).description : "00-00-00-00-00-00") \(e.pending.count)\n"
            }.joined()
        }
        h.integer("count", get: { [unowned self] in self.entries.values.filter(\.known).count })
        h.write("insert") { [unowned self] (t: String) throws(ElementError) in
            let w = ConfigText.words(t)
            guard w.count == 2, let (ip, _) = IPv4Address.parse(w[0]), let e = EtherAddress.parse(w[1]) else { throw ElementError("expected 'IP ETH'") }
            var entry = self.entries[ip.value] ?? Entry(ether: 0, known: false, expiry: 0, lastQuery: 0, pending: [])
            entry.ether = e.value
            entry.known = true
            entry.expiry = Int64.max
            self.entries[ip.value] = entry
            self.generation &+= 1
        }
        h.write("delete") { [unowned self] (t: String) throws(ElementError) in
            guard let (ip, _) = IPv4Address.parse(t.trimmingCharacters()) else { throw ElementError("expected IP address") }
            self.entries[ip.value]?.pending.forEach { $0.kill() }
            self.entries[ip.value] = nil
            self.generation &+= 1
        }
        h.write("clear") { [unowned self] _ in self.clear() }
    }
}

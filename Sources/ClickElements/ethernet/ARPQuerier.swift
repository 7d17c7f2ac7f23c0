import ClickLanguage
import ClickRuntime

/// ARPQuerier(IP, ETH [, *keywords* TABLE, CAPACITY, ENTRY_CAPACITY, ENTRY_PACKET_CAPACITY,
/// CAPACITY_SLIM_FACTOR, TIMEOUT, POLL_TIMEOUT, BROADCAST, BROADCAST_POLL]) —
/// ARPQuerier(ADDRNAME [, ...]) with an AddressInfo name
///
/// Encapsulates IP packets (input 0, destination address annotation set) in Ethernet
/// headers, learning destinations' Ethernet addresses with ARP, as Click's ARPQuerier: a
/// known address sends the packet out of output 0 at once; otherwise the packet waits on
/// the address's entry and an ARP query goes out of the last output (at most ten a second
/// per address, every two seconds after ten unanswered). ARP replies (input 1, Ethernet
/// header included) teach the table and release the waiting packets in order. IP may be
/// a prefix (`1.0.0.1/24`): its broadcast address, or BROADCAST, and 255.255.255.255 go
/// to ff-ff-ff-ff-ff-ff; multicast goes to 01-00-5e plus the low 23 bits; 0.0.0.0 is
/// dropped with a warning. A known address is asked again (unicast, or broadcast with
/// BROADCAST_POLL) POLL_TIMEOUT after its last reply (default 60 s; 0: never). The table
/// is ARPTable's (CAPACITY, ENTRY_CAPACITY, ENTRY_PACKET_CAPACITY, CAPACITY_SLIM_FACTOR,
/// TIMEOUT), or, with TABLE, an ARPTable element's, shared.
///
/// Ports: 2 inputs (push), 1 or 2 outputs (push); flow code `xy/x`.
///
/// Handlers: `table` (read: `IP KNOWN ETH AGE` per entry, oldest first), `stats` (read:
/// packets killed and queries sent), `count` (entries), `length` (waiting packets),
/// `queries`, `responses`, `drops` (read); `ipaddr`, `broadcast` (read/write); `insert`
/// (write `IP ETH`: waiting packets go out), `delete` (write `IP`), `clear` (write).
public final class ARPQuerier: Element {
    public override var portCount: String { "2/1-2" }
    public override var processing: String { "h/h" }
    public override var flowCode: String { "xy/x" }

    var myIP: UInt32 = 0
    var myEther = EtherAddress(0)
    var broadcast: UInt32 = 0xFFFF_FFFF
    var pollTimeout: Int64 = 60_000_000_000
    var broadcastPoll = false
    var zeroWarned = false
    public private(set) var queries = 0
    public private(set) var responses = 0
    public private(set) var drops = 0

    /// The table: this querier's own, or an ARPTable element's (TABLE) shared with others.
    var store = ARPEntries()
    var tableName: String?
    var expiry: Timer?
    /// The last destination resolved and its Ethernet address: most packets of a batch go
    /// to the same next hop, so the table is consulted once per run of them. Valid while
    /// the table's generation is unchanged, and until the entry expires or is due a poll.
    var cachedIP: UInt32 = 0
    var cachedEther: UInt64 = 0
    var cachedUntil: Int64 = 0
    var cachedGeneration = 0

    public override func configure(_ args: inout Arguments) {
        // Keywords first, wherever they are (as Click's Args::consume), then IP and ETH.
        tableName = args.keyword("TABLE", .word)
        store.configure(&args)
        if let t = args.keyword("POLL_TIMEOUT", .timestamp) { pollTimeout = ARPEntries.effectiveTimeout(t) }
        broadcastPoll = args.keyword("BROADCAST_POLL", .bool) ?? false
        let explicitBroadcast = args.keyword("BROADCAST", .ipv4Address)
        var positional = args.consume()
        defer { args.absorb(positional) }
        let first = positional.mandatory("IP", .raw) ?? ""
        var mask: UInt32 = 0xFFFF_FFFF
        if let e = positional.positional("ETH", .etherAddress) {
            myEther = e
            if let a = ValueType<IPv4Address>.ipv4Address.parse(first, positional.context) {
                myIP = a.value
            } else if let p = ValueType<IPv4Prefix>.ipv4Prefix.parse(first, positional.context) {
                myIP = p.address.value
                mask = p.mask
            } else {
                positional.error("expected IP address or prefix", keyword: "IP")
            }
        } else if let entry = positional.context.addressNames.entry(ConfigText.unquote(first), context: name), let ether = entry.ether,
            let ip = entry.ipv4 ?? entry.ipv4Prefix?.address
        {
            myIP = ip.value
            myEther = ether
            if entry.ipv4 == nil, let p = entry.ipv4Prefix { mask = p.mask }
        } else if let device = DeviceAddresses.lookup(ConfigText.unquote(first)), let prefix = device.ipv4Prefix, let ether = device.ether {
            // A device's name, as Click's userlevel driver allows: its address and netmask.
            myIP = prefix.address.value
            myEther = ether
            mask = prefix.mask
        } else {
            positional.error("expected 'IP, ETH' or an AddressInfo name with both")
        }
        if let b = explicitBroadcast {
            broadcast = b.value
        } else {
            broadcast = myIP | ~mask
            if broadcast == myIP { broadcast = 0xFFFF_FFFF }
        }
        // The table is chosen here, before handlers are added, so that they show it.
        if let tableName {
            if let t = router.element(named: tableName, relativeTo: self) as? ARPTable {
                store = t.store
            } else {
                args.error(router.element(named: tableName, relativeTo: self) == nil ? "no element named '\(tableName)'" : "'\(tableName)' is not an ARPTable element", keyword: "TABLE")
            }
        }
    }

    public override func initialize() throws(ElementError) {
        if tableName == nil { expiry = store.startExpiring(self) }
    }

    public override func runTimer(_ timer: Timer) { store.expire(timer, now: routerNow()) }

    /// Writes the Ethernet header for `ether` in front of `p` (pushed unless `hasHeader`);
    /// false if there is no headroom.
    @inline(__always) func encapsulate(_ p: Packet, _ ether: UInt64, hasHeader: Bool = false) -> Bool {
        if !hasHeader {
            guard p.push(14) else { return false }
            p.data.storeBytes(of: UInt16(0x0800).bigEndian, toByteOffset: 12, as: UInt16.self)
            p.setMACHeader(at: 0)
        }
        let d = p.data
        d.storeBytes(of: UInt32(truncatingIfNeeded: ether >> 16).bigEndian, toByteOffset: 0, as: UInt32.self)
        d.storeBytes(of: UInt16(truncatingIfNeeded: ether).bigEndian, toByteOffset: 4, as: UInt16.self)
        d.storeBytes(of: UInt32(truncatingIfNeeded: myEther.value >> 16).bigEndian, toByteOffset: 6, as: UInt32.self)
        d.storeBytes(of: UInt16(truncatingIfNeeded: myEther.value).bigEndian, toByteOffset: 10, as: UInt16.self)
        return true
    }

    /// Click's `send_query_for`: an ARP request for `target` (42 bytes), to `unicast` when
    /// polling a known address, with `p`'s timestamp and VLAN annotation.
    func sendQuery(for target: UInt32, like p: Packet, unicast: UInt64?) {
        let to = broadcastPoll ? nil : unicast
        var frame = to.map { EtherAddress($0).bytes } ?? [UInt8](repeating: 0xFF, count: 6)
        frame += myEther.bytes + [0x08, 0x06, 0, 1, 0x08, 0, 6, 4, 0, 1] + myEther.bytes
        frame += IPv4Address(myIP).bytes + [0, 0, 0, 0, 0, 0] + IPv4Address(target).bytes
        guard let q = pool.make(frame) else { return }
        q.setMACHeader(at: 0)
        q.timestamp = p.timestamp
        q.setAnnotation16(Annotation.vlanTCI, p.annotation16(Annotation.vlanTCI))
        queries &+= 1
        output(noutputs - 1, single: q)
    }

    public override func push(port: Int, _ batch: inout PacketBatch) {
        if port == 1 {
            for i in 0..<batch.count { learn(batch[i]) }
            batch.killAll()
            return
        }
        let now = routerNow()
        dispatch(&batch) { p in
            guard myIP != 0 else {
                drops &+= 1
                return -1
            }
            let dst = p.destinationIPAnnotation
            if dst == cachedIP && now < cachedUntil && cachedGeneration == store.generation {
                return encapsulate(p, cachedEther) ? 0 : -1
            }
            return resolve(p, dst, now: now, hasHeader: false)
        }
    }

    /// Click's `handle_ip` for a packet to `dst`: its output (0), -1 when dropped, or
    /// `packetKept` when it waits for an answer.
    func resolve(_ p: Packet, _ dst: UInt32, now: Int64, hasHeader: Bool) -> Int {
        var ether: UInt64
        if let (e, poll) = store.lookup(dst, now: now, pollTimeout: pollTimeout) {
            ether = e
            if poll {
                sendQuery(for: dst, like: p, unicast: e)
            } else if let entry = store.entries[dst] {
                cachedIP = dst
                cachedEther = e
                var until = Int64.max
                if store.timeout > 0 { until = entry.liveAt + store.timeout }
                if pollTimeout > 0 { until = min(until, entry.liveAt + pollTimeout) }
                cachedUntil = until
                cachedGeneration = store.generation
            }
        } else if dst == 0xFFFF_FFFF || dst == broadcast {
            ether = 0xFFFF_FFFF_FFFF
        } else if dst >> 28 == 0xE {
            ether = 0x0100_5E00_0000 | UInt64(dst & 0x7F_FFFF)
        } else if dst == 0 {
            if !zeroWarned {
                router.chatter("\(declaration): would query for 0.0.0.0; missing dest IP addr annotation?")
                zeroWarned = true
            }
            drops &+= 1
            return -1
        } else {
            // Wait for the answer (the header goes on now, as Click's).
            if !hasHeader && !encapsulate(p, 0xFFFF_FFFF_FFFF) {
                drops &+= 1
                return -1
            }
            switch store.appendQuery(dst, p, now: now) {
            case .known: return resolve(p, dst, now: now, hasHeader: true)
            case .dropped: return -1
            case .queued: return Element.packetKept
            case .queuedAsk:
                sendQuery(for: dst, like: p, unicast: nil)
                return Element.packetKept
            }
        }
        return encapsulate(p, ether, hasHeader: hasHeader) ? 0 : -1
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
        guard ether & 0x0100_0000_0000 == 0 else { return }
        release(store.insert(p.load32(28), ether, now: routerNow()))
    }

    /// Sends packets that were waiting (their Ethernet headers already on), in order.
    func release(_ waiting: [Packet]) {
        let now = routerNow()
        for w in waiting {
            let r = resolve(w, w.destinationIPAnnotation, now: now, hasHeader: true)
            if r == 0 { output(0, single: w) } else if r < 0 { w.kill() }
        }
    }

    public override func cleanup() {
        expiry?.unschedule()
        if tableName == nil { store.clear() }
    }

    public override func takeState(from old: Element) {
        guard let old = old as? ARPQuerier, tableName == nil, old.tableName == nil,
              old.myIP == myIP, old.myEther == myEther, old.broadcast == broadcast else { return }
        store.take(from: old.store)
        (queries, drops, responses) = (old.queries, old.drops, old.responses)
    }

    public override func addHandlers(_ h: inout HandlerSet) {
        store.addTableHandlers(&h, clock: router.clock, context: ValueContext(elementName: name, addressNames: router.addressNames)) { [unowned self] ip in
            // A manual insert sends what was waiting for that address.
            guard var e = self.store.entries[ip], !e.pending.isEmpty else { return }
            let waiting = e.pending
            e.pending = []
            self.store.entries[ip] = e
            self.store.released(waiting.count)
            self.release(waiting)
        }
        h.read("stats") { [unowned self] in "\(self.drops + self.store.drops) packets killed\n\(self.queries) ARP queries sent\n" }
        h.integer("queries", get: { [unowned self] in self.queries })
        h.integer("responses", get: { [unowned self] in self.responses })
        h.integer("drops", get: { [unowned self] in self.drops })
        h.readWrite("ipaddr", read: { [unowned self] in "\(IPv4Address(self.myIP))" }, write: { [unowned self] (t: String) throws(ElementError) in
            guard let (a, _) = IPv4Address.parse(t.trimmingCharacters()) else { throw ElementError("expected IP address") }
            self.myIP = a.value
        })
        h.readWrite("broadcast", read: { [unowned self] in "\(IPv4Address(self.broadcast))" }, write: { [unowned self] (t: String) throws(ElementError) in
            guard let (a, _) = IPv4Address.parse(t.trimmingCharacters()) else { throw ElementError("expected IP address") }
            self.broadcast = a.value
        })
        h.write("clear") { [unowned self] _ in
            (self.queries, self.drops, self.responses) = (0, 0, 0)
            self.store.clear()
        }
    }
}

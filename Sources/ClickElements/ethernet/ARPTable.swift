import ClickLanguage
import ClickRuntime

/// ARPTable([*keywords* CAPACITY, ENTRY_CAPACITY, ENTRY_PACKET_CAPACITY,
/// CAPACITY_SLIM_FACTOR, TIMEOUT])
///
/// An ARP table that several ARPQueriers share (`ARPQuerier(IP, ETH, TABLE t)`), as
/// Click's: what one learns, the others use. Entries are kept oldest first. CAPACITY
/// bounds the packets waiting for answers over all entries (default 2048; 0: no bound):
/// beyond it, the oldest entries' waiting packets are dropped until only CAPACITY -
/// CAPACITY/CAPACITY_SLIM_FACTOR (default 2) remain. ENTRY_CAPACITY bounds the entries
/// (default 0: no bound; the oldest go), ENTRY_PACKET_CAPACITY the packets waiting per
/// address (default 0: no bound; a packet beyond it is dropped). An entry is known for
/// TIMEOUT after the reply that taught it (default 5 minutes; 0: for ever), and is then
/// removed with its waiting packets.
///
/// Ports: none.
///
/// Handlers: `table` (read: `IP KNOWN ETH AGE` per entry, oldest first), `count`
/// (entries), `length` (waiting packets), `drops` (read); `insert` (write `IP ETH`),
/// `delete` (write `IP`: the entry becomes unknown), `clear` (write).
public final class ARPTable: Element {
    public override var portCount: String { "0/0" }
    public let store = ARPEntries()
    var expiry: Timer?

    public override func configure(_ args: inout Arguments) {
        store.configure(&args)
    }

    public override func initialize() throws(ElementError) {
        expiry = store.startExpiring(self)
    }

    public override func runTimer(_ timer: Timer) { store.expire(timer, now: routerNow()) }

    public override func cleanup() {
        expiry?.unschedule()
        store.clear()
    }

    public override func takeState(from old: Element) {
        guard let old = old as? ARPTable else { return }
        store.take(from: old.store)
    }

    public override func addHandlers(_ h: inout HandlerSet) { store.addTableHandlers(&h, clock: router.clock) }
}

/// An ARP table as Click's `ARPTable`: IP address → Ethernet address, each entry with the
/// packets waiting for it, kept in order of age. Owned by one ARPQuerier, or by an
/// ARPTable element and shared by the queriers that name it.
public final class ARPEntries {
    struct Entry {
        var ether: UInt64 = 0xFFFF_FFFF_FFFF
        var known = false
        var pollsSinceReply = 0
        /// When the entry was last taught (router time, ns).
        var liveAt: Int64 = 0
        var polledAt: Int64 = 0
        var pending: [Packet] = []
    }
    var entries: [UInt32: Entry] = [:]
    /// The entries' addresses, oldest first.
    var age: [UInt32] = []
    var packetCapacity = 2048
    var entryCapacity = 0
    var entryPacketCapacity = 0
    var slimFactor = 2
    /// How long an entry stays known; 0: for ever.
    var timeout: Int64 = 300_000_000_000
    /// Waiting packets over all entries.
    public private(set) var packetCount = 0
    /// Packets dropped by the table (capacities, expiry, clearing).
    public private(set) var drops = 0
    /// Bumped on every change that can invalidate a querier's one-entry cache.
    var generation = 0

    static let second: Int64 = 1_000_000_000

    /// Click keeps ARP times in jiffies (milliseconds at user level): entries taught in
    /// the same millisecond are the same age, as there.
    @inline(__always) static func jiffies(_ now: Int64) -> Int64 { now / 1_000_000 * 1_000_000 }

    /// Click's reading of a TIMEOUT: 0, and anything of 2^32 jiffies (4,294,967 s) or
    /// more, means entries never expire.
    static func effectiveTimeout(_ nanoseconds: Int64) -> Int64 {
        nanoseconds >= 4_294_967 * second ? 0 : nanoseconds
    }

    /// CAPACITY, ENTRY_CAPACITY, ENTRY_PACKET_CAPACITY, CAPACITY_SLIM_FACTOR, TIMEOUT.
    func configure(_ args: inout Arguments) {
        packetCapacity = args.keyword("CAPACITY", .unsignedInteger) ?? packetCapacity
        entryCapacity = args.keyword("ENTRY_CAPACITY", .unsignedInteger) ?? entryCapacity
        entryPacketCapacity = args.keyword("ENTRY_PACKET_CAPACITY", .unsignedInteger) ?? entryPacketCapacity
        if let f = args.keyword("CAPACITY_SLIM_FACTOR", .unsignedInteger) {
            if f == 0 { args.error("CAPACITY_SLIM_FACTOR cannot be zero") } else { slimFactor = f }
        }
        if let t = args.keyword("TIMEOUT", .timestamp) { timeout = Self.effectiveTimeout(t) }
    }

    /// The expiry timer of the table's owner: first after TIMEOUT, then every TIMEOUT
    /// plus a second, as Click's.
    func startExpiring(_ owner: Element) -> Timer? {
        guard timeout > 0 else { return nil }
        let t = owner.makeTimer()
        t.schedule(after: timeout / Self.second * Self.second)
        return t
    }

    func expire(_ timer: Timer, now: Int64) {
        slim(now: now)
        if timeout > 0 { timer.schedule(after: (timeout / Self.second + 1) * Self.second) }
    }

    var count: Int { entries.count }

    @inline(__always) func expired(_ e: Entry, now: Int64) -> Bool {
        timeout != 0 && e.liveAt + timeout < now
    }

    @inline(__always) func known(_ e: Entry, now: Int64) -> Bool { e.known && !expired(e, now: now) }

    static func allowPoll(_ e: Entry, now: Int64) -> Bool {
        now >= e.polledAt + (e.pollsSinceReply >= 10 ? 2 * second : second / 10)
    }

    static func markPoll(_ e: inout Entry, now: Int64) {
        e.polledAt = now
        if e.pollsSinceReply < 255 { e.pollsSinceReply += 1 }
    }

    /// Click's `lookup`: nil when `ip` is not known; else its address, and whether it is
    /// time to ask again (POLL_TIMEOUT after the last reply, at most ten times a second).
    func lookup(_ ip: UInt32, now exact: Int64, pollTimeout: Int64) -> (ether: UInt64, poll: Bool)? {
        let now = Self.jiffies(exact)
        guard var e = entries[ip], known(e, now: now) else { return nil }
        if pollTimeout > 0 && now >= e.liveAt + pollTimeout && Self.allowPoll(e, now: now) {
            Self.markPoll(&e, now: now)
            entries[ip] = e
            return (e.ether, true)
        }
        return (e.ether, false)
    }

    /// The entry for `ip`, made (youngest) if there was none.
    private func ensure(_ ip: UInt32, now: Int64) {
        guard entries[ip] == nil else { return }
        if entryCapacity > 0 && entries.count + 1 > entryCapacity { slim(now: now, adding: 1) }
        entries[ip] = Entry(liveAt: now, polledAt: now - Self.second)
        age.append(ip)
    }

    /// Click's `insert`: `ip` is at `ether` (unknown if broadcast) as of now; returns the
    /// packets that were waiting for it, oldest first.
    /// With `keepWaiting` (Click's handlers), the waiting packets stay on the entry.
    @discardableResult
    func insert(_ ip: UInt32, _ ether: UInt64, now exact: Int64, keepWaiting: Bool = false) -> [Packet] {
        let now = Self.jiffies(exact)
        ensure(ip, now: now)
        guard var e = entries[ip] else { return [] }
        e.ether = ether
        e.known = ether != 0xFFFF_FFFF_FFFF
        e.liveAt = now
        e.pollsSinceReply = 0
        e.polledAt = now - Self.second
        let waiting = keepWaiting ? [] : e.pending
        if !keepWaiting { e.pending = [] }
        packetCount -= waiting.count
        entries[ip] = e
        if let i = age.firstIndex(of: ip) { age.remove(at: i) }
        age.append(ip)
        generation &+= 1
        return waiting
    }

    /// `count` waiting packets were taken off their entry by its owner.
    func released(_ count: Int) { packetCount -= count }

    /// What `appendQuery` did with a packet.
    enum QueryResult { case known, dropped, queued, queuedAsk }

    /// Click's `append_query`: keeps `p` until `ip` resolves; `.queuedAsk` when it is time
    /// to ask (at most ten times a second, every two seconds after ten unanswered).
    func appendQuery(_ ip: UInt32, _ p: Packet, now exact: Int64) -> QueryResult {
        let now = Self.jiffies(exact)
        ensure(ip, now: now)
        guard var e = entries[ip] else { return .dropped }
        if known(e, now: now) { return .known }
        // Still wanted: keep the entry just this side of expiring.
        if timeout > 0, e.liveAt < now - timeout {
            e.liveAt = now - timeout
            entries[ip] = e
            if let i = age.firstIndex(of: ip) {
                var j = i + 1
                while j < age.count, let next = entries[age[j]], next.liveAt < e.liveAt { j += 1 }
                if j != i + 1 {
                    age.insert(ip, at: j)
                    age.remove(at: i)
                }
            }
        }
        if entryPacketCapacity > 0 && e.pending.count >= entryPacketCapacity {
            drops += 1
            return .dropped
        }
        packetCount += 1
        if packetCapacity > 0 && packetCount > packetCapacity {
            entries[ip] = e
            slim(now: now)
            guard let current = entries[ip] else {
                packetCount -= 1
                drops += 1
                return .dropped
            }
            e = current
        }
        e.pending.append(p)
        var asked = false
        if Self.allowPoll(e, now: now) {
            Self.markPoll(&e, now: now)
            asked = true
        }
        entries[ip] = e
        return asked ? .queuedAsk : .queued
    }

    /// Click's `slim`: expired entries go (and, over ENTRY_CAPACITY, the oldest), then the
    /// oldest entries' waiting packets until the packets fit.
    func slim(now exact: Int64, adding: Int = 0) {
        let now = Self.jiffies(exact)
        while let ip = age.first, let e = entries[ip],
              expired(e, now: now) || (entryCapacity > 0 && entries.count + adding > entryCapacity) {
            age.removeFirst()
            entries[ip] = nil
            for p in e.pending {
                p.kill()
                packetCount -= 1
                drops += 1
            }
            generation &+= 1
        }
        guard packetCapacity > 0 && packetCount > packetCapacity else { return }
        let slimCapacity = max(1, packetCapacity - packetCapacity / slimFactor)
        var i = 0
        while packetCount > slimCapacity && i < age.count {
            let ip = age[i]
            if var e = entries[ip] {
                while !e.pending.isEmpty && packetCount > slimCapacity {
                    e.pending.removeFirst().kill()
                    packetCount -= 1
                    drops += 1
                }
                entries[ip] = e
            }
            i += 1
        }
    }

    func clear() {
        for (_, e) in entries {
            for p in e.pending {
                p.kill()
                drops += 1
            }
        }
        entries = [:]
        age = []
        packetCount = 0
        generation &+= 1
    }

    /// A hot swap hands the entries over.
    func take(from old: ARPEntries) {
        (entries, age, packetCount, drops) = (old.entries, old.age, old.packetCount, old.drops)
        old.entries = [:]
        old.age = []
        old.packetCount = 0
        generation &+= 1
    }

    /// `table`, `count`, `length`, `drops` (read); `insert` (write `IP ETH`), `delete`
    /// (write `IP`), `clear`.
    /// `release` takes the packets an insert frees (an ARPQuerier sends them); without it
    /// they stay waiting, as in Click.
    func addTableHandlers(_ h: inout HandlerSet, clock: RouterClock, context: ValueContext = ValueContext(), release: ((UInt32) -> Void)? = nil) {
        h.read("table") { [unowned self] in self.unparse(now: clock.now()) }
        h.integer("count", get: { [unowned self] in self.entries.count })
        h.integer("length", get: { [unowned self] in self.packetCount })
        h.integer("drops", get: { [unowned self] in self.drops })
        h.write("insert") { [unowned self] (t: String) throws(ElementError) in
            let w = ConfigText.words(t)
            guard w.count == 2 else { throw ElementError("expected 'IP ETH'") }
            guard let ip = ValueType<IPv4Address>.ipv4Address.parse(w[0], context) else { throw ElementError("IP: expected IP address") }
            guard let e = EtherAddress.parse(w[1]) else { throw ElementError("ETH: expected Ethernet address") }
            self.insert(ip.value, e.value, now: clock.now(), keepWaiting: true)
            release?(ip.value)
        }
        h.write("delete") { [unowned self] (t: String) throws(ElementError) in
            guard let ip = ValueType<IPv4Address>.ipv4Address.parse(t.trimmingCharacters(), context) else { throw ElementError("IP: expected IP address") }
            self.insert(ip.value, 0xFFFF_FFFF_FFFF, now: clock.now(), keepWaiting: true)
        }
        h.write("clear") { [unowned self] _ in self.clear() }
    }

    /// Click's table text: `IP KNOWN ETH AGE`, oldest first.
    func unparse(now exact: Int64) -> String {
        let now = Self.jiffies(exact)
        var s = ""
        for ip in age {
            guard let e = entries[ip] else { continue }
            s += "\(IPv4Address(ip)) \(known(e, now: now) ? 1 : 0) \(EtherAddress(e.ether)) \(formatTimestamp(now - e.liveAt))\n"
        }
        return s
    }
}

import ClickLanguage
import ClickRuntime

/// IPReassembler([*keywords* MAX_MEMSIZE, TIMEOUT])
///
/// Reassembles IP fragments (IP header annotation set) into whole datagrams, emitted on
/// output 0 with the first fragment's header (fragment fields cleared, length and
/// checksum fixed) and annotations. Unfragmented packets pass straight through.
/// Fragments of datagrams that are not complete within TIMEOUT seconds (default 30), or
/// that are evicted (oldest first) when the fragments held exceed MAX_MEMSIZE bytes
/// (default 262144), are dropped. Overlapping fragments keep the first copy of each
/// byte. A datagram longer than a packet buffer cannot be rebuilt and is dropped.
/// Dropped fragments go to output 1 if it exists.
///
/// Ports: 1 input, 1 or 2 outputs, push. Handlers: `mem_size` (bytes held),
/// `datagrams` (in progress), `drops` (read); `clear` (write: drops every partial
/// datagram).
public final class IPReassembler: Element {
    public override var portCount: String { "1/1-2" }
    public override var processing: String { "h/h" }
    var maxMemory = 262_144
    var timeout: Int64 = 30_000_000_000
    public private(set) var memory = 0
    public private(set) var drops = 0
    var reaper: Timer?

    struct Key: Hashable {
        var src: UInt32, dst: UInt32, id: UInt16, proto: UInt8
    }

    /// One datagram being rebuilt: the fragments as they arrived.
    struct Partial {
        var fragments: [Packet] = []
        var bytes = 0
        var started: Int64
        /// Payload length, known once the last fragment (MF clear) arrives.
        var total: Int?
    }
    var partials: [Key: Partial] = [:]

    public override func configure(_ args: inout Arguments) {
        maxMemory = args.keyword("MAX_MEMSIZE", .unsignedInteger) ?? 262_144
        if let t = args.keyword("TIMEOUT", .timestamp) { timeout = t }
        if timeout <= 0 { args.error("must be positive", keyword: "TIMEOUT") }
    }

    public override func initialize() throws(ElementError) {
        let t = makeTimer()
        reaper = t
        t.schedule(after: timeout)
    }

    public override func cleanup() {
        reaper?.unschedule()
        for (_, d) in partials { d.fragments.forEach { $0.kill() } }
        partials = [:]
        memory = 0
    }

    func drop(_ p: Packet) {
        drops &+= 1
        if noutputs > 1 { output(1, single: p) } else { p.kill() }
    }

    func discard(_ key: Key) {
        guard let d = partials.removeValue(forKey: key) else { return }
        memory -= d.bytes
        d.fragments.forEach(drop)
    }

    public override func runTimer(_ timer: Timer) {
        let now = routerNow()
        for (key, d) in partials where now - d.started >= timeout { discard(key) }
        timer.schedule(after: max(timeout / 2, 1_000_000))
    }

    public override func push(port: Int, _ batch: inout PacketBatch) {
        let now = routerNow()
        dispatch(&batch) { p in
            guard let ip = p.networkHeader, p.networkLength >= 20 else { return 0 }
            let off = ip.be16(IPv4Header.fragment)
            guard off & 0x3FFF != 0 else { return 0 }   // not a fragment
            let hl = Int(ip.byte(0) & 0x0F) << 2
            let payload = Int(ip.be16(IPv4Header.totalLength)) - hl
            guard hl >= 20, payload > 0, p.networkLength >= hl + payload else {
                drop(p)
                return Element.packetKept
            }
            let key = Key(src: ip.be32(IPv4Header.source), dst: ip.be32(IPv4Header.destination), id: ip.be16(IPv4Header.id), proto: ip.byte(IPv4Header.proto))
            var d = partials[key] ?? Partial(started: now)
            if now - d.started >= timeout {
                discard(key)
                d = Partial(started: now)
            }
            if off & 0x2000 == 0 { d.total = Int(off & 0x1FFF) * 8 + payload }
            d.fragments.append(p)
            d.bytes += p.length
            memory += p.length
            partials[key] = d
            while memory > maxMemory, let oldest = partials.min(by: { $0.value.started < $1.value.started })?.key { discard(oldest) }
            if let whole = complete(key) {
                output(0, single: whole)
            }
            return Element.packetKept
        }
    }

    /// The rebuilt datagram if all of `key`'s bytes have arrived; its fragments are freed.
    func complete(_ key: Key) -> Packet? {
        guard let d = partials[key], let total = d.total else { return nil }
        // Coverage of [0, total).
        var spans: [(Int, Int)] = []
        var first: Packet?
        for f in d.fragments {
            guard let ip = f.networkHeader else { continue }
            let hl = Int(ip.byte(0) & 0x0F) << 2
            let start = Int(ip.be16(IPv4Header.fragment) & 0x1FFF) * 8
            spans.append((start, start + Int(ip.be16(IPv4Header.totalLength)) - hl))
            if start == 0 && first == nil { first = f }
        }
        guard let first, let firstIP = first.networkHeader else { return nil }
        spans.sort { $0.0 < $1.0 }
        var covered = 0
        for (s, e) in spans {
            if s > covered { return nil }
            covered = max(covered, e)
        }
        guard covered >= total else { return nil }
        partials[key] = nil
        memory -= d.bytes
        let hl = Int(firstIP.byte(0) & 0x0F) << 2
        let mac = first.networkHeaderOffset ?? 0
        let length = mac + hl + total
        guard length <= PacketPool.defaultBufferSize - PacketPool.defaultHeadroom, let whole = pool.make(repeatElement(UInt8(0), count: length)) else {
            d.fragments.forEach(drop)
            return nil
        }
        // Link header and IP header from the first fragment, then every fragment's bytes
        // (earlier arrivals win where they overlap: later ones are written first).
        whole.data.copyMemory(from: first.data, byteCount: mac + hl)
        for f in d.fragments.reversed() {
            guard let ip = f.networkHeader else { continue }
            let fhl = Int(ip.byte(0) & 0x0F) << 2
            let start = Int(ip.be16(IPv4Header.fragment) & 0x1FFF) * 8
            let n = min(Int(ip.be16(IPv4Header.totalLength)) - fhl, total - start)
            if n > 0 { (whole.data + mac + hl + start).copyMemory(from: ip + fhl, byteCount: n) }
        }
        let ip = whole.data + mac
        ip.setBE16(IPv4Header.totalLength, UInt16(hl + total))
        ip.setBE16(IPv4Header.fragment, ip.be16(IPv4Header.fragment) & 0x4000)
        setIPChecksum(ip)
        if let m = first.macHeaderOffset { whole.setMACHeader(at: m) }
        whole.setNetworkHeader(at: mac, headerLength: hl)
        whole.timestamp = first.timestamp
        whole.annotationBytes.copyMemory(from: first.annotationBytes, byteCount: Annotation.size)
        d.fragments.forEach { $0.kill() }
        return whole
    }

    public override func takeState(from old: Element) {
        guard let old = old as? IPReassembler else { return }
        partials = old.partials
        memory = old.memory
        old.partials = [:]
        old.memory = 0
    }

    public override func addHandlers(_ h: inout HandlerSet) {
        h.integer("mem_size", get: { [unowned self] in self.memory })
        h.integer("datagrams", get: { [unowned self] in self.partials.count })
        h.integer("drops", get: { [unowned self] in self.drops })
        h.write("clear") { [unowned self] _ in
            for key in Array(self.partials.keys) { self.discard(key) }
        }
    }
}

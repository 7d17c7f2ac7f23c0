import ClickLanguage
import ClickRuntime

/// An element that chooses a rewrite pattern for each new flow (RoundRobinIPMapper,
/// SourceIPHashMapper): the rewriter's input spec names it.
public protocol IPMapper: Element {
    func choose(for flow: FlowID) -> (pattern: RewritePattern, forwardOutput: Int, replyOutput: Int)?
}

/// IPRewriter(INPUTSPEC_0, ..., INPUTSPEC_N-1 [, *keywords* TCP_TIMEOUT, TCP_DONE_TIMEOUT,
/// TCP_NODATA_TIMEOUT, UDP_TIMEOUT, TIMEOUT, REAP_INTERVAL, MAPPING_CAPACITY, DST_ANNO,
/// GUARANTEE, TCP_GUARANTEE, UDP_GUARANTEE, STREAMING_TIMEOUT, UDP_STREAMING_TIMEOUT]) —
/// also TCPRewriter, UDPRewriter
///
/// Rewrites TCP and UDP flows (NAPT, load balancing, redirection), keeping both directions
/// consistent. Each input port has one INPUTSPEC, used for packets of flows not yet in the
/// table: `drop`/`discard`; `pass OUT` (also `passthrough`, `nochange`); `keep FOUT ROUT`
/// (identity mapping, replies to ROUT); `pattern SADDR SPORT DADDR DPORT FOUT ROUT` or
/// `pattern NAME FOUT ROUT` (from IPRewriterPatterns); or the name of a mapper element.
/// A new flow gets a forward mapping to FOUT and a reply mapping, for the rewritten flow
/// reversed, to ROUT. A port is free when the resulting reply flow is not in use, so the
/// same external port serves different destinations. When the space is exhausted the
/// packet is dropped and `mapping_failures` counts it. Checksums are updated
/// incrementally. Non-TCP/UDP packets and later fragments are dropped unless the spec is
/// `pass`. TCPRewriter handles TCP only; UDPRewriter and IPRewriter both.
///
/// Keywords: TCP_TIMEOUT (24 h, data both ways), TCP_DONE_TIMEOUT (4 min after FIN/RST),
/// TCP_NODATA_TIMEOUT (5 min), UDP_TIMEOUT (5 min), REAP_INTERVAL (15 min),
/// MAPPING_CAPACITY (flows), DST_ANNO (true: set the destination annotation to the new
/// destination). The GUARANTEE and STREAMING_TIMEOUT keywords load with a warning: flows
/// are not protected from early eviction, since the table grows rather than evicts.
///
/// Ports: N inputs (one per spec), any number of outputs, push.
///
/// Handlers: `table`, `tcp_table`, `udp_table`, `table_size`, `size`, `mapping_failures`,
/// `patterns` (read); `capacity` (read/write); `lookup` (read with `SADDR SPORT DADDR
/// DPORT [PROTO]`).
public class IPRewriter: Element {
    public override var portCount: String { "1-/1-" }
    public override var processing: String { "h/h" }

    enum Spec {
        case drop
        case pass(Int)
        case keep(Int, Int)
        case pattern(RewritePattern, Int, Int)
        case mapper(String)
    }

    var specs: [Spec] = []
    var mappers: [String: any IPMapper] = [:]
    public internal(set) var table = FlowTable(capacity: 4096)
    var capacityLimit = 1_000_000
    public internal(set) var mappingFailures = 0
    var dstAnno = true
    var tcpTimeout: Int64 = 86_400_000_000_000
    var tcpDoneTimeout: Int64 = 240_000_000_000
    var tcpNoDataTimeout: Int64 = 300_000_000_000
    var udpTimeout: Int64 = 300_000_000_000
    var reapInterval: Int64 = 900_000_000_000
    var reaper: Timer?
    var handlesUDP: Bool { true }

    public override func configure(_ args: inout Arguments) {
        // Click reads every timeout as whole seconds in 32 bits (SecondsArg).
        tcpTimeout = args.keyword("TCP_TIMEOUT", .wholeSeconds) ?? tcpTimeout
        tcpDoneTimeout = args.keyword("TCP_DONE_TIMEOUT", .wholeSeconds) ?? tcpDoneTimeout
        tcpNoDataTimeout = args.keyword("TCP_NODATA_TIMEOUT", .wholeSeconds) ?? tcpNoDataTimeout
        udpTimeout = args.keyword("UDP_TIMEOUT", .wholeSeconds) ?? args.keyword("TIMEOUT", .wholeSeconds) ?? udpTimeout
        unsupportedKeywords(&args, ["UDP_STREAMING_TIMEOUT", "STREAMING_TIMEOUT", "TCP_GUARANTEE", "UDP_GUARANTEE", "GUARANTEE"])
        reapInterval = args.keyword("REAP_INTERVAL", .wholeSeconds) ?? reapInterval
        capacityLimit = args.keyword("MAPPING_CAPACITY", .unsignedInteger) ?? capacityLimit
        dstAnno = args.keyword("DST_ANNO", .bool) ?? true
        let texts = args.remaining()
        if texts.count != ninputs {
            args.error("need \(ninputs) arguments, one per input port")
        }
        specs = []
        for (i, text) in texts.enumerated() {
            switch parseSpec(text, context: args.context) {
            case .success(let spec): specs.append(spec)
            case .failure(let e):
                args.error("input spec \(i): \(e.message)")
                specs.append(.drop)
            }
        }
    }

    struct SpecError: Error { var message: String }

    func output(_ text: String) -> Int? {
        guard let n = Int(text), n >= 0, n < noutputs else { return nil }
        return n
    }

    func parseSpec(_ text: String, context: ValueContext) -> Result<Spec, SpecError> {
        let words = ConfigText.words(text).map(ConfigText.unquote)
        guard let kind = words.first else { return .failure(SpecError(message: "empty input spec")) }
        switch kind {
        case "drop", "discard":
            return words.count == 1 ? .success(.drop) : .failure(SpecError(message: "bad 'drop' spec"))
        case "pass", "passthrough", "nochange":
            guard words.count <= 2, let out = words.count == 2 ? output(words[1]) : 0 else { return .failure(SpecError(message: "bad output port")) }
            return .success(.pass(out))
        case "keep":
            guard words.count == 3, let f = output(words[1]), let r = output(words[2]) else { return .failure(SpecError(message: "expected 'keep FOUT ROUT'")) }
            return .success(.keep(f, r))
        case "pattern", "xpattern":
            if words.count == 4 {
                let named = router.elements.lazy.compactMap { ($0 as? IPRewriterPatterns)?.patterns[words[1]] }.first
                guard let p = named else { return .failure(SpecError(message: "unknown pattern '\(words[1])'")) }
                guard let f = output(words[2]), let r = output(words[3]) else { return .failure(SpecError(message: "bad output port")) }
                return .success(.pattern(p, f, r))
            }
            guard words.count == 7 else { return .failure(SpecError(message: "expected 'pattern SADDR SPORT DADDR DPORT FOUT ROUT'")) }
            switch RewritePattern.parse(Array(words[1...4]), context: context) {
            case .failure(let e): return .failure(SpecError(message: e.description))
            case .success(let p):
                guard let f = output(words[5]), let r = output(words[6]) else { return .failure(SpecError(message: "bad output port")) }
                return .success(.pattern(p, f, r))
            }
        default:
            guard words.count == 1 else { return .failure(SpecError(message: "unknown input spec '\(kind)'")) }
            return .success(.mapper(kind))
        }
    }

    /// Finds a mapper by name: first inside this element's compound, then anywhere.
    func findMapper(_ name: String) -> (any IPMapper)? {
        var prefix = self.name
        while let slash = prefix.lastIndex(of: "/") {
            prefix = String(prefix[..<slash])
            if let m = router.element(named: prefix + "/" + name) as? any IPMapper { return m }
        }
        return router.element(named: name) as? any IPMapper
    }

    public override func initialize() throws(ElementError) {
        for spec in specs {
            if case .mapper(let name) = spec {
                guard let m = findMapper(name) else { throw ElementError("'\(name)' is not an IPMapper element") }
                mappers[name] = m
            }
        }
        table = FlowTable(capacity: min(4096, max(2 * capacityLimit, 2)))
        let t = makeTimer()
        reaper = t
        t.schedule(after: reapInterval)
    }

    public override func cleanup() { reaper?.unschedule() }

    public override func runTimer(_ timer: Timer) {
        reap(now: router.clock.now())
        timer.schedule(after: reapInterval)
    }

    /// Removes every expired flow.
    public func reap(now: Int64) {
        for f in table.forwardMappings where table.mappings[Int(f)].expiry <= now { table.remove(f) }
    }

    func timeout(_ m: FlowMapping, proto: UInt8) -> Int64 {
        guard proto == 6 else { return udpTimeout }
        if m.tcpState & 1 != 0 { return tcpDoneTimeout }
        return m.tcpState & 6 == 6 ? tcpTimeout : tcpNoDataTimeout
    }

    /// Doubles the table when it fills, up to MAPPING_CAPACITY flows.
    func grow() -> Bool {
        let flows = table.mappingCapacity / 2
        guard flows < capacityLimit else { return false }
        let bigger = FlowTable(capacity: min(table.mappingCapacity * 2, 2 * capacityLimit + 2))
        for f in table.forwardMappings {
            let m = table.mappings[Int(f)]
            let r = table.mappings[Int(m.partner)]
            if let nf = bigger.add(forward: m.key, rewritten: m.rewritten, output: Int(m.output), replyOutput: Int(r.output), expiry: m.expiry) {
                bigger.mappings[Int(nf)].tcpState = m.tcpState
                bigger.mappings[Int(bigger.mappings[Int(nf)].partner)].tcpState = r.tcpState
            }
        }
        table = bigger
        return true
    }

    /// Creates the mapping for a new flow per `spec`; returns the forward mapping or nil.
    func create(_ flow: FlowID, _ spec: Spec, now: Int64) -> Int32? {
        var pattern: RewritePattern? = nil
        var fout = 0, rout = 0
        switch spec {
        case .drop, .pass: return nil
        case .keep(let f, let r):
            fout = f
            rout = r
        case .pattern(let p, let f, let r):
            pattern = p
            fout = f
            rout = r
        case .mapper(let name):
            guard let choice = mappers[name]?.choose(for: flow) else { return nil }
            pattern = choice.pattern
            fout = choice.forwardOutput
            rout = choice.replyOutput
        }
        let rewritten: FlowID
        if let pattern {
            guard let r = pattern.allocate(for: flow, in: table, using: &router.random) else { return nil }
            rewritten = r
        } else {
            guard table.find(flow.reversed) < 0 else { return nil }
            rewritten = flow
        }
        guard fout < noutputs, rout < noutputs else { return nil }
        if table.isFull && !grow() { return nil }
        let expiry = now.saturatingAdd(flow.proto == 6 ? tcpNoDataTimeout : udpTimeout)
        return table.add(forward: flow, rewritten: rewritten, output: fout, replyOutput: rout, expiry: expiry)
    }

    /// The output for `p` arriving on an input with `spec` (rewritten in place), or -1.
    @inline(__always) func process(_ p: Packet, spec: Spec, now: Int64) -> Int {
        guard let ip = p.networkHeader, p.networkLength >= 20, let t = p.transportHeader else { return passOrDrop(spec) }
        return processTransport(p, ip, t, spec: spec, now: now)
    }

    /// TCP and UDP (ICMPPingRewriter overrides this for echo identifiers).
    func processTransport(_ p: Packet, _ ip: UnsafeMutableRawPointer, _ t: UnsafeMutableRawPointer, spec: Spec, now: Int64) -> Int {
        let proto = ip.byte(IPv4Header.proto)
        let transportLength = p.length - (p.transportHeaderOffset ?? p.length)
        let firstFragment = ip.be16(IPv4Header.fragment) & 0x1FFF == 0
        guard (proto == 6 || (proto == 17 && handlesUDP)), firstFragment, transportLength >= (proto == 6 ? 20 : 8) else {
            return passOrDrop(spec)
        }
        let key = FlowID(saddr: ip.be32(IPv4Header.source), sport: t.be16(0), daddr: ip.be32(IPv4Header.destination), dport: t.be16(2), proto: proto)
        var m = table.find(key)
        if m >= 0 && table.mappings[Int(m)].expiry <= now {
            table.remove(m)
            m = -1
        }
        if m < 0 {
            if case .pass(let out) = spec { return out }
            if case .drop = spec { return -1 }
            guard let made = create(key, spec, now: now) else {
                mappingFailures &+= 1
                return -1
            }
            m = made
        }
        let mapping = table.mappings[Int(m)]
        rewrite(ip, t, from: mapping.key, to: mapping.rewritten, proto: proto)
        // TCP progress and expiry, kept on both directions of the flow.
        var state = mapping.tcpState
        if proto == 6 {
            let flags = t.byte(13)
            if flags & 0x05 != 0 { state |= 1 }
            let dataOffset = Int(t.byte(12) >> 4) << 2
            if Int(ip.be16(IPv4Header.totalLength)) - (Int(ip.byte(0) & 0x0F) << 2) > dataOffset {
                state |= mapping.isReply ? 4 : 2
            }
        }
        let partner = Int(mapping.partner)
        state |= table.mappings[partner].tcpState
        var updated = mapping
        updated.tcpState = state
        let expiry = now.saturatingAdd(timeout(updated, proto: proto))
        table.mappings[Int(m)].tcpState = state
        table.mappings[Int(m)].expiry = expiry
        table.mappings[partner].tcpState = state
        table.mappings[partner].expiry = expiry
        if dstAnno { p.destinationIPAnnotation = mapping.rewritten.daddr }
        return Int(mapping.output)
    }

    /// The mapping an ICMP error's embedded packet `e` belongs to: the one that a reply to
    /// `e` would use. -1 if none.
    func findEmbedded(_ e: FlowID) -> Int32 { table.find(e.reversed) }

    /// How ICMPRewriter must rewrite an ICMP error's embedded packet `e` (a packet that went
    /// through this rewriter): the flow it becomes, and the mapping's output. Nil if this
    /// rewriter knows nothing of it.
    func embeddedMapping(for e: FlowID) -> (rewritten: FlowID, output: Int)? {
        let m = findEmbedded(e)
        guard m >= 0 else { return nil }
        let mapping = table.mappings[Int(m)]
        var out = e
        if mapping.key.daddr == e.saddr && mapping.key.dport == e.sport {
            out.saddr = mapping.rewritten.daddr
            out.sport = mapping.rewritten.dport
        }
        if mapping.key.saddr == e.daddr && mapping.key.sport == e.dport {
            out.daddr = mapping.rewritten.saddr
            out.dport = mapping.rewritten.sport
        }
        return (out, Int(mapping.output))
    }

    @inline(__always) func passOrDrop(_ spec: Spec) -> Int {
        if case .pass(let out) = spec { return out }
        return -1
    }

    /// Rewrites addresses and ports, fixing the IP and TCP/UDP checksums incrementally.
    /// `t` is nil when the packet has no complete TCP or UDP header (then only the IP
    /// header changes).
    @inline(__always) func rewrite(_ ip: UnsafeMutableRawPointer, _ t: UnsafeMutableRawPointer?, from a: FlowID, to b: FlowID, proto: UInt8) {
        var ipDelta: UInt32 = 0
        var tDelta: UInt32 = 0
        @inline(__always) func change(_ old: UInt16, _ new: UInt16) -> UInt32 {
            UInt32(~old) &+ UInt32(new)
        }
        if a.saddr != b.saddr {
            let d = change(UInt16(a.saddr >> 16), UInt16(b.saddr >> 16)) &+ change(UInt16(a.saddr & 0xFFFF), UInt16(b.saddr & 0xFFFF))
            ipDelta &+= d
            tDelta &+= d
            ip.setBE32(IPv4Header.source, b.saddr)
        }
        if a.daddr != b.daddr {
            let d = change(UInt16(a.daddr >> 16), UInt16(b.daddr >> 16)) &+ change(UInt16(a.daddr & 0xFFFF), UInt16(b.daddr & 0xFFFF))
            ipDelta &+= d
            tDelta &+= d
            ip.setBE32(IPv4Header.destination, b.daddr)
        }
        if a.sport != b.sport, let t {
            tDelta &+= change(a.sport, b.sport)
            t.setBE16(0, b.sport)
        }
        if a.dport != b.dport, let t {
            tDelta &+= change(a.dport, b.dport)
            t.setBE16(2, b.dport)
        }
        if ipDelta != 0 {
            let c = ip.be16(IPv4Header.checksum)
            ip.setBE16(IPv4Header.checksum, ~foldChecksum(UInt32(~c) &+ ipDelta))
        }
        if tDelta != 0, let t {
            let offset = proto == 6 ? 16 : 6
            let c = t.be16(offset)
            if proto == 17 && c == 0 { return }   // UDP without a checksum
            var n = ~foldChecksum(UInt32(~c) &+ tDelta)
            if proto == 17 && n == 0 { n = 0xFFFF }
            t.setBE16(offset, n)
        }
    }

    public override func push(port: Int, _ batch: inout PacketBatch) {
        let now = router.clock.now()
        // The spec is looked up once per batch, not per packet.
        let spec = port < specs.count ? specs[port] : .drop
        dispatch(&batch) { process($0, spec: spec, now: now) }
    }

    public override func takeState(from old: Element) {
        guard let old = old as? IPRewriter else { return }
        table = old.table
        mappingFailures = old.mappingFailures
    }

    public override func addHandlers(_ h: inout HandlerSet) {
        h.read("table") { [unowned self] in self.liveTable(proto: nil) }
        h.read("tcp_table") { [unowned self] in self.liveTable(proto: 6) }
        h.read("udp_table") { [unowned self] in self.liveTable(proto: 17) }
        h.integer("table_size", get: { [unowned self] in self.table.count / 2 })
        h.integer("size", get: { [unowned self] in self.table.count / 2 })
        h.integer("mapping_failures", get: { [unowned self] in self.mappingFailures })
        h.integer("capacity", get: { [unowned self] in self.capacityLimit }, set: { [unowned self] n throws(ElementError) in
            guard n >= 1 else { throw ElementError("capacity must be positive") }
            self.capacityLimit = n
        })
        h.read("patterns") { [unowned self] in
            self.specs.compactMap { spec -> String? in
                if case .pattern(let p, let f, let r) = spec { return "\(p.description) \(f) \(r)\n" }
                return nil
            }.joined()
        }
        h.readWithParameter("lookup") { [unowned self] (text: String) throws(ElementError) in
            let w = ConfigText.words(text)
            guard w.count >= 4, let (sa, _) = IPv4Address.parse(w[0]), let sp = UInt16(w[1]), let (da, _) = IPv4Address.parse(w[2]), let dp = UInt16(w[3]) else {
                throw ElementError("expected 'SADDR SPORT DADDR DPORT [PROTO]'")
            }
            let proto: UInt8 = w.count > 4 ? (w[4] == "udp" || w[4] == "17" ? 17 : 6) : 6
            let m = self.table.find(FlowID(saddr: sa.value, sport: sp, daddr: da.value, dport: dp, proto: proto))
            guard m >= 0 else { return "" }
            let mapping = self.table.mappings[Int(m)]
            return "\(mapping.rewritten) [\(mapping.output)]"
        }
    }

    /// The live mappings, forward and reply, in Click's `(…) => (…) [port]` form.
    func liveTable(proto: UInt8?) -> String {
        var lines: [String] = []
        for f in table.forwardMappings {
            for i in [f, table.mappings[Int(f)].partner] {
                let m = table.mappings[Int(i)]
                if proto == nil || m.key.proto == proto { lines.append("\(m.key) => \(m.rewritten) [\(m.output)]") }
            }
        }
        return lines.map { $0 + "\n" }.joined()
    }
}

public final class TCPRewriter: IPRewriter {
    override var handlesUDP: Bool { false }
}

public final class UDPRewriter: IPRewriter {
}

import ClickLanguage
import ClickRuntime

/// An element that chooses the rewritten flow for each new flow of a rewriter input that
/// names it (RoundRobinIPMapper, SourceIPHashMapper), as Click's `IPMapper`.
public protocol IPMapper: Element {
    /// Checks the mapper's output ports against `rewriter`'s; an error message or nil.
    func check(for rewriter: IPRewriter) -> String?
    /// The rewritten flow for `flow` and the forward and reply outputs; nil drops the
    /// packet (a mapping failure). `replies` holds the rewriter's reply mappings.
    func rewrite(_ flow: FlowID, replies: FlowTable, random: inout RandomSource) -> (flow: FlowID, forwardOutput: Int, replyOutput: Int)?
}

/// IPRewriter(INPUTSPEC_0, ..., INPUTSPEC_N-1 [, *keywords* TCP_TIMEOUT, TCP_DONE_TIMEOUT,
/// TCP_NODATA_TIMEOUT, TCP_GUARANTEE, UDP_TIMEOUT, UDP_STREAMING_TIMEOUT, UDP_GUARANTEE,
/// TIMEOUT, GUARANTEE, REAP_INTERVAL, REAP_TIME, MAPPING_CAPACITY, CAPACITY, DST_ANNO,
/// REPLY_ANNO])
///
/// Rewrites TCP and UDP flows (NAPT, load balancing, redirection), keeping both directions
/// consistent, as Click's IPRewriter. Each input port has one INPUTSPEC, for packets of
/// flows not yet in the table: `drop` (or `discard`); `pass OUT` (also `passthrough`,
/// `nochange`: unchanged to OUT, no flow); `keep FOUT ROUT` (a flow that changes nothing,
/// its replies to ROUT); `pattern SADDR SPORT DADDR DPORT FOUT ROUT` or `pattern NAME
/// FOUT ROUT` (a pattern of IPRewriterPatterns); or the name of a mapper element. A new
/// flow's packets leave on FOUT rewritten, and the reply flow's on ROUT with the original
/// addresses back. A source port range tries the flow's own port first, then a random one
/// (`#`: the next in sequence; `?`: not the own port first), skipping ports whose reply
/// flow is in use. Checksums are updated incrementally. Packets that are not TCP or UDP,
/// later fragments and truncated headers are dropped unless the spec is `pass`. See also
/// TCPRewriter and UDPRewriter.
///
/// Flows: each flow is guaranteed for TCP_GUARANTEE (also GUARANTEE) or UDP_GUARANTEE
/// seconds after its last packet (default 5), then best effort until it expires. TCP flows
/// expire TCP_NODATA_TIMEOUT after the last packet (5 minutes), TCP_TIMEOUT (also
/// TIMEOUT: 24 hours) once data went both ways, TCP_DONE_TIMEOUT (4 minutes) once both
/// sides closed; UDP flows after UDP_TIMEOUT (5 minutes), UDP_STREAMING_TIMEOUT once three
/// packets went, one of them a reply. MAPPING_CAPACITY (also CAPACITY) bounds the flows,
/// or names another rewriter whose capacity and flows to share: a new flow beyond it
/// evicts the best-effort flow that expires first, and with none, is refused. Expired
/// flows are reaped every REAP_INTERVAL (also REAP_TIME; 15 minutes). DST_ANNO (default
/// true) sets the destination annotation to the new destination; REPLY_ANNO names an
/// annotation byte kept from a flow's first packet and restored on its replies.
///
/// Ports: N inputs (one per spec), any number of outputs, push.
///
/// Handlers: `tcp_table`, `udp_table` (read: the flows, one line per direction,
/// `(SADDR, SPORT, DADDR, DPORT) => (...) [FOUT ROUT] iINPUT expSECONDS`, a star on the
/// line's own output); `tcp_lookup` (read with `SADDR SPORT DADDR DPORT`: the rewritten
/// flow); `table_size`, `nmappings`, `mapping_failures`, `size`, `patterns` (read);
/// `capacity` (read/write); `clear` (write); for the inputs, `pattern0`, `pattern1`...
/// (read/write: one input's spec; writing replaces it and removes its flows).
public class IPRewriter: Element {
    public override var portCount: String { "1-/1-" }
    public override var processing: String { "h/h" }

    /// What an input does with packets of flows not in the table.
    enum Kind {
        case drop
        case pass
        case keep
        case pattern(RewritePattern)
        case mapper(any IPMapper)
    }

    /// One input's spec (Click's `IPRewriterInput`).
    struct Input {
        var kind: Kind = .drop
        var forwardOutput = 0
        var replyOutput = 0
        /// Flows this input made that are still live.
        var count = 0
        var failures = 0
    }

    var inputs: [Input] = []
    public internal(set) var table = FlowTable(capacity: 64)
    /// Per packet of the batch being pushed: the mapping looked up ahead, or -1.
    private var hints = UnsafeMutablePointer<Int32>.allocate(capacity: 64)
    private var hintCapacity = 64
    private var lookingAhead = false
    /// Tests turn the lookahead off to compare.
    var lookAheadEnabled = true

    deinit {
        hints.deallocate()
    }
    /// The expiry heaps, possibly shared with other rewriters (MAPPING_CAPACITY NAME).
    var heap = FlowHeap()
    var heapOwner: UInt16 = 0
    var capacityText: String?
    /// Every flow made so far (Click's `nmappings`), and every new flow refused.
    public internal(set) var mappingFailures = 0

    // Timeouts in nanoseconds. `timeouts` is Click's `_timeouts`: best effort and guarantee
    // for the element's main protocol (TCP's no-data timeout for IPRewriter and TCPRewriter).
    var timeouts: (bestEffort: Int64, guarantee: Int64) = (300 * second, 5 * second)
    var tcpDataTimeout: Int64 = 86_400 * second
    var tcpDoneTimeout: Int64 = 240 * second
    var udpTimeouts: (bestEffort: Int64, guarantee: Int64) = (300 * second, 5 * second)
    var udpStreamingTimeout: Int64 = 300 * second
    var reapInterval: Int64 = 900 * second
    var dstAnno = true
    /// The REPLY_ANNO byte offset, if any.
    var replyAnno: Int?
    var reaper: Timer?
    /// TCP flows whose sequence numbers move (FTPPortMapper), by forward mapping; such a
    /// flow's forward mapping has `Self.hasSequenceDeltas` in its `tcpState`.
    var sequenceDeltas: [Int32: SequenceDeltas] = [:]
    static let hasSequenceDeltas: UInt8 = 0x10

    static let second: Int64 = 1_000_000_000

    /// Which protocols this class rewrites as flows, and how.
    enum Flavor { case tcpAndUDP, tcpOnly, udpStyle, addresses, pairs, icmpPing }
    var flavor: Flavor { .tcpAndUDP }

    // MARK: Configuration

    public override func configure(_ args: inout Arguments) {
        readKeywords(&args)
        readBaseKeywords(&args)
        let texts = args.remaining()
        guard texts.count == ninputs else {
            args.error("need \(ninputs) arguments, one per input port")
            return
        }
        inputs = []
        for (i, text) in texts.enumerated() {
            do {
                inputs.append(try parseSpec(text))
            } catch {
                args.error("input spec \(i): \(error.message)")
                inputs.append(Input())
            }
        }
    }

    /// Reads the keywords of the rewriter class (before the ones every rewriter has).
    func readKeywords(_ args: inout Arguments) {
        if flavor == .tcpAndUDP {
            udpTimeouts.bestEffort = seconds(&args, "UDP_TIMEOUT") ?? udpTimeouts.bestEffort
            let streaming = seconds(&args, "UDP_STREAMING_TIMEOUT")
            udpTimeouts.guarantee = seconds(&args, "UDP_GUARANTEE") ?? udpTimeouts.guarantee
            udpStreamingTimeout = streaming ?? udpTimeouts.bestEffort
        }
        timeouts.bestEffort = seconds(&args, "TCP_NODATA_TIMEOUT") ?? timeouts.bestEffort
        timeouts.guarantee = seconds(&args, "TCP_GUARANTEE") ?? timeouts.guarantee
        tcpDataTimeout = seconds(&args, "TIMEOUT") ?? tcpDataTimeout
        tcpDataTimeout = seconds(&args, "TCP_TIMEOUT") ?? tcpDataTimeout
        tcpDoneTimeout = seconds(&args, "TCP_DONE_TIMEOUT") ?? tcpDoneTimeout
        readAnnotationKeywords(&args, destination: true)
    }

    /// DST_ANNO (where the class has it) and REPLY_ANNO.
    func readAnnotationKeywords(_ args: inout Arguments, destination: Bool) {
        if destination { dstAnno = args.keyword("DST_ANNO", .bool) ?? true }
        if let word = args.keyword("REPLY_ANNO", .word) {
            if let offset = annotationOffset(word, default: 0) { replyAnno = offset } else { args.error("expected annotation", keyword: "REPLY_ANNO") }
        }
    }

    /// The keywords every rewriter reads (Click's IPRewriterBase).
    func readBaseKeywords(_ args: inout Arguments) {
        if let c = args.keyword("CAPACITY", .raw) { capacityText = c }
        if let c = args.keyword("MAPPING_CAPACITY", .raw) { capacityText = c }
        timeouts.bestEffort = seconds(&args, "TIMEOUT") ?? timeouts.bestEffort
        timeouts.guarantee = seconds(&args, "GUARANTEE") ?? timeouts.guarantee
        reapInterval = seconds(&args, "REAP_INTERVAL") ?? reapInterval
        reapInterval = seconds(&args, "REAP_TIME") ?? reapInterval
        if let text = capacityText {
            if let n = IntegerValue.parse(text), n >= 0, n <= Int64(Int32.max) {
                heap.capacity = Int(n)
            } else if let other = router.element(named: text, relativeTo: self) as? IPRewriter {
                heap = other.heap
            } else {
                args.error("bad MAPPING_CAPACITY")
            }
        }
    }

    /// A timeout keyword in whole seconds (Click's SecondsArg), in nanoseconds.
    func seconds(_ args: inout Arguments, _ keyword: String) -> Int64? {
        args.keyword(keyword, .wholeSeconds)
    }

    struct SpecError: Error { var message: String }

    /// An input spec, as Click's `parse_input_spec` reads it.
    func parseSpec(_ text: String) throws(SpecError) -> Input {
        var words = ConfigText.words(text).map(ConfigText.unquote)
        guard !words.isEmpty else { throw SpecError(message: "empty argument") }
        let word = words.removeFirst()
        var input = Input()
        switch word {
        case "pass", "passthrough", "nochange":
            var out = 0
            if !words.isEmpty {
                guard words.count == 1, let n = Int(words[0]) else { throw SpecError(message: "syntax error, expected 'nochange [OUTPUT]'") }
                out = n
            }
            guard out >= 0 && out < noutputs else { throw SpecError(message: "output port out of range") }
            input.kind = .pass
            input.forwardOutput = out
        case "keep":
            input.kind = .keep
            (input.forwardOutput, input.replyOutput) = try parsePorts(words)
        case "drop", "discard":
            guard words.isEmpty else { throw SpecError(message: "syntax error, expected '\(word)'") }
        case "pattern", "xpattern":
            guard words.count > 2 else { throw SpecError(message: "syntax error") }
            switch RewritePattern.parse(Array(words.dropLast(2)), context: configurationContext, named: namedPattern) {
            case .failure(let e): throw SpecError(message: e.description)
            case .success(let p): input.kind = .pattern(p)
            }
            (input.forwardOutput, input.replyOutput) = try parsePorts(Array(words.suffix(2)))
        default:
            guard let e = router.element(named: word, relativeTo: self) else { throw SpecError(message: "unknown specification") }
            guard words.isEmpty else { throw SpecError(message: "syntax error, expected element name") }
            guard let mapper = e as? any IPMapper else { throw SpecError(message: "element is not an IPMapper") }
            input.kind = .mapper(mapper)
        }
        return input
    }

    /// `FOUT ROUT`, both outputs of this element.
    func parsePorts(_ words: [String]) throws(SpecError) -> (Int, Int) {
        guard words.count == 2, let f = Int(words[0]) else { throw SpecError(message: "bad forward port") }
        guard let r = Int(words[1]) else { throw SpecError(message: "bad reply port") }
        guard f >= 0, f < noutputs, r >= 0, r < noutputs else { throw SpecError(message: "output port out of range") }
        return (f, r)
    }

    /// A pattern named by an IPRewriterPatterns element.
    func namedPattern(_ name: String) -> RewritePattern? {
        router.elements.lazy.compactMap { ($0 as? IPRewriterPatterns)?.patterns[name] }.first
    }

    /// The values this element's arguments are read in (for address names).
    var configurationContext: ValueContext { ValueContext(elementName: name, addressNames: router.addressNames) }

    public override func initialize() throws(ElementError) {
        heapOwner = heap.register(self)
        var errors: [String] = []
        for (i, input) in inputs.enumerated() {
            if case .mapper(let m) = input.kind, let e = m.check(for: self) { errors.append("input spec \(i): \(e)") }
        }
        if !errors.isEmpty { throw ElementError(errors.joined(separator: "\n")) }
        let t = makeTimer()
        reaper = t
        if reapInterval > 0 { t.schedule(after: reapInterval) }
    }

    public override func cleanup() { reaper?.unschedule() }

    public override func runTimer(_ timer: Timer) {
        reap(now: routerNow())
        if reapInterval > 0 { timer.schedule(after: reapInterval) }
    }

    // MARK: Flows

    /// Removes the flows expired by `now` (what the REAP_INTERVAL timer does).
    public func reap(now: Int64) {
        heap.shrink(now: now, clearAll: false)
    }

    /// The timeout of a flow that is not guaranteed (Click's tcp_flow_timeout and
    /// udp_flow_timeout), by its protocol and progress.
    func flowTimeout(_ m: FlowMapping) -> Int64 {
        switch flavor {
        case .addresses, .pairs, .icmpPing: return timeouts.bestEffort
        case .udpStyle: return m.tcpState > 6 ? udpStreamingTimeout : timeouts.bestEffort
        case .tcpAndUDP, .tcpOnly:
            if m.key.proto == 6 {
                if m.tcpState & 3 == 3 { return tcpDoneTimeout }
                return m.tcpState & 12 == 12 ? tcpDataTimeout : timeouts.bestEffort
            }
            return m.tcpState > 6 ? udpStreamingTimeout : udpTimeouts.bestEffort
        }
    }

    /// The guarantee for flows of `proto`.
    @inline(__always) func guarantee(_ proto: UInt8) -> Int64 {
        flavor == .tcpAndUDP && proto != 6 ? udpTimeouts.guarantee : timeouts.guarantee
    }

    /// When a guaranteed flow expires once its guarantee runs out.
    func bestEffortExpiry(_ flow: Int32) -> Int64 {
        let m = table.mappings[Int(flow)]
        return m.expiry.saturatingAdd(flowTimeout(m)).saturatingSubtract(guarantee(m.key.proto))
    }

    /// Removes a flow (both directions), given its forward mapping.
    public func destroyFlow(_ flow: Int32) {
        let m = table.mappings[Int(flow)]
        guard m.inUse else { return }
        heap.forget(table: table, flow: flow)
        let input = Int(m.input)
        if input < inputs.count { inputs[input].count -= 1 }
        if m.tcpState & Self.hasSequenceDeltas != 0 { sequenceDeltas[flow] = nil }
        table.remove(flow)
    }

    /// Adds the flow `key` → `rewritten` made by `input` (Click's add_flow and store_flow);
    /// the forward mapping, or nil when refused.
    func addFlow(_ key: FlowID, _ rewritten: FlowID, input: Int, now: Int64) -> Int32? {
        let spec = inputs[input]
        guard spec.forwardOutput < noutputs, spec.replyOutput < noutputs else { return nil }
        // A flow whose reply flow is taken replaces the flow that had it.
        let old = table.find(rewritten.reversed)
        if old >= 0 { destroyFlow(table.mappings[Int(old)].isReply ? table.mappings[Int(old)].partner : old) }
        if table.isFull { table.grow(toCapacity: table.mappingCapacity * 2) }
        let g = guarantee(key.proto)
        let expiry = now.saturatingAdd(g > 0 ? g : (flavor == .tcpAndUDP && key.proto != 6 ? udpTimeouts.bestEffort : timeouts.bestEffort))
        guard let f = table.add(forward: key, rewritten: rewritten, output: spec.forwardOutput, replyOutput: spec.replyOutput, expiry: expiry) else { return nil }
        if rewritten.reversed == key { table.hide(f) }
        let m = table.mappings + Int(f)
        m.pointee.input = Int16(input)
        m.pointee.guaranteed = g > 0
        heap.insert(owner: heapOwner, table: table, flow: f)
        inputs[input].count += 1
        if heap.size > heap.capacity, heap.makeRoom(forNew: f, of: self, now: now) {
            inputs[input].failures += 1
            return nil
        }
        return f
    }

    /// What input `port`'s spec makes of a new flow: a forward mapping, or the output for
    /// the packet (-1: dropped).
    func newFlow(_ key: FlowID, port: Int, now: Int64) -> (mapping: Int32?, output: Int) {
        guard port < inputs.count else { return (nil, -1) }
        var rewritten: FlowID
        switch inputs[port].kind {
        case .drop: return (nil, -1)
        case .pass: return (nil, inputs[port].forwardOutput)
        case .keep: rewritten = key
        case .pattern(let p):
            guard let r = p.rewrite(key, replies: table, random: &router.random) else {
                inputs[port].failures += 1
                return (nil, -1)
            }
            rewritten = r
        case .mapper(let mapper):
            guard let (r, f, o) = mapper.rewrite(key, replies: table, random: &router.random) else {
                inputs[port].failures += 1
                return (nil, -1)
            }
            rewritten = r
            inputs[port].forwardOutput = f
            inputs[port].replyOutput = o
        }
        guard finishRewritten(key, &rewritten) else { return (nil, -1) }
        return (addFlow(key, rewritten, input: port, now: now), -1)
    }

    /// Lets a class adjust or refuse a rewritten flow before it is added (ICMPPingRewriter's
    /// identifiers, IPAddrRewriter's address-only flows).
    func finishRewritten(_ key: FlowID, _ rewritten: inout FlowID) -> Bool { true }

    // MARK: Packets

    /// The table key of a packet's flow (UDPRewriter's keys have no protocol: 17 for all).
    @inline(__always) static func flowKey(_ ip: UnsafeMutableRawPointer, _ t: UnsafeMutableRawPointer, proto: UInt8) -> FlowID {
        FlowID(saddr: ip.be32(IPv4Header.source), sport: t.be16(0), daddr: ip.be32(IPv4Header.destination), dport: t.be16(2), proto: proto)
    }

    /// The output for `p` arriving on `port` (rewritten in place), or -1. `hint` is the
    /// mapping a lookup before the batch found for it (-1: none), used only if it still
    /// holds the flow.
    func process(_ p: Packet, port: Int, now: Int64, hint: Int32 = -1) -> Int {
        guard let ip = p.networkHeader, p.networkLength >= 20 else { return passOrDrop(port) }
        let proto = ip.byte(IPv4Header.proto)
        let transportLength = p.length - (p.transportHeaderOffset ?? p.length)
        let handled = proto == 6 || (proto == 17 && flavor != .tcpOnly)
        guard handled, ip.be16(IPv4Header.fragment) & 0x1FFF == 0, transportLength >= 8, let t = p.transportHeader else {
            return passOrDrop(port)
        }
        // UDPRewriter keeps one table for TCP and UDP, as Click's (its flow IDs have no
        // protocol): a TCP flow and a UDP flow on the same ports are one mapping.
        let key = Self.flowKey(ip, t, proto: flavor == .udpStyle ? 17 : proto)
        var m = hint
        if m < 0 || !table.holds(m, key) { m = table.find(key) }
        if m < 0 {
            let (made, output) = newFlow(key, port: port, now: now)
            guard let made else { return output }
            m = made
            if let replyAnno { table.mappings[Int(m)].replyAnnotation = p.annotation8(replyAnno) }
        }
        let mapping = table.mappings[Int(m)]
        let isReply = mapping.isReply
        let flow = isReply ? mapping.partner : m
        // TCP's header counts from 18 bytes on (Click's TCPFlow), UDP's from 8.
        let fullHeader = proto != 6 || transportLength >= 18
        rewrite(ip, fullHeader ? t : nil, from: mapping.key, to: mapping.rewritten, proto: proto)
        annotate(p, mapping, flow: flow)
        let f = table.mappings + Int(flow)
        if proto == 6 && flavor != .udpStyle {
            if fullHeader { f.pointee.tcpState = Self.tcpProgress(f.pointee.tcpState, ip, t, reply: isReply) }
            if fullHeader, f.pointee.tcpState & Self.hasSequenceDeltas != 0, transportLength >= Int(t.byte(12) >> 4) << 2 {
                applySequenceDeltas(t, flow: flow, reply: isReply, transportLength: transportLength)
            }
        } else {
            if isReply { f.pointee.tcpState |= 1 }
            if f.pointee.tcpState < 6 { f.pointee.tcpState += 2 }
        }
        refresh(flow, proto: proto, now: now)
        return Int(mapping.output)
    }

    /// Shifts a TCP packet's sequence numbers by its flow's deltas (Click's TCPFlow::apply).
    func applySequenceDeltas(_ t: UnsafeMutableRawPointer, flow: Int32, reply: Bool, transportLength: Int) {
        guard var deltas = sequenceDeltas[flow], deltas.generation == table.mappings[Int(flow)].generation else {
            sequenceDeltas[flow] = nil
            table.mappings[Int(flow)].tcpState &= ~Self.hasSequenceDeltas
            return
        }
        deltas.apply(t, direction: reply ? 1 : 0, transportLength: transportLength)
        sequenceDeltas[flow] = deltas
    }

    /// The mapping flow `key` has (forward or reply), or nil (Click's `get_entry` with no input).
    public func existingMapping(_ key: FlowID) -> Int32? {
        let m = table.find(FlowID(saddr: key.saddr, sport: key.sport, daddr: key.daddr, dport: key.dport, proto: flavor == .udpStyle ? 17 : key.proto))
        return m >= 0 ? m : nil
    }

    /// The mapping flow `key` has, or one made for it as if its first packet arrived on
    /// `input` (Click's `get_entry`); nil when the input's spec makes none.
    public func mapping(for key: FlowID, input: Int) -> Int32? {
        if let m = existingMapping(key) { return m }
        return newFlow(key, port: input, now: routerNow()).mapping
    }

    /// From sequence number `trigger` on, the TCP flow of mapping `m` carries `delta` more
    /// bytes in `m`'s direction: later sequence numbers that way, and acknowledgements the
    /// other way, are shifted to match. False when the flow is not TCP or `trigger` is
    /// older than the last.
    @discardableResult
    public func addSequenceDelta(mapping m: Int32, trigger: UInt32, delta: Int32) -> Bool {
        let mapping = table.mappings[Int(m)]
        guard mapping.key.proto == 6, flavor == .tcpAndUDP || flavor == .tcpOnly else { return false }
        let flow = mapping.isReply ? mapping.partner : m
        let generation = table.mappings[Int(flow)].generation
        var deltas = sequenceDeltas[flow].flatMap { $0.generation == generation ? $0 : nil } ?? SequenceDeltas(generation: generation)
        guard deltas.add(direction: mapping.isReply ? 1 : 0, trigger: trigger, delta: delta) else { return false }
        sequenceDeltas[flow] = deltas
        table.mappings[Int(flow)].tcpState |= Self.hasSequenceDeltas
        return true
    }

    /// After a packet: guaranteed for the guarantee, or best effort for the flow's timeout.
    @inline(__always) func refresh(_ flow: Int32, proto: UInt8, now: Int64) {
        let g = guarantee(proto)
        if g > 0 {
            heap.change(owner: heapOwner, table: table, flow: flow, guaranteed: true, expiry: now.saturatingAdd(g))
        } else {
            heap.change(owner: heapOwner, table: table, flow: flow, guaranteed: false, expiry: now.saturatingAdd(flowTimeout(table.mappings[Int(flow)])))
        }
    }

    /// The destination and reply annotations of a rewritten packet.
    @inline(__always) func annotate(_ p: Packet, _ mapping: FlowMapping, flow: Int32) {
        if dstAnno { p.destinationIPAnnotation = mapping.rewritten.daddr }
        if mapping.isReply, let replyAnno { p.setAnnotation8(replyAnno, table.mappings[Int(flow)].replyAnnotation) }
    }

    /// Click's TCP flow flags: 1/2 forward/reply closed (FIN; RST closes both), 4/8 data seen
    /// forward/reply.
    static func tcpProgress(_ state: UInt8, _ ip: UnsafeMutableRawPointer, _ t: UnsafeMutableRawPointer, reply: Bool) -> UInt8 {
        var s = state
        let flags = t.byte(13)
        let headers = (Int(ip.byte(0) & 0x0F) + Int(t.byte(12) >> 4)) << 2
        let payload = headers < Int(ip.be16(IPv4Header.totalLength))
        let direction: UInt8 = reply ? 1 : 0
        if flags & 0x04 != 0 {
            s |= 3
        } else if flags & 0x01 != 0 {
            s |= 1 << direction
        } else if flags & 0x02 != 0 || payload {
            s &= ~(1 << direction)
        }
        if payload { s |= 4 << direction }
        return s
    }

    @inline(__always) func passOrDrop(_ port: Int) -> Int {
        guard port < inputs.count, case .pass = inputs[port].kind else { return -1 }
        return inputs[port].forwardOutput
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
        let now = routerNow()
        let count = batch.count
        // A packet this push sends on may come back to another input before the batch is
        // done (IPMirror loops): that push goes without looking ahead, leaving `hints`.
        guard count > 1, looksAhead, lookAheadEnabled, !lookingAhead else {
            dispatch(&batch) { process($0, port: port, now: now) }
            return
        }
        lookingAhead = true
        defer { lookingAhead = false }
        // With many flows every packet misses the cache twice (its table slot, then its
        // mapping); looked up ahead for the whole batch, the misses overlap: first every
        // slot is fetched, then every mapping, then the packets are rewritten.
        if count > hintCapacity {
            hints.deallocate()
            hintCapacity = count
            hints = .allocate(capacity: count)
        }
        let table = self.table
        let hints = self.hints
        let udpStyle = flavor == .udpStyle
        for i in 0..<count {
            hints[i] = -1
            guard let (ip, t, proto) = Self.flowHeaders(batch[i]) else { continue }
            table.prefetchSlot(Self.flowKey(ip, t, proto: udpStyle ? 17 : proto))
        }
        for i in 0..<count {
            guard let (ip, t, proto) = Self.flowHeaders(batch[i]) else { continue }
            let m = table.find(Self.flowKey(ip, t, proto: udpStyle ? 17 : proto))
            hints[i] = m
            if m >= 0 { table.prefetchMapping(m) }
        }
        var next = 0
        dispatch(&batch) { p in
            let hint = hints[next]
            next += 1
            return process(p, port: port, now: now, hint: hint)
        }
    }

    /// Whether push looks flows up ahead with flowKey (subclasses keyed otherwise say no).
    var looksAhead: Bool { true }

    /// The network and transport headers and protocol of a packet that may have a flow,
    /// for looking ahead; process() makes the full checks.
    @inline(__always) static func flowHeaders(_ p: Packet) -> (UnsafeMutableRawPointer, UnsafeMutableRawPointer, UInt8)? {
        guard let ip = p.networkHeader, p.networkLength >= 28, let t = p.transportHeader else { return nil }
        return (ip, t, ip.byte(IPv4Header.proto))
    }

    public override func takeState(from old: Element) {
        guard let old = old as? IPRewriter, type(of: old) == type(of: self), old.inputs.count == inputs.count else { return }
        table = old.table
        heap = old.heap
        heap.replaceOwner(old, with: self)
        heapOwner = heap.register(self)
        mappingFailures = old.mappingFailures
        for i in inputs.indices {
            inputs[i].count = old.inputs[i].count
            inputs[i].failures = old.inputs[i].failures
        }
    }

    // MARK: ICMP errors

    /// The mapping a reply to the packet quoted in an ICMP error would use (Click's
    /// `get_entry` with `get_entry_reply`): `search` is the quoted flow reversed.
    func replyEntry(for search: FlowID) -> FlowMapping? {
        var search = search
        if flavor == .udpStyle, search.proto == 6 { search.proto = 17 }
        let m = table.find(search)
        return m >= 0 ? table.mappings[Int(m)] : nil
    }

    // MARK: Handlers

    public override func addHandlers(_ h: inout HandlerSet) {
        addTableHandlers(&h)
        h.integer("table_size", get: { [unowned self] in self.inputs.reduce(0) { $0 + $1.count } })
        h.integer("nmappings", get: { [unowned self] in self.inputs.reduce(0) { $0 + $1.count } })
        h.integer("mapping_failures", get: { [unowned self] in self.inputs.reduce(0) { $0 + $1.failures } })
        h.integer("size", get: { [unowned self] in self.heap.size })
        h.readWrite("capacity", read: { [unowned self] in String(self.heap.capacity) }, write: { [unowned self] (text: String) throws(ElementError) in
            guard let n = IntegerValue.parse(text.trimmingCharacters()), n >= 0, n <= Int64(Int32.max) else {
                throw ElementError("CAPACITY: expected integer")
            }
            self.heap.capacity = Int(n)
            self.heap.shrink(now: self.routerNow(), clearAll: false)
        })
        h.write("clear") { [unowned self] (_: String) throws(ElementError) in
            self.heap.shrink(now: self.routerNow(), clearAll: true)
        }
        h.read("patterns") { [unowned self] in self.inputs.indices.map { self.describeInput($0) }.joined() }
        for i in 0..<ninputs {
            h.readWrite("pattern\(i)", read: { [unowned self] in self.describeInput(i) }, write: { [unowned self] (text: String) throws(ElementError) in
                try self.replaceInput(i, with: text)
            })
        }
    }

    /// The flow tables: `tcp_table` and `udp_table`, or `table`; and the lookup handler.
    func addTableHandlers(_ h: inout HandlerSet) {
        h.read("tcp_table") { [unowned self] in self.unparseTable { $0.proto == 6 } }
        h.read("udp_table") { [unowned self] in self.unparseTable { $0.proto != 6 } }
        h.readWithParameter("tcp_lookup") { [unowned self] (text: String) throws(ElementError) in try self.lookup(text) }
    }

    /// One input's line of `patterns`: the pattern, `<drop>`, `<nochange>`, `<keep>` or
    /// `<mapper>`, then ` [COUNT]` when it has live flows.
    func describeInput(_ i: Int) -> String {
        guard i < inputs.count else { return "" }
        var s: String
        switch inputs[i].kind {
        case .drop: s = "<drop>"
        case .pass: s = "<nochange>"
        case .keep: s = "<keep>"
        case .pattern(let p): s = p.description
        case .mapper: s = "<mapper>"
        }
        if inputs[i].count > 0 { s += " [\(inputs[i].count)]" }
        return s + "\n"
    }

    /// Writing `patternN`: a new spec for input N; the flows it made go.
    func replaceInput(_ i: Int, with text: String) throws(ElementError) {
        let input: Input
        do {
            input = try parseSpec(text)
        } catch {
            throw ElementError("input spec \(i): \(error.message)")
        }
        for f in table.forwardMappings where Int(table.mappings[Int(f)].input) == i { destroyFlow(f) }
        inputs[i] = input
    }

    /// `lookup SADDR SPORT DADDR DPORT`: the rewritten flow of that flow, or nothing.
    func lookup(_ text: String, proto: UInt8 = 6) throws(ElementError) -> String {
        let w = ConfigText.words(text)
        guard w.count == 4 else { throw ElementError("expected 'SADDR SPORT DADDR DPORT'") }
        guard let sa = ValueType<IPv4Address>.ipv4Address.parse(w[0], configurationContext) else { throw ElementError("SADDR: expected IP address") }
        guard let sp = UInt16(w[1]) else { throw ElementError("SPORT: expected port number") }
        guard let da = ValueType<IPv4Address>.ipv4Address.parse(w[2], configurationContext) else { throw ElementError("DADDR: expected IP address") }
        guard let dp = UInt16(w[3]) else { throw ElementError("DPORT: expected port number") }
        let m = table.find(FlowID(saddr: sa.value, sport: sp, daddr: da.value, dport: dp, proto: proto))
        guard m >= 0 else { return "" }
        let r = table.mappings[Int(m)].rewritten
        return "\(IPv4Address(r.saddr)) \(r.sport) \(IPv4Address(r.daddr)) \(r.dport)"
    }

    /// The live flows, each direction on its line, in Click's form.
    func unparseTable(_ include: (FlowID) -> Bool) -> String {
        let now = routerNow()
        var s = ""
        for f in table.forwardMappings where include(table.mappings[Int(f)].key) {
            for i in [f, table.mappings[Int(f)].partner] {
                var seq = ""
                if let d = sequenceDeltas[f]?.transitions.first?.delta(i == f ? 0 : 1), d != 0 { seq = " seq " + (d > 0 ? "+" : "") + String(d) }
                s += unparseFlow(table.mappings[Int(i)]) + seq + unparsePorts(flow: f, reply: i != f, now: now) + "\n"
            }
        }
        return s
    }

    /// `(SADDR, SPORT, DADDR, DPORT) => (...)`.
    func unparseFlow(_ m: FlowMapping) -> String { "\(m.key) => \(m.rewritten)" }

    /// ` [FOUT ROUT] iINPUT expSECONDS`, a star on the direction of this line.
    func unparsePorts(flow f: Int32, reply: Bool, now: Int64) -> String {
        let m = table.mappings[Int(f)]
        let replyOutput = table.mappings[Int(m.partner)].output
        var expiry = m.expiry
        if m.guaranteed { expiry = bestEffortExpiry(f) }
        let seconds = expiry.saturatingAdd(Self.second / 2).saturatingSubtract(now) / Self.second
        return " [\(reply ? "" : "*")\(m.output) \(reply ? "*" : "")\(replyOutput)] i\(m.input) exp\(seconds)"
    }
}

/// TCPRewriter(INPUTSPEC_0, ..., INPUTSPEC_N-1 [, *keywords* TCP_TIMEOUT, TCP_DONE_TIMEOUT,
/// TCP_NODATA_TIMEOUT, TCP_GUARANTEE, TIMEOUT, GUARANTEE, REAP_INTERVAL, REAP_TIME,
/// MAPPING_CAPACITY, CAPACITY, DST_ANNO, REPLY_ANNO])
///
/// IPRewriter for TCP alone, as Click's TCPRewriter: the same input specs, flows and
/// keywords (see IPRewriter); other packets follow `pass` or are dropped.
///
/// Ports: N inputs, any number of outputs, push.
///
/// Handlers: `table` (read: the flows); `lookup` (read with `SADDR SPORT DADDR DPORT`);
/// `table_size`, `nmappings`, `mapping_failures`, `size`, `patterns` (read); `capacity`
/// (read/write); `clear` (write); for the inputs, `pattern0`, `pattern1`... (read/write).
public final class TCPRewriter: IPRewriter {
    override var flavor: Flavor { .tcpOnly }

    override func addTableHandlers(_ h: inout HandlerSet) {
        h.read("table") { [unowned self] in self.unparseTable { _ in true } }
        h.readWithParameter("lookup") { [unowned self] (text: String) throws(ElementError) in try self.lookup(text) }
    }
}

/// UDPRewriter(INPUTSPEC_0, ..., INPUTSPEC_N-1 [, *keywords* UDP_TIMEOUT, TIMEOUT,
/// UDP_STREAMING_TIMEOUT, STREAMING_TIMEOUT, UDP_GUARANTEE, GUARANTEE, REAP_INTERVAL,
/// REAP_TIME, MAPPING_CAPACITY, CAPACITY, DST_ANNO, REPLY_ANNO])
///
/// IPRewriter with UDP's flows for TCP and UDP alike, as Click's UDPRewriter (see
/// IPRewriter): flows are guaranteed for UDP_GUARANTEE (also GUARANTEE; default 5)
/// seconds after each packet and expire UDP_TIMEOUT (also TIMEOUT; 5 minutes) after it,
/// or UDP_STREAMING_TIMEOUT (also STREAMING_TIMEOUT) once three packets went, one a reply.
///
/// Ports: N inputs, any number of outputs, push.
///
/// Handlers: `table` (read: the flows); `table_size`, `nmappings`, `mapping_failures`,
/// `size`, `patterns` (read); `capacity` (read/write); `clear` (write); for the inputs,
/// `pattern0`, `pattern1`... (read/write).
public final class UDPRewriter: IPRewriter {
    override var flavor: Flavor { .udpStyle }

    override func readKeywords(_ args: inout Arguments) {
        readAnnotationKeywords(&args, destination: true)
        timeouts.bestEffort = seconds(&args, "UDP_TIMEOUT") ?? timeouts.bestEffort
        timeouts.bestEffort = seconds(&args, "TIMEOUT") ?? timeouts.bestEffort
        var streaming = seconds(&args, "UDP_STREAMING_TIMEOUT")
        streaming = seconds(&args, "STREAMING_TIMEOUT") ?? streaming
        timeouts.guarantee = seconds(&args, "UDP_GUARANTEE") ?? timeouts.guarantee
        udpStreamingTimeout = streaming ?? timeouts.bestEffort
    }

    override func addTableHandlers(_ h: inout HandlerSet) {
        h.read("table") { [unowned self] in self.unparseTable { _ in true } }
    }
}

import ClickLanguage
import ClickRuntime

/// ICMPError(SRC, TYPE [, CODE, *keywords* BADADDRS, MTU, PMTU, SET_FIX_ANNO])
///
/// Turns each input packet (an IP packet, network header set) into an ICMP error message
/// about it, from SRC: TYPE is a number or `unreachable`, `sourcequench`, `redirect`,
/// `timeexceeded`, `parameterproblem`; CODE a number or `net`, `host`, `protocol`, `port`,
/// `needfrag`, `transit`, `reassembly`, `erroratptr`, `missingopt`, `length`. The message
/// carries as much of the offending packet as fits in MTU bytes (default 576, RFC 1812
/// 4.3.2.3), with TTL 200 and IP identifiers counted from 1, as Click's. No error is sent about
/// an ICMP error, a later fragment, a link broadcast, a packet to a broadcast/multicast address
/// (including BADADDRS) or from one that cannot answer (net 0, 127, class E), nor a redirect
/// about a source-routed packet; other errors about one carry the route reversed (RFC 1812
/// 4.3.2.6). Redirects take the gateway from the destination annotation;
/// parameter problems the pointer from the ICMP_PARAMPROB annotation; "needfrag" the MTU
/// (PMTU). The FIX_IP_SRC annotation is set so that FixIPSrc can correct the source.
///
/// Ports: 1 input, 1 output, push.
public final class ICMPError: Element {
    public override var portCount: String { "1/1" }
    public override var processing: String { "h/h" }

    var source = IPv4Address(0)
    var type: UInt8 = 0
    var code: UInt8 = 0
    var badAddresses: [UInt32] = []
    var mtu = 576
    var pmtu = 0
    var useFixAnno = true

    /// Click's ICMP error types (`elements/ip/ipnameinfo.cc`) and each type's code names.
    static let errorTypes: Set<UInt8> = [3, 4, 5, 11, 12]
    static let codes: [UInt8: [String: UInt8]] = [
        3: ["net": 0, "host": 1, "protocol": 2, "port": 3, "needfrag": 4, "srcroutefail": 5, "netunknown": 6, "hostunknown": 7,
            "isolated": 8, "netprohibited": 9, "hostprohibited": 10, "tosnet": 11, "toshost": 12, "filterprohibited": 13,
            "hostprecedence": 14, "precedencecutoff": 15],
        5: ["net": 0, "host": 1, "tosnet": 2, "toshost": 3],
        11: ["transit": 0, "reassembly": 1],
        12: ["erroratptr": 0, "missingopt": 1, "length": 2],
    ]

    public override func configure(_ args: inout Arguments) {
        source = args.mandatory("SRC", .ipv4Address) ?? source
        let t = args.mandatory("TYPE", .word) ?? ""
        let c = args.positional("CODE", .word) ?? "0"
        if let list = args.positional("BADADDRS", .string) {
            for w in ConfigText.words(list) {
                if let (a, _) = IPv4Address.parse(w) { badAddresses.append(a.value) } else { args.error("bad address '\(w)'", keyword: "BADADDRS") }
            }
        }
        mtu = args.keyword("MTU", .unsignedInteger) ?? 576
        pmtu = args.keyword("PMTU", .unsignedInteger) ?? 0
        useFixAnno = args.keyword("SET_FIX_ANNO", .bool) ?? true
        guard args.succeeded else { return }
        guard let typeNumber = FilterNames.icmpTypes[t].map(Int.init) ?? Int(t) else {
            args.error("TYPE: expected ICMP type")
            return
        }
        guard (0...255).contains(typeNumber) else { return args.error("ICMP type must be between 0 and 255") }
        guard Self.errorTypes.contains(UInt8(typeNumber)) else { return args.error("ICMP type \(typeNumber) is not an error type") }
        type = UInt8(typeNumber)
        guard let codeNumber = Self.codes[type]?[c].map(Int.init) ?? Int(c), (0...255).contains(codeNumber) else {
            return args.error("argument 2 takes ICMP code (integer between 0 and 255)")
        }
        code = UInt8(codeNumber)
        if mtu < 28 + 20 { args.error("MTU too small") }
    }

    /// The IP identification of the errors: one counter for every ICMPError of the router,
    /// starting at 1, as Click's static counter is for its driver.
    final class Identifiers {
        var next: UInt16 = 1
    }

    var identifiers = Identifiers()

    public override func initialize() throws(ElementError) {
        identifiers = router.routerShared(Identifiers.self) { Identifiers() }
    }

    func nextIdentification() -> UInt16 {
        defer { identifiers.next &+= 1 }
        return identifiers.next
    }

    /// Click's `unicast`: not the limited broadcast, not multicast, not in BADADDRS.
    func isUnicast(_ a: UInt32) -> Bool {
        a != 0xFFFF_FFFF && a >> 28 != 0xE && !badAddresses.contains(a)
    }

    /// Click's `valid_source`: unicast, and not net 0, net 127 or class E.
    func isValidSource(_ a: UInt32) -> Bool {
        let net = a >> 24
        return isUnicast(a) && net != 0 && net != 127 && net & 0xF0 != 0xF0
    }

    /// Where a loose or strict source route option whose pointer is sane starts in the
    /// `length` option bytes after the fixed header (Click's `valid_source_route`).
    func sourceRoute(_ ip: UnsafeMutableRawPointer, headerLength: Int) -> Int? {
        var o = 20
        while o < headerLength {
            let kind = ip.byte(o)
            if kind == 1 { o += 1; continue }
            if kind == 0 || o + 1 >= headerLength { return nil }
            let length = Int(ip.byte(o + 1))
            if length < 2 || o + length > headerLength { return nil }
            if (kind == 131 || kind == 137), length >= 3 {
                let pointer = Int(ip.byte(o + 2))
                if pointer >= 4, pointer % 4 == 0, pointer <= length + 1 { return o }
            }
            o += length
        }
        return nil
    }

    /// The error packet for `p`, or nil when none should be sent: Click's checks in its
    /// order (RFC 1812 4.3.2.7), then the message.
    func makeError(for p: Packet) -> Packet? {
        guard let ip = p.networkHeader, p.networkLength >= 20 else { return nil }
        let hl = Int(ip.byte(0) & 0x0F) << 2
        // No errors about ICMP errors (Click checks `hlen + 4` against the whole packet).
        if ip.byte(IPv4Header.proto) == 1 {
            if hl + 4 > p.length || hl >= p.networkLength || Self.errorTypes.contains(ip.byte(hl)) { return nil }
        }
        let src = ip.be32(IPv4Header.source), dst = ip.be32(IPv4Header.destination)
        if !isUnicast(dst) { return nil }
        let t = p.meta.pointee.packetType
        if t == PacketType.broadcast || t == PacketType.multicast { return nil }
        if !isValidSource(src) { return nil }
        if ip.be16(IPv4Header.fragment) & 0x1FFF != 0 { return nil }
        var route = sourceRoute(ip, headerLength: min(hl, p.networkLength))
        if let r = route {
            // No redirects for source-routed packets (5.2.7.2); a parameter problem about
            // the route itself ignores it (4.3.2.6).
            if type == 5 { return nil }
            let pointer = Int(p.annotation8(Annotation.icmpParameterProblem))
            if type == 12, code == 0, r <= pointer, pointer < r + Int(ip.byte(r + 1)) { route = nil }
        }
        // The reversed source route goes into the error's header (4.3.2.6).
        var optionLength = 0
        if let r = route { optionLength = Int(ip.byte(r + 2)) - 1 }
        let headerLength = (20 + optionLength + 3) & ~3
        // RFC 1812 4.3.2.3: as much of the packet as fits in MTU bytes (576 by default).
        let quoted = max(0, min(p.networkLength, mtu - headerLength - 8))
        let total = headerLength + 8 + quoted
        guard let q = pool.make() else { return nil }
        guard q.put(total) else {
            q.kill()
            return nil
        }
        let d = q.data
        d.initializeMemory(as: UInt8.self, repeating: 0, count: headerLength + 8)
        d.setByte(0, 0x40 | UInt8(headerLength >> 2))
        d.setBE16(IPv4Header.totalLength, UInt16(total))
        d.setBE16(IPv4Header.id, nextIdentification())
        d.setByte(IPv4Header.ttl, 200)
        d.setByte(IPv4Header.proto, 1)
        d.setBE32(IPv4Header.source, source.value)
        d.setBE32(IPv4Header.destination, src)
        if let r = route {
            d.setByte(20, ip.byte(r))
            d.setByte(21, UInt8(optionLength))
            d.setByte(22, 4)
            var from = r + Int(ip.byte(r + 2)) - 5, to = 23
            while from >= r + 3 {
                (d + to).copyMemory(from: ip + from, byteCount: 4)
                from -= 4
                to += 4
            }
        }
        setIPChecksum(d)
        let icmp = d + headerLength
        icmp.setByte(0, type)
        icmp.setByte(1, code)
        if type == 5 {
            icmp.setBE32(4, p.destinationIPAnnotation)
        } else if type == 12, code == 0 {
            icmp.setByte(4, p.annotation8(Annotation.icmpParameterProblem))
        } else if type == 3 && code == 4 {
            icmp.setBE16(6, UInt16(clamping: pmtu))
        }
        (icmp + 8).copyMemory(from: ip, byteCount: quoted)
        icmp.setBE16(2, internetChecksum(icmp, 8 + quoted))
        q.setNetworkHeader(at: 0, headerLength: headerLength)
        q.destinationIPAnnotation = src
        q.timestamp = routerNow()
        if useFixAnno { q.setAnnotation8(Annotation.fixIPSource, 1) }
        return q
    }

    public override func push(port: Int, _ batch: inout PacketBatch) {
        withScratchBatch { out in
            for i in 0..<batch.count {
                if let e = makeError(for: batch[i]) { out.append(e) }
                batch[i].kill()
            }
            batch.count = 0
            output(0, &out)
        }
    }
}

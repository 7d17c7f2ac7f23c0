import ClickLanguage
import ClickRuntime

/// IPAddrRewriter(INPUTSPEC_0, ..., INPUTSPEC_N-1 [, *keywords* TIMEOUT, REAP_INTERVAL,
/// MAPPING_CAPACITY, DST_ANNO, TCP_TIMEOUT, TCP_DONE_TIMEOUT, TCP_NODATA_TIMEOUT,
/// UDP_TIMEOUT, GUARANTEE, TCP_GUARANTEE, UDP_GUARANTEE, STREAMING_TIMEOUT,
/// UDP_STREAMING_TIMEOUT])
/// — and IPAddrPairRewriter
///
/// Basic NAT that rewrites addresses only, for every IP protocol. IPAddrRewriter keys a
/// mapping on the source address alone: all packets from that source get the new source
/// address, and packets to the new address get the original one back as their
/// destination. IPAddrPairRewriter keys on the (source, destination) pair. The input
/// specs are IPRewriter's, with patterns of the form `pattern SADDR DADDR FOUT ROUT`
/// (SADDR an address, a range `A-B` or a prefix `A/len`, optionally followed by `#` to
/// allocate sequentially or `?` randomly, or `-`; IPAddrRewriter's DADDR must be `-`). TCP and UDP checksums are fixed for the new pseudo-header. Mappings
/// expire after TIMEOUT (default 5 minutes) without traffic.
///
/// Ports: N inputs, any number of outputs, push. Handlers: as IPRewriter's: `table`, `tcp_table`, `udp_table`,
/// `table_size`, `size`, `mapping_failures`, `patterns` (read); `capacity` (read/write);
/// `lookup` (read with `SADDR SPORT DADDR DPORT [PROTO]`).
public class IPAddrRewriter: IPRewriter {
    /// Whether the destination is part of the key (IPAddrPairRewriter).
    var keysOnPair: Bool { false }

    override func parseSpec(_ text: String, context: ValueContext) -> Result<Spec, SpecError> {
        let words = ConfigText.words(text).map(ConfigText.unquote)
        guard words.first == "pattern" || words.first == "xpattern", words.count == 5 else {
            return super.parseSpec(text, context: context)
        }
        if !keysOnPair && words[2] != "-" { return .failure(SpecError(message: "IPAddrRewriter patterns cannot change the destination")) }
        // A `#` or `?` after SADDR picks addresses sequentially or randomly.
        var saddr = Substring(words[1])
        let order = saddr.last
        if order == "#" || order == "?" { saddr = saddr.dropLast() }
        switch RewritePattern.parse([String(saddr), "-", words[2], "-"], context: context) {
        case .failure(let e): return .failure(SpecError(message: e.description))
        case .success(let p):
            p.sequential = order == "#"
            p.random = order == "?"
            guard let f = output(words[3]), let r = output(words[4]) else { return .failure(SpecError(message: "bad output port")) }
            return .success(.pattern(p, f, r))
        }
    }

    override func process(_ p: Packet, spec: Spec, now: Int64) -> Int {
        guard let ip = p.networkHeader, p.networkLength >= 20 else { return passOrDrop(spec) }
        let src = ip.be32(IPv4Header.source), dst = ip.be32(IPv4Header.destination)
        let forwardKey = FlowID(saddr: src, sport: 0, daddr: keysOnPair ? dst : 0, dport: 0, proto: 0)
        var m = table.find(forwardKey)
        if m < 0 {
            // A reply: its key is the rewritten flow reversed.
            m = table.find(FlowID(saddr: keysOnPair ? src : 0, sport: 0, daddr: dst, dport: 0, proto: 0))
            if m >= 0 && !table.mappings[Int(m)].isReply { m = -1 }
        }
        if m >= 0 && table.mappings[Int(m)].expiry <= now {
            table.remove(m)
            m = -1
        }
        if m < 0 {
            if case .pass(let out) = spec { return out }
            if case .drop = spec { return -1 }
            guard let made = create(forwardKey, spec, now: now) else {
                mappingFailures &+= 1
                return -1
            }
            m = made
        }
        let mapping = table.mappings[Int(m)]
        let proto = ip.byte(IPv4Header.proto)
        var t: UnsafeMutableRawPointer? = nil
        if proto == 6 || proto == 17, ip.be16(IPv4Header.fragment) & 0x1FFF == 0, let th = p.transportHeader,
           p.length - (p.transportHeaderOffset ?? p.length) >= (proto == 6 ? 18 : 8) {
            t = th
        }
        rewrite(ip, t, from: mapping.key, to: mapping.rewritten, proto: proto)
        let expiry = now.saturatingAdd(udpTimeout)
        table.mappings[Int(m)].expiry = expiry
        table.mappings[Int(mapping.partner)].expiry = expiry
        if dstAnno { p.destinationIPAnnotation = ip.be32(IPv4Header.destination) }
        return Int(mapping.output)
    }

    override func embeddedMapping(for e: FlowID) -> (rewritten: FlowID, output: Int)? {
        // Addresses only: ports and protocol pass through untouched.
        guard var r = super.embeddedMapping(for: FlowID(saddr: e.saddr, sport: 0, daddr: e.daddr, dport: 0, proto: 0)) else { return nil }
        r.rewritten.sport = e.sport
        r.rewritten.dport = e.dport
        r.rewritten.proto = e.proto
        return r
    }

    override func findEmbedded(_ e: FlowID) -> Int32 {
        if keysOnPair { return table.find(FlowID(saddr: e.daddr, sport: 0, daddr: e.saddr, dport: 0, proto: 0)) }
        // An error about a packet we rewrote on its way out (its reply would hit the
        // reply mapping), or about a reply we rewrote on its way in (the forward one).
        let m = table.find(FlowID(saddr: 0, sport: 0, daddr: e.saddr, dport: 0, proto: 0))
        return m >= 0 ? m : table.find(FlowID(saddr: e.daddr, sport: 0, daddr: 0, dport: 0, proto: 0))
    }
}

public final class IPAddrPairRewriter: IPAddrRewriter {
    override var keysOnPair: Bool { true }
}

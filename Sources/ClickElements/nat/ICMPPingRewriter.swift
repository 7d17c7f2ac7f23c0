import ClickLanguage
import ClickRuntime

/// ICMPPingRewriter(INPUTSPEC_0, ..., INPUTSPEC_N-1 [, *keywords* TIMEOUT, UDP_TIMEOUT,
/// TCP_TIMEOUT, TCP_DONE_TIMEOUT, TCP_NODATA_TIMEOUT, REAP_INTERVAL, MAPPING_CAPACITY,
/// DST_ANNO, GUARANTEE, TCP_GUARANTEE, UDP_GUARANTEE, STREAMING_TIMEOUT,
/// UDP_STREAMING_TIMEOUT])
///
/// Rewrites ICMP echo requests and replies like IPRewriter rewrites TCP and UDP: the
/// echo identifier plays the part of the port. A `pattern SADDR SPORT DADDR DPORT FOUT
/// ROUT` spec gives new requests the source address SADDR and an identifier from the
/// SPORT range; their replies are mapped back to the original address and identifier.
/// Other packets follow the input spec (`pass`, or dropped). Flows expire after TIMEOUT
/// (UDP_TIMEOUT; default 5 minutes).
///
/// Ports: N inputs, any number of outputs, push. Handlers: as IPRewriter's: `table`, `tcp_table`, `udp_table`,
/// `table_size`, `size`, `mapping_failures`, `patterns` (read); `capacity` (read/write);
/// `lookup` (read with `SADDR SPORT DADDR DPORT [PROTO]`).
public final class ICMPPingRewriter: IPRewriter {

    override func processTransport(_ p: Packet, _ ip: UnsafeMutableRawPointer, _ t: UnsafeMutableRawPointer, spec: Spec, now: Int64) -> Int {
        guard ip.byte(IPv4Header.proto) == 1, p.length - (p.transportHeaderOffset ?? p.length) >= 8 else { return passOrDrop(spec) }
        let type = t.byte(0)
        guard type == 8 || type == 0 else { return passOrDrop(spec) }
        let id = t.be16(4)
        // Requests carry the identifier on the "source" side, replies on the "destination" side.
        let key = type == 8
            ? FlowID(saddr: ip.be32(IPv4Header.source), sport: id, daddr: ip.be32(IPv4Header.destination), dport: 0, proto: 1)
            : FlowID(saddr: ip.be32(IPv4Header.source), sport: 0, daddr: ip.be32(IPv4Header.destination), dport: id, proto: 1)
        var m = table.find(key)
        if m >= 0 && table.mappings[Int(m)].expiry <= now {
            table.remove(m)
            m = -1
        }
        if m < 0 {
            guard type == 8 else { return passOrDrop(spec) }
            if case .pass(let out) = spec { return out }
            if case .drop = spec { return -1 }
            guard let made = create(key, spec, now: now) else {
                mappingFailures &+= 1
                return -1
            }
            m = made
        }
        let mapping = table.mappings[Int(m)]
        let newID = type == 8 ? mapping.rewritten.sport : mapping.rewritten.dport
        var ipDelta: UInt32 = 0
        for (offset, old, new) in [(IPv4Header.source, mapping.key.saddr, mapping.rewritten.saddr), (IPv4Header.destination, mapping.key.daddr, mapping.rewritten.daddr)]
        where old != new {
            ipDelta &+= UInt32(~UInt16(old >> 16)) &+ UInt32(UInt16(new >> 16)) &+ UInt32(~UInt16(old & 0xFFFF)) &+ UInt32(UInt16(new & 0xFFFF))
            ip.setBE32(offset, new)
        }
        if ipDelta != 0 { ip.setBE16(IPv4Header.checksum, ~foldChecksum(UInt32(~ip.be16(IPv4Header.checksum)) &+ ipDelta)) }
        if newID != id {
            t.setBE16(4, newID)
            t.setBE16(2, updatedChecksum(t.be16(2), old: id, new: newID))
        }
        let expiry = now.saturatingAdd(udpTimeout)
        table.mappings[Int(m)].expiry = expiry
        table.mappings[Int(mapping.partner)].expiry = expiry
        if dstAnno { p.destinationIPAnnotation = mapping.rewritten.daddr }
        return Int(mapping.output)
    }
}

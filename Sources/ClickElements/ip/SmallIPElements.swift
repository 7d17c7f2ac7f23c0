import ClickLanguage
import ClickRuntime

/// DropBroadcasts
///
/// Drops packets that arrived as link-level broadcasts or multicasts (packet type
/// annotation), as a router must not forward them (RFC 1812 4.2.2.11).
///
/// Ports: 1 input, 1 output, agnostic. Handlers: `drops` (read).
public final class DropBroadcasts: Element, PacketAction {
    public private(set) var drops = 0

    @inline(__always) public func action(_ p: Packet) -> Int {
        let t = p.meta.pointee.packetType
        if t == PacketType.broadcast || t == PacketType.multicast {
            drops &+= 1
            return -1
        }
        return 0
    }

    public override func addHandlers(_ h: inout HandlerSet) { h.integer("drops", get: { [unowned self] in self.drops }) }
}

/// FixIPSrc(IPADDR)
///
/// For packets whose FIX_IP_SRC annotation is set (by ICMPError), sets the IP source
/// address to IPADDR, clears the annotation and fixes the checksum.
///
/// Ports: 1 input, 1 output, agnostic.
public final class FixIPSrc: Element, PacketAction {
    var address: UInt32 = 0

    public override func configure(_ args: inout Arguments) {
        address = args.mandatory("IPADDR", .ipv4Address)?.value ?? 0
    }

    @inline(__always) public func action(_ p: Packet) -> Int {
        guard p.annotation8(Annotation.fixIPSource) != 0, let ip = p.networkHeader else { return 0 }
        p.setAnnotation8(Annotation.fixIPSource, 0)
        ip.setBE32(IPv4Header.source, address)
        setIPChecksum(ip)
        return 0
    }

}

/// GetIPAddress(OFFSET [, ANNO]) / GetIPAddress(IP src|dst)
///
/// Copies the 4-byte IP address at OFFSET in the packet (16 is an IP header's destination)
/// into the destination address annotation (or annotation ANNO); `IP src` and `IP dst`
/// read the network header's fields.
///
/// Ports: 1 input, 1 output, agnostic.
public final class GetIPAddress: Element, PacketAction {
    var offset = 16
    var fromHeader = false
    var anno = Annotation.destinationIP

    public override func configure(_ args: inout Arguments) {
        if let field = args.keyword("IP", .word) {
            fromHeader = true
            switch field {
            case "src": offset = IPv4Header.source
            case "dst": offset = IPv4Header.destination
            default: args.error("expected 'src' or 'dst'", keyword: "IP")
            }
        } else {
            offset = args.mandatory("OFFSET", .unsignedInteger) ?? 16
        }
        if let a = annotationOffset(args.positional("ANNO", .word), default: Annotation.destinationIP, size: 4) { anno = a } else { args.error("bad annotation", keyword: "ANNO") }
    }

    @inline(__always) public func action(_ p: Packet) -> Int {
        let base: UnsafeMutableRawPointer
        if fromHeader {
            guard let ip = p.networkHeader else { return 0 }
            base = ip
        } else {
            guard p.length >= offset + 4 else { return 0 }
            base = p.data
        }
        p.setAnnotation32(anno, base.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
        return 0
    }

}

/// SetIPAddress(IPADDR [, ANNO])
///
/// Sets the destination address annotation (or annotation ANNO) to IPADDR.
///
/// Ports: 1 input, 1 output, agnostic. Handlers: `addr` (read/write).
public final class SetIPAddress: Element, PacketAction {
    var address = IPv4Address(0)
    var anno = Annotation.destinationIP

    public override func configure(_ args: inout Arguments) {
        address = args.mandatory("IPADDR", .ipv4Address) ?? address
        if let a = annotationOffset(args.positional("ANNO", .word), default: Annotation.destinationIP, size: 4) { anno = a } else { args.error("bad annotation", keyword: "ANNO") }
    }

    @inline(__always) public func action(_ p: Packet) -> Int {
        p.setAnnotation32(anno, address.value.bigEndian)
        return 0
    }


    public override func addHandlers(_ h: inout HandlerSet) {
        h.readWrite("addr", read: { [unowned self] in self.address.description }, write: { [unowned self] (t: String) throws(ElementError) in
            guard let (a, _) = IPv4Address.parse(t.trimmingCharacters()) else { throw ElementError("expected IP address") }
            self.address = a
        })
    }
}

/// SetIPChecksum
///
/// Recomputes the IP header checksum of packets with a network header.
///
/// Ports: 1 input, 1 output, agnostic.
public final class SetIPChecksum: Element, PacketAction {

    @inline(__always) public func action(_ p: Packet) -> Int {
        guard let ip = p.networkHeader, p.networkLength >= 20 else { return -1 }
        let hl = Int(ip.byte(0) & 0x0F) << 2
        guard hl >= 20, hl <= p.networkLength else { return -1 }
        setIPChecksum(ip)
        return 0
    }

}

/// IPMirror([DST_ANNO])
///
/// Swaps the IP source and destination addresses, and the TCP or UDP ports of first
/// fragments; checksums stay valid (the sums do not change). Sets the destination
/// annotation to the new destination unless DST_ANNO is false.
///
/// Ports: 1 input, 1 output, agnostic.
public final class IPMirror: Element, PacketAction {
    var setAnno = true

    public override func configure(_ args: inout Arguments) {
        setAnno = args.positional("DST_ANNO", .bool) ?? true
    }

    @inline(__always) public func action(_ p: Packet) -> Int {
        guard let ip = p.networkHeader, p.networkLength >= 20 else { return 0 }
        let src = ip.be32(IPv4Header.source), dst = ip.be32(IPv4Header.destination)
        ip.setBE32(IPv4Header.source, dst)
        ip.setBE32(IPv4Header.destination, src)
        if setAnno { p.destinationIPAnnotation = src }
        let proto = ip.byte(IPv4Header.proto)
        let firstFragment = ip.be16(IPv4Header.fragment) & 0x1FFF == 0
        if (proto == 6 || proto == 17), firstFragment, let t = p.transportHeader, p.length - (p.transportHeaderOffset ?? p.length) >= 4 {
            let sp = t.be16(0), dp = t.be16(2)
            t.setBE16(0, dp)
            t.setBE16(2, sp)
        }
        return 0
    }

}

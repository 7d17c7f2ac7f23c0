import ClickLanguage
import ClickRuntime

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

    public override func push(port: Int, _ batch: inout PacketBatch) { pushThrough(&batch) }

    @inline(__always) public func action(_ p: Packet) -> Int {
        guard p.annotation8(Annotation.fixIPSource) != 0, let ip = p.networkHeader else { return 0 }
        p.setAnnotation8(Annotation.fixIPSource, 0)
        ip.setBE32(IPv4Header.source, address)
        setIPChecksum(ip)
        return 0
    }

}

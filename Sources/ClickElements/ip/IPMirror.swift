import ClickLanguage
import ClickRuntime

/// IPMirror([DST_ANNO])
///
/// Swaps the IP source and destination addresses, and the TCP or UDP ports of first
/// fragments (and TCP's sequence and acknowledgement numbers, as Click does); checksums
/// stay valid (the sums do not change). Sets the destination
/// annotation to the new destination unless DST_ANNO is false.
///
/// Ports: 1 input, 1 output, agnostic.
public final class IPMirror: Element, PacketAction {
    var setAnno = true

    public override func configure(_ args: inout Arguments) {
        setAnno = args.positional("DST_ANNO", .bool) ?? true
    }

    public override func push(port: Int, _ batch: inout PacketBatch) { pushThrough(&batch) }

    @inline(__always) public func action(_ p: Packet) -> Int {
        guard let ip = p.networkHeader, p.networkLength >= 20 else { return 0 }
        let src = ip.be32(IPv4Header.source), dst = ip.be32(IPv4Header.destination)
        ip.setBE32(IPv4Header.source, dst)
        ip.setBE32(IPv4Header.destination, src)
        if setAnno { p.destinationIPAnnotation = src }
        let proto = ip.byte(IPv4Header.proto)
        let firstFragment = ip.be16(IPv4Header.fragment) & 0x1FFF == 0
        if (proto == 6 || proto == 17), firstFragment, let t = p.transportHeader, let o = p.transportHeaderOffset, p.length - o >= 8 {
            let sp = t.be16(0), dp = t.be16(2)
            t.setBE16(0, dp)
            t.setBE16(2, sp)
            // TCP: sequence and acknowledgement numbers trade places too, as in Click.
            if proto == 6, p.length - o >= 12 {
                let seq = t.be32(4), ack = t.be32(8)
                t.setBE32(4, ack)
                t.setBE32(8, seq)
            }
        }
        return 0
    }

}

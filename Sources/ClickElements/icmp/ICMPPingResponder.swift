import ClickLanguage
import ClickRuntime

/// ICMPPingResponder
///
/// Turns ICMP echo requests into echo replies in place (addresses swapped, type 0, TTL
/// 255, checksums fixed) on output 0; other packets go to output 1, or are dropped.
///
/// Ports: 1 input, 1 or 2 outputs, agnostic (output 1 push).
public final class ICMPPingResponder: Element, PacketAction {
    public override var portCount: String { "1/1-2" }
    public override var processing: String { "a/ah" }

    public override func push(port: Int, _ batch: inout PacketBatch) { pushThrough(&batch) }

    @inline(__always) public func action(_ p: Packet) -> Int {
        guard let ip = p.networkHeader, p.networkLength >= 28, ip.byte(9) == 1, let t = p.transportHeader, t.byte(0) == 8,
            ip.be16(IPv4Header.fragment) & 0x3FFF == 0
        else { return 1 }
        let src = ip.be32(12)
        ip.setBE32(12, ip.be32(16))
        ip.setBE32(16, src)
        ip.setByte(8, 255)
        setIPChecksum(ip)
        t.setByte(0, 0)
        // The type word drops by 0x0800: adjust the checksum incrementally.
        let length = p.length - (p.transportHeaderOffset ?? p.length)
        t.setBE16(2, updatedChecksum(t.be16(2), old: 0x0800 | UInt16(t.byte(1)), new: UInt16(t.byte(1))))
        fixZeroChecksum(at: 2, t, length)
        p.destinationIPAnnotation = src
        return 0
    }

}

import ClickLanguage
import ClickRuntime

/// SetIPChecksum
///
/// Recomputes the IP header checksum of packets with a network header.
///
/// Ports: 1 input, 1 output, agnostic.
public final class SetIPChecksum: Element, PacketAction {

    public override func push(port: Int, _ batch: inout PacketBatch) { pushThrough(&batch) }

    @inline(__always) public func action(_ p: Packet) -> Int {
        guard let ip = p.networkHeader, p.networkLength >= 20 else { return -1 }
        let hl = Int(ip.byte(0) & 0x0F) << 2
        guard hl >= 20, hl <= p.networkLength else { return -1 }
        setIPChecksum(ip)
        return 0
    }

}

import ClickLanguage
import ClickRuntime

/// SetTCPChecksum — and SetUDPChecksum
///
/// Recomputes the TCP (or UDP) checksum of IP packets (network header set). Packets of
/// another protocol, or too short, are dropped.
///
/// Ports: 1 input, 1 output, agnostic.
public class SetTransportChecksum: Element, PacketAction {
    var proto: UInt8 { 6 }

    @inline(__always) public func action(_ p: Packet) -> Int {
        guard let ip = p.networkHeader, p.networkLength >= 20, ip.byte(9) == proto, let t = p.transportHeader, let o = p.transportHeaderOffset else { return -1 }
        let length = min(Int(ip.be16(2)) - (Int(ip.byte(0) & 0x0F) << 2), p.length - o)
        let offset = proto == 6 ? 16 : 6
        guard length >= offset + 2 else { return -1 }
        t.setBE16(offset, 0)
        t.setBE16(offset, transportChecksum(ip, proto: proto, transport: t, length: length))
        return 0
    }

}

public final class SetTCPChecksum: SetTransportChecksum {
}

public final class SetUDPChecksum: SetTransportChecksum {
    override var proto: UInt8 { 17 }
}

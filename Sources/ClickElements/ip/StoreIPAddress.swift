import ClickLanguage
import ClickRuntime

/// StoreIPAddress([ADDR,] OFFSET | src | dst)
///
/// Writes ADDR (or the destination address annotation) into the packet at byte OFFSET;
/// `src` and `dst` name the IP header's fields and fix the IP checksum (and the TCP/UDP
/// checksum of first fragments) incrementally.
///
/// Ports: 1 input, 1 output, agnostic.
public final class StoreIPAddress: Element, PacketAction {
    var address: UInt32? = nil
    var offset = 16
    var field: Int? = nil   // 12 src, 16 dst: relative to the network header

    public override func configure(_ args: inout Arguments) {
        let all = args.remaining()
        guard !all.isEmpty, all.count <= 2 else {
            args.error("expected '[ADDR,] OFFSET|src|dst'")
            return
        }
        if all.count == 2 {
            guard let a = ValueType<IPv4Address>.ipv4Address.parse(all[0], args.context) else {
                args.error("ADDR: expected IP address")
                return
            }
            address = a.value
        }
        switch all[all.count - 1] {
        case "src": field = 12
        case "dst": field = 16
        case let t:
            guard let n = Int(t), n >= 0 else {
                args.error("OFFSET: expected offset, 'src' or 'dst'")
                return
            }
            offset = n
        }
    }

    public override func push(port: Int, _ batch: inout PacketBatch) { pushThrough(&batch) }

    @inline(__always) public func action(_ p: Packet) -> Int {
        let value = address ?? p.destinationIPAnnotation
        if let field {
            guard let ip = p.networkHeader, p.networkLength >= 20 else { return -1 }
            let old = ip.be32(field)
            ip.setBE32(field, value)
            var c = ip.be16(IPv4Header.checksum)
            c = updatedChecksum(c, old: UInt16(old >> 16), new: UInt16(value >> 16))
            c = updatedChecksum(c, old: UInt16(old & 0xFFFF), new: UInt16(value & 0xFFFF))
            ip.setBE16(IPv4Header.checksum, c)
            let proto = ip.byte(9)
            if (proto == 6 || proto == 17), ip.be16(IPv4Header.fragment) & 0x1FFF == 0, let t = p.transportHeader,
                let o = p.transportHeaderOffset, p.length - o >= (proto == 6 ? 18 : 8)
            {
                let at = proto == 6 ? 16 : 6
                var tc = t.be16(at)
                if !(proto == 17 && tc == 0) {
                    tc = updatedChecksum(tc, old: UInt16(old >> 16), new: UInt16(value >> 16))
                    tc = updatedChecksum(tc, old: UInt16(old & 0xFFFF), new: UInt16(value & 0xFFFF))
                    t.setBE16(at, tc)
                }
            }
        } else {
            guard p.length >= offset + 4 else { return -1 }
            p.store32(offset, value)
        }
        return 0
    }

}

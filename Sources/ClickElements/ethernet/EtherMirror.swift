import ClickLanguage
import ClickRuntime

/// EtherMirror
///
/// Swaps the source and destination Ethernet addresses of each packet.
///
/// Ports: 1 input, 1 output, agnostic.
public final class EtherMirror: Element, PacketAction {

    public override func push(port: Int, _ batch: inout PacketBatch) { pushThrough(&batch) }

    @inline(__always) public func action(_ p: Packet) -> Int {
        guard p.length >= 14 else { return -1 }
        let d = p.data
        let a0 = d.loadUnaligned(fromByteOffset: 0, as: UInt32.self), a1 = d.loadUnaligned(fromByteOffset: 4, as: UInt16.self)
        let b0 = d.loadUnaligned(fromByteOffset: 6, as: UInt32.self), b1 = d.loadUnaligned(fromByteOffset: 10, as: UInt16.self)
        d.storeBytes(of: b0, toByteOffset: 0, as: UInt32.self)
        d.storeBytes(of: b1, toByteOffset: 4, as: UInt16.self)
        d.storeBytes(of: a0, toByteOffset: 6, as: UInt32.self)
        d.storeBytes(of: a1, toByteOffset: 10, as: UInt16.self)
        return 0
    }

}

import ClickLanguage
import ClickRuntime

/// StripToNetworkHeader
///
/// Removes everything before the network header (set by CheckIPHeader, MarkIPHeader and
/// the like). Packets without a network header pass unchanged.
///
/// Ports: 1 input, 1 output, agnostic.
public final class StripToNetworkHeader: Element, PacketAction {

    public override func push(port: Int, _ batch: inout PacketBatch) { pushThrough(&batch) }

    @inline(__always) public func action(_ packet: Packet) -> Int {
        if let o = packet.networkHeaderOffset, o > 0 { packet.pull(o) }
        return 0
    }

}

import ClickLanguage
import ClickRuntime

/// StripIPHeader — and UnstripIPHeader
///
/// StripIPHeader removes everything up to the end of the IP header (network header
/// annotation and header length); UnstripIPHeader puts the IP header back.
///
/// Ports: 1 input, 1 output, agnostic.
public final class StripIPHeader: Element, PacketAction {

    public override func push(port: Int, _ batch: inout PacketBatch) { pushThrough(&batch) }

    @inline(__always) public func action(_ p: Packet) -> Int {
        if let o = p.transportHeaderOffset, o > 0, o <= p.length { p.pull(o) }
        return 0
    }

}

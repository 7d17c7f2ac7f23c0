import ClickLanguage
import ClickRuntime

/// DropBroadcasts
///
/// Drops packets that arrived as link-level broadcasts or multicasts (packet type
/// annotation), as a router must not forward them (RFC 1812 4.2.2.11); with a second
/// output they go there instead. The first one dropped is reported, as Click does
/// ("DropBroadcasts: dropped a packet").
///
/// Ports: 1 input, 1 or 2 outputs, agnostic (output 1 push). Handlers: `drops` (read).
public final class DropBroadcasts: Element, PacketAction {
    public override var portCount: String { "1/1-2" }
    public override var processing: String { "a/ah" }
    public private(set) var drops = 0

    public override func push(port: Int, _ batch: inout PacketBatch) { pushThrough(&batch) }

    @inline(__always) public func action(_ p: Packet) -> Int {
        let t = p.meta.pointee.packetType
        if t == PacketType.broadcast || t == PacketType.multicast {
            if drops == 0 { router.chatter("DropBroadcasts: dropped a packet") }
            drops &+= 1
            return 1
        }
        return 0
    }

    public override func addHandlers(_ h: inout HandlerSet) { h.integer("drops", get: { [unowned self] in self.drops }) }
}

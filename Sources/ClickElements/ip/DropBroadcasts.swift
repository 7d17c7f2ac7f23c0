import ClickLanguage
import ClickRuntime

/// DropBroadcasts
///
/// Drops packets that arrived as link-level broadcasts or multicasts (packet type
/// annotation), as a router must not forward them (RFC 1812 4.2.2.11).
///
/// Ports: 1 input, 1 output, agnostic. Handlers: `drops` (read).
public final class DropBroadcasts: Element, PacketAction {
    public private(set) var drops = 0

    @inline(__always) public func action(_ p: Packet) -> Int {
        let t = p.meta.pointee.packetType
        if t == PacketType.broadcast || t == PacketType.multicast {
            drops &+= 1
            return -1
        }
        return 0
    }

    public override func addHandlers(_ h: inout HandlerSet) { h.integer("drops", get: { [unowned self] in self.drops }) }
}

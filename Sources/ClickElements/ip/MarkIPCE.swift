import ClickLanguage
import ClickRuntime

/// MarkIPCE([FORCE])
///
/// Marks ECN-capable IP packets Congestion Experienced (ECN field 3) and fixes the
/// checksum; packets that are not ECN-capable are dropped (with FORCE, marked anyway).
///
/// Ports: 1 input, 1 output, agnostic. Handlers: `drops` (read).
public final class MarkIPCE: Element, PacketAction {
    var force = false
    public private(set) var drops = 0

    public override func configure(_ args: inout Arguments) {
        force = args.positional("FORCE", .bool) ?? false
    }

    public override func push(port: Int, _ batch: inout PacketBatch) { pushThrough(&batch) }

    @inline(__always) public func action(_ p: Packet) -> Int {
        guard let ip = p.networkHeader, p.networkLength >= 20 else { return -1 }
        let tos = ip.byte(1)
        if tos & 3 == 0 && !force {
            drops &+= 1
            return -1
        }
        setIPTOS(ip, tos | 3)
        return 0
    }

    public override func addHandlers(_ h: inout HandlerSet) { h.integer("drops", get: { [unowned self] in self.drops }) }
}

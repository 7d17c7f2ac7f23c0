import ClickLanguage
import ClickRuntime

/// DecIPTTL([*keywords* ACTIVE, MULTICAST])
///
/// Decrements the TTL of IP packets (network header annotation set), updating the checksum
/// incrementally (RFC 1624). Packets whose TTL is 1 or less go to output 1 (usually an
/// ICMPError for "time exceeded"), or are dropped. With MULTICAST false (the default is
/// true), multicast packets pass unchanged.
///
/// Ports: 1 input, 1 or 2 outputs, agnostic (output 1 push). Handlers: `drops` (read).
public final class DecIPTTL: Element, PacketAction {
    public override var portCount: String { "1/1-2" }
    public override var processing: String { "a/ah" }
    var active = true
    var multicast = true
    public private(set) var drops = 0

    public override func configure(_ args: inout Arguments) {
        active = args.keyword("ACTIVE", .bool) ?? true
        multicast = args.keyword("MULTICAST", .bool) ?? true
    }

    public override func push(port: Int, _ batch: inout PacketBatch) { pushThrough(&batch) }

    @inline(__always) public func action(_ p: Packet) -> Int {
        guard active, let ip = p.networkHeader else { return 0 }
        if !multicast && ip.be32(IPv4Header.destination) >> 28 == 0xE { return 0 }
        let ttl = ip.byte(IPv4Header.ttl)
        if ttl <= 1 {
            drops &+= 1
            return 1
        }
        ip.setByte(IPv4Header.ttl, ttl - 1)
        // The TTL is the high byte of its 16-bit word: the word drops by 0x0100.
        var sum = UInt32(ip.be16(IPv4Header.checksum)) &+ 0x0100
        sum = (sum & 0xFFFF) &+ (sum >> 16)
        ip.setBE16(IPv4Header.checksum, UInt16(truncatingIfNeeded: sum))
        return 0
    }


    public override func addHandlers(_ h: inout HandlerSet) {
        h.integer("drops", get: { [unowned self] in self.drops })
    }
}

import ClickLanguage
import ClickRuntime

/// SetPacketType(TYPE)
///
/// Sets each packet's packet type annotation to TYPE: HOST, BROADCAST, MULTICAST,
/// OTHERHOST, OUTGOING or LOOPBACK (any case), as a link layer would (DropBroadcasts and
/// ICMPError read it).
///
/// Ports: 1 input, 1 output, agnostic.
public final class SetPacketType: Element, PacketAction {
    var type = PacketType.host

    static let names: [String: UInt8] = [
        "HOST": PacketType.host, "BROADCAST": PacketType.broadcast, "MULTICAST": PacketType.multicast,
        "OTHERHOST": PacketType.otherHost, "OUTGOING": PacketType.outgoing, "LOOPBACK": PacketType.loopback,
    ]

    public override func configure(_ args: inout Arguments) {
        guard let word = args.mandatory("TYPE", .word) else { return }
        guard let t = Self.names[word.uppercased()] else { return args.error("unrecognized packet type '\(word)'") }
        type = t
    }

    public override func push(port: Int, _ batch: inout PacketBatch) { pushThrough(&batch) }

    @inline(__always) public func action(_ p: Packet) -> Int {
        p.meta.pointee.packetType = type
        return 0
    }
}

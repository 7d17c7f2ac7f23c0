import ClickLanguage
import ClickRuntime

/// Strip(LENGTH)
///
/// Removes LENGTH bytes from the front of each packet (no copy). A shorter packet becomes
/// empty.
///
/// Ports: 1 input, 1 output, agnostic.
public final class Strip: Element, PacketAction {
    var amount = 0

    public override func configure(_ args: inout Arguments) {
        amount = args.mandatory("LENGTH", .unsignedInteger) ?? 0
    }

    @inline(__always) public func action(_ packet: Packet) -> Int {
        packet.pull(min(amount, packet.length))
        return 0
    }

}

/// Unstrip(LENGTH)
///
/// Puts LENGTH bytes back at the front of each packet, from its headroom (no copy): the
/// inverse of Strip. A packet without that much headroom is dropped.
///
/// Ports: 1 input, 1 output, agnostic.
public final class Unstrip: Element, PacketAction {
    var amount = 0

    public override func configure(_ args: inout Arguments) {
        amount = args.mandatory("LENGTH", .unsignedInteger) ?? 0
    }

    @inline(__always) public func action(_ packet: Packet) -> Int {
        packet.push(amount) ? 0 : -1
    }

}

/// StripToNetworkHeader
///
/// Removes everything before the network header (set by CheckIPHeader, MarkIPHeader and
/// the like). Packets without a network header pass unchanged.
///
/// Ports: 1 input, 1 output, agnostic.
public final class StripToNetworkHeader: Element, PacketAction {

    @inline(__always) public func action(_ packet: Packet) -> Int {
        if let o = packet.networkHeaderOffset, o > 0 { packet.pull(o) }
        return 0
    }

}

/// Null
///
/// Passes packets through unchanged.
///
/// Ports: 1 input, 1 output, agnostic.
public final class Null: Element {

    public override func push(port: Int, _ batch: inout PacketBatch) { output(0, &batch) }
    public override func pull(port: Int, into batch: inout PacketBatch, max: Int) { input(0, into: &batch, max: max) }
}

/// Align(MODULUS, OFFSET)
///
/// Moves each packet's data so that it starts OFFSET bytes past a MODULUS-byte boundary
/// (MODULUS is 2, 4 or 8).
///
/// Ports: 1 input, 1 output, agnostic.
public final class Align: Element, PacketAction {
    var modulus = 4
    var offset = 0

    public override func configure(_ args: inout Arguments) {
        modulus = args.mandatory("MODULUS", .unsignedInteger) ?? 4
        offset = args.mandatory("OFFSET", .unsignedInteger) ?? 0
        if ![2, 4, 8].contains(modulus) { args.error("must be 2, 4, or 8", keyword: "MODULUS") }
        if offset >= modulus { args.error("must be less than MODULUS", keyword: "OFFSET") }
    }

    @inline(__always) public func action(_ packet: Packet) -> Int {
        packet.align(modulus, offset: offset)
        return 0
    }

}

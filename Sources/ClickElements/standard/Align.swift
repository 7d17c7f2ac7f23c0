import ClickLanguage
import ClickRuntime

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

    public override func push(port: Int, _ batch: inout PacketBatch) { pushThrough(&batch) }

    @inline(__always) public func action(_ packet: Packet) -> Int {
        packet.align(modulus, offset: offset)
        return 0
    }

}

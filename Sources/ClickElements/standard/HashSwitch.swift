import ClickLanguage
import ClickRuntime

/// HashSwitch(OFFSET, LENGTH)
///
/// Sends each packet to an output chosen by hashing LENGTH bytes at OFFSET: the sum of the
/// bytes, folded as `(d ^ (d >> 4)) & (n - 1)` for 2, 4 or 8 outputs, `d % n` otherwise.
/// Packets too short for the bytes go to output 0.
///
/// Ports: 1 input, 1 or more outputs, push.
public final class HashSwitch: Element, PacketAction {
    public override var portCount: String { "1/1-" }
    public override var processing: String { "h/h" }
    var offset = 0
    var length = 0

    public override func configure(_ args: inout Arguments) {
        offset = args.mandatory("OFFSET", .unsignedInteger) ?? 0
        length = args.mandatory("LENGTH", .unsignedInteger) ?? 0
        if length == 0 { args.error("length must be > 0") }
    }

    public override func push(port: Int, _ batch: inout PacketBatch) { pushThrough(&batch) }

    @inline(__always) public func action(_ packet: Packet) -> Int {
        guard packet.length >= offset + length else { return 0 }
        var d = 0
        for i in offset..<(offset + length) { d &+= Int(packet[i]) }
        let n = noutputs
        if n == 2 || n == 4 || n == 8 { return (d ^ (d >> 4)) & (n - 1) }
        return d % n
    }

}

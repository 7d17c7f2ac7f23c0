import ClickLanguage
import ClickRuntime

/// Resize([HEAD, TAIL])
///
/// Adds (positive) or removes (negative) HEAD bytes at the front and TAIL bytes at the end
/// of each packet (both default 0); added bytes are zero. Packets that cannot be resized are dropped.
///
/// Ports: 1 input, 1 output, agnostic.
public final class Resize: Element, PacketAction {
    var head = 0
    var tail = 0

    public override func configure(_ args: inout Arguments) {
        head = args.positional("HEAD", .integer) ?? 0
        tail = args.positional("TAIL", .integer) ?? 0
    }

    @inline(__always) public func action(_ p: Packet) -> Int {
        if head > 0 {
            guard p.push(head) else { return -1 }
            p.data.initializeMemory(as: UInt8.self, repeating: 0, count: head)
        } else if head < 0 {
            guard p.pull(-head) else { return -1 }
        }
        if tail > 0 {
            let old = p.length
            guard p.put(tail) else { return -1 }
            (p.data + old).initializeMemory(as: UInt8.self, repeating: 0, count: tail)
        } else if tail < 0 {
            guard p.length >= -tail else { return -1 }
            p.take(-tail)
        }
        return 0
    }

}

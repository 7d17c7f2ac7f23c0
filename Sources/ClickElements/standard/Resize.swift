import ClickLanguage
import ClickRuntime

/// Resize([HEAD, TAIL])
///
/// Adds (positive) or removes (negative) HEAD bytes at the front and TAIL bytes at the end
/// of each packet (both default 0), as Click's Resize. Added bytes are left as they are in
/// the buffer (Click leaves them uninitialized: bytes pulled off earlier come back);
/// removing more bytes than the packet has leaves it empty. A packet without the
/// headroom or tailroom to grow is dropped.
///
/// Ports: 1 input, 1 output, agnostic.
///
/// Handlers: `head`, `tail` (read/write).
public final class Resize: Element, PacketAction {
    var head = 0
    var tail = 0

    public override func configure(_ args: inout Arguments) {
        head = args.positional("HEAD", .integer) ?? 0
        tail = args.positional("TAIL", .integer) ?? 0
    }

    public override func push(port: Int, _ batch: inout PacketBatch) { pushThrough(&batch) }

    @inline(__always) public func action(_ p: Packet) -> Int {
        if head > 0 {
            guard p.push(head) else { return -1 }
        } else if head < 0 {
            _ = p.pull(min(-head, p.length))
        }
        if tail > 0 {
            guard p.put(tail) else { return -1 }
        } else if tail < 0 {
            p.take(min(-tail, p.length))
        }
        return 0
    }

    public override func addHandlers(_ h: inout HandlerSet) {
        h.integer("head", get: { [unowned self] in self.head }, set: { [unowned self] (v: Int) throws(ElementError) in self.head = v })
        h.integer("tail", get: { [unowned self] in self.tail }, set: { [unowned self] (v: Int) throws(ElementError) in self.tail = v })
    }
}

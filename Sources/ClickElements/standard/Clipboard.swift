import ClickLanguage
import ClickRuntime

/// Clipboard(RANGE_1, ..., RANGE_N)
///
/// Copies bytes from one packet to another: packets on input 0 have the bytes at each
/// RANGE (`OFFSET/LENGTH`) copied to the clipboard and leave on output 0; packets on
/// input 1 get the clipboard pasted at the same ranges and leave on output 1. Ranges a
/// packet is too short for are skipped. Before anything is copied the clipboard holds
/// zeros.
///
/// Ports: 2 inputs, 2 outputs, agnostic; flow code `#/#`.
public final class Clipboard: Element {
    public override var portCount: String { "2/2" }
    public override var flowCode: String { "#/#" }
    var ranges: [(offset: Int, length: Int)] = []
    var clipboard: [UInt8] = []

    public override func configure(_ args: inout Arguments) {
        ranges = []
        for text in args.remaining() {
            let parts = ConfigText.unquote(text).split(separator: "/")
            guard parts.count == 2, let o = Int(parts[0]), let l = Int(parts[1]), o >= 0, l >= 0 else {
                args.error("bad range '\(text)', expected OFFSET/LENGTH")
                continue
            }
            ranges.append((o, l))
        }
        if ranges.isEmpty && args.succeeded { args.error("expected at least one range") }
        clipboard = [UInt8](repeating: 0, count: ranges.reduce(0) { $0 + $1.length })
    }

    func copy(_ p: Packet, paste: Bool) {
        var k = 0
        for r in ranges {
            defer { k += r.length }
            guard p.length >= r.offset + r.length else { continue }
            for i in 0..<r.length {
                if paste { p.data.setByte(r.offset + i, clipboard[k + i]) } else { clipboard[k + i] = p.data.byte(r.offset + i) }
            }
        }
    }

    public override func push(port: Int, _ batch: inout PacketBatch) {
        for i in 0..<batch.count { copy(batch[i], paste: port == 1) }
        output(port, &batch)
    }

    public override func pull(port: Int, into batch: inout PacketBatch, max: Int) {
        let before = batch.count
        input(port, into: &batch, max: max)
        for i in before..<batch.count { copy(batch[i], paste: port == 1) }
    }
}

import ClickLanguage
import ClickRuntime

/// StaticSwitch(OUTPUT)
///
/// Sends every packet to output OUTPUT, fixed at configuration time; -1 drops them.
///
/// Ports: 1 input, any number of outputs, push.
public final class StaticSwitch: Element {
    public override var portCount: String { "1/-" }
    public override var processing: String { "h/h" }
    var chosen = 0

    public override func configure(_ args: inout Arguments) {
        chosen = args.mandatory("OUTPUT", .integer) ?? 0
        if chosen >= noutputs { chosen = -1 }
    }

    public override func push(port: Int, _ batch: inout PacketBatch) {
        if chosen >= 0 { output(chosen, &batch) } else { batch.killAll() }
    }
}

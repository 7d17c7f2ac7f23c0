import ClickLanguage
import ClickRuntime

/// RoundRobinSched — and PrioSched
///
/// Pull schedulers over any number of inputs: RoundRobinSched pulls from each input in
/// turn (starting after the last that gave a packet); PrioSched always tries input 0
/// first, then 1, and so on.
///
/// Ports: any number of pull inputs, 1 pull output.
public final class RoundRobinSched: Element {
    public override var portCount: String { "-/1" }
    public override var processing: String { "l/l" }
    var next = 0

    public override func pull(port: Int, into batch: inout PacketBatch, max: Int) {
        guard ninputs > 0 else { return }
        var got = 0
        var tried = 0
        while got < max && tried < ninputs && !batch.isFull {
            let before = batch.count
            input(next, into: &batch, max: 1)
            next = (next + 1) % ninputs
            if batch.count > before {
                got += 1
                tried = 0
            } else {
                tried += 1
            }
        }
    }
}

import ClickLanguage
import ClickRuntime

/// Hub
///
/// Every packet arriving on any input goes out of every output except the one with the
/// input's number (copies).
///
/// Ports: any number of inputs, as many outputs, push.
public final class Hub: Element {
    public override var portCount: String { "-/=" }
    public override var processing: String { "h/h" }

    public override func push(port: Int, _ batch: inout PacketBatch) {
        for o in 0..<noutputs where o != port {
            withScratchBatch { copies in
                for i in 0..<batch.count { if let c = batch[i].clone() { copies.append(c) } }
                output(o, &copies)
            }
        }
        batch.killAll()
    }
}

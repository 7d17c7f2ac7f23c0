import ClickLanguage
import ClickRuntime

public final class PrioSched: Element {
    public override var portCount: String { "-/1" }
    public override var processing: String { "l/l" }

    public override func pull(port: Int, into batch: inout PacketBatch, max: Int) {
        for i in 0..<ninputs {
            let before = batch.count
            input(i, into: &batch, max: max)
            if batch.count > before { return }
        }
    }
}

import ClickLanguage
import ClickRuntime

public final class PullTee: Element {
    public override var portCount: String { "1/1-" }
    public override var processing: String { "l/lh" }

    public override func configure(_ args: inout Arguments) {
        if let n = args.positional("N", .unsignedInteger), n != noutputs {
            args.error("N does not match the number of outputs (\(noutputs))")
        }
    }

    public override func pull(port: Int, into batch: inout PacketBatch, max: Int) {
        let start = batch.count
        input(0, into: &batch, max: max)
        guard batch.count > start else { return }
        for o in 1..<noutputs {
            withScratchBatch { copies in
                for i in start..<batch.count {
                    if let c = batch[i].clone() { copies.append(c) }
                }
                output(o, &copies)
            }
        }
    }
}

import ClickLanguage
import ClickRuntime

/// Tee([N]) — and PullTee([N])
///
/// Sends a copy of every packet to each output, as Click's: copies to outputs 0 to N-2 in
/// order, then the original to the last. N, if given, must equal the number of outputs. PullTee is the pull version:
/// packets pulled from output 0 are copied to the other (push) outputs.
///
/// Ports: Tee 1 input, 1 or more outputs, push. PullTee 1 pull input, output 0 pull, others push.
public final class Tee: Element {
    public override var portCount: String { "1/1-" }
    public override var processing: String { "h/h" }

    public override func configure(_ args: inout Arguments) {
        if let n = args.positional("N", .unsignedInteger), n != noutputs {
            args.error("N does not match the number of outputs (\(noutputs))")
        }
    }

    public override func push(port: Int, _ batch: inout PacketBatch) {
        // As Click's: copies go out first, in output order, and the original last, on
        // the last output (so output 0's path runs first).
        let last = max(noutputs, 1) - 1
        for o in 0..<last {
            withScratchBatch { copies in
                for i in 0..<batch.count {
                    if let c = batch[i].clone() { copies.append(c) }
                }
                output(o, &copies)
            }
        }
        output(last, &batch)
    }
}

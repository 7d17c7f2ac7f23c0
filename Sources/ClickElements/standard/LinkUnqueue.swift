import ClickLanguage
import ClickRuntime

/// LinkUnqueue(LATENCY, BANDWIDTH)
///
/// Emulates a serial link: pulls a packet only when the link is free, takes its length
/// (with its EXTRA_LENGTH annotation) divided by BANDWIDTH (e.g. `10Mbps`) to put it on the link, and pushes it out LATENCY
/// seconds after its last byte went on. So every packet is delayed by LATENCY plus its
/// own transmission time plus that of the packets ahead of it. Output timestamps are the
/// times the packets leave the link.
///
/// Ports: 1 pull input, 1 push output.
///
/// Handlers: `latency`, `bandwidth`, `size` (read: packets in, or partly in, the link);
/// `reset` (write: drops them).
public final class LinkUnqueue: Element {
    public override var portCount: String { "1/1" }
    public override var processing: String { "l/h" }
    var latency: Int64 = 0
    var bandwidth = 0.0
    /// Packets on the link, in order; each one's timestamp is its exit time.
    var inTransit: [Packet] = []
    var transitHead = 0
    /// When the link can take the next packet's first byte.
    var linkFree: Int64 = 0
    /// Whether the last pull got a packet: the link has been busy since.
    var backToBack = false
    var task: Task?
    var timer: Timer?
    var signal: UpstreamSignal?

    public override func configure(_ args: inout Arguments) {
        latency = args.mandatory("LATENCY", .timestamp) ?? 0
        if let b = args.mandatory("BANDWIDTH", .bandwidth) {
            bandwidth = b
            if b < 100 { args.error("bandwidth too small, minimum 100Bps") }
        }
    }

    public override func initialize() throws(ElementError) {
        timer = makeTimer()
        (task, signal) = startPulling()
    }

    public override func cleanup() {
        task?.unschedule()
        timer?.unschedule()
        dropAll()
    }

    func dropAll() {
        for p in inTransit[transitHead...] { p.kill() }
        inTransit.removeAll(keepingCapacity: true)
        transitHead = 0
    }

    var size: Int { inTransit.count - transitHead }

    public override func runTask(_ task: Task) -> Bool {
        let now = routerNow()
        var worked = false
        // Deliver what has crossed the link.
        withScratchBatch { batch in
            while transitHead < inTransit.count, inTransit[transitHead].timestamp <= now, !batch.isFull {
                batch.append(inTransit[transitHead])
                transitHead += 1
            }
            if batch.count > 0 {
                worked = true
                output(0, &batch)
            }
        }
        if transitHead == inTransit.count {
            inTransit.removeAll(keepingCapacity: true)
            transitHead = 0
        }
        // Put new packets on the link while it is free.
        var pulledNothing = false
        while linkFree <= now {
            var got: Packet?
            withScratchBatch { batch in
                input(0, into: &batch, max: 1)
                if batch.count == 1 { got = batch[0] }
                batch.count = 0
            }
            guard let p = got else {
                pulledNothing = true
                backToBack = false
                break
            }
            // Back to back (the link never went idle), the packet follows the previous one
            // exactly, however late this task ran, as in Click.
            let start = backToBack ? linkFree : Swift.max(now, linkFree)
            backToBack = true
            // The packet's whole length, with what a Truncate or a trace left out (EXTRA_LENGTH).
            let bytes = Double(p.length) + Double(p.annotation32(Annotation.extraLength))
            let transmit = Int64((bytes / bandwidth * 1e9).rounded(.up))
            linkFree = start.saturatingAdd(transmit)
            p.timestamp = linkFree.saturatingAdd(latency)
            inTransit.append(p)
            worked = true
        }
        // Upstream had nothing: keep polling unless its notifiers say it is empty.
        if pulledNothing {
            guard let signal, !signal.isActive else { return worked }
        }
        // Sleep until the next delivery or until the link frees up.
        var wake = Int64.max
        if transitHead < inTransit.count { wake = inTransit[transitHead].timestamp }
        if linkFree > now { wake = Swift.min(wake, linkFree) }
        task.unschedule()
        if wake != Int64.max { timer?.schedule(at: wake) }
        return worked
    }

    public override func runTimer(_ timer: Timer) { task?.schedule() }

    public override func addHandlers(_ h: inout HandlerSet) {
        h.read("latency") { [unowned self] in formatNumber(Double(self.latency) / 1e9) }
        h.read("bandwidth") { [unowned self] in formatNumber(self.bandwidth) }
        h.integer("size", get: { [unowned self] in self.size })
        h.write("reset") { [unowned self] _ in self.dropAll() }
    }
}

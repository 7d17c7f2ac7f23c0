import ClickLanguage
import ClickRuntime

/// Read/write handlers for a time interval in seconds, kept in nanoseconds, read as a
/// Click timestamp.
extension HandlerSet {
    mutating func interval(_ name: String, get: @escaping () -> Int64, set: @escaping (Int64) -> Void) {
        readWrite(name, read: { formatNumber(Double(get()) / 1e9) }, write: { (t: String) throws(ElementError) in
            set(try ValueType.timestamp.written(t))
        })
    }

    /// An interval that must not be zero.
    mutating func positiveInterval(_ name: String, get: @escaping () -> Int64, set: @escaping (Int64) -> Void) {
        readWrite(name, read: { formatNumber(Double(get()) / 1e9) }, write: { (t: String) throws(ElementError) in
            let v = try ValueType.timestamp.written(t)
            guard v > 0 else { throw ElementError("must be positive") }
            set(v)
        })
    }
}

/// DelayUnqueue(DELAY)
///
/// Pulls packets and pushes each out no earlier than its timestamp plus DELAY seconds
/// (a packet without a timestamp gets the current time first); on output the timestamp
/// is the delayed time. Holds at most one packet; sleeps while upstream is empty and
/// until the held packet is due.
///
/// Ports: 1 pull input, 1 push output. Handlers: `delay` (read/write).
public final class DelayUnqueue: Element {
    public override var portCount: String { "1/1" }
    public override var processing: String { "l/h" }
    var delay: Int64 = 0
    var held: Packet?
    var task: Task?
    var timer: Timer?
    var signal: UpstreamSignal?

    public override func configure(_ args: inout Arguments) {
        delay = args.mandatory("DELAY", .timestamp) ?? 0
    }

    public override func initialize() throws(ElementError) {
        let t = makeTask()
        task = t
        timer = makeTimer()
        signal = upstreamEmptySignal(0)
        signal?.addListener(t)
        t.schedule()
    }

    public override func cleanup() {
        task?.unschedule()
        timer?.unschedule()
        held?.kill()
        held = nil
    }

    public override func runTask(_ task: Task) -> Bool {
        let now = router.clock.now()
        var sent = 0
        while sent < 256 {
            if held == nil {
                withScratchBatch { batch in
                    input(0, into: &batch, max: 1)
                    if batch.count == 1 {
                        let p = batch[0]
                        if p.timestamp == 0 { p.timestamp = now }
                        p.timestamp = p.timestamp.saturatingAdd(delay)
                        held = p
                        batch.count = 0
                    }
                }
            }
            guard let p = held else {
                if let signal, !signal.isActive { task.unschedule() }
                return sent > 0
            }
            if p.timestamp > now {
                task.unschedule()
                timer?.schedule(at: p.timestamp)
                return sent > 0
            }
            held = nil
            output(0, single: p)
            sent += 1
        }
        return true
    }

    public override func runTimer(_ timer: Timer) { task?.schedule() }

    public override func addHandlers(_ h: inout HandlerSet) {
        h.interval("delay", get: { [unowned self] in self.delay }, set: { [unowned self] v in self.delay = v })
    }
}

/// DelayShaper(DELAY)
///
/// A pull element that lets each packet through no earlier than its timestamp plus DELAY
/// seconds (a packet without a timestamp gets the current time when pulled); the packet's
/// timestamp becomes the delayed time. Holds at most one packet. It is an empty notifier:
/// inactive while the held packet is not yet due, so the puller sleeps until it is.
///
/// Ports: 1 pull input, 1 pull output. Handlers: `delay` (read/write).
public final class DelayShaper: Element, EmptyNotifier {
    public override var portCount: String { "1/1" }
    public override var processing: String { "l/l" }
    public let emptySignal = NotifierSignal(active: true)
    var delay: Int64 = 0
    var held: Packet?
    var timer: Timer?
    var upstream: UpstreamSignal?

    public override func configure(_ args: inout Arguments) {
        delay = args.mandatory("DELAY", .timestamp) ?? 0
    }

    public override func initialize() throws(ElementError) {
        timer = makeTimer()
        upstream = upstreamEmptySignal(0)
        upstream?.addDependent(emptySignal)
    }

    public override func cleanup() {
        timer?.unschedule()
        held?.kill()
        held = nil
    }

    public override func pull(port: Int, into batch: inout PacketBatch, max: Int) {
        let now = router.clock.now()
        var got = 0
        while got < max && !batch.isFull {
            if held == nil {
                let before = batch.count
                input(0, into: &batch, max: 1)
                guard batch.count > before else { break }
                let p = batch[before]
                batch.count = before
                if p.timestamp == 0 { p.timestamp = now }
                p.timestamp = p.timestamp.saturatingAdd(delay)
                held = p
            }
            guard let p = held else { break }
            if p.timestamp > now {
                timer?.schedule(at: p.timestamp)
                emptySignal.set(false)
                return
            }
            held = nil
            batch.append(p)
            got += 1
        }
        if got == 0, held == nil, let upstream, !upstream.isActive { emptySignal.set(false) }
    }

    public override func runTimer(_ timer: Timer) { emptySignal.set(true) }

    public override func addHandlers(_ h: inout HandlerSet) {
        h.interval("delay", get: { [unowned self] in self.delay }, set: { [unowned self] v in self.delay = v })
    }
}

/// LinkUnqueue(LATENCY, BANDWIDTH)
///
/// Emulates a serial link: pulls a packet only when the link is free, takes its length
/// divided by BANDWIDTH (e.g. `10Mbps`) to put it on the link, and pushes it out LATENCY
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
        let t = makeTask()
        task = t
        timer = makeTimer()
        signal = upstreamEmptySignal(0)
        signal?.addListener(t)
        t.schedule()
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
        let now = router.clock.now()
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
                break
            }
            let start = Swift.max(now, linkFree)
            let transmit = Int64((Double(p.length) / bandwidth * 1e9).rounded(.up))
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

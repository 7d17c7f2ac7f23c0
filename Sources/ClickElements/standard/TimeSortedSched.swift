import ClickLanguage
import ClickRuntime

/// TimeSortedSched([*keywords* STOP, BUFFER])
///
/// Merges packet streams that arrive sorted by timestamp: each pull returns the
/// chronologically next packet among its inputs, keeping up to BUFFER packets (default 1)
/// per input. With STOP true, stops the driver whenever no packets are left and every
/// upstream notifier says none will come (a DriverManager sees each such drain). Its own empty notifier is active while it holds
/// packets or any upstream notifier is active.
///
/// Ports: any number of pull inputs, 1 pull output.
///
/// Handlers: `well_ordered` (read: "false" once an input stream went backwards in time).
public final class TimeSortedSched: Element, EmptyNotifier {
    public override var portCount: String { "-/1" }
    public override var processing: String { "l/l" }
    public let emptySignal = NotifierSignal(active: true)
    var stop = false
    var bufferSize = 1
    /// Per input, its buffered packets in arrival order.
    var buffers: [[Packet]] = []
    var upstream: [UpstreamSignal?] = []
    var lastEmitted = Int64.min
    public private(set) var wellOrdered = true

    public override func configure(_ args: inout Arguments) {
        stop = args.keyword("STOP", .bool) ?? false
        bufferSize = args.keyword("BUFFER", .unsignedInteger) ?? 1
        if bufferSize < 1 { args.error("must be at least 1", keyword: "BUFFER") }
    }

    public override func initialize() throws(ElementError) {
        buffers = Array(repeating: [], count: ninputs)
        upstream = (0..<ninputs).map { upstreamEmptySignal($0) }
        for s in upstream { s?.addDependent(emptySignal) }
    }

    public override func cleanup() {
        for b in buffers { for p in b { p.kill() } }
        buffers = Array(repeating: [], count: ninputs)
    }

    /// Whether input `i` may give more packets (no notifier means "maybe").
    func inputMayHavePackets(_ i: Int) -> Bool { upstream[i]?.isActive ?? true }

    public override func pull(port: Int, into batch: inout PacketBatch, max: Int) {
        var got = 0
        while got < max && !batch.isFull {
            // Top up every buffer that has room and whose input may have packets.
            for i in 0..<ninputs where buffers[i].count < bufferSize && inputMayHavePackets(i) {
                withScratchBatch { scratch in
                    input(i, into: &scratch, max: bufferSize - buffers[i].count)
                    for k in 0..<scratch.count { buffers[i].append(scratch[k]) }
                    scratch.count = 0
                }
            }
            // The earliest buffered packet; ties go to the lower input, then the older.
            var best = -1
            var bestIndex = 0
            var bestTime = Int64.max
            for i in 0..<ninputs {
                for k in buffers[i].indices where best < 0 || buffers[i][k].timestamp < bestTime {
                    best = i
                    bestIndex = k
                    bestTime = buffers[i][k].timestamp
                }
            }
            guard best >= 0 else { break }
            let p = buffers[best].remove(at: bestIndex)
            if p.timestamp < lastEmitted { wellOrdered = false }
            lastEmitted = p.timestamp
            batch.append(p)
            got += 1
        }
        let holding = buffers.contains { !$0.isEmpty }
        let more = (0..<ninputs).contains { inputMayHavePackets($0) }
        emptySignal.set(holding || more)
        // Each time it runs dry, as Click's: a DriverManager's next `wait` sees the next drain.
        if got == 0 && stop && !holding && !more { router.requestStop() }
    }

    public override func addHandlers(_ h: inout HandlerSet) {
        h.boolean("well_ordered", get: { [unowned self] in self.wellOrdered })
    }
}

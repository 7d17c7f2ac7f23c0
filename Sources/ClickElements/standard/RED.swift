import ClickLanguage
import ClickRuntime

/// RED(MIN_THRESH, MAX_THRESH, MAX_P [, *keywords* QUEUES, STABILITY, GENTLE])
///
/// Random Early Detection (Floyd and Jacobson) in front of a queue: keeps an average of
/// the downstream queue lengths (weight 2^-STABILITY, default 4), passes every packet
/// while the average is below MIN_THRESH, drops every packet above MAX_THRESH, and in
/// between drops with a probability rising linearly to MAX_P, spread out by the count
/// since the last drop. With GENTLE true (the default) the probability rises on from
/// MAX_P to 1 between MAX_THRESH and twice MAX_THRESH, and only above that is every packet
/// dropped. The queues are the nearest queues downstream of a push output (upstream of a
/// pull input), or the elements named in QUEUES (space-separated). Dropped packets go to
/// output 1 if it exists.
///
/// Ports: 1 input, 1 or 2 outputs, agnostic (output 1 push).
///
/// Handlers: `min_thresh`, `max_thresh`, `max_p` (read/write), `drops`, `avg_queue_size`,
/// `queues`, `stats` (read).
public final class RED: Element, PacketAction {
    public override var portCount: String { "1/1-2" }
    public override var processing: String { "a/ah" }
    var minThresh = 0
    var maxThresh = 0
    var maxP = 0.0
    var stability = 4
    var gentle = true
    var queueNames: [String] = []
    var queues: [QueueBase] = []
    /// Average queue length.
    public private(set) var average = 0.0
    var countSinceDrop = -1
    /// Click's `_random_value`: uniform in [0, 1), drawn anew after each early drop.
    var randomValue = 0.5
    public private(set) var drops = 0

    public override func configure(_ args: inout Arguments) {
        minThresh = args.mandatory("MIN_THRESH", .unsignedInteger) ?? 0
        maxThresh = args.mandatory("MAX_THRESH", .unsignedInteger) ?? 0
        maxP = args.mandatory("MAX_P", .fixedPoint(fractionBits: 16)) ?? 0
        if let q = args.keyword("QUEUES", .string) { queueNames = q.split(whereSeparator: \.isWhitespace).map(String.init) }
        stability = args.keyword("STABILITY", .unsignedInteger) ?? 4
        gentle = args.keyword("GENTLE", .bool) ?? true
        if maxThresh > 0xFFFF {
            args.error("MAX_THRESH must be <= 65535")
        } else if maxThresh < minThresh {
            args.error("MIN_THRESH must be <= MAX_THRESH")
        } else if maxP < 0 || maxP > 1 {
            args.error("MAX_P must be between 0 and 1")
        } else if stability > 16 {
            args.error("STABILITY must be between 0 and 16")
        }
    }

    public override func initialize() throws(ElementError) {
        randomValue = router.random.unitInterval()
        if !queueNames.isEmpty {
            queues = []
            for name in queueNames {
                guard let e = router.element(named: name) else { throw ElementError("no element named '\(name)'") }
                guard let q = e as? QueueBase else { throw ElementError("'\(name)' is not a Storage element") }
                queues.append(q)
            }
        } else {
            queues = nearestQueues()
            if queues.isEmpty { throw ElementError("no nearby Queues") }
        }
    }

    /// The queues nearest downstream of a push output 0, or upstream of a pull input 0, as
    /// Click's RED finds them: every path is followed to its first queue.
    func nearestQueues() -> [QueueBase] {
        let push = outputIsPush(0)
        var found: [QueueBase] = []
        var seen: Set<ObjectIdentifier> = [ObjectIdentifier(self)]
        var pending: [Element] = [self]
        while let element = pending.popLast(), seen.count < 1024 {
            if element !== self, let q = element as? QueueBase {
                if !found.contains(where: { $0 === q }) { found.append(q) }
                continue
            }
            let next = push ? element.outputTargets : element.inputSources
            guard let next else { continue }
            let ports = push ? element.noutputs : element.ninputs
            for port in 0..<ports where push ? element.outputIsPush(port) : element.inputIsPull(port) {
                if element === self && port > 0 { break }
                let neighbour = next[port].element.takeUnretainedValue()
                if seen.insert(ObjectIdentifier(neighbour)).inserted { pending.append(neighbour) }
            }
        }
        return found
    }

    public override func push(port: Int, _ batch: inout PacketBatch) { pushThrough(&batch) }

    @inline(__always) public func action(_ p: Packet) -> Int {
        var length = 0
        for q in queues { length += q.length }
        let w = 1.0 / Double(1 << stability)
        average += w * (Double(length) - average)
        if average < Double(minThresh) {
            countSinceDrop = -1
            return 0
        }
        let killThresh = gentle && maxP < 1 ? 2 * maxThresh : maxThresh
        var drop = average > Double(killThresh)
        if drop {
            countSinceDrop = -1
        } else {
            countSinceDrop += 1
            let pb = average <= Double(maxThresh)
                ? maxP * (average - Double(minThresh)) / Double(max(maxThresh - minThresh, 1))
                : maxP + (1 - maxP) * (average - Double(maxThresh)) / Double(max(maxThresh, 1))
            // As Click: drops spread evenly, the next after count > R / pb packets.
            drop = countSinceDrop > 0 && pb > 0 && Double(countSinceDrop) * pb > randomValue
        }
        guard drop else { return 0 }
        if countSinceDrop >= 0 {
            countSinceDrop = 0
            randomValue = router.random.unitInterval()
        }
        drops &+= 1
        return noutputs > 1 ? 1 : -1
    }


    public override func takeState(from old: Element) {
        guard let old = old as? RED else { return }
        average = old.average
        drops = old.drops
    }

    public override var normalizedConfiguration: String? {
        "\(minThresh), \(maxThresh), \(formatNumber(maxP)), QUEUES" + queues.map { " " + $0.name }.joined() + ", STABILITY \(stability)"
    }

    public override func addHandlers(_ h: inout HandlerSet) {
        h.integer("min_thresh", get: { [unowned self] in self.minThresh }, set: { [unowned self] (v: Int) throws(ElementError) in
            guard v >= 0, v <= self.maxThresh else { throw ElementError("MIN_THRESH must be between 0 and MAX_THRESH") }
            self.minThresh = v
        })
        h.integer("max_thresh", get: { [unowned self] in self.maxThresh }, set: { [unowned self] (v: Int) throws(ElementError) in
            guard v >= self.minThresh else { throw ElementError("MAX_THRESH must be >= MIN_THRESH") }
            self.maxThresh = v
        })
        h.readWrite("max_p", read: { [unowned self] in formatNumber(self.maxP) }, write: { [unowned self] (t: String) throws(ElementError) in
            guard let v = Double(t.trimmingCharacters()), v >= 0, v <= 1 else { throw ElementError("MAX_P must be between 0 and 1") }
            self.maxP = v
        })
        h.integer("drops", get: { [unowned self] in self.drops })
        h.read("avg_queue_size") { [unowned self] in String(format3(self.average)) }
        h.read("queues") { [unowned self] in self.queues.map(\.name).joined(separator: "\n") }
        h.read("stats") { [unowned self] in
            "\(format3(self.average)) current avg\n\(self.drops) drops\n"
        }
    }
}

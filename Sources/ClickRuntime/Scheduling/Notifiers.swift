/// An element that says whether it can give packets on its pull output (Click's
/// empty notifier): pullers sleep while `emptySignal` is inactive.
public protocol EmptyNotifier: Element {
    var emptySignal: NotifierSignal { get }
}

/// An element that says whether it can take packets on its push input (Click's full
/// notifier): sources pause while `fullSignal` is inactive (the queue is full).
public protocol FullNotifier: Element {
    var fullSignal: NotifierSignal { get }
    /// False for an element that has the signal but does not announce it to upstream
    /// sources (Click's NotifierQueue, FrontDropQueue, MixedQueue).
    var announcesFull: Bool { get }
}

extension FullNotifier {
    public var announcesFull: Bool { true }
}

extension Element {
    /// The empty notifiers upstream of pull input `port`: every pull path is followed
    /// (through pull-through elements and schedulers with several inputs) to its nearest
    /// empty notifier. Nil if some path reaches an element that is not a notifier: then
    /// the input may always have packets and the puller must not sleep.
    public func upstreamEmptySignal(_ port: Int) -> UpstreamSignal? {
        guard let sources = inputSources, port < ninputs, inputIsPull(port) else { return nil }
        var found: [NotifierSignal] = []
        var seen: [ObjectIdentifier] = []
        var pending = [sources[port].element.takeUnretainedValue()]
        while let element = pending.popLast() {
            let id = ObjectIdentifier(element)
            if seen.contains(id) { continue }
            seen.append(id)
            if seen.count > 256 { return nil }
            if let n = element as? any EmptyNotifier {
                if !found.contains(where: { $0 === n.emptySignal }) { found.append(n.emptySignal) }
                continue
            }
            guard let up = element.inputSources else { return nil }
            var pullInputs = 0
            for i in 0..<element.ninputs where element.inputIsPull(i) {
                pending.append(up[i].element.takeUnretainedValue())
                pullInputs += 1
            }
            if pullInputs == 0 { return nil }
        }
        return UpstreamSignal(found)
    }

    /// The nearest full notifier downstream of push output `port`.
    public func downstreamFullSignal(_ port: Int) -> NotifierSignal? {
        guard let targets = outputTargets, port < noutputs, outputIsPush(port) else { return nil }
        var element = targets[port].element.takeUnretainedValue()
        for _ in 0..<64 {
            if let n = element as? any FullNotifier { return n.announcesFull ? n.fullSignal : nil }
            guard element.noutputs > 0, element.outputIsPush(0), let down = element.outputTargets else { return nil }
            element = down[0].element.takeUnretainedValue()
        }
        return nil
    }
}

/// The union of the empty notifiers upstream of a pull input: active when any of them is
/// (some upstream queue may have a packet); a listener is woken when any becomes active.
public struct UpstreamSignal {
    public let signals: [NotifierSignal]

    public init(_ signals: [NotifierSignal]) { self.signals = signals }

    @inline(__always) public var isActive: Bool {
        for s in signals where s.isActive { return true }
        return false
    }

    public func addListener(_ task: Task) {
        for s in signals { s.addListener(task) }
    }

    public func addDependent(_ signal: NotifierSignal) {
        for s in signals { s.addDependent(signal) }
    }
}

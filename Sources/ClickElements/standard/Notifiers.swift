import ClickLanguage
import ClickRuntime

/// An element that says whether it can give packets on its pull output (Click's
/// empty notifier): pullers sleep while `emptySignal` is inactive.
public protocol EmptyNotifier: Element {
    var emptySignal: NotifierSignal { get }
}

/// An element that says whether it can take packets on its push input (Click's full
/// notifier): sources pause while `fullSignal` is inactive (the queue is full).
public protocol FullNotifier: Element {
    var fullSignal: NotifierSignal { get }
}

extension Element {
    /// The nearest empty notifier upstream of pull input `port`, following pull-through
    /// elements' input 0; nil if there is none (then the input is always "maybe nonempty").
    public func upstreamEmptySignal(_ port: Int) -> NotifierSignal? {
        guard let sources = inputSources, port < ninputs, inputIsPull(port) else { return nil }
        var element = sources[port].element.takeUnretainedValue()
        for _ in 0..<64 {
            if let n = element as? any EmptyNotifier { return n.emptySignal }
            guard element.ninputs > 0, element.inputIsPull(0), let up = element.inputSources else { return nil }
            element = up[0].element.takeUnretainedValue()
        }
        return nil
    }

    /// The nearest full notifier downstream of push output `port`.
    public func downstreamFullSignal(_ port: Int) -> NotifierSignal? {
        guard let targets = outputTargets, port < noutputs, outputIsPush(port) else { return nil }
        var element = targets[port].element.takeUnretainedValue()
        for _ in 0..<64 {
            if let n = element as? any FullNotifier { return n.fullSignal }
            guard element.noutputs > 0, element.outputIsPush(0), let down = element.outputTargets else { return nil }
            element = down[0].element.takeUnretainedValue()
        }
        return nil
    }
}

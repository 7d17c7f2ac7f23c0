import ClickRuntime

/// How a VM port's receiver waits for packets: memif's interrupt moderation, kept out of
/// the element that receives. While frames keep coming the receiver polls. When the link
/// runs dry after carrying traffic it first spins briefly (a sender with its own core
/// refills the ring within microseconds), then naps for 25 µs without asking the peer for
/// an interrupt (as NICs moderate: at moderate rates a wake-up per packet would cost more
/// CPU than the packets); only when a nap finds nothing does it ask for an interrupt and
/// sleep until one comes, so an idle VM uses no CPU and a lone packet is not delayed by a
/// nap. A port set up to poll (`mode=poll`) never sleeps, as DPDK's receivers do.
public struct ReceivePacing {
    /// What the receiver should do after a poll that found nothing.
    public enum Step: Equatable {
        /// Pause the CPU briefly and poll again on the next task run.
        case spin
        /// Stop polling and poll again after this many nanoseconds, interrupts still masked.
        case nap(nanoseconds: Int64)
        /// Unmask the port's interrupt, look once more, then sleep until the interrupt.
        case sleepOnInterrupt
        /// Keep polling.
        case pollAgain
    }

    /// Empty polls before the receiver naps or sleeps.
    public static let pollsBeforeSleep = 4
    /// How long after the last arrival the receiver keeps spinning.
    public static let spinNanoseconds: Int64 = 20_000
    /// The moderation nap.
    public static let napNanoseconds: Int64 = 25_000

    private var emptyPolls = 0
    private var receivedSinceNap = 0
    private var lastArrival: Int64 = 0

    public init() {}

    /// A poll found `count` packets (count > 0).
    public mutating func received(_ count: Int) {
        emptyPolls = 0
        receivedSinceNap &+= count
        lastArrival = monotonicNanoseconds()
    }

    /// The receiver was woken (link up, interrupt): start counting empty polls afresh.
    public mutating func woken() {
        emptyPolls = 0
    }

    /// A poll found nothing on a connected port: what to do next.
    public mutating func foundNothing(polling: Bool) -> Step {
        if polling { return .spin }
        emptyPolls += 1
        guard emptyPolls >= Self.pollsBeforeSleep else { return .pollAgain }
        if receivedSinceNap > 0 {
            if monotonicNanoseconds() - lastArrival < Self.spinNanoseconds { return .spin }
            // Traffic was flowing: nap with interrupts still masked, then look again.
            receivedSinceNap = 0
            emptyPolls = 0
            return .nap(nanoseconds: Self.napNanoseconds)
        }
        return .sleepOnInterrupt
    }
}

/// How a VM port's sender backs off a full link: memif has no "room again" interrupt, so
/// the sender polls a full link for 20 µs, then naps 20 µs before looking again (the
/// frames wait upstream meanwhile) instead of spinning.
public struct TransmitBackoff {
    /// How long a full link is polled before the sender naps.
    public static let spinNanoseconds: Int64 = 20_000
    /// The nap.
    public static let retryNanoseconds: Int64 = 20_000

    private var fullSince: Int64 = 0

    public init() {}

    /// The link had room.
    public mutating func hadRoom() { fullSince = 0 }

    /// The link is full: nil to poll again now, or how long to nap.
    public mutating func full() -> Int64? {
        let now = monotonicNanoseconds()
        if fullSince == 0 { fullSince = now }
        if now - fullSince < Self.spinNanoseconds { return nil }
        fullSince = 0
        return Self.retryNanoseconds
    }
}

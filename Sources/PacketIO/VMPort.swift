import ClickRuntime

/// A VM's numbered packet port as its `FromDevice(N)` and `ToDevice(N)` elements use it.
/// PacketIO implements it with memif (`MemifPort`). Ports belong to the
/// VM, not to a router, so they survive hot reconfiguration: the new router's elements
/// take over the same port and no queued packet is lost.
public protocol VMPort: AnyObject {
    /// True while the link is up (packets can move).
    var isConnected: Bool { get }
    /// `up`, or `down` and why (for the `link` handlers).
    var linkDescription: String { get }
    /// Copies waiting packets into `batch` until it is full; returns how many were added.
    func receive(into batch: inout PacketBatch, pool: PacketPool) -> Int
    /// Sends `batch[start...]` as far as there is room; returns how many were sent. The
    /// packets stay the caller's (sending copies them).
    func transmit(_ batch: PacketBatch, from start: Int) -> Int
    /// Packets that could be sent now.
    var transmitSpace: Int { get }
    /// Counts packets the element had to drop for this port (no room, link down).
    func countTransmitDrops(_ count: Int)
    /// True when the port was set up to poll (no interrupts): its receiver never sleeps.
    var isPolling: Bool { get }
    /// Descriptors that become readable when packets arrive while interrupts are enabled.
    var receiveInterruptDescriptors: [Int32] { get }
    /// Enables (the receiver will sleep) or disables (it polls) arrival interrupts.
    func enableReceiveInterrupts(_ enabled: Bool)
    /// True when a receive would find packets.
    var hasPendingReceive: Bool { get }
    /// Consumes an interrupt on `fd`.
    func acknowledgeInterrupt(fd: Int32)
    /// Elements to tell when the port connects or disconnects. Not retained: an observer
    /// removes itself before it goes.
    func addObserver(_ observer: any VMPortObserver)
    func removeObserver(_ observer: any VMPortObserver)
}

/// Told when a VM port's link goes up or down (its interrupt descriptors change then).
public protocol VMPortObserver: AnyObject {
    func portStateChanged()
}

/// The ports of one VM, by number, and what keeps them alive between packets (their
/// control sockets, reconnection timers), served by whichever router thread runs now. A
/// router finds it among its services (`router.service((any VMPortProvider).self)`).
public protocol VMPortProvider: RouterService {
    func port(_ number: Int) -> (any VMPort)?
}

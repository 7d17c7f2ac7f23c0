#if canImport(Glibc)
import Glibc
#endif
import CShims
import VMInterface
import ClickRuntime

/// One memif interface (`reference/memif.md`), in either role: the control handshake, the
/// shared-memory rings, and batched receive and transmit. Used by one thread.
///
/// A client creates all shared memory and connects to the server's socket, retrying while
/// the server is absent and after it goes away; a server waits for its client on a
/// `MemifListener`. Every protocol error ends the connection with a DISCONNECT that says
/// why. Packets are copied exactly once each way (into the peer-visible buffer on send,
/// out of it into the packet pool on receive), as the non-zero-copy protocol requires.
public final class MemifPort: VMPort {
    public let configuration: MemifConfiguration
    public var role: MemifConfiguration.Role { configuration.role }

    public enum State: String, Sendable {
        /// No connection (a client retries; a server waits).
        case disconnected
        /// The handshake is running.
        case connecting
        case connected
    }

    public internal(set) var state: State = .disconnected
    /// Why the last connection ended (or failed), in the protocol's words.
    public internal(set) var lastDisconnectReason: String?
    /// The peer's name (HELLO or INIT) and interface name (CONNECT/CONNECTED).
    public internal(set) var peerName = ""
    public var counters: PortCounters

    /// Called when the set of control descriptors changes (a connection came or went).
    var descriptorsChanged: () -> Void = {}

    // Control connection and handshake.
    var connection: Int32 = -1
    enum Stage {
        case idle
        /// Client: waiting for HELLO, then for the ACK of INIT, ADD_REGION, each ADD_RING.
        case awaitingHello, awaitingInitAck, awaitingRegionAck, awaitingRingAck(Int), awaitingConnected
        /// Server: bound by INIT; receiving regions and rings until CONNECT.
        case receivingSetup
        case up
    }
    var stage: Stage = .idle

    // Shared memory.
    var regions: [MemifRegion] = []
    /// Base and size of each mapped region, in a table allocated once: the data path
    /// reads it per descriptor without touching reference counts.
    struct RegionEntry {
        var base: UnsafeMutableRawPointer?
        var size: Int
    }
    let regionTable = UnsafeMutablePointer<RegionEntry>.allocate(capacity: 256)
    var regionCount = 0
    /// The configured buffer size, kept as a plain integer for the data path.
    let bufferSize: Int
    /// Rings this side receives on (server: C2S; client: S2C) and sends on.
    var rxRings: [MemifRing] = []
    var txRings: [MemifRing] = []
    var rxEvents: [Int32] = []
    var txEvents: [Int32] = []
    /// Receive cursors: server `last_head` per C2S ring, client `last_tail` per S2C ring.
    var rxCursor: [UInt16] = []
    /// Send cursors: client `head` per C2S ring, server `tail` per S2C ring.
    var txCursor: [UInt16] = []
    /// Client: `head` of each S2C ring (its refill position).
    var refillHead: [UInt16] = []
    /// Client: where the packet buffers start in region 0, and the C2S/S2C ring counts.
    var bufferBase = 0
    var c2sCount = 0
    var s2cCount = 0
    var log2Size = 10
    var rxNext = 0
    var interruptsEnabled = true

    // Server: ADD_RING messages received before CONNECT.
    struct PendingRing {
        var c2s: Bool
        var index: Int
        var region: Int
        var offset: Int
        var log2Size: Int
        var eventFD: Int32
    }
    var pendingRings: [PendingRing] = []

    /// Not retained, and not weak either: a weak reference would move the elements'
    /// reference counts to side tables, which costs on every packet. Observers remove
    /// themselves in `cleanup`, before they go.
    var observers: [ObserverReference] = []
    struct ObserverReference {
        unowned(unsafe) let observer: any VMPortObserver
    }

    public init(_ configuration: MemifConfiguration, counters: PortCounters? = nil) {
        self.configuration = configuration
        self.counters = counters ?? PortCounters.allocate()
        self.log2Size = configuration.log2RingSize
        self.bufferSize = configuration.bufferSize
        regionTable.initialize(repeating: RegionEntry(base: nil, size: 0), count: 256)
    }

    deinit {
        teardown()
        regionTable.deallocate()
    }

    func setRegions(_ list: [MemifRegion]) {
        regionCount = min(list.count, 256)
        for (i, r) in list.prefix(256).enumerated() { regionTable[i] = RegionEntry(base: r.base, size: r.size) }
    }

    public var isConnected: Bool { state == .connected }

    public var linkDescription: String {
        switch state {
        case .connected: "up (peer \(peerName.isEmpty ? "unnamed" : peerName))"
        case .connecting: "connecting"
        case .disconnected: "down" + (lastDisconnectReason.map { " (\($0))" } ?? (role == .server ? " (waiting for a client)" : ""))
        }
    }


    /// The link went down with packets still in the receive rings: they can be read
    /// until the rings are empty; then (or at the next connection) the memory goes.
    var draining = false

    /// How many lost regions (see `MemifRegion.map`) this port has looked into.
    var lostRegionEventsSeen: UInt = 0

    // MARK: Observers

    public func addObserver(_ observer: any VMPortObserver) {
        observers.removeAll { $0.observer === observer }
        observers.append(ObserverReference(observer: observer))
    }

    public func removeObserver(_ observer: any VMPortObserver) {
        observers.removeAll { $0.observer === observer }
    }

    func notifyObservers() {
        for o in observers { o.observer.portStateChanged() }
    }

    // MARK: Interrupts

    public var isPolling: Bool { configuration.polling }

    public var receiveInterruptDescriptors: [Int32] { state == .connected ? rxEvents : [] }

    public func enableReceiveInterrupts(_ enabled: Bool) {
        interruptsEnabled = enabled
        applyInterruptMask()
    }

    func applyInterruptMask() {
        let masked = configuration.polling || !interruptsEnabled
        for r in rxRings { r.flags = masked ? MemifRing.maskInterrupt : 0 }
        // The peer reads the mask after publishing; our next look at its index must come
        // after the mask is visible, or a wake-up could fall between the two.
        clickos_fence()
    }

    public var hasPendingReceive: Bool {
        guard state == .connected || draining else { return false }
        for i in rxRings.indices {
            let published = role == .server ? rxRings[i].head : rxRings[i].tail
            if published != rxCursor[i] { return true }
        }
        return false
    }

    public func acknowledgeInterrupt(fd: Int32) {
        var value: UInt64 = 0
        _ = read(fd, &value, 8)
    }

    @inline(__always) func signal(_ ring: MemifRing, _ event: Int32) {
        clickos_fence()
        if ring.flags & MemifRing.maskInterrupt == 0 {
            var one: UInt64 = 1
            _ = write(event, &one, 8)
        }
    }

}

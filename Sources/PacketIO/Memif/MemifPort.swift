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

    public private(set) var state: State = .disconnected
    /// Why the last connection ended (or failed), in the protocol's words.
    public private(set) var lastDisconnectReason: String?
    /// The peer's name (HELLO or INIT) and interface name (CONNECT/CONNECTED).
    public private(set) var peerName = ""
    public var counters: PortCounters

    /// Called when the set of control descriptors changes (a connection came or went).
    var descriptorsChanged: () -> Void = {}

    // Control connection and handshake.
    private(set) var connection: Int32 = -1
    private enum Stage {
        case idle
        /// Client: waiting for HELLO, then for the ACK of INIT, ADD_REGION, each ADD_RING.
        case awaitingHello, awaitingInitAck, awaitingRegionAck, awaitingRingAck(Int), awaitingConnected
        /// Server: bound by INIT; receiving regions and rings until CONNECT.
        case receivingSetup
        case up
    }
    private var stage: Stage = .idle

    // Shared memory.
    private var regions: [MemifRegion] = []
    /// Base and size of each mapped region, in a table allocated once: the data path
    /// reads it per descriptor without touching reference counts.
    private struct RegionEntry {
        var base: UnsafeMutableRawPointer?
        var size: Int
    }
    private let regionTable = UnsafeMutablePointer<RegionEntry>.allocate(capacity: 256)
    private var regionCount = 0
    /// The configured buffer size, kept as a plain integer for the data path.
    private let bufferSize: Int
    /// Rings this side receives on (server: C2S; client: S2C) and sends on.
    private var rxRings: [MemifRing] = []
    private var txRings: [MemifRing] = []
    private var rxEvents: [Int32] = []
    private var txEvents: [Int32] = []
    /// Receive cursors: server `last_head` per C2S ring, client `last_tail` per S2C ring.
    private var rxCursor: [UInt16] = []
    /// Send cursors: client `head` per C2S ring, server `tail` per S2C ring.
    private var txCursor: [UInt16] = []
    /// Client: `head` of each S2C ring (its refill position).
    private var refillHead: [UInt16] = []
    /// Client: where the packet buffers start in region 0, and the C2S/S2C ring counts.
    private var bufferBase = 0
    private var c2sCount = 0
    private var s2cCount = 0
    private var log2Size = 10
    private var rxNext = 0
    private var interruptsEnabled = true

    // Server: ADD_RING messages received before CONNECT.
    private struct PendingRing {
        var c2s: Bool
        var index: Int
        var region: Int
        var offset: Int
        var log2Size: Int
        var eventFD: Int32
    }
    private var pendingRings: [PendingRing] = []

    /// Not retained, and not weak either: a weak reference would move the elements'
    /// reference counts to side tables, which costs on every packet. Observers remove
    /// themselves in `cleanup`, before they go.
    private var observers: [ObserverReference] = []
    private struct ObserverReference {
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

    private func setRegions(_ list: [MemifRegion]) {
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

    // MARK: Observers

    public func addObserver(_ observer: any VMPortObserver) {
        observers.removeAll { $0.observer === observer }
        observers.append(ObserverReference(observer: observer))
    }

    public func removeObserver(_ observer: any VMPortObserver) {
        observers.removeAll { $0.observer === observer }
    }

    private func notifyObservers() {
        for o in observers { o.observer.portStateChanged() }
    }

    // MARK: Control: client

    /// Client: tries to connect to the server now; false if the server is not there
    /// (the port set retries later).
    @discardableResult
    func connectToServer() -> Bool {
        guard role == .client, state == .disconnected else { return false }
        if draining { finishDraining() }
        let fd = clickos_seqpacket_connect(configuration.socketPath)
        guard fd >= 0 else {
            let reason = String(cString: strerror(errno))
            if !(lastDisconnectReason?.hasPrefix("connect") ?? false) {
                lastDisconnectReason = "connect \(configuration.socketPath): \(reason)"
            }
            return false
        }
        connection = fd
        state = .connecting
        stage = .awaitingHello
        descriptorsChanged()
        return true
    }

    /// Server: takes a connection whose INIT named this interface (the listener checked
    /// the id, the secret and the version) and acknowledges it.
    func adopt(connection fd: Int32, peerName: String) {
        if draining { finishDraining() }
        connection = fd
        state = .connecting
        stage = .receivingSetup
        self.peerName = peerName
        send(.ack)
        descriptorsChanged()
    }

    /// Reads and handles every message waiting on the control connection.
    func handleControl() {
        guard connection >= 0 else { return }
        var buffer = [UInt8](repeating: 0, count: MemifMessage.size + 1)
        while connection >= 0 {
            var passed: Int32 = -1
            var truncated: Int32 = 0
            let n = buffer.withUnsafeMutableBytes {
                clickos_seqpacket_receive(connection, $0.baseAddress, UInt32($0.count), &passed, &truncated)
            }
            if n < 0 {
                if errno == EAGAIN || errno == EWOULDBLOCK { return }
                disconnect(reason: "control socket: \(String(cString: strerror(errno)))", tellPeer: false)
                return
            }
            if n == 0 {
                disconnect(reason: "peer closed the connection", tellPeer: false)
                return
            }
            let decoded = buffer.withUnsafeBytes { MemifMessage.decode(UnsafeRawBufferPointer(rebasing: $0[0..<(truncated != 0 ? $0.count : n)])) }
            switch decoded {
            case .failure(let error):
                if passed >= 0 { close(passed) }
                disconnect(reason: error.reason, tellPeer: true)
                return
            case .success(let message):
                handle(message, passedFD: passed)
            }
        }
    }

    private func handle(_ message: MemifMessage, passedFD: Int32) {
        // Descriptors come only with ADD_REGION and ADD_RING; any other one is closed.
        var fd = passedFD
        defer { if fd >= 0 { close(fd) } }
        if case let .disconnect(code, reason) = message {
            disconnect(reason: "peer disconnected: \(reason)\(code != 0 ? " (code \(code))" : "")", tellPeer: false)
            return
        }
        switch (stage, message) {
        case let (.awaitingHello, .hello(name, minVersion, maxVersion, _, maxS2C, maxC2S, maxLog2)):
            guard minVersion <= MemifMessage.version && MemifMessage.version <= maxVersion else {
                disconnect(reason: "Incompatible memif version", tellPeer: true)
                return
            }
            peerName = name
            c2sCount = min(configuration.ringsPerDirection, Int(maxC2S) + 1)
            s2cCount = min(configuration.ringsPerDirection, Int(maxS2C) + 1)
            log2Size = min(configuration.log2RingSize, Int(maxLog2))
            guard c2sCount > 0, s2cCount > 0, log2Size > 0, createClientMemory() else {
                disconnect(reason: "Failed to create shared memory", tellPeer: true)
                return
            }
            send(.initialize(version: MemifMessage.version, id: configuration.id, mode: 0, secret: configuration.secret,
                             name: configuration.name))
            stage = .awaitingInitAck
        case (.awaitingInitAck, .ack):
            let region = regions[0]
            send(.addRegion(index: 0, size: UInt64(region.size)), passing: region.fd)
            stage = .awaitingRegionAck
        case (.awaitingRegionAck, .ack):
            sendRing(0)
        case let (.awaitingRingAck(k), .ack):
            if k + 1 < c2sCount + s2cCount {
                sendRing(k + 1)
            } else {
                send(.connect(interfaceName: configuration.name))
                stage = .awaitingConnected
            }
        case let (.awaitingConnected, .connected(name)):
            peerName = name.isEmpty ? peerName : name
            linkUp()
        case let (.receivingSetup, .addRegion(index, size)):
            guard fd >= 0 else {
                disconnect(reason: "Missing region fd", tellPeer: true)
                return
            }
            guard Int(index) == regions.count, regions.count < 256 else {
                disconnect(reason: "Invalid region index", tellPeer: true)
                return
            }
            guard size > 0, size < 1 << 40, let region = MemifRegion.map(fd: fd, size: Int(size)) else {
                disconnect(reason: "Failed to mmap region", tellPeer: true)
                return
            }
            fd = -1  // the region owns it now
            regions.append(region)
            send(.ack)
        case let (.receivingSetup, .addRing(flags, index, region, offset, log2, privateHeader)):
            guard fd >= 0 else {
                disconnect(reason: "Missing interrupt fd", tellPeer: true)
                return
            }
            let c2s = flags & MemifMessage.ringC2S != 0
            let sameDirection = pendingRings.filter { $0.c2s == c2s }.count
            guard Int(index) == sameDirection, Int(index) < configuration.ringsPerDirection else {
                disconnect(reason: "Invalid ring index", tellPeer: true)
                return
            }
            guard Int(region) < regions.count, log2 >= 1, log2 <= 14, privateHeader == 0,
                Int(offset) + MemifRing.byteCount(log2Size: Int(log2)) <= regions[Int(region)].size
            else {
                disconnect(reason: "Invalid ring", tellPeer: true)
                return
            }
            pendingRings.append(PendingRing(c2s: c2s, index: Int(index), region: Int(region), offset: Int(offset),
                                            log2Size: Int(log2), eventFD: fd))
            fd = -1
            send(.ack)
        case let (.receivingSetup, .connect(name)):
            serverConnect(interfaceName: name)
        default:
            disconnect(reason: "Unexpected message", tellPeer: true)
        }
    }

    private func sendRing(_ k: Int) {
        let c2s = k < c2sCount
        let index = c2s ? k : k - c2sCount
        let event = c2s ? txEvents[index] : rxEvents[index]
        let offset = k * MemifRing.byteCount(log2Size: log2Size)
        send(.addRing(flags: c2s ? MemifMessage.ringC2S : 0, index: UInt16(index), region: 0, offset: UInt32(offset),
                      log2Size: UInt8(log2Size), privateHeaderSize: 0), passing: event)
        stage = .awaitingRingAck(k)
    }

    /// Client: one region holding every ring, then one buffer per slot of every ring.
    private func createClientMemory() -> Bool {
        let ringBytes = MemifRing.byteCount(log2Size: log2Size)
        let rings = c2sCount + s2cCount
        bufferBase = (rings * ringBytes + 4095) & ~4095
        let size = bufferBase + rings * (1 << log2Size) * bufferSize
        guard let region = MemifRegion.create(size: size) else { return false }
        regions = [region]
        setRegions(regions)
        txRings = []
        rxRings = []
        for k in 0..<rings {
            let ring = MemifRing(base: region.base + k * ringBytes, log2Size: log2Size)
            ring.initialize()
            for slot in 0..<(1 << log2Size) {
                let d = ring.descriptor(UInt16(slot))
                d.memifFlags = 0
                d.memifRegion = 0
                d.memifLength = UInt32(bufferSize)
                d.memifOffset = UInt32(clientBufferOffset(ring: k, slot: slot))
                d.storeBytes(of: UInt32(0), toByteOffset: 12, as: UInt32.self)
            }
            if k < c2sCount { txRings.append(ring) } else { rxRings.append(ring) }
        }
        txEvents = (0..<c2sCount).map { _ in clickos_eventfd() }
        rxEvents = (0..<s2cCount).map { _ in clickos_eventfd() }
        return !(txEvents + rxEvents).contains(-1)
    }

    @inline(__always) private func clientBufferOffset(ring: Int, slot: Int) -> Int {
        bufferBase + (ring << log2Size + slot) * bufferSize
    }

    /// Server: CONNECT received. Checks every ring, resets the indices, goes up.
    private func serverConnect(interfaceName: String) {
        let c2s = pendingRings.filter(\.c2s).sorted { $0.index < $1.index }
        let s2c = pendingRings.filter { !$0.c2s }.sorted { $0.index < $1.index }
        guard !c2s.isEmpty, !s2c.isEmpty else {
            disconnect(reason: "Missing ring", tellPeer: true)
            return
        }
        setRegions(regions)
        func ring(_ p: PendingRing) -> MemifRing { MemifRing(base: regions[p.region].base + p.offset, log2Size: p.log2Size) }
        rxRings = c2s.map(ring)
        txRings = s2c.map(ring)
        rxEvents = c2s.map(\.eventFD)
        txEvents = s2c.map(\.eventFD)
        pendingRings = []
        for r in rxRings + txRings where r.cookie != MemifMessage.cookie {
            disconnect(reason: "Wrong ring", tellPeer: true)
            return
        }
        for r in rxRings + txRings {
            r.head = 0
            r.tail = 0
        }
        peerName = interfaceName.isEmpty ? peerName : interfaceName
        send(.connected(interfaceName: configuration.name))
        linkUp()
    }

    private func linkUp() {
        rxCursor = Array(repeating: 0, count: rxRings.count)
        txCursor = Array(repeating: 0, count: txRings.count)
        if role == .client {
            for r in rxRings + txRings {
                r.head = 0
                r.tail = 0
            }
            refillHead = Array(repeating: 0, count: rxRings.count)
            for i in rxRings.indices { refill(i) }
        }
        state = .connected
        stage = .up
        applyInterruptMask()
        counters[.linkUp] = 1
        counters.add(.connects, 1)
        descriptorsChanged()
        notifyObservers()
    }

    // MARK: Disconnecting

    /// Ends the connection: tells the peer why (when it is a protocol error of ours to
    /// report), frees the shared memory, and notifies.
    func disconnect(reason: String, tellPeer: Bool) {
        if tellPeer && connection >= 0 { send(.disconnect(code: 0, reason: reason)) }
        lastDisconnectReason = reason
        let wasUp = state == .connected
        // A peer that leaves may have published packets we have not read yet: keep the
        // rings mapped until the receiver has taken them (a protocol error of ours drops
        // them: the memory may not be what it claims).
        teardown(keepReceiveRings: wasUp && !tellPeer)
        descriptorsChanged()
        if wasUp { notifyObservers() }
    }

    /// The link went down with packets still in the receive rings: they can be read
    /// until the rings are empty; then (or at the next connection) the memory goes.
    private var draining = false

    private func finishDraining() {
        draining = false
        rxRings = []
        txRings = []
        rxCursor = []
        txCursor = []
        refillHead = []
        regions = []
        regionCount = 0
    }

    /// Closes the port for good (the VM stops).
    public func shutdown() {
        if connection >= 0 { send(.disconnect(code: 0, reason: "interface shut down")) }
        let wasUp = state == .connected
        teardown()
        if wasUp { notifyObservers() }
    }

    private func teardown(keepReceiveRings: Bool = false) {
        if connection >= 0 {
            close(connection)
            connection = -1
        }
        for p in pendingRings { close(p.eventFD) }
        pendingRings = []
        for fd in rxEvents + txEvents where fd >= 0 { close(fd) }
        rxEvents = []
        txEvents = []
        if keepReceiveRings && hasPendingReceive {
            draining = true
        } else {
            finishDraining()
        }
        state = .disconnected
        stage = .idle
        counters[.linkUp] = 0
    }

    private func send(_ message: MemifMessage, passing fd: Int32 = -1) {
        guard connection >= 0 else { return }
        let bytes = message.encoded()
        let n = bytes.withUnsafeBytes { clickos_seqpacket_send(connection, $0.baseAddress, UInt32($0.count), fd) }
        if n != MemifMessage.size && message.typeCode != 8 {
            // The peer is gone or not reading; the next read reports it.
            lastDisconnectReason = "control socket send failed: \(String(cString: strerror(errno)))"
        }
    }

    // MARK: Interrupts

    public var isPolling: Bool { configuration.polling }

    public var receiveInterruptDescriptors: [Int32] { state == .connected ? rxEvents : [] }

    public func enableReceiveInterrupts(_ enabled: Bool) {
        interruptsEnabled = enabled
        applyInterruptMask()
    }

    private func applyInterruptMask() {
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

    @inline(__always) private func signal(_ ring: MemifRing, _ event: Int32) {
        clickos_fence()
        if ring.flags & MemifRing.maskInterrupt == 0 {
            var one: UInt64 = 1
            _ = write(event, &one, 8)
        }
    }

    // MARK: Receiving

    /// How many lost regions (see `MemifRegion.map`) this port has looked into.
    private var lostRegionEventsSeen: UInt = 0

    /// Server: after any region in the process was lost, drops the link if one of ours
    /// was (the peer shrank it). Returns true when the link is still usable.
    @inline(__always) private func regionsIntact() -> Bool {
        let events = clickos_lost_region_events()
        guard events != lostRegionEventsSeen else { return true }
        lostRegionEventsSeen = events
        guard regions.contains(where: \.isLost) else { return true }
        if draining { finishDraining() }
        if state != .disconnected { disconnect(reason: "Region shrunk by the peer", tellPeer: true) }
        return false
    }

    public func receive(into batch: inout PacketBatch, pool: PacketPool) -> Int {
        guard state == .connected || draining else { return 0 }
        guard role == .client || regionsIntact() else { return 0 }
        let before = batch.count
        let rings = rxRings.count
        for k in 0..<rings where !batch.isFull {
            let i = (rxNext + k) % rings
            if role == .server { receiveServer(i, &batch, pool) } else { receiveClient(i, &batch, pool) }
        }
        rxNext = (rxNext + 1) % max(rings, 1)
        if role == .server && !regionsIntact() {
            // The region went while we read it: what came out of it is zeros, not packets.
            let bogus = batch.count - before
            for i in before..<batch.count { batch[i].kill() }
            batch.count = before
            counters.add(.receivedPackets, -bogus)
            counters.add(.receiveDrops, bogus)
            return 0
        }
        if draining && !hasPendingReceive { finishDraining() }
        return batch.count - before
    }

    /// Copies the packet starting at slot `cursor` into a pool packet; returns the slot
    /// after it, or nil when the packet is not complete yet (its chain runs to `end`).
    @inline(__always)
    private func copyOut(_ ring: MemifRing, from cursor: UInt16, end: UInt16, pool: PacketPool, into batch: inout PacketBatch,
                         bytes: inout Int, drops: inout Int) -> UInt16? {
        var slot = cursor
        let packet: Packet? = pool.make()
        var valid = true
        while true {
            if slot == end { packet?.kill(); return nil }
            let d = ring.descriptor(slot)
            let flags = d.memifFlags
            let region = Int(d.memifRegion)
            let length = Int(d.memifLength)
            let offset = Int(d.memifOffset)
            slot &+= 1
            if valid, let p = packet {
                if region < regionCount, offset + length <= regionTable[region].size, let base = regionTable[region].base, p.put(length) {
                    (p.data + (p.length - length)).copyMemory(from: base + offset, byteCount: length)
                } else {
                    valid = false
                }
            }
            if flags & MemifRing.next == 0 { break }
        }
        if let p = packet, valid {
            p.setMACHeader(at: 0)
            bytes &+= p.length
            batch.append(p)
        } else {
            packet?.kill()
            drops &+= 1
        }
        return slot
    }

    private func receiveServer(_ i: Int, _ batch: inout PacketBatch, _ pool: PacketPool) {
        let ring = rxRings[i]
        let head = ring.head
        var cursor = rxCursor[i]
        guard cursor != head else { return }
        var bytes = 0, drops = 0, count = 0
        while cursor != head && !batch.isFull {
            guard let next = copyOut(ring, from: cursor, end: head, pool: pool, into: &batch, bytes: &bytes, drops: &drops) else { break }
            cursor = next
            count += 1
        }
        rxCursor[i] = cursor
        ring.tail = cursor
        counters.add(.receivedPackets, count - drops)
        counters.add(.receivedBytes, bytes)
        if drops > 0 { counters.add(.receiveDrops, drops) }
    }

    private func receiveClient(_ i: Int, _ batch: inout PacketBatch, _ pool: PacketPool) {
        let ring = rxRings[i]
        let tail = ring.tail
        var cursor = rxCursor[i]
        guard cursor != tail else { return }
        var bytes = 0, drops = 0, count = 0
        while cursor != tail && !batch.isFull {
            guard let next = copyOut(ring, from: cursor, end: tail, pool: pool, into: &batch, bytes: &bytes, drops: &drops) else { break }
            cursor = next
            count += 1
        }
        rxCursor[i] = cursor
        refill(i)
        counters.add(.receivedPackets, count - drops)
        counters.add(.receivedBytes, bytes)
        if drops > 0 { counters.add(.receiveDrops, drops) }
    }

    /// Client: hands every consumed S2C slot back to the server with a full buffer.
    private func refill(_ i: Int) {
        let ring = rxRings[i]
        var head = refillHead[i]
        let free = (1 << log2Size) - Int(head &- rxCursor[i])
        guard free > 0 else { return }
        let ringNumber = c2sCount + i
        for _ in 0..<free {
            let d = ring.descriptor(head)
            // Rewritten every time: the server may only change length and flags, and
            // must not be able to point our receive path elsewhere.
            d.memifFlags = 0
            d.memifRegion = 0
            d.memifOffset = UInt32(clientBufferOffset(ring: ringNumber, slot: Int(head) & ((1 << log2Size) - 1)))
            d.memifLength = UInt32(bufferSize)
            head &+= 1
        }
        refillHead[i] = head
        ring.head = head
    }

    // MARK: Sending

    /// Room in the fullest transmit ring: with several rings a packet's ring depends on
    /// its flow, and this many packets fit whichever rings they go to.
    public var transmitSpace: Int {
        guard state == .connected, !txRings.isEmpty else { return 0 }
        var room = Int.max
        for (r, ring) in txRings.enumerated() {
            let free = role == .client ? (1 << log2Size) - Int(txCursor[r] &- ring.tail) : Int(ring.head &- txCursor[r])
            room = min(room, free)
        }
        return room
    }

    public func countTransmitDrops(_ count: Int) {
        counters.add(.sendDrops, count)
    }

    public func transmit(_ batch: PacketBatch, from start: Int) -> Int {
        guard state == .connected, !txRings.isEmpty, start < batch.count else { return 0 }
        guard role == .client || regionsIntact() else { return 0 }
        var bytes = 0
        var sent = 0
        if txRings.count == 1 {
            sent = place(ring: 0, batch, from: start, to: batch.count, bytes: &bytes)
            // (A peer's bad descriptor can end the link inside `place`: nothing to publish.)
            if sent > 0 && state == .connected { publish(ring: 0) }
        } else {
            sent = spread(batch, from: start, bytes: &bytes)
        }
        guard sent > 0 else { return 0 }
        counters.add(.sentPackets, sent)
        counters.add(.sentBytes, bytes)
        return sent
    }

    /// Several transmit rings: each packet goes to the ring of its flow (a hash of its
    /// IPv4 addresses, protocol and ports, the same both ways; of its Ethernet addresses
    /// otherwise), so a peer that reads its rings on several cores gets every flow on
    /// one of them, in order. Packets go in order, in runs of the same ring; the first
    /// that does not fit stops the send, so what was sent is a prefix of the batch.
    private func spread(_ batch: PacketBatch, from start: Int, bytes: inout Int) -> Int {
        let rings = txRings.count
        var touched: UInt64 = 0
        var sent = 0
        var i = start
        var r = Int(Self.flowHash(batch[i]) % UInt32(rings))
        while i < batch.count {
            // The run of packets for ring r, and the ring of the packet after it.
            var end = i + 1
            var next = r
            while end < batch.count {
                next = Int(Self.flowHash(batch[end]) % UInt32(rings))
                if next != r { break }
                end += 1
            }
            let placed = place(ring: r, batch, from: i, to: end, bytes: &bytes)
            if placed > 0 { touched |= 1 << UInt64(r & 63) }
            sent += placed
            if placed < end - i || state != .connected { break }
            i = end
            r = next
        }
        guard state == .connected else { return sent }
        for r in 0..<min(rings, 64) where touched & (1 << UInt64(r)) != 0 { publish(ring: r) }
        return sent
    }

    /// Where each transmit ring's cursor stands (how many slots were filled, modulo 2^16).
    var transmitCursors: [UInt16] { txCursor }

    /// A flow's hash: symmetric in source and destination, so both directions of a
    /// connection land on the same ring number.
    static func flowHash(_ p: Packet) -> UInt32 {
        let data = UnsafeRawPointer(p.data)
        let length = p.length
        func word(_ offset: Int) -> UInt32 { UInt32(bigEndian: data.loadUnaligned(fromByteOffset: offset, as: UInt32.self)) }
        func half(_ offset: Int) -> UInt32 { UInt32(UInt16(bigEndian: data.loadUnaligned(fromByteOffset: offset, as: UInt16.self))) }
        var key: UInt32
        if length >= 34 && half(12) == 0x0800 && data.load(fromByteOffset: 14, as: UInt8.self) >> 4 == 4 {
            let protocolNumber = UInt32(data.load(fromByteOffset: 23, as: UInt8.self))
            key = (word(26) ^ word(30)) &+ protocolNumber
            let headerLength = Int(data.load(fromByteOffset: 14, as: UInt8.self) & 0x0F) * 4
            let fragmented = half(20) & 0x3FFF != 0
            if (protocolNumber == 6 || protocolNumber == 17) && !fragmented && length >= 14 + headerLength + 4 {
                key ^= half(14 + headerLength) ^ half(14 + headerLength + 2)
            }
        } else if length >= 12 {
            key = word(0) ^ half(4) ^ word(6) ^ half(10)
        } else {
            key = 0
        }
        // Spread the bits (a multiplicative hash), then use the high half.
        return (key &* 0x9E37_79B1) >> 16
    }

    /// Makes what `place` wrote to ring `r` visible to the peer, and wakes it if it asked.
    @inline(__always) private func publish(ring r: Int) {
        let ring = txRings[r]
        if role == .client { ring.head = txCursor[r] } else { ring.tail = txCursor[r] }
        signal(ring, txEvents[r])
    }

    /// Copies packets `from..<to` into transmit ring `r` behind its cursor, without
    /// publishing them; returns how many fit.
    @inline(__always) private func place(ring r: Int, _ batch: PacketBatch, from: Int, to: Int, bytes: inout Int) -> Int {
        role == .client ? placeClient(r, batch, from, to, &bytes) : placeServer(r, batch, from, to, &bytes)
    }

    private func placeClient(_ r: Int, _ batch: PacketBatch, _ start: Int, _ end: Int, _ bytes: inout Int) -> Int {
        let ring = txRings[r]
        var head = txCursor[r]
        var free = (1 << log2Size) - Int(head &- ring.tail)
        let bufferSize = self.bufferSize
        guard regionCount > 0, let base = regionTable[0].base else { return 0 }
        let slotMask = (1 << log2Size) - 1
        let ringBase = clientBufferOffset(ring: r, slot: 0)
        var sent = 0
        var i = start
        // The packets' metadata and data are often cold (a deep queue let them go): ask
        // for them a few packets ahead.
        for k in start..<min(end, start + 4) { clickos_prefetch(batch[k].meta) }
        while i < end {
            if i + 4 < end { clickos_prefetch(batch[i + 4].meta) }
            if i + 2 < end { clickos_prefetch(batch[i + 2].data) }
            let p = batch[i]
            let length = p.length
            if length <= bufferSize {
                // The common case: one slot, no chain.
                if free == 0 { break }
                let d = ring.descriptor(head)
                let offset = ringBase &+ (Int(head) & slotMask) &* bufferSize
                (base + offset).copyMemory(from: p.data, byteCount: length)
                d.memifRegion = 0
                d.memifOffset = UInt32(truncatingIfNeeded: offset)
                d.memifLength = UInt32(truncatingIfNeeded: length)
                d.memifFlags = 0
                head &+= 1
                free -= 1
                bytes &+= length
                sent += 1
                i += 1
                continue
            }
            let segments = (length + bufferSize - 1) / bufferSize
            if segments > free { break }
            var copied = 0
            for s in 0..<segments {
                let d = ring.descriptor(head)
                let offset = clientBufferOffset(ring: r, slot: Int(head) & slotMask)
                let n = min(bufferSize, length - copied)
                (base + offset).copyMemory(from: p.data + copied, byteCount: n)
                d.memifRegion = 0
                d.memifOffset = UInt32(offset)
                d.memifLength = UInt32(n)
                d.memifFlags = s + 1 < segments ? MemifRing.next : 0
                copied += n
                head &+= 1
            }
            free -= segments
            bytes &+= length
            sent += 1
            i += 1
        }
        txCursor[r] = head
        return sent
    }

    private func placeServer(_ r: Int, _ batch: PacketBatch, _ start: Int, _ end: Int, _ bytes: inout Int) -> Int {
        let ring = txRings[r]
        var tail = txCursor[r]
        let head = ring.head
        var sent = 0
        var i = start
        for k in start..<min(end, start + 4) { clickos_prefetch(batch[k].meta) }
        outer: while i < end {
            if i + 4 < end { clickos_prefetch(batch[i + 4].meta) }
            if i + 2 < end { clickos_prefetch(batch[i + 2].data) }
            let p = batch[i]
            let length = p.length
            var copied = 0
            var slot = tail
            repeat {
                guard slot != head else { break outer }  // out of buffers: the packet waits
                let d = ring.descriptor(slot)
                let region = Int(d.memifRegion)
                let offset = Int(d.memifOffset)
                let capacity = Int(d.memifLength)
                guard region < regionCount, capacity > 0, offset + capacity <= regionTable[region].size,
                    let base = regionTable[region].base
                else {
                    disconnect(reason: "Invalid descriptor", tellPeer: true)
                    return sent
                }
                let n = min(capacity, length - copied)
                (base + offset).copyMemory(from: p.data + copied, byteCount: n)
                d.memifLength = UInt32(n)
                copied += n
                d.memifFlags = copied < length ? MemifRing.next : 0
                slot &+= 1
            } while copied < length
            tail = slot
            bytes &+= length
            sent += 1
            i += 1
        }
        txCursor[r] = tail
        return sent
    }
}

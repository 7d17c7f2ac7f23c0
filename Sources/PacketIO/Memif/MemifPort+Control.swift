#if canImport(Glibc)
import Glibc
#endif
import CShims
import VMInterface
import ClickRuntime

/// The control side of a memif link: the handshake in both roles (hello, init, add
/// region, add ring, connect), the peer's shared memory, and disconnecting.
extension MemifPort {
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

    func handle(_ message: MemifMessage, passedFD: Int32) {
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

    func sendRing(_ k: Int) {
        let c2s = k < c2sCount
        let index = c2s ? k : k - c2sCount
        let event = c2s ? txEvents[index] : rxEvents[index]
        let offset = k * MemifRing.byteCount(log2Size: log2Size)
        send(.addRing(flags: c2s ? MemifMessage.ringC2S : 0, index: UInt16(index), region: 0, offset: UInt32(offset),
                      log2Size: UInt8(log2Size), privateHeaderSize: 0), passing: event)
        stage = .awaitingRingAck(k)
    }

    /// Client: one region holding every ring, then one buffer per slot of every ring.
    func createClientMemory() -> Bool {
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

    @inline(__always) func clientBufferOffset(ring: Int, slot: Int) -> Int {
        bufferBase + (ring << log2Size + slot) * bufferSize
    }

    /// Server: CONNECT received. Checks every ring, resets the indices, goes up.
    func serverConnect(interfaceName: String) {
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

    func linkUp() {
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


    func finishDraining() {
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

    func teardown(keepReceiveRings: Bool = false) {
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

    func send(_ message: MemifMessage, passing fd: Int32 = -1) {
        guard connection >= 0 else { return }
        let bytes = message.encoded()
        let n = bytes.withUnsafeBytes { clickos_seqpacket_send(connection, $0.baseAddress, UInt32($0.count), fd) }
        if n != MemifMessage.size && message.typeCode != 8 {
            // The peer is gone or not reading; the next read reports it.
            lastDisconnectReason = "control socket send failed: \(String(cString: strerror(errno)))"
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
import CShims
import ClickRuntime
import Testing

@testable import PacketIO
import VMInterface

/// A fresh socket path per test.
func socketPath(_ name: String) -> String {
    "/tmp/clickos-memif-test-\(getpid())-\(name).sock"
}

/// Serves both port sets until `condition` holds (or about two seconds pass).
@discardableResult
func serve(_ sets: MemifPortSet..., until condition: () -> Bool) -> Bool {
    for _ in 0..<2000 {
        if condition() { return true }
        for s in sets { s.poll(timeout: 0) }
        usleep(1000)
    }
    return condition()
}

/// Packets of distinct contents: byte 0..<length = (i + k) & 0xFF.
func makeBatch(_ pool: PacketPool, _ storage: BatchStorage, count: Int, length: Int) -> PacketBatch {
    var batch = storage.batch()
    for i in 0..<count {
        let bytes = (0..<length).map { UInt8(truncatingIfNeeded: i + $0) }
        if let p = pool.make(bytes) { batch.append(p) }
    }
    return batch
}

@Suite("memif control messages")
struct MemifMessageTests {
    @Test func everyMessageRoundTripsIn128Bytes() {
        let messages: [MemifMessage] = [
            .ack,
            .hello(name: "dpdk", minVersion: 0x200, maxVersion: 0x200, maxRegion: 255, maxS2CRing: 3, maxC2SRing: 2, maxLog2RingSize: 14),
            .initialize(version: 0x200, id: 7, mode: 0, secret: "s3cret", name: "vm-a"),
            .addRegion(index: 2, size: 1 << 33),
            .addRing(flags: 1, index: 3, region: 1, offset: 16_512, log2Size: 10, privateHeaderSize: 0),
            .connect(interfaceName: "port0"),
            .connected(interfaceName: "port1"),
            .disconnect(code: 5, reason: "Incorrect secret"),
        ]
        for m in messages {
            let bytes = m.encoded()
            #expect(bytes.count == 128)
            #expect(bytes[0] == UInt8(m.typeCode))
            let decoded = bytes.withUnsafeBytes { MemifMessage.decode($0) }
            #expect(decoded == .success(m))
        }
    }

    @Test func wireOffsetsAreTheProtocols() {
        let hello = MemifMessage.hello(name: "x", minVersion: 0x0200, maxVersion: 0x0201, maxRegion: 255, maxS2CRing: 1,
                                       maxC2SRing: 2, maxLog2RingSize: 14).encoded()
        #expect(hello[2] == UInt8(ascii: "x") && hello[3] == 0)
        #expect(hello[34] == 0x00 && hello[35] == 0x02 && hello[36] == 0x01 && hello[37] == 0x02)
        #expect(hello[38] == 255 && hello[40] == 1 && hello[42] == 2 && hello[44] == 14)
        let ring = MemifMessage.addRing(flags: 1, index: 2, region: 3, offset: 0x0102_0304, log2Size: 11, privateHeaderSize: 0).encoded()
        #expect(ring[2] == 1 && ring[4] == 2 && ring[6] == 3 && ring[8] == 4 && ring[11] == 1 && ring[12] == 11)
        let initMessage = MemifMessage.initialize(version: 0x0200, id: 0x0A0B_0C0D, mode: 0, secret: "abc", name: "n").encoded()
        #expect(initMessage[4] == 0x0D && initMessage[7] == 0x0A && initMessage[9] == UInt8(ascii: "a") && initMessage[33] == UInt8(ascii: "n"))
        let bye = MemifMessage.disconnect(code: 9, reason: "why").encoded()
        #expect(bye[2] == 9 && bye[6] == UInt8(ascii: "w"))
    }

    @Test func badMessagesAreRefusedWithTheProtocolsReason() {
        let short = [UInt8](repeating: 0, count: 100)
        #expect(short.withUnsafeBytes { MemifMessage.decode($0) } == .failure(.init(reason: "Invalid message size")))
        var unknown = [UInt8](repeating: 0, count: 128)
        unknown[0] = 42
        #expect(unknown.withUnsafeBytes { MemifMessage.decode($0) } == .failure(.init(reason: "Unknown message type")))
    }
}

@Suite("memif links", .serialized)
struct MemifLinkTests {
    let pool = PacketPool(capacity: 4096)

    /// A connected server/client pair on `path`.
    func pair(_ path: String, server: (inout MemifConfiguration) -> Void = { _ in }, client: (inout MemifConfiguration) -> Void = { _ in })
        throws -> (MemifPortSet, MemifPort, MemifPortSet, MemifPort)
    {
        var sc = MemifConfiguration(role: .server, socketPath: path)
        server(&sc)
        var cc = MemifConfiguration(role: .client, socketPath: path)
        client(&cc)
        let serverSet = MemifPortSet()
        let s = try serverSet.add(sc, number: 0)
        let clientSet = MemifPortSet()
        clientSet.retryInterval = 5_000_000
        let c = try clientSet.add(cc, number: 0)
        return (serverSet, s, clientSet, c)
    }

    func drain(_ port: MemifPort, _ sets: MemifPortSet..., expecting n: Int) -> [[UInt8]] {
        var received: [[UInt8]] = []
        let storage = BatchStorage()
        for _ in 0..<2000 where received.count < n {
            var batch = storage.batch()
            _ = port.receive(into: &batch, pool: pool)
            for i in 0..<batch.count { received.append(batch[i].contents) }
            batch.killAll()
            for s in sets { s.poll(timeout: 0) }
            if received.count < n { usleep(500) }
        }
        return received
    }

    @Test func packetsCrossBothWaysWithTheirBytesIntact() throws {
        let (ss, s, cs, c) = try pair(socketPath("both"), server: { $0.name = "srv" }, client: { $0.name = "cli" })
        #expect(serve(ss, cs) { s.isConnected && c.isConnected })
        #expect(s.peerName == "cli" && c.peerName == "srv")
        let storage = BatchStorage()
        // Client to server, then server to client, 200 packets of growing sizes each way.
        for (from, to) in [(c, s), (s, c)] {
            var expected: [[UInt8]] = []
            var sent = 0
            while sent < 200 {
                var batch = storage.batch()
                for i in sent..<min(sent + 50, 200) {
                    let bytes = (0..<(60 + i * 7)).map { UInt8(truncatingIfNeeded: i &* 31 &+ $0) }
                    expected.append(bytes)
                    batch.append(pool.make(bytes)!)
                }
                let n = from.transmit(batch, from: 0)
                #expect(n == batch.count)
                batch.killAll()
                sent += n
                let got = drain(to, ss, cs, expecting: n)
                #expect(got == Array(expected[(sent - n)..<sent]))
            }
            #expect(from.counters[.sentPackets] == 200)
            #expect(to.counters[.receivedPackets] == 200)
            #expect(to.counters[.receivedBytes] == UInt64(expected.map(\.count).reduce(0, +)))
        }
        #expect(pool.outstanding == 0)
        ss.close()
        cs.close()
    }

    @Test func packetsLargerThanABufferAreChained() throws {
        let (ss, s, cs, c) = try pair(socketPath("chain"), client: { $0.bufferSize = 1024 })
        #expect(serve(ss, cs) { s.isConnected && c.isConnected })
        let storage = BatchStorage()
        for (from, to) in [(c, s), (s, c)] {
            var batch = makeBatch(pool, storage, count: 3, length: 2000)
            let expected = (0..<3).map { batch[$0].contents }
            #expect(from.transmit(batch, from: 0) == 3)
            batch.killAll()
            #expect(drain(to, ss, cs, expecting: 3) == expected)
        }
        ss.close()
        cs.close()
    }

    @Test func aFullRingTakesWhatFitsAndTheRestWaits() throws {
        let (ss, s, cs, c) = try pair(socketPath("full"), client: { $0.log2RingSize = 4 })
        #expect(serve(ss, cs) { s.isConnected && c.isConnected })
        let storage = BatchStorage()
        var batch = makeBatch(pool, storage, count: 40, length: 64)
        #expect(c.transmitSpace == 16)
        #expect(c.transmit(batch, from: 0) == 16)
        #expect(c.transmitSpace == 0)
        #expect(c.transmit(batch, from: 16) == 0)
        #expect(drain(s, expecting: 16).count == 16)
        #expect(c.transmit(batch, from: 16) == 16)
        batch.killAll()
        // Server to client: the client's refilled buffers bound what the server can send.
        #expect(s.transmitSpace == 16)
        ss.close()
        cs.close()
    }

    @Test func severalRingsAreNegotiatedAndReceivedFrom() throws {
        let (ss, s, cs, c) = try pair(socketPath("rings"), server: { $0.ringsPerDirection = 2 }, client: { $0.ringsPerDirection = 4 })
        #expect(serve(ss, cs) { s.isConnected && c.isConnected })
        // The server allows ring indices 0...1, so the client settles on two per direction.
        #expect(s.receiveInterruptDescriptors.count == 2)
        #expect(c.receiveInterruptDescriptors.count == 2)
        ss.close()
        cs.close()
    }

    /// With several rings a sender spreads flows over them (each flow on one ring, both
    /// directions of a flow on the same ring number), in both roles; every packet arrives
    /// and each flow's packets stay in order.
    @Test func severalRingsCarryFlowsSpreadByHash() throws {
        let (ss, s, cs, c) = try pair(socketPath("spread"), server: { $0.ringsPerDirection = 2 }, client: { $0.ringsPerDirection = 2 })
        #expect(serve(ss, cs) { s.isConnected && c.isConnected })
        let storage = BatchStorage(capacity: 128)
        // UDP packets of 32 flows (source port), 4 packets each, interleaved; the sequence
        // number rides in the payload.
        func frame(flow: Int, sequence: Int, reply: Bool) -> [UInt8] {
            var f = [UInt8](repeating: 0, count: 64)
            f[12] = 0x08; f[13] = 0x00; f[14] = 0x45; f[23] = 17
            let a: [UInt8] = [10, 0, 0, 1], b: [UInt8] = [10, 0, 1, 2]
            f.replaceSubrange(26..<30, with: reply ? b : a)
            f.replaceSubrange(30..<34, with: reply ? a : b)
            let port = [UInt8(truncatingIfNeeded: (1000 + flow) >> 8), UInt8(truncatingIfNeeded: 1000 + flow)]
            f.replaceSubrange((reply ? 36 : 34)..<(reply ? 38 : 36), with: port)
            f.replaceSubrange((reply ? 34 : 36)..<(reply ? 36 : 38), with: [0, 53])
            f[42] = UInt8(flow); f[43] = UInt8(sequence)
            return f
        }
        for (from, to, reply) in [(c, s, false), (s, c, true)] {
            let before = from.transmitCursors
            var batch = storage.batch()
            for sequence in 0..<4 { for flow in 0..<32 { batch.append(pool.make(frame(flow: flow, sequence: sequence, reply: reply))!) } }
            // The ring each packet should take, by the same hash.
            var perRing = [0, 0]
            for i in 0..<batch.count { perRing[Int(MemifPort.flowHash(batch[i]) % 2)] += 1 }
            #expect(from.transmit(batch, from: 0) == 128)
            batch.killAll()
            let moved = zip(from.transmitCursors, before).map { Int($0 &- $1) }
            #expect(moved == perRing, "packets per ring: \(moved), by hash \(perRing)")
            #expect(moved.allSatisfy { $0 > 0 }, "both rings carry flows")
            let got = drain(to, ss, cs, expecting: 128)
            #expect(got.count == 128)
            var next = [Int](repeating: 0, count: 32)
            for f in got {
                #expect(Int(f[43]) == next[Int(f[42])], "flow \(f[42]) out of order")
                next[Int(f[42])] += 1
            }
        }
        // Both directions of a flow hash alike.
        for flow in 0..<32 {
            let there = pool.make(frame(flow: flow, sequence: 0, reply: false))!, back = pool.make(frame(flow: flow, sequence: 0, reply: true))!
            #expect(MemifPort.flowHash(there) == MemifPort.flowHash(back))
            there.kill()
            back.kill()
        }
        ss.close()
        cs.close()
    }

    @Test func refusedClientsLearnWhy() throws {
        let path = socketPath("refuse")
        let serverSet = MemifPortSet()
        var sc = MemifConfiguration(role: .server, socketPath: path)
        sc.id = 1
        sc.secret = "right"
        _ = try serverSet.add(sc, number: 0)
        for (id, secret, reason) in [(UInt32(2), "right", "ID not found"), (1, "", "Secret required"), (1, "wrong", "Incorrect secret")] {
            let clientSet = MemifPortSet()
            var cc = MemifConfiguration(role: .client, socketPath: path)
            cc.id = id
            cc.secret = secret
            let c = try clientSet.add(cc, number: 0)
            serve(serverSet, clientSet) { c.lastDisconnectReason?.contains(reason) ?? false }
            #expect(c.lastDisconnectReason == "peer disconnected: \(reason)")
            #expect(!c.isConnected)
            clientSet.close()
        }
        // One client per id.
        let first = MemifPortSet()
        var cc = MemifConfiguration(role: .client, socketPath: path)
        cc.id = 1
        cc.secret = "right"
        let a = try first.add(cc, number: 0)
        #expect(serve(serverSet, first) { a.isConnected })
        let second = MemifPortSet()
        let b = try second.add(cc, number: 0)
        serve(serverSet, first, second) { b.lastDisconnectReason?.contains("Already connected") ?? false }
        #expect(b.lastDisconnectReason == "peer disconnected: Already connected")
        #expect(a.isConnected)
        first.close()
        second.close()
        serverSet.close()
    }

    @Test func aClientReconnectsWhenTheServerComesBack() throws {
        let path = socketPath("reconnect")
        let (ss, s, cs, c) = try pair(path)
        #expect(serve(ss, cs) { s.isConnected && c.isConnected })
        ss.close()
        #expect(serve(cs) { !c.isConnected })
        #expect(c.lastDisconnectReason?.contains("interface shut down") == true)
        let again = MemifPortSet()
        let s2 = try again.add(MemifConfiguration(role: .server, socketPath: path), number: 0)
        #expect(serve(again, cs) { s2.isConnected && c.isConnected })
        #expect(c.counters[.connects] == 2)
        let storage = BatchStorage()
        var batch = makeBatch(pool, storage, count: 5, length: 100)
        #expect(c.transmit(batch, from: 0) == 5)
        batch.killAll()
        #expect(drain(s2, again, cs, expecting: 5).count == 5)
        again.close()
        cs.close()
    }

    @Test func packetsAPeerSentBeforeLeavingAreStillDelivered() throws {
        let (ss, s, cs, c) = try pair(socketPath("leave"))
        #expect(serve(ss, cs) { s.isConnected && c.isConnected })
        let storage = BatchStorage()
        var batch = makeBatch(pool, storage, count: 10, length: 80)
        let expected = (0..<10).map { batch[$0].contents }
        #expect(c.transmit(batch, from: 0) == 10)
        batch.killAll()
        cs.close()
        // The server learns of the departure before it reads the ring.
        #expect(serve(ss) { !s.isConnected })
        #expect(s.hasPendingReceive)
        #expect(drain(s, expecting: 10) == expected)
        #expect(!s.hasPendingReceive)
        // And the interface takes a new client afterwards.
        let again = MemifPortSet()
        let c2 = try again.add(MemifConfiguration(role: .client, socketPath: socketPath("leave")), number: 0)
        #expect(serve(ss, again) { s.isConnected && c2.isConnected })
        ss.close()
        again.close()
    }

    @Test func aServerTakesANewClientAfterTheOldOneLeaves() throws {
        let path = socketPath("newclient")
        let (ss, s, cs, c) = try pair(path)
        #expect(serve(ss, cs) { s.isConnected && c.isConnected })
        cs.close()
        #expect(serve(ss) { !s.isConnected })
        let cs2 = MemifPortSet()
        let c2 = try cs2.add(MemifConfiguration(role: .client, socketPath: path), number: 0)
        #expect(serve(ss, cs2) { s.isConnected && c2.isConnected })
        ss.close()
        cs2.close()
    }

    @Test func abstractSocketsWork() throws {
        let (ss, s, cs, c) = try pair("@clickos-memif-test-\(getpid())")
        #expect(serve(ss, cs) { s.isConnected && c.isConnected })
        ss.close()
        cs.close()
    }

    @Test func aLiveServerIsNotDisplacedAndAStaleSocketIs() throws {
        let path = socketPath("taken")
        let first = MemifPortSet()
        _ = try first.add(MemifConfiguration(role: .server, socketPath: path), number: 0)
        #expect(throws: MemifError.self) { try MemifPortSet().add(MemifConfiguration(role: .server, socketPath: path), number: 0) }
        first.close()
        // A file left behind by a killed server (nothing listening) is replaced.
        let stale = socket(AF_UNIX, Int32(SOCK_SEQPACKET.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in for (i, b) in path.utf8.enumerated() { raw[i] = b } }
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(stale, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
        close(stale)
        let second = MemifPortSet()
        _ = try second.add(MemifConfiguration(role: .server, socketPath: path), number: 0)
        second.close()
    }

    @Test func protocolErrorsGetADisconnectAndLeaveTheServerUsable() throws {
        let path = socketPath("errors")
        let serverSet = MemifPortSet()
        let s = try serverSet.add(MemifConfiguration(role: .server, socketPath: path), number: 0)
        func rawClient(_ send: [UInt8]) -> String? {
            let fd = clickos_seqpacket_connect(path)
            #expect(fd >= 0)
            defer { close(fd) }
            serverSet.poll(timeout: 100)
            var buffer = [UInt8](repeating: 0, count: 256)
            var passed: Int32 = -1
            var truncated: Int32 = 0
            // HELLO first.
            var n = -1
            for _ in 0..<100 where n < 0 {
                n = buffer.withUnsafeMutableBytes { clickos_seqpacket_receive(fd, $0.baseAddress, 256, &passed, &truncated) }
                if n < 0 { usleep(1000) }
            }
            #expect(n == 128 && buffer[0] == 2)
            _ = send.withUnsafeBytes { clickos_seqpacket_send(fd, $0.baseAddress, UInt32($0.count), -1) }
            for _ in 0..<200 {
                serverSet.poll(timeout: 5)
                n = buffer.withUnsafeMutableBytes { clickos_seqpacket_receive(fd, $0.baseAddress, 256, &passed, &truncated) }
                if n == 128, case .success(.disconnect(_, let reason)) = buffer.withUnsafeBytes({ MemifMessage.decode(UnsafeRawBufferPointer(rebasing: $0[0..<128])) }) {
                    return reason
                }
                if n == 0 { return nil }
            }
            return nil
        }
        #expect(rawClient([UInt8](repeating: 1, count: 100)) == "Invalid message size")
        #expect(rawClient(MemifMessage.addRegion(index: 0, size: 4096).encoded()) == "Unexpected message")
        #expect(rawClient(MemifMessage.initialize(version: 0x0100, id: 0, mode: 0, secret: "", name: "old").encoded()) == "Incompatible memif version")
        #expect(rawClient(MemifMessage.initialize(version: 0x0200, id: 0, mode: 1, secret: "", name: "ip").encoded()) == "Only ethernet mode supported")
        var garbage = [UInt8](repeating: 0, count: 128)
        garbage[0] = 99
        #expect(rawClient(garbage) == "Unknown message type")
        #expect(!s.isConnected)
        // A proper client still gets in.
        let cs = MemifPortSet()
        let c = try cs.add(MemifConfiguration(role: .client, socketPath: path), number: 0)
        #expect(serve(serverSet, cs) { s.isConnected && c.isConnected })
        cs.close()
        serverSet.close()
    }

    /// A client that shrinks its region's file after the server mapped it (an unsealable
    /// file: a regular one) would make the server fault with SIGBUS at its next look at the
    /// ring. The server survives: the region reads as zeros, the link is dropped with a
    /// reason, and the next client gets in. (Before the guard this test killed the test
    /// process.)
    @Test func aPeerThatShrinksItsRegionLosesItsLinkNotOurProcess() throws {
        let path = socketPath("shrink")
        let serverSet = MemifPortSet()
        let s = try serverSet.add(MemifConfiguration(role: .server, socketPath: path), number: 0)
        let fd = clickos_seqpacket_connect(path)
        try #require(fd >= 0)
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 256)
        func next() -> MemifMessage? {
            var passed: Int32 = -1, truncated: Int32 = 0
            for _ in 0..<400 {
                serverSet.poll(timeout: 2)
                let n = buffer.withUnsafeMutableBytes { clickos_seqpacket_receive(fd, $0.baseAddress, 256, &passed, &truncated) }
                if passed >= 0 { close(passed) }
                if n == 128, case .success(let m) = buffer.withUnsafeBytes({ MemifMessage.decode(UnsafeRawBufferPointer(rebasing: $0[0..<128])) }) {
                    return m
                }
                if n == 0 { return nil }
            }
            return nil
        }
        func send(_ m: MemifMessage, passing passedFD: Int32 = -1) {
            _ = m.encoded().withUnsafeBytes { clickos_seqpacket_send(fd, $0.baseAddress, UInt32($0.count), passedFD) }
        }
        guard case .hello = next() else { Issue.record("no HELLO"); return }
        send(.initialize(version: 0x0200, id: 0, mode: 0, secret: "", name: "shrinker"))
        guard case .ack = next() else { Issue.record("INIT refused"); return }
        // The region: a plain file, which cannot be sealed against shrinking.
        let file = "/tmp/clickos-memif-test-\(getpid())-shrink.region"
        let regionFD = open(file, O_RDWR | O_CREAT | O_TRUNC, 0o600)
        try #require(regionFD >= 0)
        unlink(file)
        defer { close(regionFD) }
        let size = 1 << 20
        try #require(ftruncate(regionFD, off_t(size)) == 0)
        let mapped = try #require(mmap(nil, size, PROT_READ | PROT_WRITE, MAP_SHARED, regionFD, 0))
        let ring = MemifRing(base: mapped, log2Size: 4)
        ring.initialize()
        MemifRing(base: mapped + 4096, log2Size: 4).initialize()
        send(.addRegion(index: 0, size: UInt64(size)), passing: regionFD)
        guard case .ack = next() else { Issue.record("ADD_REGION refused"); return }
        let c2sEvent = clickos_eventfd(), s2cEvent = clickos_eventfd()
        defer {
            close(c2sEvent)
            close(s2cEvent)
        }
        send(.addRing(flags: MemifMessage.ringC2S, index: 0, region: 0, offset: 0, log2Size: 4, privateHeaderSize: 0), passing: c2sEvent)
        guard case .ack = next() else { Issue.record("ADD_RING refused"); return }
        send(.addRing(flags: 0, index: 0, region: 0, offset: 4096, log2Size: 4, privateHeaderSize: 0), passing: s2cEvent)
        guard case .ack = next() else { Issue.record("ADD_RING refused"); return }
        send(.connect(interfaceName: "shrinker"))
        let connected = next()
        guard case .connected = connected else { Issue.record("CONNECT refused: \(String(describing: connected))"); return }
        #expect(s.isConnected)

        // One packet published in the C2S ring, then the file shrinks under both mappings.
        let d = ring.descriptor(0)
        d.memifOffset = 8192
        d.memifLength = 64
        d.memifFlags = 0
        d.memifRegion = 0
        ring.head = 1
        munmap(mapped, size)
        #expect(ftruncate(regionFD, 0) == 0, "the file could not be sealed: the shrink goes through")

        let storage = BatchStorage()
        var batch = storage.batch()
        // The first look faults and reads zeros; the next one sees the region lost.
        _ = s.receive(into: &batch, pool: pool)
        _ = s.receive(into: &batch, pool: pool)
        batch.killAll()
        #expect(!s.isConnected)
        #expect(s.linkDescription.contains("Region shrunk by the peer"), "\(s.linkDescription)")
        if case .disconnect(_, let reason) = next() {
            #expect(reason == "Region shrunk by the peer")
        } else {
            Issue.record("no DISCONNECT for the shrinking client")
        }
        // A proper client still gets in.
        let cs = MemifPortSet()
        let c = try cs.add(MemifConfiguration(role: .client, socketPath: path), number: 0)
        #expect(serve(serverSet, cs) { s.isConnected && c.isConnected })
        cs.close()
        serverSet.close()
    }

    @Test func interruptsWakeAReceiverOnlyWhenItAsks() throws {
        let (ss, s, cs, c) = try pair(socketPath("irq"))
        #expect(serve(ss, cs) { s.isConnected && c.isConnected })
        let storage = BatchStorage()
        func readable(_ fds: [Int32]) -> Bool {
            var p = fds.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            return Glibc.poll(&p, nfds_t(p.count), 0) > 0
        }
        s.enableReceiveInterrupts(false)
        var batch = makeBatch(pool, storage, count: 4, length: 64)
        #expect(c.transmit(batch, from: 0) == 4)
        #expect(!readable(s.receiveInterruptDescriptors))
        #expect(s.hasPendingReceive)
        #expect(drain(s, expecting: 4).count == 4)
        #expect(!s.hasPendingReceive)
        s.enableReceiveInterrupts(true)
        #expect(c.transmit(batch, from: 0) == 4)
        batch.killAll()
        #expect(readable(s.receiveInterruptDescriptors))
        for fd in s.receiveInterruptDescriptors { s.acknowledgeInterrupt(fd: fd) }
        #expect(!readable(s.receiveInterruptDescriptors))
        #expect(drain(s, expecting: 4).count == 4)
        ss.close()
        cs.close()
    }
}

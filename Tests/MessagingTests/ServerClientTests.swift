import CZeroMQ
import Messaging
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The daemon-side bridge: a ROUTER server on its own thread, DEALER clients bridged to
/// async code, on real sockets.
@Suite("message server and client", .serialized, .timeLimit(.minutes(1)))
struct ServerClientTests {
    /// Acks every heartbeat; answers a ListHosts with one host.
    static func planner(_ e: Envelope) -> Envelope? {
        switch e.payload {
        case .heartbeat:
            return EnvelopeCodec.make(sender: "planner", requestID: e.requestID, .ack(Clickos_V1_Ack()))
        case .listHosts:
            var reply = Clickos_V1_ListHostsReply()
            var host = Clickos_V1_HostSummary()
            host.name = "host-a"
            host.health = .ready
            reply.hosts = [host]
            return EnvelopeCodec.make(sender: "planner", requestID: e.requestID, .listHostsReply(reply))
        default:
            return EnvelopeCodec.error(.unexpectedPayload, "not handled", requestID: e.requestID, from: "planner")
        }
    }

    @Test func requestsGetTheirOwnReplies() async throws {
        let server = try MessageServer(endpoint: "tcp://127.0.0.1:*", handler: Self.planner)
        defer { server.stop() }
        let client = try MessageClient(endpoint: server.endpoint, sender: "cli:test")
        defer { client.close() }
        async let a = client.request(.listHosts(Clickos_V1_ListHostsRequest()))
        async let b = client.request(.heartbeat(Clickos_V1_Heartbeat()))
        let (hosts, ack) = try await (a, b)
        guard case .listHostsReply(let r) = hosts.payload, case .ack = ack.payload else {
            Issue.record("wrong replies: \(hosts) \(ack)")
            return
        }
        #expect(r.hosts.first?.name == "host-a")
        let refused = try await client.request(.desiredState(Clickos_V1_HostDesiredState()))
        guard case .error(let e) = refused.payload else {
            Issue.record("expected an Error reply")
            return
        }
        #expect(e.code == .unexpectedPayload)
    }

    /// The planner pushes to a peer it heard from (desired state to an agent); the agent
    /// finds it in its incoming queue and answers with the push's request id.
    @Test func theServerPushesToAPeerAndTheClientQueuesAndAnswersIt() async throws {
        let heard = Mutex<[(Envelope, MessageServer.Peer)]>([])
        let server = try MessageServer(endpoint: "tcp://127.0.0.1:*", peerHandler: { envelope, peer in
            heard.withLock { $0.append((envelope, peer)) }
            if case .register = envelope.payload { return EnvelopeCodec.make(sender: "planner", requestID: envelope.requestID, .ack(Clickos_V1_Ack())) }
            return nil
        })
        defer { server.stop() }
        let client = try MessageClient(endpoint: server.endpoint, sender: "host-a")
        defer { client.close() }
        var register = Clickos_V1_Register()
        register.hostName = "host-a"
        let registered = try await client.request(.register(register))
        guard case .ack = registered.payload else {
            Issue.record("expected an Ack: \(registered)")
            return
        }
        let peer = try #require(heard.withLock { $0.first?.1 })
        var desired = Clickos_V1_HostDesiredState()
        desired.hostName = "host-a"
        desired.generation = 7
        server.send(EnvelopeCodec.make(sender: "planner", requestID: 900, .desiredState(desired)), to: peer)
        var incoming: [Envelope] = []
        for _ in 0..<200 where incoming.isEmpty {
            var p = pollfd(fd: client.incomingDescriptor, events: Int16(POLLIN), revents: 0)
            _ = poll(&p, 1, 10)
            incoming = client.takeIncoming()
        }
        guard incoming.count == 1, case .desiredState(let got) = incoming[0].payload else {
            Issue.record("expected the desired state: \(incoming)")
            return
        }
        #expect(got.generation == 7 && incoming[0].requestID == 900)
        client.reply(to: 900, .ack(Clickos_V1_Ack()))
        // A send's reply (none is due here) and the ack reach the server with their ids.
        let id = client.send(.heartbeat(Clickos_V1_Heartbeat()))
        for _ in 0..<200 where heard.withLock({ $0.count }) < 3 { usleep(10_000) }
        let seen = heard.withLock { $0.map { ($0.0.requestID, $0.0.payload) } }
        #expect(seen.count == 3)
        if seen.count == 3 {
            if case .ack = seen[1].1 { #expect(seen[1].0 == 900) } else { Issue.record("expected the ack: \(seen)") }
            if case .heartbeat = seen[2].1 { #expect(seen[2].0 == id) } else { Issue.record("expected the heartbeat: \(seen)") }
        }
    }

    @Test func badFramesAreAnsweredAndCountedAndTheServerKeepsServing() async throws {
        let lines = Mutex<[String]>([])
        let server = try MessageServer(endpoint: "tcp://127.0.0.1:*", log: { line in lines.withLock { $0.append(line) } }, handler: Self.planner)
        defer { server.stop() }
        let context = try ZMQContext()
        let raw = try ZMQSocket(context, .dealer)
        try raw.setTimeouts(receive: 2000, send: 2000)
        try raw.connect(server.endpoint)
        var future = EnvelopeCodec.make(sender: "x", requestID: 5, .heartbeat(Clickos_V1_Heartbeat()))
        future.version = 3
        let bad: [[[UInt8]]] = [[[0x12, 0xFF, 0xFF, 0x01]], [EnvelopeCodec.encode(future)], [[1, 2], [3]], [Array(repeating: 0xFF, count: 300)]]
        var codes: [WireError.Code] = []
        for frames in bad {
            try raw.send(frames)
            let reply = try #require(try raw.receive())
            guard case .success(let e) = EnvelopeCodec.decode(reply[0]), case .error(let err) = e.payload else {
                Issue.record("no Error reply")
                continue
            }
            codes.append(err.code)
        }
        #expect(codes == [.malformed, .unsupportedVersion, .malformed, .malformed])
        #expect(server.statistics.rejected == 4)
        #expect(lines.withLock { $0.filter { $0.contains("rejected") }.count } == 4)
        #expect(lines.withLock { $0.first?.contains("without CURVE") } == true, "a server without keys says so")
        let client = try MessageClient(endpoint: server.endpoint, sender: "agent")
        defer { client.close() }
        guard case .ack = try await client.request(.heartbeat(Clickos_V1_Heartbeat())).payload else {
            Issue.record("the server stopped serving")
            return
        }
        raw.close()
    }

    @Test func requestsRetryUntilTheServerComesBackAndFailWhenItDoesNot() async throws {
        let path = "/tmp/clickos-msg-\(getpid()).ipc"
        unlink(path)
        defer { unlink(path) }
        let client = try MessageClient(endpoint: "ipc://" + path, sender: "agent")
        defer { client.close() }
        // Nobody there: three attempts of 50 ms, then an error.
        await #expect(throws: MessagingError.self) { try await client.request(.heartbeat(Clickos_V1_Heartbeat()), timeout: 0.05, retries: 2) }
        #expect(client.statistics.resent == 2)
        // The server comes up while a request is retrying: it is answered.
        async let answer = client.request(.heartbeat(Clickos_V1_Heartbeat()), timeout: 0.2, retries: 20)
        try await _Concurrency.Task.sleep(nanoseconds: 300_000_000)
        let server = try MessageServer(endpoint: "ipc://" + path, handler: Self.planner)
        defer { server.stop() }
        guard case .ack = try await answer.payload else {
            Issue.record("no ack after the server came back")
            return
        }
    }

    @Test func aServerWithoutKeysStaysLocalAndOneWithKeysAdmitsItsClients() async throws {
        #expect(throws: MessagingError.self) { try MessageServer(endpoint: "tcp://0.0.0.0:*", handler: Self.planner) }
        let serverKeys = try CurveKeyPair.generate()
        let agentKeys = try CurveKeyPair.generate()
        let lines = Mutex<[String]>([])
        let server = try MessageServer(endpoint: "tcp://0.0.0.0:*", security: .init(keys: serverKeys, authorized: [agentKeys.publicKey]),
                                       log: { line in lines.withLock { $0.append(line) } }, handler: Self.planner)
        defer { server.stop() }
        let port = server.endpoint.split(separator: ":").last.map(String.init) ?? ""
        let client = try MessageClient(endpoint: "tcp://127.0.0.1:\(port)", sender: "agent", serverKey: serverKeys.publicKey, keys: agentKeys)
        defer { client.close() }
        guard case .ack = try await client.request(.heartbeat(Clickos_V1_Heartbeat())).payload else {
            Issue.record("an authorized agent was not answered")
            return
        }
        let stranger = try MessageClient(endpoint: "tcp://127.0.0.1:\(port)", sender: "stranger", serverKey: serverKeys.publicKey,
                                         keys: try CurveKeyPair.generate())
        defer { stranger.close() }
        await #expect(throws: MessagingError.self) { try await stranger.request(.heartbeat(Clickos_V1_Heartbeat()), timeout: 0.2, retries: 1) }
        #expect(server.statistics.refusedClients >= 1)
        // A client pinning the wrong server key, and one without CURVE: refused at the
        // handshake, and the server logs it.
        let wrongKey = try MessageClient(endpoint: "tcp://127.0.0.1:\(port)", sender: "confused", serverKey: try CurveKeyPair.generate().publicKey,
                                         keys: agentKeys)
        defer { wrongKey.close() }
        await #expect(throws: MessagingError.self) { try await wrongKey.request(.heartbeat(Clickos_V1_Heartbeat()), timeout: 0.2, retries: 1) }
        let plain = try MessageClient(endpoint: "tcp://127.0.0.1:\(port)", sender: "plain")
        defer { plain.close() }
        await #expect(throws: MessagingError.self) { try await plain.request(.heartbeat(Clickos_V1_Heartbeat()), timeout: 0.2, retries: 1) }
        try await _Concurrency.Task.sleep(nanoseconds: 200_000_000)
        #expect(server.statistics.failedHandshakes >= 2, "\(server.statistics)")
        let logged = lines.withLock { $0 }
        // The client without CURVE shows as a mechanism mismatch, or — when it sees the
        // server's mechanism first and hangs up — as a handshake that failed with its errno.
        #expect(logged.contains { $0.contains("cryptographic") }, "\(logged)")
        #expect(logged.contains { $0.contains("mechanism mismatch") || $0.contains("handshake failed: ") }, "\(logged)")
    }
}

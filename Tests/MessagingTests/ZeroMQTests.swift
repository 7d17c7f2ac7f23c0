import CZeroMQ
import Messaging
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The binding on real libzmq sockets: envelopes through ROUTER/DEALER over every
/// transport, many dealers at once, timeouts, CURVE keys.
@Suite("ZeroMQ binding", .serialized, .timeLimit(.minutes(1)))
struct ZeroMQTests {
    func heartbeat(_ id: UInt64, from host: String) -> [UInt8] {
        var h = Clickos_V1_Heartbeat()
        h.hostName = host
        h.observedGeneration = id
        return EnvelopeCodec.encode(EnvelopeCodec.make(sender: host, requestID: id, .heartbeat(h)))
    }

    /// A planner-like ROUTER answering one request from a DEALER, over `endpoint`.
    func roundTrip(bind endpoint: String) throws {
        let context = try ZMQContext()
        let router = try ZMQSocket(context, .router)
        try router.setTimeouts(receive: 2000, send: 2000)
        try router.bind(endpoint)
        let dealer = try ZMQSocket(context, .dealer)
        try dealer.setTimeouts(receive: 2000, send: 2000)
        try dealer.connect(router.lastEndpoint.isEmpty ? endpoint : router.lastEndpoint)
        try dealer.send([heartbeat(7, from: "host-a")])
        let request = try #require(try router.receive())
        #expect(request.count == 2, "identity frame + envelope")
        let envelope = try EnvelopeCodec.decode(request[1]).get()
        #expect(envelope.requestID == 7 && envelope.sender == "host-a")
        let reply = EnvelopeCodec.make(sender: "planner", requestID: envelope.requestID, .ack(Clickos_V1_Ack()))
        try router.send([request[0], EnvelopeCodec.encode(reply)])
        let answer = try #require(try dealer.receive())
        #expect(try EnvelopeCodec.decode(answer[0]).get() == reply)
        dealer.close()
        router.close()
    }

    @Test func envelopesRoundTripOverTCPIPCAndInproc() throws {
        try roundTrip(bind: "tcp://127.0.0.1:*")
        let path = "/tmp/clickos-zmq-\(getpid()).ipc"
        try roundTrip(bind: "ipc://" + path)
        unlink(path)
        try roundTrip(bind: "inproc://planner")
    }

    @Test func oneRouterServesManyDealers() throws {
        let context = try ZMQContext()
        let router = try ZMQSocket(context, .router)
        try router.setTimeouts(receive: 2000, send: 2000)
        try router.bind("tcp://127.0.0.1:*")
        let endpoint = router.lastEndpoint
        let dealers = try (0..<32).map { _ in
            let d = try ZMQSocket(context, .dealer)
            try d.setTimeouts(receive: 2000, send: 2000)
            try d.connect(endpoint)
            return d
        }
        for (i, d) in dealers.enumerated() { try d.send([heartbeat(UInt64(i), from: "host-\(i)")]) }
        // Answer each request to its sender, echoing its request id.
        for _ in dealers {
            let request = try #require(try router.receive())
            let e = try EnvelopeCodec.decode(request[1]).get()
            try router.send([request[0], EnvelopeCodec.encode(EnvelopeCodec.make(sender: "planner", requestID: e.requestID, .ack(Clickos_V1_Ack())))])
        }
        for (i, d) in dealers.enumerated() {
            let answer = try #require(try d.receive())
            #expect(try EnvelopeCodec.decode(answer[0]).get().requestID == UInt64(i), "each dealer gets its own reply")
        }
        for d in dealers { d.close() }
        router.close()
    }

    @Test func aReceiveTimesOutWhenThePeerIsGone() throws {
        let context = try ZMQContext()
        let dealer = try ZMQSocket(context, .dealer)
        try dealer.setTimeouts(receive: 50, send: 50)
        try dealer.connect("tcp://127.0.0.1:1")  // nothing listens there
        #expect(try dealer.receive() == nil)
        #expect(try dealer.receive(wait: false) == nil)
        let readable = try ZMQSocket.pollReadable([dealer], timeout: 20)
        #expect(readable.isEmpty)
        #expect(throws: ZMQError.self) { try ZMQSocket(context, .router).bind("tcp://256.0.0.1:5") }
        dealer.close()
    }

    @Test func publishersReachSubscribersOfTheirTopic() throws {
        let context = try ZMQContext()
        let pub = try ZMQSocket(context, .pub)
        try pub.bind("inproc://telemetry")
        let sub = try ZMQSocket(context, .sub)
        try sub.setTimeouts(receive: 1000, send: 1000)
        try sub.setOption(ZMQ_SUBSCRIBE, "web")
        try sub.connect("inproc://telemetry")
        // A subscription takes effect asynchronously: publish until one arrives.
        var got: [[UInt8]]?
        for _ in 0..<100 where got == nil {
            try pub.send([Array("other".utf8), [0]])
            try pub.send([Array("web".utf8), heartbeat(1, from: "host-a")])
            got = try sub.receive(wait: false)
            if got == nil { usleep(2000) }
        }
        #expect(got?.first == Array("web".utf8), "only the subscribed topic")
        #expect(try got.map { try EnvelopeCodec.decode($0[1]).get().sender } == "host-a")
        sub.close()
        pub.close()
    }

    @Test func curveKeyPairsAreZ85() throws {
        let a = try CurveKeyPair.generate()
        let b = try CurveKeyPair.generate()
        #expect(a.publicKey.count == 40 && a.secretKey.count == 40)
        #expect(a != b)
        // The public key derives from the secret one (libzmq's own check).
        var derived = [CChar](repeating: 0, count: 41)
        #expect(zmq_curve_public(&derived, a.secretKey) == 0)
        #expect(String(decoding: derived.prefix(40).map { UInt8(bitPattern: $0) }, as: UTF8.self) == a.publicKey)
    }
}

import CZeroMQ
import Messaging
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// CURVE on real sockets: the planner-side authority admits listed keys only.
@Suite("CURVE", .serialized, .timeLimit(.minutes(1)))
struct CurveTests {
    final class Log: @unchecked Sendable {
        var lines: [String] = []
    }

    /// Sends one frame from a dealer set up by `configure`; true if the router got it.
    func admitted(_ configure: (ZMQSocket) throws -> Void, authorized: (CurveKeyPair) -> Set<String>, log: Log) throws -> Bool {
        let context = try ZMQContext()
        let server = try CurveKeyPair.generate()
        let client = try CurveKeyPair.generate()
        let authority = try CurveAuthority(context: context, serverKeys: server, authorized: authorized(client)) { log.lines.append($0) }
        let router = try ZMQSocket(context, .router)
        try authority.secure(router)
        try router.bind("tcp://127.0.0.1:*")
        let dealer = try ZMQSocket(context, .dealer)
        try dealer.setOption(ZMQ_CURVE_SERVERKEY, server.publicKey)  // overwritten by configure when it wants
        try configureClient(dealer, client: client, server: server, configure)
        try dealer.connect(router.lastEndpoint)
        try dealer.send([Array("hello".utf8)], wait: false)
        var got = false
        for _ in 0..<40 where !got {
            let ready = try ZMQSocket.pollReadable([authority.zapSocket, router], timeout: 25)
            if ready.contains(0) { try authority.handleRequest() }
            if ready.contains(1), let m = try router.receive(wait: false) { got = m.last == Array("hello".utf8) }
        }
        dealer.close()
        router.close()
        authority.zapSocket.close()
        return got
    }

    func configureClient(_ dealer: ZMQSocket, client: CurveKeyPair, server: CurveKeyPair, _ configure: (ZMQSocket) throws -> Void) throws {
        try dealer.secureClient(keys: client, serverKey: server.publicKey)
        try configure(dealer)
    }

    @Test func aListedKeyIsAdmitted() throws {
        let log = Log()
        #expect(try admitted({ _ in }, authorized: { [$0.publicKey] }, log: log))
        #expect(log.lines.isEmpty)
    }

    @Test func anUnlistedKeyIsRefusedAndTheRefusalLogged() throws {
        let log = Log()
        #expect(try !admitted({ _ in }, authorized: { _ in [] }, log: log))
        #expect(log.lines.count == 1 && log.lines[0].contains("is not authorized"), "\(log.lines)")
    }

    @Test func aWrongServerKeyIsRefused() throws {
        let other = try CurveKeyPair.generate()
        #expect(try !admitted({ try $0.setOption(ZMQ_CURVE_SERVERKEY, other.publicKey) }, authorized: { [$0.publicKey] }, log: Log()))
    }

    @Test func aPlainClientIsRefused() throws {
        let context = try ZMQContext()
        let server = try CurveKeyPair.generate()
        let authority = try CurveAuthority(context: context, serverKeys: server, authorized: [])
        let router = try ZMQSocket(context, .router)
        try authority.secure(router)
        try router.bind("tcp://127.0.0.1:*")
        let plainContext = try ZMQContext()
        let dealer = try ZMQSocket(plainContext, .dealer)
        try dealer.connect(router.lastEndpoint)
        try dealer.send([Array("hello".utf8)], wait: false)
        var got = false
        for _ in 0..<20 where !got {
            let ready = try ZMQSocket.pollReadable([authority.zapSocket, router], timeout: 25)
            if ready.contains(0) { try authority.handleRequest() }
            if ready.contains(1), try router.receive(wait: false) != nil { got = true }
        }
        #expect(!got)
        dealer.close()
        router.close()
        authority.zapSocket.close()
    }

    @Test func keyFilesRoundTripAndGuardTheirSecrets() throws {
        let dir = "/tmp/clickos-keys-\(getpid())"
        mkdir(dir, 0o700)
        defer { _ = system("rm -rf '\(dir)'") }
        let planner = try CurveKeyFiles.generate(name: "planner", in: dir)
        let agent = try CurveKeyFiles.generate(name: "agent-a", in: dir)
        #expect(try CurveKeyFiles.readPair(dir + "/planner.key") == planner)
        #expect(try CurveKeyFiles.authorizedKeys(in: dir) == [planner.publicKey, agent.publicKey])
        var st = stat()
        stat(dir + "/planner.key", &st)
        #expect(st.st_mode & 0o077 == 0, "a secret key is readable by its owner only")
        #expect(throws: CurveKeyFiles.Failure.self) { try CurveKeyFiles.generate(name: "planner", in: dir) }
        _ = writeFile(dir + "/bad.pub", "public = \"short\"\n")
        #expect(throws: CurveKeyFiles.Failure.self) { try CurveKeyFiles.authorizedKeys(in: dir) }
    }

    @Test func withoutKeysOnlyLocalEndpointsAreAllowed() {
        for local in ["tcp://127.0.0.1:5555", "tcp://localhost:1", "tcp://[::1]:7", "ipc:///run/clickos/planner.ipc", "inproc://x"] {
            #expect(EndpointPolicy.isLocal(local), "\(local)")
        }
        for remote in ["tcp://0.0.0.0:5555", "tcp://*:5555", "tcp://10.0.0.1:5555", "tcp://eth0:5555"] {
            #expect(!EndpointPolicy.isLocal(remote), "\(remote)")
            #expect(throws: CurveKeyFiles.Failure.self) { try EndpointPolicy.checkPlaintext(remote) }
        }
    }
}

func writeFile(_ path: String, _ text: String) -> Bool {
    guard let f = fopen(path, "w") else { return false }
    defer { fclose(f) }
    return fputs(text, f) >= 0
}

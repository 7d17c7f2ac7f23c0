import CShims
import CZeroMQ
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The planner's side of the wire: a ROUTER socket on its own thread. Every frame is
/// decoded and validated; a bad one is counted, logged and answered with an `Error`
/// envelope, and the server keeps serving. Valid envelopes go to `handler` with the peer
/// they came from; its reply (if any) goes back to the sender, and `send(_:to:)` pushes to a
/// peer at any time (desired state to an agent). With keys, CURVE admits only authorized
/// clients; without, the server listens only on local endpoints.
public final class MessageServer: Sendable {
    /// What the server has seen, for metrics and tests.
    public struct Counters: Sendable, Equatable {
        public var received = 0
        public var rejected = 0
        public var replies = 0
        /// Clients refused: by ZAP (unlisted key) or at the handshake (wrong server key,
        /// no CURVE).
        public var refusedClients = 0
        public var failedHandshakes = 0
    }

    public struct Security: Sendable {
        public var keys: CurveKeyPair
        public var authorized: Set<String>
        public init(keys: CurveKeyPair, authorized: Set<String>) {
            self.keys = keys
            self.authorized = authorized
        }
    }

    public let name: String
    /// The endpoint actually bound (with the port chosen for `tcp://host:*`).
    public let endpoint: String
    /// What the server thread and the owner share.
    final class Shared: Sendable {
        let counters = Mutex(Counters())
        let stopping = Atomic<Bool>(false)
        let outgoing = Mutex<[[[UInt8]]]>([])
    }
    private let shared = Shared()
    private let thread: IOThread
    /// Wakes the server thread when `send(_:to:)` queues a message.
    private let wake: Int32

    /// A connected client, as the ROUTER socket knows it (its routing identity): what a
    /// reply or a push is addressed to.
    public struct Peer: Sendable, Hashable {
        public let identity: [UInt8]
        public init(identity: [UInt8]) { self.identity = identity }
    }

    /// Binds `endpoint` and starts serving. `handler` runs on the server's thread.
    public convenience init(name: String = "planner", endpoint: String, security: Security? = nil,
                            log: @escaping @Sendable (String) -> Void = { _ in },
                            handler: @escaping @Sendable (Envelope) -> Envelope?) throws(MessagingError) {
        try self.init(name: name, endpoint: endpoint, security: security, log: log, peerHandler: { envelope, _ in handler(envelope) })
    }

    /// Binds `endpoint` and starts serving; `peerHandler` also learns which peer sent each
    /// envelope (to push to it later). It runs on the server's thread.
    public init(name: String = "planner", endpoint: String, security: Security? = nil,
                log: @escaping @Sendable (String) -> Void = { _ in },
                peerHandler handler: @escaping @Sendable (Envelope, Peer) -> Envelope?) throws(MessagingError) {
        if security == nil {
            do {
                try EndpointPolicy.checkPlaintext(endpoint)
            } catch {
                throw MessagingError(error.description)
            }
        }
        self.name = name
        // The socket is made here (to report bind errors to the caller) and then used
        // only by the server thread.
        let context: ZMQContext
        let socket: ZMQSocket
        var authority: CurveAuthority?
        var monitor: HandshakeMonitor?
        do {
            context = try ZMQContext()
            if let security {
                authority = try CurveAuthority(context: context, serverKeys: security.keys, authorized: security.authorized, log: log)
            }
            socket = try ZMQSocket(context, .router)
            if let authority {
                try authority.secure(socket)
                monitor = try HandshakeMonitor(socket, context: context, name: name)
            }
            try socket.setHeartbeats(interval: 2000, timeout: 6000, ttl: 6000)
            try socket.setTimeouts(receive: -1, send: 1000)
            try socket.bind(endpoint)
        } catch {
            throw MessagingError("\(name): \(error)")
        }
        self.endpoint = socket.lastEndpoint
        wake = clickos_eventfd()
        let wakeFD = wake
        if security == nil { log("\(name): listening on \(self.endpoint) without CURVE (local endpoints only)") }
        let parts = UncheckedBox((context, socket, authority, monitor))
        let shared = self.shared
        let serverName = name
        thread = IOThread {
            let (context, socket, authority, monitor) = parts.value
            _ = context
            var sockets = [socket]
            if let authority, let monitor { sockets += [authority.zapSocket, monitor.socket] }
            while !shared.stopping.load(ordering: .acquiring) {
                guard let ready = try? ZMQSocket.pollReadable(sockets, descriptors: [wakeFD], timeout: 100) else { continue }
                if ready.contains(sockets.count) {
                    var count: UInt64 = 0
                    _ = read(wakeFD, &count, 8)
                }
                // Pushes queued by the owner (a peer gone away drops them: ROUTER does).
                let pushes = shared.outgoing.withLock { q in
                    defer { q = [] }
                    return q
                }
                for frames in pushes { try? socket.send(frames, wait: false) }
                if ready.contains(1), let authority {
                    while (try? authority.handleRequest()) == true {}
                    shared.counters.withLock { $0.refusedClients = authority.refusals + $0.failedHandshakes }
                }
                if ready.contains(2), let monitor {
                    while let line = monitor.next() {
                        log("\(serverName): \(line)")
                        shared.counters.withLock {
                            $0.failedHandshakes += 1
                            $0.refusedClients = (authority?.refusals ?? 0) + $0.failedHandshakes
                        }
                    }
                }
                guard ready.contains(0) else { continue }
                while let frames = try? socket.receive(wait: false) {
                    Self.serve(frames, socket: socket, name: serverName, shared: shared, log: log, handler: handler)
                }
            }
            monitor?.socket.close()
            socket.close()
            authority?.zapSocket.close()
        }
        thread.start()
    }

    private static func serve(_ frames: [[UInt8]], socket: ZMQSocket, name: String, shared: Shared,
                              log: @Sendable (String) -> Void, handler: @Sendable (Envelope, Peer) -> Envelope?) {
        shared.counters.withLock { $0.received += 1 }
        // A ROUTER frame is [identity, envelope]; anything else is answered if it has an
        // identity at all.
        guard let identity = frames.first else { return }
        let reply: Envelope?
        if frames.count != 2 {
            shared.counters.withLock { $0.rejected += 1 }
            log("\(name): rejected a message of \(frames.count - 1) frames (expected one envelope)")
            reply = EnvelopeCodec.error(.malformed, "expected one envelope frame, got \(frames.count - 1)", requestID: 0, from: name)
        } else {
            switch EnvelopeCodec.decode(frames[1]) {
            case .failure(let rejection):
                shared.counters.withLock { $0.rejected += 1 }
                log("\(name): rejected a frame of \(frames[1].count) bytes: \(rejection)")
                reply = EnvelopeCodec.reply(to: rejection, from: name)
            case .success(let envelope):
                reply = handler(envelope, Peer(identity: identity))
            }
        }
        if let reply {
            try? socket.send([identity, EnvelopeCodec.encode(reply)], wait: false)
            shared.counters.withLock { $0.replies += 1 }
        }
    }

    public var statistics: Counters { shared.counters.withLock { $0 } }

    /// Sends `envelope` to `peer` (from any thread); nothing happens if the peer is gone.
    public func send(_ envelope: Envelope, to peer: Peer) {
        let frames = [peer.identity, EnvelopeCodec.encode(envelope)]
        shared.outgoing.withLock { $0.append(frames) }
        var one: UInt64 = 1
        _ = write(wake, &one, 8)
    }

    /// Stops serving and closes the socket (waits for the thread).
    public func stop() {
        if !shared.stopping.exchange(true, ordering: .acquiringAndReleasing) {
            // Wake the thread's poll rather than wait out its timeout.
            var one: UInt64 = 1
            _ = write(wake, &one, 8)
            thread.join()
            close(wake)
        }
    }

    deinit { stop() }
}

/// A messaging failure in words.
public struct MessagingError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Moves non-Sendable values (sockets) into the one thread that will own them.
struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

import CShims
import CZeroMQ
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The agent's and the CLI's side of the wire: a DEALER socket on its own thread, bridged
/// to async code. `request` sends an envelope and resumes with the reply that carries its
/// request id, resending after each timeout up to `retries` times (the planner treats a
/// repeated id as the same request), then fails. Every other valid envelope — what the
/// planner pushes (desired state), replies to `send`s, replies that came too late — waits in
/// the incoming queue (`takeIncoming`; `incomingDescriptor` becomes readable when there is
/// something), up to `incomingLimit`; beyond it the oldest are dropped and counted. Frames
/// that are not envelopes are counted and dropped.
public final class MessageClient: Sendable {
    public let sender: String
    /// What the client thread and async callers share.
    final class Shared: Sendable {
        let state = Mutex(State())
        let stopping = Atomic<Bool>(false)
        let nextID = Atomic<UInt64>(1)
    }
    private let shared = Shared()
    private let wake: Int32
    private let thread: IOThread

    struct Pending {
        var frame: [UInt8]
        var continuation: CheckedContinuation<Envelope, any Error>
        var deadline: Double
        var timeout: Double
        var retriesLeft: Int
    }

    struct State {
        var outgoing: [[UInt8]] = []
        var pending: [UInt64: Pending] = [:]
        var incoming: [Envelope] = []
        var unmatched = 0
        var resent = 0
        var malformed = 0
    }

    /// The most envelopes the incoming queue holds.
    public static let incomingLimit = 1024
    /// Readable (an eventfd) while envelopes wait in the incoming queue.
    public let incomingDescriptor: Int32

    public init(endpoint: String, sender: String, serverKey: String? = nil, keys: CurveKeyPair? = nil) throws(MessagingError) {
        self.sender = sender
        let context: ZMQContext
        let socket: ZMQSocket
        do {
            context = try ZMQContext()
            socket = try ZMQSocket(context, .dealer)
            if let serverKey, let keys { try socket.secureClient(keys: keys, serverKey: serverKey) }
            try socket.setHeartbeats(interval: 2000, timeout: 6000, ttl: 6000)
            try socket.setOption(ZMQ_RECONNECT_IVL, 100)
            try socket.connect(endpoint)
        } catch {
            throw MessagingError("\(sender): \(error)")
        }
        // An eventfd wakes the thread's poll when async code queues a message; another
        // tells the owner that envelopes came in.
        wake = clickos_eventfd()
        incomingDescriptor = clickos_eventfd()
        let incomingSignal = incomingDescriptor
        let parts = UncheckedBox((context, socket))
        let shared = self.shared
        let wake = self.wake
        thread = IOThread {
            let (context, socket) = parts.value
            _ = context
            var items = [zmq_pollitem_t(socket: socket.handle, fd: 0, events: Int16(ZMQ_POLLIN), revents: 0),
                         zmq_pollitem_t(socket: nil, fd: wake, events: Int16(ZMQ_POLLIN), revents: 0)]
            while !shared.stopping.load(ordering: .acquiring) {
                items[0].revents = 0
                items[1].revents = 0
                _ = zmq_poll(&items, 2, 20)
                if items[1].revents != 0 {
                    var value: UInt64 = 0
                    _ = read(wake, &value, 8)
                }
                // Send what is queued.
                let outgoing = shared.state.withLock { s in
                    defer { s.outgoing = [] }
                    return s.outgoing
                }
                for frame in outgoing { try? socket.send([frame], wait: false) }
                // Deliver replies to waiting requests; queue the rest.
                var queued = false
                while let frames = try? socket.receive(wait: false) {
                    guard frames.count == 1, case .success(let reply) = EnvelopeCodec.decode(frames[0]) else {
                        shared.state.withLock { $0.malformed += 1 }
                        continue
                    }
                    let waiting = shared.state.withLock { s -> Pending? in
                        if let p = s.pending.removeValue(forKey: reply.requestID) { return p }
                        s.unmatched += 1
                        if s.incoming.count >= Self.incomingLimit { s.incoming.removeFirst() }
                        s.incoming.append(reply)
                        return nil
                    }
                    if let waiting { waiting.continuation.resume(returning: reply) } else { queued = true }
                }
                if queued {
                    var one: UInt64 = 1
                    _ = write(incomingSignal, &one, 8)
                }
                // Resend or fail what timed out.
                let now = Self.now()
                var failed: [(CheckedContinuation<Envelope, any Error>, String)] = []
                var resend: [[UInt8]] = []
                shared.state.withLock { s in
                    for (id, p) in s.pending where p.deadline <= now {
                        if p.retriesLeft > 0 {
                            s.pending[id]?.retriesLeft -= 1
                            s.pending[id]?.deadline = now + p.timeout
                            s.resent += 1
                            resend.append(p.frame)
                        } else {
                            s.pending[id] = nil
                            failed.append((p.continuation, "request \(id) got no reply"))
                        }
                    }
                }
                for frame in resend { try? socket.send([frame], wait: false) }
                for (c, why) in failed { c.resume(throwing: MessagingError(why)) }
            }
            // Whatever still waits fails.
            let left = shared.state.withLock { s in
                defer { s.pending = [:] }
                return Array(s.pending.values)
            }
            for p in left { p.continuation.resume(throwing: MessagingError("the client closed")) }
            socket.close()
        }
        thread.start()
    }

    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    private func poke() {
        var one: UInt64 = 1
        _ = write(wake, &one, 8)
    }

    /// Sends `payload` and waits for the reply with its request id: `timeout` seconds per
    /// attempt, `retries` resends. An `Error` reply is returned as is (the caller decides).
    public func request(_ payload: Envelope.OneOf_Payload, timeout: Double = 2, retries: Int = 2) async throws -> Envelope {
        let id = shared.nextID.wrappingAdd(1, ordering: .relaxed).oldValue
        let frame = EnvelopeCodec.encode(EnvelopeCodec.make(sender: sender, requestID: id, payload))
        return try await withCheckedThrowingContinuation { continuation in
            let closed = shared.stopping.load(ordering: .acquiring)
            if closed {
                continuation.resume(throwing: MessagingError("the client is closed"))
                return
            }
            shared.state.withLock { s in
                s.pending[id] = Pending(frame: frame, continuation: continuation, deadline: Self.now() + timeout, timeout: timeout,
                                        retriesLeft: max(0, retries))
                s.outgoing.append(frame)
            }
            poke()
        }
    }

    /// Sends `payload` without waiting for anything (heartbeats, telemetry); returns the
    /// request id it went with (a reply, if one comes, arrives in the incoming queue).
    @discardableResult
    public func send(_ payload: Envelope.OneOf_Payload) -> UInt64 {
        let id = shared.nextID.wrappingAdd(1, ordering: .relaxed).oldValue
        send(EnvelopeCodec.make(sender: sender, requestID: id, payload))
        return id
    }

    /// Answers a message that came in (an `Ack` or an `Error` for a desired state): the
    /// reply carries its request id.
    public func reply(to requestID: UInt64, _ payload: Envelope.OneOf_Payload) {
        send(EnvelopeCodec.make(sender: sender, requestID: requestID, payload))
    }

    private func send(_ envelope: Envelope) {
        let frame = EnvelopeCodec.encode(envelope)
        shared.state.withLock { $0.outgoing.append(frame) }
        poke()
    }

    /// The envelopes that came in and were not replies to a `request`, oldest first.
    public func takeIncoming() -> [Envelope] {
        var count: UInt64 = 0
        _ = read(incomingDescriptor, &count, 8)
        return shared.state.withLock { s in
            defer { s.incoming = [] }
            return s.incoming
        }
    }

    /// Envelopes that matched no waiting request (queued as incoming), resends, and frames
    /// that were not envelopes, so far.
    public var statistics: (unmatched: Int, resent: Int, malformed: Int) {
        shared.state.withLock { ($0.unmatched, $0.resent, $0.malformed) }
    }

    /// Stops the thread; waiting requests fail.
    public func close() {
        if !shared.stopping.exchange(true, ordering: .acquiringAndReleasing) {
            // Wake the thread's poll rather than wait out its timeout.
            var one: UInt64 = 1
            _ = write(wake, &one, 8)
            thread.join()
            Glibc.close(wake)
            Glibc.close(incomingDescriptor)
        }
    }

    deinit { close() }
}

import CZeroMQ

#if canImport(Glibc)
import Glibc
#endif

/// A libzmq failure: the call, the errno and libzmq's words for it.
public struct ZMQError: Error, Equatable, CustomStringConvertible {
    public let operation: String
    public let code: Int32
    public var description: String { "\(operation): \(String(cString: zmq_strerror(code)))" }

    /// The error of the call that just failed (`zmq_errno`, not `errno`).
    static func last(_ operation: String) -> ZMQError { ZMQError(operation: operation, code: zmq_errno()) }

    /// True for "try again" (a non-blocking call with nothing to do, or a timeout).
    public var isAgain: Bool { code == EAGAIN }
}

/// A libzmq context: owns the I/O threads of its sockets. Close every socket before the
/// context goes (termination waits for them).
public final class ZMQContext: @unchecked Sendable {
    let handle: UnsafeMutableRawPointer

    public init() throws(ZMQError) {
        guard let h = zmq_ctx_new() else { throw ZMQError.last("zmq_ctx_new") }
        handle = h
    }

    deinit {
        zmq_ctx_term(handle)
    }
}

/// One ZeroMQ socket. A socket belongs to one thread at a time (libzmq's rule): the
/// messaging layer gives each socket set a dedicated thread.
public final class ZMQSocket {
    public enum Kind: Int32, Sendable {
        case pair = 0, pub = 1, sub = 2, req = 3, rep = 4, dealer = 5, router = 6, pull = 7, push = 8
    }

    let handle: UnsafeMutableRawPointer
    public let kind: Kind
    /// Kept so the context outlives the socket.
    let context: ZMQContext
    private var closed = false

    public init(_ context: ZMQContext, _ kind: Kind) throws(ZMQError) {
        guard let h = zmq_socket(context.handle, kind.rawValue) else { throw ZMQError.last("zmq_socket") }
        handle = h
        self.kind = kind
        self.context = context
        // Daemons must not hang on exit with undeliverable messages, nor drop a reply sent
        // just before closing: a short linger (see reference/swift-notes.md).
        try? setOption(ZMQ_LINGER, 200)
    }

    deinit { close() }

    public func close() {
        if !closed {
            zmq_close(handle)
            closed = true
        }
    }

    // MARK: Options

    public func setOption(_ option: Int32, _ value: Int32) throws(ZMQError) {
        var v = value
        guard zmq_setsockopt(handle, option, &v, MemoryLayout<Int32>.size) == 0 else { throw ZMQError.last("zmq_setsockopt(\(option))") }
    }

    public func setOption(_ option: Int32, bytes: [UInt8]) throws(ZMQError) {
        let r = bytes.withUnsafeBytes { zmq_setsockopt(handle, option, $0.baseAddress, $0.count) }
        guard r == 0 else { throw ZMQError.last("zmq_setsockopt(\(option))") }
    }

    public func setOption(_ option: Int32, _ text: String) throws(ZMQError) {
        try setOption(option, bytes: Array(text.utf8))
    }

    public func intOption(_ option: Int32) throws(ZMQError) -> Int32 {
        var v: Int32 = 0
        var size = MemoryLayout<Int32>.size
        guard zmq_getsockopt(handle, option, &v, &size) == 0 else { throw ZMQError.last("zmq_getsockopt(\(option))") }
        return v
    }

    /// The last endpoint bound or connected (with the port chosen for `tcp://*:*`).
    public var lastEndpoint: String {
        var buffer = [CChar](repeating: 0, count: 512)
        var size = buffer.count
        guard zmq_getsockopt(handle, ZMQ_LAST_ENDPOINT, &buffer, &size) == 0 else { return "" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Receive and send timeouts in milliseconds (-1: block).
    public func setTimeouts(receive: Int32, send: Int32) throws(ZMQError) {
        try setOption(ZMQ_RCVTIMEO, receive)
        try setOption(ZMQ_SNDTIMEO, send)
    }

    /// ZMTP heartbeats: a PING every `interval` ms; the peer is gone after `timeout` ms
    /// without traffic; `ttl` tells the peer how long to wait for us.
    public func setHeartbeats(interval: Int32, timeout: Int32, ttl: Int32) throws(ZMQError) {
        try setOption(ZMQ_HEARTBEAT_IVL, interval)
        try setOption(ZMQ_HEARTBEAT_TIMEOUT, timeout)
        try setOption(ZMQ_HEARTBEAT_TTL, ttl)
    }

    // MARK: Endpoints

    public func bind(_ endpoint: String) throws(ZMQError) {
        guard zmq_bind(handle, endpoint) == 0 else { throw ZMQError.last("bind \(endpoint)") }
    }

    public func connect(_ endpoint: String) throws(ZMQError) {
        guard zmq_connect(handle, endpoint) == 0 else { throw ZMQError.last("connect \(endpoint)") }
    }

    // MARK: Messages

    /// Sends a multipart message (each part copied). `wait: false` fails with EAGAIN
    /// instead of blocking.
    public func send(_ parts: [[UInt8]], wait: Bool = true) throws(ZMQError) {
        for (i, part) in parts.enumerated() {
            var flags: Int32 = i + 1 < parts.count ? ZMQ_SNDMORE : 0
            if !wait { flags |= ZMQ_DONTWAIT }
            let r = part.withUnsafeBytes { zmq_send(handle, $0.baseAddress, $0.count, flags) }
            guard r >= 0 else { throw ZMQError.last("send") }
        }
    }

    /// Receives one multipart message; nil on timeout (or, with `wait: false`, when
    /// nothing is waiting).
    public func receive(wait: Bool = true) throws(ZMQError) -> [[UInt8]]? {
        // A zmq_msg_t must keep its address while live (small messages are stored inside
        // it): heap storage, never a stored struct property.
        let message = UnsafeMutablePointer<zmq_msg_t>.allocate(capacity: 1)
        defer { message.deallocate() }
        var parts: [[UInt8]] = []
        while true {
            zmq_msg_init(message)
            let n = zmq_msg_recv(message, handle, wait || !parts.isEmpty ? 0 : ZMQ_DONTWAIT)
            if n < 0 {
                let error = ZMQError.last("receive")
                zmq_msg_close(message)
                if error.isAgain && parts.isEmpty { return nil }
                throw error
            }
            let size = zmq_msg_size(message)
            if size > 0, let data = zmq_msg_data(message) {
                parts.append(Array(UnsafeRawBufferPointer(start: data, count: size)))
            } else {
                parts.append([])
            }
            let more = zmq_msg_more(message) != 0
            zmq_msg_close(message)
            if !more { return parts }
        }
    }

    /// Waits until one of `sockets` can be read, up to `timeout` ms (-1: forever); returns
    /// the indices of the readable ones.
    public static func pollReadable(_ sockets: [ZMQSocket], descriptors: [Int32] = [], timeout: Int) throws(ZMQError) -> [Int] {
        var items = sockets.map { zmq_pollitem_t(socket: $0.handle, fd: 0, events: Int16(ZMQ_POLLIN), revents: 0) }
        items += descriptors.map { zmq_pollitem_t(socket: nil, fd: $0, events: Int16(ZMQ_POLLIN), revents: 0) }
        let n = zmq_poll(&items, Int32(items.count), timeout)
        guard n >= 0 else { throw ZMQError.last("zmq_poll") }
        return items.indices.filter { items[$0].revents & Int16(ZMQ_POLLIN) != 0 }
    }
}

/// Handshake failures of a socket, from libzmq's socket monitor: how a server learns of
/// clients refused before ZAP is even asked (a wrong server key, no CURVE at all).
public final class HandshakeMonitor {
    public let socket: ZMQSocket

    /// Starts monitoring `target` (call before it binds) on a private inproc endpoint.
    public init(_ target: ZMQSocket, context: ZMQContext, name: String) throws(ZMQError) {
        let endpoint = "inproc://monitor-\(name)"
        let events = ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH
        guard zmq_socket_monitor(target.handle, endpoint, events) == 0 else { throw ZMQError.last("zmq_socket_monitor") }
        socket = try ZMQSocket(context, .pair)
        try socket.connect(endpoint)
    }

    /// The next handshake failure in words, if one is waiting.
    public func next() -> String? {
        guard let frames = try? socket.receive(wait: false), frames.count == 2, frames[0].count >= 6 else { return nil }
        let event = UInt16(frames[0][0]) | UInt16(frames[0][1]) << 8
        let value = (0..<4).reduce(UInt32(0)) { $0 | UInt32(frames[0][2 + $1]) << (8 * UInt32($1)) }
        let peer = String(decoding: frames[1], as: UTF8.self)
        let why: String
        switch (Int32(event), Int32(bitPattern: value)) {
        case (ZMQ_EVENT_HANDSHAKE_FAILED_AUTH, let status): why = "not authorized (status \(status))"
        // No detail: the value is an errno (a peer that hung up mid-handshake, as a
        // client without CURVE does when it sees the server's mechanism first).
        case (ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL, let error): why = "handshake failed: \(String(cString: strerror(error)))"
        case (_, ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH): why = "security mechanism mismatch (a client without CURVE?)"
        case (_, ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC): why = "cryptographic error (a client with the wrong server key?)"
        default: why = "protocol error 0x\(String(value, radix: 16))"
        }
        return "refused a client on \(peer): \(why)"
    }
}

/// A CURVE key pair in Z85 text (40 characters each), as `zmq_curve_keypair` makes them.
public struct CurveKeyPair: Sendable, Equatable {
    public let publicKey: String
    public let secretKey: String

    public static func generate() throws(ZMQError) -> CurveKeyPair {
        var pub = [CChar](repeating: 0, count: 41)
        var sec = [CChar](repeating: 0, count: 41)
        guard zmq_curve_keypair(&pub, &sec) == 0 else { throw ZMQError.last("zmq_curve_keypair") }
        func text(_ c: [CChar]) -> String { String(decoding: c.prefix(40).map { UInt8(bitPattern: $0) }, as: UTF8.self) }
        return CurveKeyPair(publicKey: text(pub), secretKey: text(sec))
    }
}

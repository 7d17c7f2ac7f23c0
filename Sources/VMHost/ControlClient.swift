#if canImport(Glibc)
import Glibc
#endif

/// A client of Click's ControlSocket protocol (1.3) over a Unix socket: what the host
/// uses to read and write a VM's handlers. Blocking, with a timeout on every reply.
public final class ControlClient {
    private var fd: Int32 = -1
    private var buffer: [UInt8] = []
    public let path: String

    /// A reply that was not 200, with Click's code and message.
    public struct Failure: Error, CustomStringConvertible {
        public let code: Int
        public let message: String
        public var description: String { code > 0 ? "\(code) \(message)" : message }
    }

    /// Connects and reads the greeting (`Click::ControlSocket/1.3`).
    public init(path: String, timeout: Double = 5) throws(Failure) {
        self.path = path
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw Failure(code: 0, message: "socket: \(String(cString: strerror(errno)))") }
        var tv = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - Double(Int(timeout))) * 1e6))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        guard path.utf8.count < MemoryLayout.size(ofValue: address.sun_path) else {
            close()
            throw Failure(code: 0, message: "\(path): path too long")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in for (i, b) in path.utf8.enumerated() { raw[i] = b } }
        let r = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard r == 0 else {
            let message = String(cString: strerror(errno))
            close()
            throw Failure(code: 0, message: "\(path): \(message)")
        }
        let greeting = try line()
        guard greeting.hasPrefix("Click::ControlSocket/") else {
            close()
            throw Failure(code: 0, message: "\(path): not a Click control socket (said '\(greeting)')")
        }
    }

    deinit { close() }

    public func close() {
        if fd >= 0 {
            Glibc.close(fd)
            fd = -1
        }
    }

    /// `READ handler`: the handler's value.
    public func read(_ handler: String) throws(Failure) -> String {
        try send("READ \(handler)\r\n")
        let (code, message) = try status()
        guard code == 200 else { throw Failure(code: code, message: message) }
        let data = try line()
        guard data.hasPrefix("DATA "), let n = Int(data.dropFirst(5)), n >= 0 else {
            throw Failure(code: 0, message: "malformed reply '\(data)'")
        }
        return String(decoding: try bytes(n), as: UTF8.self)
    }

    /// `WRITEDATA handler n` with the value's bytes (any text, newlines included).
    public func write(_ handler: String, _ value: String) throws(Failure) {
        let bytes = Array(value.utf8)
        try send("WRITEDATA \(handler) \(bytes.count)\r\n", data: bytes)
        let (code, message) = try status()
        guard code == 200 else { throw Failure(code: code, message: message) }
    }

    /// `CHECKREAD` / `CHECKWRITE`: whether the handler exists with that access.
    public func check(_ handler: String, write: Bool) throws(Failure) -> Bool {
        try send("\(write ? "CHECKWRITE" : "CHECKREAD") \(handler)\r\n")
        return try status().code == 200
    }

    /// Sends a raw command line and returns the reply's status line.
    public func command(_ text: String) throws(Failure) -> (code: Int, message: String) {
        try send(text + "\r\n")
        return try status()
    }

    private func status() throws(Failure) -> (code: Int, message: String) {
        let text = try line()
        let code = Int(text.prefix(3)) ?? 0
        return (code, String(text.dropFirst(4)))
    }

    private func send(_ text: String, data: [UInt8] = []) throws(Failure) {
        let all = Array(text.utf8) + data
        var offset = 0
        while offset < all.count {
            let n = all[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw Failure(code: 0, message: "\(path): send: \(String(cString: strerror(errno)))") }
            offset += n
        }
    }

    private func fill() throws(Failure) {
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = Glibc.read(fd, &chunk, chunk.count)
            if n < 0 && errno == EINTR { continue }
            if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { throw Failure(code: 0, message: "\(path): no reply (timed out)") }
            guard n > 0 else { throw Failure(code: 0, message: "\(path): the VM closed the control connection") }
            buffer.append(contentsOf: chunk[0..<n])
            return
        }
    }

    private func line() throws(Failure) -> String {
        while true {
            if let end = buffer.firstIndex(of: 10) {
                var text = buffer[..<end]
                if text.last == 13 { text = text.dropLast() }
                let s = String(decoding: text, as: UTF8.self)
                buffer.removeFirst(end + 1)
                return s
            }
            try fill()
        }
    }

    private func bytes(_ n: Int) throws(Failure) -> [UInt8] {
        while buffer.count < n { try fill() }
        let out = Array(buffer[0..<n])
        buffer.removeFirst(n)
        return out
    }
}

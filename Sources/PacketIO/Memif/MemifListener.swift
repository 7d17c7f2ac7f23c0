#if canImport(Glibc)
import Glibc
#endif
import CShims
import VMInterface

/// A memif server's control socket. One socket serves several interfaces, told apart by
/// the `id` in the client's INIT: the listener greets each connection with HELLO, checks
/// INIT (version, id, mode, secret, one client per id) and hands the connection to the
/// interface it names; a refused client gets DISCONNECT with the protocol's reason.
final class MemifListener {
    let path: String
    private(set) var fd: Int32 = -1
    private(set) var interfaces: [MemifPort] = []
    /// Connections greeted but not yet bound by INIT.
    private(set) var pending: [Int32] = []
    private static let maxPending = 16

    init(path: String) {
        self.path = path
    }

    deinit { close() }

    /// Binds and listens. A stale socket file (a crashed server's) is removed first; a
    /// live server on the path makes this fail.
    func open() throws(MemifError) {
        if !path.hasPrefix("@") {
            let probe = clickos_seqpacket_connect(path)
            if probe >= 0 {
                Glibc.close(probe)
                throw MemifError("\(path): another memif server is listening there")
            }
            unlink(path)
        }
        let listener = clickos_seqpacket_listen(path)
        guard listener >= 0 else { throw MemifError("\(path): \(String(cString: strerror(errno)))") }
        // Peers often run as another user (VMs run as `nobody`): who may connect is
        // decided by the directory the socket is in, and by the interface's secret.
        if !path.hasPrefix("@") { chmod(path, 0o666) }
        fd = listener
    }

    func add(_ port: MemifPort) throws(MemifError) {
        if interfaces.contains(where: { $0.configuration.id == port.configuration.id }) {
            throw MemifError("\(path): two interfaces with id \(port.configuration.id) on one socket")
        }
        interfaces.append(port)
    }

    func close() {
        for p in pending { Glibc.close(p) }
        pending = []
        if fd >= 0 {
            Glibc.close(fd)
            fd = -1
            if !path.hasPrefix("@") { unlink(path) }
        }
    }

    /// Accepts waiting connections and greets them.
    func acceptConnections() {
        while fd >= 0 {
            let c = clickos_accept(fd)
            if c < 0 { return }
            if pending.count >= Self.maxPending {
                Glibc.close(pending.removeFirst())
            }
            let maxRing = UInt16(max(0, (interfaces.map(\.configuration.ringsPerDirection).max() ?? 1) - 1))
            let hello = MemifMessage.hello(name: interfaces.first?.configuration.name ?? "clickos",
                                           minVersion: MemifMessage.version, maxVersion: MemifMessage.version,
                                           maxRegion: 255, maxS2CRing: maxRing, maxC2SRing: maxRing, maxLog2RingSize: 14)
            Self.send(c, hello)
            pending.append(c)
        }
    }

    /// Handles the INIT (or anything else) a pending connection sent.
    func handlePending(_ c: Int32) {
        var buffer = [UInt8](repeating: 0, count: MemifMessage.size + 1)
        var passed: Int32 = -1
        var truncated: Int32 = 0
        let n = buffer.withUnsafeMutableBytes { clickos_seqpacket_receive(c, $0.baseAddress, UInt32($0.count), &passed, &truncated) }
        if passed >= 0 { Glibc.close(passed) }
        if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { return }
        guard n > 0 else {
            drop(c)
            return
        }
        let decoded = buffer.withUnsafeBytes { MemifMessage.decode(UnsafeRawBufferPointer(rebasing: $0[0..<(truncated != 0 ? $0.count : n)])) }
        switch decoded {
        case .failure(let e):
            refuse(c, e.reason)
        case let .success(.initialize(version, id, mode, secret, name)):
            guard version == MemifMessage.version else { return refuse(c, "Incompatible memif version") }
            guard let port = interfaces.first(where: { $0.configuration.id == id }) else { return refuse(c, "ID not found") }
            guard port.state == .disconnected else { return refuse(c, "Already connected") }
            guard mode == 0 else { return refuse(c, "Only ethernet mode supported") }
            let expected = port.configuration.secret
            if !expected.isEmpty {
                guard !secret.isEmpty else { return refuse(c, "Secret required") }
                guard secret == expected else { return refuse(c, "Incorrect secret") }
            }
            pending.removeAll { $0 == c }
            port.adopt(connection: c, peerName: name)
        case .success(.disconnect):
            drop(c)
        case .success:
            refuse(c, "Unexpected message")
        }
    }

    private func refuse(_ c: Int32, _ reason: String) {
        Self.send(c, .disconnect(code: 0, reason: reason))
        drop(c)
    }

    private func drop(_ c: Int32) {
        pending.removeAll { $0 == c }
        Glibc.close(c)
    }

    static func send(_ fd: Int32, _ message: MemifMessage) {
        let bytes = message.encoded()
        _ = bytes.withUnsafeBytes { clickos_seqpacket_send(fd, $0.baseAddress, UInt32($0.count), -1) }
    }
}

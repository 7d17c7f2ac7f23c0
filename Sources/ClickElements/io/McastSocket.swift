#if canImport(Glibc)
import Glibc
#endif
import ClickLanguage
import ClickRuntime

/// McastSocket(MCASTIP, MCASTPORT [, SOURCEIP, SOURCEPORT, *keywords* LOOP, SNAPLEN,
/// SNDBUF, RCVBUF, TIMESTAMP, HEADROOM])
///
/// Carries packets over multicast UDP, as Click's McastSocket: packets into the input are
/// sent as UDP datagrams to group MCASTIP, port MCASTPORT; datagrams that arrive for the
/// group come out of the output (the datagram's payload, stamped with the time it
/// arrived when TIMESTAMP, the default, is true). Packets do not flow through the
/// element (it is "x/y").
///
/// With SOURCEIP (and SOURCEPORT; 0 or absent picks one) the datagrams are sent from that
/// address on its interface, the group is joined there, and datagrams from this element
/// itself are dropped on receipt. Otherwise the routing table picks the interface, and
/// LOOP (default true: IP_MULTICAST_LOOP) decides whether this host, this element
/// included, gets copies of what is sent.
///
/// SNAPLEN (default 2048) bounds a received datagram (the rest counts in the
/// EXTRA_LENGTH annotation); SNDBUF and RCVBUF set the socket buffers; HEADROOM is
/// accepted for Click's sake (this project's packets have a fixed headroom).
///
/// Ports: 0 or 1 input (agnostic: a pushed packet waits for the socket; a pulled input
/// is drained as the socket accepts packets); 0 or 1 output (push).
///
/// The sockets are opened at initialization, before a jailed VM's system call
/// allow-list applies (which allows sending and receiving on them, not opening more).
public final class McastSocket: Element {
    public override var portCount: String { "0-1/0-1" }
    public override var processing: String { "a/h" }
    public override var flowCode: String { "x/y" }
    var group = sockaddr_in()
    var source = sockaddr_in()
    var loop = true
    var snaplen = 2048
    var sendBuffer: Int?
    var receiveBuffer: Int?
    var timestamp = true
    var receiveSocket: Int32 = -1
    var sendSocket: Int32 = -1
    /// A pulled packet the socket could not take yet.
    var waiting: Packet?
    var task: Task?
    var signal: UpstreamSignal?

    public override func configure(_ args: inout Arguments) {
        let groupAddress = args.mandatory("MCASTIP", .ipv4Address)
        let groupPort = args.mandatory("MCASTPORT", UDPIPEncap.portType)
        let sourceAddress = args.positional("SOURCEIP", .ipv4Address)
        let sourcePort = args.positional("SOURCEPORT", UDPIPEncap.portType)
        snaplen = args.keyword("SNAPLEN", .unsignedInteger) ?? snaplen
        _ = args.keyword("HEADROOM", .unsignedInteger)
        timestamp = args.keyword("TIMESTAMP", .bool) ?? true
        receiveBuffer = args.keyword("RCVBUF", .integer)
        sendBuffer = args.keyword("SNDBUF", .integer)
        loop = args.keyword("LOOP", .bool) ?? true
        group.sin_family = sa_family_t(AF_INET)
        group.sin_port = (groupPort ?? 0).bigEndian
        group.sin_addr.s_addr = (groupAddress?.value ?? 0).bigEndian
        source.sin_family = sa_family_t(AF_INET)
        source.sin_port = (sourcePort ?? 0).bigEndian
        source.sin_addr.s_addr = (sourceAddress?.value ?? 0).bigEndian
        // A datagram is read whole into one buffer.
        let room = PacketPool.defaultBufferSize - PacketPool.defaultHeadroom
        if snaplen > room { args.error("SNAPLEN must be at most \(room)") }
    }

    /// Fails initialization the way Click does: `syscall: reason`, sockets closed.
    func failure(_ call: String) -> ElementError {
        let reason = String(cString: strerror(errno))
        cleanup()
        return ElementError("\(call): \(reason)")
    }

    func setOption<T: BitwiseCopyable>(_ fd: Int32, _ level: Int32, _ name: Int32, _ value: T, _ label: String) throws(ElementError) {
        let set = withUnsafeBytes(of: value) { setsockopt(fd, level, name, $0.baseAddress, socklen_t($0.count)) }
        guard set == 0 else { throw failure("setsockopt(\(label))") }
    }

    public override func initialize() throws(ElementError) {
        receiveSocket = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), Int32(IPPROTO_UDP))
        sendSocket = receiveSocket >= 0 ? socket(AF_INET, Int32(SOCK_DGRAM.rawValue), Int32(IPPROTO_UDP)) : -1
        guard receiveSocket >= 0, sendSocket >= 0 else { throw failure("socket") }
        if let sendBuffer, sendBuffer >= 0 { try setOption(sendSocket, SOL_SOCKET, SO_SNDBUF, Int32(clamping: sendBuffer), "SO_SNDBUF") }
        if let receiveBuffer, receiveBuffer >= 0 { try setOption(receiveSocket, SOL_SOCKET, SO_RCVBUF, Int32(clamping: receiveBuffer), "SO_RCVBUF") }
        try setOption(receiveSocket, SOL_SOCKET, SO_REUSEADDR, Int32(1), "SO_REUSEADDR")
        var bound = withUnsafePointer(to: &group) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(receiveSocket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard bound == 0 else { throw failure("bind") }
        if source.sin_addr.s_addr != 0 {
            bound = withUnsafePointer(to: &source) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(sendSocket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
            guard bound == 0 else { throw failure("bind") }
            if source.sin_port == 0 {
                var length = socklen_t(MemoryLayout<sockaddr_in>.size)
                let named = withUnsafeMutablePointer(to: &source) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(sendSocket, $0, &length) } }
                guard named == 0 else { throw failure("getsockname") }
            }
            try setOption(sendSocket, Int32(IPPROTO_IP), IP_MULTICAST_IF, source.sin_addr, "IP_MULTICAST_IF")
        }
        try setOption(receiveSocket, Int32(IPPROTO_IP), IP_ADD_MEMBERSHIP, ip_mreq(imr_multiaddr: group.sin_addr, imr_interface: source.sin_addr), "IP_ADD_MEMBERSHIP")
        try setOption(sendSocket, Int32(IPPROTO_IP), IP_MULTICAST_LOOP, Int32(loop ? 1 : 0), "IP_MULTICAST_LOOP")
        for fd in [sendSocket, receiveSocket] {
            _ = fcntl(fd, F_SETFL, O_NONBLOCK)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        }
        if noutputs > 0 { router.scheduler.watch(fd: receiveSocket, for: self) }
        if ninputs > 0 && inputIsPull(0) { (task, signal) = startPulling() }
    }

    public override func cleanup() {
        task?.unschedule()
        waiting?.kill()
        waiting = nil
        if receiveSocket >= 0 {
            router.scheduler.unwatch(fd: receiveSocket)
            close(receiveSocket)
            receiveSocket = -1
        }
        if sendSocket >= 0 {
            close(sendSocket)
            sendSocket = -1
        }
    }

    /// A datagram arrived (or several): each comes out, but this element's own.
    public override func selected(fd: Int32) {
        guard fd == receiveSocket, receiveSocket >= 0 else { return }
        while let p = pool.make(), p.put(snaplen) {
            var from = sockaddr_in()
            var fromLength = socklen_t(MemoryLayout<sockaddr_in>.size)
            let n = withUnsafeMutablePointer(to: &from) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(receiveSocket, p.data, snaplen, Int32(MSG_TRUNC), $0, &fromLength) }
            }
            if n < 0 {
                let error = errno
                p.kill()
                if error != EAGAIN && error != EWOULDBLOCK {
                    router.chatter("\(declaration): \(String(cString: strerror(error)))")
                    cleanup()
                }
                return
            }
            if source.sin_addr.s_addr != 0 && from.sin_addr.s_addr == source.sin_addr.s_addr && from.sin_port == source.sin_port {
                p.kill()  // our own datagram, looped back
                continue
            }
            if n > snaplen {
                p.setAnnotation32(Annotation.extraLength, UInt32(n - snaplen))
            } else {
                p.take(snaplen - n)
            }
            if timestamp { p.timestamp = routerNow() }
            output(0, single: p)
        }
    }

    enum SendResult { case sent, full, failed(Int32) }

    /// Sends one datagram.
    func send(_ p: Packet) -> SendResult {
        let n = withUnsafePointer(to: &group) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(sendSocket, p.data, p.length, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if n >= 0 { return .sent }
        let error = errno
        return error == EAGAIN || error == EWOULDBLOCK || error == ENOBUFS ? .full : .failed(error)
    }

    func reportDrop(_ error: Int32) {
        router.chatter("\(declaration): \(String(cString: strerror(error))), dropping packet")
    }

    /// A pushed packet waits until the socket can take it, as Click's.
    public override func push(port: Int, _ batch: inout PacketBatch) {
        for i in 0..<batch.count {
            let p = batch[i]
            defer { p.kill() }
            guard sendSocket >= 0 else { continue }
            sending: while true {
                switch send(p) {
                case .sent: break sending
                case .failed(let error):
                    reportDrop(error)
                    break sending
                case .full:
                    var pfd = pollfd(fd: sendSocket, events: Int16(POLLOUT), revents: 0)
                    _ = poll(&pfd, 1, 10)
                }
            }
        }
        batch.count = 0
    }

    public override func runTask(_ task: Task) -> Bool {
        guard sendSocket >= 0 else { return false }
        var sent = 0
        while true {
            var p = waiting
            waiting = nil
            if p == nil {
                withScratchBatch { batch in
                    input(0, into: &batch, max: 1)
                    if batch.count > 0 {
                        p = batch[0]
                        batch.count = 0
                    }
                }
            }
            guard let packet = p else { break }
            switch send(packet) {
            case .sent: sent += 1
            case .failed(let error): reportDrop(error)
            case .full:
                // Keep the packet and try again on the next run.
                waiting = packet
                return sent > 0
            }
            packet.kill()
        }
        if signal.map({ !$0.isActive }) ?? true { task.unschedule() }
        return sent > 0
    }
}

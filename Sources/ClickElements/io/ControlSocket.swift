#if canImport(Glibc)
import Glibc
#endif
import ClickLanguage
import ClickRuntime

/// ControlSocket(TYPE, PORT | FILENAME [, *keywords* READONLY, LOCALHOST, VERBOSE, RETRIES,
/// RETRY_WARNINGS, PROXY]): TYPE is TCP (with a PORT) or UNIX (with a FILENAME)
///
/// Lets other programs call the router's handlers over a socket with Click's
/// line-based protocol (version 1.3): on connection the server says
/// `Click::ControlSocket/1.3`; commands are `READ h [params]`, `READDATA h n`,
/// `WRITE h [data]`, `WRITEDATA h n`, `CHECKREAD h`, `CHECKWRITE h`, `QUIT`; replies start
/// with a three-digit code (200 OK, 500 syntax error, 501 unimplemented — LLRPC is
/// refused —, 510 no such element, 511 no such handler, 520 handler error, 530 permission
/// denied). Reads answer `DATA n` and the bytes. Handler names are `element.handler`,
/// `N.handler` (element N, from 1) or a global handler. The socket is served by the
/// router's own thread between tasks. TCP sockets listen on 127.0.0.1 unless LOCALHOST is
/// false.
///
/// Ports: none.
public final class ControlSocket: Element {
    public override var portCount: String { "0/0" }

    var isUnix = true
    var path = ""
    var port: UInt16 = 0
    var readOnly = false
    var localhost = true
    var server: ControlSocketServer?

    public override func configure(_ args: inout Arguments) {
        let kind = (args.mandatory("TYPE", .word) ?? "").uppercased()
        switch kind {
        case "UNIX":
            isUnix = true
            path = args.mandatory("FILENAME", .string) ?? ""
            if path.utf8.count > 107 { args.error("socket path too long (at most 107 bytes)", keyword: "FILENAME") }
        case "TCP":
            isUnix = false
            if let p = args.mandatory("PORT", .unsignedInteger) {
                if p > 65535 { args.error("out of range", keyword: "PORT") } else { port = UInt16(p) }
            }
        default:
            args.error("unknown socket type '\(kind)'; expected 'TCP' or 'UNIX'", keyword: "TYPE")
        }
        readOnly = args.keyword("READONLY", .bool) ?? false
        localhost = args.keyword("LOCALHOST", .bool) ?? true
        unsupportedKeywords(&args, ["VERBOSE", "RETRIES", "RETRY_WARNINGS", "PROXY"])
    }

    /// The bound TCP port (useful when configured with port 0).
    public var boundPort: UInt16 { server?.boundPort ?? 0 }

    public override func initialize() throws(ElementError) {
        let s = ControlSocketServer(router: router, readOnly: readOnly)
        do {
            if isUnix { try s.listen(unixPath: path) } else { try s.listen(tcpPort: port, localhost: localhost) }
        } catch {
            throw ElementError(error.message)
        }
        s.attach(to: router.scheduler)
        server = s
    }

    public override func cleanup() {
        server?.close()
        server = nil
    }
}

/// The server side of Click's ControlSocket protocol (version 1.3), on a Unix or TCP
/// socket, for one router at a time: the `ControlSocket` element uses one for its own
/// router, and a VM's driver keeps one across hot reconfigurations (pointing it at each
/// new router), so control connections survive a `hotconfig`. Served by the router's
/// thread between tasks.
public final class ControlSocketServer: DescriptorWatcher {
    /// The router whose handlers the commands call.
    /// Not weak: a weak reference would slow every retain of the router. Whoever owns
    /// the server keeps the router alive while it is set (the element is the router's; the
    /// driver sets each new router before running it).
    public unowned(unsafe) var router: Router?
    public let readOnly: Bool
    private(set) var listener: Int32 = -1
    private var unixPath: String?
    /// The socket file's identity, so that closing removes only our own file (a
    /// successor may have bound the same path meanwhile).
    private var fileIdentity: (dev: UInt64, ino: UInt64)?
    public private(set) var boundPort: UInt16 = 0
    private unowned(unsafe) var scheduler: Scheduler?
    struct Client {
        var fd: Int32
        var input: [UInt8] = []
    }
    var clients: [Int32: Client] = [:]

    public struct SetupError: Error {
        public let message: String
    }

    public init(router: Router?, readOnly: Bool = false) {
        self.router = router
        self.readOnly = readOnly
    }

    deinit { close() }

    public func listen(unixPath path: String) throws(SetupError) {
        try open(unix: true, path: path, port: 0, localhost: true)
    }

    public func listen(tcpPort port: UInt16, localhost: Bool) throws(SetupError) {
        try open(unix: false, path: "", port: port, localhost: localhost)
    }

    private func open(unix isUnix: Bool, path: String, port: UInt16, localhost: Bool) throws(SetupError) {
        let fd = socket(isUnix ? AF_UNIX : AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SetupError(message: "socket: \(String(cString: strerror(errno)))") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var result: Int32
        if isUnix {
            unlink(path)
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &address.sun_path) { raw in
                for (i, b) in path.utf8.prefix(raw.count - 1).enumerated() { raw[i] = b }
            }
            result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
        } else {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = port.bigEndian
            address.sin_addr.s_addr = localhost ? UInt32(0x7F00_0001).bigEndian : 0
            result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        }
        guard result == 0, Glibc.listen(fd, 16) == 0 else {
            let message = String(cString: strerror(errno))
            Glibc.close(fd)
            throw SetupError(message: "\(isUnix ? path : "port \(port)"): \(message)")
        }
        if !isUnix {
            var address = sockaddr_in()
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            _ = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
            }
            boundPort = UInt16(bigEndian: address.sin_port)
        }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        listener = fd
        if isUnix {
            unixPath = path
            var st = stat()
            if stat(path, &st) == 0 { fileIdentity = (UInt64(st.st_dev), UInt64(st.st_ino)) }
        }
    }

    /// Serves from `scheduler`'s loop (the listener and every connection).
    public func attach(to scheduler: Scheduler) {
        self.scheduler = scheduler
        if listener >= 0 { scheduler.watch(fd: listener, for: self) }
        for fd in clients.keys { scheduler.watch(fd: fd, for: self) }
    }

    public func detach() {
        guard let scheduler else { return }
        if listener >= 0 { scheduler.unwatch(fd: listener) }
        for fd in clients.keys { scheduler.unwatch(fd: fd) }
        self.scheduler = nil
    }

    /// Closes every connection and the listener (removing its socket file if it is
    /// still ours).
    public func close() {
        detach()
        for fd in clients.keys { Glibc.close(fd) }
        clients = [:]
        if listener >= 0 {
            Glibc.close(listener)
            listener = -1
            if let unixPath, let fileIdentity {
                var st = stat()
                if stat(unixPath, &st) == 0, UInt64(st.st_dev) == fileIdentity.dev, UInt64(st.st_ino) == fileIdentity.ino {
                    unlink(unixPath)
                }
            }
        }
    }

    func send(_ fd: Int32, _ text: String, data: [UInt8] = []) {
        let bytes = Array(text.utf8) + data
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 {
                if n < 0 && errno == EINTR { continue }
                if n < 0 && errno == EAGAIN {
                    var p = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                    _ = poll(&p, 1, 1000)
                    continue
                }
                return
            }
            offset += n
        }
    }

    func drop(_ fd: Int32) {
        scheduler?.unwatch(fd: fd)
        Glibc.close(fd)
        clients[fd] = nil
    }

    public func selected(fd: Int32) {
        if fd == listener {
            while true {
                // accept4 is a GNU extension Glibc's module does not expose: set the flags after.
                let c = accept(listener, nil, nil)
                if c < 0 { break }
                _ = fcntl(c, F_SETFL, fcntl(c, F_GETFL) | O_NONBLOCK)
                _ = fcntl(c, F_SETFD, FD_CLOEXEC)
                clients[c] = Client(fd: c)
                scheduler?.watch(fd: c, for: self)
                send(c, "Click::ControlSocket/1.3\r\n")
            }
            return
        }
        guard clients[fd] != nil else { return }
        var buffer = [UInt8](repeating: 0, count: 65_536)
        let n = read(fd, &buffer, buffer.count)
        if n <= 0 {
            if n == 0 || (errno != EAGAIN && errno != EINTR) { drop(fd) }
            return
        }
        clients[fd]?.input.append(contentsOf: buffer[0..<n])
        process(fd)
    }

    /// Handles every complete command buffered for client `fd`.
    func process(_ fd: Int32) {
        while var client = clients[fd] {
            guard let end = client.input.firstIndex(where: { $0 == 10 || $0 == 13 }) else { return }
            let line = String(decoding: client.input[..<end], as: UTF8.self)
            var consumed = end + 1
            if client.input[end] == 13, consumed < client.input.count, client.input[consumed] == 10 { consumed += 1 }
            let words = line.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: true).map(String.init)
            let command = words.first?.uppercased() ?? ""
            // WRITEDATA / READDATA carry n bytes after the line: wait until they are here.
            var payload: [UInt8] = []
            if command == "WRITEDATA" || command == "READDATA" {
                guard words.count >= 3, let n = Int(words[2].trimmingCharacters()), n >= 0, n < 1 << 26 else {
                    client.input.removeFirst(consumed)
                    clients[fd] = client
                    send(fd, "500 Syntax error\r\n")
                    continue
                }
                guard client.input.count >= consumed + n else { return }
                payload = Array(client.input[consumed..<(consumed + n)])
                consumed += n
            }
            client.input.removeFirst(consumed)
            clients[fd] = client
            if line.trimmingCharacters().isEmpty { continue }
            if !respond(fd, command, words, payload) { return }
        }
    }

    /// Resolves `N.handler` element numbers, then the router's handler name rules.
    func resolve(_ router: Router, _ name: String) -> String {
        if let dot = name.firstIndex(of: "."), let n = Int(name[..<dot]), n >= 1, n <= router.elements.count {
            return router.elements[n - 1].name + name[dot...]
        }
        return name
    }

    func errorLine(_ e: HandlerError) -> String {
        let code: Int
        switch e.kind {
        case .noElement: code = 510
        case .noHandler: code = 511
        case .permissionDenied: code = 530
        case .failed: code = 520
        }
        return "\(code) \(e.message.split(separator: "\n").joined(separator: " "))\r\n"
    }

    /// Answers one command; false when the connection closed.
    func respond(_ fd: Int32, _ command: String, _ words: [String], _ payload: [UInt8]) -> Bool {
        guard let router else {
            send(fd, "520 The router is gone\r\n")
            return true
        }
        func resolve(_ name: String) -> String { self.resolve(router, name) }
        switch command {
        case "READ", "READDATA":
            guard words.count >= 2 else {
                send(fd, "500 Syntax error\r\n")
                return true
            }
            let name = resolve(words[1])
            let parameter = command == "READ" ? (words.count > 2 ? words[2] : "") : String(decoding: payload, as: UTF8.self)
            do {
                let value = Array(try router.read(name, parameter: parameter).utf8)
                send(fd, "200 Read handler '\(words[1])' OK\r\nDATA \(value.count)\r\n", data: value)
            } catch {
                send(fd, errorLine(error))
            }
        case "WRITE", "WRITEDATA":
            guard words.count >= 2 else {
                send(fd, "500 Syntax error\r\n")
                return true
            }
            if readOnly {
                send(fd, "530 Permission denied for '\(words[1])'\r\n")
                return true
            }
            let value = command == "WRITE" ? (words.count > 2 ? words[2] : "") : String(decoding: payload, as: UTF8.self)
            do {
                try router.write(resolve(words[1]), value)
                send(fd, "200 Write handler '\(words[1])' OK\r\n")
            } catch {
                send(fd, errorLine(error))
            }
        case "CHECKREAD", "CHECKWRITE":
            guard words.count == 2 else {
                send(fd, "500 Syntax error\r\n")
                return true
            }
            do {
                let (_, h) = try router.handler(resolve(words[1]))
                let ok = command == "CHECKREAD" ? h.isReadable : (h.isWritable && !readOnly)
                send(fd, ok ? "200 \(command == "CHECKREAD" ? "Read" : "Write") handler '\(words[1])' OK\r\n"
                    : "530 Handler '\(words[1])' is not \(command == "CHECKREAD" ? "readable" : "writable")\r\n")
            } catch {
                send(fd, errorLine(error))
            }
        case "LLRPC":
            send(fd, "501 Unimplemented command 'LLRPC'\r\n")
        case "QUIT":
            send(fd, "200 Goodbye!\r\n")
            drop(fd)
            return false
        default:
            send(fd, "501 Unimplemented command '\(words.first ?? "")'\r\n")
        }
        return true
    }
}

import Foundation
import Synchronization

/// A xenstore daemon for the tests, speaking xenstored's wire protocol (`xen/io/xs_wire.h`)
/// on Unix sockets so that the real libxenstore can talk to it (`XENSTORED_PATH`): the node
/// tree with values and permissions, relative paths, transactions that fail with EAGAIN
/// when a node they touched changed under them (xenstored's generation counts), watches
/// with their first event, and errors as errno names. Each socket stands for one domain:
/// `socket` for dom0 (privileged) and `socket.<domid>` for a guest, so that a guest's
/// relative paths and permissions are its own, as over its ring.
public final class TestXenstored: @unchecked Sendable {
    enum Kind: UInt32 {
        case control = 0, directory, read, getPerms, watch, unwatch, transactionStart, transactionEnd, introduce, release
        case getDomainPath, write, mkdir, rm, setPerms, watchEvent, error, isDomainIntroduced, resume, setTarget
        case resetWatches = 21, directoryPart = 22
    }

    struct Permission: Equatable {
        var domain: UInt32
        var read: Bool
        var write: Bool
        var text: String { (read && write ? "b" : read ? "r" : write ? "w" : "n") + String(domain) }
        init(domain: UInt32, read: Bool, write: Bool) {
            self.domain = domain
            self.read = read
            self.write = write
        }
        init?(_ text: String) {
            guard let c = text.first, let d = UInt32(text.dropFirst()) else { return nil }
            switch c {
            case "n": self.init(domain: d, read: false, write: false)
            case "r": self.init(domain: d, read: true, write: false)
            case "w": self.init(domain: d, read: false, write: true)
            case "b": self.init(domain: d, read: true, write: true)
            default: return nil
            }
        }
    }

    struct Node {
        var value: [UInt8]
        var permissions: [Permission]
        var children: [String]
        var generation: UInt64
    }

    typealias Tree = [String: Node]

    struct Transaction {
        var base: Tree
        var working: Tree
        /// Generation of each node touched, as it was when the transaction started (0: absent).
        var touched: [String: UInt64] = [:]
        var changed: Set<String> = []
        var events: [(path: String, old: Node?)] = []
    }

    final class Connection {
        let fd: Int32
        let domain: UInt32
        var input: [UInt8] = []
        /// Watched absolute paths, their tokens, and whether they were given relative.
        var watches: [(path: String, token: String, relative: Bool)] = []
        var transactions: [UInt32: Transaction] = [:]
        init(fd: Int32, domain: UInt32) {
            self.fd = fd
            self.domain = domain
        }
    }

    public let directory: String
    private var tree: Tree = [:]
    private var generation: UInt64 = 1
    private var nextTransaction: UInt32 = 1
    private var listeners: [(fd: Int32, domain: UInt32)] = []
    private var connections: [Int32: Connection] = [:]
    private var wakePipe: [Int32] = [-1, -1]
    private var thread: Thread?
    private let stopped = Atomic<Bool>(false)
    /// Requests answered, transactions that ended in EAGAIN, the largest request payload.
    private let requestCount = Atomic<Int>(0)
    private let conflictCount = Atomic<Int>(0)
    private let largestPayloadSeen = Atomic<Int>(0)
    public var requests: Int { requestCount.load(ordering: .relaxed) }
    public var conflicts: Int { conflictCount.load(ordering: .relaxed) }
    public var largestPayload: Int { largestPayloadSeen.load(ordering: .relaxed) }

    /// The dom0 socket.
    public var socketPath: String { directory + "/socket" }
    public func socketPath(domain: UInt32) -> String { domain == 0 ? socketPath : "\(directory)/socket.\(domain)" }

    public init(guests: [UInt32] = []) throws {
        directory = NSTemporaryDirectory() + "xenstored-\(getpid())-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let dom0 = [Permission(domain: 0, read: false, write: false)]
        tree["/"] = Node(value: [], permissions: dom0, children: [], generation: 1)
        for path in ["/local", "/local/domain", "/local/domain/0", "/tool", "/vm"] { create(path, permissions: dom0) }
        for domain in [0] + guests {
            listeners.append((try listen(socketPath(domain: domain)), domain))
            if domain != 0 { addDomain(domain) }
        }
        guard pipe(&wakePipe) == 0 else { throw POSIXError(.EMFILE) }
        let t = Thread { [self] in serve() }
        thread = t
        t.start()
    }

    deinit { stop() }

    /// Stops serving and removes the sockets.
    public func stop() {
        if stopped.exchange(true, ordering: .acquiringAndReleasing) { return }
        var one: UInt8 = 1
        _ = Glibc.write(wakePipe[1], &one, 1)
        while thread?.isFinished == false { usleep(1000) }
        for l in listeners { close(l.fd) }
        for c in connections.values { close(c.fd) }
        close(wakePipe[0])
        close(wakePipe[1])
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// What the toolstack creates for a new domain: its home (dom0's, readable by the
    /// guest), `name` and `domid`, and `data` owned by the guest.
    private func addDomain(_ domain: UInt32) {
        let home = "/local/domain/\(domain)"
        let readable = [Permission(domain: 0, read: false, write: false), Permission(domain: domain, read: true, write: false)]
        create(home, permissions: readable)
        create(home + "/name", value: "guest\(domain)", permissions: readable)
        create(home + "/domid", value: "\(domain)", permissions: readable)
        create(home + "/data", permissions: [Permission(domain: domain, read: false, write: false)])
    }

    private func create(_ path: String, value: String = "", permissions: [Permission]) {
        generation += 1
        tree[path] = Node(value: Array(value.utf8), permissions: permissions, children: [], generation: generation)
        let (parent, name) = Self.split(path)
        tree[parent]?.children.append(name)
    }

    // MARK: Serving

    private func listen(_ path: String) throws -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            let bytes = Array(path.utf8)
            for (i, b) in bytes.enumerated() where i < raw.count - 1 { raw[i] = b }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0, Glibc.listen(fd, 256) == 0 else {
            close(fd)
            throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EINVAL)
        }
        return fd
    }

    private func serve() {
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while !stopped.load(ordering: .acquiring) {
            var fds = [pollfd(fd: wakePipe[0], events: Int16(POLLIN), revents: 0)]
            fds += listeners.map { pollfd(fd: $0.fd, events: Int16(POLLIN), revents: 0) }
            let clientFDs = Array(connections.keys)
            fds += clientFDs.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            if poll(&fds, nfds_t(fds.count), 1000) <= 0 { continue }
            if fds[0].revents != 0 { return }
            for (i, l) in listeners.enumerated() where fds[1 + i].revents != 0 {
                let c = accept(l.fd, nil, nil)
                if c >= 0 { connections[c] = Connection(fd: c, domain: l.domain) }
            }
            for (i, fd) in clientFDs.enumerated() where fds[1 + listeners.count + i].revents != 0 {
                guard let c = connections[fd] else { continue }
                let n = read(fd, &buffer, buffer.count)
                if n <= 0 {
                    close(fd)
                    connections[fd] = nil
                    continue
                }
                c.input += buffer[0..<n]
                while c.input.count >= 16 {
                    let header = c.input.withUnsafeBytes { raw in (0..<4).map { raw.load(fromByteOffset: $0 * 4, as: UInt32.self) } }
                    let length = Int(header[3])
                    if length > 4096 {
                        // xenstored drops a connection that breaks the protocol.
                        close(fd)
                        connections[fd] = nil
                        break
                    }
                    guard c.input.count >= 16 + length else { break }
                    let payload = Array(c.input[16..<(16 + length)])
                    c.input.removeFirst(16 + length)
                    if length > largestPayload { largestPayloadSeen.store(length, ordering: .relaxed) }
                    requestCount.add(1, ordering: .relaxed)
                    handle(c, type: header[0], request: header[1], transaction: header[2], payload: payload)
                }
            }
        }
    }

    private func send(_ c: Connection, type: UInt32, request: UInt32, transaction: UInt32, _ payload: [UInt8]) {
        var message = [UInt8]()
        for v in [type, request, transaction, UInt32(payload.count)] { withUnsafeBytes(of: v) { message += $0 } }
        message += payload
        var offset = 0
        while offset < message.count {
            let n = message[offset...].withUnsafeBytes { Glibc.write(c.fd, $0.baseAddress, $0.count) }
            if n <= 0 { return }
            offset += n
        }
    }

    private struct Failure: Error {
        let name: String
        init(_ name: String) { self.name = name }
    }

    private func handle(_ c: Connection, type: UInt32, request: UInt32, transaction: UInt32, payload: [UInt8]) {
        let fields = payload.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
        let ok = Array("OK".utf8) + [0]
        do {
            guard let kind = Kind(rawValue: type) else { throw Failure("EINVAL") }
            if transaction != 0 && c.transactions[transaction] == nil && kind != .transactionStart { throw Failure("ENOENT") }
            let reply: [UInt8]
            switch kind {
            case .read:
                let path = try resolve(c, fields.first)
                reply = try withTree(c, transaction) { tree, tx in
                    let node = try Self.lookUp(&tx, tree, path)
                    try check(c, node, write: false)
                    return node.value
                }
            case .directory:
                let path = try resolve(c, fields.first)
                reply = try withTree(c, transaction) { tree, tx in
                    let node = try Self.lookUp(&tx, tree, path)
                    try check(c, node, write: false)
                    let list = node.children.sorted().flatMap { Array($0.utf8) + [UInt8(0)] }
                    guard list.count <= 4096 else { throw Failure("E2BIG") }
                    return list
                }
            case .getPerms:
                let path = try resolve(c, fields.first)
                reply = try withTree(c, transaction) { tree, tx in
                    let node = try Self.lookUp(&tx, tree, path)
                    try check(c, node, write: false)
                    return node.permissions.flatMap { Array($0.text.utf8) + [UInt8(0)] }
                }
            case .write:
                guard let nul = payload.firstIndex(of: 0) else { throw Failure("EINVAL") }
                let path = try resolve(c, String(decoding: payload[..<nul], as: UTF8.self))
                let value = Array(payload[(nul + 1)...])
                try modify(c, transaction) { tree, tx in try self.write(c, &tree, &tx, path, value: value, overwrite: true) }
                reply = ok
            case .mkdir:
                let path = try resolve(c, fields.first)
                try modify(c, transaction) { tree, tx in try self.write(c, &tree, &tx, path, value: [], overwrite: false) }
                reply = ok
            case .rm:
                let path = try resolve(c, fields.first)
                guard path != "/" else { throw Failure("EINVAL") }
                try modify(c, transaction) { tree, tx in try self.remove(c, &tree, &tx, path) }
                reply = ok
            case .setPerms:
                let path = try resolve(c, fields.first)
                let list = fields.dropFirst().filter { !$0.isEmpty }.map { Permission($0) }
                guard !list.isEmpty, list.allSatisfy({ $0 != nil }) else { throw Failure("EINVAL") }
                try modify(c, transaction) { tree, tx in
                    var node = try Self.lookUp(&tx, tree, path)
                    guard c.domain == 0 || node.permissions.first?.domain == c.domain else { throw Failure("EACCES") }
                    let old = node
                    node.permissions = list.compactMap { $0 }
                    Self.touch(&tx, tree, path)
                    tree[path] = node
                    tx?.changed.insert(path)
                    tx?.events.append((path, old))
                }
                reply = ok
            case .watch, .unwatch:
                guard fields.count >= 2, !fields[1].isEmpty else { throw Failure("EINVAL") }
                let path = fields[0].hasPrefix("@") ? fields[0] : try resolve(c, fields[0])
                if kind == .watch {
                    if c.watches.contains(where: { $0.path == path && $0.token == fields[1] }) { throw Failure("EEXIST") }
                    c.watches.append((path, fields[1], !fields[0].hasPrefix("/")))
                    send(c, type: type, request: request, transaction: transaction, ok)
                    send(c, type: Kind.watchEvent.rawValue, request: 0, transaction: 0,
                         Array(fields[0].utf8) + [0] + Array(fields[1].utf8) + [0])
                    return
                }
                guard let i = c.watches.firstIndex(where: { $0.path == path && $0.token == fields[1] }) else { throw Failure("ENOENT") }
                c.watches.remove(at: i)
                reply = ok
            case .transactionStart:
                guard transaction == 0 else { throw Failure("EBUSY") }
                let id = nextTransaction
                nextTransaction += 1
                c.transactions[id] = Transaction(base: tree, working: tree)
                reply = Array(String(id).utf8) + [0]
            case .transactionEnd:
                guard let tx = c.transactions.removeValue(forKey: transaction) else { throw Failure("ENOENT") }
                if fields.first == "T" { try commit(tx) }
                reply = ok
            case .getDomainPath:
                guard let d = UInt32(fields.first ?? "") else { throw Failure("EINVAL") }
                reply = Array("/local/domain/\(d)".utf8) + [0]
            case .resetWatches:
                c.watches = []
                reply = ok
            default:
                throw Failure("EINVAL")
            }
            send(c, type: type, request: request, transaction: transaction, reply)
        } catch let failure as Failure {
            send(c, type: Kind.error.rawValue, request: request, transaction: transaction, Array(failure.name.utf8) + [0])
        } catch {
            send(c, type: Kind.error.rawValue, request: request, transaction: transaction, Array("EINVAL".utf8) + [0])
        }
    }

    // MARK: The tree

    /// An absolute, valid path: relative paths are the connection's domain's home.
    private func resolve(_ c: Connection, _ raw: String?) throws -> String {
        guard var path = raw, !path.isEmpty else { throw Failure("EINVAL") }
        if !path.hasPrefix("/") { path = "/local/domain/\(c.domain)/" + path }
        let allowed = Set("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-/_@")
        guard path.count <= 3072, path.allSatisfy({ allowed.contains($0) }), !path.contains("//"), path == "/" || !path.hasSuffix("/") else {
            throw Failure("EINVAL")
        }
        return path
    }

    static func split(_ path: String) -> (parent: String, name: String) {
        let slash = path.lastIndex(of: "/") ?? path.startIndex
        let parent = String(path[..<slash])
        return (parent.isEmpty ? "/" : parent, String(path[path.index(after: slash)...]))
    }

    private func access(_ c: Connection, _ node: Node) -> (read: Bool, write: Bool) {
        if c.domain == 0 { return (true, true) }
        guard let owner = node.permissions.first else { return (false, false) }
        if owner.domain == c.domain { return (true, true) }
        if let p = node.permissions.dropFirst().first(where: { $0.domain == c.domain }) { return (p.read, p.write) }
        return (owner.read, owner.write)
    }

    private func check(_ c: Connection, _ node: Node, write: Bool) throws {
        let a = access(c, node)
        if write ? !a.write : !a.read { throw Failure("EACCES") }
    }

    /// Records the generation a transaction saw of `path` when it first touched it.
    private static func touch(_ tx: inout Transaction?, _ tree: Tree, _ path: String) {
        guard tx != nil, tx?.touched[path] == nil else { return }
        let seen = tx?.base[path]?.generation ?? 0
        tx?.touched[path] = seen
    }

    private static func lookUp(_ tx: inout Transaction?, _ tree: Tree, _ path: String) throws -> Node {
        touch(&tx, tree, path)
        guard let node = tree[path] else { throw Failure("ENOENT") }
        return node
    }

    /// Runs a read against the transaction's view or the live tree.
    private func withTree<T>(_ c: Connection, _ id: UInt32, _ body: (Tree, inout Transaction?) throws -> T) throws -> T {
        if id == 0 {
            var none: Transaction? = nil
            return try body(tree, &none)
        }
        var tx = c.transactions[id]
        defer { c.transactions[id] = tx }
        return try body(tx?.working ?? [:], &tx)
    }

    /// Runs a change in the transaction's view, or on the live tree as a transaction of its own.
    private func modify(_ c: Connection, _ id: UInt32, _ body: (inout Tree, inout Transaction?) throws -> Void) throws {
        if id != 0 {
            var tx = c.transactions[id]
            var working = tx?.working ?? [:]
            tx?.working = [:]
            defer {
                tx?.working = working
                c.transactions[id] = tx
            }
            try body(&working, &tx)
            return
        }
        var single: Transaction? = Transaction(base: [:], working: [:])
        var working = tree
        tree = [:]  // one owner while the body mutates: no copy of the whole tree
        do {
            try body(&working, &single)
        } catch {
            tree = working
            throw error
        }
        tree = working
        if let single { publish(single, apply: false) }
    }

    private func write(_ c: Connection, _ tree: inout Tree, _ tx: inout Transaction?, _ path: String, value: [UInt8], overwrite: Bool) throws {
        Self.touch(&tx, tree, path)
        if var node = tree[path] {
            try check(c, node, write: true)
            guard overwrite else { return }
            let old = node
            node.value = value
            tree[path] = node
            tx?.changed.insert(path)
            tx?.events.append((path, old))
            return
        }
        // Create the missing ancestors too; the closest existing one must be writable.
        var missing = [path]
        var (parent, _) = Self.split(path)
        while tree[parent] == nil {
            missing.append(parent)
            parent = Self.split(parent).parent
        }
        Self.touch(&tx, tree, parent)
        guard let existing = tree[parent] else { throw Failure("ENOENT") }
        try check(c, existing, write: true)
        var permissions = existing.permissions
        if c.domain != 0 { permissions[0].domain = c.domain }  // unprivileged domains own what they create
        for p in missing.reversed() {
            Self.touch(&tx, tree, p)
            let (up, name) = Self.split(p)
            Self.touch(&tx, tree, up)
            tree[up]?.children.append(name)
            tx?.changed.insert(up)
            tree[p] = Node(value: p == path ? value : [], permissions: permissions, children: [], generation: 0)
            tx?.changed.insert(p)
            tx?.events.append((p, nil))
        }
    }

    private func remove(_ c: Connection, _ tree: inout Tree, _ tx: inout Transaction?, _ path: String) throws {
        let node = try Self.lookUp(&tx, tree, path)
        try check(c, node, write: true)
        let (up, name) = Self.split(path)
        Self.touch(&tx, tree, up)
        tree[up]?.children.removeAll { $0 == name }
        tx?.changed.insert(up)
        var stack = [path]
        while let p = stack.popLast() {
            guard let n = tree.removeValue(forKey: p) else { continue }
            Self.touch(&tx, tree, p)
            tx?.changed.insert(p)
            stack += n.children.map { p + "/" + $0 }
        }
        tx?.events.append((path, node))
    }

    private func commit(_ tx: Transaction) throws {
        for (path, seen) in tx.touched where (tree[path]?.generation ?? 0) != seen {
            conflictCount.add(1, ordering: .relaxed)
            throw Failure("EAGAIN")
        }
        publish(tx, apply: true)
    }

    /// Applies a transaction's changed nodes with fresh generations and fires the watches.
    private func publish(_ tx: Transaction, apply: Bool) {
        generation += 1
        for path in tx.changed {
            if apply { tree[path] = tx.working[path] }
            tree[path]?.generation = generation
        }
        for event in tx.events { fire(event.path, old: event.old) }
    }

    private func fire(_ path: String, old: Node?) {
        let node = tree[path] ?? old
        for c in connections.values {
            if let node, !access(c, node).read { continue }
            let home = "/local/domain/\(c.domain)/"
            for w in c.watches where !w.path.hasPrefix("@") {
                let reported: String
                if path == w.path || path.hasPrefix(w.path == "/" ? "/" : w.path + "/") {
                    reported = path
                } else if tree[path] == nil && w.path.hasPrefix(path + "/") {
                    reported = w.path  // a removed ancestor: the watch hears of its own node
                } else {
                    continue
                }
                // A watch given as a relative path hears relative paths.
                let shown = w.relative && reported.hasPrefix(home) ? String(reported.dropFirst(home.count)) : reported
                send(c, type: Kind.watchEvent.rawValue, request: 0, transaction: 0, Array(shown.utf8) + [0] + Array(w.token.utf8) + [0])
            }
        }
    }
}

#if Xen
import CXenstore
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A xenstore operation that failed: what was asked, of which path, and the daemon's errno.
public struct XenstoreError: Error, Sendable, CustomStringConvertible {
    public let operation: String
    public let path: String
    /// The errno libxenstore reported (EAGAIN for a transaction that lost a conflict,
    /// ENOENT, EACCES, E2BIG...).
    public let code: Int32
    /// A refusal's own words, when the caller raised it rather than the daemon.
    public let detail: String?

    public init(_ operation: String, _ path: String, code: Int32) {
        self.operation = operation
        self.path = path
        self.code = code
        self.detail = nil
    }

    /// A refusal decided above the daemon (inside a transaction's body), in its own words.
    public init(refusing detail: String, code: Int32) {
        self.operation = ""
        self.path = ""
        self.code = code
        self.detail = detail
    }

    public var description: String {
        if let detail { return detail }
        let reason = String(cString: strerror(code))
        return path.isEmpty ? "xenstore \(operation): \(reason)" : "xenstore \(operation) \(path): \(reason)"
    }
}

/// One xenstore transaction, valid inside `XenstoreConnection.transaction`'s body.
public struct XenstoreTransaction: Sendable {
    public let id: UInt32
    /// Outside any transaction.
    public static let none = XenstoreTransaction(id: 0)
}

/// An access right on a xenstore node: the first entry of a node's list names its owner
/// and what every other domain may do; later entries grant a domain more.
public struct XenstorePermission: Sendable, Equatable {
    public enum Access: Sendable, Equatable { case none, read, write, both }
    public var domain: UInt32
    public var access: Access
    public init(domain: UInt32, _ access: Access) {
        self.domain = domain
        self.access = access
    }
}

/// A connection to xenstore through Xen's own client library, libxenstore: a daemon's
/// socket (`XENSTORED_PATH`, or xenstored's default) or, inside a guest, the xenbus device.
/// The library serializes requests, so one connection may be used from several threads.
/// Watches live on connections of their own (`XenstoreWatch`).
public final class XenstoreConnection: @unchecked Sendable {
    // Non-nil for the connection's whole life: init fails otherwise.
    private let handle: OpaquePointer

    /// Opens a connection: to the daemon socket at `socketPath` when given, else wherever
    /// libxenstore finds xenstore (`XENSTORED_PATH`, xenstored's socket, /dev/xen/xenbus).
    public init(socketPath: String? = nil) throws(XenstoreError) {
        self.socketPath = socketPath
        handle = try Self.open(socketPath)
    }

    static func open(_ socketPath: String?) throws(XenstoreError) -> OpaquePointer {
        guard let socketPath else {
            guard let opened = xs_open(0) else { throw XenstoreError("connect", "", code: errno) }
            return opened
        }
        // libxenstore reads the socket's path from the environment only; the lock keeps
        // two connections opened at once from seeing each other's value.
        environmentLock.lock()
        let previous = getenv("XENSTORED_PATH").map { String(cString: $0) }
        setenv("XENSTORED_PATH", socketPath, 1)
        let opened = xs_open(UInt(XS_OPEN_SOCKETONLY))
        let code = errno
        if let previous { setenv("XENSTORED_PATH", previous, 1) } else { unsetenv("XENSTORED_PATH") }
        environmentLock.unlock()
        guard let opened else { throw XenstoreError("connect", socketPath, code: code) }
        return opened
    }

    /// Where this connection went (nil: libxenstore's own choice), for a watch's own.
    public let socketPath: String?

    deinit { xs_close(handle) }

    private static let environmentLock = PthreadLock()

    /// A node's value, nil when it does not exist.
    public func read(_ path: String, _ t: XenstoreTransaction = .none) throws(XenstoreError) -> String? {
        var length: UInt32 = 0
        guard let raw = xs_read(handle, t.id, path, &length) else {
            if errno == ENOENT { return nil }
            throw XenstoreError("read", path, code: errno)
        }
        defer { free(raw) }
        return String(decoding: UnsafeRawBufferPointer(start: raw, count: Int(length)), as: UTF8.self)
    }

    /// Writes a node, creating it and any missing parents.
    public func write(_ path: String, _ value: String, _ t: XenstoreTransaction = .none) throws(XenstoreError) {
        let bytes = Array(value.utf8)
        let ok = bytes.withUnsafeBytes { xs_write(handle, t.id, path, $0.baseAddress, UInt32($0.count)) }
        if !ok { throw XenstoreError("write", path, code: errno) }
    }

    /// Creates a node with an empty value unless it exists.
    public func mkdir(_ path: String, _ t: XenstoreTransaction = .none) throws(XenstoreError) {
        if !xs_mkdir(handle, t.id, path) { throw XenstoreError("mkdir", path, code: errno) }
    }

    /// Removes a node and everything below it; removing a missing node succeeds.
    public func remove(_ path: String, _ t: XenstoreTransaction = .none) throws(XenstoreError) {
        if !xs_rm(handle, t.id, path), errno != ENOENT { throw XenstoreError("rm", path, code: errno) }
    }

    /// A node's children's names, nil when it does not exist.
    public func directory(_ path: String, _ t: XenstoreTransaction = .none) throws(XenstoreError) -> [String]? {
        var count: UInt32 = 0
        guard let list = xs_directory(handle, t.id, path, &count) else {
            if errno == ENOENT { return nil }
            throw XenstoreError("directory", path, code: errno)
        }
        defer { free(list) }
        return (0..<Int(count)).compactMap { list[$0].map { String(cString: $0) } }
    }

    public func permissions(_ path: String, _ t: XenstoreTransaction = .none) throws(XenstoreError) -> [XenstorePermission] {
        var count: UInt32 = 0
        guard let list = xs_get_permissions(handle, t.id, path, &count) else { throw XenstoreError("get-perms", path, code: errno) }
        defer { free(list) }
        return (0..<Int(count)).map { i in
            let p = list[i].perms & UInt32(XS_PERM_READ | XS_PERM_WRITE)
            let access: XenstorePermission.Access =
                p == UInt32(XS_PERM_READ | XS_PERM_WRITE) ? .both : p == UInt32(XS_PERM_READ) ? .read : p == UInt32(XS_PERM_WRITE) ? .write : .none
            return XenstorePermission(domain: list[i].id, access)
        }
    }

    public func setPermissions(_ path: String, _ permissions: [XenstorePermission], _ t: XenstoreTransaction = .none) throws(XenstoreError) {
        var list = permissions.map { p -> xs_permissions in
            let bits: Int32
            switch p.access {
            case .none: bits = XS_PERM_NONE
            case .read: bits = XS_PERM_READ
            case .write: bits = XS_PERM_WRITE
            case .both: bits = XS_PERM_READ | XS_PERM_WRITE
            }
            return xs_permissions(id: p.domain, perms: UInt32(bits))
        }
        if !xs_set_permissions(handle, t.id, path, &list, UInt32(list.count)) { throw XenstoreError("set-perms", path, code: errno) }
    }

    /// `/local/domain/<domid>` as the daemon names it.
    public func domainPath(_ domid: UInt32) throws(XenstoreError) -> String {
        guard let raw = xs_get_domain_path(handle, domid) else { throw XenstoreError("get-domain-path", "\(domid)", code: errno) }
        defer { free(raw) }
        return String(cString: raw)
    }

    /// Runs `body` in a transaction and commits it; a commit that lost to a concurrent
    /// change (EAGAIN) runs `body` again from the start, up to `attempts` times. Any error
    /// thrown by `body` aborts the transaction and is rethrown.
    public func transaction<T>(attempts: Int = 1_000, _ body: (XenstoreTransaction) throws(XenstoreError) -> T) throws(XenstoreError) -> T {
        var attempt = 0
        while true {
            attempt += 1
            let id = xs_transaction_start(handle)
            if id == 0 { throw XenstoreError("transaction-start", "", code: errno) }
            let result: T
            do {
                result = try body(XenstoreTransaction(id: id))
            } catch {
                _ = xs_transaction_end(handle, id, true)
                throw error
            }
            if xs_transaction_end(handle, id, false) { return result }
            let code = errno
            if code != EAGAIN || attempt >= attempts { throw XenstoreError("transaction-end", "", code: code) }
            conflictCount.add(1, ordering: .relaxed)
        }
    }

    /// Transactions that had to run again because of a concurrent change.
    public var conflicts: Int { conflictCount.load(ordering: .relaxed) }
    private let conflictCount = Atomic<Int>(0)

}

/// A xenstore watch on a connection of its own, read by a thread of its own that queues
/// the events for `next(timeout:)`. Its own connection because libxenstore's static
/// archive (a guest's static clickos-vm) has no reader thread: a watch event that arrives
/// while a request waits for its reply breaks a shared connection. A watch lasts as long
/// as the process (its thread blocks in libxenstore's read, which nothing can interrupt).
public final class XenstoreWatch: @unchecked Sendable {
    private let handle: OpaquePointer
    private let lock = PthreadLock()
    private var queue: [(path: String, token: String)] = []
    private var failure: Int32 = 0
    /// Readable while events are queued.
    private let signal: [Int32]

    /// Watches `path` (and everything below it) on the xenstore `connection` talks to;
    /// the first event comes at once, as xenstored sends it.
    public init(like connection: XenstoreConnection, path: String, token: String) throws(XenstoreError) {
        handle = try XenstoreConnection.open(connection.socketPath)
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else {
            xs_close(handle)
            throw XenstoreError("watch", path, code: errno)
        }
        for fd in fds {
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        }
        signal = fds
        guard xs_watch(handle, path, token) else {
            let code = errno
            xs_close(handle)
            close(fds[0])
            close(fds[1])
            throw XenstoreError("watch", path, code: code)
        }
        var thread = pthread_t()
        let context = Unmanaged.passRetained(self).toOpaque()
        let started = pthread_create(&thread, nil, { raw in
            // The context is this watch, retained for the thread's (the process's) life.
            Unmanaged<XenstoreWatch>.fromOpaque(raw.unsafelyUnwrapped).takeUnretainedValue().readEvents()
            return nil
        }, context)
        if started != 0 {
            Unmanaged<XenstoreWatch>.fromOpaque(context).release()
            throw XenstoreError("watch", path, code: started)
        }
        pthread_detach(thread)
    }

    private func readEvents() {
        while true {
            var count: UInt32 = 0
            guard let strings = xs_read_watch(handle, &count) else {
                lock.lock()
                failure = errno == 0 ? EPIPE : errno
                lock.unlock()
                wake()
                return
            }
            if count >= 2, let p = strings[Int(XS_WATCH_PATH.rawValue)], let t = strings[Int(XS_WATCH_TOKEN.rawValue)] {
                lock.lock()
                queue.append((String(cString: p), String(cString: t)))
                lock.unlock()
                wake()
            }
            free(strings)
        }
    }

    private func wake() {
        var one: UInt8 = 1
        _ = write(signal[1], &one, 1)
    }

    /// The next event, waiting at most `timeout` seconds; nil when none came. Throws
    /// once the watch's connection failed (the daemon went away).
    public func next(timeout: Double) throws(XenstoreError) -> (path: String, token: String)? {
        let deadline = monotonicSeconds() + max(0, timeout)
        while true {
            lock.lock()
            let event = queue.isEmpty ? nil : queue.removeFirst()
            let failed = failure
            lock.unlock()
            if let event { return event }
            if failed != 0 { throw XenstoreError("watch", "", code: failed) }
            let left = deadline - monotonicSeconds()
            if left <= 0 { return nil }
            var pfd = pollfd(fd: signal[0], events: Int16(POLLIN), revents: 0)
            _ = poll(&pfd, 1, Int32(min(left * 1000, 1_000_000)) + 1)
            var drain = [UInt8](repeating: 0, count: 64)
            while read(signal[0], &drain, drain.count) > 0 {}
        }
    }
}

/// Seconds on the monotonic clock.
private func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// A plain pthread mutex for the rare global that needs one.
final class PthreadLock: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    init() { pthread_mutex_init(mutex, nil) }
    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }
    func lock() { pthread_mutex_lock(mutex) }
    func unlock() { pthread_mutex_unlock(mutex) }
}
#endif

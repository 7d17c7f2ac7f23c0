#if Xen
import Synchronization
import VMInterface
#if canImport(Glibc)
import Glibc
#endif

/// ClickOS's control protocol over xenstore, the host tool's side (what `clickos-ctl`
/// does, plus handler reads and writes): install a Click configuration into a ClickOS
/// domain as a router, start and stop it, read and write its handlers, remove it. Works
/// on original ClickOS guests (MiniOS) and on `clickos-vm --xenstore` alike, under either
/// root (`data/clickos`, or the older `clickos`). Every multi-node change is one
/// transaction, retried when it loses a conflict.
public final class ClickOSXenstoreControl: @unchecked Sendable {
    public let store: XenstoreConnection
    private let tokens = Atomic<Int>(0)

    public init(store: XenstoreConnection) {
        self.store = store
    }

    /// One router of a domain as xenstore shows it.
    public struct RouterEntry: Sendable, Equatable {
        public var id: Int
        public var name: String
        public var status: String
        /// What our guest reported when the configuration failed (`Error` status).
        public var error: String?
    }

    /// The domain's ClickOS root (absolute), or an error if the domain is not ClickOS.
    public func root(domain: UInt32) throws(VMError) -> String {
        try x { () throws(XenstoreError) in try clickRoot(domain, .none) }
    }

    private func clickRoot(_ domain: UInt32, _ t: XenstoreTransaction) throws(XenstoreError) -> String {
        let home = try self.home(domain)
        for r in [ClickOSXenstoreLayout.root, ClickOSXenstoreLayout.legacyRoot] where try store.read(home + "/" + r, t) != nil {
            return home + "/" + r
        }
        throw XenstoreError(refusing: "domain \(domain) is not a ClickOS domain (no \(ClickOSXenstoreLayout.root) or \(ClickOSXenstoreLayout.legacyRoot) under \(home))", code: EINVAL)
    }

    /// Installs `configuration` as a new router (status Halted) with the lowest free id,
    /// in one transaction, chunks of at most 512 bytes; returns the id.
    public func install(domain: UInt32, configuration: String, name: String) throws(VMError) -> Int {
        let chunks = ClickOSXenstoreLayout.chunks(configuration)
        return try x { () throws(XenstoreError) in
            try store.transaction { t throws(XenstoreError) in
                let root = try clickRoot(domain, t)
                let taken = Set((try store.directory(root, t) ?? []).compactMap { Int($0) })
                guard let id = (0..<ClickOSXenstoreLayout.maximumRouters).first(where: { !taken.contains($0) }) else {
                    throw XenstoreError(refusing: "domain \(domain) holds \(ClickOSXenstoreLayout.maximumRouters) routers already", code: ENOSPC)
                }
                let base = "\(root)/\(id)"
                try store.mkdir(base + "/control", t)
                try store.mkdir(base + "/elements", t)
                try store.write(base + "/config_name", name, t)
                try store.write(base + "/status", ClickOSXenstoreLayout.Status.halted.rawValue, t)
                for (i, chunk) in chunks.enumerated() { try store.write("\(base)/config/\(i)", chunk, t) }
                return id
            }
        }
    }

    /// Starts (`Running`) or stops (`Halted`) a router.
    public func setStatus(domain: UInt32, router: Int, _ status: ClickOSXenstoreLayout.Status) throws(VMError) {
        try x { () throws(XenstoreError) in
            try store.transaction { t throws(XenstoreError) in
                let path = try routerPath(domain, router, t) + "/status"
                try store.write(path, status.rawValue, t)
            }
        }
    }

    public func start(domain: UInt32, router: Int) throws(VMError) { try setStatus(domain: domain, router: router, .running) }
    public func stop(domain: UInt32, router: Int) throws(VMError) { try setStatus(domain: domain, router: router, .halted) }

    /// Removes a router's nodes; a running router is refused unless `force`.
    public func remove(domain: UInt32, router: Int, force: Bool = false) throws(VMError) {
        try x { () throws(XenstoreError) in
            try store.transaction { t throws(XenstoreError) in
                let path = try routerPath(domain, router, t)
                if !force, try store.read(path + "/status", t) == ClickOSXenstoreLayout.Status.running.rawValue {
                    throw XenstoreError(refusing: "router \(router) of domain \(domain) is running (stop it first, or force)", code: EBUSY)
                }
                try store.remove(path, t)
            }
        }
    }

    /// The domain's routers, by id.
    public func routers(domain: UInt32) throws(VMError) -> [RouterEntry] {
        try x { () throws(XenstoreError) in
            try store.transaction { t throws(XenstoreError) in
                let root = try clickRoot(domain, t)
                return try (store.directory(root, t) ?? []).compactMap { Int($0) }.sorted().map { id throws(XenstoreError) in
                    let base = "\(root)/\(id)"
                    return RouterEntry(id: id, name: try store.read(base + "/config_name", t) ?? "",
                                       status: try store.read(base + "/status", t) ?? "", error: try store.read(base + "/error", t))
                }
            }
        }
    }

    /// The configuration a router holds, its chunks joined.
    public func configuration(domain: UInt32, router: Int) throws(VMError) -> String {
        try x { () throws(XenstoreError) in
            try store.transaction { t throws(XenstoreError) in
                let base = try routerPath(domain, router, t)
                var text = ""
                var i = 0
                while let chunk = try store.read("\(base)/config/\(i)", t) {
                    text += chunk
                    i += 1
                }
                return text
            }
        }
    }

    /// Reads a handler (`element.handler`) the ClickOS way: a write to
    /// `<rid>/control/read/<element>/<handler>` asks the guest, which answers under router 0's
    /// `elements/<element>/<handler>` and sets `lock` to 0 beside it. Waits up to
    /// `timeout` seconds for the answer.
    public func read(domain: UInt32, router: Int, handler: String, timeout: Double = 5) throws(VMError) -> String {
        guard let (element, name) = ClickOSXenstoreLayout.splitHandler(handler) else { throw VMError("bad handler name '\(handler)' (want ELEMENT.HANDLER)") }
        guard let answer = try ask(domain: domain, router: router, element: element, handler: name, timeout: timeout) else {
            throw VMError("router \(router) of domain \(domain) did not answer the read of \(handler) within \(timeout) s (is it running?)")
        }
        if let error = answer.error { throw VMError(error) }
        return answer.value
    }

    /// How a router answered a read of a handler no router has.
    public enum Liveness: Sendable, Equatable {
        /// Something answered for it: its thread serves.
        case serving
        /// The guest answered that the router is not running (yet).
        case notRunning
        /// Nothing answered within the time (a guest that answers no unknown handler, or
        /// one that is not there).
        case silent
    }

    /// Whether the router answers a read at all within `timeout` seconds (a read of a
    /// handler no router has: any answer, even a refusal, means its thread is serving).
    /// `status = Error` ends the wait at once with the guest's words.
    public func liveness(domain: UInt32, router: Int, timeout: Double) throws(VMError) -> Liveness {
        func failed() throws(VMError) {
            if let entry = try routers(domain: domain).first(where: { $0.id == router }), entry.status == ClickOSXenstoreLayout.Status.error.rawValue {
                throw VMError(entry.error ?? "router \(router) of domain \(domain) failed")
            }
        }
        try failed()
        let answer = try ask(domain: domain, router: router, element: "_clickos", handler: "ready", timeout: timeout)
        // The guest takes `status` before the read: a configuration it refused shows now.
        try failed()
        guard let answer else { return .silent }
        // Our guest answers for a router it has not (yet) started.
        return answer.error == "router \(router) is not running" ? .notRunning : .serving
    }

    /// One read request and the guest's answer, or nil when none came within `timeout`.
    private func ask(domain: UInt32, router: Int, element: String, handler name: String, timeout: Double) throws(VMError) -> (value: String, error: String?)? {
        // No transaction: the request is one write, and the guest answers what it finds.
        let base = try x { () throws(XenstoreError) in try routerPath(domain, router, .none) }
        let root = String(base[..<(base.lastIndex(of: "/") ?? base.endIndex)])
        let answer = "\(root)/0/elements/\(element)/\(name)"
        let token = "clickos-read-\(getpid())-\(tokens.add(1, ordering: .relaxed).newValue)"
        try x { () throws(XenstoreError) in
            try store.write(answer + "/lock", "1")
            try store.remove(answer + "/error")
            try store.write("\(base)/control/read/\(element)/\(name)", token)
        }
        // Polled (no watch per read). The guest's answer takes at least five daemon round
        // trips, so the first look is after 200 µs, then each pause half again, to 2 ms.
        let deadline = now() + timeout
        var pause: UInt32 = 200
        while true {
            if try x({ () throws(XenstoreError) in try store.read(answer + "/lock") }) == "0" {
                let error = try x({ () throws(XenstoreError) in try store.read(answer + "/error") })
                return (try x { () throws(XenstoreError) in try store.read(answer) } ?? "", error)
            }
            if now() >= deadline { return nil }
            usleep(pause)
            pause = min(pause + pause / 2, 2_000)
        }
    }

    /// Writes a handler: the value goes to `<rid>/elements/<element>/<handler>`, where the
    /// guest passes it to the write handler (ClickOS's protocol has no answer).
    public func write(domain: UInt32, router: Int, handler: String, value: String) throws(VMError) {
        guard let (element, name) = ClickOSXenstoreLayout.splitHandler(handler) else { throw VMError("bad handler name '\(handler)' (want ELEMENT.HANDLER)") }
        try x { () throws(XenstoreError) in
            try store.transaction { t throws(XenstoreError) in
                let base = try routerPath(domain, router, t)
                try store.write("\(base)/elements/\(element)/\(name)", value, t)
            }
        }
    }

    /// A router's path, or a refusal when the domain has no such router. One round trip
    /// when the router exists: its `status` under either root.
    private func routerPath(_ domain: UInt32, _ router: Int, _ t: XenstoreTransaction) throws(XenstoreError) -> String {
        let home = try self.home(domain)
        for r in [ClickOSXenstoreLayout.root, ClickOSXenstoreLayout.legacyRoot] where try store.read("\(home)/\(r)/\(router)/status", t) != nil {
            return "\(home)/\(r)/\(router)"
        }
        _ = try clickRoot(domain, t)  // says "not a ClickOS domain" when that is why
        throw XenstoreError(refusing: "domain \(domain) has no router \(router)", code: ENOENT)
    }

    /// `/local/domain/<domid>`, asked of the daemon once per domain.
    private func home(_ domain: UInt32) throws(XenstoreError) -> String {
        if let known = homes.withLock({ $0[domain] }) { return known }
        let path = try store.domainPath(domain)
        homes.withLock { $0[domain] = path }
        return path
    }
    private let homes = Mutex<[UInt32: String]>([:])

    /// Runs a xenstore step, turning its error into the backend's.
    private func x<T>(_ body: () throws(XenstoreError) -> T) throws(VMError) -> T {
        do { return try body() } catch { throw VMError(error.description) }
    }

    private func now() -> Double { Double(ProcessBackend.monotonicMicroseconds()) / 1e6 }
}
#endif

#if Xen
import CShims
import ClickElements
import ClickLanguage
import ClickRuntime
import PacketIO
import VMInterface
#if canImport(Glibc)
import Glibc
#endif

/// `clickos-vm --xenstore`: the ClickOS guest's half of the xenstore control protocol
/// (`reference/clickos.md`), run inside a Linux Xen guest (or against any xenstore daemon
/// `XENSTORED_PATH` names). It marks the domain (`data/clickos`), watches it, and for each
/// router id: assembles the configuration chunks and starts the router when `status`
/// becomes `Running`, stops it on `Halted`, answers a write to
/// `control/read/<element>/<handler>` under router 0's `elements/<element>/<handler>` with
/// `lock = 0` beside it, and passes a value written to `elements/<element>/<handler>` to
/// that write handler. Up to 64 routers, each on its own thread; VM port N is the guest's
/// Nth network interface. Beyond the original guest: a configuration that fails sets
/// `status = Error` with Click's messages in `error`, and a failed handler call leaves its
/// message in `error` beside the answer.
final class XenstoreGuest {
    let store: XenstoreConnection
    let interfaces: [String]
    let options: DriverOptions
    private var routers: [Int: GuestRouter] = [:]
    /// What this guest wrote itself, by path: a watch event that finds the same value
    /// there is our own write coming back, not a request.
    private var written: [String: String] = [:]
    private static let root = ClickOSXenstoreLayout.root
    private static let token = "clickos-router-watch"

    private init(store: XenstoreConnection, interfaces: [String], options: DriverOptions) {
        self.store = store
        self.interfaces = interfaces
        self.options = options
    }

    static func run(_ options: DriverOptions) -> Int32 {
        let store: XenstoreConnection
        do {
            store = try XenstoreConnection()
        } catch {
            Driver.printError("clickos-vm: --xenstore: \(error.description) (no xenstore here: not a Xen guest, and XENSTORED_PATH names no daemon)")
            return 1
        }
        let guest = XenstoreGuest(store: store, interfaces: options.interfaces ?? GuestInterfaces.list(), options: options)
        return guest.serve()
    }

    private func serve() -> Int32 {
        clickos_catch_interrupts()
        let interrupt = UnsafeRawPointer(clickos_interrupt_flag()).assumingMemoryBound(to: Int32.self)
        let watch: XenstoreWatch
        do {
            // The watch before the mark: a host that sees the mark installs and starts at
            // once, and nothing it writes may go unseen.
            watch = try XenstoreWatch(like: store, path: Self.root, token: Self.token)
            try store.write(Self.root, "")
        } catch {
            Driver.printError("clickos-vm: --xenstore: \(error.description)")
            return 1
        }
        // Routers already there (this guest restarted under a running toolstack) start
        // as their status says.
        for id in ((try? store.directory(Self.root)) ?? nil) ?? [] { handle("\(Self.root)/\(id)/status") }
        Driver.printError("clickos-vm: ClickOS guest on xenstore (\(Self.root)); VM ports: \(interfaces.isEmpty ? "none" : interfaces.joined(separator: ", "))")
        var status: Int32 = 0
        while interrupt.pointee == 0 {
            do {
                guard let event = try watch.next(timeout: 0.25), event.token == Self.token else { continue }
                handle(event.path)
            } catch {
                Driver.printError("clickos-vm: --xenstore: \(error.description)")
                status = 1
                break
            }
        }
        for id in routers.keys.sorted(by: >) { routers[id]?.stop() }
        routers = [:]
        return status
    }

    // MARK: Events

    private func handle(_ path: String) {
        // Relative watches report relative paths (an absolute one is cut at the root too).
        let all = path.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        let rootParts = Self.root.split(separator: "/").map(String.init)
        guard let at = (0...max(0, all.count - rootParts.count)).first(where: { Array(all[$0..<min(all.count, $0 + rootParts.count)]) == rootParts })
        else { return }
        let parts = Array(all[(at + rootParts.count)...])
        guard parts.count >= 2, let id = Int(parts[0]), id >= 0, id < ClickOSXenstoreLayout.maximumRouters else { return }
        let base = "\(Self.root)/\(id)"
        switch parts[1] {
        case "status" where parts.count == 2:
            guard let text = try? store.read(base + "/status"), let status = ClickOSXenstoreLayout.Status(text: text) else { return }
            if status == .running && routers[id] == nil { start(id) }
            if status == .halted, let r = routers.removeValue(forKey: id) { r.stop() }
        case "control" where parts.count >= 5 && parts[2] == "read":
            guard (try? store.read(path)) != nil else { return }  // removed, not written
            answerRead(id, element: parts[3..<(parts.count - 1)].joined(separator: "/"), handler: parts[parts.count - 1])
        case "elements" where parts.count >= 4:
            let handler = parts[parts.count - 1]
            if handler == "lock" || handler == "error" { return }
            guard let value = try? store.read(path), written[path] != value else { return }
            let element = parts[2..<(parts.count - 1)].joined(separator: "/")
            guard let router = routers[id] else { return }
            if let failure = router.mailbox.call("\(element).\(handler)", value: value).failure {
                record("\(path)/error", failure)
            }
        default:
            return
        }
    }

    /// Reads the router's configuration chunks, builds it, and runs it on its own thread;
    /// a configuration that fails sets `status = Error` and says why in `error`.
    private func start(_ id: Int) {
        let base = "\(Self.root)/\(id)"
        var text = ""
        var i = 0
        while let chunk = try? store.read("\(base)/config/\(i)") {
            text += chunk
            i += 1
        }
        let log = DiagnosticLog()
        let registry = StandardElements.registry
        let flat = ClickConfiguration.flatten(text, file: "router\(id)", definitions: options.definitions,
                                              knownClasses: registry.classNames, libraries: FileLibraryResolver.fromEnvironment(), log: log)
        let mailbox = HandlerMailbox()
        var router: Router?
        if !log.hasErrors {
            router = Router.build(flat, configurationText: text, registry: registry, poolCapacity: options.poolCapacity ?? 16_384,
                                  services: [VMPortInterfaces(interfaces), mailbox], log: log, chatter: { Driver.printError($0) })
        }
        guard let router else {
            let message = log.diagnostics.map(\.description).joined(separator: "\n")
            Driver.printError("clickos-vm: router \(id):\n\(message)")
            record(base + "/error", message)
            record(base + "/status", ClickOSXenstoreLayout.Status.error.rawValue)
            return
        }
        try? store.remove(base + "/error")
        let r = GuestRouter(id: id, router: router, mailbox: mailbox)
        routers[id] = r
        r.start()
    }

    /// Answers a read request where ClickOS's tools look: router 0's
    /// `elements/<element>/<handler>`, then `lock = 0`.
    private func answerRead(_ id: Int, element: String, handler: String) {
        let answer = "\(Self.root)/0/elements/\(element)/\(handler)"
        let result: (value: String, failure: String?)
        if let router = routers[id] {
            result = router.mailbox.call("\(element).\(handler)", value: nil)
        } else {
            result = ("", "router \(id) is not running")
        }
        if let failure = result.failure { record(answer + "/error", failure) } else { try? store.remove(answer + "/error") }
        record(answer, result.value)
        record(answer + "/lock", "0")
    }

    private func record(_ path: String, _ value: String) {
        // xenstore carries at most 4 kB per request: longer values are cut at a character.
        var text = value
        while text.utf8.count > 3_000 { text.removeLast() }
        written[path] = text
        do { try store.write(path, text) } catch { Driver.printError("clickos-vm: \(error.description)") }
    }
}

/// One router of the guest on its own thread; handler calls reach it through its mailbox.
final class GuestRouter: @unchecked Sendable {
    let id: Int
    private(set) var router: Router
    let mailbox: HandlerMailbox
    private let stopFlag = UnsafeMutablePointer<Int32>.allocate(capacity: 1)
    private var thread: pthread_t?

    init(id: Int, router: Router, mailbox: HandlerMailbox) {
        self.id = id
        self.router = router
        self.mailbox = mailbox
        stopFlag.initialize(to: 0)
    }

    deinit { stopFlag.deallocate() }

    func start() {
        mailbox.router = router
        var t = pthread_t()
        let context = Unmanaged.passRetained(self).toOpaque()
        guard pthread_create(&t, nil, { raw in
            // The context is this router, retained for the thread's life.
            let me = Unmanaged<GuestRouter>.fromOpaque(raw.unsafelyUnwrapped).takeRetainedValue()
            me.runLoop()
            return nil
        }, context) == 0 else {
            Unmanaged<GuestRouter>.fromOpaque(context).release()
            Driver.printError("clickos-vm: router \(id): no thread: \(String(cString: strerror(errno)))")
            return
        }
        thread = t
    }

    /// The router's thread: runs it, and its `hotconfig` successors, until stopped.
    private func runLoop() {
        while true {
            router.scheduler.interruptFlag = UnsafePointer(stopFlag)
            mailbox.router = router
            router.run()
            guard stopFlag.pointee == 0, let next = router.replacement else { break }
            router.cleanup()
            router = next
        }
        mailbox.router = nil
        router.cleanup()
    }

    /// Stops the router within one scheduler round and waits for its thread.
    func stop() {
        stopFlag.pointee = 1
        mailbox.wake()
        if let thread { pthread_join(thread, nil) }
        thread = nil
    }
}

/// How a handler call crosses from the xenstore thread to a router's thread: one request
/// at a time, an eventfd the router's scheduler watches, and a condition for the answer.
final class HandlerMailbox: RouterService, DescriptorWatcher, @unchecked Sendable {
    /// Set by the router's thread (its current router, nil once it ended).
    var router: Router? {
        get { withLock { routerValue } }
        set { withLock { routerValue = newValue } }
    }
    private var routerValue: Router?
    private let eventFD = clickos_eventfd()
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var request: (name: String, value: String?)?
    private var answer: (value: String, failure: String?)?

    init() {
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(condition, nil)
    }

    deinit {
        close(eventFD)
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
        condition.deallocate()
    }

    private func withLock<T>(_ body: () -> T) -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return body()
    }

    func attach(to scheduler: Scheduler) { scheduler.watch(fd: eventFD, for: self) }
    func detach(from scheduler: Scheduler) { scheduler.unwatch(fd: eventFD) }

    func wake() {
        var one: UInt64 = 1
        _ = write(eventFD, &one, 8)
    }

    /// On the router's thread: run the waiting call.
    func selected(fd: Int32) {
        var count: UInt64 = 0
        _ = read(eventFD, &count, 8)
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        guard let (name, value) = request, let router = routerValue else { return }
        request = nil
        do {
            if let value {
                answer = (try router.write(name, value).joined(separator: "\n"), nil)
            } else {
                answer = (try router.read(name), nil)
            }
        } catch {
            answer = ("", error.message)
        }
        pthread_cond_signal(condition)
    }

    /// From the xenstore thread: a read (`value` nil) or write of `name`, answered by the
    /// router's thread within `timeout` seconds.
    func call(_ name: String, value: String?, timeout: Double = 5) -> (value: String, failure: String?) {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        guard routerValue != nil else { return ("", "the router is not running") }
        request = (name, value)
        answer = nil
        var one: UInt64 = 1
        _ = write(eventFD, &one, 8)
        var deadline = timespec()
        clock_gettime(CLOCK_REALTIME, &deadline)
        deadline.tv_sec += Int(timeout)
        while answer == nil {
            if pthread_cond_timedwait(condition, mutex, &deadline) == ETIMEDOUT { break }
        }
        request = nil
        return answer ?? ("", "the router did not answer within \(Int(timeout)) s")
    }
}
#endif

#if canImport(Glibc)
import Glibc
#endif
import CShims
import VMInterface
import ClickRuntime

/// The memif ports of one VM (or any one-threaded program), by port number: their server
/// sockets (shared by interfaces on the same path), the clients' reconnection timer, and
/// the dispatch of every control descriptor. A router thread serves it between tasks
/// (`attach(to:)`); without a router, `poll(timeout:)` does the same.
public final class MemifPortSet: VMPortProvider, DescriptorWatcher {
    public private(set) var ports: [(number: Int, port: MemifPort)] = []
    private var listeners: [String: MemifListener] = [:]
    private var timer: Int32 = -1
    private var timerArmed = false
    private unowned(unsafe) var scheduler: Scheduler?
    private var watched: [Int32] = []
    /// How often disconnected clients try again, at most: the first retry comes after
    /// `firstRetryInterval` and the wait doubles up to this (a server booted a moment
    /// after its client is found within a millisecond or two, a missing one costs a
    /// connect attempt every 50 ms).
    public var retryInterval: Int64 = 50_000_000
    public var firstRetryInterval: Int64 = 1_000_000
    private var currentRetry: Int64 = 0

    public init() {}

    deinit {
        close()
    }

    /// Adds port `number`. A server starts listening now (failing if the path is taken
    /// by a live server); a client tries to connect now and keeps retrying.
    public func add(_ configuration: MemifConfiguration, number: Int, counters: PortCounters? = nil) throws(MemifError) -> MemifPort {
        guard !ports.contains(where: { $0.number == number }) else { throw MemifError("port \(number) given twice") }
        let port = MemifPort(configuration, counters: counters)
        port.descriptorsChanged = { [unowned self] in self.refresh() }
        if configuration.role == .server {
            if let listener = listeners[configuration.socketPath] {
                try listener.add(port)
            } else {
                let listener = MemifListener(path: configuration.socketPath)
                try listener.open()
                try listener.add(port)
                listeners[configuration.socketPath] = listener
            }
        }
        ports.append((number, port))
        if configuration.role == .client { port.connectToServer() }
        refresh()
        return port
    }

    public func port(_ number: Int) -> (any VMPort)? {
        ports.first { $0.number == number }?.port
    }

    public func memifPort(_ number: Int) -> MemifPort? {
        ports.first { $0.number == number }?.port
    }

    /// Disconnects every port (telling each peer) and closes the sockets.
    public func close() {
        if let scheduler { detach(from: scheduler) }
        for (_, p) in ports { p.shutdown() }
        for (_, l) in listeners { l.close() }
        listeners = [:]
        if timer >= 0 {
            Glibc.close(timer)
            timer = -1
        }
    }

    /// Every descriptor that needs attention when readable.
    public var descriptors: [Int32] {
        var fds: [Int32] = []
        for (_, l) in listeners where l.fd >= 0 {
            fds.append(l.fd)
            fds += l.pending
        }
        for (_, p) in ports where p.connection >= 0 { fds.append(p.connection) }
        if timerArmed && timer >= 0 { fds.append(timer) }
        return fds
    }

    // MARK: Serving

    public func attach(to scheduler: Scheduler) {
        self.scheduler = scheduler
        watched = descriptors
        for fd in watched { scheduler.watch(fd: fd, for: self) }
        stayAwakeWhileHandshaking()
    }

    /// How long the scheduler keeps polling after a handshake step.
    static let handshakeSpin: Int64 = 1_000_000

    /// While a handshake is under way (a client waiting for its server's reply, a server
    /// with an accepted connection not yet connected), keeps the scheduler polling: the
    /// protocol is lock-step, and a sleeping VM would pay a wake-up per message.
    private func stayAwakeWhileHandshaking() {
        guard let scheduler else { return }
        let handshaking = ports.contains { $0.port.state == .connecting } || listeners.values.contains { !$0.pending.isEmpty }
        if handshaking { scheduler.stayAwake(forNanoseconds: Self.handshakeSpin) }
    }

    public func detach(from scheduler: Scheduler) {
        guard self.scheduler === scheduler else { return }
        for fd in watched { scheduler.unwatch(fd: fd) }
        watched = []
        self.scheduler = nil
    }

    /// Re-arms the retry timer and re-registers descriptors after a change.
    private func refresh() {
        let waiting = ports.contains { $0.port.role == .client && $0.port.state == .disconnected }
        if waiting != timerArmed {
            if timer < 0 { timer = clickos_timerfd(0) }
            currentRetry = min(firstRetryInterval, retryInterval)
            if timer >= 0 { _ = clickos_timerfd_set(timer, waiting ? currentRetry : 0) }
            timerArmed = waiting && timer >= 0
        }
        guard let scheduler else { return }
        let now = descriptors
        for fd in watched where !now.contains(fd) { scheduler.unwatch(fd: fd) }
        for fd in now where !watched.contains(fd) { scheduler.watch(fd: fd, for: self) }
        watched = now
    }

    public func selected(fd: Int32) {
        if fd == timer {
            var expirations: UInt64 = 0
            _ = read(timer, &expirations, 8)
            for (_, p) in ports where p.role == .client && p.state == .disconnected { p.connectToServer() }
            if timerArmed && currentRetry < retryInterval {
                currentRetry = min(currentRetry * 2, retryInterval)
                _ = clickos_timerfd_set(timer, currentRetry)
            }
            refresh()
            stayAwakeWhileHandshaking()
            return
        }
        for (_, l) in listeners {
            if fd == l.fd {
                l.acceptConnections()
                refresh()
                stayAwakeWhileHandshaking()
                return
            }
            if l.pending.contains(fd) {
                l.handlePending(fd)
                refresh()
                stayAwakeWhileHandshaking()
                return
            }
        }
        for (_, p) in ports where p.connection == fd {
            p.handleControl()
            stayAwakeWhileHandshaking()
            return
        }
    }

    /// Serves the control descriptors for up to `timeout` milliseconds (-1: until one
    /// is ready) without a router; returns after handling what was ready.
    public func poll(timeout: Int32) {
        var fds = descriptors.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
        guard !fds.isEmpty else {
            if timeout > 0 { usleep(UInt32(timeout) * 1000) }
            return
        }
        let n = Glibc.poll(&fds, nfds_t(fds.count), timeout)
        guard n > 0 else { return }
        for f in fds where f.revents != 0 { selected(fd: f.fd) }
    }
}

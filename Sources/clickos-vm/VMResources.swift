#if canImport(Glibc)
import Glibc
#endif
import CShims
import ClickElements
import ClickRuntime
import PacketIO
import VMInterface

/// What running as a VM adds to the `click`-compatible driver: the memif ports
/// (`--port`), the stats page (`--stats`), a control socket that outlives hot
/// reconfigurations (`--control`), and the readiness message to whoever booted us
/// (`--ready-fd`).
final class VMResources {
    let ports: MemifPortSet?
    let stats: StatsPage?
    private(set) var control: ControlSocketServer?
    private let controlPath: String?
    private var readyDescriptor: Int32?

    struct Failure: Error {
        let message: String
    }

    private init(ports: MemifPortSet?, stats: StatsPage?, controlPath: String?, readyDescriptor: Int32?) {
        self.ports = ports
        self.stats = stats
        self.controlPath = controlPath
        self.readyDescriptor = readyDescriptor
    }

    /// Opens the stats page and the ports; on any failure nothing stays open.
    static func open(_ options: DriverOptions) throws(Failure) -> VMResources {
        let configurations = options.ports.map { ($0.number, $0.memif) }
        var stats: StatsPage?
        if let path = options.statsPath {
            do {
                stats = try StatsPage.create(path: path, ports: (configurations.map(\.0).max() ?? -1) + 1)
            } catch {
                throw Failure(message: "--stats: \(error.message)")
            }
        }
        var ports: MemifPortSet?
        if !configurations.isEmpty {
            // Receivers and senders nap for tens of microseconds under load; the default
            // 50 µs timer slack would more than double those naps.
            _ = clickos_set_timer_slack(1_000)
            let set = MemifPortSet()
            for (n, c) in configurations {
                do {
                    _ = try set.add(c, number: n, counters: stats?.counters(port: n))
                } catch {
                    set.close()
                    if let stats { unlink(stats.path) }
                    throw Failure(message: "port \(n): \(error.message)")
                }
            }
            ports = set
        }
        return VMResources(ports: ports, stats: stats, controlPath: options.controlPath, readyDescriptor: options.readyDescriptor)
    }

    func startControl(_ router: Router) throws(Failure) {
        guard let controlPath else { return }
        let server = ControlSocketServer(router: router)
        do {
            try server.listen(unixPath: controlPath)
        } catch {
            throw Failure(message: "--control: \(error.message)")
        }
        control = server
    }

    /// The router is initialized and the ports are open: say so.
    func announceReady() {
        stats?.markReady()
        if let fd = readyDescriptor {
            let message = Array("ready \(getpid())\n".utf8)
            _ = message.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            Glibc.close(fd)
            readyDescriptor = nil
        }
    }

    /// The run is over: peers get DISCONNECT, sockets go, the page says stopped.
    func close() {
        control?.close()
        control = nil
        ports?.close()
        if let stats, stats.isWritable { stats[.state] = StatsPage.VMState.stopped.rawValue }
    }

    /// The configuration failed: remove everything, the stats page included.
    func discard() {
        close()
        if let stats { unlink(stats.path) }
    }
}

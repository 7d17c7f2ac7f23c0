import Yams

#if canImport(Glibc)
import Glibc
#endif

/// Everything an agent is told at start: where the planner is, who this host is, where
/// its state lives, which interfaces it may use, its keys, and its intervals. Read from
/// flags and from a YAML file (`--config`); a flag given on the command line wins over
/// the file. YAML keys are the flags' names in snake case (`state_dir`, `planner_key`).
public struct AgentConfiguration: Sendable, Equatable {
    /// The planner's ZeroMQ endpoint, `tcp://HOST:PORT` or `ipc://PATH`.
    public var planner = ""
    /// This host's name, unique among the planner's hosts.
    public var name = ""
    /// Where the agent keeps its VMs, links, applied state and capacity figure.
    public var stateDirectory = ""
    /// The underlay address other hosts' VXLAN tunnels reach (one of this host's).
    public var dataAddress: String?
    /// Interfaces the host switch may use (chain edges and the underlay).
    public var interfaces: [String] = []
    /// A directory holding this agent's key pair (`agent.key`) for CURVE.
    public var keys: String?
    /// The planner's public key file (`planner.pub`).
    public var plannerKey: String?
    /// `ADDRESS:PORT` to serve Prometheus metrics on (`/metrics`).
    public var metrics: String?
    public var heartbeatInterval = 1.0
    public var telemetryInterval = 1.0
    /// The `clickos-vm` executable VMs run (default: beside the agent's own executable).
    public var vmExecutable: String?
    /// The reference function measured for `packets_per_core`.
    public var referenceFunction = "chains/functions/firewall.click"
    /// A fixed capacity figure instead of a measurement (0: measure).
    public var packetsPerCore = 0.0
    /// Labels for placement pins (rack, zone...).
    public var labels: [String: String] = [:]
    /// Run VMs without a jail even as root (tests of the agent's logic only).
    public var isolation = true
    /// The Xen guest image (`deploy/xen/make-image`'s kernel, or ClickOS's): with a
    /// hypervisor here and the Xen trait built in, the agent offers the xen backend.
    public var xenKernel: String?
    /// The guest image's initramfs (none for an original ClickOS kernel).
    public var xenRamdisk: String?
    /// Memory of a Xen guest without a memory limit, in MiB.
    public var xenMemory = 64

    public init() {}

    /// An error in the configuration: where (the file, line and column, or the flag) and
    /// what.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public let description: String
        public init(_ description: String) { self.description = description }
    }

    /// The keys a YAML file may have.
    static let keys = ["planner", "name", "state_dir", "data_address", "interfaces", "keys", "planner_key", "metrics",
                       "heartbeat_interval", "telemetry_interval", "vm_binary", "reference_function", "packets_per_core",
                       "labels", "isolation", "xen_kernel", "xen_ramdisk", "xen_memory"]

    /// Reads a YAML configuration file.
    public static func load(file: String) throws(Failure) -> AgentConfiguration {
        guard let text = readSmallFile(file) else { throw Failure("--config \(file): cannot read it: \(String(cString: strerror(errno)))") }
        return try parse(yaml: text, file: file)
    }

    /// Reads a YAML configuration file's text; `file` names it in errors.
    public static func parse(yaml text: String, file: String) throws(Failure) -> AgentConfiguration {
        let node: Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch {
            throw Failure("\(file): \(error)")
        }
        var c = AgentConfiguration()
        guard let node else { return c }
        guard case .mapping(let mapping) = node else { throw Failure("\(file):\(where_(node)) expected a mapping of settings") }
        func fail(_ n: Node, _ key: String, _ what: String) -> Failure { Failure("\(file):\(where_(n)) \(key): \(what)") }
        func string(_ n: Node, _ key: String) throws(Failure) -> String {
            guard case .scalar(let s) = n, !s.string.isEmpty else { throw fail(n, key, "expected a non-empty string") }
            return s.string
        }
        func seconds(_ n: Node, _ key: String) throws(Failure) -> Double {
            guard let v = n.float, v.isFinite, v >= 0.01, v <= 3600 else { throw fail(n, key, "expected seconds between 0.01 and 3600") }
            return v
        }
        for (k, v) in mapping {
            guard case .scalar(let keyScalar) = k else { throw Failure("\(file):\(where_(k)) expected a setting name") }
            let key = keyScalar.string
            switch key {
            case "planner": c.planner = try string(v, key)
            case "name": c.name = try string(v, key)
            case "state_dir": c.stateDirectory = try string(v, key)
            case "data_address": c.dataAddress = try string(v, key)
            case "keys": c.keys = try string(v, key)
            case "planner_key": c.plannerKey = try string(v, key)
            case "metrics": c.metrics = try string(v, key)
            case "vm_binary": c.vmExecutable = try string(v, key)
            case "reference_function": c.referenceFunction = try string(v, key)
            case "heartbeat_interval": c.heartbeatInterval = try seconds(v, key)
            case "telemetry_interval": c.telemetryInterval = try seconds(v, key)
            case "packets_per_core":
                guard let f = v.float, f.isFinite, f >= 0 else { throw fail(v, key, "expected a number of packets per second, 0 to measure") }
                c.packetsPerCore = f
            case "xen_kernel": c.xenKernel = try string(v, key)
            case "xen_ramdisk": c.xenRamdisk = try string(v, key)
            case "xen_memory":
                guard let m = v.int, m >= 8, m <= 65_536 else { throw fail(v, key, "expected MiB from 8 to 65536") }
                c.xenMemory = m
            case "isolation":
                guard let b = v.bool else { throw fail(v, key, "expected true or false") }
                c.isolation = b
            case "interfaces":
                guard case .sequence(let items) = v else { throw fail(v, key, "expected a list of interface names") }
                c.interfaces = []
                for item in items { c.interfaces.append(try string(item, key)) }
            case "labels":
                guard case .mapping(let pairs) = v else { throw fail(v, key, "expected a mapping of label names to values") }
                for (lk, lv) in pairs { c.labels[try string(lk, key)] = try string(lv, key) }
            default:
                throw Failure("\(file):\(where_(k)) unknown setting '\(key)' (known: \(keys.joined(separator: ", ")))")
            }
        }
        return c
    }

    private static func where_(_ node: Node) -> String {
        node.mark.map { "\($0.line):\($0.column):" } ?? ""
    }

    /// Checks what the agent cannot start without; the error names the setting.
    public func validate() throws(Failure) {
        guard !planner.isEmpty else { throw Failure("--planner (planner:) is required: the planner's endpoint, tcp://HOST:PORT") }
        guard planner.hasPrefix("tcp://") || planner.hasPrefix("ipc://") || planner.hasPrefix("inproc://") else {
            throw Failure("--planner '\(planner)': expected tcp://HOST:PORT or ipc://PATH")
        }
        guard !name.isEmpty else { throw Failure("--name (name:) is required: this host's name") }
        guard HostNames.valid(name) else { throw Failure("--name '\(name)': use 1 to 64 letters, digits, '-', '_' or '.'") }
        guard !stateDirectory.isEmpty else { throw Failure("--state-dir (state_dir:) is required") }
        if let dataAddress, IPv4Address(dataAddress) == nil {
            throw Failure("--data-address '\(dataAddress)': expected an IPv4 address")
        }
        if (keys == nil) != (plannerKey == nil) {
            throw Failure("--keys and --planner-key go together: CURVE needs this agent's key pair and the planner's public key")
        }
        if let metrics, MetricsEndpoint(metrics) == nil {
            throw Failure("--metrics '\(metrics)': expected ADDRESS:PORT (for example 127.0.0.1:9464)")
        }
        for i in interfaces where i.isEmpty || i.utf8.count > 15 || i.contains("/") || i.contains(" ") {
            throw Failure("--interface '\(i)': not an interface name")
        }
        if xenRamdisk != nil && xenKernel == nil { throw Failure("--xen-ramdisk needs --xen-kernel: the ramdisk belongs to a guest kernel") }
        guard xenMemory >= 8 && xenMemory <= 65_536 else { throw Failure("--xen-memory \(xenMemory): expected MiB from 8 to 65536") }
    }
}

/// Names of hosts, VMs and links: 1 to 64 letters, digits, `-`, `_` or `.`.
enum HostNames {
    static func valid(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 64 && name != "." && name != ".."
            && name.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 | 0x20 >= 97 && $0 | 0x20 <= 122) || $0 == 45 || $0 == 95 || $0 == 46 }
    }
}

/// `ADDRESS:PORT` for the metrics endpoint.
public struct MetricsEndpoint: Sendable, Equatable {
    public var address: String
    public var port: UInt16
    public init?(_ text: String) {
        guard let colon = text.lastIndex(of: ":"), let port = UInt16(text[text.index(after: colon)...]) else { return nil }
        let address = String(text[..<colon])
        guard IPv4Address(address) != nil else { return nil }
        self.address = address
        self.port = port
    }
}

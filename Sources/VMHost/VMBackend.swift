import VMInterface

/// What a VM is asked to be: one Click configuration, its numbered ports, and limits.
public struct VMSpec: Sendable {
    /// Unique on the host: letters, digits, `-`, `_`, `.`; at most 64 bytes.
    public var name: String
    /// The Click configuration text.
    public var configuration: String
    /// `define` values (Click's NAME=value on the command line).
    public var definitions: [VMDefinition] = []
    /// Port N of the VM (`FromDevice(N)`, `ToDevice(N)`).
    public var ports: [Int: MemifConfiguration] = [:]
    /// For a backend whose VM ports are network interfaces on the host (xen's vifs), the
    /// host-side name of port N's interface, one per port (empty: the backend names them).
    public var interfaces: [String] = []
    /// cgroup memory limit in bytes, where cgroups are available.
    public var memoryLimit: Int?
    /// cgroup CPU limit in cores (0.5 = half a core), where available.
    public var cpuLimit: Double?
    /// CPUs the VM may run on (0-63; nil: any). A VM is one thread, like ClickOS's one
    /// vCPU: pinning the two ends of a busy link to different cores keeps them from
    /// taking turns on one.
    public var cpus: [Int]?
    /// Packet buffers the VM preallocates.
    public var packetBuffers = 16_384
    /// The host switch's exception: the VM stays in the host's network namespace and keeps
    /// CAP_NET_RAW (alone) to open AF_PACKET sockets on the host's interfaces; its system
    /// call filter also allows packet sockets. Every other part of the jail applies.
    public var hostNetwork = false

    public init(name: String, configuration: String) {
        self.name = name
        self.configuration = configuration
    }
}

/// One `define` value for a VM's configuration.
public struct VMDefinition: Sendable, Equatable {
    public var name: String
    public var value: String
    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

/// How a VM ended.
public struct VMExit: Sendable, Equatable, CustomStringConvertible {
    /// The exit status, when known (a process that is not our child ends unobserved).
    public var status: Int32?
    /// The signal that ended it, when known.
    public var signal: Int32?
    /// The last lines the VM wrote to its standard error.
    public var lastErrors: [String]

    public var description: String {
        var s: String
        if let signal {
            s = "killed by signal \(signal)\(signal == 9 ? " (SIGKILL)" : signal == 15 ? " (SIGTERM)" : signal == 11 ? " (SIGSEGV)" : "")"
        } else if let status {
            s = "exited with status \(status)"
        } else {
            s = "ended (its status is not ours to read: the VM was adopted)"
        }
        if let last = lastErrors.last { s += "; last error: \(last)" }
        return s
    }
}

/// Where a VM is in its life.
public enum VMState: Sendable, Equatable {
    case running
    case exited(VMExit)
}

/// What the host knows of one VM.
public struct VMInfo: Sendable, Equatable {
    public var name: String
    /// The process id in the host's PID namespace.
    public var pid: Int32
    public var state: VMState
    /// Where its control socket, stats page and logs live.
    public var runDirectory: String
    /// True when this backend booted it; false when it adopted it.
    public var bootedHere: Bool
}

/// One port's counters as read from a VM's stats page.
public struct PortCounterSnapshot: Sendable, Equatable {
    public var port: Int
    public var receivedPackets: UInt64
    public var receivedBytes: UInt64
    public var receiveDrops: UInt64
    public var sentPackets: UInt64
    public var sentBytes: UInt64
    public var sendDrops: UInt64
    public var linkUp: Bool
}

/// A VM operation that failed, with the reason in words (a failed boot carries Click's
/// own error text).
public struct VMError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The way the agent runs VMs: the `process` backend by default, `xen` where a
/// hypervisor is present. Every call is synchronous and safe from one thread at a time.
public protocol VMBackend: AnyObject {
    /// "process" or "xen".
    var kind: String { get }
    /// Boots a VM and returns once it is ready (configuration initialized, ports open),
    /// or fails with the VM's own error text, leaving nothing behind.
    func boot(_ spec: VMSpec) throws(VMError) -> VMInfo
    /// Stops a VM (gracefully, then by force after `timeout` seconds) and removes what
    /// it left.
    func stop(_ name: String, timeout: Double) throws(VMError)
    /// Replaces the VM's configuration in place (`hotconfig`): unchanged elements keep
    /// their state and no packet is lost. A bad configuration changes nothing.
    func reconfigure(_ name: String, configuration: String) throws(VMError)
    func read(_ name: String, handler: String) throws(VMError) -> String
    func write(_ name: String, handler: String, value: String) throws(VMError)
    /// The VM's state, nil for an unknown name.
    func info(_ name: String) -> VMInfo?
    var vms: [VMInfo] { get }
    /// Per-port counters, read from the VM's stats page without asking the VM.
    func counters(_ name: String) -> [PortCounterSnapshot]
    /// Finds VMs left running by an earlier backend (an agent restart) and takes them
    /// over; returns them.
    func adopt() -> [VMInfo]
    /// VMs that ended since the last call, with how they ended.
    func reap() -> [(name: String, exit: VMExit)]
    /// The CPU time the VM has used, in nanoseconds, where the backend keeps it (the
    /// agent reads a process VM's from its cgroup or scheduler clock itself).
    func cpuNanoseconds(_ name: String) -> UInt64?
    /// The memory the VM holds, in bytes, where the backend keeps it (the agent reads a
    /// process VM's from its cgroup or /proc itself).
    func memoryBytes(_ name: String) -> UInt64?
}

extension VMBackend {
    public func cpuNanoseconds(_ name: String) -> UInt64? { nil }
    public func memoryBytes(_ name: String) -> UInt64? { nil }
}

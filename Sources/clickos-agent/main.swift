import Agent
import ArgumentParser
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// `clickos-agent`: the per-host daemon the planner drives.
struct AgentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clickos-agent",
        abstract: "Run this host's agent: register with the planner, run the VMs of the host's desired state, link them, report.",
        discussion: """
            Every option can also be set in a YAML file given with --config (keys in snake case: \
            planner, name, state_dir, data_address, interfaces, keys, planner_key, metrics, heartbeat_interval, \
            telemetry_interval, vm_binary, reference_function, packets_per_core, labels, isolation); \
            the command line wins. deploy/agent.yaml is a commented sample.
            """)

    @Option(help: "The planner's endpoint (tcp://HOST:PORT or ipc://PATH).") var planner: String?
    @Option(help: "This host's name, unique among the planner's hosts.") var name: String?
    @Option(name: .customLong("state-dir"), help: "Where VMs, links and the applied state live.") var stateDir: String?
    @Option(name: .customLong("data-address"), help: "This host's underlay address for VXLAN tunnels.") var dataAddress: String?
    @Option(name: .customLong("interface"), help: "An interface the host switch may use (repeat for several).") var interfaces: [String] = []
    @Option(help: "Directory with this agent's CURVE key pair (agent.key).") var keys: String?
    @Option(name: .customLong("planner-key"), help: "The planner's public key file.") var plannerKey: String?
    @Option(help: "Serve Prometheus metrics at ADDRESS:PORT/metrics.") var metrics: String?
    @Option(help: "A YAML configuration file.") var config: String?
    @Option(name: .customLong("heartbeat-interval"), help: "Seconds between heartbeats (default 1).") var heartbeatInterval: Double?
    @Option(name: .customLong("telemetry-interval"), help: "Seconds between telemetry reports (default 1).") var telemetryInterval: Double?
    @Option(name: .customLong("vm-binary"), help: "The clickos-vm executable (default: beside this one).") var vmBinary: String?
    @Option(name: .customLong("reference-function"), help: "The Click file measured for packets_per_core.") var referenceFunction: String?
    @Option(name: .customLong("packets-per-core"), help: "Use this capacity figure instead of measuring it.") var packetsPerCore: Double?
    @Option(name: .customLong("label"), help: "A placement label KEY=VALUE (repeat for several).") var labels: [String] = []
    @Option(name: .customLong("xen-kernel"), help: "The Xen guest kernel (deploy/xen/make-image): offer the xen backend where Xen runs.") var xenKernel: String?
    @Option(name: .customLong("xen-ramdisk"), help: "The Xen guest's initramfs.") var xenRamdisk: String?
    @Option(name: .customLong("xen-memory"), help: "MiB of a Xen guest without a memory limit (default 64).") var xenMemory: Int?
    @Flag(name: .customLong("no-isolation"), help: "Run VMs without namespaces, jail or cgroups even as root.") var noIsolation = false

    func run() throws {
        LoggingSystem.bootstrap { label in
            var h = StreamLogHandler.standardError(label: label)
            h.logLevel = .info
            return h
        }
        var c = AgentConfiguration()
        if let config {
            do { c = try AgentConfiguration.load(file: config) } catch { throw ValidationError(error.description) }
        }
        if let planner { c.planner = planner }
        if let name { c.name = name }
        if let stateDir { c.stateDirectory = stateDir }
        if let dataAddress { c.dataAddress = dataAddress }
        if !interfaces.isEmpty { c.interfaces = interfaces }
        if let keys { c.keys = keys }
        if let plannerKey { c.plannerKey = plannerKey }
        if let metrics { c.metrics = metrics }
        if let heartbeatInterval { c.heartbeatInterval = heartbeatInterval }
        if let telemetryInterval { c.telemetryInterval = telemetryInterval }
        if let vmBinary { c.vmExecutable = vmBinary }
        if let referenceFunction { c.referenceFunction = referenceFunction }
        if let packetsPerCore { c.packetsPerCore = packetsPerCore }
        if noIsolation { c.isolation = false }
        if let xenKernel { c.xenKernel = xenKernel }
        if let xenRamdisk { c.xenRamdisk = xenRamdisk }
        if let xenMemory { c.xenMemory = xenMemory }
        for l in labels {
            let kv = l.split(separator: "=", maxSplits: 1)
            guard kv.count == 2 else { throw ValidationError("--label '\(l)': expected KEY=VALUE") }
            c.labels[String(kv[0])] = String(kv[1])
        }
        for (interval, flag) in [(c.heartbeatInterval, "--heartbeat-interval"), (c.telemetryInterval, "--telemetry-interval")]
        where !(interval.isFinite && interval >= 0.01 && interval <= 3600) {
            throw ValidationError("\(flag): expected seconds between 0.01 and 3600")
        }
        let log = Logger(label: "clickos-agent")
        let agent: Agent
        do {
            agent = try Agent(configuration: c, log: log)
        } catch {
            throw ValidationError(error.description)
        }
        agent.run()
    }
}

AgentCommand.main()

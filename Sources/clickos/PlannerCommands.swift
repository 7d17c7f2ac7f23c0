import ArgumentParser
import Foundation
import Logging
import Messaging
import Planner
import SwiftProtobuf

#if canImport(Glibc)
import Glibc
#endif

/// `clickos planner`: the planner daemon.
struct PlannerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "planner",
        abstract: "Run the planner: it keeps the chains, knows the hosts, places chains and sends every agent its desired state.")

    @Option(help: "ZeroMQ endpoint to bind (without --keys: ipc:// or a loopback tcp:// only).") var listen = "tcp://127.0.0.1:7600"
    @Option(help: "The SQLite database of chains, hosts and desired states (made if missing).") var db = "/var/lib/clickos/planner.db"
    @Option(help: "Directory with the planner's CURVE key pair (planner.key) and the public keys it admits (authorized/*.pub).") var keys: String?
    @Option(help: "Seconds between the agents' heartbeats.") var heartbeatInterval = 1.0
    @Option(help: "Heartbeats a host may miss before it is LOST and its chains move.") var missedBeats = 3.0
    @Option(help: "The share of a core one function instance may take before the function scales out (it scales in below 5/8 of it).") var instanceCap = 0.8
    @Option(help: "The shortest time in seconds between re-plans that measured load asks for.") var replanInterval = 5.0
    @Option(help: "Log level: trace, debug, info, notice, warning, error.") var logLevel = "info"

    func run() throws {
        guard instanceCap > 0, instanceCap <= 64 else { throw ValidationError("--instance-cap: expected more than 0 and at most 64 cores") }
        guard replanInterval >= 0.1, replanInterval <= 86_400 else { throw ValidationError("--replan-interval: expected 0.1 to 86400 seconds") }
        guard let level = Logger.Level(rawValue: logLevel) else { throw ValidationError("--log-level: '\(logLevel)' is not a level") }
        guard heartbeatInterval > 0, heartbeatInterval <= 3600 else { throw ValidationError("--heartbeat-interval: expected 0 to 3600 seconds") }
        guard missedBeats >= 1, missedBeats <= 1000 else { throw ValidationError("--missed-beats: expected 1 to 1000") }
        LoggingSystem.bootstrap { label in
            var h = StreamLogHandler.standardError(label: label)
            h.logLevel = level
            return h
        }
        var c = PlannerDaemon.Configuration(listen: listen, database: db, keys: keys)
        c.options.heartbeatInterval = heartbeatInterval
        c.options.missedBeats = missedBeats
        c.options.replanInterval = replanInterval
        c.options.placement.instanceCap = instanceCap
        c.options.placement.scaleInBelow = instanceCap * 0.625
        let daemon: PlannerDaemon
        do {
            daemon = try PlannerDaemon(c)
        } catch {
            printError("clickos planner: \(error)")
            throw ExitCode(1)
        }
        daemon.run()
    }
}

/// How a command reaches the planner: `--planner` or `CLICKOS_PLANNER`, and CURVE keys.
struct PlannerOptions: ParsableArguments {
    @Option(help: "The planner's endpoint (default: $CLICKOS_PLANNER, else tcp://127.0.0.1:7600).") var planner: String?
    @Option(help: "This user's CURVE key pair file (NAME.key from `clickos keygen`; default: $CLICKOS_KEY).") var key: String?
    @Option(help: "The planner's public key file (planner.pub; default: $CLICKOS_PLANNER_KEY).") var plannerKey: String?
    @Option(help: "Seconds to wait for the planner.") var timeout = 5.0

    var endpoint: String { planner ?? ProcessInfo.processInfo.environment["CLICKOS_PLANNER"] ?? "tcp://127.0.0.1:7600" }

    /// Sends one request and returns its reply's payload; an `Error` reply or no reply is
    /// one line on standard error and exit status 1.
    func request(_ payload: Envelope.OneOf_Payload, command: String) throws -> Envelope.OneOf_Payload {
        let env = ProcessInfo.processInfo.environment
        let keyFile = key ?? env["CLICKOS_KEY"]
        let serverKeyFile = plannerKey ?? env["CLICKOS_PLANNER_KEY"]
        var pair: CurveKeyPair?
        var serverKey: String?
        if keyFile != nil || serverKeyFile != nil {
            guard let keyFile, let serverKeyFile else {
                printError("clickos \(command): CURVE needs both --key and --planner-key")
                throw ExitCode(1)
            }
            do {
                pair = try CurveKeyFiles.readPair(keyFile)
                serverKey = try CurveKeyFiles.readPublic(serverKeyFile)
            } catch {
                printError("clickos \(command): \(error)")
                throw ExitCode(1)
            }
        }
        let user = env["USER"] ?? "user"
        let sender = "cli:\(user)@\(ProcessInfo.processInfo.hostName)"
        let client: MessageClient
        do {
            client = try MessageClient(endpoint: endpoint, sender: sender, serverKey: serverKey, keys: pair)
        } catch {
            printError("clickos \(command): \(error)")
            throw ExitCode(1)
        }
        defer { client.close() }
        let box = ReplyBox()
        let done = DispatchSemaphore(value: 0)
        let timeout = self.timeout
        Task {
            do {
                box.set(.success(try await client.request(payload, timeout: timeout, retries: 0)))
            } catch {
                box.set(.failure(error))
            }
            done.signal()
        }
        done.wait()
        switch box.get() {
        case .success(let reply):
            if case .error(let e)? = reply.payload {
                printError("clickos \(command): \(e.message) (\(e.code))")
                throw ExitCode(1)
            }
            guard let p = reply.payload else { throw ExitCode(1) }
            return p
        case .failure, nil:
            printError("clickos \(command): no answer from the planner at \(endpoint) within \(timeout) s")
            throw ExitCode(1)
        }
    }
}

/// A reply handed from the request's task to the waiting command.
final class ReplyBox: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Result<Envelope, any Error>?
    func set(_ v: Result<Envelope, any Error>) { lock.withLock { value = v } }
    func get() -> Result<Envelope, any Error>? { lock.withLock { value } }
}

/// Prints a reply message as JSON (proto3's JSON mapping with the .proto's field names;
/// fields at their zero value are left out, as that mapping does).
func printJSON(_ m: any SwiftProtobuf.Message) throws {
    var o = JSONEncodingOptions()
    o.preserveProtoFieldNames = true
    o.alwaysPrintInt64sAsNumbers = true
    o.useDeterministicOrdering = true
    print(try m.jsonString(options: o))
}

func stateName(_ s: Clickos_V1_VMStatus.State) -> String {
    switch s {
    case .unknown: "-"
    case .booting: "booting"
    case .running: "running"
    case .reconfiguring: "reconfiguring"
    case .stopping: "stopping"
    case .exited: "exited"
    case .failed: "failed"
    case .UNRECOGNIZED(let n): "state \(n)"
    }
}

/// `clickos apply FILE...`: checks chain files and hands them to the planner.
struct ApplyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "apply", abstract: "Apply chain files: the planner places them and the agents run them.")
    @OptionGroup var connection: PlannerOptions
    @Argument(help: "Chain files.") var files: [String]
    @Flag(help: "Plan and report, change nothing.") var dryRun = false
    @Flag(help: "Print the replies as JSON.") var json = false

    func run() throws {
        var chains: [Clickos_V1_ChainSpec] = []
        var failed = false
        for file in files {
            do { chains.append(try ChainFile.load(path: file)) } catch {
                for p in error.problems { printError(p) }
                failed = true
            }
        }
        if failed { throw ExitCode(1) }
        for chain in chains {
            var request = Clickos_V1_ApplyChainRequest()
            request.chain = chain
            request.dryRun = dryRun
            guard case .applyChainReply(let r) = try connection.request(.applyChain(request), command: "apply") else { throw ExitCode(1) }
            if json {
                try printJSON(r)
                continue
            }
            let verb = dryRun ? (r.created ? "would be created" : "would be updated") : (r.created ? "created" : "updated")
            print("chain \(r.chain) \(verb)")
            if !r.placements.isEmpty {
                printTable(["FUNCTION", "INSTANCE", "HOST", "VM"], r.placements.map { [$0.function, String($0.instance), $0.host, $0.vm] })
            }
            for w in r.warnings { print("warning: \(w)") }
        }
    }
}

/// `clickos delete NAME`: removes a chain; its VMs stop.
struct DeleteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "delete", abstract: "Delete a chain: its VMs stop on every host.")
    @OptionGroup var connection: PlannerOptions
    @Argument(help: "The chain's name.") var name: String
    @Flag(help: "Print the reply as JSON.") var json = false

    func run() throws {
        var request = Clickos_V1_DeleteChainRequest()
        request.chain = name
        guard case .deleteChainReply(let r) = try connection.request(.deleteChain(request), command: "delete") else { throw ExitCode(1) }
        if json { try printJSON(r) } else { print("chain \(r.chain) deleted") }
    }
}

/// `clickos chains`: every chain with its phase and where its functions run.
struct ChainsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "chains", abstract: "List the chains: phase, rates, and where each function instance runs.")
    @OptionGroup var connection: PlannerOptions
    @Flag(help: "Print the reply as JSON.") var json = false

    func run() throws {
        guard case .listChainsReply(let r) = try connection.request(.listChains(Clickos_V1_ListChainsRequest()), command: "chains") else { throw ExitCode(1) }
        if json { return try printJSON(r) }
        printTable(["CHAIN", "PHASE", "DECLARED", "MEASURED", "GEN", "PLACEMENT", "MESSAGE"], r.chains.map { c in
            [c.name, "\(c.phase)".uppercased(), rateText(c.declaredPps), rateText(c.measuredPps), String(c.generation),
             c.placements.map { "\($0.function)/\($0.instance)@\($0.host)" }.joined(separator: " "), c.message]
        })
    }
}

/// `clickos hosts`: the registered hosts, their health and load.
struct HostsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "hosts", abstract: "List the hosts: health, capacity, placed load, generations.")
    @OptionGroup var connection: PlannerOptions
    @Flag(help: "Print the reply as JSON.") var json = false

    func run() throws {
        guard case .listHostsReply(let r) = try connection.request(.listHosts(Clickos_V1_ListHostsRequest()), command: "hosts") else { throw ExitCode(1) }
        if json { return try printJSON(r) }
        let now = Date().timeIntervalSince1970 * 1000
        printTable(["HOST", "HEALTH", "CORES", "PPS/CORE", "USED", "VMS", "GEN", "SEEN", "DATA ADDRESS", "BACKENDS"], r.hosts.map { h in
            [h.name, "\(h.health)".uppercased(), String(h.cores), rateText(h.packetsPerCore), String(format: "%.1f%%", h.utilization * 100),
             String(h.vms), "\(h.observedGeneration)/\(h.desiredGeneration)",
             h.lastHeartbeatUnixMs == 0 ? "never" : String(format: "%.1fs ago", max(0, now - Double(h.lastHeartbeatUnixMs)) / 1000), h.dataPlaneAddress,
             h.vmBackends.joined(separator: ",")]
        })
    }
}

/// `clickos top [CHAIN]`: live rates per function instance, refreshed every second.
struct TopCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "top", abstract: "Show live packet rates per function and instance (refreshing; --once prints one screen).")
    @OptionGroup var connection: PlannerOptions
    @Argument(help: "Only this chain.") var chain: String?
    @Flag(help: "Print once and exit.") var once = false
    @Option(help: "Seconds between refreshes.") var interval = 1.0
    @Flag(help: "Print the reply as JSON (implies --once).") var json = false

    func run() throws {
        var request = Clickos_V1_TopRequest()
        request.chain = chain ?? ""
        while true {
            guard case .topReply(let r) = try connection.request(.top(request), command: "top") else { throw ExitCode(1) }
            if json { return try printJSON(r) }
            if !once { print("\u{1B}[H\u{1B}[2J", terminator: "") }
            let rows = r.vms.map { v -> [String] in
                let rx = v.ports.reduce(0) { $0 + $1.rxPps }, tx = v.ports.reduce(0) { $0 + $1.txPps }
                let drops = v.ports.reduce(UInt64(0)) { $0 + $1.rxDrops + $1.txDrops }
                return [v.chain, v.function.isEmpty ? "(junction)" : v.function, String(v.instance), v.vm, rateText(rx), rateText(tx), String(drops),
                        v.cpuNsPerPacket > 0 ? String(format: "%.0f", v.cpuNsPerPacket) : "-", String(format: "%.1f MB", Double(v.memoryBytes) / 1e6)]
            }
            printTable(["CHAIN", "FUNCTION", "INSTANCE", "VM", "RX PPS", "TX PPS", "DROPS", "NS/PKT", "MEMORY"], rows)
            if once { return }
            fflush(nil)
            usleep(useconds_t(max(0.1, interval) * 1e6))
        }
    }
}

/// Packets per second in a few characters: 950, 200k, 1.5M.
func rateText(_ pps: Double) -> String {
    if pps >= 1e6 { return String(format: "%.2fM", pps / 1e6) }
    if pps >= 1e3 { return String(format: "%.1fk", pps / 1e3) }
    return String(format: "%.0f", pps)
}

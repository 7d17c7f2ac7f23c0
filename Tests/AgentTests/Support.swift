#if canImport(Glibc)
import Glibc
#endif
import Messaging
import Synchronization
import Testing

/// The built executables next to the test bundle (`make unit-tests` builds them first).
let buildDirectory: String = {
    var buffer = [CChar](repeating: 0, count: 4096)
    let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
    let exe = n > 0 ? String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) : ""
    return String(exe[..<(exe.lastIndex(of: "/") ?? exe.endIndex)])
}()

let repositoryRoot: String = {
    var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(3)
    return parts.joined(separator: "/")
}()

let isRoot = geteuid() == 0

/// A fresh scratch directory.
func scratch(_ name: String) -> String {
    let dir = "/tmp/ca-\(getpid())-\(name)"
    _ = system("rm -rf '\(dir)'")
    mkdir(dir, 0o755)
    return dir
}

func monotonic() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

/// Kills every VM that agents with state directories under `dir` left running (VMs
/// outlive their agent by design; a test must not leave them behind). Their records
/// (`vms/NAME/vm.record`) name their processes.
func killVMs(under dir: String) {
    shell("find '\(dir)' -path '*/vms/*/vm.record' -exec sed -n 's/^pid=//p' {} + 2>/dev/null | xargs -r kill -9 2>/dev/null")
}

/// Polls `condition` every 20 ms for up to `seconds`.
@discardableResult
func eventually(_ seconds: Double = 10, _ condition: () -> Bool) -> Bool {
    let deadline = monotonic() + seconds
    while monotonic() < deadline {
        if condition() { return true }
        usleep(20_000)
    }
    return condition()
}

func readText(_ path: String) -> String {
    guard let f = fopen(path, "r") else { return "" }
    defer { fclose(f) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65_536)
    while true {
        let n = fread(&chunk, 1, chunk.count, f)
        if n == 0 { break }
        bytes += chunk[0..<n]
    }
    return String(decoding: bytes, as: UTF8.self)
}

/// Runs a shell command and returns its standard output.
@discardableResult
func shell(_ command: String) -> String {
    guard let p = popen(command, "r") else { return "" }
    var out: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while true {
        let n = fread(&chunk, 1, chunk.count, p)
        if n == 0 { break }
        out += chunk[0..<n]
    }
    pclose(p)
    return String(decoding: out, as: UTF8.self)
}

/// A `clickos-agent` process (or another of our executables), its standard error in a file.
final class AgentProcess {
    let pid: pid_t
    let logPath: String

    init(_ arguments: [String], log: String, netns: String? = nil, executable: String = "clickos-agent") {
        logPath = log
        var argv = [buildDirectory + "/" + executable] + arguments
        if let netns { argv = ["/usr/bin/ip", "netns", "exec", netns] + argv }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        posix_spawn_file_actions_addopen(&actions, 2, log, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        let cArgs = argv.map { strdup($0) } + [nil]
        defer { for a in cArgs { free(a) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, argv[0], &actions, nil, cArgs, environ)
        posix_spawn_file_actions_destroy(&actions)
        self.pid = rc == 0 ? pid : -1
    }

    var log: String { readText(logPath) }

    var alive: Bool {
        var status: Int32 = 0
        return pid > 0 && waitpid(pid, &status, WNOHANG) == 0
    }

    /// Sends `signal` and waits up to 10 s for the exit; returns the wait status.
    @discardableResult
    func stop(_ signal: Int32 = SIGTERM) -> Int32 {
        guard pid > 0 else { return -1 }
        kill(pid, signal)
        var status: Int32 = 0
        for _ in 0..<500 {
            if waitpid(pid, &status, WNOHANG) == pid { return status }
            usleep(20_000)
        }
        kill(pid, SIGKILL)
        waitpid(pid, &status, 0)
        return status
    }
}

/// The planner's side of the wire, scripted: a real ROUTER socket (`MessageServer`) that
/// acknowledges registrations, answers heartbeats of hosts it does not know with NOT_FOUND
/// (as a restarted planner does), remembers every envelope that came in, and pushes
/// desired states to the agent that registered.
final class ScriptedPlanner: Sendable {
    struct Received: Sendable {
        var envelope: Envelope
        var peer: MessageServer.Peer
        var at: Double
    }
    final class Shared: Sendable {
        let received = Mutex<[Received]>([])
        let registered = Mutex<Set<String>>([])
    }
    let server: MessageServer
    private let shared = Shared()
    private let nextID = Atomic<UInt64>(1_000)

    init(endpoint: String, security: MessageServer.Security? = nil) throws {
        let shared = self.shared
        server = try MessageServer(endpoint: endpoint, security: security, peerHandler: { envelope, peer in
            shared.received.withLock { $0.append(Received(envelope: envelope, peer: peer, at: monotonic())) }
            switch envelope.payload {
            case .register(let r):
                shared.registered.withLock { _ = $0.insert(r.hostName) }
                return EnvelopeCodec.make(sender: "planner", requestID: envelope.requestID, .ack(Clickos_V1_Ack()))
            case .heartbeat(let h):
                if !shared.registered.withLock({ $0.contains(h.hostName) }) {
                    return EnvelopeCodec.error(.notFound, "unknown host \(h.hostName)", requestID: envelope.requestID, from: "planner")
                }
                return nil
            default:
                return nil
            }
        })
    }

    var envelopes: [Received] { shared.received.withLock { $0 } }

    func all<T>(_ pick: (Envelope) -> T?) -> [T] { envelopes.compactMap { pick($0.envelope) } }

    var registrations: [Clickos_V1_Register] { all { if case .register(let r) = $0.payload { r } else { nil } } }
    var statuses: [Clickos_V1_HostStatus] { all { if case .hostStatus(let s) = $0.payload { s } else { nil } } }
    var telemetry: [Clickos_V1_Telemetry] { all { if case .telemetry(let t) = $0.payload { t } else { nil } } }

    /// The newest status, if any.
    var status: Clickos_V1_HostStatus? { statuses.last }

    /// Sends a desired state to `host` and waits for its answer (Ack or Error).
    func push(_ d: Clickos_V1_HostDesiredState, to host: String, timeout: Double = 20) -> Envelope? {
        guard let peer = envelopes.last(where: { $0.envelope.sender == host })?.peer else { return nil }
        let id = nextID.wrappingAdd(1, ordering: .relaxed).oldValue
        server.send(EnvelopeCodec.make(sender: "planner", requestID: id, .desiredState(d)), to: peer)
        var answer: Envelope?
        eventually(timeout) {
            answer = envelopes.first { $0.envelope.requestID == id && $0.envelope.sender == host }?.envelope
            return answer != nil
        }
        return answer
    }

    /// Sends any envelope to `host`'s peer.
    func sendRaw(_ e: Envelope, to host: String) {
        guard let peer = envelopes.last(where: { $0.envelope.sender == host })?.peer else { return }
        server.send(e, to: peer)
    }

    /// Waits for a status that satisfies `condition`, after `since` envelopes.
    func waitStatus(_ seconds: Double = 20, after since: Int = 0, _ condition: (Clickos_V1_HostStatus) -> Bool) -> Clickos_V1_HostStatus? {
        var found: Clickos_V1_HostStatus?
        eventually(seconds) {
            found = Array(envelopes.dropFirst(since)).compactMap { r -> Clickos_V1_HostStatus? in
                if case .hostStatus(let s) = r.envelope.payload { s } else { nil }
            }.last(where: condition)
            return found != nil
        }
        return found
    }
}

/// Desired-state building blocks.
enum Desired {
    static func vm(_ name: String, _ configuration: String, ports: UInt32, chain: String = "test", function: String? = nil) -> Clickos_V1_VMSpec {
        var v = Clickos_V1_VMSpec()
        v.name = name
        v.chain = chain
        v.function = function ?? name
        v.configuration = configuration
        v.ports = ports
        return v
    }

    static func link(_ name: String, _ server: String, _ client: String) -> Clickos_V1_LinkSpec {
        var l = Clickos_V1_LinkSpec()
        l.name = name
        l.server = server
        l.client = client
        l.secret = "s-" + name
        return l
    }

    static func state(_ host: String, _ generation: UInt64, vms: [Clickos_V1_VMSpec], links: [Clickos_V1_LinkSpec] = [],
                      tunnels: [Clickos_V1_TunnelSpec] = [], edges: [Clickos_V1_ChainEdge] = []) -> Clickos_V1_HostDesiredState {
        var d = Clickos_V1_HostDesiredState()
        d.hostName = host
        d.generation = generation
        d.vms = vms
        d.links = links
        d.tunnels = tunnels
        d.edges = edges
        return d
    }

    /// An Ethernet/IPv4/UDP frame (checksums right) as Click's `\<hex>`.
    static func udpFrameHex(src: String = "10.1.0.2", dst: String = "10.2.0.10", sport: UInt16 = 5000, dport: UInt16 = 7) -> String {
        func ip(_ s: String) -> [UInt8] { s.split(separator: ".").compactMap { UInt8($0) } }
        var f: [UInt8] = [0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00]
        var h: [UInt8] = [0x45, 0, 0, 48, 0, 0, 0, 0, 64, 17, 0, 0] + ip(src) + ip(dst)
        var sum: UInt32 = 0
        for i in stride(from: 0, to: 20, by: 2) { sum += UInt32(h[i]) << 8 | UInt32(h[i + 1]) }
        while sum > 0xFFFF { sum = (sum & 0xFFFF) + (sum >> 16) }
        h[10] = UInt8((~UInt16(sum)) >> 8)
        h[11] = UInt8((~UInt16(sum)) & 0xFF)
        f += h
        f += [UInt8(sport >> 8), UInt8(sport & 0xFF), UInt8(dport >> 8), UInt8(dport & 0xFF), 0, 28, 0, 0]
        f += [UInt8](repeating: 0x61, count: 20)
        return f.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }
}

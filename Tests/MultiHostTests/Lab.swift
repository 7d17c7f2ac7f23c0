import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The lab (`deploy/lab/lab`) for one test: its own directory and namespace prefix, the
/// debug build's executables (`make unit-tests` builds them), and helpers to run commands
/// in its nodes and read what the planner says.
final class Lab {
    static let repositoryRoot: String = {
        var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)
        return parts.joined(separator: "/")
    }()

    /// The directory of the test bundle's executables.
    static let buildDirectory: String = {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        let exe = n > 0 ? String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) : ""
        return String(exe[..<(exe.lastIndex(of: "/") ?? exe.endIndex)])
    }()

    /// Why the lab cannot run here, or nil.
    static func unavailable() -> String? {
        guard geteuid() == 0 else { return "needs root (network namespaces); CI runs it as root" }
        guard system("ip netns add mhprobe\(getpid()) 2>/dev/null && ip netns del mhprobe\(getpid())") == 0 else {
            return "cannot make network namespaces here"
        }
        for exe in ["clickos", "clickos-agent", "clickos-vm"] where access(buildDirectory + "/" + exe, X_OK) != 0 {
            return "\(exe) is not built beside the tests (make unit-tests builds it)"
        }
        return nil
    }

    let dir: String
    let prefix: String
    private var environment: String { "CLICKOS_LAB='\(dir)' CLICKOS_BIN='\(Self.buildDirectory)' LAB_PREFIX='\(prefix)'" }

    /// A lab of `hosts` hosts; `plannerOptions` go to `clickos planner`.
    init(_ tag: String, hosts: Int, plannerOptions: String = "") throws {
        dir = "/tmp/mh-\(getpid())-\(tag)"
        prefix = "mh\(getpid() % 10_000)\(tag.prefix(3))"
        let (rc, out) = lab("up --hosts \(hosts)", environment: "LAB_PLANNER_OPTIONS='\(plannerOptions)'")
        guard rc == 0 else { throw LabError(text: "lab up: \(out)\n\(logs)") }
    }

    struct LabError: Error, CustomStringConvertible {
        let text: String
        var description: String { text }
    }

    /// Runs the lab script; its exit status and output (stdout and stderr).
    @discardableResult
    func lab(_ args: String, environment more: String = "") -> (Int32, String) {
        Self.shell("\(environment) \(more) '\(Self.repositoryRoot)/deploy/lab/lab' \(args)")
    }

    /// Runs a shell command in a node (client, server1, host2, ...).
    @discardableResult
    func run(_ node: String, _ command: String) -> (Int32, String) {
        let quoted = command.replacingOccurrences(of: "'", with: "'\\''")
        return lab("run \(node) -- bash -c '\(quoted)'")
    }

    /// The `clickos` CLI against the lab's planner.
    @discardableResult
    func cli(_ args: String) -> (Int32, String) { lab("cli \(args)") }

    /// `clickos chains --json`, parsed.
    func chains() -> [[String: Any]] {
        let out = cli("chains --json").1
        guard let start = out.firstIndex(of: "{"), let end = out.lastIndex(of: "}") else { return [] }
        let object = try? JSONSerialization.jsonObject(with: Data(out[start...end].utf8)) as? [String: Any]
        return object?["chains"] as? [[String: Any]] ?? []
    }

    func phase(_ chain: String) -> String? { chains().first { $0["name"] as? String == chain }?["phase"] as? String }

    /// Where each function instance of `chain` runs ("function/instance" -> host).
    func placements(_ chain: String) -> [String: String] {
        let c = chains().first { $0["name"] as? String == chain }
        var out: [String: String] = [:]
        for p in c?["placements"] as? [[String: Any]] ?? [] {
            out["\(p["function"] as? String ?? "")/\(p["instance"] as? Int ?? 0)"] = p["host"] as? String ?? ""
        }
        return out
    }

    /// The PID of VM `vm` on `host`, from its record, if it runs.
    func vmPID(_ host: String, _ vm: String) -> pid_t? {
        let text = (try? String(contentsOfFile: "\(dir)/\(host)/vms/\(vm)/vm.record", encoding: .utf8)) ?? ""
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("pid=") }), let pid = pid_t(line.dropFirst(4)) else { return nil }
        return Self.alive(pid) ? pid : nil
    }

    /// Running: neither gone nor a zombie (nothing here may reap an orphan).
    static func alive(_ pid: pid_t) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        return stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).first != "Z"
    }

    /// One HTTP GET from the client to the chain's virtual address: the answer's first
    /// body line ("serverN answered; it saw ADDRESS:PORT"), or nil.
    func get(_ path: String = "/", port: Int = 80, timeout: Double = 2) -> String? {
        let (rc, out) = run("client", "curl -s -m \(timeout) http://10.2.0.100:\(port)\(path)")
        guard rc == 0, out.contains("answered") else { return nil }
        return out.split(separator: "\n").first { $0.contains("answered") }.map(String.init)
    }

    var logs: String {
        Self.shell("tail -n 20 '\(dir)'/logs/*.log 2>/dev/null").1
    }

    func down() { lab("down") }

    /// Runs a shell command; its exit status and output.
    @discardableResult
    static func shell(_ command: String) -> (Int32, String) {
        guard let p = popen("{ \(command)\n} 2>&1", "r") else { return (-1, "") }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = fread(&chunk, 1, chunk.count, p)
            if n == 0 { break }
            out += chunk[0..<n]
        }
        let status = pclose(p)
        return ((status >> 8) & 0xFF, String(decoding: out, as: UTF8.self))
    }
}

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

/// Polls `condition` every 50 ms for up to `seconds`; returns the seconds it took, or nil.
@discardableResult
func within(_ seconds: Double, _ condition: () -> Bool) -> Double? {
    let start = now()
    while now() - start < seconds {
        if condition() { return now() - start }
        usleep(50_000)
    }
    return condition() ? now() - start : nil
}

#if canImport(Glibc)
import Glibc
#endif
import CShims

/// How the process backend fences each VM in, after Firecracker's jailer: a user and group
/// of its own from `ids`, a root directory of its own (pivot_root; the host's tree
/// detached), every capability dropped for good, no_new_privs, resource limits, and — set
/// by the VM itself once it is initialized — a seccomp-bpf allow-list of the system calls a
/// running VM makes. Needs root (and namespaces); `nil` in `Isolation` otherwise.
public struct JailPolicy: Sendable, Equatable {
    /// User and group ids for VMs and memif links: a block no host account uses.
    public var ids: ClosedRange<UInt32>
    /// Whether VMs get the allow-list (`clickos-vm --seccomp`); false where the kernel has
    /// no seccomp filters.
    public var seccomp: Bool
    public var openFiles: UInt64 = 4096
    /// Processes and threads of the VM's user (a VM is one thread; its user is its own).
    public var processes: UInt64 = 16
    public var lockedMemory: UInt64 = 64 << 10
    /// The largest file a VM may write (a ToDump into its run directory).
    public var fileSize: UInt64 = 256 << 20

    /// 2,000,000,000 and up: far above the ids of accounts, and of the 65,536-id blocks
    /// `/etc/subuid` hands to containers from 100,000.
    public static let defaultIDs: ClosedRange<UInt32> = 2_000_000_000...2_000_065_535

    public init(ids: ClosedRange<UInt32> = JailPolicy.defaultIDs, seccomp: Bool) {
        self.ids = ids
        self.seccomp = seccomp
    }

    /// Whether this kernel filters system calls (PR_GET_SECCOMP answers).
    public static var kernelHasSeccomp: Bool { clickos_seccomp_mode() >= 0 }
}

/// Hands out user and group ids from a jail's range: never one a host account or group
/// uses, never one a running VM (or a link) holds, the lowest free first.
final class IdentityAllocator {
    let range: ClosedRange<UInt32>
    private var used: Set<UInt32> = []
    private let hostIDs: Set<UInt32>

    init(range: ClosedRange<UInt32>) {
        self.range = range
        var host: Set<UInt32> = []
        for file in ["/etc/passwd", "/etc/group"] {
            for line in (readText(file) ?? "").split(separator: "\n") {
                let fields = line.split(separator: ":", omittingEmptySubsequences: false)
                if fields.count > 2, let id = UInt32(fields[2]), range.contains(id) { host.insert(id) }
            }
        }
        hostIDs = host
    }

    func allocate() -> UInt32? {
        var id = range.lowerBound
        while true {
            if !used.contains(id) && !hostIDs.contains(id) {
                used.insert(id)
                return id
            }
            if id == range.upperBound { return nil }
            id += 1
        }
    }

    func markUsed(_ id: UInt32) { if range.contains(id) { used.insert(id) } }
    func release(_ id: UInt32) { used.remove(id) }
    func isOurs(_ id: UInt32) -> Bool { range.contains(id) }
}

/// What confines one VM, as its process shows it (`/proc/PID/status`) and as the backend
/// set it up: for `clickos vm list -v` and the agent's status.
public struct VMIsolationReport: Sendable, Equatable, CustomStringConvertible {
    public var uid: UInt32?
    public var gid: UInt32?
    public var groups: [UInt32] = []
    /// Its own root (the host's tree out of reach), or the host's filesystem.
    public var ownRoot = false
    public var namespaces = false
    /// From /proc/PID/status.
    public var noNewPrivileges = false
    public var seccompFiltered = false
    public var capabilitiesNone = false
    public var limits: [String] = []
    public var cgroups = false
    /// What could not be applied on this host, and why.
    public var missing: [String] = []

    public var description: String {
        var parts: [String] = []
        parts.append(uid.map { "user \($0):\(gid ?? $0)" + (groups.isEmpty ? "" : " +groups \(groups.map(String.init).joined(separator: ","))") } ?? "host user")
        parts.append(ownRoot ? "own root" : "host filesystem")
        parts.append(namespaces ? "own net/mount/pid namespaces" : "host namespaces")
        parts.append(seccompFiltered ? "seccomp allow-list" : "no seccomp")
        parts.append(noNewPrivileges ? "no_new_privs" : "new privileges possible")
        parts.append(capabilitiesNone ? "no capabilities" : "capabilities")
        if !limits.isEmpty { parts.append("limits " + limits.joined(separator: " ")) }
        parts.append(cgroups ? "cgroup" : "no cgroup")
        var text = parts.joined(separator: ", ")
        if !missing.isEmpty { text += "; missing: " + missing.joined(separator: "; ") }
        return text
    }

    /// Reads what is in force from the kernel's view of `pid`.
    mutating func readProcess(_ pid: Int32) {
        guard let status = readText("/proc/\(pid)/status") else { return }
        for line in status.split(separator: "\n") {
            let kv = line.split(separator: ":", maxSplits: 1)
            guard kv.count == 2 else { continue }
            let value = kv[1].trimmingCharacters(in: " \t")
            switch kv[0] {
            case "NoNewPrivs": noNewPrivileges = value == "1"
            case "Seccomp": seccompFiltered = value == "2"
            case "CapEff": capabilitiesNone = value.allSatisfy { $0 == "0" }
            case "Uid": uid = value.split(whereSeparator: { $0 == "\t" || $0 == " " }).first.flatMap { UInt32($0) }
            case "Gid": gid = value.split(whereSeparator: { $0 == "\t" || $0 == " " }).first.flatMap { UInt32($0) }
            case "Groups": groups = value.split(separator: " ").compactMap { UInt32($0) }
            default: break
            }
        }
    }
}

extension Substring {
    func trimmingCharacters(in set: String) -> String {
        var s = self
        while let f = s.first, set.contains(f) { s = s.dropFirst() }
        while let l = s.last, set.contains(l) { s = s.dropLast() }
        return String(s)
    }
}

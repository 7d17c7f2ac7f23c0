#if canImport(Glibc)
import Glibc
#endif

/// What this host can do to fence a VM process in, found once at start: namespaces and the
/// jail (a user of its own, its own root, no capabilities, limits, the seccomp allow-list)
/// need root; cgroup limits need a writable memory/cpu hierarchy (cgroup v1 as on these
/// machines, or v2 with the controllers enabled).
public struct Isolation: Sendable, Equatable {
    /// New network (no interfaces), mount and PID namespaces.
    public var namespaces: Bool
    /// The per-VM jail (needs namespaces).
    public var jail: JailPolicy?
    public var cgroups: CgroupLayout?

    public init(namespaces: Bool, jail: JailPolicy?, cgroups: CgroupLayout?) {
        self.namespaces = namespaces
        self.jail = namespaces ? jail : nil
        self.cgroups = cgroups
    }

    /// None at all: the VM is a plain child process (tests without root).
    public static let none = Isolation(namespaces: false, jail: nil, cgroups: nil)

    /// Everything this host allows.
    public static func detect() -> Isolation {
        guard geteuid() == 0 else { return .none }
        return Isolation(namespaces: true, jail: JailPolicy(seccomp: JailPolicy.kernelHasSeccomp), cgroups: CgroupLayout.detect())
    }

    /// The same isolation with the VMs' cgroups under `SCOPE` and, when jailed, user ids
    /// from `ids`: what keeps several agents on one machine apart.
    public func scoped(_ scope: String, ids: ClosedRange<UInt32>? = nil) -> Isolation {
        var copy = self
        copy.cgroups = cgroups?.scoped(scope)
        if let ids { copy.jail?.ids = ids }
        return copy
    }

    /// One line for the log: what is and is not in force, and why not.
    public var summary: String {
        var parts: [String] = []
        parts.append(namespaces ? "network, mount and PID namespaces" : "no namespaces (not root)")
        if let jail {
            parts.append("a jail per VM (own user from \(jail.ids.lowerBound)-\(jail.ids.upperBound), own root, no capabilities, no_new_privs, limits)")
            parts.append(jail.seccomp ? "seccomp allow-list" : "no seccomp (the kernel has no seccomp filters)")
        } else {
            parts.append("no jail (needs root and namespaces): VMs run as the host process's user and see its files")
        }
        parts.append(cgroups.map { "cgroup \($0.version == 1 ? "v1" : "v2") limits" } ?? "no cgroup limits (no writable memory/cpu cgroup)")
        return parts.joined(separator: ", ")
    }

    /// What a VM booted under this isolation lacks, in words.
    var missing: [String] {
        var out: [String] = []
        if !namespaces { out.append("namespaces and jail: the backend does not run as root") }
        if let jail, !jail.seccomp { out.append("seccomp: the kernel has no seccomp filters") }
        if cgroups == nil { out.append("cgroup limits: no writable memory/cpu cgroup hierarchy") }
        return out
    }
}

/// Where VM cgroups go and how limits are written.
public struct CgroupLayout: Sendable, Equatable {
    public var version: Int
    /// v1: the memory and cpu hierarchy roots; v2: the unified root (both the same).
    public var memoryRoot: String
    public var cpuRoot: String

    static func writable(_ path: String) -> Bool { access(path, W_OK) == 0 }

    static func detect() -> CgroupLayout? {
        if writable("/sys/fs/cgroup/memory"), writable("/sys/fs/cgroup/cpu") {
            return CgroupLayout(version: 1, memoryRoot: "/sys/fs/cgroup/memory/clickos", cpuRoot: "/sys/fs/cgroup/cpu/clickos")
        }
        if let controllers = readText("/sys/fs/cgroup/cgroup.controllers"), controllers.contains("memory"), controllers.contains("cpu"),
            writable("/sys/fs/cgroup")
        {
            return CgroupLayout(version: 2, memoryRoot: "/sys/fs/cgroup/clickos", cpuRoot: "/sys/fs/cgroup/clickos")
        }
        return nil
    }

    /// A group made ahead of time, renamed to the next VM's name: creating groups costs a
    /// tenth of a millisecond per hierarchy. `+` is not allowed in VM names. Several
    /// backends may share the roots: the rename is atomic, and the loser makes its own.
    static let spareName = "+spare"

    private var roots: [String] { cpuRoot == memoryRoot ? [memoryRoot] : [memoryRoot, cpuRoot] }

    /// The same hierarchies one level down, `ROOT/SCOPE`: several agents on one machine
    /// (a lab) keep their VMs' groups apart.
    public func scoped(_ scope: String) -> CgroupLayout {
        CgroupLayout(version: version, memoryRoot: memoryRoot + "/" + scope, cpuRoot: cpuRoot + "/" + scope)
    }

    /// Makes `path` and the directories above it that are missing.
    private func makeDirectories(_ path: String) {
        if mkdir(path, 0o755) == 0 || errno == EEXIST { return }
        guard errno == ENOENT, let slash = path.lastIndex(of: "/"), slash != path.startIndex else { return }
        makeDirectories(String(path[..<slash]))
        mkdir(path, 0o755)
    }

    /// Makes the spare groups (without limits) if they are missing.
    func prepareSpare() {
        for root in roots {
            makeDirectories(root)
            mkdir(root + "/" + Self.spareName, 0o755)
        }
    }

    /// Removes the spare groups (when the backend goes).
    func removeSpare() {
        for root in roots { rmdir(root + "/" + Self.spareName) }
    }

    /// Creates the VM's groups (from the spares when there are any) with its limits;
    /// returns the `cgroup.procs` files the child joins, or an error.
    func create(for name: String, memoryLimit: Int?, cpuLimit: Double?) throws(VMError) -> [String] {
        let dirs = roots.map { $0 + "/" + name }
        for (root, d) in zip(roots, dirs) {
            if rename(root + "/" + Self.spareName, d) == 0 { continue }
            makeDirectories(root)
            for path in [root, d] {
                if mkdir(path, 0o755) != 0 && errno != EEXIST {
                    throw VMError("cgroup \(path): \(String(cString: strerror(errno)))")
                }
            }
        }
        let memoryDir = dirs[0], cpuDir = dirs.last ?? dirs[0]
        if let memoryLimit {
            let file = version == 1 ? "memory.limit_in_bytes" : "memory.max"
            try writeLimit(memoryDir + "/" + file, String(memoryLimit))
        }
        if let cpuLimit {
            let period = 100_000
            let quota = max(1000, Int(cpuLimit * Double(period)))
            if version == 1 {
                try writeLimit(cpuDir + "/cpu.cfs_period_us", String(period))
                try writeLimit(cpuDir + "/cpu.cfs_quota_us", String(quota))
            } else {
                try writeLimit(cpuDir + "/cpu.max", "\(quota) \(period)")
            }
        }
        return dirs.map { $0 + "/cgroup.procs" }
    }

    /// Removes the VM's groups (they must be empty: the VM has exited).
    func remove(for name: String) {
        for root in roots { rmdir(root + "/" + name) }
    }

    func exists(for name: String) -> Bool {
        roots.contains { access($0 + "/" + name, F_OK) == 0 }
    }

    private func writeLimit(_ path: String, _ value: String) throws(VMError) {
        guard writeText(path, value) else { throw VMError("cgroup \(path): \(String(cString: strerror(errno)))") }
    }
}

// MARK: Small file helpers

func readText(_ path: String) -> String? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 16_384)
    while true {
        let n = read(fd, &chunk, chunk.count)
        if n < 0 && errno == EINTR { continue }
        if n <= 0 { break }
        bytes.append(contentsOf: chunk[0..<n])
    }
    return String(decoding: bytes, as: UTF8.self)
}

@discardableResult
func writeText(_ path: String, _ text: String, mode: mode_t = 0o644) -> Bool {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    let bytes = Array(text.utf8)
    var offset = 0
    while offset < bytes.count {
        let n = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        if n < 0 && errno == EINTR { continue }
        guard n > 0 else { return false }
        offset += n
    }
    return true
}

/// Removes a directory tree (the VM's run directory).
func removeTree(_ path: String) {
    if let dir = opendir(path) {
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name == "." || name == ".." { continue }
            let child = path + "/" + name
            var st = stat()
            if lstat(child, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR { removeTree(child) } else { unlink(child) }
        }
        closedir(dir)
    }
    rmdir(path)
}

/// Names in a directory.
func listDirectory(_ path: String) -> [String] {
    guard let dir = opendir(path) else { return [] }
    defer { closedir(dir) }
    var names: [String] = []
    while let entry = readdir(dir) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self) }
        if name != "." && name != ".." { names.append(name) }
    }
    return names.sorted()
}

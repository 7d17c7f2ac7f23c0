#if canImport(Glibc)
import Glibc
#endif
import CSeccomp
import CShims
import VMInterface

/// The default VM backend: a VM is a `clickos-vm` process in its own network namespace
/// (no interfaces: it reaches the world only through its memif ports), mount and PID
/// namespaces, a jail (`JailPolicy`: its own user, its own root, no capabilities, limits,
/// the seccomp allow-list) and cgroup limits, each where the host allows it.
///
/// Each VM has a directory `ROOT/vms/NAME/` (0700, the backend's) holding its standard
/// error (`stderr.log`), a record (`vm.record`) that lets a later backend adopt it, its
/// run directory `run/` (0700, the VM's user: control socket `control.sock`, stats page
/// `stats`) and, when jailed, its root `root/`: the configuration, the static
/// `clickos-vm` (bound read-only), `run/` and each port's socket directory bound at
/// `/ports/N`. Nothing else of the host, and nothing of another VM, is in a VM's root: a
/// memif link is reachable by the two VMs whose ports name its directory
/// (`makeLinkDirectory` gives each link one, with a group of its own). Unjailed, the
/// configuration is `config.click` beside the record. VMs run in their own session and
/// outlive the process that booted them.
public final class ProcessBackend: VMBackend {
    public var kind: String { "process" }
    public let root: String
    public let executable: String
    public let isolation: Isolation
    /// How long a boot may take before it is abandoned.
    public var bootTimeout: Double = 10
    /// Receives one line per notable event (isolation in force, adoption, exits).
    public var log: (String) -> Void
    /// How long the last boot's spawn took, clone to exec (namespaces, cgroups, the jail):
    /// for the boot benchmark.
    public private(set) var lastSpawnMicroseconds: Int64 = 0

    final class Running {
        var info: VMInfo
        let pidfd: Int32
        let stats: StatsPage?
        var control: ControlClient?
        var reported = false
        /// Process start time (from /proc), so a reused pid is never mistaken for it.
        let startTime: String

        init(info: VMInfo, pidfd: Int32, stats: StatsPage?, startTime: String) {
            self.info = info
            self.pidfd = pidfd
            self.stats = stats
            self.startTime = startTime
        }

        deinit { if pidfd >= 0 { close(pidfd) } }
    }
    private var running: [String: Running] = [:]
    /// User, group and link ids from the jail's range.
    private let identities: IdentityAllocator?
    /// The ids each VM holds, to give back when it goes.
    private var heldIDs: [String: UInt32] = [:]
    /// The next VM's network namespace, made while the previous VM initialized: creating
    /// one costs about 0.6 ms here, a fifth of a boot. Each VM still gets its own.
    private var spareNetworkNamespace: Int32 = -1

    public init(root: String, executable: String, isolation: Isolation = .detect(), log: @escaping (String) -> Void = { _ in }) {
        self.root = root
        self.executable = executable
        self.isolation = isolation
        self.log = log
        mkdir(root, 0o755)
        // Traversable, not listable: a host process that is not root cannot see which VMs
        // there are; each VM's directory is the backend's alone.
        mkdir(root + "/vms", 0o711)
        chmod(root + "/vms", 0o711)
        mkdir(root + "/links", 0o711)
        identities = isolation.jail.map { IdentityAllocator(range: $0.ids) }
        // Ids held by VMs and links left by an earlier backend stay theirs.
        for name in listDirectory(root + "/vms") {
            if let id = Self.recordFields(root + "/vms/" + name + "/vm.record")["uid"].flatMap({ UInt32($0) }) { identities?.markUsed(id) }
        }
        for name in listDirectory(root + "/links") {
            var st = stat()
            if stat(root + "/links/" + name, &st) == 0 { identities?.markUsed(st.st_gid) }
        }
        // The VMs' system call filter, compiled once: each VM loads it instead of building
        // its own (half a millisecond of every boot).
        if isolation.jail?.seccomp == true {
            // Two: a VM's, and the host switch's (packet sockets too).
            for (file, packet) in [("/seccomp.bpf", Int32(0)), ("/seccomp-switch.bpf", Int32(1))] {
                let path = root + file
                let fd = open(path + ".new", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o444)
                var error = [CChar](repeating: 0, count: 256)
                if fd >= 0, clickos_seccomp_export(fd, packet, &error, error.count) == 0, fsync(fd) == 0 {
                    rename(path + ".new", path)
                } else {
                    log("process backend: cannot compile the seccomp filter \(file) (\(String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))); VMs will compile their own")
                }
                if fd >= 0 { close(fd) }
            }
        }
        // One pidfd (and, while used, one control connection) per VM: a thousand VMs
        // need more descriptors than the usual soft limit of 1024.
        var limit = rlimit()
        if getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < limit.rlim_max {
            limit.rlim_cur = limit.rlim_max
            _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        }
        log("process backend: \(isolation.summary)")
    }

    deinit {
        if spareNetworkNamespace >= 0 { close(spareNetworkNamespace) }
        isolation.cgroups?.removeSpare()
        removeTree(spareJail)
    }

    /// Makes the next VM's network namespace now, if there is none waiting.
    private func prepareNetworkNamespace() {
        guard isolation.namespaces, spareNetworkNamespace < 0 else { return }
        spareNetworkNamespace = clickos_create_netns()
    }

    /// Makes what the next boot needs while this one's VM initializes.
    private func prepareNextBoot() {
        prepareNetworkNamespace()
        isolation.cgroups?.prepareSpare()
        prepareSpareJail()
    }

    /// The next jailed VM's directory, made ahead and renamed to the VM's name at boot:
    /// its run directory and its root with the mount points, the executable's placeholder
    /// and the compiled filter. `+` is not allowed in VM names.
    private var spareJail: String { root + "/vms/+spare" }

    private func prepareSpareJail() {
        guard let policy = isolation.jail else { return }
        let dir = spareJail
        if access(dir, F_OK) == 0 { return }
        let jailRoot = dir + "/root"
        guard mkdir(dir, 0o700) == 0, mkdir(dir + "/run", 0o700) == 0, mkdir(jailRoot, 0o755) == 0, mkdir(jailRoot + "/proc", 0o555) == 0,
            mkdir(jailRoot + "/run", 0o755) == 0, mkdir(jailRoot + "/ports", 0o755) == 0, writeText(jailRoot + "/clickos-vm", "", mode: 0o555)
        else {
            removeTree(dir)
            return
        }
        if policy.seccomp { _ = link(root + "/seccomp.bpf", jailRoot + "/seccomp.bpf") }
    }

    public func directory(of name: String) -> String { root + "/vms/" + name }

    public var vms: [VMInfo] {
        running.values.map(\.info).sorted { $0.name < $1.name }
    }

    public func info(_ name: String) -> VMInfo? {
        guard let r = running[name] else { return nil }
        refresh(r)
        return r.info
    }

    // MARK: Boot

    static func validName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 64 && name != "." && name != ".."
            && name.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 | 0x20 >= 97 && $0 | 0x20 <= 122) || $0 == 45 || $0 == 95 || $0 == 46 }
    }

    public func boot(_ spec: VMSpec) throws(VMError) -> VMInfo {
        try finishBoot(try startBoot(spec))
    }

    /// Boots several VMs, overlapping their initializations (each VM initializes on its
    /// own: its configuration, its filter, its ports) up to `inFlight` at once; returns
    /// each one's result in order. On a host with more than one core this is faster than
    /// booting them one after another.
    public func boot(_ specs: [VMSpec], inFlight: Int = 8) -> [Result<VMInfo, VMError>] {
        var results: [Result<VMInfo, VMError>?] = Array(repeating: nil, count: specs.count)
        var started: [(Int, StartedBoot)] = []
        func finishOldest() {
            let (k, boot) = started.removeFirst()
            do { results[k] = .success(try finishBoot(boot)) } catch { results[k] = .failure(error) }
        }
        for (k, spec) in specs.enumerated() {
            if started.count >= max(1, inFlight) { finishOldest() }
            do { started.append((k, try startBoot(spec))) } catch { results[k] = .failure(error) }
        }
        while !started.isEmpty { finishOldest() }
        return results.map { $0 ?? .failure(VMError("not booted")) }
    }

    /// A VM spawned and initializing: what finishing its boot needs.
    struct StartedBoot {
        let name: String
        let dir: String
        let pid: Int32
        let pidfd: Int32
        let readyFD: Int32
        let jailRecord: String
        var cleanup: BootCleanup
    }

    private func startBoot(_ spec: VMSpec) throws(VMError) -> StartedBoot {
        guard Self.validName(spec.name) else {
            throw VMError("VM name '\(spec.name)': use 1 to 64 letters, digits, '-', '_' or '.'")
        }
        if let r = running[spec.name], refresh(r), case .running = r.info.state {
            throw VMError("VM '\(spec.name)' already exists")
        }
        running[spec.name] = nil
        let dir = directory(of: spec.name)
        if access(dir, F_OK) == 0 {
            // Left by a VM that is gone (a crash, a reboot): clear it.
            removeTree(dir)
        }
        // A jailed VM's directory comes ready-made (prepared while the last VM booted).
        let fromSpare = isolation.jail != nil && rename(spareJail, dir) == 0
        guard fromSpare || mkdir(dir, 0o700) == 0 else { throw VMError("\(dir): \(String(cString: strerror(errno)))") }
        var cleanup = BootCleanup(dir: dir, name: spec.name, cgroups: isolation.cgroups, serverSockets: spec.ports.values.filter { $0.role == .server }.map(\.socketPath))
        defer {
            cleanup.run()
            if cleanup.armed, let id = heldIDs.removeValue(forKey: spec.name) { identities?.release(id) }
        }
        let jail = try prepareJail(spec, in: dir, fromSpare: fromSpare)
        let run = dir + "/run"

        var arguments = [jail?.executable ?? executable, "-f", jail.map { _ in "/config.click" } ?? dir + "/config.click",
                         "--stats", (jail == nil ? run : "/run") + "/stats", "--control", (jail == nil ? run : "/run") + "/control.sock",
                         "--ready-fd", "3", "--pool", String(spec.packetBuffers)]
        if let jail, jail.seccomp { arguments.append(jail.seccompProgram.map { "--seccomp=" + $0 } ?? "--seccomp") }
        for n in spec.ports.keys.sorted() {
            guard var c = spec.ports[n] else { continue }
            if let inside = jail?.portPaths[n] { c.socketPath = inside }
            arguments += ["--port", "\(n)=\(c.description)"]
        }
        for d in spec.definitions { arguments.append("\(d.name)=\(d.value)") }

        var procs: [String] = []
        if let cgroups = isolation.cgroups {
            procs = try cgroups.create(for: spec.name, memoryLimit: spec.memoryLimit, cpuLimit: spec.cpuLimit)
        }

        // Written by the VM through its descriptor only; read by the backend (0600, root).
        let stderrFD = open(dir + "/stderr.log", O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard stderrFD >= 0 else { throw VMError("\(dir)/stderr.log: \(String(cString: strerror(errno)))") }
        var pipeFDs: [Int32] = [-1, -1]
        guard pipe(&pipeFDs) == 0 else {
            close(stderrFD)
            throw VMError("pipe: \(String(cString: strerror(errno)))")
        }
        _ = fcntl(pipeFDs[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(pipeFDs[1], F_SETFD, FD_CLOEXEC)

        var mask: UInt64 = 0
        for cpu in spec.cpus ?? [] {
            guard cpu >= 0 && cpu < 64 else {
                close(stderrFD)
                close(pipeFDs[0])
                close(pipeFDs[1])
                throw VMError("VM '\(spec.name)': CPU \(cpu) is out of range (0-63)")
            }
            mask |= 1 << UInt64(cpu)
        }
        // The VM joins the namespace made ahead of time (or, when that failed, clones a
        // new one itself); the next VM's is made while this one initializes. The host
        // switch stays in the host's.
        if !spec.hostNetwork { prepareNetworkNamespace() }
        let networkNamespace = spec.hostNetwork ? -1 : spareNetworkNamespace
        if !spec.hostNetwork { spareNetworkNamespace = -1 }
        let tSpawn = Self.monotonicMicroseconds()
        let pid = spawn(arguments: arguments, stderrFD: stderrFD, readyFD: pipeFDs[1], cgroupProcs: procs, cpuMask: mask,
                        networkNamespace: spec.hostNetwork ? -1 : networkNamespace, hostNetwork: spec.hostNetwork, jail: jail)
        lastSpawnMicroseconds = Self.monotonicMicroseconds() - tSpawn
        let spawnErrno = errno
        if networkNamespace >= 0 { close(networkNamespace) }
        close(stderrFD)
        close(pipeFDs[1])
        defer { close(pipeFDs[0]) }
        guard pid > 0 else { throw VMError("cannot start \(executable): \(String(cString: strerror(spawnErrno)))") }
        let pidfd = clickos_pidfd_open(pid)
        prepareNextBoot()
        // From here the boot's cleanup belongs to finishBoot.
        let started = StartedBoot(name: spec.name, dir: dir, pid: pid, pidfd: pidfd, readyFD: dup(pipeFDs[0]),
                                  jailRecord: jail.map { "uid=\($0.uid)\ngroups=\($0.groups.map(String.init).joined(separator: ","))\n" } ?? "",
                                  cleanup: cleanup)
        cleanup.disarm()
        return started
    }

    /// Waits for a started VM to say it is ready (EOF: it died first) and records it.
    private func finishBoot(_ boot: StartedBoot) throws(VMError) -> VMInfo {
        var cleanup = boot.cleanup
        defer {
            close(boot.readyFD)
            cleanup.run()
            if cleanup.armed, let id = heldIDs.removeValue(forKey: boot.name) { identities?.release(id) }
        }
        let (pid, pidfd, dir) = (boot.pid, boot.pidfd, boot.dir)
        if !waitReady(boot.readyFD, timeout: bootTimeout) {
            if kill(pid, 0) == 0 { kill(pid, SIGKILL) }
            var status: Int32 = 0
            waitpid(pid, &status, 0)
            if pidfd >= 0 { close(pidfd) }
            let errors = Self.lastLines(of: dir + "/stderr.log", count: 50)
            let text = errors.isEmpty ? "VM '\(boot.name)' \(Self.describe(status)) before it was ready" : errors.joined(separator: "\n")
            throw VMError(text)
        }
        cleanup.disarm()
        let stats = try? StatsPage.open(path: dir + "/run/stats")
        let start = Self.processStartTime(pid) ?? ""
        let info = VMInfo(name: boot.name, pid: pid, state: .running, runDirectory: dir, bootedHere: true)
        writeText(dir + "/vm.record", "pid=\(pid)\nstart=\(start)\nname=\(boot.name)\n" + boot.jailRecord, mode: 0o600)
        running[boot.name] = Running(info: info, pidfd: pidfd, stats: stats, startTime: start)
        return info
    }

    private func spawn(arguments: [String], stderrFD: Int32, readyFD: Int32, cgroupProcs: [String], cpuMask: UInt64,
                       networkNamespace: Int32, hostNetwork: Bool, jail: PreparedJail?) -> Int32 {
        // C strings that live until clickos_spawn returns (the child execs before that).
        let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        let environment = ["PATH=/usr/bin:/bin", "LANG=C.UTF-8"]
        let envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup($0) } + [nil]
        let procs: [UnsafePointer<CChar>?] = cgroupProcs.map { UnsafePointer(strdup($0)) } + [nil]
        let path = strdup(jail?.executable ?? executable)
        let jailRoot = jail.map { strdup($0.root) } ?? nil
        let binds: [clickos_bind] = (jail?.binds ?? []).map {
            clickos_bind(source: UnsafePointer(strdup($0.source)), target: UnsafePointer(strdup($0.target)), read_only: $0.readOnly ? 1 : 0)
        }
        let groups: [UInt32] = jail?.groups ?? []
        defer {
            for p in argv { free(p) }
            for p in envp { free(p) }
            for p in procs { free(UnsafeMutablePointer(mutating: p)) }
            for b in binds {
                free(UnsafeMutablePointer(mutating: b.source))
                free(UnsafeMutablePointer(mutating: b.target))
            }
            free(path)
            free(jailRoot)
        }
        return argv.withUnsafeBufferPointer { a in
            envp.withUnsafeBufferPointer { e in
                procs.withUnsafeBufferPointer { c in
                    binds.withUnsafeBufferPointer { bound in
                        groups.withUnsafeBufferPointer { g in
                            var spec = clickos_spawn_spec()
                            spec.path = UnsafePointer(path)
                            spec.argv = a.baseAddress
                            spec.envp = e.baseAddress
                            spec.new_namespaces = isolation.namespaces ? 1 : 0
                            spec.netns_fd = networkNamespace
                            spec.host_network = hostNetwork ? 1 : 0
                            spec.stdout_fd = stderrFD
                            spec.stderr_fd = stderrFD
                            spec.keep_fd = readyFD
                            spec.cgroup_procs = c.baseAddress
                            spec.uid = jail.map { Int32(bitPattern: $0.uid) } ?? -1
                            spec.gid = jail.map { Int32(bitPattern: $0.uid) } ?? -1
                            spec.cpu_mask = cpuMask
                            if let jail, let policy = isolation.jail {
                                spec.jail_root = UnsafePointer(jailRoot)
                                spec.binds = bound.baseAddress
                                spec.bind_count = Int32(bound.count)
                                spec.groups = g.baseAddress
                                spec.group_count = Int32(jail.groups.count)
                                spec.harden = 1
                                spec.keep_net_raw = hostNetwork ? 1 : 0
                                spec.limit_nofile = policy.openFiles
                                spec.limit_nproc = policy.processes
                                spec.limit_memlock = policy.lockedMemory
                                spec.limit_fsize = policy.fileSize
                            }
                            return clickos_spawn(&spec)
                        }
                    }
                }
            }
        }
    }

    // MARK: The jail

    /// A VM's jail, made on the host before the spawn: the root to pivot into, what to
    /// bind there, its identity, and where the VM finds its ports inside.
    struct PreparedJail {
        let root: String
        let executable = "/clickos-vm"
        var binds: [(source: String, target: String, readOnly: Bool)] = []
        let uid: UInt32
        var groups: [UInt32] = []
        var portPaths: [Int: String] = [:]
        let seccomp: Bool
        /// The compiled filter inside the jail, when the backend has one.
        var seccompProgram: String?
    }

    /// Makes the VM's run directory (its user's), its configuration and, when jailed, its
    /// root and identity. Nil without a jail.
    private func prepareJail(_ spec: VMSpec, in dir: String, fromSpare: Bool) throws(VMError) -> PreparedJail? {
        let run = dir + "/run"
        func fail(_ what: String) -> VMError { VMError("\(what): \(String(cString: strerror(errno)))") }
        guard fromSpare || mkdir(run, 0o700) == 0 else { throw fail(run) }
        guard let policy = isolation.jail, let identities else {
            guard writeText(dir + "/config.click", spec.configuration) else { throw fail(dir + "/config.click") }
            return nil
        }
        guard let uid = identities.allocate() else {
            throw VMError("VM '\(spec.name)': no free user id in \(identities.range.lowerBound)-\(identities.range.upperBound)")
        }
        heldIDs[spec.name] = uid
        guard chown(run, uid, uid) == 0 else { throw fail(run) }
        let root = dir + "/root"
        var jail = PreparedJail(root: root, uid: uid, seccomp: policy.seccomp)
        // The root is the backend's and read-only inside; only its mount points and the
        // configuration are in it.
        if !fromSpare {
            guard mkdir(root, 0o755) == 0, mkdir(root + "/proc", 0o555) == 0, mkdir(root + "/run", 0o755) == 0,
                mkdir(root + "/ports", 0o755) == 0, writeText(root + "/clickos-vm", "", mode: 0o555)
            else { throw fail(root) }
            if policy.seccomp { _ = link(self.root + "/seccomp.bpf", root + "/seccomp.bpf") }
        }
        guard writeText(root + "/config.click", spec.configuration) else { throw fail(root) }
        if policy.seccomp && spec.hostNetwork {
            // The host switch's filter instead of a VM's.
            unlink(root + "/seccomp.bpf")
            _ = link(self.root + "/seccomp-switch.bpf", root + "/seccomp.bpf")
        }
        if policy.seccomp, access(root + "/seccomp.bpf", F_OK) == 0 { jail.seccompProgram = "/seccomp.bpf" }
        jail.binds.append((executable, root + "/clickos-vm", true))
        jail.binds.append((run, root + "/run", false))
        for n in spec.ports.keys.sorted() {
            guard let port = spec.ports[n] else { continue }
            let path = port.socketPath
            if path.hasPrefix("@") { continue }   // abstract: per network namespace, no file
            guard path.hasPrefix("/"), let slash = path.lastIndex(of: "/") else {
                throw VMError("VM '\(spec.name)' port \(n): a jailed VM needs an absolute socket path, not '\(path)'")
            }
            let directory = slash == path.startIndex ? "/" : String(path[..<slash])
            let inside = "/ports/\(n)"
            guard mkdir(root + inside, 0o755) == 0 else { throw fail(root + inside) }
            jail.binds.append((directory, root + inside, false))
            jail.portPaths[n] = inside + "/" + path[path.index(after: slash)...]
            // A link directory made by this backend lets its two VMs in by its group.
            var st = stat()
            if directory.hasPrefix(self.root + "/links/"), stat(directory, &st) == 0, identities.isOurs(st.st_gid), !jail.groups.contains(st.st_gid) {
                jail.groups.append(st.st_gid)
            }
        }
        return jail
    }

    /// A directory for one memif link, `ROOT/links/NAME/`: root's, with a group of its
    /// own from the jail's range (mode 2770). Put the link's socket in it and name it in the
    /// ports of its two VMs: they join the group; no other VM sees the directory or may
    /// enter it. Without a jail, a directory any VM may use (0777).
    public func makeLinkDirectory(_ name: String) throws(VMError) -> String {
        guard Self.validName(name) else { throw VMError("link name '\(name)': use 1 to 64 letters, digits, '-', '_' or '.'") }
        let path = root + "/links/" + name
        var st = stat()
        if stat(path, &st) == 0 { return path }
        guard mkdir(path, 0o700) == 0 else { throw VMError("\(path): \(String(cString: strerror(errno)))") }
        if let identities {
            guard let gid = identities.allocate() else {
                rmdir(path)
                throw VMError("link '\(name)': no free group id in \(identities.range.lowerBound)-\(identities.range.upperBound)")
            }
            _ = chown(path, 0, gid)
            _ = chmod(path, 0o2770)
        } else {
            _ = chmod(path, 0o777)
        }
        return path
    }

    /// The links whose directories exist (made by this backend or an earlier one).
    public var linkDirectories: [String] { listDirectory(root + "/links") }

    /// Removes a link's directory (and its socket) and gives its group back.
    public func removeLinkDirectory(_ name: String) {
        let path = root + "/links/" + name
        var st = stat()
        if stat(path, &st) == 0 { identities?.release(st.st_gid) }
        removeTree(path)
    }

    /// What confines VM `name` now: read from its process, with what this host could not
    /// apply.
    public func isolationReport(_ name: String) -> VMIsolationReport? {
        guard let r = running[name], case .running = r.info.state else { return nil }
        var report = VMIsolationReport()
        report.readProcess(r.info.pid)
        report.ownRoot = access(directory(of: name) + "/root", F_OK) == 0
        report.namespaces = isolation.namespaces
        report.cgroups = isolation.cgroups?.exists(for: name) ?? false
        if let jail = isolation.jail {
            report.limits = ["nofile=\(jail.openFiles)", "nproc=\(jail.processes)", "memlock=\(jail.lockedMemory)", "fsize=\(jail.fileSize)", "core=0"]
        }
        report.missing = isolation.missing
        return report
    }

    /// True once "ready" arrives; false on EOF or timeout.
    private func waitReady(_ fd: Int32, timeout: Double) -> Bool {
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        var remaining = Int32(timeout * 1000)
        while remaining > 0 {
            let start = Self.monotonicMilliseconds()
            let n = poll(&p, 1, remaining)
            if n < 0 && errno == EINTR {
                remaining -= Int32(Self.monotonicMilliseconds() - start)
                continue
            }
            guard n > 0 else { return false }
            var buffer = [UInt8](repeating: 0, count: 64)
            let r = Glibc.read(fd, &buffer, buffer.count)
            return r > 0 && buffer.starts(with: Array("ready".utf8))
        }
        return false
    }

    /// Undoes a half-done boot unless disarmed: the run directory, cgroups, and any
    /// server socket the VM could not remove itself.
    struct BootCleanup {
        let dir: String
        let name: String
        let cgroups: CgroupLayout?
        let serverSockets: [String]
        var armed = true
        mutating func disarm() { armed = false }
        func run() {
            guard armed else { return }
            removeTree(dir)
            cgroups?.remove(for: name)
            for path in serverSockets where !path.hasPrefix("@") { unlink(path) }
        }
    }

    // MARK: Stop and supervision

    public func stop(_ name: String, timeout: Double = 5) throws(VMError) {
        guard let r = running[name] else { throw VMError("no VM '\(name)'") }
        if case .running = r.info.state {
            kill(r.info.pid, SIGTERM)
            if !waitExit(r, timeout: timeout) {
                kill(r.info.pid, SIGKILL)
                _ = waitExit(r, timeout: 5)
            }
            refresh(r)
        }
        r.control?.close()
        running[name] = nil
        removeTree(r.info.runDirectory)
        isolation.cgroups?.remove(for: name)
        if let id = heldIDs.removeValue(forKey: name) { identities?.release(id) }
    }

    private func waitExit(_ r: Running, timeout: Double) -> Bool {
        if r.pidfd >= 0 {
            var p = pollfd(fd: r.pidfd, events: Int16(POLLIN), revents: 0)
            return poll(&p, 1, Int32(timeout * 1000)) > 0
        }
        let deadline = Self.monotonicMilliseconds() + Int64(timeout * 1000)
        while Self.monotonicMilliseconds() < deadline {
            if kill(r.info.pid, 0) != 0 { return true }
            usleep(2000)
        }
        return false
    }

    /// Updates a VM's state from its process; true if it is known (always).
    @discardableResult
    private func refresh(_ r: Running) -> Bool {
        guard case .running = r.info.state else { return true }
        var ended = false
        var status: Int32 = 0
        if r.info.bootedHere {
            ended = waitpid(r.info.pid, &status, WNOHANG) == r.info.pid
        } else if r.pidfd >= 0 {
            var p = pollfd(fd: r.pidfd, events: Int16(POLLIN), revents: 0)
            ended = poll(&p, 1, 0) > 0
        } else {
            ended = kill(r.info.pid, 0) != 0 || Self.processStartTime(r.info.pid) != r.startTime
        }
        guard ended else { return true }
        var exit = VMExit(status: nil, signal: nil, lastErrors: Self.lastLines(of: r.info.runDirectory + "/stderr.log", count: 10))
        if r.info.bootedHere {
            if status & 0x7F == 0 { exit.status = (status >> 8) & 0xFF } else { exit.signal = status & 0x7F }
        }
        r.info.state = .exited(exit)
        return true
    }

    public func reap() -> [(name: String, exit: VMExit)] {
        var ended: [(String, VMExit)] = []
        for (name, r) in running.sorted(by: { $0.key < $1.key }) {
            refresh(r)
            if case .exited(let e) = r.info.state, !r.reported {
                r.reported = true
                log("VM \(name) \(e)")
                ended.append((name, e))
            }
        }
        return ended
    }

    // MARK: Control

    private func control(_ name: String) throws(VMError) -> ControlClient {
        guard let r = running[name] else { throw VMError("no VM '\(name)'") }
        refresh(r)
        guard case .running = r.info.state else { throw VMError("VM '\(name)' is not running") }
        if let c = r.control { return c }
        do {
            let c = try ControlClient(path: r.info.runDirectory + "/run/control.sock")
            r.control = c
            return c
        } catch {
            throw VMError("VM '\(name)': \(error)")
        }
    }

    /// Runs one control call, reconnecting once if the connection went stale.
    private func withControl<T>(_ name: String, _ body: (ControlClient) throws(ControlClient.Failure) -> T) throws(VMError) -> T {
        for attempt in 0..<2 {
            let c = try control(name)
            do {
                return try body(c)
            } catch {
                if error.code == 0 && attempt == 0 {
                    running[name]?.control = nil
                    continue
                }
                throw VMError(error.code == 0 ? "VM '\(name)': \(error.message)" : error.description)
            }
        }
        throw VMError("VM '\(name)': control connection failed")
    }

    public func read(_ name: String, handler: String) throws(VMError) -> String {
        try withControl(name) { (c) throws(ControlClient.Failure) in try c.read(handler) }
    }

    public func write(_ name: String, handler: String, value: String) throws(VMError) {
        try withControl(name) { (c) throws(ControlClient.Failure) in try c.write(handler, value) }
    }

    public func reconfigure(_ name: String, configuration: String) throws(VMError) {
        try write(name, handler: "hotconfig", value: configuration)
        if let dir = running[name]?.info.runDirectory {
            writeText(access(dir + "/root", F_OK) == 0 ? dir + "/root/config.click" : dir + "/config.click", configuration)
        }
    }

    public func counters(_ name: String) -> [PortCounterSnapshot] {
        guard let stats = running[name]?.stats else { return [] }
        return (0..<stats.portCount).map { k in
            let c = stats.counters(port: k)
            return PortCounterSnapshot(port: k, receivedPackets: c[.receivedPackets], receivedBytes: c[.receivedBytes],
                                       receiveDrops: c[.receiveDrops], sentPackets: c[.sentPackets], sentBytes: c[.sentBytes],
                                       sendDrops: c[.sendDrops], linkUp: c[.linkUp] != 0)
        }
    }

    /// Descriptors that become readable when a running VM exits (its pidfd): poll them
    /// and call `reap` when one is, instead of asking after every VM on a timer.
    public var exitDescriptors: [Int32] {
        running.values.compactMap { r in
            if case .running = r.info.state, r.pidfd >= 0 { return r.pidfd }
            return nil
        }
    }

    /// The stats page of a VM (for rates and readiness details).
    public func statsPage(_ name: String) -> StatsPage? { running[name]?.stats }

    // MARK: Adoption

    public func adopt() -> [VMInfo] {
        var found: [VMInfo] = []
        for name in listDirectory(root + "/vms") where running[name] == nil {
            let dir = directory(of: name)
            let fields = Self.recordFields(dir + "/vm.record")
            guard let pidText = fields["pid"], let pid = Int32(pidText), let start = fields["start"] else { continue }
            if let uid = fields["uid"].flatMap({ UInt32($0) }) {
                identities?.markUsed(uid)
                heldIDs[name] = uid
            }
            let alive = kill(pid, 0) == 0 && Self.processStartTime(pid) == start
            let stats = alive ? try? StatsPage.open(path: dir + "/run/stats") : nil
            var info = VMInfo(name: name, pid: pid, state: .running, runDirectory: dir, bootedHere: false)
            if !alive {
                info.state = .exited(VMExit(status: nil, signal: nil, lastErrors: Self.lastLines(of: dir + "/stderr.log", count: 10)))
            }
            let r = Running(info: info, pidfd: alive ? clickos_pidfd_open(pid) : -1, stats: stats, startTime: start)
            running[name] = r
            found.append(info)
            log(alive ? "adopted VM \(name) (pid \(pid))" : "found VM \(name) dead (pid \(pid)); its last errors are kept")
        }
        return found
    }

    // MARK: Helpers

    /// The `key=value` lines of a VM's record.
    static func recordFields(_ path: String) -> [String: String] {
        var fields: [String: String] = [:]
        for line in (readText(path) ?? "").split(separator: "\n") {
            let kv = line.split(separator: "=", maxSplits: 1)
            if kv.count == 2 { fields[String(kv[0])] = String(kv[1]) }
        }
        return fields
    }

    static func lastLines(of path: String, count: Int) -> [String] {
        guard let text = readText(path) else { return [] }
        return text.split(separator: "\n", omittingEmptySubsequences: true).suffix(count).map(String.init)
    }

    static func describe(_ status: Int32) -> String {
        status & 0x7F == 0 ? "exited with status \((status >> 8) & 0xFF)" : "was killed by signal \(status & 0x7F)"
    }

    /// Field 22 of /proc/PID/stat: the process start time in clock ticks since boot.
    static func processStartTime(_ pid: Int32) -> String? {
        guard let text = readText("/proc/\(pid)/stat"), let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        // fields[0] is the state (field 3), so field 22 is fields[19].
        return fields.count > 19 ? String(fields[19]) : nil
    }

    static func monotonicMicroseconds() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1_000_000 + Int64(ts.tv_nsec) / 1000
    }

    static func monotonicMilliseconds() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }
}

#if canImport(Glibc)
import Glibc
#endif
import ClickRuntime
import PacketIO
import VMInterface
import Testing

@testable import VMHost

/// The jail: what a subverted VM can reach. The attacker is `jail-probe`, booted by the
/// process backend exactly as a VM is (same spawn, same jail, same seccomp filter), trying
/// what a process inside a VM would. Needs root (CI is root); says so and skips without.
@Suite("VM jail", .serialized, .timeLimit(.minutes(3)))
struct JailTests {
    static let probeExecutable: String = {
        let dir = vmExecutable[..<(vmExecutable.lastIndex(of: "/") ?? vmExecutable.endIndex)]
        return dir + "/jail-probe"
    }()

    /// A backend over the same root as `vms`, booting the probe.
    func probes(_ dir: String) -> ProcessBackend {
        let b = ProcessBackend(root: dir + "/run", executable: Self.probeExecutable)
        b.bootTimeout = 20
        return b
    }

    /// Boots a probe with `lines`, waits for it to end (or 5 s), and returns its standard
    /// error's lines and how it ended.
    func attack(_ b: ProcessBackend, _ name: String, _ lines: [String]) throws -> (lines: [String], exit: VMExit?) {
        _ = try b.boot(VMSpec(name: name, configuration: lines.joined(separator: "\n")))
        var ended: [(name: String, exit: VMExit)] = []
        for _ in 0..<500 where ended.isEmpty {
            usleep(10_000)
            ended = b.reap()
        }
        let log = readText(b.directory(of: name) + "/stderr.log") ?? ""
        try? b.stop(name, timeout: 1)
        return (log.split(separator: "\n").map(String.init), ended.first?.exit)
    }

    func jailed(_ b: ProcessBackend) -> Bool {
        guard b.isolation.jail != nil else {
            print("skipped: the jail needs root and namespaces (\(b.isolation.summary))")
            return false
        }
        return true
    }

    @Test func anAttackerInAVMSeesNothingButItsOwnAndIsStoppedAtItsFirstForbiddenCall() throws {
        let dir = scratchDirectory("jail")
        let vms = backend(dir)
        guard jailed(vms) else { return }
        defer {
            try? vms.stop("victim")
            removeTree(dir)
        }
        let victim = try vms.boot(VMSpec(name: "victim", configuration: "Idle -> c :: Counter -> Discard;"))
        let victimControl = vms.directory(of: "victim") + "/run/control.sock"
        #expect(access(victimControl, F_OK) == 0, "the victim's control socket exists on the host")
        let (lines, exit) = try attack(probes(dir), "attacker", [
            "list /", "list /run", "list \(dir)", "list \(dir)/run/vms", "list /proc/1/root/etc",
            "read /etc/passwd", "read /root/.bashrc", "read \(repositoryRoot)/Package.swift", "read /proc/\(getpid())/status",
            "connect \(victimControl)", "connect /run/control.sock",
            "write /config.click", "write /evil", "write /run/mine",
            "forbidden socket-inet",
        ])
        func result(_ what: String) -> String? {
            lines.first { $0.hasPrefix("probe: \(what): ") }.map { String($0.dropFirst("probe: \(what): ".count)) }
        }
        // Its root holds its configuration, the executable, its run directory and /proc.
        #expect(result("list /") == "clickos-vm config.click ports proc run seccomp.bpf", "\(lines)")
        #expect(result("list /run") == "")
        // Nothing of the host: not the backend's tree, not another VM, not host files.
        for path in [dir, "\(dir)/run/vms", "/proc/1/root/etc"] {
            #expect(result("list \(path)")?.hasPrefix("error") == true, "\(path): \(result("list \(path)") ?? "?")")
        }
        for path in ["/etc/passwd", "/root/.bashrc", "\(repositoryRoot)/Package.swift", "/proc/\(getpid())/status"] {
            #expect(result("read \(path)")?.hasPrefix("error") == true, "\(path): \(result("read \(path)") ?? "?")")
        }
        #expect(result("connect \(victimControl)") == "error No such file or directory", "another VM's control socket is not there")
        // Its root is read-only; its run directory is its own.
        #expect(["error Permission denied", "error Read-only file system"].contains(result("write /config.click") ?? ""))
        #expect(result("write /evil") == "error Read-only file system")
        #expect(result("write /run/mine") == "ok")
        // Its user is not the victim's, and comes from the jail's range.
        let uid = lines.first { $0.hasPrefix("probe: uid ") }?.split(separator: " ").dropFirst(2).first.flatMap { UInt32($0) }
        let victimStatus = readText("/proc/\(victim.pid)/status") ?? ""
        #expect(uid.map { JailPolicy.defaultIDs.contains($0) } == true)
        #expect(!victimStatus.contains("Uid:\t\(uid ?? 0)\t"), "a user no other VM has")
        // An inet socket is a forbidden call: the VM stops and says which.
        #expect(exit?.status == 159, "\(String(describing: exit))")
        #expect(lines.last == "clickos-vm: seccomp: forbidden system call socket (41)", "\(lines.suffix(3))")
        #expect(!lines.contains { $0.hasPrefix("probe: socket-inet:") }, "the call never returned")
        // The victim runs on, untouched.
        #expect(try vms.read("victim", handler: "c.count") == "0")
    }

    @Test(arguments: [("execve", "execve (59)"), ("ptrace", "ptrace (101)"), ("mount", "mount (165)"), ("setuid", "setuid (105)"),
                      ("fork", "fork (57)"), ("unshare", "unshare (272)"), ("socket-packet", "socket (41)")])
    func everyForbiddenCallStopsTheVMAndIsNamed(_ call: String, _ named: String) throws {
        let dir = scratchDirectory("forbidden")
        let b = probes(dir)
        guard jailed(b) else { return }
        defer { removeTree(dir) }
        let (lines, exit) = try attack(b, "p-\(call)", ["forbidden \(call)"])
        #expect(exit?.status == 159, "\(String(describing: exit)) \(lines)")
        #expect(lines.last == "clickos-vm: seccomp: forbidden system call \(named)", "\(lines)")
    }

    @Test func aRunningVMHasNoPrivilegesAndAUserOfItsOwn() throws {
        let dir = scratchDirectory("privileges")
        let b = backend(dir)
        guard jailed(b) else { return }
        defer {
            for name in ["one", "two"] { try? b.stop(name) }
            removeTree(dir)
        }
        let one = try b.boot(VMSpec(name: "one", configuration: "Idle -> Discard;"))
        let two = try b.boot(VMSpec(name: "two", configuration: "Idle -> Discard;"))
        var uids: [String] = []
        for vm in [one, two] {
            let status = readText("/proc/\(vm.pid)/status") ?? ""
            func field(_ name: String) -> String {
                status.split(separator: "\n").first { $0.hasPrefix(name + ":") }.map { $0.dropFirst(name.count + 1).trimmingCharacters(in: " \t") } ?? "?"
            }
            #expect(field("NoNewPrivs") == "1")
            #expect(field("Seccomp") == "2")
            for caps in ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"] { #expect(field(caps) == "0000000000000000", "\(caps)") }
            uids.append(field("Uid"))
            // Its descriptors: standard input, output and error, its control socket, and
            // nothing it inherited.
            let fds = listDirectory("/proc/\(vm.pid)/fd").compactMap { Int($0) }.sorted()
            #expect(fds.count <= 6, "\(fds)")
            let limits = readText("/proc/\(vm.pid)/limits") ?? ""
            #expect(limits.contains("Max open files            4096"), "\(limits)")
            #expect(limits.contains("Max core file size        0"))
            let report = try #require(b.isolationReport(vm.name))
            #expect(report.seccompFiltered && report.noNewPrivileges && report.capabilitiesNone && report.ownRoot)
        }
        #expect(Set(uids).count == 2, "each VM a user of its own: \(uids)")
        // A backend that adopts them (an agent restarted) knows their users: the next VM
        // it boots gets another.
        let adopter = backend(dir)
        #expect(Set(adopter.adopt().map(\.name)) == ["one", "two"])
        let three = try adopter.boot(VMSpec(name: "three", configuration: "Idle -> Discard;"))
        let threeUid = (readText("/proc/\(three.pid)/status") ?? "").split(separator: "\n").first { $0.hasPrefix("Uid:") }
            .map { $0.dropFirst(4).trimmingCharacters(in: " \t") } ?? "?"
        #expect(!uids.contains(threeUid), "\(threeUid) vs \(uids)")
        try adopter.stop("three")
        // The backend's tree is closed to other host users: a process running as nobody
        // can neither list the VMs nor reach a control socket.
        let asNobody = "setpriv --reuid=65534 --regid=65534 --clear-groups"
        #expect(system("\(asNobody) ls \(dir)/run/vms > /dev/null 2>&1") != 0)
        #expect(system("\(asNobody) cat \(b.directory(of: "one"))/stderr.log > /dev/null 2>&1") != 0)
        let reach = "import socket; s = socket.socket(socket.AF_UNIX); s.connect('\(b.directory(of: "one"))/run/control.sock')"
        #expect(system("\(asNobody) python3 -c \"\(reach)\" > /dev/null 2>&1") != 0)
        #expect(system("python3 -c \"\(reach)\"") == 0, "root (the backend) still can")
    }

    @Test func aLinkIsReachableByItsTwoVMsOnly() throws {
        let dir = scratchDirectory("link")
        let b = backend(dir)
        guard jailed(b) else { return }
        defer {
            for name in ["sink", "source"] { try? b.stop(name) }
            b.removeLinkDirectory("s2s")
            b.removeLinkDirectory("other")
            removeTree(dir)
        }
        let link = try b.makeLinkDirectory("s2s")
        var st = stat()
        #expect(stat(link, &st) == 0 && st.st_mode & 0o7777 == 0o2770 && JailPolicy.defaultIDs.contains(st.st_gid))
        var sink = VMSpec(name: "sink", configuration: "FromDevice(0) -> c :: Counter -> Discard;")
        sink.ports = [0: MemifConfiguration(role: .server, socketPath: link + "/memif.sock")]
        var source = VMSpec(name: "source", configuration: "RatedSource(LENGTH 64, RATE 2000) -> ToDevice(0);")
        source.ports = [0: MemifConfiguration(role: .client, socketPath: link + "/memif.sock")]
        let sinkVM = try b.boot(sink)
        let sourceVM = try b.boot(source)
        var count = 0
        for _ in 0..<300 where count < 200 {
            usleep(10_000)
            count = Int(try b.read("sink", handler: "c.count")) ?? 0
        }
        #expect(count >= 200, "traffic crosses the link: \(count)")
        for vm in [sinkVM, sourceVM] {
            #expect(readText("/proc/\(vm.pid)/status")?.contains("Groups:\t\(st.st_gid)") == true, "\(vm.name) is in the link's group")
        }
        // A third VM, with a link of its own, cannot see or reach this one.
        let other = try b.makeLinkDirectory("other")
        let attacker = probes(dir)
        var spec = VMSpec(name: "third", configuration: ["list \(link)", "connect \(link)/memif.sock", "list /ports/0", "list \(dir)/run/links"].joined(separator: "\n"))
        spec.ports = [0: MemifConfiguration(role: .server, socketPath: other + "/memif.sock")]
        _ = try attacker.boot(spec)
        usleep(300_000)
        let lines = (readText(attacker.directory(of: "third") + "/stderr.log") ?? "").split(separator: "\n").map(String.init)
        try? attacker.stop("third", timeout: 1)
        #expect(lines.contains("probe: list \(link): error No such file or directory"), "\(lines)")
        #expect(lines.contains("probe: connect \(link)/memif.sock: error No such file or directory"), "\(lines)")
        #expect(lines.contains("probe: list /ports/0: "), "its own link directory, empty: \(lines)")
        #expect(lines.contains("probe: list \(dir)/run/links: error No such file or directory"), "\(lines)")
    }
}

/// The host switch's exception to the jail: the host's network, CAP_NET_RAW alone, packet
/// sockets allowed by its filter; everything else as any VM.
@Suite("host switch jail", .serialized, .timeLimit(.minutes(2)))
struct HostNetworkJailTests {
    @Test func aHostNetworkVMReachesTheHostsInterfacesWithCAP_NET_RAWAlone() throws {
        let dir = scratchDirectory("hostnet")
        let b = backend(dir)
        guard b.isolation.jail != nil else {
            print("skipped: the jail needs root and namespaces (\(b.isolation.summary))")
            return
        }
        let a = "cos\(getpid() % 10000)a", z = "cos\(getpid() % 10000)z"
        #expect(system("ip link add \(a) type veth peer name \(z) && ip link set \(a) up && ip link set \(z) up") == 0)
        defer {
            try? b.stop("switch")
            _ = system("ip link del \(a) 2>/dev/null")
            removeTree(dir)
        }
        var spec = VMSpec(name: "switch", configuration: """
            FromDevice(\(z)) -> c :: Counter -> Discard;
            RatedSource(\\<ffffffffffff 020000000001 88b5 0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000>, RATE 200) -> ToDevice(\(a));
            """)
        spec.hostNetwork = true
        let vm = try b.boot(spec)
        var count = 0
        for _ in 0..<300 where count < 20 {
            usleep(10_000)
            count = Int(try b.read("switch", handler: "c.count")) ?? 0
        }
        #expect(count >= 20, "frames sent on \(a) arrive on \(z): \(count)")
        let status = readText("/proc/\(vm.pid)/status") ?? ""
        #expect(status.contains("CapEff:\t0000000000002000"), "CAP_NET_RAW alone: \(status)")
        #expect(status.contains("CapBnd:\t0000000000002000"))
        #expect(status.contains("NoNewPrivs:\t1") && status.contains("Seccomp:\t2"))
        #expect(status.contains("Uid:\t2000"))
        let link: (String) -> [CChar] = { path in
            var buffer = [CChar](repeating: 0, count: 256)
            let n = readlink(path, &buffer, 255)
            return Array(buffer.prefix(max(0, n)))
        }
        #expect(link("/proc/self/ns/net") == link("/proc/\(vm.pid)/ns/net"), "the host's network namespace")
        #expect(link("/proc/self/ns/mnt") != link("/proc/\(vm.pid)/ns/mnt"), "its own root all the same")
    }
}

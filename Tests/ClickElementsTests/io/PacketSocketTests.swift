import Foundation
import Testing

/// FromDevice/ToDevice on real Linux interfaces: a veth pair between two network
/// namespaces, one clickos-vm sending through AF_PACKET, another receiving from its ring.
/// Needs root and iproute2 (CI runs as root; elsewhere the test is skipped and says why).
@Suite struct PacketSocketTests {
    static var canRun: Bool { canMakeNamespaces }

    /// With busy polling (BUSY_POLL 2 s here), FromDevice keeps looking after the frames
    /// came, spending CPU time while nothing arrives; without (BUSY_POLL 0) it sleeps.
    /// Either way every frame arrives.
    @Test(.enabled(if: PacketSocketTests.canRun, "needs root and iproute2 to create network namespaces and a veth pair"),
          arguments: [false, true])
    func framesCrossAVethPair(busyPolling: Bool) throws {
        let tag = "\(getpid() % 10000)\(busyPolling ? "p" : "s")"
        let (a, b) = ("cos-a\(tag)", "cos-b\(tag)")
        let (va, vb) = ("cva\(tag)", "cvb\(tag)")
        defer {
            _ = try? runCommand(["ip", "netns", "del", a])
            _ = try? runCommand(["ip", "netns", "del", b])
        }
        for cmd in [["ip", "netns", "add", a], ["ip", "netns", "add", b], ["ip", "link", "add", va, "type", "veth", "peer", "name", vb],
                    ["ip", "link", "set", va, "netns", a], ["ip", "link", "set", vb, "netns", b],
                    ["ip", "-n", a, "link", "set", va, "up"], ["ip", "-n", b, "link", "set", vb, "up"]] {
            let (status, output) = try runCommand(cmd)
            try #require(status == 0, "\(cmd.joined(separator: " ")): \(output)")
        }
        let frame = [0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 8, 0, 0x45, 0, 0, 46, 0, 1, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]
            + [Int](repeating: 0, count: 26)
        let hex = frame.map { String(format: "%02x", $0) }.joined()
        let receiver = Process()
        receiver.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        receiver.arguments = ["ip", "netns", "exec", b, clickosVMBinary, "-e",
                              "FromDevice(\(vb), BUSY_POLL \(busyPolling ? 2 : 0)) -> cl :: Classifier(6/020000000001, -); "
                                + "cl [0] -> c :: Counter -> Discard; cl [1] -> Discard; Script(wait 3, stop)",
                              "-h", "c.count"]
        let out = Pipe()
        let errors = Pipe()
        receiver.standardOutput = out
        receiver.standardError = errors
        try receiver.run()
        usleep(700_000)
        let (status, sent) = try runCommand(["ip", "netns", "exec", a, clickosVMBinary, "-e",
                                     "InfiniteSource(DATA \\<\(hex)>, LIMIT 200, STOP true) -> Queue -> t :: ToDevice(\(va))", "-h", "t.count"])
        #expect(status == 0)
        #expect(sent.trimmingCharacters(in: .whitespacesAndNewlines) == "200")
        // `ip netns exec` became clickos-vm: its CPU time over the next second, when no
        // frame comes.
        let before = Self.cpuTicks(receiver.processIdentifier)
        usleep(1_000_000)
        let spent = Self.cpuTicks(receiver.processIdentifier) - before
        let hz = Int(sysconf(Int32(_SC_CLK_TCK)))
        if busyPolling {
            #expect(spent >= hz / 2, "busy polling looks for frames without sleeping: \(spent) of \(hz) ticks")
        } else {
            #expect(spent < hz / 5, "without busy polling the router sleeps: \(spent) of \(hz) ticks")
        }
        receiver.waitUntilExit()
        let received = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let problems = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(received.trimmingCharacters(in: .whitespacesAndNewlines) == "200", "receiver said: \(problems)")
    }

    /// User plus system CPU time of process `pid` so far, in clock ticks (/proc/PID/stat).
    static func cpuTicks(_ pid: Int32) -> Int {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let end = stat.lastIndex(of: ")")
        else { return 0 }
        // After "pid (comm)": state is field 3; utime and stime are fields 14 and 15.
        let fields = stat[stat.index(after: end)...].split(separator: " ")
        guard fields.count > 12, let user = Int(fields[11]), let system = Int(fields[12]) else { return 0 }
        return user + system
    }

    @Test func badBusyPollTimesAreReported() throws {
        let (status, text) = try clickosVMErrors("FromDevice(lo, BUSY_POLL -1) -> Discard")
        #expect(status == 1)
        #expect(text.contains("BUSY_POLL"), "\(text)")
    }

    @Test func unknownInterfacesAreReported() throws {
        let (status, text) = try clickosVMErrors("FromDevice(nosuchdev0) -> Discard")
        #expect(status == 1)
        #expect(text.contains("While initializing 'FromDevice@1 :: FromDevice':"))
        #expect(text.contains("nosuchdev0"))
    }

    /// `--interfaces A,B`: VM port N is the Nth interface listed (a guest's vifs): a port
    /// past the list is refused with the list, and memif ports cannot be mixed in.
    @Test func vmPortsCanBeNamedInterfaces() throws {
        let (status, text) = try runCommand([clickosVMBinary, "--interfaces", "lo", "-q", "-e", "FromDevice(1) -> Discard"])
        #expect(status == 1)
        #expect(text.contains("VM port 1 does not exist (this VM's ports are its 1 network interfaces: lo)"), "\(text)")
        let (mixed, why) = try runCommand([clickosVMBinary, "--interfaces", "lo", "--port", "0=memif:server:/tmp/x.sock", "-e", "Idle -> Discard"])
        #expect(mixed == 1)
        #expect(why.contains("--interfaces and --port N=memif:... cannot be mixed"), "\(why)")
        let (bad, badText) = try runCommand([clickosVMBinary, "--interfaces", "a/b", "-e", "Idle -> Discard"])
        #expect(bad == 1)
        #expect(badText.contains("--interfaces: 'a/b' is not a list of interface names"), "\(badText)")
    }

    @Test(.enabled(if: PacketSocketTests.canRun, "needs root to open packet sockets"))
    func aVMPortThatIsAnInterfaceSendsThere() throws {
        let (status, sent) = try runCommand([clickosVMBinary, "--interfaces", "lo", "-e",
                                             "InfiniteSource(LENGTH 60, LIMIT 5, STOP true) -> Queue -> t :: ToDevice(0); FromDevice(0) -> Discard",
                                             "-h", "t.count"])
        #expect(status == 0, "\(sent)")
        #expect(sent.trimmingCharacters(in: .whitespacesAndNewlines) == "5")
    }
}

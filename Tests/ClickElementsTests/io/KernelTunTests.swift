import Foundation
import Testing

/// KernelTun and KernelTap on real Linux TUN/TAP devices, each in a network namespace of its
/// own: the router's way to the host stack. Needs root, /dev/net/tun and iproute2 (CI runs as
/// root; elsewhere the tests are skipped and say why).
@Suite struct KernelTunTests {
    static var canRun: Bool { canMakeNamespaces && FileManager.default.fileExists(atPath: "/dev/net/tun") }


    /// Click's conf/test-tun.click in small: the router pings the host stack at the tunnel's
    /// address, and the host's replies come out of the tunnel as IP packets.
    @Test(.enabled(if: KernelTunTests.canRun, "needs root, /dev/net/tun and iproute2 to make a TUN device in a network namespace"))
    func hostStackAnswersPingsThroughTheTunnel() throws {
        let ns = "cos-tun\(getpid() % 10000)"
        defer { _ = try? runCommand(["ip", "netns", "del", ns]) }
        try #require(try runCommand(["ip", "netns", "add", ns]).0 == 0)
        let config = """
            ICMPPingSource(10.77.0.2, 10.77.0.1, INTERVAL 0.1, LIMIT 5) -> Queue -> tun :: KernelTun(10.77.0.1/24);
            tun -> CheckIPHeader -> IPClassifier(icmp type echo-reply) -> c :: Counter -> Discard;
            tun[1] -> Discard;
            Script(wait 1.2, stop)
            """
        let (status, out) = try runCommand(["ip", "netns", "exec", ns, clickosVMBinary, "-e", config, "-h", "c.count", "-h", "tun.dev_name"])
        #expect(status == 0, "\(out)")
        #expect(out.contains("c.count:\n5\n"), "\(out)")
        #expect(out.contains("tun.dev_name:\ntun0\n"), "\(out)")
    }

    /// A KernelTap gives the host an Ethernet device: the host pings an address behind it,
    /// and the router answers both the ARP request and the pings.
    @Test(.enabled(if: KernelTunTests.canRun, "needs root, /dev/net/tun and iproute2 to make a TAP device in a network namespace"))
    func routerAnswersTheHostThroughATap() throws {
        let ns = "cos-tap\(getpid() % 10000)"
        defer { _ = try? runCommand(["ip", "netns", "del", ns]) }
        try #require(try runCommand(["ip", "netns", "add", ns]).0 == 0)
        let config = """
            tap :: KernelTap(10.78.0.1/24);
            tap -> c :: Classifier(12/0806 20/0001, 12/0800, -);
            c[0] -> arps :: Counter -> ARPResponder(10.78.0.2 02:00:00:00:00:02) -> q :: Queue -> tap;
            c[1] -> Strip(14) -> CheckIPHeader -> IPClassifier(icmp type echo) -> pings :: Counter
                -> ICMPPingResponder -> Unstrip(14) -> EtherMirror -> q;
            c[2] -> Discard;
            Script(wait 2.5, stop)
            """
        let router = Process()
        router.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        router.arguments = ["ip", "netns", "exec", ns, clickosVMBinary, "-e", config, "-h", "arps.count", "-h", "pings.count"]
        let out = Pipe()
        router.standardOutput = out
        router.standardError = out
        try router.run()
        usleep(800_000)
        let (pingStatus, pinged) = try runCommand(["ip", "netns", "exec", ns, "ping", "-c", "3", "-i", "0.2", "-W", "1", "10.78.0.2"])
        router.waitUntilExit()
        let printed = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(pingStatus == 0, "\(pinged)")
        #expect(pinged.contains("3 received"), "\(pinged)")
        #expect(printed.contains("arps.count:\n1\n"), "\(printed)")
        #expect(printed.contains("pings.count:\n3\n"), "\(printed)")
    }

    /// Bad arguments are refused before any device is made, with Click's words.
    @Test func badArgumentsAreRefused() throws {
        for (config, message) in [("KernelTun(10.77.0.1/24, GATEWAY foo) -> Discard", "GATEWAY: parse error"),
                                  ("KernelTun(10.77.0.1/24, BURST 0) -> Discard", "BURST must be >= 1"),
                                  ("KernelTun(frob) -> Discard", "ADDR: parse error")] {
            let (status, text) = try clickosVMErrors(config)
            #expect(status == 1)
            #expect(text.contains(message), "\(config): \(text)")
        }
    }
}

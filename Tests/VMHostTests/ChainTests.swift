#if canImport(Glibc)
import Glibc
#endif
import ClickRuntime
import PacketIO
import VMInterface
import Testing

@testable import VMHost

/// Chains of VM processes wired port to port by memif, with the test's own memif ports at
/// both ends.
@Suite("VM chains", .serialized, .timeLimit(.minutes(3)))
struct ChainTests {
    /// client side (edge 0) -> firewall -> NAT -> load balancer -> server side (edge 1).
    @Test func firewallNATAndLoadBalancerCarryTrafficBothWays() throws {
        let dir = scratchDirectory("chain")
        let b = backend(dir)
        let edges = Edges()
        _ = try edges.add(0, MemifConfiguration(role: .server, socketPath: dir + "/edge0.sock"))
        _ = try edges.add(1, MemifConfiguration(role: .server, socketPath: dir + "/edge1.sock"))
        func link(_ name: String) -> (MemifConfiguration, MemifConfiguration) {
            (MemifConfiguration(role: .server, socketPath: dir + "/\(name).sock"), MemifConfiguration(role: .client, socketPath: dir + "/\(name).sock"))
        }
        let (fwOut, natIn) = link("fw-nat")
        let (natOut, lbIn) = link("nat-lb")
        var fw = VMSpec(name: "fw", configuration: functionConfiguration("firewall.click"))
        fw.ports = [0: MemifConfiguration(role: .client, socketPath: dir + "/edge0.sock"), 1: fwOut]
        var nat = VMSpec(name: "nat", configuration: functionConfiguration("nat.click"))
        nat.ports = [0: natIn, 1: natOut]
        var lb = VMSpec(name: "lb", configuration: functionConfiguration("lb.click"))
        lb.ports = [0: lbIn, 1: MemifConfiguration(role: .client, socketPath: dir + "/edge1.sock")]
        defer {
            for name in ["fw", "nat", "lb"] { try? b.stop(name) }
            removeTree(dir)
        }
        _ = try b.boot(fw)
        _ = try b.boot(nat)
        _ = try b.boot(lb)
        #expect(edges.waitConnected([0, 1]))
        // Every link is up: the VMs' own view.
        for name in ["fw", "nat", "lb"] {
            for _ in 0..<200 where !b.counters(name).allSatisfy({ $0.linkUp }) { usleep(5000) }
            let ports = b.counters(name)
            #expect(ports.count == 2 && ports.allSatisfy { $0.linkUp }, "\(name): \(ports)")
        }

        // 30 web flows from one client, and one flow the firewall must refuse (ssh).
        let flows = (0..<30).map { TestFrames.frame(src: "10.1.0.2", dst: "10.2.0.100", sport: UInt16(40_000 + $0), dport: 80, sequence: UInt32($0)) }
        let ssh = TestFrames.frame(src: "10.1.0.2", dst: "10.2.0.100", sport: 41_000, dport: 22, sequence: 999)
        edges.send(0, flows + [ssh])
        let forward = edges.receive(1, count: 30)
        #expect(forward.count == 30)
        #expect(edges.receive(1, count: 1, quiet: 0.3).isEmpty, "ssh was dropped by the firewall")
        var servers: [String: Int] = [:]
        var natPorts: [UInt32: UInt16] = [:]
        for f in forward {
            #expect(TestFrames.source(f) == "10.2.0.1", "the NAT's public address")
            #expect(TestFrames.destinationPort(f) == 80)
            servers[TestFrames.destination(f), default: 0] += 1
            natPorts[TestFrames.sequence(f)] = TestFrames.sourcePort(f)
        }
        #expect(servers == ["10.2.0.10": 10, "10.2.0.11": 10, "10.2.0.12": 10], "round robin over three servers")

        // The servers answer: replies travel back through the same three VMs.
        let replies = forward.map {
            TestFrames.frame(src: TestFrames.destination($0), dst: "10.2.0.1", sport: 80, dport: TestFrames.sourcePort($0),
                             sequence: TestFrames.sequence($0) + 1000)
        }
        edges.send(1, replies)
        let back = edges.receive(0, count: 30)
        #expect(back.count == 30)
        for f in back {
            let original = Int(TestFrames.sequence(f)) - 1000
            #expect(TestFrames.source(f) == "10.2.0.100" && TestFrames.sourcePort(f) == 80, "the VIP answers")
            #expect(TestFrames.destination(f) == "10.1.0.2" && TestFrames.destinationPort(f) == UInt16(40_000 + original))
        }
        // Counters: from the stats pages, and from the elements through the control socket.
        let fwPorts = b.counters("fw")
        #expect(fwPorts[0].receivedPackets == 31 && fwPorts[1].sentPackets == 30)
        #expect(fwPorts[1].receivedPackets == 30 && fwPorts[0].sentPackets == 30)
        #expect(try b.read("fw", handler: "forward/passed.count") == "30")
        #expect(try b.read("nat", handler: "nat.table_size") != "0")
    }

    /// `hotconfig` while packets flow: every packet arrives, in order, and the counter
    /// keeps counting across the swap.
    @Test func hotReconfigurationUnderTrafficLosesNoPacket() throws {
        let dir = scratchDirectory("hot")
        let b = backend(dir)
        let edges = Edges()
        _ = try edges.add(0, MemifConfiguration(role: .server, socketPath: dir + "/in.sock"))
        _ = try edges.add(1, MemifConfiguration(role: .server, socketPath: dir + "/out.sock"))
        let before = "FromDevice(0) -> c :: Counter -> q :: Queue(100000) -> ToDevice(1);"
        let after = "FromDevice(0) -> c :: Counter -> Paint(7) -> q :: Queue(100000) -> ToDevice(1);"
        var spec = VMSpec(name: "hot", configuration: before)
        spec.ports = [0: MemifConfiguration(role: .client, socketPath: dir + "/in.sock"),
                      1: MemifConfiguration(role: .client, socketPath: dir + "/out.sock")]
        spec.packetBuffers = 16_384
        _ = try b.boot(spec)
        defer {
            try? b.stop("hot")
            removeTree(dir)
        }
        #expect(edges.waitConnected([0, 1]))
        let total = 20_000
        let frames = (0..<total).map { TestFrames.frame(src: "10.0.0.1", dst: "10.0.0.2", sport: 1, dport: 2, proto: 17, sequence: UInt32($0)) }
        var received: [UInt32] = []
        // Send in slices, swapping the configuration three times along the way while
        // draining the far end.
        for (k, slice) in stride(from: 0, to: total, by: 2000).enumerated() {
            edges.send(0, Array(frames[slice..<min(slice + 2000, total)]))
            if k == 3 || k == 6 { try b.reconfigure("hot", configuration: k == 3 ? after : before) }
            if k == 8 { try b.reconfigure("hot", configuration: after) }
            received += edges.receive(1, count: 1000, quiet: 0.05).map(TestFrames.sequence)
        }
        received += edges.receive(1, count: total - received.count).map(TestFrames.sequence)
        #expect(received.count == total)
        let inOrder = received == (0..<UInt32(total)).map { $0 }
        #expect(inOrder, "every packet, in order (first gap at \(received.enumerated().first { $0.offset != Int($0.element) }?.offset ?? -1))")
        #expect(try b.read("hot", handler: "c.count") == String(total))
        #expect(b.statsPage("hot")?[.reconfigurations] == 3)
        // A bad configuration changes nothing.
        #expect(throws: VMError.self) { try b.reconfigure("hot", configuration: "FromDevice(0) -> Nope -> ToDevice(1);") }
        #expect(try b.read("hot", handler: "c.count") == String(total))
        #expect(try b.read("hot", handler: "config").contains("Paint(7)"))
    }
}

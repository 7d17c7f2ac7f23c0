import ClickElements
import ClickLanguage
import ClickTestSupport
import Testing
@testable import ClickRuntime

/// FlowHashSwitch, the planner's spreader for scaled functions: both directions of a flow
/// take the same output, flows spread over every output, fragments and ARP are handled.
@Suite struct FlowHashSwitchTests {
    static func frame(_ src: [UInt8], _ dst: [UInt8], sport: UInt16, dport: UInt16, proto: UInt8 = 17) -> [UInt8] {
        Frames.ether(dst: [2, 0, 0, 0, 0, 2], src: [2, 0, 0, 0, 0, 1], type: 0x0800,
                     Frames.ipv4(src: src, dst: dst, proto: proto, sport: sport, dport: dport))
    }

    @Test func bothDirectionsOfAFlowTakeTheSameOutput() throws {
        let b = build("inj :: Injector -> s :: FlowHashSwitch; s[0] -> c0 :: Collector; s[1] -> c1 :: Collector; s[2] -> c2 :: Collector;")
        let inj = try #require(b.element("inj", as: Injector.self), "\(b.log.text)")
        let outs = (0..<3).compactMap { b.element("c\($0)", as: Collector.self) }
        try #require(outs.count == 3)
        func output(of f: [UInt8]) throws -> Int {
            let before = outs.map(\.packets.count)
            inj.inject([f])
            let after = outs.map(\.packets.count)
            return try #require((0..<3).first { after[$0] > before[$0] })
        }
        var used = Set<Int>()
        for i in 0..<60 {
            let client: [UInt8] = [10, 1, 0, UInt8(i)], server: [UInt8] = [10, 2, 0, 10]
            let port = UInt16(40000 + i)
            let forward = try output(of: Self.frame(client, server, sport: port, dport: 80, proto: i % 2 == 0 ? 6 : 17))
            let reply = try output(of: Self.frame(server, client, sport: 80, dport: port, proto: i % 2 == 0 ? 6 : 17))
            #expect(forward == reply, "flow \(i)")
            used.insert(forward)
        }
        #expect(used == [0, 1, 2])
        // ARP and a too-short frame go to output 0.
        #expect(try output(of: Frames.arpRequest(senderEther: [2, 0, 0, 0, 0, 1], senderIP: [10, 1, 0, 1], targetIP: [10, 1, 0, 2])) == 0)
        #expect(try output(of: [1, 2, 3]) == 0)
        // A later fragment (no ports) of a flow goes where the addresses alone send it, both ways.
        var fragment = Self.frame([10, 1, 0, 7], [10, 2, 0, 10], sport: 1, dport: 2)
        fragment[14 + 7] = 10
        var back = Self.frame([10, 2, 0, 10], [10, 1, 0, 7], sport: 3, dport: 4)
        back[14 + 7] = 10
        #expect(try output(of: fragment) == (try output(of: back)))
        #expect(b.router?.pool.outstanding == 0)
    }
}

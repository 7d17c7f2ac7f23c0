import ClickElements
import ClickLanguage
import ClickTestSupport
import Testing
@testable import ClickRuntime

/// FlowJunction, the planner's junction around a scaled function: replies go back where
/// their flow came from even when the function rewrote the addresses, flows keep their
/// instance when instances are added (also across a hot reconfiguration), and bad
/// arguments are refused.
@Suite struct FlowJunctionTests {
    static func frame(_ src: [UInt8], _ dst: [UInt8], sport: UInt16, dport: UInt16, proto: UInt8 = 6) -> [UInt8] {
        Frames.ether(dst: [2, 0, 0, 0, 0, 2], src: [2, 0, 0, 0, 0, 1], type: 0x0800,
                     Frames.ipv4(src: src, dst: dst, proto: proto, sport: sport, dport: dport))
    }

    /// A junction with an injector on every input and a collector on every output.
    struct Rig {
        var built: Built
        var inputs: [Injector]
        var outputs: [Collector]

        init(left: Int, right: Int, arguments: String = "") throws {
            let n = left + right
            var text = "j :: FlowJunction(LEFT \(left), RIGHT \(right)\(arguments));\n"
            for k in 0..<n { text += "i\(k) :: Injector -> [\(k)]j; j[\(k)] -> c\(k) :: Collector;\n" }
            let b = build(text)
            built = b
            inputs = (0..<n).compactMap { b.element("i\($0)", as: Injector.self) }
            outputs = (0..<n).compactMap { b.element("c\($0)", as: Collector.self) }
            try #require(inputs.count == n && outputs.count == n, "\(b.log.text)")
        }

        /// The output a frame injected on `port` leaves by.
        func send(_ frame: [UInt8], on port: Int) throws -> Int {
            let before = outputs.map(\.packets.count)
            inputs[port].inject([frame])
            let after = outputs.map(\.packets.count)
            return try #require((0..<outputs.count).first { after[$0] > before[$0] }, "no output")
        }
    }

    @Test func repliesGoBackWhereTheirFlowCameFromThoughTheFunctionRewroteIt() throws {
        // Behind three load balancer instances: each sends its flows to the servers on the
        // right with its own rewritten addresses; the replies must reach the same instance.
        let rig = try Rig(left: 3, right: 1)
        for i in 0..<90 {
            let instance = i % 3
            let nat: [UInt8] = [10, 2, 0, 1], server: [UInt8] = [10, 2, 0, UInt8(10 + i % 2)]
            let port = UInt16(30000 + i)
            #expect(try rig.send(Self.frame(nat, server, sport: port, dport: 80), on: instance) == 3)
            #expect(try rig.send(Self.frame(server, nat, sport: 80, dport: port), on: 3) == instance, "flow \(i)")
        }
        // In front of three instances: new flows spread over all three, and each flow's
        // packets in both directions stay with its instance.
        let front = try Rig(left: 1, right: 3)
        var used = Set<Int>()
        for i in 0..<60 {
            let client: [UInt8] = [10, 1, 0, UInt8(i)], vip: [UInt8] = [10, 2, 0, 100]
            let port = UInt16(40000 + i)
            let out = try front.send(Self.frame(client, vip, sport: port, dport: 80, proto: i % 2 == 0 ? 6 : 17), on: 0)
            #expect((1...3).contains(out))
            #expect(try front.send(Self.frame(client, vip, sport: port, dport: 80, proto: i % 2 == 0 ? 6 : 17), on: 0) == out)
            #expect(try front.send(Self.frame(vip, client, sport: 80, dport: port, proto: i % 2 == 0 ? 6 : 17), on: out) == 0)
            used.insert(out)
        }
        #expect(used == [1, 2, 3])
        // ARP goes to the far side's first port.
        let arp = Frames.arpRequest(senderEther: [2, 0, 0, 0, 0, 1], senderIP: [10, 1, 0, 1], targetIP: [10, 1, 0, 2])
        #expect(try front.send(arp, on: 0) == 1)
        #expect(try front.send(arp, on: 2) == 0)
        #expect(try front.built.router?.read("j.flow_count") == "60")
        #expect(front.built.router?.pool.outstanding == 0)
    }

    @Test func flowsKeepTheirInstanceWhenInstancesAreAdded() throws {
        let rig = try Rig(left: 1, right: 4, arguments: ", ACTIVE_RIGHT 1")
        let vip: [UInt8] = [10, 2, 0, 100]
        func flow(_ i: Int) -> [UInt8] { Self.frame([10, 1, 1, UInt8(i)], vip, sport: UInt16(20000 + i), dport: 80) }
        for i in 0..<40 { #expect(try rig.send(flow(i), on: 0) == 1) }
        // A second instance through the handler: old flows stay, new ones use both.
        try #require(rig.built.router).write("j.active_right", "2")
        for i in 0..<40 { #expect(try rig.send(flow(i), on: 0) == 1, "old flow \(i)") }
        var used = Set<Int>()
        for i in 40..<100 { used.insert(try rig.send(flow(i), on: 0)) }
        #expect(used == [1, 2])
        // A third through a hot reconfiguration, as the agent does it: the new junction takes
        // the flows along.
        let r = try #require(rig.built.router)
        var text = "j :: FlowJunction(LEFT 1, RIGHT 4, ACTIVE_RIGHT 3);\n"
        for k in 0..<5 { text += "i\(k) :: Injector -> [\(k)]j; j[\(k)] -> c\(k) :: Collector;\n" }
        let next = try r.hotswap(text)
        #expect(try next.read("j.flow_count") == "100")
        let injector = try #require(next.element(named: "i0") as? Injector)
        let collectors = (0..<5).compactMap { next.element(named: "c\($0)") as? Collector }
        func sendNext(_ f: [UInt8]) throws -> Int {
            let before = collectors.map(\.packets.count)
            injector.inject([f])
            return try #require((0..<5).first { collectors[$0].packets.count > before[$0] })
        }
        var third = Set<Int>()
        for i in 0..<40 { #expect(try sendNext(flow(i)) == 1, "old flow \(i) after the swap") }
        for i in 100..<160 { third.insert(try sendNext(flow(i))) }
        #expect(third == [1, 2, 3])
        // Going back to one instance moves the flows of the others to it.
        try next.write("j.active_right", "1")
        for i in 40..<100 { #expect(try sendNext(flow(i)) == 1) }
    }

    @Test func aFullTableForgetsTheLeastRecentlySeenFlow() throws {
        let rig = try Rig(left: 1, right: 2, arguments: ", CAPACITY 16")
        let vip: [UInt8] = [10, 2, 0, 100]
        for i in 0..<200 {
            _ = try rig.send(Self.frame([10, 1, 2, UInt8(i)], vip, sport: 5000, dport: 80), on: 0)
        }
        #expect(try rig.built.router?.read("j.flow_count") == "16")
        #expect(rig.built.router?.pool.outstanding == 0)
    }

    @Test func badArgumentsAreRefused() {
        for (arguments, message) in [
            ("LEFT 1, RIGHT 2, ACTIVE_RIGHT 3", "ACTIVE_RIGHT: must be 1 to RIGHT (2)"),
            ("LEFT 0, RIGHT 3", "LEFT: must be at least 1"),
            ("LEFT 2, RIGHT 2", "LEFT + RIGHT is 4, but the element has 3 inputs and 3 outputs"),
            ("RIGHT 2", "LEFT"),
        ] {
            let b = build("j :: FlowJunction(\(arguments)); Idle -> [0]j[0] -> Discard; Idle -> [1]j[1] -> Discard; Idle -> [2]j[2] -> Discard;")
            #expect(b.router == nil, "\(arguments)")
            #expect(b.log.text.contains(message), "\(arguments): \(b.log.text)")
        }
    }
}

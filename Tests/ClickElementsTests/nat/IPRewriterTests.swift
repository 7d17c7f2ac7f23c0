@testable import ClickElements
import ClickLanguage
import ClickTestSupport
import Testing
@testable import ClickRuntime

/// chains/functions/nat.click and lb.click end to end, and IPRewriter details.
@Suite struct IPRewriterTests {
    static let mac: [UInt8] = [0, 1, 2, 3, 4, 5]

    static func frame(src: [UInt8], dst: [UInt8], proto: UInt8, sport: UInt16, dport: UInt16, flags: UInt8 = 0x10, payload: Int = 10) -> [UInt8] {
        var ip = Frames.ipv4(src: src, dst: dst, proto: proto, payload: payload + (proto == 6 ? 12 : 0), sport: sport, dport: dport)
        if proto == 6 {
            // Turn the 8-byte UDP-style header into a 20-byte TCP header with a checksum.
            ip[20 + 12] = 0x50
            ip[20 + 13] = flags
            ip[20 + 4..<20 + 12].withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
        }
        fixTransportChecksum(&ip)
        return Frames.ether(dst: mac, src: mac, type: 0x0800, ip)
    }

    static func fixTransportChecksum(_ ip: inout [UInt8]) {
        let proto = ip[9]
        let offset = proto == 6 ? 16 : 6
        ip[20 + offset] = 0
        ip[20 + offset + 1] = 0
        let length = ip.count - 20
        var pseudo: [UInt8] = Array(ip[12..<20]) + [0, proto, UInt8(length >> 8), UInt8(length & 0xFF)]
        pseudo += ip[20...]
        let c = Frames.checksum(pseudo[...])
        ip[20 + offset] = UInt8(c >> 8)
        ip[20 + offset + 1] = UInt8(c & 0xFF)
    }

    static func transportChecksumValid(_ frame: [UInt8]) -> Bool {
        let ip = Array(frame[14...])
        let length = ip.count - 20
        let pseudo: [UInt8] = Array(ip[12..<20]) + [0, ip[9], UInt8(length >> 8), UInt8(length & 0xFF)] + ip[20...]
        return Frames.checksum(pseudo[...]) == 0
    }

    struct Flow: Equatable {
        var src: [UInt8], sport: UInt16, dst: [UInt8], dport: UInt16
    }

    static func flow(_ frame: [UInt8]) -> Flow {
        let ip = Array(frame[14...])
        return Flow(src: Array(ip[12..<16]), sport: UInt16(ip[20]) << 8 | UInt16(ip[21]), dst: Array(ip[16..<20]), dport: UInt16(ip[22]) << 8 | UInt16(ip[23]))
    }

    @Test(arguments: [UInt8(6), UInt8(17)]) func natTranslatesBothWays(_ proto: UInt8) throws {
        var nat = try ChainFunction("nat.click")
        let client: [UInt8] = [10, 1, 0, 5], server: [UInt8] = [93, 184, 216, 34]
        nat.send([Self.frame(src: client, dst: server, proto: proto, sport: 40000, dport: 80)], port: 0)
        let out = nat.take(port: 1)
        #expect(out.count == 1)
        let f = Self.flow(out[0])
        #expect(f.src == [10, 2, 0, 1])
        #expect(f.dst == server && f.dport == 80)
        #expect(Frames.isValidIPChecksum(out[0][14...]) && Self.transportChecksumValid(out[0]))
        // The reply finds its way back to the client.
        nat.send([Self.frame(src: server, dst: [10, 2, 0, 1], proto: proto, sport: 80, dport: f.sport)], port: 1)
        let back = nat.take(port: 0)
        #expect(back.count == 1)
        #expect(Self.flow(back[0]) == Flow(src: server, sport: 80, dst: client, dport: 40000))
        #expect(Frames.isValidIPChecksum(back[0][14...]) && Self.transportChecksumValid(back[0]))
        // Unsolicited traffic from outside is dropped.
        nat.send([Self.frame(src: server, dst: [10, 2, 0, 1], proto: proto, sport: 80, dport: 9)], port: 1)
        #expect(nat.take(port: 0).isEmpty)
        #expect(try nat.router.read("nat.table_size") == "1")
        #expect(nat.router.pool.outstanding == 0)
    }

    @Test func portExhaustionCountsFailures() throws {
        var nat = try ChainFunction("nat.click", definitions: ["PORTS": "5000-5001"])
        let server: [UInt8] = [8, 8, 8, 8]
        for i in 0..<4 {
            nat.send([Self.frame(src: [10, 1, 0, UInt8(i + 1)], dst: server, proto: 17, sport: 1234, dport: 53)], port: 0)
        }
        let out = nat.take(port: 1)
        #expect(out.count == 2)
        #expect(Set(out.map { Self.flow($0).sport }) == [5000, 5001])
        #expect(try nat.router.read("nat.mapping_failures") == "2")
        // A different destination may reuse the same external ports.
        nat.send([Self.frame(src: [10, 1, 0, 9], dst: [1, 1, 1, 1], proto: 17, sport: 1234, dport: 53)], port: 0)
        #expect(nat.take(port: 1).count == 1)
        // The exhausted destination stays refused (without a new scan) until a flow to it
        // goes away; then a new flow gets the freed port.
        nat.send([Self.frame(src: [10, 1, 0, 7], dst: server, proto: 17, sport: 1234, dport: 53)], port: 0)
        #expect(nat.take(port: 1).isEmpty)
        #expect(try nat.router.read("nat.mapping_failures") == "3")
        let rewriter = try #require(nat.router.element(named: "nat") as? IPRewriter)
        let first = rewriter.table.find(FlowID(saddr: 0x0A01_0001, sport: 1234, daddr: 0x0808_0808, dport: 53, proto: 17))
        #expect(first >= 0)
        rewriter.destroyFlow(first)
        nat.send([Self.frame(src: [10, 1, 0, 8], dst: server, proto: 17, sport: 1234, dport: 53)], port: 0)
        #expect(nat.take(port: 1).count == 1)
    }

    @Test func flowsExpireAfterTheirTimeout() throws {
        var nat = try ChainFunction("nat.click")
        nat.send([Self.frame(src: [10, 1, 0, 5], dst: [8, 8, 8, 8], proto: 17, sport: 1000, dport: 53)], port: 0)
        let f = Self.flow(nat.take(port: 1)[0])
        #expect(try nat.router.read("nat.size") == "1")
        let rewriter = try #require(nat.router.element(named: "nat") as? IPRewriter)
        rewriter.reap(now: nat.router.clock.now() + 59_000_000_000)
        #expect(try nat.router.read("nat.size") == "1")
        rewriter.reap(now: nat.router.clock.now() + 61_000_000_000)
        #expect(try nat.router.read("nat.size") == "0")
        nat.send([Self.frame(src: [8, 8, 8, 8], dst: [10, 2, 0, 1], proto: 17, sport: 53, dport: f.sport)], port: 1)
        #expect(nat.take(port: 0).isEmpty)
    }

    @Test func tcpFinShortensTheTimeout() throws {
        var nat = try ChainFunction("nat.click")
        let rewriter = try #require(nat.router.element(named: "nat") as? IPRewriter)
        nat.send([Self.frame(src: [10, 1, 0, 5], dst: [8, 8, 8, 8], proto: 6, sport: 1000, dport: 80, flags: 0x02)], port: 0)
        _ = nat.take(port: 1)
        rewriter.reap(now: nat.router.clock.now() + 60_000_000_000)
        #expect(try nat.router.read("nat.size") == "1")   // no-data timeout: 5 minutes
        nat.send([Self.frame(src: [10, 1, 0, 5], dst: [8, 8, 8, 8], proto: 6, sport: 1000, dport: 80, flags: 0x01)], port: 0)
        let f = Self.flow(nat.take(port: 1)[0])
        // One side closed: still the no-data timeout, as in Click.
        rewriter.reap(now: nat.router.clock.now() + 31_000_000_000)
        #expect(try nat.router.read("nat.size") == "1")
        nat.send([Self.frame(src: [8, 8, 8, 8], dst: [10, 2, 0, 1], proto: 6, sport: 80, dport: f.sport, flags: 0x01)], port: 1)
        #expect(nat.take(port: 0).count == 1)
        rewriter.reap(now: nat.router.clock.now() + 29_000_000_000)
        #expect(try nat.router.read("nat.size") == "1")
        rewriter.reap(now: nat.router.clock.now() + 31_000_000_000)
        #expect(try nat.router.read("nat.size") == "0")   // both closed: 30 s in nat.click
    }

    @Test func hotReconfigurationKeepsNATFlows() throws {
        var nat = try ChainFunction("nat.click")
        nat.send([Self.frame(src: [10, 1, 0, 5], dst: [8, 8, 8, 8], proto: 17, sport: 1000, dport: 53)], port: 0)
        let f = Self.flow(nat.take(port: 1)[0])
        let text = try String(contentsOf: ChainFunction.directory.appendingPathComponent("nat.click"), encoding: .utf8)
        let next = try nat.router.hotswap(ChainFunction.ports + text.replacingOccurrences(of: "UDP_TIMEOUT 60s", with: "UDP_TIMEOUT 90s"))
        #expect(try next.read("nat.table_size") == "1")
        // The reply still maps back through the new router.
        var swapped = ChainFunction(router: next, text: text)
        swapped.send([Self.frame(src: [8, 8, 8, 8], dst: [10, 2, 0, 1], proto: 17, sport: 53, dport: f.sport)], port: 1)
        let back = swapped.take(port: 0)
        #expect(back.count == 1)
        #expect(back.first.map { Self.flow($0).dst } == [10, 1, 0, 5])
    }

    @Test func loadBalancerSpreadsFlowsAndKeepsThem() throws {
        var lb = try ChainFunction("lb.click")
        let vip: [UInt8] = [10, 2, 0, 100]
        for i in 0..<6 {
            lb.send([Self.frame(src: [10, 1, 0, 7], dst: vip, proto: 6, sport: UInt16(2000 + i), dport: 80)], port: 0)
        }
        let out = lb.take(port: 1)
        #expect(out.map { Self.flow($0).dst } == [[10, 2, 0, 10], [10, 2, 0, 11], [10, 2, 0, 12], [10, 2, 0, 10], [10, 2, 0, 11], [10, 2, 0, 12]])
        // The same flow keeps its server.
        lb.send([Self.frame(src: [10, 1, 0, 7], dst: vip, proto: 6, sport: 2001, dport: 80)], port: 0)
        #expect(lb.take(port: 1).map { Self.flow($0).dst } == [[10, 2, 0, 11]])
        // Replies come from the virtual address.
        lb.send([Self.frame(src: [10, 2, 0, 11], dst: [10, 1, 0, 7], proto: 6, sport: 80, dport: 2001)], port: 1)
        let back = lb.take(port: 0)
        #expect(back.map { Self.flow($0).src } == [vip])
        #expect(back.allSatisfy(Self.transportChecksumValid))
        // Traffic not for the VIP passes.
        lb.send([Self.frame(src: [10, 1, 0, 7], dst: [10, 2, 0, 50], proto: 17, sport: 9, dport: 9)], port: 0)
        #expect(lb.take(port: 1).map { Self.flow($0).dst } == [[10, 2, 0, 50]])
    }

    @Test func inputSpecErrorsInClickWording() {
        let e = build("inj :: Injector -> rw :: IPRewriter(pattern 1.0.0.1 0 - - 0 1) -> Discard; rw [1] -> Discard").log.errorMessages
        #expect(e.contains("  input spec 0: bad source port"))
        let e2 = build("inj :: Injector -> rw :: IPRewriter(pattern 1.0.0.1.7 1024 - - 0 1) -> Discard; rw [1] -> Discard").log.errorMessages
        #expect(e2.contains("  input spec 0: bad source address"))
        #expect(build("Idle -> rw :: IPRewriter(drop, drop) -> Discard").log.errorMessages.contains("  need 1 arguments, one per input port"))
    }

}

/// IPRewriter looks a batch's flows up before rewriting it (to overlap cache misses): the
/// batch must come out exactly as without the lookahead, also when a flow is new twice in
/// one batch, replies re-enter the rewriter in the middle of the batch (IPMirror), and a
/// full table evicts flows mid-batch.
@Suite struct IPRewriterBatchTests {
    static func run(_ packets: [[UInt8]], lookAhead: Bool, element: String) throws -> (out: [[UInt8]], table: String) {
        // No guarantee: a full table evicts its least recently used flow for a new one.
        let guarantee = element == "IPRewriter" ? "TCP_GUARANTEE 0, UDP_GUARANTEE 0" : "GUARANTEE 0"
        let b = build("""
            inj :: Injector -> Strip(14) -> MarkIPHeader
                -> rw :: \(element)(pattern 10.2.0.1 1024-1030# - - 0 1, drop, MAPPING_CAPACITY 4, \(guarantee));
            rw[0] -> t :: Tee -> out :: Collector;
            t[1] -> IPMirror -> [1]rw;
            rw[1] -> replies :: Collector;
            """)
        let inj = try #require(b.element("inj", as: Injector.self), "\(b.log.text)")
        let rw = try #require(b.element("rw", as: IPRewriter.self))
        rw.lookAheadEnabled = lookAhead
        for start in stride(from: 0, to: packets.count, by: 50) { inj.inject(Array(packets[start..<min(start + 50, packets.count)])) }
        let out = try #require(b.element("out", as: Collector.self))
        let replies = try #require(b.element("replies", as: Collector.self))
        let tables = element == "IPRewriter" ? ["rw.tcp_table", "rw.udp_table"] : ["rw.table"]
        let table = tables.map { (try? b.router?.read($0)) ?? "" }.joined()
        return (out.packets + [[0xFF]] + replies.packets, table)
    }

    @Test(arguments: ["IPRewriter", "TCPRewriter", "UDPRewriter"])
    func aBatchComesOutAsWithoutLookahead(element: String) throws {
        // Seven flows in a scrambled, repeatable order, TCP and UDP mixed.
        var packets: [[UInt8]] = []
        for i in 0..<400 {
            let flow = UInt8(1 + (i * 37 + i * i / 3) % 7)
            let proto: UInt8 = (i * 13 + i / 5) % 3 == 0 ? 6 : 17
            packets.append(IPRewriterTests.frame(src: [10, 1, 0, flow], dst: [93, 0, 0, 1], proto: proto, sport: 5000 + UInt16(flow), dport: 80))
        }
        let ahead = try Self.run(packets, lookAhead: true, element: element)
        let plain = try Self.run(packets, lookAhead: false, element: element)
        #expect(ahead.out.count > 200, "packets and their replies came through: \(ahead.out.count)")
        let firstDifference = ahead.out.indices.first { $0 < plain.out.count && ahead.out[$0] != plain.out[$0] }
        #expect(ahead.out.count == plain.out.count && firstDifference == nil,
                "\(ahead.out.count) vs \(plain.out.count) packets, first difference at \(firstDifference ?? -1)")
        #expect(ahead.table == plain.table)
        #expect(!ahead.table.isEmpty)
    }
}

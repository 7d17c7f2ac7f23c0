import ClickElements
import ClickLanguage
import ClickTestSupport
import Testing
@testable import ClickRuntime

@Suite struct ARPQuerierTests {
    static let me: [UInt8] = [0, 0, 0xc0, 1, 2, 3]
    static let peer: [UInt8] = [0, 0, 0xc0, 9, 9, 9]

    func router() -> Built {
        build("""
            ip :: Injector -> CheckIPHeader -> q :: ARPQuerier(10.0.0.1, 00:00:c0:01:02:03);
            arp :: Injector -> [1] q;
            q [0] -> out :: Collector; q [1] -> queries :: Collector;
            """)
    }

    func reply(from ip: [UInt8], ether: [UInt8]) -> [UInt8] {
        Frames.ether(dst: Self.me, src: ether, type: 0x0806, [0, 1, 8, 0, 6, 4, 0, 2] + ether + ip + Self.me + [10, 0, 0, 1])
    }

    @Test func queriesHoldsAndReleases() throws {
        let b = router()
        let r = try #require(b.router, "\(b.log.text)")
        let packet = Frames.ipv4(src: [10, 0, 0, 1], dst: [10, 0, 0, 9])
        try #require(b.element("ip", as: Injector.self)).inject([packet, packet])
        let qs = b.element("queries", as: Collector.self)?.packets ?? []
        #expect(qs.count == 1)   // one query for two packets
        let q = try #require(qs.first)
        #expect(Array(q[0..<6]) == [0xff, 0xff, 0xff, 0xff, 0xff, 0xff])
        #expect(Array(q[38..<42]) == [10, 0, 0, 9] && q[21] == 1)
        #expect(b.element("out", as: Collector.self)?.packets.isEmpty == true)
        try #require(b.element("arp", as: Injector.self)).inject([reply(from: [10, 0, 0, 9], ether: Self.peer)])
        let out = b.element("out", as: Collector.self)?.packets ?? []
        #expect(out.count == 2)
        #expect(out.first.map { Array($0[0..<6]) } == Self.peer)
        #expect(out.first.map { Array($0[6..<12]) } == Self.me)
        #expect(out.first.map { Array($0[14...]) } == packet)
        // Now known: straight out.
        try #require(b.element("ip", as: Injector.self)).inject([packet])
        #expect(b.element("out", as: Collector.self)?.packets.count == 3)
        #expect(try r.read("q.queries") == "1" && r.read("q.responses") == "1")
        #expect(try r.read("q.table").hasPrefix("10.0.0.9 1 00-00-C0-09-09-09 0"))
    }

    @Test func specialDestinations() throws {
        let b = router()
        let r = try #require(b.router)
        let inj = try #require(b.element("ip", as: Injector.self))
        inj.inject([Frames.ipv4(src: [10, 0, 0, 1], dst: [255, 255, 255, 255]), Frames.ipv4(src: [10, 0, 0, 1], dst: [224, 1, 2, 3])])
        let out = b.element("out", as: Collector.self)?.packets ?? []
        #expect(out.map { Array($0[0..<6]) } == [[0xff, 0xff, 0xff, 0xff, 0xff, 0xff], [0x01, 0x00, 0x5e, 0x01, 0x02, 0x03]])
        try r.write("q.insert", "10.0.0.7 00:00:00:00:00:07")
        inj.inject([Frames.ipv4(src: [10, 0, 0, 1], dst: [10, 0, 0, 7])])
        #expect(b.element("out", as: Collector.self)?.packets.last.map { Array($0[0..<6]) } == [0, 0, 0, 0, 0, 7])
        try r.write("q.clear", "")
        #expect(r.pool.outstanding == 0)
    }

    @Test func queriersShareAnARPTable() throws {
        let b = build("""
            t :: ARPTable(TIMEOUT 60)
            ip1 :: Injector -> CheckIPHeader -> q1 :: ARPQuerier(10.0.0.1, 00:00:c0:01:02:03, TABLE t)
            ip2 :: Injector -> CheckIPHeader -> q2 :: ARPQuerier(10.0.0.1, 00:00:c0:01:02:03, TABLE t)
            arp :: Injector -> [1] q1; Idle -> [1] q2
            q1 [0] -> out1 :: Collector; q1 [1] -> Discard; q2 [0] -> out2 :: Collector; q2 [1] -> queries2 :: Collector
            """)
        let r = try #require(b.router, "\(b.log.text)")
        let packet = Frames.ipv4(src: [10, 0, 0, 1], dst: [10, 0, 0, 9])
        try #require(b.element("ip1", as: Injector.self)).inject([packet])
        try #require(b.element("arp", as: Injector.self)).inject([reply(from: [10, 0, 0, 9], ether: Self.peer)])
        #expect(b.element("out1", as: Collector.self)?.packets.count == 1)
        // q2 never saw the reply but finds the address in the shared table: no query.
        try #require(b.element("ip2", as: Injector.self)).inject([packet])
        #expect(b.element("out2", as: Collector.self)?.packets.first.map { Array($0[0..<6]) } == Self.peer)
        #expect(b.element("queries2", as: Collector.self)?.packets.isEmpty == true)
        #expect(try r.read("t.table").hasPrefix("10.0.0.9 1 00-00-C0-09-09-09 0"))
        #expect(try r.read("q2.table") == r.read("t.table"))
        // Deleting in the table is seen by both queriers.
        try r.write("t.delete", "10.0.0.9")
        try #require(b.element("ip2", as: Injector.self)).inject([packet])
        #expect(b.element("queries2", as: Collector.self)?.packets.count == 1)
        let bad = build("Idle -> q :: ARPQuerier(10.0.0.1, 00:00:c0:01:02:03, TABLE nope) -> Discard; Idle -> [1] q")
        #expect(bad.log.text.contains("TABLE: no element named 'nope'"), "\(bad.log.text)")
    }
}

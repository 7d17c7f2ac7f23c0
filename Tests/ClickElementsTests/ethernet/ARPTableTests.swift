import ClickElements
import ClickLanguage
import ClickTestSupport
import Testing
@testable import ClickRuntime

@Suite struct ARPTableTests {
    /// What one ARPQuerier learns through a shared ARPTable, the other uses: its packet goes
    /// straight out, no query.
    @Test func queriersSharingATableShareWhatTheyLearn() throws {
        let b = build("""
            t :: ARPTable;
            ipa :: Injector -> CheckIPHeader -> qa :: ARPQuerier(10.0.0.1, 00:00:c0:01:02:03, TABLE t);
            arpa :: Injector -> [1] qa; qa [0] -> outa :: Collector; qa [1] -> querya :: Collector;
            ipb :: Injector -> CheckIPHeader -> qb :: ARPQuerier(10.0.0.1, 00:00:c0:01:02:03, TABLE t);
            Idle -> [1] qb; qb [0] -> outb :: Collector; qb [1] -> queryb :: Collector;
            """)
        let r = try #require(b.router, "\(b.log.text)")
        let peer: [UInt8] = [0, 0, 0xc0, 9, 9, 9]
        let me: [UInt8] = [0, 0, 0xc0, 1, 2, 3]
        let reply = Frames.ether(dst: me, src: peer, type: 0x0806, [0, 1, 8, 0, 6, 4, 0, 2] + peer + [10, 0, 0, 9] + me + [10, 0, 0, 1])
        try #require(b.element("arpa", as: Injector.self)).inject([reply])
        #expect(try r.read("t.count") == "1")
        let packet = Frames.ipv4(src: [10, 0, 0, 1], dst: [10, 0, 0, 9])
        try #require(b.element("ipb", as: Injector.self)).inject([packet])
        #expect(b.element("queryb", as: Collector.self)?.packets == [])
        let out = try #require(b.element("outb", as: Collector.self)?.packets.first)
        #expect(Array(out[0..<6]) == peer && Array(out[14...]) == packet)
    }

    @Test func insertAndClearThroughHandlers() throws {
        let b = build("t :: ARPTable")
        let r = try #require(b.router, "\(b.log.text)")
        try r.write("t.insert", "10.0.0.1 00:01:02:03:04:05")
        try r.write("t.insert", "10.0.0.2 00:01:02:03:04:06")
        #expect(try r.read("t.count") == "2")
        #expect(try r.read("t.table").contains("10.0.0.1 1 00-01-02-03-04-05"))
        try r.write("t.clear", "")
        #expect(try r.read("t.count") == "0")
        #expect(throws: (any Error).self) { try r.write("t.insert", "10.0.0.1") }
    }
}

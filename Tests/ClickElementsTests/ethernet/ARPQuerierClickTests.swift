import ClickElements
import ClickLanguage
import ClickTestSupport
import Testing
@testable import ClickRuntime

/// ARPQuerier checked against Click 2.1 itself: the configurations are Click's own tests
/// (test/ethernet in kohler/click) and the expected lines are what Click printed.
@Suite struct ARPQuerierClickTests {
    /// ARPQuerier-05: ENTRY_CAPACITY 1 keeps one entry (the newest), CAPACITY 1 one
    /// waiting packet; queries at most ten a second per address; TIMEOUT 0.1 s.
    @Test func capacitiesPollsAndTimeout() throws {
        let s = try ScratchFiles(["dump": "!data timestamp ip_dst ip_tos\n0 1.0.0.1 1\n0.01 1.0.0.2 2\n0.015 1.0.0.3 3\n0.12 1.0.0.1 4\n0.221 1.0.0.1 5\n"])
        let b = build("""
            d :: FromIPSummaryDump(\(s.path("dump")), TIMING true, STOP true)
                -> arpq :: ARPQuerier(1.0.10.10, 2:1:0:a:a:f, TIMEOUT 0.1s, CAPACITY 1, ENTRY_CAPACITY 1)
                -> ARPPrint(arpo) -> Discard;
            Idle -> [1]arpq;
            DriverManager(pause, print arpq.count, print arpq.length, print arpq.table);
            """)
        let r = try #require(b.router, "\(b.log.text)")
        let box = ChatterBox()
        let printed = ChatterBox()
        r.chatter = { box.lines.append($0) }
        r.standardOutput = { printed.lines.append($0) }
        r.run()
        let arp = box.lines.filter { $0.hasPrefix("arpo:") }
        #expect(arp == [
            "arpo: 0.000000: arp who-has 1.0.0.1 tell 1.0.10.10", "arpo: 0.010000: arp who-has 1.0.0.2 tell 1.0.10.10",
            "arpo: 0.015000: arp who-has 1.0.0.3 tell 1.0.10.10", "arpo: 0.120000: arp who-has 1.0.0.1 tell 1.0.10.10",
            "arpo: 0.221000: arp who-has 1.0.0.1 tell 1.0.10.10",
        ])
        let out = printed.lines.joined()
        let lines = out.split(separator: "\n").map(String.init)
        #expect(lines.prefix(2) == ["1", "1"], "\(out)")
        #expect(lines.count == 3 && lines[2].hasPrefix("1.0.0.1 0 FF-FF-FF-FF-FF-FF 0.1"), "\(out)")
    }

    /// ARPQuerier-02: unanswered queries go out at most ten a second per address (the
    /// RatedSource at 1000/s for 1.5 s gives 10), then every two seconds.
    @Test func queriesAreRateLimited() throws {
        let (b, _) = buildAndRun("""
            RatedSource(RATE 1000, LIMIT 1500, STOP true) -> IPEncap(tcp, 1.0.0.1, 2.0.0.2)
                -> arpq :: ARPQuerier(1.0.0.3, 2:1:1:1:1:1) -> c :: Counter -> Discard;
            Idle -> [1]arpq;
            """)
        let r = try #require(b.router, "\(b.log.text)")
        #expect(try r.read("c.count") == "10")
        #expect(try r.read("arpq.length") == "1500")
        #expect(try r.read("arpq.stats") == "0 packets killed\n10 ARP queries sent\n")
    }
}

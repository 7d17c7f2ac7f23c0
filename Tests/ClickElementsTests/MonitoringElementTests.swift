import ClickElements
import ClickLanguage
import ClickTestSupport
import Foundation
import Testing
@testable import ClickRuntime

/// IPPrint, ARPPrint, SetIPECN, RED and ICMPPingSource on real packets.
@Suite struct MonitoringElementTests {
    func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    /// Runs IPSummaryDump `lines` (with `!data` header) through `element` and returns the chatter.
    func printed(_ data: String, through element: String) throws -> [String] {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("clickos-print-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try data.write(toFile: path, atomically: true, encoding: .utf8)
        let (b, chatter) = buildAndRun("FromIPSummaryDump(\(path), STOP true) -> \(element) -> Discard")
        _ = try #require(b.router, "\(b.log.text)")
        return chatter
    }

    @Test func ipPrintFormatsLikeTcpdump() throws {
        let out = try printed("""
            !data timestamp src sport dst dport proto tcp_seq tcp_ack tcp_flags len
            1.000020 1.0.0.1 10 1.0.0.2 20 T 0 0 A 1500
            2.5 1.0.0.1 10 1.0.0.2 20 T 100 0 S 40
            3 10.0.0.1 53 10.0.0.2 5353 U - - - 60

            """, through: "IPPrint(x)")
        #expect(out == [
            "x: 1.000020: 1.0.0.1.10 > 1.0.0.2.20: . 0:1460(1460,40,1500) ack 0 win 0",
            "x: 2.500000: 1.0.0.1.10 > 1.0.0.2.20: S 100:101(1,40,40) win 0",
            "x: 3.000000: 10.0.0.1.53 > 10.0.0.2.5353: udp 40",
        ])
    }

    @Test func ipPrintICMPFragmentsAndOptions() throws {
        let out = try printed("""
            !data src dst proto icmp_type icmp_flowid icmp_seq ip_id ip_ttl
            1.0.0.1 1.0.0.2 I 8 7 1 99 64
            1.0.0.2 1.0.0.1 I 0 7 1 100 63

            """, through: "IPPrint(TIMESTAMP false, ID true, TTL true)")
        #expect(out == [
            "id 99 ttl 64 1.0.0.1 > 1.0.0.2: icmp: echo request (7, 1)",
            "id 100 ttl 63 1.0.0.2 > 1.0.0.1: icmp: echo reply (7, 1)",
        ])
        let frag = try printed("!data src dst proto ip_id ip_fragoff len\n1.0.0.1 1.0.0.2 U 5 800+ 120\n", through: "IPPrint(TIMESTAMP false)")
        #expect(frag == ["1.0.0.1 > 1.0.0.2: udp (frag 5:100@800+)"])
        let (b, chatter) = buildAndRun("InfiniteSource(DATA \"abcd\", LIMIT 1, STOP true) -> IPPrint(TIMESTAMP false) -> Discard")
        #expect(b.router != nil)
        #expect(chatter == ["(Not an IP packet)"])
    }

    @Test func ipPrintContentsInHex() throws {
        let packet = Frames.ipv4(src: [1, 0, 0, 1], dst: [1, 0, 0, 2], payload: 4)
        let (_, chatter) = buildAndRun("InfiniteSource(DATA \\<\(hex(packet))>, LIMIT 1, STOP true) -> CheckIPHeader -> IPPrint(TIMESTAMP false, CONTENTS hex, MAXLENGTH 8) -> Discard")
        #expect(chatter == ["1.0.0.1.1234 > 1.0.0.2.80: udp 12\n  45000020 12340000"])
    }

    @Test func arpPrintRequestsAndReplies() throws {
        let request = Frames.arpRequest(senderEther: [0, 1, 2, 3, 4, 5], senderIP: [10, 0, 0, 1], targetIP: [10, 0, 0, 2])
        let (_, chatter) = buildAndRun("""
            InfiniteSource(DATA \\<\(hex(request))>, LIMIT 1, STOP true) -> ARPPrint(in, TIMESTAMP false)
            -> ARPResponder(10.0.0.2 0a:0b:0c:0d:0e:0f) -> ARPPrint(out, TIMESTAMP false, ETHER true) -> Discard
            InfiniteSource(DATA \\<0806>, LIMIT 1) -> ARPPrint(short, TIMESTAMP false) -> Discard
            """)
        #expect(chatter.contains("in: arp who-has 10.0.0.2 tell 10.0.0.1"))
        #expect(chatter.contains("out: 0A-0B-0C-0D-0E-0F > 00-01-02-03-04-05: arp reply 10.0.0.2 is-at 0A-0B-0C-0D-0E-0F"))
        #expect(chatter.contains("short: truncated-arp (2)"))
    }

    @Test func setIPECNMarksAndKeepsTheChecksum() throws {
        let packet = Frames.ipv4(src: [1, 0, 0, 1], dst: [1, 0, 0, 2])
        let (b, _) = buildAndRun("InfiniteSource(DATA \\<\(hex(packet))>, LIMIT 1, STOP true) -> CheckIPHeader -> e :: SetIPECN(ECT(0)) -> SetIPECN(ce) -> CheckIPHeader -> c :: Collector")
        let got = try #require(b.element("c", as: Collector.self)?.packets.first, "\(b.log.text)")
        #expect(got[1] & 3 == 3)
        #expect(Frames.isValidIPChecksum(got[...]))
        #expect(try b.router?.read("e.ecn") == "2")
        #expect(build("Idle -> SetIPECN(purple) -> Discard").log.text.contains("ECN: bad ECN value 'purple'"))
        #expect(build("Idle -> SetECN(ce) -> Discard").router != nil)
    }

    @Test func redDropsMoreAsTheQueueGrows() throws {
        let b = build("i :: Injector -> r :: RED(5, 20, 0.5) -> q :: Queue(1000) -> Discard(ACTIVE false)")
        let r = try #require(b.router, "\(b.log.text)")
        let inject = try #require(b.element("i", as: Injector.self))
        for _ in 0..<400 { inject.inject([[1]]) }
        let queued = Int(try r.read("q.length")) ?? -1
        let drops = Int(try r.read("r.drops")) ?? -1
        #expect(queued + drops == 400)
        // The queue grows past MIN_THRESH, then drops keep the average below MAX_THRESH plus
        // what the average lags behind.
        #expect(queued > 5 && queued < 60, "queued \(queued)")
        #expect(drops > 300)
        #expect(try r.read("r.queues") == "q")
        #expect(build("Idle -> RED(5, 2, 0.1) -> Queue -> Discard").log.text.contains("MAX_THRESH must be >= MIN_THRESH"))
        #expect(build("Idle -> RED(1, 2, 0.1) -> Discard").log.text.contains("no Queue downstream"))
    }

    @Test func icmpPingSourceMeasuresRoundTrips() throws {
        let (b, chatter) = buildAndRun("""
            ps :: ICMPPingSource(10.0.0.1, 10.0.0.2, INTERVAL 0.1, LIMIT 3, STOP true, IDENTIFIER 77)
            ps -> CheckIPHeader -> ICMPPingResponder -> ps
            """)
        let r = try #require(b.router, "\(b.log.text)")
        let replies = chatter.filter { $0.hasPrefix("ps :: ICMPPingSource: 10.0.0.2: icmp_seq=") }
        #expect(replies.count == 3, "\(chatter)")
        #expect(replies.first?.contains("icmp_seq=1 ttl=255 time=") == true)
        #expect(try r.read("ps.count") == "3")
        #expect(try r.read("ps.summary").contains("3 packets transmitted, 3 received, 0% packet loss"))
    }
}

/// IPRateMonitor in simulated time.
@Suite struct IPRateMonitorTests {
    @Test func zoomsInOnHeavyHittersAndFoldsBack() throws {
        func hex(_ b: [UInt8]) -> String { b.map { String(format: "%02x", $0) }.joined() }
        let heavy = hex(Frames.ipv4(src: [18, 26, 4, 44], dst: [10, 0, 0, 1]))
        let light = hex(Frames.ipv4(src: [10, 0, 0, 1], dst: [18, 26, 4, 44]))
        let b = build("""
            heavy :: RatedSource(\\<\(heavy)>, RATE 400) -> CheckIPHeader -> m :: IPRateMonitor(PACKETS, 1, 100) -> Discard
            RatedSource(\\<\(light)>, RATE 10) -> CheckIPHeader -> m
            Script(wait 3, read m.look, write heavy.active false, wait 5, read m.look, stop)
            """)
        let r = try #require(b.router, "\(b.log.text)")
        let box = ChatterBox()
        r.standardOutput = { box.lines.append($0) }
        r.run()
        #expect(box.lines.count == 2)
        let first = box.lines.first?.split(separator: "\n").map(String.init) ?? []
        func forward(_ lines: [String], _ range: String) -> Int? {
            guard let line = lines.first(where: { $0.trimmingCharacters(in: .whitespaces).hasPrefix(range + "\t") }) else { return nil }
            let fields = line.split(separator: "\t")
            return fields.count >= 3 ? Int(fields[fields.count - 2]) : nil
        }
        let heavyRate = try #require(forward(first, "18"), "\(first)")
        #expect(heavyRate > 300 && heavyRate < 450, "\(first)")
        let lightRate = try #require(forward(first, "10"), "\(first)")
        #expect(lightRate >= 3 && lightRate <= 20, "\(first)")
        #expect(first.contains { $0.hasPrefix("\t\t\t18.26.4.44\t") }, "\(first)")
        #expect(!first.contains { $0.contains("10.0\t") }, "the light source is not zoomed into: \(first)")
        // Five quiet seconds later the heavy range has been folded back.
        let second = box.lines.last?.split(separator: "\n").map(String.init) ?? []
        #expect(!second.contains { $0.contains("18.26") }, "\(second)")
        #expect((forward(second, "18") ?? 999) < 10, "\(second)")
        #expect(try r.read("m.what") == "PACKETS" && r.read("m.thresh") == "100")
    }
}

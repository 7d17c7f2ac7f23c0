import ClickElements
import ClickLanguage
import ClickTestSupport
import Testing
@testable import ClickRuntime

@Suite struct IPElementTests {
    func run(_ middle: String, _ packets: [[UInt8]]) throws -> (out: [[UInt8]], bad: [[UInt8]]) {
        let b = build("inj :: Injector -> \(middle) -> ok :: Collector")
        let inj = try #require(b.element("inj", as: Injector.self), "\(b.log.text)")
        inj.inject(packets)
        return (b.element("ok", as: Collector.self)?.packets ?? [], [])
    }

    @Test func udpipEncapMakesValidUDP() throws {
        let (out, _) = try run("UDPIPEncap(1.0.0.1, 1234, 2.0.0.2, dns) -> CheckIPHeader -> CheckUDPHeader", [Array("hello".utf8)])
        let p = try #require(out.first)
        #expect(p.count == 33)
        #expect(Array(p[12..<20]) == [1, 0, 0, 1, 2, 0, 0, 2])
        #expect(p[22] == 0 && p[23] == 53)
        #expect(Array(p[28...]) == Array("hello".utf8))
    }

    @Test func ipEncapAndStripping() throws {
        let (out, _) = try run("IPEncap(tcp, 10.0.0.1, 10.0.0.2, TTL 7) -> CheckIPHeader -> StripIPHeader -> UnstripIPHeader", [[1, 2, 3]])
        let p = try #require(out.first)
        #expect(p.count == 23 && p[8] == 7 && p[9] == 6)
        #expect(Frames.isValidIPChecksum(p[...]))
        let (stripped, _) = try run("IPEncap(17, 10.0.0.1, 10.0.0.2) -> CheckIPHeader -> StripIPHeader", [[9, 9]])
        #expect(stripped == [[9, 9]])
    }

    @Test func transportChecksums() throws {
        var tcp = Frames.ipv4(src: [1, 0, 0, 1], dst: [1, 0, 0, 2], proto: 6, payload: 20)
        tcp[32] = 0x50
        let (fixed, _) = try run("CheckIPHeader -> SetTCPChecksum -> c :: CheckTCPHeader", [tcp])
        #expect(fixed.count == 1)
        let b = build("inj :: Injector -> CheckIPHeader -> c :: CheckTCPHeader -> ok :: Collector; c [1] -> bad :: Collector")
        try #require(b.element("inj", as: Injector.self)).inject([tcp])
        #expect(b.element("bad", as: Collector.self)?.packets.count == 1)
        #expect(try b.router?.read("c.drops") == "1")
    }

    @Test func pingResponderAnswersEchoRequests() throws {
        var ping = Frames.ipv4(src: [1, 0, 0, 9], dst: [1, 0, 0, 1], proto: 1, payload: 8, sport: 0x0800, dport: 0)
        ping[26] = 0
        ping[27] = 0
        let c = Frames.checksum(ping[20...])
        ping[22] = UInt8(c >> 8)
        ping[23] = UInt8(c & 0xFF)
        let (out, _) = try run("CheckIPHeader -> ICMPPingResponder -> CheckICMPHeader", [ping])
        let r = try #require(out.first)
        #expect(r[20] == 0)
        #expect(Array(r[12..<16]) == [1, 0, 0, 1] && Array(r[16..<20]) == [1, 0, 0, 9])
        #expect(Frames.isValidIPChecksum(r[...]))
    }

    @Test func dscpKeepsTheChecksum() throws {
        let (out, _) = try run("CheckIPHeader -> SetIPDSCP(46) -> CheckIPHeader", [Frames.ipv4(src: [1, 0, 0, 1], dst: [1, 0, 0, 2])])
        #expect(out.first?[1] == 46 << 2)
    }

    @Test func truncateSampleAndAverage() throws {
        let (short, _) = try run("Truncate(2)", [[1, 2, 3, 4], [5]])
        #expect(short == [[1, 2], [5]])
        let (none, _) = try run("RandomSample(0)", [[1], [2], [3]])
        #expect(none.isEmpty)
        let (all, _) = try run("RandomSample(1)", [[1], [2], [3]])
        #expect(all.count == 3)
        let (b, _) = buildAndRun("InfiniteSource(DATA \"abcd\", LIMIT 10, STOP true) -> a :: AverageCounter -> Discard")
        #expect(try b.router?.read("a.count") == "10")
        #expect(try b.router?.read("a.byte_count") == "40")
    }
}

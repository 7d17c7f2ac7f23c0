import ClickElements
import ClickLanguage
import ClickTestSupport
import Testing
@testable import ClickRuntime

@Suite struct ICMPRewriterTests {
    @Test func icmpRewriterReturnsErrorsToTheInsideHost() throws {
        let b = build("""
            out :: Injector -> CheckIPHeader -> [0] rw :: UDPRewriter(pattern 1.0.0.1 1024-65535# - - 0 1)
            rw [0] -> o0 :: Collector; rw [1] -> Discard
            err :: Injector -> CheckIPHeader -> icmp :: ICMPRewriter(rw) -> CheckIPHeader -> CheckICMPHeader -> fixed :: Collector
            icmp [1] -> unmatched :: Collector
            """)
        _ = try #require(b.router, "\(b.log.text)")
        try #require(b.element("out", as: Injector.self)).inject([IPAddrRewriterTests.udp([192, 168, 1, 10], 3000, [8, 8, 8, 8], 53)])
        let sent = try #require(b.element("o0", as: Collector.self)?.packets.first)
        #expect(IPAddrRewriterTests.flow(sent) == IPAddrRewriterTests.Packet4(src: [1, 0, 0, 1], sport: 1024, dst: [8, 8, 8, 8], dport: 53))
        // A router on the way says port unreachable, quoting the translated packet.
        let err = try #require(b.element("err", as: Injector.self))
        err.inject([IPAddrRewriterTests.icmpError(from: [9, 9, 9, 9], to: [1, 0, 0, 1], quoting: sent),
                    IPAddrRewriterTests.icmpError(from: [9, 9, 9, 9], to: [1, 0, 0, 1], quoting: IPAddrRewriterTests.udp([1, 0, 0, 1], 5555, [8, 8, 8, 8], 53))])
        let fixed = try #require(b.element("fixed", as: Collector.self)).packets
        #expect(fixed.count == 1)
        let e = try #require(fixed.first)
        #expect(Array(e[16..<20]) == [192, 168, 1, 10])   // outer destination: the inside host
        let quoted = Array(e[28...])
        #expect(IPAddrRewriterTests.flow(quoted) == IPAddrRewriterTests.Packet4(src: [192, 168, 1, 10], sport: 3000, dst: [8, 8, 8, 8], dport: 53))
        #expect(Frames.isValidIPChecksum(quoted[...]))
        // The quoted UDP checksum still matches the original packet's.
        let original = IPAddrRewriterTests.udp([192, 168, 1, 10], 3000, [8, 8, 8, 8], 53)
        #expect(Array(quoted[26..<28]) == Array(original[26..<28]))
        // As in Click, an error about no flow is dropped, whatever the outputs.
        #expect(b.element("unmatched", as: Collector.self)?.packets.count == 0)
        // Click 2.1's words.
        #expect(build("Idle -> ICMPRewriter(nothere) -> Discard").log.text.contains("While configuring 'ICMPRewriter@2 :: ICMPRewriter':\n  nothere not an IP rewriter\n  no IP rewriters supplied"))
        #expect(build("rw :: IPRewriter(drop); Idle -> rw -> Discard; Idle -> ICMPRewriter(rw:1) -> Discard").log.text.contains("rw:1 port offset requires more than 1 output"))
    }
}

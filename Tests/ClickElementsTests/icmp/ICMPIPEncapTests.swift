import ClickElements
import ClickLanguage
import ClickTestSupport
import Testing
@testable import ClickRuntime

@Suite struct ICMPIPEncapTests {
    @Test func icmpIPEncapBuildsValidPings() throws {
        let (b, _) = buildAndRun("""
            InfiniteSource(DATA "hello", LIMIT 2, STOP true) -> ICMPIPEncap(10.0.0.1, 10.0.0.2, echo, IDENTIFIER 9)
            -> CheckIPHeader -> CheckICMPHeader -> c :: Collector
            """)
        let got = try #require(b.element("c", as: Collector.self)?.packets, "\(b.log.text)")
        #expect(got.count == 2)
        for (seq, p) in got.enumerated() {
            #expect(p.count == 28 + 5)
            #expect(Array(p[12..<20]) == [10, 0, 0, 1, 10, 0, 0, 2] && p[9] == 1 && p[8] == 255)
            #expect(p[20] == 8 && p[21] == 0)
            #expect(Array(p[24..<28]) == [0, 9, 0, UInt8(seq)])
            #expect(Array(p[28...]) == Array("hello".utf8))
            #expect(Frames.checksum(p[20...]) == 0)
        }
        #expect(build("Idle -> ICMPIPEncap(1.0.0.1, 1.0.0.2, bogus) -> Discard").log.text.contains("TYPE: unknown ICMP type 'bogus'"))
    }

}

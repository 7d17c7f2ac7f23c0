import ClickElements
import ClickLanguage
import ClickTestSupport
import Testing
@testable import ClickRuntime

@Suite struct SourceIPHashMapperTests {
    @Test func sourceHashMapperIsStablePerSource() throws {
        let b = build("""
            inj :: Injector -> CheckIPHeader -> rw :: IPRewriter(m, drop) -> col :: Collector; Idle -> [1] rw;
            m :: SourceIPHashMapper(50 7, - - 10.0.0.1 - 0 0 1, - - 10.0.0.2 - 0 0 2, - - 10.0.0.3 - 0 0 3);
            """)
        let inj = try #require(b.element("inj", as: Injector.self), "\(b.log.text)")
        for s in 0..<30 {
            for port in [UInt16(1), 2] {
                var ip = Frames.ipv4(src: [172, 16, 0, UInt8(s)], dst: [9, 9, 9, 9], proto: 17, sport: port, dport: 80)
                IPRewriterTests.fixTransportChecksum(&ip)
                inj.inject([ip])
            }
        }
        let got = b.element("col", as: Collector.self)?.packets ?? []
        #expect(got.count == 60)
        var used = Set<[UInt8]>()
        for k in stride(from: 0, to: got.count, by: 2) {
            #expect(Array(got[k][16..<20]) == Array(got[k + 1][16..<20]))   // same source, same server
            used.insert(Array(got[k][16..<20]))
        }
        #expect(used.count == 3)
    }
}

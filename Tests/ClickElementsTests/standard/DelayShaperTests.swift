import ClickElements
import ClickLanguage
import ClickTestSupport
import Foundation
import Testing
@testable import ClickRuntime

@Suite struct DelayShaperTests {
    @Test func delayShaperLetsPacketsThroughWhenDue() throws {
        let b = build("""
            s :: InfiniteSource(LIMIT 2, BURST 2) -> q :: Queue -> DelayShaper(1) -> Unqueue -> col :: Collector
            Script(wait 3, stop)
            """)
        let r = try #require(b.router, "\(b.log.text)")
        let start = r.clock.now()
        r.run()
        let col = try #require(b.element("col", as: Collector.self))
        #expect(col.packets.count == 2)
        #expect(col.arrivals.allSatisfy { $0 - start >= 1_000_000_000 && $0 - start < 1_100_000_000 }, "\(col.arrivals.map { $0 - start })")
    }
}

import ClickElements
import ClickLanguage
import ClickTestSupport
import Foundation
import Testing
@testable import ClickRuntime

@Suite struct DelayUnqueueTests {
    @Test func delayUnqueueHoldsEachPacketForTheDelay() throws {
        let b = build("""
            InfiniteSource(LIMIT 3, BURST 3) -> SetTimestamp -> q :: Queue
            q -> d :: DelayUnqueue(0.5) -> col :: Collector
            Script(wait 2, stop)
            """)
        let r = try #require(b.router, "\(b.log.text)")
        let start = r.clock.now()
        r.run()
        let col = try #require(b.element("col", as: Collector.self))
        #expect(col.packets.count == 3)
        for i in 0..<col.timestamps.count {
            let delayed = Double(col.timestamps[i] - start) / 1e9
            #expect(delayed >= 0.5 && delayed < 0.51, "stamped \(delayed) s after the start")
            // Out no earlier than stamped time + 0.5 s, and stamped with that time.
            #expect(col.arrivals[i] >= col.timestamps[i])
            #expect(col.arrivals[i] - col.timestamps[i] < 10_000_000)
        }
        #expect(try r.read("d.delay") == "0.5")
    }
}

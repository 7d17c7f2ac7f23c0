import ClickElements
import ClickLanguage
import ClickTestSupport
import Foundation
import Testing
@testable import ClickRuntime

@Suite struct LinkUnqueueTests {
    @Test func linkUnqueueAddsLatencyAndTransmissionTime() throws {
        // 8 kbps = 1000 bytes/s: a 100-byte packet takes 0.1 s to send, then 10 ms to cross.
        let b = build("""
            InfiniteSource(LENGTH 100, LIMIT 3, BURST 3) -> q :: Queue -> l :: LinkUnqueue(10ms, 8kbps) -> col :: Collector
            Script(wait 1, stop)
            """)
        let r = try #require(b.router, "\(b.log.text)")
        let start = r.clock.now()
        r.run()
        let col = try #require(b.element("col", as: Collector.self))
        let offsets = col.arrivals.map { Double($0 - start) / 1e9 }
        #expect(offsets.count == 3)
        for (i, t) in offsets.enumerated() {
            let expected = 0.1 * Double(i + 1) + 0.01
            #expect(abs(t - expected) < 0.005, "packet \(i) left at \(t) s, expected \(expected)")
        }
        #expect(try r.read("l.size") == "0")
        #expect(try r.read("l.latency") == "0.01")
        #expect(try r.read("l.bandwidth") == "1000")
    }
}

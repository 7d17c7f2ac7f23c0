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

    /// Click's LinkUnqueue-01 on simulated time: trace packets with ip_len but no payload
    /// take the link for their whole length (EXTRA_LENGTH counted), and back-to-back
    /// packets follow each other exactly.
    @Test func wholeLengthsBackToBackOnSimulatedTime() throws {
        let s = try ScratchFiles(["in": "!data ip_src ip_len\n1.0.0.1 20\n1.0.0.2 20\n1.0.0.3 1600\n1.0.0.4 20\n"])
        let b = build("""
            FromIPSummaryDump(\(s.path("in")), STOP true) -> Queue -> LinkUnqueue(0.005s, 100kb/s) -> col :: Collector;
            DriverManager(wait, wait_time 0.3s, stop)
            """, simulatedTime: true)
        let r = try #require(b.router, "\(b.log.text)")
        r.run()
        let col = try #require(b.element("col", as: Collector.self))
        let gaps = col.arrivals.map { $0 - (col.arrivals.first ?? 0) }
        #expect(gaps == [0, 1_600_000, 129_600_000, 131_200_000])
        #expect(col.packets.map(\.count) == [20, 20, 40, 20])
    }
}

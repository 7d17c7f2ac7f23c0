import ClickElements
import ClickLanguage
import ClickTestSupport
import Testing
@testable import ClickRuntime

@Suite struct ShaperTests {
    /// Shaper lets a pull through only while its token bucket has room: at 2 packets per
    /// second a burst of pulls gets at most the bucket's packets now, the rest later.
    @Test func pullsAreLimitedToTheRate() throws {
        let b = build("inj :: Injector -> q :: Queue -> s :: Shaper(2) -> u :: Unqueue(BURST 1) -> c :: Collector")
        let r = try #require(b.router, "\(b.log.text)")
        try #require(b.element("inj", as: Injector.self)).inject((0..<10).map { [UInt8($0)] })
        let u = try #require(r.element(named: "u"))
        for _ in 0..<10 { _ = u.runTask(Task(element: u)) }
        let now = b.element("c", as: Collector.self)?.packets.count ?? 0
        #expect(now >= 1 && now <= 2)
        #expect(try r.read("q.length") == String(10 - now))
        #expect(try r.read("s.rate") == "2")
    }

    @Test func bandwidthShaperCountsBytes() throws {
        let b = build("Idle -> Queue -> s :: BandwidthShaper(1000Bps) -> Discard")
        #expect(try b.router?.read("s.rate") == "1000", "\(b.log.text)")
    }
}

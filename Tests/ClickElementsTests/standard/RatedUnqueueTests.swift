import ClickElements
import ClickLanguage
import ClickTestSupport
import Foundation
import Testing
@testable import ClickRuntime

@Suite struct RatedUnqueueTests {
    @Test func ratedUnqueuePacesAQueue() throws {
        let b = build("InfiniteSource(LIMIT 40) -> q :: Queue -> RatedUnqueue(20, BURST_SIZE 1) -> c :: Counter(COUNT_CALL 40 stop) -> Discard")
        let r = try #require(b.router, "\(b.log.text)")
        let start = r.clock.now()
        r.run()
        #expect(try r.read("c.count") == "40")
        let elapsed = seconds(r, from: start)
        #expect(elapsed > 1.8 && elapsed < 2.3, "took \(elapsed) s")
    }

    /// Click 2.1 (`click --simtime`, its test RatedUnqueue-01) counts exactly these over ten
    /// simulated seconds (its expectation for the last allows 909 or 910).
    @Test func clickAgreesCountsOverTenSeconds() throws {
        let b = build("""
            InfiniteSource() -> Queue(10) -> u1 :: RatedUnqueue(RATE 2) -> c1 :: Counter -> Discard;
            InfiniteSource() -> Queue(10) -> u2 :: RatedUnqueue(RATE 2, BURST_SIZE 50) -> c2 :: Counter -> Discard;
            InfiniteSource() -> Queue(10) -> u3 :: RatedUnqueue(RATE 2, BURST_DURATION 25) -> c3 :: Counter -> Discard;
            InfiniteSource() -> Queue(10) -> u4 :: RatedUnqueue(RATE 100, BURST_SIZE 1) -> c4 :: Counter -> Discard;
            Script(wait 10, write stop);
            """)
        let r = try #require(b.router, "\(b.log.text)")
        r.run()
        #expect(try ["c1", "c2", "c3"].map { try r.read("\($0).count") } == ["20", "69", "69"])
        #expect(try ["909", "910"].contains(r.read("c4.count")))
        #expect(try r.read("u4.calls").hasSuffix(" pushes\n0 failed pulls\n"))
    }
}

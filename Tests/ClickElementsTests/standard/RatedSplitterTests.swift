import ClickElements
import ClickLanguage
import ClickTestSupport
import Foundation
import Testing
@testable import ClickRuntime

@Suite struct RatedSplitterTests {
    @Test func ratedSplitterCapsOutputZero() throws {
        let b = build("InfiniteSource(LIMIT 100, BURST 100, STOP true) -> s :: RatedSplitter(10) => (-> a :: Counter -> Discard), (-> o :: Counter -> Discard)")
        let r = try #require(b.router, "\(b.log.text)")
        r.run()
        let a = Int(try r.read("a.count")) ?? -1
        #expect(a >= 1 && a <= 2)
        #expect(try r.read("o.count") == String(100 - a))
    }

    /// Click 2.1 (`click --simtime`, its test RatedSplitter-01) counts exactly these over ten
    /// simulated seconds: its token bucket refills by the millisecond in 32-bit fractions.
    @Test func clickAgreesCountsOverTenSeconds() throws {
        let b = build("""
            InfiniteSource -> Queue(10) -> RatedUnqueue(10) -> rs1 :: RatedSplitter(RATE 2) -> c1 :: Counter -> Discard; rs1 [1] -> Discard;
            InfiniteSource -> Queue(10) -> RatedUnqueue(10) -> rs2 :: RatedSplitter(RATE 2, BURST_SIZE 50) -> c2 :: Counter -> Discard; rs2 [1] -> Discard;
            InfiniteSource -> Queue(10) -> RatedUnqueue(10) -> rs3 :: RatedSplitter(RATE 2, BURST_DURATION 25) -> c3 :: Counter -> Discard; rs3 [1] -> Discard;
            InfiniteSource -> Queue(10) -> RatedUnqueue(200) -> rs4 :: RatedSplitter(RATE 100, BURST_SIZE 2) -> c4 :: Counter -> Discard; rs4 [1] -> Discard;
            Script(wait 10, write stop);
            """)
        let r = try #require(b.router, "\(b.log.text)")
        r.run()
        #expect(try ["c1", "c2", "c3", "c4"].map { try r.read("\($0).count") } == ["20", "69", "69", "1001"])
        #expect(try r.read("rs4.rate") == "100")
    }

    /// BandwidthRatedSplitter lets a packet through only while 128 kB of tokens remain, as
    /// Click's (Click 2.1 counts the same for this configuration).
    @Test func bandwidthSplitterKeepsClicksSlack() throws {
        let b = build("InfiniteSource(LENGTH 1000, LIMIT 300, BURST 300, STOP true) -> s :: BandwidthRatedSplitter(8kbps) => (-> a :: Counter -> Discard), (-> o :: Counter -> Discard)")
        let r = try #require(b.router, "\(b.log.text)")
        r.run()
        // A full bucket holds 131072 + 20 ms of 1000 B/s = 131092 bytes: after one packet
        // of 1000 it is below the threshold, and the burst is over within the same tick.
        #expect(try r.read("a.count") == "1")
        #expect(try r.read("s.rate") == "8kbps")
    }
}

import ClickElements
import ClickLanguage
import ClickTestSupport
import Foundation
import Testing
@testable import ClickRuntime

@Suite struct TimeFilterTests {
    @Test func passesTheIntervalAndStopsAfterIt() throws {
        // Timestamps 1..10 s; START_AFTER 2 and INTERVAL 3 keep [3, 6) relative to the first.
        let b = build("""
            inj :: Injector -> SetTimestampDelta -> AdjustTimestamp(1, ALL true) -> t :: TimeFilter(START_AFTER 2, INTERVAL 3, STOP true) -> col :: Collector
            """)
        let r = try #require(b.router, "\(b.log.text)")
        let inj = try #require(b.element("inj", as: Injector.self))
        let col = try #require(b.element("col", as: Collector.self))
        for second in 1...10 {
            inj.injectTimestamped([UInt8(second)], at: Int64(second) * 1_000_000_000)
        }
        #expect(col.packets.map { $0[0] } == [3, 4, 5])
        #expect(r.scheduler.stopRequested)
        #expect(try r.read("t.interval") == "3.000000")
    }

    @Test func endCallCanExtendTheInterval() throws {
        let b = build("""
            inj :: Injector -> t :: TimeFilter(START 1, END 3, END_CALL t.extend_interval 2) -> col :: Collector
            """)
        _ = try #require(b.router, "\(b.log.text)")
        let inj = try #require(b.element("inj", as: Injector.self))
        let col = try #require(b.element("col", as: Collector.self))
        for second in 0...6 { inj.injectTimestamped([UInt8(second)], at: Int64(second) * 1_000_000_000) }
        // The packet at 3 reaches the end and the call moves it to 5; writing the interval
        // re-arms the call (as in Click), so the packet at 5 moves it to 7.
        #expect(col.packets.map { $0[0] } == [1, 2, 3, 4, 5, 6])
        #expect(try b.router?.read("t.end") == "7.000000")
    }

    @Test func exclusiveForms() {
        let b = build("Idle -> TimeFilter(END 5, INTERVAL 2) -> Discard")
        #expect(b.log.errorMessages.contains("  END, END_AFTER, END_AFTER_INIT, and INTERVAL are mutually exclusive"))
    }
}

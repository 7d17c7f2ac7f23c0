import ClickElements
import ClickLanguage
import ClickTestSupport
import Testing
@testable import ClickRuntime

@Suite struct AdjustTimestampTests {
    /// The outputs of Click 2.1 for the same configurations: a minus sign negates the whole
    /// seconds only (Click's cp_time), an unset timestamp stays unset without ALL, and
    /// FIRST adjusts the first-timestamp annotation.
    @Test func addsTheTimeAsClickDoes() throws {
        for (time, printed) in [("-2.25", "8.750000"), ("-0.5", "11.000000"), ("-2", "8.500000"), ("-1.000001", "9.500001"), ("0.25", "10.750000")] {
            let (_, lines) = buildAndRun("InfiniteSource(DATA \"\", LIMIT 1, STOP true) -> SetTimestamp(10.5) -> AdjustTimestamp(\(time)) -> Print(a, TIMESTAMP true) -> Discard")
            #expect(lines == ["a: \(printed):    0"], "AdjustTimestamp(\(time))")
        }
    }

    @Test func unsetTimestampsNeedAllAndFirstMovesTheFirstTimestamp() throws {
        let b = build("inj :: Injector -> AdjustTimestamp(5) -> a :: Collector")
        try #require(b.element("inj", as: Injector.self), "\(b.log.text)").injectTimestamped([1], at: 0)
        #expect(b.element("a", as: Collector.self)?.timestamps == [0])
        let all = build("inj :: Injector -> AdjustTimestamp(5, ALL true) -> a :: Collector")
        try #require(all.element("inj", as: Injector.self), "\(all.log.text)").injectTimestamped([1], at: 0)
        #expect(all.element("a", as: Collector.self)?.timestamps == [5_000_000_000])
        let (_, lines) = buildAndRun("InfiniteSource(DATA \"\", LIMIT 1, STOP true) -> SetTimestamp(3, FIRST true) -> AdjustTimestamp(-1, FIRST true) -> SetTimestamp(10) -> SetTimestampDelta(TYPE FIRST) -> Print(c, TIMESTAMP true) -> Discard")
        #expect(lines == ["c: 8.000000:    0"])
    }
}

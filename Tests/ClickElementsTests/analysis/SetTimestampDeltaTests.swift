import ClickElements
import ClickLanguage
import ClickTestSupport
import Testing
@testable import ClickRuntime

@Suite struct SetTimestampDeltaTests {
    @Test func timestampsBecomeDeltasFromTheFirst() throws {
        let b = build("inj :: Injector -> s :: SetTimestampDelta -> a :: Collector")
        let inj = try #require(b.element("inj", as: Injector.self), "\(b.log.text)")
        inj.injectTimestamped([1], at: 10_000_000_000)
        inj.injectTimestamped([2], at: 12_500_000_000)
        #expect(b.element("a", as: Collector.self)?.timestamps == [0, 2_500_000_000])
        #expect(try b.router?.read("s.first") == "10.000000\n")
    }

    @Test func typeNowMeasuresFromTheCurrentTime() throws {
        #expect(build("Idle -> SetTimestampDelta(TYPE NOW) -> Discard").router != nil)
        #expect(build("Idle -> SetTimestampDelta(TYPE SOMETIMES) -> Discard").log.hasErrors)
    }
}

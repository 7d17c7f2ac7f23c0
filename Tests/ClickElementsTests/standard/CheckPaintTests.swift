import ClickElements
import ClickLanguage
import ClickTestSupport
import Testing
@testable import ClickRuntime

@Suite struct CheckPaintTests {
    @Test func onlyTheColourPassesAndTheRestGoToOutputOne() throws {
        let b = build("inj :: Injector -> e :: CheckPaint(7); e[0] -> yes :: Collector; e[1] -> no :: Collector")
        let inj = try #require(b.element("inj", as: Injector.self), "\(b.log.text)")
        inj.inject([[1]], paint: 7)
        inj.inject([[2]], paint: 3)
        #expect(b.element("yes", as: Collector.self)?.packets == [[1]])
        #expect(b.element("no", as: Collector.self)?.packets == [[2]])
    }

    @Test func withoutOutputOneOtherColoursAreDropped() throws {
        let b = build("inj :: Injector -> CheckPaint(7) -> c :: Collector")
        let inj = try #require(b.element("inj", as: Injector.self), "\(b.log.text)")
        inj.inject([[2]], paint: 3)
        #expect(b.element("c", as: Collector.self)?.packets == [])
        #expect(b.router?.pool.outstanding == 0)
    }
}

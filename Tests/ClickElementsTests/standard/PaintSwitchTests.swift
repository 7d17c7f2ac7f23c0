import ClickElements
import ClickLanguage
import ClickTestSupport
import Foundation
import Testing
@testable import ClickRuntime

@Suite struct PaintSwitchTests {
    @Test func paintSwitchByColor() throws {
        let b = build("inj :: Injector -> ps :: PaintSwitch; ps [0] -> a :: Collector; ps [1] -> c :: Collector")
        let inj = try #require(b.element("inj", as: Injector.self), "\(b.log.text)")
        inj.inject([[0]], paint: 0)
        inj.inject([[1]], paint: 1)
        inj.inject([[9]], paint: 9)
        inj.inject([[7]], paint: 255)
        #expect(b.element("a", as: Collector.self)?.packets == [[0], [7]])
        #expect(b.element("c", as: Collector.self)?.packets == [[1], [7]])
    }

    /// Paths that split and merge keep the packets in arrival order, as Click 2.1 prints them
    /// (the switch sends runs, not one batch per output).
    @Test func clickAgreesSplitPathsKeepTheOrder() {
        let (_, lines) = buildAndRun("""
            FromIPSummaryDump(DATA "!data link sport\n0 0\n1 1\n0 2\n1 3", STOP true) -> ps :: PaintSwitch;
            ps[0] -> Print(a, 4) -> t :: Print(t, 4) -> Discard; ps[1] -> Print(b, 4) -> t
            """)
        #expect(lines == ["a:   40 | 45000028", "t:   40 | 45000028", "b:   40 | 45000028", "t:   40 | 45000028",
                          "a:   40 | 45000028", "t:   40 | 45000028", "b:   40 | 45000028", "t:   40 | 45000028"])
    }
}

import ClickElements
import ClickLanguage
import ClickTestSupport
import Foundation
import Testing
@testable import ClickRuntime

@Suite struct PullSwitchTests {
    @Test func simplePullSwitchPullsOneInput() throws {
        let b = build("""
            a :: Injector -> qa :: Queue -> [0] s :: SimplePullSwitch(1); bb :: Injector -> qb :: Queue -> [1] s
            s -> u :: Unqueue(ACTIVE false) -> col :: Collector
            """)
        let r = try #require(b.router, "\(b.log.text)")
        try #require(b.element("a", as: Injector.self)).inject([[1]])
        try #require(b.element("bb", as: Injector.self)).inject([[2]])
        try drain(r, "u")
        #expect(b.element("col", as: Collector.self)?.packets == [[2]])
        try r.write("s.switch", "0")
        try drain(r, "u")
        #expect(b.element("col", as: Collector.self)?.packets == [[2], [1]])
    }

    /// Click's PullSwitch-01: the puller behind a PullSwitch sleeps while the chosen input
    /// is empty (or none is chosen), wakes when the switch changes, and an InfiniteSource
    /// that reached its LIMIT lets it sleep again (in simulated time a puller that never
    /// slept would spin through every nanosecond of the waits).
    @Test func pullersSleepBehindAnEmptyChoice() throws {
        let (b, _) = buildAndRun("""
            i1 :: InfiniteSource(\\<11>, LIMIT 4); i3 :: Idle; ps :: PullSwitch(-1);
            i1 -> [0] ps; i3 -> [1] ps; ps -> c :: Counter -> d :: Discard;
            Script(wait 0.5s, write ps.switch 1, wait 0.5s, write ps.switch 0, wait 0.5s, stop)
            """)
        let r = try #require(b.router, "\(b.log.text)")
        #expect(try r.read("c.count") == "4")
        #expect(try r.read("d.scheduled") == "false")
        #expect(try r.read("ps.switch") == "0")
    }
}

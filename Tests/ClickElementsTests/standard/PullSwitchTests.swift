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
}

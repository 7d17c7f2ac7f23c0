import ClickElements
import ClickLanguage
import ClickTestSupport
import Foundation
import Testing
@testable import ClickRuntime

@Suite struct RoundRobinSwitchTests {
    @Test func roundRobinAndHashSwitch() throws {
        let b = build("inj :: Injector -> rr :: RoundRobinSwitch; rr [0] -> a :: Collector; rr [1] -> c :: Collector; inj2 :: Injector -> h :: HashSwitch(0, 2); h [0] -> x :: Collector; h [1] -> y :: Collector")
        try #require(b.element("inj", as: Injector.self), "\(b.log.text)").inject([[1], [2], [3]])
        #expect(b.element("a", as: Collector.self)?.packets == [[1], [3]])
        #expect(b.element("c", as: Collector.self)?.packets == [[2]])
        // Sum 3: (3 ^ 0) & 1 = 1; sum 4: (4 ^ 0) & 1 = 0; too short: output 0.
        try #require(b.element("inj2", as: Injector.self)).inject([[1, 2], [2, 2], [7]])
        #expect(b.element("x", as: Collector.self)?.packets == [[2, 2], [7]])
        #expect(b.element("y", as: Collector.self)?.packets == [[1, 2]])
    }
}

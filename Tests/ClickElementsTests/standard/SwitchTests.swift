import ClickElements
import ClickLanguage
import ClickTestSupport
import Foundation
import Testing
@testable import ClickRuntime

@Suite struct SwitchTests {
    @Test func switchesAndHandlers() throws {
        let b = build("inj :: Injector -> s :: Switch(1); s [0] -> a :: Collector; s [1] -> c :: Collector")
        let r = try #require(b.router, "\(b.log.text)")
        let inj = try #require(b.element("inj", as: Injector.self))
        inj.inject([[1]])
        try r.write("s.switch", "0")
        inj.inject([[2]])
        try r.write("s.switch", "-1")
        inj.inject([[3]])
        #expect(b.element("a", as: Collector.self)?.packets == [[2]])
        #expect(b.element("c", as: Collector.self)?.packets == [[1]])
        #expect(r.pool.outstanding == 0)
    }
}

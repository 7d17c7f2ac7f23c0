import ClickElements
import ClickLanguage
import ClickTestSupport
import Foundation
import Testing
@testable import ClickRuntime

@Suite struct HubTests {
    @Test func hubBypassAndSwitches() throws {
        let b = build("""
            a :: Injector -> [0] h :: Hub; bb :: Injector -> [1] h; h [0] -> x :: Collector; h [1] -> y :: Collector;
            i :: Injector -> by :: Bypass; by [0] -> n :: Collector; by [1] -> m :: Collector;
            s0 :: Injector -> [0] sw :: InputSwitch(1); s1 :: Injector -> [1] sw; sw -> z :: Collector;
            """)
        let r = try #require(b.router, "\(b.log.text)")
        try #require(b.element("a", as: Injector.self)).inject([[1]])
        #expect(b.element("x", as: Collector.self)?.packets == [])
        #expect(b.element("y", as: Collector.self)?.packets == [[1]])
        try #require(b.element("i", as: Injector.self)).inject([[2]])
        try r.write("by.active", "true")
        try #require(b.element("i", as: Injector.self)).inject([[3]])
        #expect(b.element("n", as: Collector.self)?.packets == [[2]])
        #expect(b.element("m", as: Collector.self)?.packets == [[3]])
        try #require(b.element("s0", as: Injector.self)).inject([[4]])
        try #require(b.element("s1", as: Injector.self)).inject([[5]])
        #expect(b.element("z", as: Collector.self)?.packets == [[5]])
        #expect(r.pool.outstanding == 0)
    }
}

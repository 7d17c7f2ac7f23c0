import ClickElements
import ClickLanguage
import ClickTestSupport
import Testing
@testable import ClickRuntime

@Suite struct InputSwitchTests {
    @Test func onlyTheSelectedInputPassesAndSwitchSelects() throws {
        let b = build("a :: Injector -> [0] s :: InputSwitch(0); bb :: Injector -> [1] s; s -> c :: Collector")
        let r = try #require(b.router, "\(b.log.text)")
        try #require(b.element("a", as: Injector.self)).inject([[1]])
        try #require(b.element("bb", as: Injector.self)).inject([[2]])
        try r.write("s.switch", "1")
        try #require(b.element("a", as: Injector.self)).inject([[3]])
        try #require(b.element("bb", as: Injector.self)).inject([[4]])
        #expect(b.element("c", as: Collector.self)?.packets == [[1], [4]])
        #expect(try r.read("s.switch") == "1")
        #expect(r.pool.outstanding == 0)
    }
}

import ClickElements
import ClickLanguage
import ClickTestSupport
import Testing
@testable import ClickRuntime

@Suite struct BypassTests {
    @Test func activeSendsToOutputOneAndInactiveToZero() throws {
        let (out, b) = try sort([[1]], through: "Bypass", outputs: 2)
        #expect(out[0] == [[1]] && out[1] == [])
        let r = try #require(b.router)
        try r.write("e.active", "true")
        try #require(b.element("inj", as: Injector.self)).inject([[2]])
        #expect(b.element("o1", as: Collector.self)?.packets == [[2]])
        #expect(try r.read("e.active") == "true")
    }
}

import ClickElements
import ClickLanguage
import ClickTestSupport
import Testing
@testable import ClickRuntime

@Suite struct TimedSinkTests {
    @Test func pullsOnePacketPerIntervalAndFreesIt() throws {
        let b = build("inj :: Injector -> q :: Queue -> t :: TimedSink(0.5)")
        let r = try #require(b.router, "\(b.log.text)")
        try #require(b.element("inj", as: Injector.self)).inject([[1], [2], [3]])
        #expect(try r.read("t.interval") == "0.5")
        try r.write("t.interval", "1")
        #expect(try r.read("t.interval") == "1")
        #expect(try r.read("q.length") == "3")
    }
}

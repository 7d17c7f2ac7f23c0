import ClickElements
import ClickLanguage
import ClickTestSupport
import Testing
@testable import ClickRuntime

@Suite struct UnstripTests {
    @Test func restoresStrippedBytes() throws {
        let b = build("inj :: Injector -> Strip(3) -> Unstrip(2) -> c :: Collector")
        try #require(b.element("inj", as: Injector.self), "\(b.log.text)").inject([[1, 2, 3, 4, 5]])
        #expect(b.element("c", as: Collector.self)?.packets == [[2, 3, 4, 5]])
    }
}

import ClickElements
import ClickLanguage
import ClickTestSupport
import Foundation
import Testing
@testable import ClickRuntime

@Suite struct StripTests {
    @Test func stripAndUnstrip() throws {
        let b = build("inj :: Injector -> Strip(2) -> s :: Collector; inj2 :: Injector -> Strip(2) -> Unstrip(2) -> u :: Collector")
        try #require(b.element("inj", as: Injector.self), "\(b.log.text)").inject([[1, 2, 3], [1]])
        #expect(b.element("s", as: Collector.self)?.packets == [[3], []])
        try #require(b.element("inj2", as: Injector.self)).inject([[1, 2, 3]])
        #expect(b.element("u", as: Collector.self)?.packets == [[1, 2, 3]])
    }
}

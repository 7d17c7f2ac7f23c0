import ClickElements
import ClickLanguage
import ClickTestSupport
import Foundation
import Testing
@testable import ClickRuntime

@Suite struct TeeTests {
    @Test func teeCopiesToEveryOutput() throws {
        let b = build("inj :: Injector -> t :: Tee; t [0] -> a :: Collector; t [1] -> c :: Collector; t [2] -> d :: Collector")
        try #require(b.element("inj", as: Injector.self), "\(b.log.text)").inject([[4, 2]])
        for name in ["a", "c", "d"] { #expect(b.element(name, as: Collector.self)?.packets == [[4, 2]]) }
        #expect(build("Idle -> Tee(3) -> Discard").log.errorMessages.contains("  N does not match the number of outputs (1)"))
    }
}

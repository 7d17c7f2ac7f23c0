import ClickElements
import ClickLanguage
import ClickTestSupport
import Foundation
import Testing
@testable import ClickRuntime

@Suite struct PaintSwitchTests {
    @Test func paintSwitchByColor() throws {
        let b = build("inj :: Injector -> ps :: PaintSwitch; ps [0] -> a :: Collector; ps [1] -> c :: Collector")
        let inj = try #require(b.element("inj", as: Injector.self), "\(b.log.text)")
        inj.inject([[0]], paint: 0)
        inj.inject([[1]], paint: 1)
        inj.inject([[9]], paint: 9)
        inj.inject([[7]], paint: 255)
        #expect(b.element("a", as: Collector.self)?.packets == [[0], [7]])
        #expect(b.element("c", as: Collector.self)?.packets == [[1], [7]])
    }
}

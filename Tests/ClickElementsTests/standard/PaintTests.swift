import ClickElements
import ClickLanguage
import ClickTestSupport
import Foundation
import Testing
@testable import ClickRuntime

@Suite struct PaintTests {
    @Test func paintAndCheckPaint() throws {
        let b = build("inj :: Injector -> Paint(3) -> cp :: CheckPaint(3) -> yes :: Collector; cp [1] -> no :: Collector")
        try #require(b.element("inj", as: Injector.self), "\(b.log.text)").inject([[1]])
        #expect(b.element("yes", as: Collector.self)?.paints == [3])
        #expect(b.element("no", as: Collector.self)?.packets.isEmpty == true)
    }
}

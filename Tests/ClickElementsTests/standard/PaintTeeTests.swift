import ClickElements
import ClickLanguage
import ClickTestSupport
import Foundation
import Testing
@testable import ClickRuntime

@Suite struct PaintTeeTests {
    @Test func paintTeeCopiesMatchingPackets() throws {
        let b = build("inj :: Injector -> pt :: PaintTee(5) -> all :: Collector; pt [1] -> copies :: Collector")
        let inj = try #require(b.element("inj", as: Injector.self), "\(b.log.text)")
        inj.inject([[1]], paint: 5)
        inj.inject([[2]], paint: 4)
        #expect(b.element("all", as: Collector.self)?.packets == [[1], [2]])
        #expect(b.element("copies", as: Collector.self)?.packets == [[1]])
    }
}

import ClickElements
import ClickLanguage
import ClickTestSupport
import Testing
@testable import ClickRuntime

@Suite struct AlignTests {
    @Test func dataIsAlignedAndUnchanged() throws {
        let bytes = (0..<17).map { UInt8($0) }
        let b = build("inj :: Injector -> Align(4, 1) -> c :: Collector")
        let inj = try #require(b.element("inj", as: Injector.self), "\(b.log.text)")
        inj.inject([bytes])
        #expect(b.element("c", as: Collector.self)?.packets == [bytes])
    }

    @Test func badModulusOrOffsetIsRefused() {
        #expect(build("Idle -> Align(3, 0) -> Discard").log.hasErrors)
        #expect(build("Idle -> Align(4, 4) -> Discard").log.hasErrors)
    }
}

import ClickElements
import ClickLanguage
import ClickTestSupport
import Testing
@testable import ClickRuntime

@Suite struct ClipboardTests {
    @Test func clipboardCopiesRangesBetweenPackets() throws {
        let b = build("""
            a :: Injector -> [0] cb :: Clipboard(0/2, 4/1) [0] -> ca :: Collector
            bb :: Injector -> [1] cb [1] -> cbb :: Collector
            """)
        _ = try #require(b.router, "\(b.log.text)")
        let a = try #require(b.element("a", as: Injector.self)), bb = try #require(b.element("bb", as: Injector.self))
        bb.inject([[9, 9, 9, 9, 9, 9]])
        a.inject([[1, 2, 3, 4, 5, 6]])
        bb.inject([[9, 9, 9, 9, 9, 9], [9, 9, 9]])
        #expect(b.element("ca", as: Collector.self)?.packets == [[1, 2, 3, 4, 5, 6]])
        #expect(b.element("cbb", as: Collector.self)?.packets == [[0, 0, 9, 9, 0, 9], [1, 2, 9, 9, 5, 9], [1, 2, 9]])
        #expect(build("cb :: Clipboard(1-2); Idle -> cb -> Discard; Idle -> [1] cb [1] -> Discard").log.text.contains("bad range '1-2'"))
    }
}

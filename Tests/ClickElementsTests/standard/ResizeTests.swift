import ClickElements
import ClickLanguage
import ClickTestSupport
import Foundation
import Testing
@testable import ClickRuntime

@Suite struct ResizeTests {
    @Test func resizeAndTimestamps() throws {
        let b = build("inj :: Injector -> Resize(2, -1) -> c :: Collector; inj2 :: Injector -> MarkIPCE(true) -> CheckIPHeader -> d :: Collector")
        try #require(b.element("inj", as: Injector.self), "\(b.log.text)").inject([[7, 8, 9]])
        // The two added bytes are whatever the headroom held (Click leaves them uninitialized).
        #expect(b.element("c", as: Collector.self)?.packets.map { Array($0.suffix(2)) } == [[7, 8]])
        #expect(b.element("c", as: Collector.self)?.packets.first?.count == 4)
        // Click's Resize-01: pulled bytes come back with a later push; pulling more than
        // the packet has leaves it empty.
        let (_, printed) = buildAndRun("""
            RatedSource(DATA "ABCD", LIMIT 1, STOP true) -> Print() -> Resize(HEAD -2) -> Print()
            -> Resize(+4, -2) -> Print() -> Resize() -> Print() -> Resize(HEAD -8) -> Print() -> Discard
            """)
        #expect(printed.count == 5)
        #expect(printed.first == "   4 | 41424344")
        #expect(printed.dropFirst().first == "   2 | 4344")
        #expect(printed.dropFirst(2).prefix(2).allSatisfy { $0.hasPrefix("   4 | ") && $0.hasSuffix("4142") })
        #expect(printed.last == "   0")
        let b2 = build("inj2 :: Injector -> CheckIPHeader -> MarkIPCE(true) -> CheckIPHeader -> d :: Collector")
        try #require(b2.element("inj2", as: Injector.self), "\(b2.log.text)").inject([Frames.ipv4(src: [1, 0, 0, 1], dst: [1, 0, 0, 2])])
        #expect(b2.element("d", as: Collector.self)?.packets.first?[1] == 3)
        // As in Click, -2.5 is -2 s + 0.5 s (cp_time negates the whole seconds only).
        let (_, lines) = buildAndRun("InfiniteSource(DATA \"\", LIMIT 1, STOP true) -> SetTimestamp(10) -> AdjustTimestamp(-2.5) -> TimeFilter(8, 9) -> Print(t, TIMESTAMP true) -> Discard")
        #expect(lines == ["t: 8.500000:    0"])
    }
}

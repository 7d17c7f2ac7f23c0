import ClickElements
import ClickLanguage
import ClickTestSupport
import Foundation
import Testing
@testable import ClickRuntime

@Suite struct InfiniteSourceTests {
    @Test func infiniteSourceLimitStopAndData() throws {
        let (b, _) = buildAndRun("InfiniteSource(DATA \\<0a 0b>, LIMIT 5, BURST 2, STOP true) -> col :: Collector")
        let col = try #require(b.element("col", as: Collector.self), "\(b.log.text)")
        #expect(col.packets == Array(repeating: [0x0a, 0x0b], count: 5))
        #expect(try b.router?.read("InfiniteSource@1.count") == "5")
    }

    @Test func infiniteSourceDefaultDataAndLength() throws {
        let (b, _) = buildAndRun("InfiniteSource(LIMIT 1, STOP true) -> a :: Collector; InfiniteSource(DATA \"ab\", LENGTH 5, LIMIT 1, STOP true) -> c :: Collector")
        let a = try #require(b.element("a", as: Collector.self))
        #expect(a.packets.first.map { String(decoding: $0, as: UTF8.self) } == "Random bullshit in a packet, at least 64 bytes long. Well, now it is.")
        let c = try #require(b.element("c", as: Collector.self))
        #expect(c.packets.first == Array("ababa".utf8))
    }

    @Test func infiniteSourceEndCallInsteadOfStop() throws {
        let (b, _) = buildAndRun("s :: InfiniteSource(LIMIT 2, END_CALL stop) -> c :: Counter -> Discard")
        #expect(try b.router?.read("c.count") == "2")
    }
}

import ClickElements
import ClickLanguage
import ClickTestSupport
import Foundation
import Testing
@testable import ClickRuntime

@Suite struct TruncateTests {
    @Test func truncateKeepsTheOriginalLengthForTheDump() throws {
        let b = build("inj :: Injector -> Truncate(10) -> col :: Collector")
        _ = try #require(b.router, "\(b.log.text)")
        let inj = try #require(b.element("inj", as: Injector.self))
        inj.inject([[UInt8](repeating: 1, count: 50)])
        let col = try #require(b.element("col", as: Collector.self))
        #expect(col.packets.first?.count == 10)
        #expect(col.extraLengths == [40])
    }

    @Test func truncateSampleAndAverage() throws {
        let (short, _) = try passThrough("Truncate(2)", [[1, 2, 3, 4], [5]])
        #expect(short == [[1, 2], [5]])
        let (none, _) = try passThrough("RandomSample(0)", [[1], [2], [3]])
        #expect(none.isEmpty)
        let (all, _) = try passThrough("RandomSample(1)", [[1], [2], [3]])
        #expect(all.count == 3)
        let (b, _) = buildAndRun("InfiniteSource(DATA \"abcd\", LIMIT 10, STOP true) -> a :: AverageCounter -> Discard")
        #expect(try b.router?.read("a.count") == "10")
        #expect(try b.router?.read("a.byte_count") == "40")
    }
}

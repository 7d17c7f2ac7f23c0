import ClickElements
import ClickLanguage
import ClickTestSupport
import Foundation
import Testing
@testable import ClickRuntime

@Suite struct TimeSortedSchedTests {
    @Test func timeSortedSchedMergesTracesAndStops() throws {
        let dir = FileManager.default.temporaryDirectory.path
        let a = "\(dir)/clickos-\(UUID().uuidString)-a.pcap", c = "\(dir)/clickos-\(UUID().uuidString)-c.pcap"
        defer {
            try? FileManager.default.removeItem(atPath: a)
            try? FileManager.default.removeItem(atPath: c)
        }
        func packet(_ tag: UInt8) -> [UInt8] { Frames.ipv4(src: [1, 0, 0, 1], dst: [1, 0, 0, tag]) }
        try writePcap(a, [1, 4, 5].map { (UInt32($0), packet(UInt8($0))) })
        try writePcap(c, [2, 3, 6].map { (UInt32($0), packet(UInt8($0))) })
        let (b, _) = buildAndRun("""
            t :: TimeSortedSched(STOP true)
            FromDump(\(a)) -> [0] t; FromDump(\(c)) -> [1] t
            t -> Unqueue -> col :: Collector
            """)
        let col = try #require(b.element("col", as: Collector.self), "\(b.log.text)")
        #expect(col.packets.map { $0[19] } == [1, 2, 3, 4, 5, 6])
        #expect(col.timestamps.map { $0 / 1_000_000_000 } == [1, 2, 3, 4, 5, 6])
        #expect(try b.router?.read("t.well_ordered") == "true")

        // Each drain is a stop event: a DriverManager waits for the first, wakes a third
        // source, and the second drain ends it (Click's notifier-01).
        let (again, _) = buildAndRun("""
            t :: TimeSortedSched(STOP true)
            FromDump(\(a)) -> [0] t; f :: FromDump(\(c), ACTIVE false) -> Queue -> [1] t
            t -> Unqueue -> col :: Collector
            DriverManager(wait, write f.active true, wait)
            """)
        let all = try #require(again.element("col", as: Collector.self), "\(again.log.text)")
        #expect(all.packets.map { $0[19] } == [1, 4, 5, 2, 3, 6])
    }
}

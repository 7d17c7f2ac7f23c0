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
    }
}

import ClickElements
import ClickLanguage
import ClickTestSupport
import Foundation
import Testing
@testable import ClickRuntime

@Suite struct FromDumpTests {
    @Test func fromDumpReplaysAtTraceTimesInSimulatedTime() throws {
        let path = PcapTests().temporaryFile("timed.pcap")
        defer { try? FileManager.default.removeItem(atPath: path) }
        // Three packets one second apart.
        let ip = Frames.ipv4(src: [1, 0, 0, 1], dst: [1, 0, 0, 2])
        try writePcap(path, (0..<3).map { (UInt32(100 + $0), ip) })
        let b = build("FromDump(\(path), TIMING true, STOP true) -> c :: Counter -> Discard")
        let router = try #require(b.router, "\(b.log.text)")
        let start = router.clock.now()
        router.run()
        #expect(try router.read("c.count") == "3")
        #expect(router.clock.now() - start >= 2_000_000_000)
    }

    @Test func fromDumpTimeWindowsSampleAndEndCall() throws {
        let path = PcapTests().temporaryFile("window.pcap")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try writePcap(path, (0..<6).map { (UInt32(100 + $0), Frames.ipv4(src: [1, 0, 0, 1], dst: [1, 0, 0, UInt8($0)])) })
        func seconds(_ config: String) throws -> [Int64] {
            let (b, _) = buildAndRun("FromDump(\(path), \(config)) -> c :: Collector")
            return try #require(b.element("c", as: Collector.self), "\(b.log.text)").timestamps.map { $0 / 1_000_000_000 }
        }
        #expect(try seconds("STOP true, START_AFTER 1, END_AFTER 3.5") == [101, 102, 103])
        #expect(try seconds("STOP true, START 102, END 104") == [102, 103, 104])
        #expect(try seconds("STOP true, START_AFTER 2, INTERVAL 1") == [102, 103])
        #expect(try seconds("STOP true, SAMPLE 0") == [])
        #expect(try seconds("END_CALL stop") == [100, 101, 102, 103, 104, 105])
        #expect(build("FromDump(\(path), END 1, INTERVAL 2) -> Discard").log.text.contains("mutually exclusive"))
    }
}

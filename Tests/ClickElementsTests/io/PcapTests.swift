import ClickElements
import ClickLanguage
import ClickTestSupport
import Foundation
import Testing
@testable import ClickRuntime

@Suite struct PcapTests {
    func temporaryFile(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("clickos-\(UUID().uuidString)-\(name)").path
    }

    @Test func toDumpWritesWhatFromDumpAndTcpdumpRead() throws {
        let path = temporaryFile("trace.pcap")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let frame = Frames.ether(dst: [0, 1, 2, 3, 4, 5], src: [6, 7, 8, 9, 10, 11], type: 0x0800,
                                 Frames.ipv4(src: [10, 0, 0, 1], dst: [10, 0, 0, 2], proto: 17, sport: 5000, dport: 53))
        let hex = frame.map { String(format: "%02x", $0) }.joined()
        let (w, _) = buildAndRun("InfiniteSource(DATA \\<\(hex)>, LIMIT 3, STOP true) -> t :: ToDump(\(path)) -> Discard")
        #expect(try w.router?.read("t.count") == "3")
        w.router?.cleanup()

        let (r, _) = buildAndRun("f :: FromDump(\(path), STOP true) -> CheckIPHeader(14) -> c :: Collector")
        let got = try #require(r.element("c", as: Collector.self)).packets
        #expect(got == Array(repeating: frame, count: 3))
        #expect(try r.router?.read("f.encap") == "ETHER")

        // tcpdump itself reads the file (installed by scripts/install-deps.sh).
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/tcpdump") else {
            Issue.record("tcpdump is not installed: run scripts/install-deps.sh")
            return
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/tcpdump")
        p.arguments = ["-nn", "-r", path]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = Pipe()
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
        let lines = text.split(separator: "\n")
        #expect(lines.count == 3)
        #expect(lines.first?.contains("10.0.0.1.5000 > 10.0.0.2.53") == true)
    }

    @Test func fromDumpReplaysAtTraceTimesInSimulatedTime() throws {
        let path = temporaryFile("timed.pcap")
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
        let path = temporaryFile("window.pcap")
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

    @Test func badFiles() throws {
        let path = temporaryFile("bad.pcap")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data(repeating: 7, count: 40).write(to: URL(fileURLWithPath: path))
        #expect(build("FromDump(\(path)) -> Discard").log.errorMessages.contains("  \(path): not a tcpdump file (bad magic number)"))
        #expect(build("FromDump(/nonexistent.pcap) -> Discard").log.errorMessages.contains("  /nonexistent.pcap: No such file or directory"))
    }
}

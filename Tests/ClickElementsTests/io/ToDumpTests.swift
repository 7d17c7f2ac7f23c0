import ClickElements
import ClickLanguage
import ClickTestSupport
import Foundation
import Testing
@testable import ClickRuntime

@Suite struct ToDumpTests {
    @Test func toDumpWritesWhatFromDumpAndTcpdumpRead() throws {
        let path = PcapTests().temporaryFile("trace.pcap")
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
}

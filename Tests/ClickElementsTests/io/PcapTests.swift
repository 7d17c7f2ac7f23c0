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

    @Test func badFiles() throws {
        let path = temporaryFile("bad.pcap")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data(repeating: 7, count: 40).write(to: URL(fileURLWithPath: path))
        #expect(build("FromDump(\(path)) -> Discard").log.errorMessages.contains("  \(path): not a tcpdump file (bad magic number)"))
        #expect(build("FromDump(/nonexistent.pcap) -> Discard").log.errorMessages.contains("  /nonexistent.pcap: No such file or directory"))
    }
}

import ClickElements
import ClickLanguage
import ClickTestSupport
import Foundation
import Testing
@testable import ClickRuntime

/// Files that are not what they claim, devices that never end, and writes that fail: each
/// gets a clear message with the file's name, and nothing grows without bound.
@Suite struct HostileFileTests {
    func temporaryFile(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("clickos-\(UUID().uuidString)-\(name)").path
    }

    func write(_ path: String, _ bytes: [UInt8]) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    /// A pcap file header (little-endian, microseconds, version 2.4, Ethernet).
    static let pcapHeader: [UInt8] = [0xD4, 0xC3, 0xB2, 0xA1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0, 0, 1, 0, 0, 0]

    static func record(seconds: UInt32, captured: UInt32, wire: UInt32) -> [UInt8] {
        withUnsafeBytes(of: (seconds.littleEndian, UInt32(0), captured.littleEndian, wire.littleEndian), Array.init)
    }

    @Test func fromDumpRefusesWhatIsNotPcapAtInitialization() throws {
        // /dev/zero has no end: it used to be read whole (1.6 GB after 4 s).
        let zero = build("FromDump(/dev/zero, STOP true) -> Discard")
        #expect(zero.router == nil)
        #expect(zero.log.errorMessages.contains("  /dev/zero: not a tcpdump file (bad magic number)"), "\(zero.log.text)")
        let short = temporaryFile("short.pcap")
        defer { try? FileManager.default.removeItem(atPath: short) }
        try write(short, [0xD4, 0xC3])
        #expect(build("FromDump(\(short)) -> Discard").log.errorMessages.contains("  \(short): not a tcpdump file (too short)"))
        var version3 = Self.pcapHeader
        version3[4] = 3
        try write(short, version3)
        #expect(build("FromDump(\(short)) -> Discard").log.errorMessages.contains("  \(short): unknown major version 3"))
    }

    @Test func fromDumpGivesUpOnABadRecordAndReadsNoMoreThanOneBuffer() throws {
        let path = temporaryFile("bad.pcap")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let frame = [UInt8](repeating: 0xAB, count: 60)
        // Two good records, one claiming 2 GB, then one that would be good.
        let bytes = Self.pcapHeader
            + Self.record(seconds: 1, captured: 60, wire: 60) + frame
            + Self.record(seconds: 2, captured: 60, wire: 60) + frame
            + Self.record(seconds: 3, captured: 0x7FFF_FFFF, wire: 0x7FFF_FFFF)
            + Self.record(seconds: 4, captured: 60, wire: 60) + frame
        try write(path, bytes)
        let (b, chatter) = buildAndRun("f :: FromDump(\(path), STOP true) -> c :: Counter -> Discard")
        let r = try #require(b.router, "\(b.log.text)")
        #expect(try r.read("c.count") == "2")
        #expect(chatter == ["\(path): bad packet header; giving up"])
        #expect(try r.read("f.filesize") == String(bytes.count))
        // A record longer than a packet buffer (but a legal pcap length) is cut to the
        // buffer and the rest skipped: the next record is still read.
        let long = [UInt8](repeating: 7, count: 9000)
        try write(path, Self.pcapHeader + Self.record(seconds: 1, captured: 9000, wire: 9000) + long
                  + Self.record(seconds: 2, captured: 60, wire: 60) + frame)
        let (l, _) = buildAndRun("FromDump(\(path), STOP true) -> k :: Collector")
        let packets = try #require(l.element("k", as: Collector.self)).packets
        #expect(packets.count == 2)
        #expect(packets.first?.count == PacketPool.defaultBufferSize - PacketPool.defaultHeadroom)
        #expect(packets.last == frame)
        // A record cut short by the end of the file ends the trace without a packet.
        try write(path, Self.pcapHeader + Self.record(seconds: 1, captured: 60, wire: 60) + frame.prefix(30))
        let (t, _) = buildAndRun("FromDump(\(path), STOP true) -> c :: Counter -> Discard")
        #expect(try t.router?.read("c.count") == "0")
    }

    @Test func toDumpReportsWriteErrorsOnceAndCountsThem() throws {
        // The header cannot be written: initialization fails with the file's name.
        let full = build("Idle -> ToDump(/dev/full)")
        #expect(full.router == nil)
        #expect(full.log.errorMessages.contains("  /dev/full: unable to write file header (No space left on device)"), "\(full.log.text)")
        // Writes that fail later (a file size limit, as a full disk would): the router
        // runs on, says so once, and counts what it could not write.
        guard let binary = builtExecutable("clickos-vm") else {
            Issue.record("clickos-vm is not built")
            return
        }
        let path = temporaryFile("limited.pcap")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", "ulimit -f 4; exec \"$0\" -e 'InfiniteSource(LIMIT 1000, STOP true) -> t :: ToDump(\(path))' -h t.count -h t.write_errors", binary]
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let e = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(p.terminationReason == .exit && p.terminationStatus == 0, "not killed by SIGXFSZ: \(e)")
        #expect(e.components(separatedBy: "ToDump(\(path)): File too large").count == 2, "reported once: \(e)")
        let numbers = o.split(separator: "\n").compactMap { Int($0) }
        #expect(numbers.count == 2 && numbers[0] + numbers[1] == 1000 && numbers[1] > 0, "\(o)")
    }

    @Test func fromIPSummaryDumpSaysWhatItLeftOut() throws {
        let path = temporaryFile("sum.txt")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try "!data src sport dst dport proto\n1.2.3.4 99999 5.6.7.8 -1 T\n1.2.3.4 70000 5.6.7.8 81 T\n".write(toFile: path, atomically: true, encoding: .utf8)
        let (b, chatter) = buildAndRun("FromIPSummaryDump(\(path), STOP true) -> c :: Counter -> Discard")
        // The packets are Click's (the bad ports left at 0), and the bad values are said,
        // once per field.
        #expect(try b.router?.read("c.count") == "2")
        #expect(chatter == ["\(path):2: bad sport '99999' left out (further bad sport values are not reported)",
                            "\(path):2: bad dport '-1' left out (further bad dport values are not reported)"])
        // A file without newlines is not read into memory without end.
        let (z, zc) = buildAndRun("FromIPSummaryDump(/dev/zero, STOP true) -> c :: Counter -> Discard")
        #expect(try z.router?.read("c.count") == "0")
        #expect(zc == ["/dev/zero:1: line longer than 65536 bytes; giving up"])
    }
}

import ClickElements
import ClickLanguage
import ClickTestSupport
import Foundation
import Testing
@testable import ClickRuntime

@Suite struct IPRateMonitorTests {
    @Test func zoomsInOnHeavyHittersAndFoldsBack() throws {
        func hex(_ b: [UInt8]) -> String { b.map { String(format: "%02x", $0) }.joined() }
        let heavy = hex(Frames.ipv4(src: [18, 26, 4, 44], dst: [10, 0, 0, 1]))
        let light = hex(Frames.ipv4(src: [10, 0, 0, 1], dst: [18, 26, 4, 44]))
        let b = build("""
            heavy :: RatedSource(\\<\(heavy)>, RATE 400) -> CheckIPHeader -> m :: IPRateMonitor(PACKETS, 1, 100) -> Discard
            RatedSource(\\<\(light)>, RATE 10) -> CheckIPHeader -> m
            Script(wait 3, print m.look, write heavy.active false, wait 5, print m.look, stop)
            """)
        let r = try #require(b.router, "\(b.log.text)")
        let box = ChatterBox()
        r.standardOutput = { box.lines.append($0) }
        r.run()
        #expect(box.lines.count == 2)
        let first = box.lines.first?.split(separator: "\n").map(String.init) ?? []
        func forward(_ lines: [String], _ range: String) -> Int? {
            guard let line = lines.first(where: { $0.trimmingCharacters(in: .whitespaces).hasPrefix(range + "\t") }) else { return nil }
            let fields = line.split(separator: "\t")
            return fields.count >= 3 ? Int(fields[fields.count - 2]) : nil
        }
        let heavyRate = try #require(forward(first, "18"), "\(first)")
        #expect(heavyRate > 300 && heavyRate < 450, "\(first)")
        let lightRate = try #require(forward(first, "10"), "\(first)")
        #expect(lightRate >= 3 && lightRate <= 20, "\(first)")
        #expect(first.contains { $0.hasPrefix("\t\t\t18.26.4.44\t") }, "\(first)")
        #expect(!first.contains { $0.contains("10.0\t") }, "the light source is not zoomed into: \(first)")
        // Five quiet seconds later the heavy range has been folded back.
        let second = box.lines.last?.split(separator: "\n").map(String.init) ?? []
        #expect(!second.contains { $0.contains("18.26") }, "\(second)")
        #expect((forward(second, "18") ?? 999) < 10, "\(second)")
        #expect(try r.read("m.what") == "PACKETS" && r.read("m.thresh") == "100")
    }
}

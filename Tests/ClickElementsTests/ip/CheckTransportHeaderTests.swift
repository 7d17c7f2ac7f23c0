import ClickElements
import ClickLanguage
import ClickTestSupport
import Foundation
import Testing
@testable import ClickRuntime

@Suite struct CheckTransportHeaderTests {
    @Test func checkHeaderReportsTheFirstBadPacketAndDetailsByReason() throws {
        var bad = Frames.ipv4(src: Frames.ip(10, 0, 0, 1), dst: Frames.ip(10, 0, 0, 2))
        bad[27] ^= 0xFF  // UDP checksum no longer matches
        let b = build("inj :: Injector -> MarkIPHeader -> c :: CheckUDPHeader(DETAILS true) -> Discard")
        let r = try #require(b.router, "\(b.log.text)")
        var lines: [String] = []
        r.chatter = { lines.append($0) }
        try #require(b.element("inj", as: Injector.self)).inject([bad, bad])
        #expect(lines == ["UDP header check failed: bad UDP checksum"])
        #expect(try r.read("c.drop_details") == "0\tnot UDP\n0\tbad packet length\n2\tbad UDP checksum\n")
    }
}

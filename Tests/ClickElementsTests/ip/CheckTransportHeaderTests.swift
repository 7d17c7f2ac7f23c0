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

    /// Found by scripts/click-differential.py: the TCP pseudo-header takes the final
    /// destination of a loose source route, so a packet whose IP destination was rewritten
    /// still checks, and SetTCPChecksum leaves its checksum as it was. Click 2.1 printed
    /// this line.
    @Test func clickAgreesSourceRoutePseudoHeader() {
        let hex = "480000341234000040060d8c121a040901020304830b04c0a805070a0001070003ff040000000001000000025010020084a90000"
        #expect(clickPrint(hex, through: "CheckIPHeader -> StoreIPAddress(4.3.2.1, 16) -> CheckTCPHeader -> SetTCPChecksum") == [
            "out:   52 | 48000034 12340000 40060d8c 121a0409 04030201 830b04c0 a805070a 00010700 03ff0400 00000001 00000002 50100200 84a90000",
        ])
    }
}

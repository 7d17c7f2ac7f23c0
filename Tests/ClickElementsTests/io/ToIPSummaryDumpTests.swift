import ClickElements
import ClickLanguage
import ClickTestSupport
import Foundation
import Testing
@testable import ClickRuntime

@Suite struct ToIPSummaryDumpTests {
    @Test func checksumsAreSetOnRequest() throws {
        let s = try ScratchFiles(["in": "!data src sport dst dport proto payload\n10.0.0.1 1 10.0.0.2 2 T \"abc\"\n10.0.0.1 1 10.0.0.2 2 U \"abcd\"\n"])
        let (b, _) = try IPSummaryDumpFormatTests().run("""
            FromIPSummaryDump(\(s.path("in")), STOP true, CHECKSUM true) -> CheckIPHeader -> c :: IPClassifier(tcp, udp)
            c[0] -> CheckTCPHeader -> tcp :: Counter -> Discard; c[1] -> CheckUDPHeader -> udp :: Counter -> Discard
            """)
        #expect(try b.router?.read("tcp.count") == "1")
        #expect(try b.router?.read("udp.count") == "1")
        let (n, _) = try IPSummaryDumpFormatTests().run("FromIPSummaryDump(\(s.path("in")), STOP true) -> CheckIPHeader -> ok :: Counter -> Discard")
        #expect(try n.router?.read("ok.count") == "0")
    }

    @Test func lengthsBeyondTheHeadersBecomeExtraLength() throws {
        let s = try ScratchFiles(["in": "!data src dst proto len\n1.0.0.1 1.0.0.2 U 1500\n1.0.0.1 1.0.0.2 T 40\n"])
        _ = try IPSummaryDumpFormatTests().run("FromIPSummaryDump(\(s.path("in")), STOP true) -> ToIPSummaryDump(\(s.path("out")), FIELDS len wire_len ip_capture_len payload_len udp_len)")
        #expect(try s.dataLines("out") == ["1500 1500 28 1472 1480", "40 40 40 0 -"])
    }
}

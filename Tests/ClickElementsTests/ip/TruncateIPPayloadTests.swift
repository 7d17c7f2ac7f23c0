import ClickElements
import ClickLanguage
import ClickTestSupport
import Testing
@testable import ClickRuntime

/// TruncateIPPayload against Click 2.1: the same configuration printed these lines.
@Suite struct TruncateIPPayloadTests {
    @Test func clickAgreesTruncateIPPayload() {
        let tcp = "45000034 00000000 40060000 0a000001 0a000002 00500050 00000001 00000002 60100200 00000000 02040101 aabbccdd eeff0011"
        let udp = "4500002c 00000000 40110000 0a000001 0a000002 00350035 00180000 01020304 05060708 090a0b0c 0d0e0f10"
        let icmp = "45000030 00000000 40010000 0a000001 0a000002 0d000000 00010002 00000001 00000002 00000003 11223344"
        let (b, lines) = buildAndRun("""
            InfiniteSource(DATA \\<\(tcp)>, LIMIT 1, STOP true) -> MarkIPHeader -> TruncateIPPayload(2) -> Print(tcp, 96) -> Discard;
            InfiniteSource(DATA \\<\(udp)>, LIMIT 1, STOP true) -> MarkIPHeader -> TruncateIPPayload(3, false) -> Print(udp, 96) -> Discard;
            InfiniteSource(DATA \\<\(icmp)>, LIMIT 1, STOP true) -> MarkIPHeader -> TruncateIPPayload -> Print(icmp, 96) -> Discard;
            InfiniteSource(DATA \\<\(udp)>, LIMIT 1, STOP true) -> TruncateIPPayload(5) -> Print(raw, 96) -> Discard
            """)
        #expect(b.router != nil, "\(b.log.text)")
        #expect(lines.sorted() == [
            "icmp:   40 | 45000030 00000000 40010000 0a000001 0a000002 0d000000 00010002 00000001 00000002 00000003",
            "raw:    5 | 4500002c 00",
            "tcp:   46 | 45000034 00000000 40060000 0a000001 0a000002 00500050 00000001 00000002 60100200 00000000 02040101 aabb",
            "udp:   23 | 4500002c 00000000 40110000 0a000001 0a000002 003500",
        ])
    }
}

import ClickElements
import ClickLanguage
import ClickTestSupport
import Foundation
import Testing
@testable import ClickRuntime

@Suite struct IPPrintTests {
    @Test func ipPrintFormatsLikeTcpdump() throws {
        let out = try printed("""
            !data timestamp src sport dst dport proto tcp_seq tcp_ack tcp_flags len
            1.000020 1.0.0.1 10 1.0.0.2 20 T 0 0 A 1500
            2.5 1.0.0.1 10 1.0.0.2 20 T 100 0 S 40
            3 10.0.0.1 53 10.0.0.2 5353 U - - - 60

            """, through: "IPPrint(x)")
        #expect(out == [
            "x: 1.000020: 1.0.0.1.10 > 1.0.0.2.20: . 0:1460(1460,40,1500) ack 0 win 0",
            "x: 2.500000: 1.0.0.1.10 > 1.0.0.2.20: S 100:101(1,40,40) win 0",
            "x: 3.000000: 10.0.0.1.53 > 10.0.0.2.5353: udp 40",
        ])
    }

    @Test func ipPrintICMPFragmentsAndOptions() throws {
        let out = try printed("""
            !data src dst proto icmp_type icmp_flowid icmp_seq ip_id ip_ttl
            1.0.0.1 1.0.0.2 I 8 7 1 99 64
            1.0.0.2 1.0.0.1 I 0 7 1 100 63

            """, through: "IPPrint(TIMESTAMP false, ID true, TTL true)")
        #expect(out == [
            "id 99 ttl 64 1.0.0.1 > 1.0.0.2: icmp echo (7, 1)",
            "id 100 ttl 63 1.0.0.2 > 1.0.0.1: icmp echo-reply (7, 1)",
        ])
        let frag = try printed("!data src dst proto ip_id ip_fragoff len\n1.0.0.1 1.0.0.2 U 5 800+ 120\n", through: "IPPrint(TIMESTAMP false)")
        #expect(frag == ["1.0.0.1 > 1.0.0.2: udp (frag 5:100@800+)"])
        let (b, chatter) = buildAndRun("InfiniteSource(DATA \"abcd\", LIMIT 1, STOP true) -> IPPrint(TIMESTAMP false) -> Discard")
        #expect(b.router != nil)
        // Click prints nothing for a packet without an IP header.
        #expect(chatter.isEmpty)
    }

    @Test func ipPrintContentsInHex() throws {
        let packet = Frames.ipv4(src: [1, 0, 0, 1], dst: [1, 0, 0, 2], payload: 4)
        let (_, chatter) = buildAndRun("InfiniteSource(DATA \\<\(hex(packet))>, LIMIT 1, STOP true) -> CheckIPHeader -> IPPrint(TIMESTAMP false, CONTENTS hex, MAXLENGTH 8) -> Discard")
        #expect(chatter == ["1.0.0.1.1234 > 1.0.0.2.80: udp 12\n  45000020 12340000"])
    }
}

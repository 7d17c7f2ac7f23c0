import ClickElements
import ClickLanguage
import ClickTestSupport
import Foundation
import Testing
@testable import ClickRuntime

@Suite struct ICMPPingSourceTests {
    @Test func icmpPingSourceMeasuresRoundTrips() throws {
        let (b, chatter) = buildAndRun("""
            ps :: ICMPPingSource(10.0.0.1, 10.0.0.2, INTERVAL 0.1, LIMIT 3, STOP true, IDENTIFIER 77)
            ps -> CheckIPHeader -> ICMPPingResponder -> ps
            """)
        let r = try #require(b.router, "\(b.log.text)")
        let replies = chatter.filter { $0.hasPrefix("ps :: ICMPPingSource: 10.0.0.2: icmp_seq=") }
        #expect(replies.count == 3, "\(chatter)")
        #expect(replies.first?.contains("icmp_seq=1 ttl=255 time=") == true)
        #expect(try r.read("ps.count") == "3")
        #expect(try r.read("ps.summary").contains("3 packets transmitted, 3 received, 0% packet loss"))
    }
}

import ClickElements
import ClickLanguage
import ClickTestSupport
import Foundation
import Testing
@testable import ClickRuntime

@Suite struct ARPPrintTests {
    @Test func arpPrintRequestsAndReplies() throws {
        let request = Frames.arpRequest(senderEther: [0, 1, 2, 3, 4, 5], senderIP: [10, 0, 0, 1], targetIP: [10, 0, 0, 2])
        let (_, chatter) = buildAndRun("""
            InfiniteSource(DATA \\<\(hex(request))>, LIMIT 1, STOP true) -> ARPPrint(in, TIMESTAMP false)
            -> ARPResponder(10.0.0.2 0a:0b:0c:0d:0e:0f) -> ARPPrint(out, TIMESTAMP false, ETHER true) -> Discard
            InfiniteSource(DATA \\<0806>, LIMIT 1) -> ARPPrint(short, TIMESTAMP false) -> Discard
            """)
        #expect(chatter.contains("in: arp who-has 10.0.0.2 tell 10.0.0.1"))
        #expect(chatter.contains("out: 0A-0B-0C-0D-0E-0F > 00-01-02-03-04-05: arp reply 10.0.0.2 is-at 0A-0B-0C-0D-0E-0F"))
        #expect(chatter.contains("short: truncated-arp (2)"))
    }
}

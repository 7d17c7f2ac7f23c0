import ClickElements
import ClickLanguage
import ClickTestSupport
import Foundation
import Testing
@testable import ClickRuntime

@Suite struct ICMPPingResponderTests {
    @Test func pingResponderAnswersEchoRequests() throws {
        var ping = Frames.ipv4(src: [1, 0, 0, 9], dst: [1, 0, 0, 1], proto: 1, payload: 8, sport: 0x0800, dport: 0)
        ping[26] = 0
        ping[27] = 0
        let c = Frames.checksum(ping[20...])
        ping[22] = UInt8(c >> 8)
        ping[23] = UInt8(c & 0xFF)
        let (out, _) = try passThrough("CheckIPHeader -> ICMPPingResponder -> CheckICMPHeader", [ping])
        let r = try #require(out.first)
        #expect(r[20] == 0)
        #expect(Array(r[12..<16]) == [1, 0, 0, 1] && Array(r[16..<20]) == [1, 0, 0, 9])
        #expect(Frames.isValidIPChecksum(r[...]))
    }
}

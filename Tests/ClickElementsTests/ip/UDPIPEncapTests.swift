import ClickElements
import ClickLanguage
import ClickTestSupport
import Foundation
import Testing
@testable import ClickRuntime

@Suite struct UDPIPEncapTests {
    @Test func udpipEncapMakesValidUDP() throws {
        let (out, _) = try passThrough("UDPIPEncap(1.0.0.1, 1234, 2.0.0.2, dns) -> CheckIPHeader -> CheckUDPHeader", [Array("hello".utf8)])
        let p = try #require(out.first)
        #expect(p.count == 33)
        #expect(Array(p[12..<20]) == [1, 0, 0, 1, 2, 0, 0, 2])
        #expect(p[22] == 0 && p[23] == 53)
        #expect(Array(p[28...]) == Array("hello".utf8))
    }
}

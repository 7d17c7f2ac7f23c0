import ClickElements
import ClickLanguage
import ClickTestSupport
import Foundation
import Testing
@testable import ClickRuntime

@Suite struct SetTransportChecksumTests {
    @Test func transportChecksums() throws {
        var tcp = Frames.ipv4(src: [1, 0, 0, 1], dst: [1, 0, 0, 2], proto: 6, payload: 20)
        tcp[32] = 0x50
        let (fixed, _) = try passThrough("CheckIPHeader -> SetTCPChecksum -> c :: CheckTCPHeader", [tcp])
        #expect(fixed.count == 1)
        let b = build("inj :: Injector -> CheckIPHeader -> c :: CheckTCPHeader -> ok :: Collector; c [1] -> bad :: Collector")
        try #require(b.element("inj", as: Injector.self)).inject([tcp])
        #expect(b.element("bad", as: Collector.self)?.packets.count == 1)
        #expect(try b.router?.read("c.drops") == "1")
    }
}

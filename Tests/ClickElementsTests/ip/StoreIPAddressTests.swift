import ClickElements
import ClickLanguage
import ClickTestSupport
import Foundation
import Testing
@testable import ClickRuntime

@Suite struct StoreIPAddressTests {
    @Test func storeIPAddressFixesChecksums() throws {
        let b = build("inj :: Injector -> CheckIPHeader -> StoreIPAddress(9.9.9.9, dst) -> CheckIPHeader -> c :: Collector")
        var udp = Frames.ipv4(src: [1, 0, 0, 1], dst: [1, 0, 0, 2], proto: 17)
        udp[26] = 0
        udp[27] = 0
        try #require(b.element("inj", as: Injector.self), "\(b.log.text)").inject([udp])
        let p = try #require(b.element("c", as: Collector.self)?.packets.first)
        #expect(Array(p[16..<20]) == [9, 9, 9, 9])
        #expect(Frames.isValidIPChecksum(p[...]))
        let raw = build("inj :: Injector -> StoreIPAddress(1.2.3.4, 2) -> c :: Collector")
        try #require(raw.element("inj", as: Injector.self)).inject([[0, 0, 0, 0, 0, 0, 0]])
        #expect(raw.element("c", as: Collector.self)?.packets == [[0, 0, 1, 2, 3, 4, 0]])
    }
}

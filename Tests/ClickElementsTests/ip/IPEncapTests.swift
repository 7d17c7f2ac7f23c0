import ClickElements
import ClickLanguage
import ClickTestSupport
import Foundation
import Testing
@testable import ClickRuntime

@Suite struct IPEncapTests {
    @Test func ipEncapAndStripping() throws {
        let (out, _) = try passThrough("IPEncap(tcp, 10.0.0.1, 10.0.0.2, TTL 7) -> CheckIPHeader -> StripIPHeader -> UnstripIPHeader", [[1, 2, 3]])
        let p = try #require(out.first)
        #expect(p.count == 23 && p[8] == 7 && p[9] == 6)
        #expect(Frames.isValidIPChecksum(p[...]))
        let (stripped, _) = try passThrough("IPEncap(17, 10.0.0.1, 10.0.0.2) -> CheckIPHeader -> StripIPHeader", [[9, 9]])
        #expect(stripped == [[9, 9]])
    }
}

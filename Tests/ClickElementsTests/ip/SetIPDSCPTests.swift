import ClickElements
import ClickLanguage
import ClickTestSupport
import Foundation
import Testing
@testable import ClickRuntime

@Suite struct SetIPDSCPTests {
    @Test func dscpKeepsTheChecksum() throws {
        let (out, _) = try passThrough("CheckIPHeader -> SetIPDSCP(46) -> CheckIPHeader", [Frames.ipv4(src: [1, 0, 0, 1], dst: [1, 0, 0, 2])])
        #expect(out.first?[1] == 46 << 2)
    }
}

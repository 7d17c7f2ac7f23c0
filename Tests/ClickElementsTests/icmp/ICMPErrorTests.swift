import ClickElements
import ClickLanguage
import ClickTestSupport
import Testing
@testable import ClickRuntime

/// ICMPError against Click 2.1: the same packet through the same configuration prints the
/// same bytes.
@Suite struct ICMPErrorTests {
    /// Click 2.1's userlevel driver prints exactly this for the same configuration.
    @Test func clickAgreesIcmperr() {
        #expect(clickPrint("45000020 12340000 40110000 0a000001 0a000002 03e80035 000c0000 61626364",
                           through: "MarkIPHeader -> SetIPChecksum -> ICMPError(10.0.0.9, unreachable, host)") == ["out:   60 | 4500003c 00010000 c801deb6 0a000009 0a000001 0301340f 00000000 45000020 12340000 40115497 0a000001 0a000002 03e80035 000c0000 61626364"])
    }

    /// Click 2.1's userlevel driver prints exactly this for the same configuration.
    @Test func clickAgreesIcmperrParam() {
        #expect(clickPrint("45000020 12340000 40110000 0a000001 0a000002 03e80035 000c0000 61626364",
                           through: "MarkIPHeader -> SetIPChecksum -> ICMPError(10.0.0.9, parameterproblem)") == ["out:   60 | 4500003c 00010000 c801deb6 0a000009 0a000001 0c002b10 00000000 45000020 12340000 40115497 0a000001 0a000002 03e80035 000c0000 61626364"])
    }
}

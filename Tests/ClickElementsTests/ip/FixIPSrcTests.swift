import ClickElements
import ClickLanguage
import ClickTestSupport
import Testing
@testable import ClickRuntime

/// FixIPSrc against Click 2.1: the same packet through the same configuration prints the
/// same bytes.
@Suite struct FixIPSrcTests {
    /// Click 2.1's userlevel driver prints exactly this for the same configuration.
    @Test func clickAgreesFixipsrc() {
        #expect(clickPrint("45000020 12340000 40110000 0a000001 0a000002 03e80035 000c0000 61626364",
                           through: "MarkIPHeader -> SetIPChecksum -> ICMPError(10.0.0.9, unreachable, host) -> FixIPSrc(10.0.0.77)") == ["out:   60 | 4500003c 00010000 c801de72 0a00004d 0a000001 0301340f 00000000 45000020 12340000 40115497 0a000001 0a000002 03e80035 000c0000 61626364"])
    }
}

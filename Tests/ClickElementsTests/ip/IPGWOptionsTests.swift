import ClickElements
import ClickLanguage
import ClickTestSupport
import Testing
@testable import ClickRuntime

/// IPGWOptions against Click 2.1: the same packet through the same configuration prints the
/// same bytes.
@Suite struct IPGWOptionsTests {
    /// Click 2.1's userlevel driver prints exactly this for the same configuration.
    @Test func clickAgreesGwopt() {
        #expect(clickPrint("47000024 12340000 40110000 0a000001 0a000002 07070400 00000000 03e80035 000c0000 61626364",
                           through: "MarkIPHeader -> SetIPChecksum -> IPGWOptions(10.0.0.9)") == ["out:   40 | 47000024 12340000 40113a82 0a000001 0a000002 0707080a 00000900 03e80035 000c0000 61626364"])
    }
}

import ClickElements
import ClickLanguage
import ClickTestSupport
import Testing
@testable import ClickRuntime

/// MarkIPCE against Click 2.1: the same packet through the same configuration prints the
/// same bytes.
@Suite struct MarkIPCETests {
    /// Click 2.1's userlevel driver prints exactly this for the same configuration.
    @Test func clickAgreesMarkce() {
        #expect(clickPrint("45020020 12340000 40110000 0a000001 0a000002 03e80035 000c0000 61626364",
                           through: "MarkIPHeader -> SetIPChecksum -> MarkIPCE") == ["out:   32 | 45030020 12340000 40115494 0a000001 0a000002 03e80035 000c0000 61626364"])
    }

    /// Click 2.1's userlevel driver prints exactly this for the same configuration.
    @Test func clickAgreesMarkceNotect() {
        #expect(clickPrint("45000020 12340000 40110000 0a000001 0a000002 03e80035 000c0000 61626364",
                           through: "MarkIPHeader -> SetIPChecksum -> MarkIPCE") == [])
    }
}

import ClickElements
import ClickLanguage
import ClickTestSupport
import Testing
@testable import ClickRuntime

/// SetIPAddress against Click 2.1: the same packet through the same configuration prints the
/// same bytes.
@Suite struct SetIPAddressTests {
    /// Click 2.1's userlevel driver prints exactly this for the same configuration.
    @Test func clickAgreesSetip() {
        #expect(clickPrint("45000020 12340000 40110000 0a000001 0a000002 03e80035 000c0000 61626364",
                           through: "MarkIPHeader -> SetIPAddress(9.9.9.9) -> StoreIPAddress(16)") == ["out:   32 | 45000020 12340000 40110000 0a000001 09090909 03e80035 000c0000 61626364"])
    }
}

import ClickElements
import ClickLanguage
import ClickTestSupport
import Testing
@testable import ClickRuntime

/// GetIPAddress against Click 2.1: the same packet through the same configuration prints the
/// same bytes.
@Suite struct GetIPAddressTests {
    /// Click 2.1's userlevel driver prints exactly this for the same configuration.
    @Test func clickAgreesGetip() {
        #expect(clickPrint("45000020 12340000 40110000 0a000001 0a000002 03e80035 000c0000 61626364",
                           through: "MarkIPHeader -> GetIPAddress(16) -> StoreIPAddress(12)") == ["out:   32 | 45000020 12340000 40110000 0a000002 0a000002 03e80035 000c0000 61626364"])
    }
}

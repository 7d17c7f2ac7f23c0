import ClickElements
import ClickLanguage
import ClickTestSupport
import Testing
@testable import ClickRuntime

/// StripEtherVLANHeader against Click 2.1: the same packet through the same configuration prints the
/// same bytes.
@Suite struct StripEtherVLANHeaderTests {
    /// Click 2.1's userlevel driver prints exactly this for the same configuration.
    @Test func clickAgreesStripvlan() {
        #expect(clickPrint("020000000002 020000000001 8100 2005 0800 45000020",
                           through: "StripEtherVLANHeader") == ["out:    4 | 45000020"])
    }
}

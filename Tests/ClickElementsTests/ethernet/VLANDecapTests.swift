import ClickElements
import ClickLanguage
import ClickTestSupport
import Testing
@testable import ClickRuntime

/// VLANDecap against Click 2.1: the same packet through the same configuration prints the
/// same bytes.
@Suite struct VLANDecapTests {
    /// Click 2.1's userlevel driver prints exactly this for the same configuration.
    @Test func clickAgreesVlandecap() {
        #expect(clickPrint("020000000002 020000000001 8100 2005 0800 45000020",
                           through: "VLANDecap") == ["out:   18 | 02000000 00020200 00000001 08004500 0020"])
    }
}

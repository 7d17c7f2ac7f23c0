import ClickElements
import ClickLanguage
import ClickTestSupport
import Testing
@testable import ClickRuntime

/// ARPResponder against Click 2.1: the same packet through the same configuration prints the
/// same bytes.
@Suite struct ARPResponderTests {
    /// Click 2.1's userlevel driver prints exactly this for the same configuration.
    @Test func clickAgreesArpresp() {
        #expect(clickPrint("ffffffffffff 020000000001 0806 0001 0800 06 04 0001 020000000001 0a000002 000000000000 0a000001",
                           through: "ARPResponder(10.0.0.1 00:01:02:03:04:05)") == ["out:   42 | 02000000 00010001 02030405 08060001 08000604 00020001 02030405 0a000001 02000000 00010a00 0002"])
    }
}

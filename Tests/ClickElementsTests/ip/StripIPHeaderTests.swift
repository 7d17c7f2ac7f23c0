import ClickElements
import ClickLanguage
import ClickTestSupport
import Testing
@testable import ClickRuntime

/// StripIPHeader against Click 2.1: the same packet through the same configuration prints the
/// same bytes.
@Suite struct StripIPHeaderTests {
    /// Click 2.1's userlevel driver prints exactly this for the same configuration.
    @Test func clickAgreesStrip() {
        #expect(clickPrint("020000000002 020000000001 0800 45000020 12340000 40110000 0a000001 0a000002 03e80035 000c0000 61626364",
                           through: "MarkIPHeader(14) -> StripIPHeader") == ["out:   12 | 03e80035 000c0000 61626364"])
    }
}

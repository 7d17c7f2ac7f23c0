import ClickElements
import ClickLanguage
import ClickTestSupport
import Testing
@testable import ClickRuntime

/// EtherRewrite against Click 2.1: the same packet through the same configuration prints the
/// same bytes.
@Suite struct EtherRewriteTests {
    /// Click 2.1's userlevel driver prints exactly this for the same configuration.
    @Test func clickAgreesEtherrewrite2() {
        #expect(clickPrint("020000000002 020000000001 0800 45000020 12340000 40110000 0a000001 0a000002 03e80035 000c0000 61626364",
                           through: "MarkMACHeader -> EtherRewrite(3:3:3:3:3:3, 4:4:4:4:4:4)") == ["out:   46 | 04040404 04040303 03030303 08004500 00201234 00004011 00000a00 00010a00 000203e8 0035000c 00006162 6364"])
    }
}

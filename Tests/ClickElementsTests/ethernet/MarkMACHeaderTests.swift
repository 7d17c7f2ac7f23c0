import ClickElements
import ClickLanguage
import ClickTestSupport
import Testing
@testable import ClickRuntime

/// MarkMACHeader against Click 2.1: elements that work on the MAC header see the one it
/// marks.
@Suite struct MarkMACHeaderTests {
    /// Click 2.1's userlevel driver prints exactly this for the same configuration.
    @Test func clickAgreesEtherRewriteSeesTheMarkedHeader() {
        #expect(clickPrint("020000000002 020000000001 0800 45000020 12340000 40110000 0a000001 0a000002 03e80035 000c0000 61626364",
                           through: "MarkMACHeader -> EtherRewrite(3:3:3:3:3:3, 4:4:4:4:4:4)")
                == ["out:   46 | 04040404 04040303 03030303 08004500 00201234 00004011 00000a00 00010a00 000203e8 0035000c 00006162 6364"])
    }

    /// Click 2.1's userlevel driver prints exactly this for the same configuration.
    @Test func clickAgreesAnOffsetMovesTheHeader() {
        #expect(clickPrint("9999 020000000002 020000000001 0800", through: "MarkMACHeader(2) -> EtherRewrite(3:3:3:3:3:3, 4:4:4:4:4:4)")
                == ["out:   16 | 99990404 04040404 03030303 03030800"])
    }
}

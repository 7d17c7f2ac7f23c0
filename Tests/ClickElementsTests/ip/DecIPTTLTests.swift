import ClickElements
import ClickLanguage
import ClickTestSupport
import Testing
@testable import ClickRuntime

/// DecIPTTL against Click 2.1: the same packet through the same configuration prints the
/// same bytes.
@Suite struct DecIPTTLTests {
    /// Click 2.1's userlevel driver prints exactly this for the same configuration.
    @Test func clickAgreesDec() {
        #expect(clickPrint("45000020 12340000 40110000 0a000001 0a000002 03e80035 000c0000 61626364",
                           through: "MarkIPHeader -> SetIPChecksum -> DecIPTTL") == ["out:   32 | 45000020 12340000 3f115597 0a000001 0a000002 03e80035 000c0000 61626364"])
    }

    /// Click 2.1's userlevel driver prints exactly this for the same configuration.
    @Test func clickAgreesDecexp() {
        #expect(clickPrint("45000020 12340000 01110000 0a000001 0a000002 03e80035 000c0000 61626364",
                           through: "MarkIPHeader -> SetIPChecksum -> d :: DecIPTTL -> Print(ok) -> Discard; d[1] -> Print(expired) -> Discard; Idle") == ["expired:   32 | 45000020 12340000 01119397 0a000001 0a000002 03e80035"])
    }
}

import ClickElements
import ClickLanguage
import ClickTestSupport
import Testing
@testable import ClickRuntime

/// IPOutputCombo against Click 2.1: the same packet through the same configuration prints the
/// same bytes.
@Suite struct IPOutputComboTests {
    /// Click 2.1's userlevel driver prints exactly this for the same configuration.
    @Test func clickAgreesOutcombo() {
        #expect(clickPrint("020000000002 020000000001 0800 45000020 12340000 40110000 0a000001 0a000002 03e80035 000c0000 61626364",
                           through: "MarkIPHeader(14) -> Strip(14) -> SetIPChecksum -> c :: IPOutputCombo(1, 10.0.0.9, 1500); c[0] -> Print(ok) -> Discard; c[1] -> Print(bcast) -> Discard; c[2] -> Print(err) -> Discard; c[3] -> Print(ttl) -> Discard; c[4] -> Print(frag) -> Discard; Idle") == ["ok:   32 | 45000020 12340000 3f115597 0a000001 0a000002 03e80035"])
    }
}

import ClickElements
import ClickLanguage
import ClickTestSupport
import Testing
@testable import ClickRuntime

/// CheckIPHeader against Click 2.1: the same packet through the same configuration prints the
/// same bytes.
@Suite struct CheckIPHeaderTests {
    /// Click 2.1's userlevel driver prints exactly this for the same configuration.
    @Test func clickAgreesCheckbad() {
        #expect(clickPrint("45000020 12340000 40110000 0a000001 0a000002 03e80035 000c0000 61626364",
                           through: "CheckIPHeader -> Print(passed) -> Discard; Idle") == ["CheckIPHeader@2: IP header check failed: bad IP checksum"])
    }
}

import ClickElements
import ClickLanguage
import ClickTestSupport
import Testing
@testable import ClickRuntime

/// EtherVLANEncap against Click 2.1: the same packet through the same configuration prints the
/// same bytes.
@Suite struct EtherVLANEncapTests {
    /// Click 2.1's userlevel driver prints exactly this for the same configuration.
    @Test func clickAgreesEthervlanencap2() {
        #expect(clickPrint("45000020 12340000 40110000 0a000001 0a000002 03e80035 000c0000 61626364",
                           through: "EtherVLANEncap(0x0800, 1:1:1:1:1:1, 2:2:2:2:2:2, 5)") == ["out:   50 | 02020202 02020101 01010101 81000005 08004500 00201234 00004011 00000a00 00010a00 000203e8 0035000c 00006162 6364"])
    }
}

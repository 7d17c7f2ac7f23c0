import ClickElements
import ClickLanguage
import ClickTestSupport
import Testing
@testable import ClickRuntime

/// IPFragmenter against Click 2.1: the same packet through the same configuration prints the
/// same bytes.
@Suite struct IPFragmenterTests {
    /// Click 2.1's userlevel driver prints exactly this for the same configuration.
    @Test func clickAgreesFrag() {
        #expect(clickPrint("4500003c 12340000 40110000 0a000001 0a000002 03e80035 00280000 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
                           through: "MarkIPHeader -> SetIPChecksum -> IPFragmenter(36)") == ["out:   36 | 45000024 12342000 40113493 0a000001 0a000002 03e80035 00280000 00010203 04050607", "out:   36 | 45000024 12342002 40113491 0a000001 0a000002 08090a0b 0c0d0e0f 10111213 14151617", "out:   28 | 4500001c 12340004 40115497 0a000001 0a000002 18191a1b 1c1d1e1f"])
    }
}

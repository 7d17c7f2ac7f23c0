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

    /// Found by scripts/click-differential.py: a DF packet fragmented anyway loses DF and
    /// takes a random IP ID (with RandomSeed(1), Click's IDs 26437 and 50723); a packet
    /// whose IP length exceeds the MTU but whose bytes do not (EXTRA_LENGTH) goes on whole.
    /// Click 2.1 printed these lines.
    @Test func clickAgreesDontFragmentAndExtraLength() throws {
        let payload = "\"0123456789abcdef0123456789abcdef\""
        let s = try ScratchFiles([
            "in": "!data proto src dst ip_id ip_frag ip_len payload\nU 10.0.0.1 10.0.0.2 7 ! 60 \(payload)\n"
                + "U 10.0.0.1 10.0.0.2 8 . 60 \(payload)\nU 10.0.0.1 10.0.0.2 9 ! 60 \(payload)\nU 10.0.0.1 10.0.0.2 10 . 60\n",
        ])
        let (b, _) = buildAndRun("""
            RandomSeed(1); FromIPSummaryDump(\(s.path("in")), STOP true) -> IPFragmenter(40, HONOR_DF false)
                -> ToIPSummaryDump(\(s.path("out")), FIELDS ip_id ip_fragoff ip_len)
            """)
        b.router?.cleanup()
        #expect(try s.dataLines("out") == ["26437 0+ 36", "26437 16+ 36", "26437 32 28", "8 0+ 36", "8 16+ 36", "8 32 28",
                                           "50723 0+ 36", "50723 16+ 36", "50723 32 28", "10 0 60"])
    }
}

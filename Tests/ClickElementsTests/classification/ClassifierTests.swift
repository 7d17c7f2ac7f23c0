import ClickElements
import ClickLanguage
import ClickTestSupport
import Testing
@testable import ClickRuntime

/// Classifier against Click 2.1: the same packet through the same configuration prints the
/// same bytes.
@Suite struct ClassifierTests {
    /// Click 2.1's userlevel driver prints exactly this for the same configuration.
    @Test func clickAgreesClassifier() {
        #expect(clickPrint("020000000002 020000000001 0800 45000020 12340000 40110000 0a000001 0a000002 03e80035 000c0000 61626364",
                           through: "c :: Classifier(12/0806, 12/0800 23/11, -); c[0] -> Print(arp) -> Discard; c[1] -> Print(udp) -> Discard; c[2] -> Print(other) -> Discard; Idle") == ["udp:   46 | 02000000 00020200 00000001 08004500 00201234 00004011"])
    }

    /// Click 2.1's userlevel driver prints exactly this for the same configuration.
    @Test func clickAgreesClassifierArp() {
        #expect(clickPrint("ffffffffffff 020000000001 0806 0001 0800 06 04 0001 020000000001 0a000002 000000000000 0a000001",
                           through: "c :: Classifier(12/0806 20/0001, 12/0800, -); c[0] -> Print(arpreq) -> Discard; c[1] -> Print(ip) -> Discard; c[2] -> Print(other) -> Discard; Idle") == ["arpreq:   42 | ffffffff ffff0200 00000001 08060001 08000604 00010200"])
    }

    /// Found by scripts/click-differential.py: bytes a mask ignores are not tested (a
    /// 20-byte packet matches `47/f0%00`), a negated clause that tests nothing never holds,
    /// and outputs no packet can reach are named. Click 2.1 printed exactly these lines.
    @Test func clickAgreesMaskedOutBytesAndUnreachableOutputs() {
        let (b, lines) = buildAndRun("""
            InfiniteSource(LENGTH 20, LIMIT 1, STOP true) -> o :: Classifier(!47/5bf?%000f, 47/f0%00, -);
            o[0] -> Print(zero, 0) -> Discard; o[1] -> Print(one, 0) -> Discard; o[2] -> Print(two, 0) -> Discard
            """)
        #expect(b.log.text.contains("config:1: While configuring 'o :: Classifier':\n  warning: output 0 matches no packets\n  warning: output 2 matches no packets"), "\(b.log.text)")
        #expect(lines == ["one:   20"])
    }
}

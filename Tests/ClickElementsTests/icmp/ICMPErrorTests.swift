import ClickElements
import ClickLanguage
import ClickTestSupport
import Testing
@testable import ClickRuntime

/// ICMPError against Click 2.1: the same packet through the same configuration prints the
/// same bytes.
@Suite struct ICMPErrorTests {
    /// Click 2.1's userlevel driver prints exactly this for the same configuration.
    @Test func clickAgreesIcmperr() {
        #expect(clickPrint("45000020 12340000 40110000 0a000001 0a000002 03e80035 000c0000 61626364",
                           through: "MarkIPHeader -> SetIPChecksum -> ICMPError(10.0.0.9, unreachable, host)") == ["out:   60 | 4500003c 00010000 c801deb6 0a000009 0a000001 0301340f 00000000 45000020 12340000 40115497 0a000001 0a000002 03e80035 000c0000 61626364"])
    }

    /// Click 2.1's userlevel driver prints exactly this for the same configuration.
    @Test func clickAgreesIcmperrParam() {
        #expect(clickPrint("45000020 12340000 40110000 0a000001 0a000002 03e80035 000c0000 61626364",
                           through: "MarkIPHeader -> SetIPChecksum -> ICMPError(10.0.0.9, parameterproblem)") == ["out:   60 | 4500003c 00010000 c801deb6 0a000009 0a000001 0c002b10 00000000 45000020 12340000 40115497 0a000001 0a000002 03e80035 000c0000 61626364"])
    }

    /// Found by scripts/click-differential.py: a source-routed packet gets no redirect, and
    /// other errors about it carry the route reversed (RFC 1812 4.3.2.6). Click 2.1 printed
    /// exactly this line (and nothing for the redirect).
    @Test func clickAgreesSourceRoutedPackets() {
        let hex = "48000028 12340000 40110000 0a000001 0a000002 830b0812 1a040912 1a040a00 03e80035 00080000"
        let (_, lines) = buildAndRun("""
            InfiniteSource(DATA \\<\(hex)>, LIMIT 1, STOP true) -> MarkIPHeader -> SetIPChecksum -> t :: Tee
                -> ICMPError(18.26.4.1, unreachable, host) -> Print(out, 96) -> Discard;
            t[1] -> ICMPError(18.26.4.1, redirect, host) -> Print(redirect, 96) -> Discard
            """)
        #expect(lines == ["out:   76 | 4700004c 00010000 c8012677 121a0401 0a000001 83070412 1a040900 0301f8d9 00000000 48000028 12340000 40117f57 0a000001 0a000002 830b0812 1a040912 1a040a00 03e80035 00080000"])
    }
}

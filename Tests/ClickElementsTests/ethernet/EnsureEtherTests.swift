import ClickElements
import ClickLanguage
import ClickTestSupport
import Testing
@testable import ClickRuntime

/// EnsureEther against Click 2.1: the same configuration printed these lines.
@Suite struct EnsureEtherTests {
    @Test func clickAgreesEnsureEther() {
        let ip = "45000014 00000000 40110000 0a000001 0a000002"
        let (b, lines) = buildAndRun("""
            InfiniteSource(DATA \\<\(ip)>, LIMIT 1, STOP true) -> MarkIPHeader -> t :: Tee(3) -> EnsureEther -> Print(plain, 40) -> Discard;
            t[1] -> EtherEncap(0x0800, 1:1:1:1:1:1, 3:3:3:3:3:3) -> Strip(14) -> MarkIPHeader
                -> EnsureEther(0x86dd, a:a:a:a:a:a, b:b:b:b:b:b) -> Print(restored, 40) -> Discard;
            t[2] -> EtherEncap(0x0800, 4:4:4:4:4:4, 5:5:5:5:5:5) -> MarkIPHeader(14) -> EnsureEther -> Print(kept, 40) -> Discard;
            InfiniteSource(LIMIT 1, STOP true, LENGTH 8) -> EnsureEther -> Print(noip, 40) -> Discard
            """)
        #expect(b.router != nil, "\(b.log.text)")
        // Without addresses, the new header's addresses are whatever the headroom held (in
        // Click the previous packet's, here too or another router's in the same process).
        let sorted = lines.sorted()
        #expect(sorted.count == 4)
        #expect(sorted.filter { !$0.hasPrefix("plain:") } == [
            "kept:   34 | 05050505 05050404 04040404 08004500 00140000 00004011 00000a00 00010a00 0002",
            "noip:    8 | 52616e64 6f6d2062",
            "restored:   34 | 03030303 03030101 01010101 08004500 00140000 00004011 00000a00 00010a00 0002",
        ])
        let plain = sorted.first { $0.hasPrefix("plain:") } ?? ""
        #expect(plain.hasPrefix("plain:   34 | ") && plain.hasSuffix(" 08004500 00140000 00004011 00000a00 00010a00 0002"), "\(plain)")
    }
}

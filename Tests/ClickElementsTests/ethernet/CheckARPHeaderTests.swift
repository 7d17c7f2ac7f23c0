import ClickElements
import ClickLanguage
import ClickTestSupport
import Testing
@testable import ClickRuntime

/// CheckARPHeader against Click 2.1: the same configuration printed these lines (Click's
/// `drop_details` starts from uninitialized counters, so only their names and the last two
/// lines agree there; ours count from zero).
@Suite struct CheckARPHeaderTests {
    @Test func clickAgreesCheckARPHeader() throws {
        let good = "00010800 06040001 00112233 44550a00 00010000 00000000 0a000002"
        let badHardware = "00010800 05040001 00112233 440a0000 01000000 0000000a 000002aa"
        let (b, lines) = buildAndRun("""
            InfiniteSource(DATA \\<\(good)>, LIMIT 1, STOP true) -> c :: CheckARPHeader(VERBOSE true, DETAILS true) -> Print(ok, 8) -> Discard;
            InfiniteSource(DATA \\<\(badHardware)>, LIMIT 1, STOP true) -> c;
            InfiniteSource(DATA \\<00010800 06050001>, LIMIT 1, STOP true) -> c;
            InfiniteSource(DATA \\<0001>, LIMIT 1, STOP true) -> c; c[1] -> Print(bad, 8) -> Discard
            """)
        let r = try #require(b.router, "\(b.log.text)")
        #expect(lines == ["ok:   28 | 00010800 06040001", "ARP header check failed: bad hardware type/length", "bad:   28 | 00010800 05040001",
                          "ARP header check failed: too small for addresses", "bad:    8 | 00010800 06050001",
                          "ARP header check failed: tiny packet", "bad:    2 | 0001"])
        #expect(try r.read("c.drops") == "3")
        #expect(try r.read("c.drop_details") == "1\ttiny packet\n1\ttoo small for addresses\n1\tbad hardware type/length\n0\tbad protocol type/length\n")
    }
}

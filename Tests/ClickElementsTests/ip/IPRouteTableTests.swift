import ClickElements
import ClickLanguage
import ClickTestSupport
import Testing
@testable import ClickRuntime

/// IPRouteTable against Click 2.1: the same packet through the same configuration prints the
/// same bytes.
@Suite struct IPRouteTableTests {
    /// Click 2.1's userlevel driver prints exactly this for the same configuration.
    @Test func clickAgreesLookupStaticIPLookup() {
        #expect(clickPrint("45000020 12340000 40110000 0a000001 0a010203 03e80035 000c0000 61626364",
                           through: "MarkIPHeader -> SetIPChecksum -> CheckIPHeader -> r :: StaticIPLookup(10.0.0.0/24 0, 10.1.0.0/16 10.0.0.254 1, 0.0.0.0/0 10.0.0.1 2); r[0] -> Print(o0) -> Discard; r[1] -> StoreIPAddress(12) -> Print(o1) -> Discard; r[2] -> Print(o2) -> Discard; Idle") == ["o1:   32 | 45000020 12340000 40115295 0a0000fe 0a010203 03e80035"])
    }

    /// Click 2.1's userlevel driver prints exactly this for the same configuration.
    @Test func clickAgreesLookupLinearIPLookup() {
        #expect(clickPrint("45000020 12340000 40110000 0a000001 0a010203 03e80035 000c0000 61626364",
                           through: "MarkIPHeader -> SetIPChecksum -> CheckIPHeader -> r :: LinearIPLookup(10.0.0.0/24 0, 10.1.0.0/16 10.0.0.254 1, 0.0.0.0/0 10.0.0.1 2); r[0] -> Print(o0) -> Discard; r[1] -> StoreIPAddress(12) -> Print(o1) -> Discard; r[2] -> Print(o2) -> Discard; Idle") == ["o1:   32 | 45000020 12340000 40115295 0a0000fe 0a010203 03e80035"])
    }

    /// Click 2.1's userlevel driver prints exactly this for the same configuration.
    @Test func clickAgreesLookupRadixIPLookup() {
        #expect(clickPrint("45000020 12340000 40110000 0a000001 0a010203 03e80035 000c0000 61626364",
                           through: "MarkIPHeader -> SetIPChecksum -> CheckIPHeader -> r :: RadixIPLookup(10.0.0.0/24 0, 10.1.0.0/16 10.0.0.254 1, 0.0.0.0/0 10.0.0.1 2); r[0] -> Print(o0) -> Discard; r[1] -> StoreIPAddress(12) -> Print(o1) -> Discard; r[2] -> Print(o2) -> Discard; Idle") == ["o1:   32 | 45000020 12340000 40115295 0a0000fe 0a010203 03e80035"])
    }

    /// Click 2.1's userlevel driver prints exactly this for the same configuration.
    @Test func clickAgreesLookupDirectIPLookup() {
        #expect(clickPrint("45000020 12340000 40110000 0a000001 0a010203 03e80035 000c0000 61626364",
                           through: "MarkIPHeader -> SetIPChecksum -> CheckIPHeader -> r :: DirectIPLookup(10.0.0.0/24 0, 10.1.0.0/16 10.0.0.254 1, 0.0.0.0/0 10.0.0.1 2); r[0] -> Print(o0) -> Discard; r[1] -> StoreIPAddress(12) -> Print(o1) -> Discard; r[2] -> Print(o2) -> Discard; Idle") == ["o1:   32 | 45000020 12340000 40115295 0a0000fe 0a010203 03e80035"])
    }

    /// Click 2.1's userlevel driver prints exactly this for the same configuration.
    @Test func clickAgreesLookupRangeIPLookup() {
        #expect(clickPrint("45000020 12340000 40110000 0a000001 0a010203 03e80035 000c0000 61626364",
                           through: "MarkIPHeader -> SetIPChecksum -> CheckIPHeader -> r :: RangeIPLookup(10.0.0.0/24 0, 10.1.0.0/16 10.0.0.254 1, 0.0.0.0/0 10.0.0.1 2); r[0] -> Print(o0) -> Discard; r[1] -> StoreIPAddress(12) -> Print(o1) -> Discard; r[2] -> Print(o2) -> Discard; Idle") == ["o1:   32 | 45000020 12340000 40115295 0a0000fe 0a010203 03e80035"])
    }
}

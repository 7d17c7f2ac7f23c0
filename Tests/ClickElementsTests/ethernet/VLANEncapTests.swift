import ClickElements
import ClickLanguage
import ClickTestSupport
import Foundation
import Testing
@testable import ClickRuntime

@Suite struct VLANEncapTests {
    @Test func encapDecapRoundTrip() throws {
        let b = build("inj :: Injector -> VLANEncap(42, 5) -> t :: Collector; inj2 :: Injector -> VLANEncap(7) -> VLANDecap -> StripEtherVLANHeader -> u :: Collector; inj3 :: Injector -> EtherVLANEncap(0x0800, 00:00:00:00:00:01, 00:00:00:00:00:02, 9) -> v :: Collector")
        let frame = Frames.ether(dst: [0, 0, 0, 0, 0, 2], src: [0, 0, 0, 0, 0, 1], type: 0x0800, [0xAB, 0xCD])
        try #require(b.element("inj", as: Injector.self), "\(b.log.text)").inject([frame])
        let tagged = try #require(b.element("t", as: Collector.self)?.packets.first)
        #expect(Array(tagged[12..<16]) == [0x81, 0x00, 0xA0, 42])
        #expect(Array(tagged[16...]) == [0x08, 0x00, 0xAB, 0xCD])
        try #require(b.element("inj2", as: Injector.self)).inject([frame])
        #expect(b.element("u", as: Collector.self)?.packets == [[0xAB, 0xCD]])
        try #require(b.element("inj3", as: Injector.self)).inject([[1]])
        #expect(b.element("v", as: Collector.self)?.packets.first.map { Array($0[12..<19]) } == [0x81, 0, 0, 9, 0x08, 0x00, 1])
    }

    @Test func vlanKeywords() throws {
        let frame = [UInt8](repeating: 0xAA, count: 6) + [UInt8](repeating: 0xBB, count: 6) + [0x08, 0x00] + [UInt8](repeating: 0, count: 20)
        let b = build("""
            inj :: Injector -> VLANEncap(5, ETHERTYPE 0x88a8) -> col :: Collector;
            """)
        _ = try #require(b.router, "\(b.log.text)")
        try #require(b.element("inj", as: Injector.self)).inject([frame])
        let tagged = try #require(b.element("col", as: Collector.self)?.packets.first)
        #expect(Array(tagged[12..<16]) == [0x88, 0xA8, 0x00, 0x05])

        // NATIVE_VLAN -1: untagged frames leave on output 1.
        let s = build("inj :: Injector -> v :: StripEtherVLANHeader(-1) -> Discard; v [1] -> col :: Collector")
        _ = try #require(s.router, "\(s.log.text)")
        try #require(s.element("inj", as: Injector.self)).inject([frame])
        #expect(s.element("col", as: Collector.self)?.packets.count == 1)
    }

    /// Click 2.1's userlevel driver prints exactly this for the same configuration.
    @Test func clickAgreesVlanencap() {
        #expect(clickPrint("020000000002 020000000001 0800 45000020 12340000 40110000 0a000001 0a000002 03e80035 000c0000 61626364",
                           through: "VLANEncap(VLAN_TCI 7)") == ["out:   50 | 02000000 00020200 00000001 81000007 08004500 00201234 00004011 00000a00 00010a00 000203e8 0035000c 00006162 6364"])
    }

    /// Click 2.1's userlevel driver prints exactly this for the same configuration.
    @Test func clickAgreesVlanencap2() {
        #expect(clickPrint("020000000002 020000000001 0800 45000020",
                           through: "VLANEncap(42, 5)") == ["out:   22 | 02000000 00020200 00000001 8100a02a 08004500 0020"])
    }

    /// Click 2.1's userlevel driver prints exactly this for the same configuration.
    @Test func clickAgreesVlanencap3() {
        #expect(clickPrint("020000000002 020000000001 0800 45000020",
                           through: "VLANEncap(VLAN_ID 42, NATIVE_VLAN -1, ETHERTYPE 0x88a8)") == ["out:   22 | 02000000 00020200 00000001 88a8002a 08004500 0020"])
    }

    /// Click 2.1's userlevel driver prints exactly this for the same configuration.
    @Test func clickAgreesVlanencap4() {
        #expect(clickPrint("020000000002 020000000001 0800 45000020",
                           through: "VLANEncap(0, NATIVE_VLAN -1)") == ["out:   22 | 02000000 00020200 00000001 81000000 08004500 0020"])
    }

    /// Click 2.1's userlevel driver prints exactly this for the same configuration.
    @Test func clickAgreesVlanencap5() {
        #expect(clickPrint("020000000002 020000000001 0800 45000020",
                           through: "VLANEncap(8, 9)") == ["config:1: While configuring 'VLANEncap@2 :: VLANEncap':", "  VLAN_PCP: out of range, bound 7", "Router could not be initialized!"])
    }
}

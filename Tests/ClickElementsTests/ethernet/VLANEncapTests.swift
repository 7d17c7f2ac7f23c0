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
}

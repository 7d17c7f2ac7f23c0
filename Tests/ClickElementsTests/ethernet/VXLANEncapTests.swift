import ClickElements
import ClickLanguage
import ClickTestSupport
import Testing
@testable import ClickRuntime

/// VXLAN encapsulation as RFC 7348 lays it out, and decapsulation by VNI.
@Suite struct VXLANEncapTests {
    static let inner = Frames.ether(dst: [2, 0, 0, 0, 0, 2], src: [2, 0, 0, 0, 0, 1], type: 0x0800,
                                    Frames.ipv4(src: [10, 1, 0, 2], dst: [10, 2, 0, 100], proto: 17, sport: 5000, dport: 53))

    @Test func encapsulationIsRFC7348OverUDP4789() throws {
        let b = build("i :: Injector -> VXLANEncap(VNI 0x123456) -> UDPIPEncap(192.168.0.1, 4789, 192.168.0.2, 4789) -> k :: Collector")
        let r = try #require(b.router, "\(b.log.text)")
        try #require(r.element(named: "i") as? Injector).inject([Self.inner])
        let collector = try #require(r.element(named: "k") as? Collector)
        let out = try #require(collector.packets.first)
        #expect(out.count == 20 + 8 + 8 + Self.inner.count)
        #expect(out[9] == 17 && out[22] == 0x12 && out[23] == 0xB5, "UDP to port 4789")
        let vxlan = Array(out[28..<36])
        #expect(vxlan == [0x08, 0, 0, 0, 0x12, 0x34, 0x56, 0], "I flag, reserved, VNI, reserved")
        #expect(Array(out[36...]) == Self.inner)
    }

    @Test func roundTripThroughBothAndArgumentErrors() throws {
        let b = build("i :: Injector -> VXLANEncap(99) -> VXLANDecap(99) -> k :: Collector")
        let r = try #require(b.router, "\(b.log.text)")
        try #require(r.element(named: "i") as? Injector).inject([Self.inner])
        #expect(try #require(r.element(named: "k") as? Collector).packets == [Self.inner])
        #expect(build("Idle -> VXLANEncap(16777216) -> Discard").log.errorMessages.contains("  VNI: out of range, bound 16777215"))
        #expect(build("Idle -> VXLANDecap(5, 5) -> Discard").log.errorMessages.contains("  VNI 5 given twice"))
        #expect(build("Idle -> d :: VXLANDecap(5) -> Discard; d[1] -> Discard; d[2] -> Discard; d[3] -> Discard").log.errorMessages
            .contains("  1 VNIs need 1 to 3 outputs, not 4"))
    }
}

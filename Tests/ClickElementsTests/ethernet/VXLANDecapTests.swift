import ClickElements
import ClickLanguage
import ClickTestSupport
import Testing
@testable import ClickRuntime

@Suite struct VXLANDecapTests {
    @Test func decapsulationDispatchesByVNIAndRefusesWhatIsNotVXLAN() throws {
        let b = build("""
            i :: Injector -> d :: VXLANDecap(7, 42) => [0] a :: Collector, [0] c :: Collector, [0] unknown :: Collector, [0] bad :: Collector
            """)
        let r = try #require(b.router, "\(b.log.text)")
        func vxlan(_ vni: UInt32, flags: UInt8 = 0x08) -> [UInt8] {
            [flags, 0, 0, 0, UInt8(vni >> 16), UInt8((vni >> 8) & 0xFF), UInt8(vni & 0xFF), 0] + VXLANEncapTests.inner
        }
        try #require(r.element(named: "i") as? Injector).inject([vxlan(42), vxlan(7), vxlan(8), vxlan(7, flags: 0), [0x08, 0, 0]])
        func got(_ name: String) -> [[UInt8]] { (r.element(named: name) as? Collector)?.packets ?? [] }
        #expect(got("a") == [VXLANEncapTests.inner])
        #expect(got("c") == [VXLANEncapTests.inner])
        #expect(got("unknown").count == 1)
        #expect(got("bad").count == 2)
        #expect(try r.read("d.count") == "2" && r.read("d.unknown_vni") == "1" && r.read("d.bad") == "2")
    }
}

import ClickElements
import ClickLanguage
import ClickTestSupport
import Testing
@testable import ClickRuntime

@Suite struct IPInputComboTests {
    static let mac: [UInt8] = [0, 1, 2, 3, 4, 5]

    @Test func inputComboChecksAndStrips() throws {
        let b = build("i :: Injector -> c :: IPInputCombo(2, 10.0.0.255) -> ok :: Collector; c [1] -> bad :: Collector")
        let r = try #require(b.router, "\(b.log.text)")
        let good = Frames.ipv4(src: [10, 0, 0, 1], dst: [10, 0, 0, 2])
        var corrupt = good
        corrupt[10] ^= 0xFF
        let fromBroadcast = Frames.ipv4(src: [10, 0, 0, 255], dst: [10, 0, 0, 2])
        try #require(b.element("i", as: Injector.self)).inject([good, corrupt, fromBroadcast].map { Frames.ether(dst: Self.mac, src: Self.mac, type: 0x0800, $0) })
        let ok = try #require(b.element("ok", as: Collector.self))
        #expect(ok.packets == [good])
        #expect(ok.paints == [2])
        #expect(b.element("bad", as: Collector.self)?.packets.count == 2)
        #expect(try r.read("c.drops") == "2")
    }

    @Test func outputComboSortsPacketsLikeTheRouterPath() throws {
        let b = build("""
            i :: Injector -> MarkIPHeader -> p :: Paint(1) -> o :: IPOutputCombo(1, 10.0.0.1, 576)
            o [0] -> out :: Collector; o [1] -> redirect :: Collector; o [2] -> badopt :: Collector
            o [3] -> expired :: Collector; o [4] -> toobig :: Collector
            """)
        let r = try #require(b.router, "\(b.log.text)")
        let inject = try #require(b.element("i", as: Injector.self))
        let normal = Frames.ipv4(src: [1, 0, 0, 1], dst: [2, 0, 0, 2])
        inject.inject([normal])
        #expect(b.element("out", as: Collector.self)?.packets.first.map { $0[8] } == 63)   // TTL decremented
        #expect(b.element("redirect", as: Collector.self)?.packets == [normal])           // painted like its way in
        try r.write("p.color", "0")
        inject.inject([Frames.ipv4(src: [1, 0, 0, 1], dst: [2, 0, 0, 2], ttl: 1)])
        #expect(b.element("expired", as: Collector.self)?.packets.count == 1)
        inject.inject([Frames.ipv4(src: [1, 0, 0, 1], dst: [2, 0, 0, 2], payload: 1000, df: true)])
        #expect(b.element("toobig", as: Collector.self)?.packets.count == 1)
        inject.inject([Frames.ipv4(src: [1, 0, 0, 1], dst: [2, 0, 0, 2], payload: 1000)])
        let out = try #require(b.element("out", as: Collector.self)).packets
        #expect(out.count == 1 + 2)   // the normal packet, then two fragments
        #expect(out.dropFirst().allSatisfy { $0.count <= 576 && Frames.isValidIPChecksum($0[...]) })
        // A Record Route option whose pointer is out of range: parameter problem.
        inject.inject([Frames.ipv4(src: [1, 0, 0, 1], dst: [2, 0, 0, 2], options: [7, 7, 2, 0, 0, 0, 0, 0])])
        #expect(b.element("badopt", as: Collector.self)?.packets.count == 1)
        #expect(r.pool.outstanding == 0)
    }
}

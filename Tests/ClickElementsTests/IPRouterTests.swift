import ClickElements
import ClickLanguage
import Foundation
import ClickTestSupport
import Testing
@testable import ClickRuntime

/// The two-interface IP router of chains/lib/iprouter.click, driven with hand-built frames.
@Suite struct IPRouterTests {
    static let library = repositoryRoot.appendingPathComponent("chains/lib/iprouter.click").path

    static let eth0: [UInt8] = [0x00, 0x00, 0xc0, 0xae, 0x67, 0xef]
    static let eth1: [UInt8] = [0x00, 0x00, 0xc0, 0x4f, 0x71, 0xef]
    static let next1: [UInt8] = [0x00, 0x00, 0xc0, 0x00, 0x00, 0x02]
    static let host0: [UInt8] = [0x00, 0x11, 0x22, 0x33, 0x44, 0x55]

    func router() -> Built {
        build("""
            require(library \(Self.library));
            r :: IPRouter2(1.0.0.1, 1.0.0.0/8, 00:00:c0:ae:67:ef, 00:00:c0:00:00:01, 2.0.0.1, 2.0.0.0/8, 00:00:c0:4f:71:ef, 00:00:c0:00:00:02);
            in0 :: Injector -> [0] r; in1 :: Injector -> [1] r;
            r [0] -> out0 :: Collector; r [1] -> out1 :: Collector; r [2] -> local :: Collector;
            """)
    }

    @Test func forwardsDecrementingTTLAndRewritingEthernet() throws {
        let b = router()
        let in0 = try #require(b.element("in0", as: Injector.self), "\(b.log.text)")
        let packet = Frames.ipv4(src: [1, 0, 0, 2], dst: [2, 0, 0, 2], ttl: 64)
        in0.inject([Frames.ether(dst: Self.eth0, src: Self.host0, type: 0x0800, packet)])
        let out = try #require(b.element("out1", as: Collector.self)?.packets.first)
        #expect(Array(out[0..<6]) == Self.next1)
        #expect(Array(out[6..<12]) == Self.eth1)
        #expect(out[12] == 0x08 && out[13] == 0x00)
        #expect(out[14 + 8] == 63)
        #expect(Frames.isValidIPChecksum(out[14...]))
        #expect(Array(out[34...]) == Array(packet[20...]))
        #expect(b.element("out0", as: Collector.self)?.packets.isEmpty == true)
    }

    @Test func expiredTTLGetsTimeExceededBackOutTheInputInterface() throws {
        let b = router()
        let in0 = try #require(b.element("in0", as: Injector.self), "\(b.log.text)")
        in0.inject([Frames.ether(dst: Self.eth0, src: Self.host0, type: 0x0800, Frames.ipv4(src: [1, 0, 0, 2], dst: [2, 0, 0, 2], ttl: 1))])
        #expect(b.element("out1", as: Collector.self)?.packets.isEmpty == true)
        let icmp = try #require(b.element("out0", as: Collector.self)?.packets.first)
        let ip = icmp[14...]
        #expect(Array(ip[ip.startIndex + 12..<ip.startIndex + 16]) == [1, 0, 0, 1])   // from the router's interface 0
        #expect(Array(ip[ip.startIndex + 16..<ip.startIndex + 20]) == [1, 0, 0, 2])   // to the sender
        #expect(ip[ip.startIndex + 9] == 1)
        #expect(ip[ip.startIndex + 20] == 11 && ip[ip.startIndex + 21] == 0)           // time exceeded
        #expect(Frames.isValidIPChecksum(ip))
        #expect(Frames.checksum(ip[(ip.startIndex + 20)...]) == 0)
    }

    @Test func answersARPForItsAddress() throws {
        let b = router()
        let in1 = try #require(b.element("in1", as: Injector.self), "\(b.log.text)")
        in1.inject([Frames.arpRequest(senderEther: Self.host0, senderIP: [2, 0, 0, 9], targetIP: [2, 0, 0, 1])])
        in1.inject([Frames.arpRequest(senderEther: Self.host0, senderIP: [2, 0, 0, 9], targetIP: [2, 0, 0, 77])])
        let replies = try #require(b.element("out1", as: Collector.self)?.packets)
        #expect(replies.count == 1)
        let r = try #require(replies.first)
        #expect(Array(r[0..<6]) == Self.host0)
        #expect(Array(r[22..<28]) == Self.eth1)
        #expect(Array(r[28..<32]) == [2, 0, 0, 1])
        #expect(r[20] == 0 && r[21] == 2)
    }

    @Test func badHeadersAndLocalTraffic() throws {
        let b = router()
        let in0 = try #require(b.element("in0", as: Injector.self), "\(b.log.text)")
        var bad = Frames.ipv4(src: [1, 0, 0, 2], dst: [2, 0, 0, 2])
        bad[10] ^= 0xFF
        in0.inject([Frames.ether(dst: Self.eth0, src: Self.host0, type: 0x0800, bad)])
        in0.inject([Frames.ether(dst: Self.eth0, src: Self.host0, type: 0x0800, Frames.ipv4(src: [1, 0, 0, 2], dst: [1, 0, 0, 1]))])
        #expect(b.element("out1", as: Collector.self)?.packets.isEmpty == true)
        #expect(b.element("local", as: Collector.self)?.packets.count == 1)
        #expect(try b.router?.read("r/CheckIPHeader@7.drops") == "1")
        #expect(b.router?.pool.outstanding == 0)
    }

    @Test func fragmentsWhatExceedsTheMTU() throws {
        let b = router()
        let in0 = try #require(b.element("in0", as: Injector.self), "\(b.log.text)")
        let big = Frames.ipv4(src: [1, 0, 0, 2], dst: [2, 0, 0, 2], payload: 1800)
        in0.inject([Frames.ether(dst: Self.eth0, src: Self.host0, type: 0x0800, big)])
        let frags = try #require(b.element("out1", as: Collector.self)?.packets)
        #expect(frags.count == 2)
        let first = frags[0][14...], second = frags[1][14...]
        #expect(Int(first[first.startIndex + 2]) << 8 | Int(first[first.startIndex + 3]) <= 1500)
        #expect(first[first.startIndex + 6] & 0x20 != 0)                          // more fragments
        #expect(second[second.startIndex + 6] & 0x20 == 0)
        #expect(Frames.isValidIPChecksum(first) && Frames.isValidIPChecksum(second))
        let payloadBytes = (first.count - 20) + (second.count - 20)
        #expect(payloadBytes == big.count - 20)
    }

    @Test func dontFragmentGetsNeedFrag() throws {
        let b = router()
        let in0 = try #require(b.element("in0", as: Injector.self), "\(b.log.text)")
        // DF set: "fragmentation needed" comes back instead.
        let df = Frames.ipv4(src: [1, 0, 0, 2], dst: [2, 0, 0, 2], payload: 1800, df: true)
        in0.inject([Frames.ether(dst: Self.eth0, src: Self.host0, type: 0x0800, df)])
        #expect(b.element("out0", as: Collector.self)?.packets.count == 1)
        #expect(b.router?.pool.outstanding == 0)
        let back = try #require(b.element("out0", as: Collector.self)?.packets.last)
        #expect(back[14 + 20] == 3 && back[14 + 21] == 4)
        #expect(Int(back[14 + 26]) << 8 | Int(back[14 + 27]) == 1500)
    }
}

import ClickElements
import ClickLanguage
import ClickTestSupport
import Testing
@testable import ClickRuntime

/// IPAddrRewriter, IPAddrPairRewriter and ICMPRewriter on hand-built IP packets.
@Suite struct IPAddrRewriterTests {
    /// An IP (no Ethernet) UDP packet with valid checksums.
    static func udp(_ src: [UInt8], _ sport: UInt16, _ dst: [UInt8], _ dport: UInt16) -> [UInt8] {
        var ip = Frames.ipv4(src: src, dst: dst, proto: 17, payload: 6, sport: sport, dport: dport)
        IPRewriterTests.fixTransportChecksum(&ip)
        return ip
    }

    static func udpValid(_ ip: [UInt8]) -> Bool { IPRewriterTests.transportChecksumValid([UInt8](repeating: 0, count: 14) + ip) }

    struct Packet4: Equatable { var src: [UInt8], sport: UInt16, dst: [UInt8], dport: UInt16 }
    static func flow(_ ip: [UInt8]) -> Packet4 {
        Packet4(src: Array(ip[12..<16]), sport: UInt16(ip[20]) << 8 | UInt16(ip[21]), dst: Array(ip[16..<20]), dport: UInt16(ip[22]) << 8 | UInt16(ip[23]))
    }

    func router(_ rewriter: String) throws -> (Built, Injector, Injector) {
        let b = build("""
            out :: Injector -> CheckIPHeader -> [0] rw :: \(rewriter); back :: Injector -> CheckIPHeader -> [1] rw
            rw [0] -> o0 :: Collector; rw [1] -> o1 :: Collector
            """)
        _ = try #require(b.router, "\(b.log.text)")
        return (b, try #require(b.element("out", as: Injector.self)), try #require(b.element("back", as: Injector.self)))
    }

    @Test func ipAddrRewriterMapsSourcesOnly() throws {
        let (b, out, back) = try router("IPAddrRewriter(pattern 1.0.0.1 - 0 1, drop)")
        out.inject([Self.udp([10, 0, 0, 5], 3000, [8, 8, 8, 8], 53), Self.udp([10, 0, 0, 5], 4000, [9, 9, 9, 9], 80)])
        back.inject([Self.udp([8, 8, 8, 8], 53, [1, 0, 0, 1], 3000), Self.udp([7, 7, 7, 7], 1, [1, 0, 0, 2], 1)])
        let o0 = try #require(b.element("o0", as: Collector.self)).packets
        let o1 = try #require(b.element("o1", as: Collector.self)).packets
        // One mapping for the source, whatever the destination or ports.
        #expect(o0.map(Self.flow) == [Packet4(src: [1, 0, 0, 1], sport: 3000, dst: [8, 8, 8, 8], dport: 53),
                                      Packet4(src: [1, 0, 0, 1], sport: 4000, dst: [9, 9, 9, 9], dport: 80)])
        // The reply to 1.0.0.1 goes back to 10.0.0.5; the packet to 1.0.0.2 matches nothing.
        #expect(o1.map(Self.flow) == [Packet4(src: [8, 8, 8, 8], sport: 53, dst: [10, 0, 0, 5], dport: 3000)])
        #expect((o0 + o1).allSatisfy { Frames.isValidIPChecksum($0[...]) && Self.udpValid($0) })
        #expect(try b.router?.read("rw.size") == "1")
        // As in Click, a pattern that would change the destination loads, and makes no flow.
        let (odd, oddOut, _) = try router("IPAddrRewriter(pattern 1.0.0.1 2.0.0.1 0 1, drop)")
        oddOut.inject([Self.udp([10, 0, 0, 5], 3000, [8, 8, 8, 8], 53)])
        #expect(try odd.router?.read("rw.size") == "0")
        #expect(try #require(odd.element("o0", as: Collector.self)).packets.isEmpty)
    }

    @Test func ipAddrPairRewriterKeysOnBothAddresses() throws {
        let (b, out, back) = try router("IPAddrPairRewriter(pattern 1.0.0.1-1.0.0.9# - 0 1, drop)")
        out.inject([Self.udp([10, 0, 0, 5], 1, [8, 8, 8, 8], 2), Self.udp([10, 0, 0, 5], 1, [9, 9, 9, 9], 2), Self.udp([10, 0, 0, 5], 7, [8, 8, 8, 8], 7)])
        back.inject([Self.udp([9, 9, 9, 9], 2, [1, 0, 0, 2], 1)])
        let o0 = try #require(b.element("o0", as: Collector.self)).packets.map(Self.flow)
        #expect(o0.map(\.src) == [[1, 0, 0, 1], [1, 0, 0, 2], [1, 0, 0, 1]])
        #expect(try #require(b.element("o1", as: Collector.self)).packets.map(Self.flow) == [Packet4(src: [9, 9, 9, 9], sport: 2, dst: [10, 0, 0, 5], dport: 1)])
        #expect(try b.router?.read("rw.size") == "2")
    }

    /// An ICMP error from `from` to `to`, quoting the first 28 bytes of `offending`.
    static func icmpError(from: [UInt8], to: [UInt8], type: UInt8 = 3, code: UInt8 = 3, quoting offending: [UInt8]) -> [UInt8] {
        var icmp: [UInt8] = [type, code, 0, 0, 0, 0, 0, 0] + offending.prefix(28)
        let c = Frames.checksum(icmp[...])
        icmp[2] = UInt8(c >> 8)
        icmp[3] = UInt8(c & 0xFF)
        var ip = Frames.ipv4(src: from, dst: to, proto: 1, payload: 0)
        ip.removeLast(8)
        let total = 20 + icmp.count
        ip[2] = UInt8(total >> 8)
        ip[3] = UInt8(total & 0xFF)
        ip[10] = 0
        ip[11] = 0
        let ipc = Frames.checksum(ip[0..<20])
        ip[10] = UInt8(ipc >> 8)
        ip[11] = UInt8(ipc & 0xFF)
        return ip + icmp
    }

}

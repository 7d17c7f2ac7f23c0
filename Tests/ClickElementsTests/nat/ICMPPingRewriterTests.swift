import ClickElements
import ClickLanguage
import ClickTestSupport
import Testing
@testable import ClickRuntime

@Suite struct ICMPPingRewriterTests {
    static func ping(src: [UInt8], dst: [UInt8], type: UInt8, id: UInt16) -> [UInt8] {
        var ip = Frames.ipv4(src: src, dst: dst, proto: 1, payload: 8, sport: UInt16(type) << 8, dport: 0)
        ip[24] = UInt8(id >> 8)
        ip[25] = UInt8(id & 0xFF)
        ip[26] = 0
        ip[27] = 1
        ip[22] = 0
        ip[23] = 0
        let c = Frames.checksum(ip[20...])
        ip[22] = UInt8(c >> 8)
        ip[23] = UInt8(c & 0xFF)
        return Frames.ether(dst: IPRewriterTests.mac, src: IPRewriterTests.mac, type: 0x0800, ip)
    }

    @Test func pingsAreTranslatedBothWays() throws {
        var nat = try ChainFunction("nat.click")
        let client: [UInt8] = [10, 1, 0, 5], server: [UInt8] = [1, 1, 1, 1]
        nat.send([Self.ping(src: client, dst: server, type: 8, id: 777)], port: 0)
        let out = try #require(nat.take(port: 1).first)
        #expect(Array(out[26..<30]) == [10, 2, 0, 1])
        #expect(Frames.checksum(out[34...]) == 0 && Frames.isValidIPChecksum(out[14...]))
        let id = UInt16(out[38]) << 8 | UInt16(out[39])
        nat.send([Self.ping(src: server, dst: [10, 2, 0, 1], type: 0, id: id)], port: 1)
        let back = try #require(nat.take(port: 0).first)
        #expect(Array(back[30..<34]) == client)
        #expect(UInt16(back[38]) << 8 | UInt16(back[39]) == 777)
        #expect(Frames.checksum(back[34...]) == 0 && Frames.isValidIPChecksum(back[14...]))
        // An unsolicited reply is dropped.
        nat.send([Self.ping(src: server, dst: [10, 2, 0, 1], type: 0, id: 4242)], port: 1)
        #expect(nat.take(port: 0).isEmpty)
    }
}

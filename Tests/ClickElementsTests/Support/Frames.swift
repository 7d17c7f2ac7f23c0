/// Hand-built frames for element tests.
enum Frames {
    static func checksum(_ bytes: ArraySlice<UInt8>) -> UInt16 {
        var sum: UInt32 = 0
        var i = bytes.startIndex
        while i + 1 < bytes.endIndex {
            sum += UInt32(bytes[i]) << 8 | UInt32(bytes[i + 1])
            i += 2
        }
        if i < bytes.endIndex { sum += UInt32(bytes[i]) << 8 }
        while sum >> 16 != 0 { sum = (sum & 0xFFFF) + (sum >> 16) }
        return ~UInt16(sum)
    }

    static func ip(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) -> [UInt8] { [a, b, c, d] }

    /// An IPv4 packet (no Ethernet header) with a UDP header and `payload` bytes.
    static func ipv4(src: [UInt8], dst: [UInt8], ttl: UInt8 = 64, proto: UInt8 = 17, payload: Int = 18,
                     options: [UInt8] = [], sport: UInt16 = 1234, dport: UInt16 = 80, df: Bool = false) -> [UInt8] {
        let hl = 20 + options.count
        let total = hl + 8 + payload
        var p: [UInt8] = [UInt8(0x40 | (hl / 4)), 0, UInt8(total >> 8), UInt8(total & 0xFF), 0x12, 0x34, df ? 0x40 : 0, 0, ttl, proto, 0, 0]
        p += src + dst + options
        let c = checksum(p[0..<hl])
        p[10] = UInt8(c >> 8)
        p[11] = UInt8(c & 0xFF)
        p += [UInt8(sport >> 8), UInt8(sport & 0xFF), UInt8(dport >> 8), UInt8(dport & 0xFF), UInt8((8 + payload) >> 8), UInt8((8 + payload) & 0xFF), 0, 0]
        p += (0..<payload).map { UInt8($0 & 0xFF) }
        return p
    }

    static func ether(dst: [UInt8], src: [UInt8], type: UInt16, _ body: [UInt8]) -> [UInt8] {
        dst + src + [UInt8(type >> 8), UInt8(type & 0xFF)] + body
    }

    static func arpRequest(senderEther: [UInt8], senderIP: [UInt8], targetIP: [UInt8]) -> [UInt8] {
        let body: [UInt8] = [0, 1, 8, 0, 6, 4, 0, 1] + senderEther + senderIP + [0, 0, 0, 0, 0, 0] + targetIP
        return ether(dst: [0xff, 0xff, 0xff, 0xff, 0xff, 0xff], src: senderEther, type: 0x0806, body)
    }

    static func isValidIPChecksum(_ ipPacket: ArraySlice<UInt8>) -> Bool {
        let hl = Int(ipPacket[ipPacket.startIndex] & 0x0F) * 4
        return checksum(ipPacket.prefix(hl)) == 0
    }
}

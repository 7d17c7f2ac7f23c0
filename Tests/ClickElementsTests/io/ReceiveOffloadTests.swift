import ClickRuntime
import Testing
@testable import ClickElements

/// What FromDevice does with frames a Linux interface hands over with its offloads on:
/// large segments (GSO) cut into packets whose every header and checksum is right, and
/// checksums the sender left unfinished finished. Synthetic frames here; the same path
/// with a real kernel's frames is in VethRouterTests.
@Suite struct ReceiveOffloadTests {
    /// The pseudo-header plus transport bytes sum to zero when the transport checksum is right.
    static func transportChecksumIsValid(_ packet: [UInt8], network: Int, transport: Int, ipv4: Bool, proto: UInt8) -> Bool {
        let length = packet.count - transport
        let addresses = ipv4 ? Array(packet[(network + 12)..<(network + 20)]) : Array(packet[(network + 8)..<(network + 40)])
        let pseudo = addresses + [0, proto, UInt8(length >> 8), UInt8(length & 0xFF)]
        return Frames.checksum(ArraySlice(pseudo + packet[transport...])) == 0
    }

    static func be16(_ p: [UInt8], _ at: Int) -> Int { Int(p[at]) << 8 | Int(p[at + 1]) }
    static func be32(_ p: [UInt8], _ at: Int) -> UInt32 {
        UInt32(p[at]) << 24 | UInt32(p[at + 1]) << 16 | UInt32(p[at + 2]) << 8 | UInt32(p[at + 3])
    }

    static let payload = (0..<4000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) }
    static let tcpOptions: [UInt8] = [1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2]  // NOP NOP timestamps

    /// A TCP header (20 bytes + timestamps) with flags CWR|PSH|ACK|FIN and a junk checksum.
    static func tcpHeader(sequence: UInt32) -> [UInt8] {
        [0x9c, 0x40, 0x1f, 0x90,
         UInt8(sequence >> 24), UInt8(sequence >> 16 & 0xFF), UInt8(sequence >> 8 & 0xFF), UInt8(sequence & 0xFF),
         0, 0, 0, 9, 0x80, 0x80 | 0x08 | 0x10 | 0x01, 0x01, 0xF5, 0xAB, 0xCD, 0, 0] + tcpOptions
    }

    /// An Ethernet frame holding one large IPv4 TCP segment, as GSO leaves it (IP total
    /// length of the whole, header checksum of the whole, transport checksum unfinished).
    static func largeTCPv4(vlan: Bool = false) -> [UInt8] {
        let transport = tcpHeader(sequence: 0xFFFF_F000) + payload  // sequence numbers wrap
        let total = 20 + transport.count
        var ip: [UInt8] = [0x45, 0, UInt8(total >> 8), UInt8(total & 0xFF), 0xFF, 0xFE, 0x40, 0, 64, 6, 0, 0, 10, 1, 0, 2, 10, 2, 0, 2]
        let c = Frames.checksum(ArraySlice(ip))
        ip[10] = UInt8(c >> 8)
        ip[11] = UInt8(c & 0xFF)
        let tag: [UInt8] = vlan ? [0x81, 0x00, 0x00, 0x05] : []
        return [2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1] + tag + [0x08, 0x00] + ip + transport
    }

    static func largeTCPv6(nextHeader: UInt8 = 6) -> [UInt8] {
        let transport = tcpHeader(sequence: 1000) + payload
        let ip: [UInt8] = [0x60, 0, 0, 0, UInt8(transport.count >> 8), UInt8(transport.count & 0xFF), nextHeader, 64]
            + [0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2] + [0xfd, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2]
        return [2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x86, 0xDD] + ip + transport
    }

    static func largeUDPv4() -> [UInt8] {
        let transport: [UInt8] = [0x30, 0x39, 0x00, 0x35, UInt8((8 + payload.count) >> 8), UInt8((8 + payload.count) & 0xFF), 0x12, 0x34] + payload
        let total = 20 + transport.count
        var ip: [UInt8] = [0x45, 0, UInt8(total >> 8), UInt8(total & 0xFF), 0, 7, 0, 0, 64, 17, 0, 0, 10, 1, 0, 2, 10, 2, 0, 2]
        let c = Frames.checksum(ArraySlice(ip))
        ip[10] = UInt8(c >> 8)
        ip[11] = UInt8(c & 0xFF)
        return [2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00] + ip + transport
    }

    /// Cuts `frame` as FromDevice does, returning the packets' bytes (nil: not cuttable).
    static func cut(_ frame: [UInt8], gsoType: UInt8, segmentSize: Int) -> (layout: SegmentLayout, packets: [[UInt8]])? {
        let pool = PacketPool(capacity: 16)
        var bytes = frame
        return bytes.withUnsafeMutableBytes { raw -> (SegmentLayout, [[UInt8]])? in
            guard let base = raw.baseAddress,
                let layout = SegmentLayout(base, length: raw.count, gsoType: gsoType, segmentSize: segmentSize)
            else { return nil }
            var packets: [[UInt8]] = []
            var offset = layout.headerLength
            while offset < raw.count, let p = layout.cut(base, length: raw.count, offset: offset, index: packets.count, pool: pool) {
                packets.append(Array(UnsafeRawBufferPointer(start: p.data, count: p.length)))
                offset += p.length - layout.headerLength
                p.kill()
            }
            return (layout, packets)
        }
    }

    @Test(arguments: [false, true])
    func aLargeIPv4TCPSegmentBecomesCorrectPackets(vlan: Bool) throws {
        let frame = Self.largeTCPv4(vlan: vlan)
        let l3 = vlan ? 18 : 14
        let (layout, packets) = try #require(Self.cut(frame, gsoType: 1, segmentSize: 1448))
        #expect(layout.headerLength == l3 + 20 + 32)
        #expect(packets.map(\.count) == [1448, 1448, 1104].map { $0 + layout.headerLength })
        var carried: [UInt8] = []
        for (i, p) in packets.enumerated() {
            let last = i == packets.count - 1
            #expect(Array(p[0..<l3]) == Array(frame[0..<l3]), "link header copied")
            #expect(Self.be16(p, l3 + 2) == p.count - l3, "IP total length of packet \(i)")
            #expect(Self.be16(p, l3 + 4) == (0xFFFE + i) & 0xFFFF, "IP ids count up from the segment's (and wrap)")
            #expect(Frames.isValidIPChecksum(p[l3...]), "IP header checksum of packet \(i)")
            #expect(Self.be32(p, l3 + 24) == 0xFFFF_F000 &+ UInt32(i * 1448), "sequence number of packet \(i)")
            let flags = p[l3 + 33]
            #expect(flags & 0x10 != 0, "ACK on every packet")
            #expect((flags & 0x09 != 0) == last, "FIN and PSH only on the last packet")
            #expect((flags & 0x80 != 0) == (i == 0), "CWR only on the first packet")
            #expect(Array(p[(l3 + 40)..<(l3 + 52)]) == Self.tcpOptions, "options copied")
            #expect(Self.transportChecksumIsValid(p, network: l3, transport: l3 + 20, ipv4: true, proto: 6), "TCP checksum of packet \(i)")
            carried += p[layout.headerLength...]
        }
        #expect(carried == Self.payload, "the payload arrives whole and in order")
    }

    @Test func aLargeIPv6TCPSegmentBecomesCorrectPackets() throws {
        let (layout, packets) = try #require(Self.cut(Self.largeTCPv6(), gsoType: 4, segmentSize: 1428))
        #expect(packets.count == 3)
        var carried: [UInt8] = []
        for (i, p) in packets.enumerated() {
            #expect(Self.be16(p, 14 + 4) == p.count - 54, "IPv6 payload length of packet \(i)")
            #expect(Self.be32(p, 54 + 4) == 1000 + UInt32(i * 1428))
            #expect(Self.transportChecksumIsValid(p, network: 14, transport: 54, ipv4: false, proto: 6), "TCP checksum of packet \(i)")
            carried += p[layout.headerLength...]
        }
        #expect(carried == Self.payload)
    }

    @Test func aLargeUDPSegmentBecomesDatagramsOfTheSegmentSize() throws {
        let (layout, packets) = try #require(Self.cut(Self.largeUDPv4(), gsoType: 5, segmentSize: 1000))
        #expect(layout.headerLength == 42)
        #expect(packets.count == 4)
        for (i, p) in packets.enumerated() {
            #expect(Self.be16(p, 14 + 2) == p.count - 14)
            #expect(Self.be16(p, 34 + 4) == 1008, "UDP length of datagram \(i)")
            #expect(Frames.isValidIPChecksum(p[14...]))
            #expect(Self.transportChecksumIsValid(p, network: 14, transport: 34, ipv4: true, proto: 17), "UDP checksum of datagram \(i)")
            #expect(Array(p[42...]) == Array(Self.payload[(i * 1000)..<((i + 1) * 1000)]))
        }
    }

    @Test func segmentsThisCannotCutAreRefused() {
        #expect(Self.cut(Self.largeTCPv4(), gsoType: 1, segmentSize: 0) == nil, "no segment size")
        #expect(Self.cut(Self.largeTCPv4(), gsoType: 3, segmentSize: 1448) == nil, "UFO: IP fragmentation")
        #expect(Self.cut(Self.largeTCPv4(), gsoType: 4, segmentSize: 1448) == nil, "TCPv6 GSO on an IPv4 frame")
        #expect(Self.cut(Self.largeTCPv6(nextHeader: 0), gsoType: 4, segmentSize: 1448) == nil, "an IPv6 extension header")
        #expect(Self.cut(Self.largeUDPv4(), gsoType: 1, segmentSize: 1448) == nil, "TCP GSO on a UDP frame")
        #expect(Self.cut(Array(Self.largeTCPv4().prefix(40)), gsoType: 1, segmentSize: 1448) == nil, "headers cut short")
    }

    /// A frame as a sender leaves it to checksum offload: the checksum field holds the
    /// pseudo-header sum (not complemented), the rest of the transport bytes unsummed.
    static func unfinished(proto: UInt8, payload count: Int) -> (frame: [UInt8], start: Int, offset: Int) {
        var frame = Frames.ether(dst: [2, 0, 0, 0, 0, 2], src: [2, 0, 0, 0, 0, 1], type: 0x0800,
                                 Frames.ipv4(src: [10, 1, 0, 2], dst: [10, 2, 0, 2], proto: proto, payload: count))
        let offset = proto == 6 ? 16 : 6
        if proto == 6 {
            // Make room for a 20-byte TCP header: 8 header bytes were laid out as UDP's.
            frame.insert(contentsOf: [UInt8](repeating: 0, count: 12), at: 42)
            frame[46] = 0x50
            let total = frame.count - 14
            frame[16] = UInt8(total >> 8)
            frame[17] = UInt8(total & 0xFF)
            frame[24] = 0
            frame[25] = 0
            let c = Frames.checksum(frame[14..<34])
            frame[24] = UInt8(c >> 8)
            frame[25] = UInt8(c & 0xFF)
        }
        let length = frame.count - 34
        var sum = 0x0A01 + 0x0002 + 0x0A02 + 0x0002 + Int(proto) + length
        while sum > 0xFFFF { sum = (sum & 0xFFFF) + (sum >> 16) }
        frame[34 + offset] = UInt8(sum >> 8)
        frame[34 + offset + 1] = UInt8(sum & 0xFF)
        return (frame, 34, offset)
    }

    @Test(arguments: [(UInt8(6), 0), (UInt8(6), 1001), (UInt8(17), 0), (UInt8(17), 555)])
    func unfinishedChecksumsAreFinished(proto: UInt8, payload: Int) {
        var (frame, start, offset) = Self.unfinished(proto: proto, payload: payload)
        #expect(!Self.transportChecksumIsValid(frame, network: 14, transport: 34, ipv4: true, proto: proto))
        let done = frame.withUnsafeMutableBytes { finishChecksum($0.baseAddress!, length: $0.count, start: start, offset: offset) }
        #expect(done)
        #expect(Self.transportChecksumIsValid(frame, network: 14, transport: 34, ipv4: true, proto: proto))
    }

    @Test func checksumPositionsOutsideTheFrameChangeNothing() {
        let (original, _, _) = Self.unfinished(proto: 17, payload: 10)
        var frame = original
        let done = frame.withUnsafeMutableBytes { finishChecksum($0.baseAddress!, length: $0.count, start: $0.count - 4, offset: 6) }
        #expect(!done)
        #expect(frame == original)
    }
}

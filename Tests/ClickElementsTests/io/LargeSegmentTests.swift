import ClickLanguage
import ClickTestSupport
import Testing
@testable import ClickElements
@testable import ClickRuntime

/// Large segments passed on whole (FromDevice with GSO true): their buffers, the header
/// ToDevice sends them with, and the elements that must measure or check them as the
/// packets they stand for. Synthetic segments here; a real kernel's are in VethRouterTests.
@Suite struct LargeSegmentTests {
    /// `bytes` (an IP packet) as a large segment of `gsoType` and `size` in a large buffer
    /// of `router`'s pool, its network header set.
    static func largeSegment(_ router: Router, _ bytes: [UInt8], gsoType: UInt8 = 1, size: Int) throws -> Packet {
        let p = try #require(router.pool.largeSegments().make(bytes))
        p.gsoType = gsoType
        p.gsoSize = size
        p.setNetworkHeader(at: 0, headerLength: Int(bytes[0] & 0x0F) << 2)
        return p
    }

    /// Pushes `packets` into element `name` of `built` as one batch.
    static func push(_ packets: [Packet], into name: String, of built: Built) throws {
        let element = try #require(built.router?.element(named: name))
        let storage = BatchStorage()
        var batch = storage.batch()
        for p in packets { batch.append(p) }
        element.push(port: 0, &batch)
    }

    /// An IPv4 TCP segment of 4,000 payload bytes (52 bytes of headers), DF set or not, its
    /// TCP checksum unfinished as Linux leaves it.
    static func tcpSegment(dontFragment: Bool = true) -> [UInt8] {
        var ip = Array(ReceiveOffloadTests.largeTCPv4().dropFirst(14))
        if !dontFragment {
            ip[6] = 0
            ip[10] = 0
            ip[11] = 0
            let c = Frames.checksum(ArraySlice(ip[0..<20]))
            ip[10] = UInt8(c >> 8)
            ip[11] = UInt8(c & 0xFF)
        }
        ip.withUnsafeMutableBytes { raw in
            // The test frame's bytes are in an array with a base address.
            let layout = SegmentLayout(raw.baseAddress!, length: raw.count, gsoType: 1, segmentSize: 1448, linkHeader: false)
            layout?.setPseudoHeaderChecksum(raw.baseAddress!, length: raw.count)
        }
        return ip
    }

    @Test func theUnfinishedChecksumFinishesToTheRightOne() throws {
        for (frame, gsoType, proto, ipv4) in [(ReceiveOffloadTests.largeTCPv4(), UInt8(1), UInt8(6), true),
                                              (ReceiveOffloadTests.largeTCPv6(), 4, 6, false),
                                              (ReceiveOffloadTests.largeUDPv4(), 5, 17, true)] {
            var bytes = frame
            let transport = ipv4 ? 34 : 54
            bytes.withUnsafeMutableBytes { raw in
                let layout = SegmentLayout(raw.baseAddress!, length: raw.count, gsoType: gsoType, segmentSize: 1000)
                layout?.setPseudoHeaderChecksum(raw.baseAddress!, length: raw.count)
                // What the kernel does with it: the checksum over the transport bytes from there.
                _ = finishChecksum(raw.baseAddress!, length: raw.count, start: transport, offset: proto == 6 ? 16 : 6)
            }
            #expect(ReceiveOffloadTests.transportChecksumIsValid(bytes, network: 14, transport: transport, ipv4: ipv4, proto: proto),
                    "GSO type \(gsoType)")
        }
    }

    @Test func theSendHeaderDescribesTheSegment() throws {
        let b = build("Idle -> Discard")
        let router = try #require(b.router)
        let frame = ReceiveOffloadTests.largeTCPv4(vlan: true)
        let p = try #require(router.pool.largeSegments().make(frame))
        defer { p.kill() }
        p.gsoType = 1 | 0x80  // with ECN
        p.gsoSize = 1448
        let header = try #require(PacketSocketSender.virtioHeader(for: p))
        #expect(header.flags == 1, "checksum left to the kernel")
        #expect(header.gso_type == 0x81, "the type with its ECN bit")
        #expect(header.gso_size == 1448)
        #expect(header.header_length == 18 + 20 + 32)
        #expect(header.csum_start == 18 + 20)
        #expect(header.csum_offset == 16)

        let ordinary = try #require(router.pool.make(frame.prefix(100)))
        defer { ordinary.kill() }
        let plain = try #require(PacketSocketSender.virtioHeader(for: ordinary))
        #expect(plain.flags == 0 && plain.gso_type == 0 && plain.gso_size == 0, "an ordinary frame goes out as it is")

        // Marked as a TCP segment but an ARP frame: it cannot be described, so not sent.
        var arp = frame
        arp[12] = 0x08
        arp[13] = 0x06
        let bogus = try #require(router.pool.largeSegments().make(arp))
        defer { bogus.kill() }
        bogus.gsoType = 1
        bogus.gsoSize = 1448
        #expect(PacketSocketSender.virtioHeader(for: bogus) == nil)
    }

    @Test func largeBuffersReturnToTheirPoolAndClonesStayLarge() throws {
        let b = build("Idle -> Discard")
        let router = try #require(b.router)
        let large = router.pool.largeSegments()
        #expect(large === router.pool.largeSegments(), "one large pool per pool")
        #expect(large.bufferSize - large.headroom >= router.pool.bufferSize + PacketPool.largestSegmentFrame - router.pool.headroom)
        let p = try Self.largeSegment(router, Self.tcpSegment(), size: 1448)
        let copy = try #require(p.clone())
        #expect(copy.isLargeSegment && copy.gsoSize == 1448 && copy.contents == p.contents)
        #expect(large.outstanding == 2 && router.pool.outstanding == 0, "both from the large pool")
        p.kill()
        copy.kill()
        #expect(large.outstanding == 0)
        let fresh = try #require(large.make())
        #expect(!fresh.isLargeSegment, "a reused buffer is an ordinary packet until marked")
        fresh.kill()
    }

    @Test func ipFragmenterPassesASegmentWhosePacketsFit() throws {
        let b = build("Idle -> f :: IPFragmenter(1500) -> ok :: Collector; f[1] -> df :: Collector")
        let router = try #require(b.router, "\(b.log.text)")
        let segment = Self.tcpSegment()
        try Self.push([try Self.largeSegment(router, segment, size: 1448)], into: "f", of: b)
        #expect(b.element("ok", as: Collector.self)?.packets == [segment], "whole: 1,448 + 52 bytes fit 1,500")
        #expect(b.element("df", as: Collector.self)?.packets.isEmpty == true)
        #expect(router.pool.largeSegments().outstanding == 0)
    }

    @Test func ipFragmenterSendsADontFragmentSegmentThatDoesNotFitToOutput1() throws {
        let b = build("Idle -> f :: IPFragmenter(1000) -> ok :: Collector; f[1] -> df :: Collector")
        let router = try #require(b.router, "\(b.log.text)")
        try Self.push([try Self.largeSegment(router, Self.tcpSegment(), size: 1448)], into: "f", of: b)
        #expect(b.element("ok", as: Collector.self)?.packets.isEmpty == true)
        #expect(b.element("df", as: Collector.self)?.packets.count == 1, "as Linux: 'fragmentation needed'")
    }

    @Test func ipFragmenterCutsAndFragmentsASegmentThatMayBeFragmented() throws {
        let b = build("Idle -> f :: IPFragmenter(1000) -> ok :: Collector; f[1] -> df :: Collector")
        let router = try #require(b.router, "\(b.log.text)")
        try Self.push([try Self.largeSegment(router, Self.tcpSegment(dontFragment: false), size: 1448)], into: "f", of: b)
        let out = try #require(b.element("ok", as: Collector.self)?.packets)
        #expect(out.allSatisfy { $0.count <= 1000 && Frames.isValidIPChecksum(ArraySlice($0)) })
        // Three packets (1,448 + 1,448 + 1,104 payload), each in two fragments.
        #expect(out.count == 6)
        var packets: [[UInt8]] = []
        for f in out {
            let offset = (ReceiveOffloadTests.be16(f, 6) & 0x1FFF) * 8
            if offset == 0 { packets.append(Array(f[20...])) } else { packets[packets.count - 1] += f[20...] }
        }
        var carried: [UInt8] = []
        for (i, transport) in packets.enumerated() {
            let ip = Array(Self.tcpSegment().prefix(20))
            let pseudo = Array(ip[12..<20]) + [0, 6, UInt8(transport.count >> 8), UInt8(transport.count & 0xFF)]
            #expect(Frames.checksum(ArraySlice(pseudo + transport)) == 0, "packet \(i): its TCP checksum is finished and right")
            carried += transport[32...]
        }
        #expect(carried == ReceiveOffloadTests.payload, "the payload whole and in order")
        #expect(router.pool.largeSegments().outstanding == 0)
    }

    @Test func checkTCPHeaderTrustsALargeSegmentsUnfinishedChecksumOnly() throws {
        let b = build("inj :: Injector -> ck :: CheckTCPHeader -> ok :: Collector; ck[1] -> bad :: Collector")
        let router = try #require(b.router, "\(b.log.text)")
        let segment = Self.tcpSegment()
        try Self.push([try Self.largeSegment(router, segment, size: 1448)], into: "ck", of: b)
        #expect(b.element("ok", as: Collector.self)?.packets.count == 1)
        // The same bytes as an ordinary packet: its checksum is wrong.
        let ordinary = try #require(router.pool.largeSegments().make(segment))
        ordinary.setNetworkHeader(at: 0, headerLength: 20)
        try Self.push([ordinary], into: "ck", of: b)
        #expect(b.element("bad", as: Collector.self)?.packets.count == 1)
    }
}

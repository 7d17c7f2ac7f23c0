import CShims
import ClickRuntime

/// What a Linux interface's receive offloads handed FromDevice and what became of it.
struct ReceiveOffloadCounts {
    /// Frames whose transport checksum the sender left unfinished and FromDevice finished.
    var checksumsFinished = 0
    /// Large segments (GSO) cut into packets, and the packets they gave.
    var segmentsCut = 0
    var packetsFromSegments = 0
    /// Large segments passed on whole (FromDevice with GSO true).
    var segmentsPassed = 0
    /// Frames dropped: larger than a packet buffer or a segment, or a large segment of a
    /// kind that cannot be cut here.
    var dropped = 0
}

/// Finishes the checksum a sender left to offload: the 16 bits at `start + offset` hold
/// the pseudo-header sum, and the checksum covers the bytes from `start` to the end of the
/// frame. Returns false (nothing written) if the positions lie outside the frame.
@inline(__always) func finishChecksum(_ frame: UnsafeMutableRawPointer, length: Int, start: Int, offset: Int) -> Bool {
    guard start >= 0, start + offset + 2 <= length else { return false }
    var sum = internetChecksum(frame + start, length - start)
    // UDP sends 0 as "no checksum": a computed 0 goes out as 0xFFFF (RFC 768).
    if sum == 0 && offset == 6 { sum = 0xFFFF }
    frame.setBE16(start + offset, sum)
    return true
}

/// The headers of a large segment (TCP over IPv4 or IPv6, or UDP with UDP segmentation)
/// and how to make each cut packet's headers right: IP lengths, IPv4 identification and
/// header checksum, TCP sequence numbers and flags, UDP length, transport checksums in
/// full (as Linux's software segmentation does).
struct SegmentLayout {
    let headerLength: Int
    let segmentSize: Int
    let network: Int
    let transport: Int
    let ipv4: Bool
    let tcp: Bool
    let firstSequence: UInt32
    let firstID: UInt16
    let gsoType: UInt8

    /// Reads the headers of `frame` (an Ethernet frame, or with `linkHeader` false an IP
    /// packet); nil for a segment kind or header layout this does not cut (IPv6 extension
    /// headers, UFO's IP fragmentation, a zero segment size).
    init?(_ frame: UnsafeMutableRawPointer, length: Int, gsoType: UInt8, segmentSize: Int, linkHeader: Bool = true) {
        guard segmentSize > 0, length >= (linkHeader ? 14 : 1) else { return nil }
        var l3 = 0
        var type: UInt16
        if linkHeader {
            l3 = 14
            type = frame.be16(12)
            if type == 0x8100 || type == 0x88A8 {
                guard length >= 18 else { return nil }
                type = frame.be16(16)
                l3 = 18
            }
        } else {
            type = frame.byte(0) >> 4 == 6 ? 0x86DD : 0x0800
        }
        let proto: UInt8
        let l4: Int
        switch (type, gsoType) {
        case (0x0800, 1), (0x0800, 5):
            guard length >= l3 + 20, frame.byte(l3) >> 4 == 4 else { return nil }
            l4 = l3 + Int(frame.byte(l3) & 0x0F) << 2
            proto = frame.byte(l3 + IPv4Header.proto)
            ipv4 = true
        case (0x86DD, 4), (0x86DD, 5):
            guard length >= l3 + 40 else { return nil }
            l4 = l3 + 40
            proto = frame.byte(l3 + 6)
            ipv4 = false
        default:
            return nil
        }
        if gsoType == 5 {
            guard proto == 17, length >= l4 + 8 else { return nil }
            headerLength = l4 + 8
            tcp = false
        } else {
            guard proto == 6, length >= l4 + 20 else { return nil }
            headerLength = l4 + Int(frame.byte(l4 + 12) >> 4) << 2
            guard headerLength <= length else { return nil }
            tcp = true
        }
        network = l3
        transport = l4
        self.segmentSize = segmentSize
        self.gsoType = gsoType
        firstSequence = tcp ? frame.be32(l4 + 4) : 0
        firstID = ipv4 ? frame.be16(l3 + IPv4Header.id) : 0
    }

    /// The pseudo-header's sum (addresses, protocol, transport length) for the headers in
    /// `frame`, unfolded.
    func pseudoHeaderSum(_ frame: UnsafeMutableRawPointer, transportLength: Int) -> UInt32 {
        let ip = frame + network
        let addresses = ipv4 ? checksumSum(ip + IPv4Header.source, 8) : checksumSum(ip + 8, 32)
        return addresses &+ UInt32(tcp ? 6 : 17) &+ UInt32(transportLength)
    }

    /// Writes the unfinished transport checksum a segment sent whole must carry: the
    /// pseudo-header sum over its whole transport length, folded, not complemented (what
    /// Linux leaves for offload).
    func setPseudoHeaderChecksum(_ frame: UnsafeMutableRawPointer, length: Int) {
        frame.setBE16(transport + (tcp ? 16 : 6), foldChecksum(pseudoHeaderSum(frame, transportLength: length - transport)))
    }

    /// The virtio net header that sends the segment whole for the kernel to cut: its
    /// transport checksum unfinished (holding the pseudo-header sum) from `transport` on.
    var virtioHeader: clickos_vnet_header {
        clickos_vnet_header(flags: 1, gso_type: gsoType, header_length: UInt16(headerLength), gso_size: UInt16(segmentSize),
                            csum_start: UInt16(transport), csum_offset: tcp ? 16 : 6)
    }

    /// Every cut packet of the large segment `frame` (`length` bytes), handed to `body`
    /// in order; returns how many (fewer if the pool ran out, none if a cut packet would
    /// not fit the pool's buffers).
    @inline(__always) func cutAll(_ frame: UnsafeMutableRawPointer, length: Int, pool: PacketPool, _ body: (Packet) -> Void) -> Int {
        guard headerLength + segmentSize <= pool.bufferSize - pool.headroom else { return 0 }
        var offset = headerLength
        var index = 0
        while offset < length {
            guard let p = cut(frame, length: length, offset: offset, index: index, pool: pool) else { break }
            offset += p.length - headerLength
            body(p)
            index += 1
        }
        return index
    }

    /// Cut packet `index` of the large segment `frame` (`length` bytes): the headers, then
    /// the payload from `offset` (at most one segment size), headers made right; nil when
    /// the pool is empty.
    func cut(_ frame: UnsafeMutableRawPointer, length: Int, offset: Int, index: Int, pool: PacketPool) -> Packet? {
        let size = min(segmentSize, length - offset)
        guard size > 0, let p = pool.make() else { return nil }
        _ = p.put(headerLength + size)
        p.data.copyMemory(from: frame, byteCount: headerLength)
        (p.data + headerLength).copyMemory(from: frame + offset, byteCount: size)
        fixHeaders(p.data, payload: size, index: index, last: offset + size >= length)
        return p
    }

    /// Makes the headers copied into cut packet `index` (carrying `payload` bytes) right.
    func fixHeaders(_ p: UnsafeMutableRawPointer, payload: Int, index: Int, last: Bool) {
        let transportLength = headerLength - transport + payload
        let ip = p + network
        if ipv4 {
            ip.setBE16(IPv4Header.totalLength, UInt16(truncatingIfNeeded: transport - network + transportLength))
            ip.setBE16(IPv4Header.id, firstID &+ UInt16(truncatingIfNeeded: index))
            setIPChecksum(ip)
        } else {
            ip.setBE16(4, UInt16(truncatingIfNeeded: transportLength))
        }
        let th = p + transport
        var checksumOffset = 6
        if tcp {
            th.setBE32(4, firstSequence &+ UInt32(truncatingIfNeeded: index * segmentSize))
            var flags = th.byte(13)
            if !last { flags &= ~0x09 }  // FIN and PSH only on the last
            if index > 0 { flags &= ~0x80 }  // CWR only on the first
            th.setByte(13, flags)
            checksumOffset = 16
        } else {
            th.setBE16(4, UInt16(truncatingIfNeeded: transportLength))
        }
        th.setBE16(checksumOffset, 0)
        var check = internetChecksum(th, transportLength, initial: pseudoHeaderSum(p, transportLength: transportLength))
        if check == 0 && !tcp { check = 0xFFFF }
        th.setBE16(checksumOffset, check)
    }
}

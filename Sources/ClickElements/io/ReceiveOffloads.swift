import CShims
import ClickRuntime

/// What a Linux interface's receive offloads handed FromDevice and what became of it.
struct ReceiveOffloadCounts {
    /// Frames whose transport checksum the sender left unfinished and FromDevice finished.
    var checksumsFinished = 0
    /// Large segments (GSO) cut into packets, and the packets they gave.
    var segmentsCut = 0
    var packetsFromSegments = 0
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

    /// Reads the headers of `frame`; nil for a segment kind or header layout this does
    /// not cut (IPv6 extension headers, UFO's IP fragmentation, a zero segment size).
    init?(_ frame: UnsafeMutableRawPointer, length: Int, gsoType: UInt8, segmentSize: Int) {
        guard segmentSize > 0, length >= 14 else { return nil }
        var l3 = 14
        var type = frame.be16(12)
        if type == 0x8100 || type == 0x88A8 {
            guard length >= 18 else { return nil }
            type = frame.be16(16)
            l3 = 18
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
        firstSequence = tcp ? frame.be32(l4 + 4) : 0
        firstID = ipv4 ? frame.be16(l3 + IPv4Header.id) : 0
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
        // The pseudo-header: addresses, protocol, transport length.
        var sum: UInt32
        if ipv4 {
            sum = checksumSum(ip + IPv4Header.source, 8)
        } else {
            sum = checksumSum(ip + 8, 32)
        }
        sum &+= UInt32(tcp ? 6 : 17) &+ UInt32(transportLength)
        th.setBE16(checksumOffset, 0)
        var check = internetChecksum(th, transportLength, initial: sum)
        if check == 0 && !tcp { check = 0xFFFF }
        th.setBE16(checksumOffset, check)
    }
}

#if canImport(Glibc)
import Glibc
#endif
import CShims
import ClickLanguage
import ClickRuntime
import PacketIO

/// The receive side of a Linux interface for FromDevice: an AF_PACKET socket read with
/// `recvmmsg`, up to 64 frames per call straight into packet buffers, so a lone frame is
/// handed over the moment it arrives and a burst costs one system call per 64 frames.
/// The socket takes each frame with its virtio net header (PACKET_VNET_HDR), as the kernel
/// holds it with the interface's offloads on: an unfinished checksum is finished here. A
/// large TCP or UDP segment (GSO) is either cut into MTU-sized packets with their headers
/// and checksums made right, so the router sees only ordinary packets, or, given a pool of
/// large buffers, received into one and passed on whole, marked (`Packet.gsoType`).
final class PacketSocketReceiver {
    let descriptor: Int32
    /// Frames per recvmmsg call.
    private static let burst = 64
    /// The socket's receive queue, in bytes of kernel buffers.
    private static let receiveBuffer: Int32 = 8 << 20
    private let headers: UnsafeMutablePointer<clickos_vnet_header>
    private let heads: UnsafeMutablePointer<UnsafeMutableRawPointer?>
    private let packets: UnsafeMutablePointer<Packet>
    private let lengths: UnsafeMutablePointer<UInt32>
    private let truncated: UnsafeMutablePointer<Int32>
    /// Per frame: where the bytes beyond the head go, with `headCapacity` bytes free in
    /// front for the head: a large buffer's (`larges`), or else a slot of `scratchTails`.
    private let tails: UnsafeMutablePointer<UnsafeMutableRawPointer?>
    private let scratchTails: UnsafeMutablePointer<UInt8>
    private let tailStride: Int
    private let headCapacity: Int
    /// Large segments go on whole in buffers of this pool (nil: they are cut).
    private let largePool: PacketPool?
    private let larges: UnsafeMutablePointer<Packet?>
    /// What the offloads took: frames whose checksum was finished here, large segments
    /// cut, the packets they gave, segments passed on whole, frames dropped as too large
    /// or not cuttable.
    private(set) var offloadCounts = ReceiveOffloadCounts()
    private var kernelDrops = 0

    /// Opens the socket and binds it to `device`; the error says which step failed and
    /// why. With `largeSegments`, large segments go on whole in its buffers while it has
    /// any (and are cut when it has none).
    init(device: String, promiscuous: Bool, outbound: Bool, pool: PacketPool, largeSegments: PacketPool? = nil) throws(ElementError) {
        // Options before the bind: see clickos_packet_open.
        let fd = clickos_packet_open()
        guard fd >= 0 else { throw ElementError("\(device): \(String(cString: strerror(errno)))") }
        if !outbound { _ = clickos_ignore_outgoing(fd) }
        // Frames wait in the socket's queue until the router thread reads them: the
        // default 208 kB holds some 90 full-size frames or three large segments, less than
        // one TCP window, and an overflow is a loss.
        _ = clickos_receive_buffer(fd, Self.receiveBuffer)
        guard clickos_packet_vnet_header(fd) == 0 else {
            let message = String(cString: strerror(errno))
            close(fd)
            throw ElementError("\(device): virtio net header: \(message)")
        }
        guard clickos_packet_bind(fd, device, promiscuous ? 1 : 0) == 0 else {
            let message = String(cString: strerror(errno))
            close(fd)
            throw ElementError("\(device): \(message)")
        }
        descriptor = fd
        let n = Self.burst
        headers = .allocate(capacity: n)
        heads = .allocate(capacity: n)
        packets = .allocate(capacity: n)
        lengths = .allocate(capacity: n)
        truncated = .allocate(capacity: n)
        tails = .allocate(capacity: n)
        larges = .allocate(capacity: n)
        larges.initialize(repeating: nil, count: n)
        headCapacity = pool.bufferSize - pool.headroom
        tailStride = headCapacity + PacketPool.largestSegmentFrame
        // Untouched pages cost nothing: only large segments write here.
        scratchTails = .allocate(capacity: n * tailStride)
        // A large buffer holds a head and the largest frame after its headroom.
        if let largeSegments, largeSegments.bufferSize - largeSegments.headroom >= tailStride {
            largePool = largeSegments
        } else {
            largePool = nil
        }
    }

    deinit {
        headers.deallocate()
        heads.deallocate()
        packets.deallocate()
        lengths.deallocate()
        truncated.deallocate()
        tails.deallocate()
        larges.deallocate()
        scratchTails.deallocate()
        close(descriptor)
    }

    /// Frames the kernel dropped because the router did not read fast enough, so far.
    func droppedByKernel() -> Int {
        let n = clickos_packet_drops(descriptor)
        if n > 0 { kernelDrops &+= n }
        return kernelDrops
    }

    /// Reads the waiting frames (at most `limit`, then the next scheduler round goes on),
    /// at most `snaplen` bytes of each kept, as packets stamped `now`, pushing `batch` out
    /// of `element`'s output 0 whenever it fills and once at the end; returns how many
    /// packets it made.
    func drain(into batch: inout PacketBatch, pool: PacketPool, snaplen: Int, now: Int64, element: Element, limit: Int = 1024) -> Int {
        var made = 0
        var received = 0
        while received < limit {
            var prepared = 0
            while prepared < Self.burst, let p = pool.make() {
                packets[prepared] = p
                heads[prepared] = p.data
                if let big = largePool?.make() {
                    larges[prepared] = big
                    tails[prepared] = big.data + headCapacity
                } else {
                    tails[prepared] = UnsafeMutableRawPointer(scratchTails + prepared * tailStride + headCapacity)
                }
                prepared += 1
            }
            guard prepared > 0 else { break }
            let n = Int(clickos_receive_frames(descriptor, headers, heads, UInt32(headCapacity), tails,
                                               UInt32(PacketPool.largestSegmentFrame), lengths, truncated, UInt32(prepared)))
            let got = max(n, 0)
            for i in 0..<got {
                let p = packets[i]
                let length = Int(lengths[i])
                let header = headers[i]
                if truncated[i] != 0 {
                    offloadCounts.dropped &+= 1
                    p.kill()
                } else if header.gso_type & 0x7F != 0 {
                    // A large segment: its head in the packet, the rest after the head's
                    // room in a large buffer or the scratch tail; the head goes in front.
                    // (`tails[i]` was set above for every prepared frame.)
                    let frame = tails[i].unsafelyUnwrapped - headCapacity
                    frame.copyMemory(from: p.data, byteCount: min(length, headCapacity))
                    p.kill()
                    if let big = larges[i], pass(big, length: length, header) {
                        larges[i] = nil
                        big.timestamp = now
                        if batch.isFull { element.output(0, &batch) }
                        batch.append(big)
                        made &+= 1
                    } else {
                        made &+= segment(frame, length: length, header, pool: pool, now: now, into: &batch, element: element)
                    }
                } else {
                    let kept = min(length, snaplen, headCapacity)
                    _ = p.put(kept)
                    if header.flags & 1 != 0 && kept == length {
                        if finishChecksum(p.data, length: length, start: Int(header.csum_start), offset: Int(header.csum_offset)) {
                            offloadCounts.checksumsFinished &+= 1
                        }
                    }
                    p.timestamp = now
                    p.setMACHeader(at: 0)
                    if batch.isFull { element.output(0, &batch) }
                    batch.append(p)
                    made &+= 1
                }
            }
            for i in got..<prepared { packets[i].kill() }
            for i in 0..<prepared {
                if let big = larges[i] {
                    big.kill()
                    larges[i] = nil
                }
            }
            received += got
            if got < prepared { break }
        }
        element.output(0, &batch)
        return made
    }

    /// Makes the large buffer `big`, holding a large segment of `length` bytes, the packet
    /// that stands for it: marked with its GSO type and size, its transport checksum
    /// unfinished (the pseudo-header sum, which a frame the kernel merged (GRO) does not
    /// carry yet). False (nothing changed) for a segment kind `SegmentLayout` does not read.
    private func pass(_ big: Packet, length: Int, _ header: clickos_vnet_header) -> Bool {
        guard let layout = SegmentLayout(big.data, length: length, gsoType: header.gso_type & 0x7F, segmentSize: Int(header.gso_size)),
            length - layout.headerLength > layout.segmentSize
        else { return false }
        _ = big.put(length)
        if header.flags & 1 == 0 || Int(header.csum_start) != layout.transport { layout.setPseudoHeaderChecksum(big.data, length: length) }
        big.gsoType = header.gso_type
        big.gsoSize = layout.segmentSize
        big.setMACHeader(at: 0)
        offloadCounts.segmentsPassed &+= 1
        return true
    }

    /// Cuts the large segment `frame` into packets of the header's segment size; returns
    /// how many it made (0: not a segment this can cut, dropped and counted).
    private func segment(_ frame: UnsafeMutableRawPointer, length: Int, _ header: clickos_vnet_header, pool: PacketPool,
                         now: Int64, into batch: inout PacketBatch, element: Element) -> Int {
        guard let layout = SegmentLayout(frame, length: length, gsoType: header.gso_type & 0x7F, segmentSize: Int(header.gso_size)),
            layout.headerLength + layout.segmentSize <= headCapacity
        else {
            offloadCounts.dropped &+= 1
            return 0
        }
        offloadCounts.segmentsCut &+= 1
        let made = layout.cutAll(frame, length: length, pool: pool) { p in
            p.timestamp = now
            p.setMACHeader(at: 0)
            if batch.isFull { element.output(0, &batch) }
            batch.append(p)
        }
        offloadCounts.packetsFromSegments &+= made
        return made
    }
}

/// The send side of a Linux interface for ToDevice: an AF_PACKET socket that sends a
/// batch of frames (with their link headers) in one sendmmsg, each behind a virtio net
/// header (PACKET_VNET_HDR): empty for an ordinary frame; for a large segment
/// (`Packet.gsoType`) the header that has the kernel cut it (or the interface, with its
/// offloads on) and finish its checksums.
final class PacketSocketSender {
    let descriptor: Int32
    /// Large segments handed to the kernel whole, so far.
    private(set) var segmentsSent = 0

    init(device: String) throws(ElementError) {
        let fd = clickos_packet_socket(device, 0)
        guard fd >= 0 else { throw ElementError("\(device): \(String(cString: strerror(errno)))") }
        guard clickos_packet_vnet_header(fd) == 0 else {
            let message = String(cString: strerror(errno))
            close(fd)
            throw ElementError("\(device): virtio net header: \(message)")
        }
        descriptor = fd
    }

    deinit {
        close(descriptor)
    }

    /// The virtio net header `p` goes out behind: the one that has a large segment cut,
    /// nil for a large segment whose headers do not read as one (it cannot be sent).
    static func virtioHeader(for p: Packet) -> clickos_vnet_header? {
        guard p.isLargeSegment else { return clickos_vnet_header() }
        guard var header = SegmentLayout(p.data, length: p.length, gsoType: p.gsoType & 0x7F, segmentSize: p.gsoSize)?.virtioHeader
        else { return nil }
        header.gso_type = p.gsoType  // with its ECN bit
        return header
    }

    /// Sends `batch[0..<batch.count]`, 64 frames per system call (large segments first
    /// checked with `virtioHeader`); returns how many frames the kernel took, in order.
    func send(_ batch: PacketBatch) -> Int {
        var sent = 0
        while sent < batch.count {
            let chunk = min(batch.count - sent, 64)
            let n = send(batch, from: sent, count: chunk)
            sent += n
            if n < chunk { break }
        }
        return sent
    }

    private func send(_ batch: PacketBatch, from start: Int, count: Int) -> Int {
        var sent = 0
        withUnsafeTemporaryAllocation(of: UnsafeRawPointer?.self, capacity: count) { frames in
            withUnsafeTemporaryAllocation(of: UInt32.self, capacity: count) { lengths in
                withUnsafeTemporaryAllocation(of: clickos_vnet_header.self, capacity: count) { headers in
                    var large = 0
                    for i in 0..<count {
                        let p = batch[start + i]
                        frames[i] = UnsafeRawPointer(p.data)
                        lengths[i] = UInt32(p.length)
                        headers[i] = clickos_vnet_header()
                        if p.isLargeSegment, let header = Self.virtioHeader(for: p) {
                            headers[i] = header
                            large += 1
                        }
                    }
                    // Temporary allocations of non-zero capacity have base addresses.
                    let n = clickos_send_frames(descriptor, headers.baseAddress.unsafelyUnwrapped, frames.baseAddress.unsafelyUnwrapped,
                                                lengths.baseAddress.unsafelyUnwrapped, UInt32(count))
                    sent = max(0, Int(n))
                    if large > 0 {
                        for i in 0..<sent where batch[start + i].isLargeSegment { segmentsSent &+= 1 }
                    }
                }
            }
        }
        return sent
    }
}

extension Element {
    /// The Linux interface a device name stands for: the name itself, or the interface
    /// behind VM port N in a VM whose ports are interfaces; nil for a memif VM port.
    func linuxInterface(_ device: String) -> String? {
        guard isVMPort(device) else { return device }
        guard let n = Int(device), let map = router.service(VMPortInterfaces.self), n < map.names.count else { return nil }
        return map.names[n]
    }

    /// The VM port a `FromDevice(N)`/`ToDevice(N)` names, or an error that says how to
    /// provide one.
    func lookUpVMPort(_ device: String) throws(ElementError) -> any VMPort {
        if let map = router.service(VMPortInterfaces.self) {
            throw ElementError("VM port \(device) does not exist (this VM's ports are its \(map.names.count) network interfaces\(map.names.isEmpty ? "" : ": " + map.names.joined(separator: ", ")))")
        }
        guard let number = Int(device), let ports = router.service((any VMPortProvider).self) else {
            throw ElementError("VM port \(device): this router has no VM ports (give them with --port \(device)=memif:ROLE:PATH)")
        }
        guard let port = ports.port(number) else {
            throw ElementError("VM port \(device) does not exist (give it with --port \(device)=memif:ROLE:PATH)")
        }
        return port
    }

    /// A device's METHOD: Click's LINUX (a packet socket) and PCAP capture the same packets
    /// as the AF_PACKET ring used here; NETMAP is reported.
    func checkMethod(_ args: inout Arguments) {
        guard let method = args.keyword("METHOD", .word) else { return }
        switch method {
        case "LINUX", "PCAP": break
        case "NETMAP": configurationWarning("METHOD NETMAP is not supported; packets go through AF_PACKET")
        default: args.error("bad METHOD", keyword: "METHOD")
        }
    }
}

/// True for a device name that means a VM port (`FromDevice(0)`), not a Linux interface.
func isVMPort(_ name: String) -> Bool { !name.isEmpty && name.utf8.allSatisfy { $0 >= 48 && $0 <= 57 } }

#if canImport(Glibc)
import Glibc
#endif
import CShims
import ClickLanguage
import ClickRuntime
import PacketIO

/// The receive side of a Linux interface for FromDevice: an AF_PACKET socket with a
/// TPACKET_V3 ring (blocks of frames handed over by the kernel, no system call per
/// frame). The router thread watches `descriptor` and drains the ready blocks.
final class PacketSocketReceiver {
    let descriptor: Int32
    private let ring: UnsafeMutableRawPointer
    private let blockSize: UInt32 = 1 << 16
    private let blockCount: UInt32 = 32
    private var nextBlock: UInt32 = 0

    /// Opens the socket, maps its ring and binds it to `device`; the error says which
    /// step failed and why.
    init(device: String, promiscuous: Bool, outbound: Bool) throws(ElementError) {
        // The ring before the bind: see clickos_packet_open.
        let fd = clickos_packet_open()
        guard fd >= 0 else { throw ElementError("\(device): \(String(cString: strerror(errno)))") }
        if !outbound { _ = clickos_ignore_outgoing(fd) }
        guard let r = clickos_rx_ring(fd, blockSize, blockCount, 2048, 1) else {
            let message = String(cString: strerror(errno))
            close(fd)
            throw ElementError("\(device): receive ring: \(message)")
        }
        guard clickos_packet_bind(fd, device, promiscuous ? 1 : 0) == 0 else {
            let message = String(cString: strerror(errno))
            clickos_rx_ring_free(r, blockSize, blockCount)
            close(fd)
            throw ElementError("\(device): \(message)")
        }
        descriptor = fd
        ring = r
    }

    deinit {
        clickos_rx_ring_free(ring, blockSize, blockCount)
        close(descriptor)
    }

    /// Copies every frame of the ready blocks (at most `snaplen` bytes each) into packets
    /// stamped `now`, pushing `batch` out of `element`'s output 0 whenever it fills and
    /// once at the end; returns how many frames it took.
    func drain(into batch: inout PacketBatch, pool: PacketPool, snaplen: Int, now: Int64, element: Element) -> Int {
        var taken = 0
        var blocks = 0
        while clickos_block_ready(ring, blockSize, nextBlock) != 0 && blocks < Int(blockCount) {
            var frame = clickos_block_first_packet(ring, blockSize, nextBlock)
            let n = clickos_block_packet_count(ring, blockSize, nextBlock)
            for _ in 0..<n {
                guard let header = frame else { break }
                var length: UInt32 = 0
                if let data = clickos_packet_data(header, &length),
                    let p = pool.make(copying: data, length: min(Int(length), snaplen))
                {
                    p.timestamp = now
                    p.setMACHeader(at: 0)
                    if batch.isFull { element.output(0, &batch) }
                    batch.append(p)
                    taken &+= 1
                }
                frame = clickos_packet_next(header)
            }
            clickos_block_release(ring, blockSize, nextBlock)
            nextBlock = (nextBlock + 1) % blockCount
            blocks += 1
        }
        element.output(0, &batch)
        return taken
    }
}

/// The send side of a Linux interface for ToDevice: an AF_PACKET socket that sends a
/// batch of frames (with their link headers) in one sendmmsg.
final class PacketSocketSender {
    let descriptor: Int32

    init(device: String) throws(ElementError) {
        let fd = clickos_packet_socket(device, 0)
        guard fd >= 0 else { throw ElementError("\(device): \(String(cString: strerror(errno)))") }
        descriptor = fd
    }

    deinit {
        close(descriptor)
    }

    /// Sends `batch[0..<batch.count]`; returns how many frames the kernel took.
    func send(_ batch: PacketBatch) -> Int {
        let count = batch.count
        guard count > 0 else { return 0 }
        var sent = 0
        withUnsafeTemporaryAllocation(of: UnsafeRawPointer?.self, capacity: count) { frames in
            withUnsafeTemporaryAllocation(of: UInt32.self, capacity: count) { lengths in
                for i in 0..<count {
                    frames[i] = UnsafeRawPointer(batch[i].data)
                    lengths[i] = UInt32(batch[i].length)
                }
                // Temporary allocations of non-zero capacity have base addresses.
                let n = clickos_send_frames(descriptor, frames.baseAddress.unsafelyUnwrapped, lengths.baseAddress.unsafelyUnwrapped, UInt32(count))
                sent = max(0, Int(n))
            }
        }
        return sent
    }
}

extension Element {
    /// The VM port a `FromDevice(N)`/`ToDevice(N)` names, or an error that says how to
    /// provide one.
    func lookUpVMPort(_ device: String) throws(ElementError) -> any VMPort {
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

#if canImport(Glibc)
import Glibc
#endif
import CShims
import ClickLanguage
import ClickRuntime

/// True for a device name that means a VM port (`FromDevice(0)`), not a Linux interface.
func isVMPort(_ name: String) -> Bool { !name.isEmpty && name.utf8.allSatisfy { $0 >= 48 && $0 <= 57 } }

/// FromDevice(DEVNAME [, PROMISC, SNAPLEN, *keywords* SNIFFER, OUTBOUND, BURST, TIMESTAMP, ...])
///
/// Reads frames arriving on the Linux interface DEVNAME through an AF_PACKET socket with
/// a TPACKET_V3 receive ring (blocks handed over by the kernel, no system call per
/// packet) and pushes them out, timestamped. It does not see frames sent out of the same
/// interface unless OUTBOUND is true. With PROMISC true the interface goes promiscuous.
/// The router thread sleeps until the ring has frames. (Inside a ClickOS-style VM,
/// `FromDevice(N)` names the VM's port N instead: that comes with the VM runtime.)
///
/// Ports: no inputs, 1 output, push.
///
/// Handlers: `count` (read), `reset_counts` (write), `kernel_drops` (read), `encap` (read).
public final class FromDevice: Element {
    public override var className: String { "FromDevice" }
    public override var portCount: String { "0/1-2" }
    public override var processing: String { "h/h" }

    var device = ""
    var promiscuous = false
    var snaplen = 2046
    var outbound = false
    var stamp = true
    var fd: Int32 = -1
    var ring: UnsafeMutableRawPointer? = nil
    let blockSize: UInt32 = 1 << 16
    let blockCount: UInt32 = 32
    var nextBlock: UInt32 = 0
    public private(set) var count = 0

    public override func configure(_ args: inout Arguments) {
        device = args.mandatory("DEVNAME", .string) ?? ""
        promiscuous = args.positional("PROMISC", .bool) ?? false
        snaplen = args.positional("SNAPLEN", .unsignedInteger) ?? 2046
        _ = args.keyword("SNIFFER", .bool)
        outbound = args.keyword("OUTBOUND", .bool) ?? false
        _ = args.keyword("BURST", .unsignedInteger)
        stamp = args.keyword("TIMESTAMP", .bool) ?? true
        _ = args.keyword("METHOD", .word)
        _ = args.keyword("HEADROOM", .unsignedInteger)
        unsupportedKeywords(&args, ["FORCE_IP", "BPF_FILTER", "ENCAP", "PROTOCOL"])
    }

    public override func initialize() throws(ElementError) {
        if isVMPort(device) { throw ElementError("VM port \(device): VM ports come with the VM runtime; use an interface name here") }
        fd = clickos_packet_socket(device, promiscuous ? 1 : 0)
        guard fd >= 0 else { throw ElementError("\(device): \(String(cString: strerror(errno)))") }
        if !outbound { _ = clickos_ignore_outgoing(fd) }
        guard let r = clickos_rx_ring(fd, blockSize, blockCount, 2048, 1) else {
            let message = String(cString: strerror(errno))
            close(fd)
            fd = -1
            throw ElementError("\(device): receive ring: \(message)")
        }
        ring = r
        router.scheduler.watch(fd: fd, for: self)
    }

    public override func cleanup() {
        if fd >= 0 {
            router.scheduler.unwatch(fd: fd)
            clickos_rx_ring_free(ring, blockSize, blockCount)
            close(fd)
            fd = -1
            ring = nil
        }
    }

    public override func selected(fd: Int32) {
        guard let ring else { return }
        let now = stamp ? router.clock.now() : 0
        withScratchBatch { batch in
            var blocks = 0
            while clickos_block_ready(ring, blockSize, nextBlock) != 0 && blocks < Int(blockCount) {
                var packet = clickos_block_first_packet(ring, blockSize, nextBlock)
                let n = clickos_block_packet_count(ring, blockSize, nextBlock)
                for _ in 0..<n {
                    guard let header = packet else { break }
                    var length: UInt32 = 0
                    if let data = clickos_packet_data(header, &length),
                        let p = pool.make(copying: data, length: min(Int(length), snaplen))
                    {
                        p.timestamp = now
                        p.setMACHeader(at: 0)
                        if batch.isFull { output(0, &batch) }
                        batch.append(p)
                        count &+= 1
                    }
                    packet = clickos_packet_next(header)
                }
                clickos_block_release(ring, blockSize, nextBlock)
                nextBlock = (nextBlock + 1) % blockCount
                blocks += 1
            }
            output(0, &batch)
        }
    }

    public override func addHandlers(_ h: inout HandlerSet) {
        h.integer("count", get: { [unowned self] in self.count })
        h.write("reset_counts") { [unowned self] _ in self.count = 0 }
        h.read("kernel_drops") { "0" }
        h.read("encap") { "ETHER" }
    }
}

/// ToDevice(DEVNAME [, BURST, *keywords* ...])
///
/// Pulls frames (with their link header) and sends them out of the Linux interface
/// DEVNAME through an AF_PACKET socket, up to BURST (default 64) per system call
/// (sendmmsg). Sleeps while upstream is empty. Sent frames go to output 0 if it exists;
/// frames the kernel refused go to output 1 if it exists; otherwise both are freed.
///
/// Ports: 1 pull input, 0 to 2 outputs (push).
///
/// Handlers: `count`, `drops` (read).
public final class ToDevice: Element {
    public override var className: String { "ToDevice" }
    public override var portCount: String { "1/0-2" }
    public override var processing: String { "l/h" }

    var device = ""
    var burst = 64
    var fd: Int32 = -1
    var task: Task?
    var signal: UpstreamSignal?
    public private(set) var count = 0
    public private(set) var drops = 0

    public override func configure(_ args: inout Arguments) {
        device = args.mandatory("DEVNAME", .string) ?? ""
        burst = min(max(args.positional("BURST", .unsignedInteger) ?? 64, 1), 64)
        for k in ["METHOD", "DEBUG", "QUIET", "NO_PAD"] { _ = args.keyword(k, .raw) }
        unsupportedKeywords(&args, ["ALLOW_NONEXISTENT"])
    }

    public override func initialize() throws(ElementError) {
        if isVMPort(device) { throw ElementError("VM port \(device): VM ports come with the VM runtime; use an interface name here") }
        fd = clickos_packet_socket(device, 0)
        guard fd >= 0 else { throw ElementError("\(device): \(String(cString: strerror(errno)))") }
        let t = makeTask()
        task = t
        signal = upstreamEmptySignal(0)
        signal?.addListener(t)
        t.schedule()
    }

    public override func cleanup() {
        task?.unschedule()
        if fd >= 0 {
            close(fd)
            fd = -1
        }
    }

    public override func runTask(_ task: Task) -> Bool {
        var moved = 0
        withScratchBatch { batch in
            input(0, into: &batch, max: burst)
            moved = batch.count
            guard moved > 0 else { return }
            var sent = 0
            withUnsafeTemporaryAllocation(of: UnsafeRawPointer?.self, capacity: moved) { frames in
                withUnsafeTemporaryAllocation(of: UInt32.self, capacity: moved) { lengths in
                    for i in 0..<moved {
                        frames[i] = UnsafeRawPointer(batch[i].data)
                        lengths[i] = UInt32(batch[i].length)
                    }
                    // Temporary allocations of non-zero capacity have base addresses.
                    let n = clickos_send_frames(fd, frames.baseAddress.unsafelyUnwrapped, lengths.baseAddress.unsafelyUnwrapped, UInt32(moved))
                    sent = max(0, Int(n))
                }
            }
            count &+= sent
            drops &+= moved - sent
            if noutputs > 1 {
                withScratchBatch { failed in
                    for i in sent..<moved { failed.append(batch[i]) }
                    output(1, &failed)
                }
                batch.count = sent
            } else {
                for i in sent..<moved { batch[i].kill() }
                batch.count = sent
            }
            if noutputs > 0 { output(0, &batch) } else { batch.killAll() }
        }
        if moved == 0, let signal, !signal.isActive { task.unschedule() }
        return moved > 0
    }

    public override func addHandlers(_ h: inout HandlerSet) {
        h.integer("count", get: { [unowned self] in self.count })
        h.integer("drops", get: { [unowned self] in self.drops })
    }
}

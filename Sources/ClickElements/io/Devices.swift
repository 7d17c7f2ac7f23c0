#if canImport(Glibc)
import Glibc
#endif
import CShims
import ClickLanguage
import ClickRuntime

/// True for a device name that means a VM port (`FromDevice(0)`), not a Linux interface.
func isVMPort(_ name: String) -> Bool { !name.isEmpty && name.utf8.allSatisfy { $0 >= 48 && $0 <= 57 } }

/// FromDevice(DEVNAME [, PROMISC, SNAPLEN, *keywords* SNIFFER, OUTBOUND, BURST, TIMESTAMP,
/// METHOD, HEADROOM, FORCE_IP, BPF_FILTER, ENCAP, PROTOCOL])
///
/// Reads frames arriving on the Linux interface DEVNAME through an AF_PACKET socket with
/// a TPACKET_V3 receive ring (blocks handed over by the kernel, no system call per
/// packet) and pushes them out, timestamped. It does not see frames sent out of the same
/// interface unless OUTBOUND is true. With PROMISC true the interface goes promiscuous.
/// The router thread sleeps until the ring has frames.
///
/// Inside a ClickOS-style VM, a number names the VM's port instead: `FromDevice(0)` emits
/// the frames arriving on port 0 (a memif link, given to `clickos-vm` with
/// `--port 0=memif:...`), up to BURST (default 32) per task run. While frames keep
/// coming it polls the link. When the link runs dry after carrying traffic it naps for
/// 25 µs without asking the peer for an interrupt (interrupt moderation, as NICs do: at
/// moderate rates a wake-up per packet would cost more CPU than the packets); only when a
/// nap finds nothing does it ask for an interrupt and sleep until one comes, so an idle
/// VM uses no CPU and a lone packet is not delayed by a nap.
///
/// Ports: no inputs, 1 output, push.
///
/// Handlers: `count` (read), `reset_counts` (write), `kernel_drops` (read), `encap` (read);
/// with a VM port, `link` (read: up or down, and why).
public final class FromDevice: Element, VMPortObserver {
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
    // VM port mode. The VM's port set owns its ports for the whole run.
    unowned(unsafe) var vmPort: (any VMPort)?
    var burst = 32
    var task: Task?
    var watched: [Int32] = []
    var emptyPolls = 0
    var receivedSinceNap = 0
    var napTimer: Timer?
    var lastArrival: Int64 = 0
    /// Empty polls before the receiver naps or sleeps on the interrupt, and how long it
    /// keeps polling after the last arrival (a sender with its own core refills the ring
    /// within microseconds; sleeping then would cost more than it saves).
    static let pollsBeforeSleep = 4
    static let spinNanoseconds: Int64 = 20_000
    /// The moderation nap.
    static let napNanoseconds: Int64 = 25_000

    public override func configure(_ args: inout Arguments) {
        device = args.mandatory("DEVNAME", .string) ?? ""
        promiscuous = args.positional("PROMISC", .bool) ?? false
        snaplen = args.positional("SNAPLEN", .unsignedInteger) ?? 2046
        if args.keyword("SNIFFER", .bool) == false {
            configurationWarning("SNIFFER false is not supported and has no effect (the host stack sees the packets too)")
        }
        outbound = args.keyword("OUTBOUND", .bool) ?? false
        burst = min(max(args.keyword("BURST", .unsignedInteger) ?? 32, 1), 256)
        stamp = args.keyword("TIMESTAMP", .bool) ?? true
        checkMethod(&args)
        unsupportedKeywords(&args, ["HEADROOM"], because: "packet buffers have a fixed headroom")
        unsupportedKeywords(&args, ["FORCE_IP", "BPF_FILTER", "ENCAP", "PROTOCOL"])
    }

    public override func initialize() throws(ElementError) {
        if isVMPort(device) {
            vmPort = try lookUpVMPort(device)
            let t = makeTask()
            task = t
            napTimer = makeTimer()
            vmPort?.addObserver(self)
            portStateChanged()
            return
        }
        // The ring before the bind: see clickos_packet_open.
        fd = clickos_packet_open()
        guard fd >= 0 else { throw ElementError("\(device): \(String(cString: strerror(errno)))") }
        if !outbound { _ = clickos_ignore_outgoing(fd) }
        guard let r = clickos_rx_ring(fd, blockSize, blockCount, 2048, 1) else {
            let message = String(cString: strerror(errno))
            close(fd)
            fd = -1
            throw ElementError("\(device): receive ring: \(message)")
        }
        ring = r
        guard clickos_packet_bind(fd, device, promiscuous ? 1 : 0) == 0 else {
            let message = String(cString: strerror(errno))
            clickos_rx_ring_free(r, blockSize, blockCount)
            close(fd)
            fd = -1
            ring = nil
            throw ElementError("\(device): \(message)")
        }
        router.scheduler.watch(fd: fd, for: self)
    }

    public override func cleanup() {
        if let vmPort {
            vmPort.removeObserver(self)
            for fd in watched { router.scheduler.unwatch(fd: fd) }
            watched = []
            task?.unschedule()
            napTimer?.unschedule()
            self.vmPort = nil
        }
        if fd >= 0 {
            router.scheduler.unwatch(fd: fd)
            clickos_rx_ring_free(ring, blockSize, blockCount)
            close(fd)
            fd = -1
            ring = nil
        }
    }

    /// The link came up or went down: watch its new interrupt descriptors and drain
    /// whatever is already waiting.
    public func portStateChanged() {
        guard let vmPort else { return }
        for fd in watched { router.scheduler.unwatch(fd: fd) }
        watched = vmPort.receiveInterruptDescriptors
        for fd in watched { router.scheduler.watch(fd: fd, for: self) }
        if vmPort.isConnected {
            vmPort.enableReceiveInterrupts(false)
            emptyPolls = 0
            task?.schedule()
        } else if vmPort.hasPendingReceive {
            // The peer left packets behind: take them before the link's memory goes.
            task?.schedule()
        } else {
            task?.unschedule()
        }
    }

    public override func runTask(_ task: Task) -> Bool {
        guard let vmPort else { return false }
        var received = 0
        withScratchBatch { batch in
            // Never more than BURST per run, so other tasks get their turn.
            var limited = PacketBatch(storage: batch.storage, capacity: min(batch.capacity, burst))
            received = vmPort.receive(into: &limited, pool: pool)
            if received > 0 {
                let now = stamp ? router.clock.now() : 0
                for i in 0..<received { limited[i].timestamp = now }
                count &+= received
                output(0, &limited)
            }
        }
        if received > 0 {
            emptyPolls = 0
            receivedSinceNap &+= received
            lastArrival = monotonicNanoseconds()
            return true
        }
        if !vmPort.isConnected {
            // Drained what a departed peer left: sleep until the link is back.
            task.unschedule()
            return false
        }
        // A polling port (mode=poll) keeps its receiver spinning, as DPDK's do.
        if vmPort.isPolling {
            clickos_pause(64)
            return false
        }
        emptyPolls += 1
        if receivedSinceNap > 0 && emptyPolls >= Self.pollsBeforeSleep && monotonicNanoseconds() - lastArrival < Self.spinNanoseconds {
            clickos_pause(64)
            return false
        }
        if emptyPolls >= Self.pollsBeforeSleep && receivedSinceNap > 0 {
            // Traffic is flowing: nap with interrupts still masked, then look again.
            receivedSinceNap = 0
            emptyPolls = 0
            task.unschedule()
            napTimer?.schedule(after: Self.napNanoseconds)
        } else if emptyPolls >= Self.pollsBeforeSleep {
            // Ask for an interrupt, then look once more: a frame published between the
            // last poll and the mask change would otherwise wait for the next one.
            vmPort.enableReceiveInterrupts(true)
            if vmPort.hasPendingReceive {
                vmPort.enableReceiveInterrupts(false)
                emptyPolls = 0
            } else {
                task.unschedule()
            }
        }
        return false
    }

    public override func runTimer(_ timer: Timer) {
        task?.schedule()
    }

    public override func selected(fd: Int32) {
        if let vmPort {
            vmPort.acknowledgeInterrupt(fd: fd)
            vmPort.enableReceiveInterrupts(false)
            emptyPolls = 0
            task?.schedule()
            return
        }
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
        if isVMPort(device) { h.read("link") { [unowned self] in self.vmPort?.linkDescription ?? "down" } }
    }
}

/// CLOCK_MONOTONIC in nanoseconds (the vDSO: no system call).
@inline(__always) func monotonicNanoseconds() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Int64(ts.tv_sec) &* 1_000_000_000 &+ Int64(ts.tv_nsec)
}

extension Element {
    /// The VM port a `FromDevice(N)`/`ToDevice(N)` names, or an error that says how to
    /// provide one.
    func lookUpVMPort(_ device: String) throws(ElementError) -> any VMPort {
        guard let number = Int(device), let ports = router.vmPorts else {
            throw ElementError("VM port \(device): this router has no VM ports (give them with --port \(device)=memif:ROLE:PATH)")
        }
        guard let port = ports.port(number) else {
            throw ElementError("VM port \(device) does not exist (give it with --port \(device)=memif:ROLE:PATH)")
        }
        return port
    }
}

/// ToDevice(DEVNAME [, BURST, *keywords* METHOD, DEBUG, ALLOW_NONEXISTENT])
///
/// Sends frames (with their link header) out of the Linux interface DEVNAME through an
/// AF_PACKET socket, up to BURST (default 64) per system call (sendmmsg); or, inside a
/// VM, out of the VM's port N for `ToDevice(N)` (ClickOS naming). Its input is agnostic,
/// as in ClickOS: pulled (after a Queue), it sends BURST at a time and sleeps while
/// upstream is empty or, on a VM port, takes only what the link has room for and leaves
/// the rest queued; pushed, it sends at once and drops what does not fit (counted in
/// `drops`). Sent frames go to output 0 if it exists; frames that could not be sent go to
/// output 1 if it exists; otherwise both are freed.
///
/// Ports: 1 input (agnostic), 0 to 2 outputs (push).
///
/// Handlers: `count`, `drops` (read); with a VM port, `link` (read: up or down, and why).
public final class ToDevice: Element, VMPortObserver {
    public override var portCount: String { "1/0-2" }
    public override var processing: String { "a/h" }

    var device = ""
    var burst = 64
    var fd: Int32 = -1
    var task: Task?
    var signal: UpstreamSignal?
    public private(set) var count = 0
    public private(set) var drops = 0
    unowned(unsafe) var vmPort: (any VMPort)?
    var retryTimer: Timer?
    var fullSince: Int64 = 0
    /// A full link is polled this long before the sender backs off for a nap.
    static let fullLinkSpinNanoseconds: Int64 = 20_000
    static let fullLinkRetryNanoseconds: Int64 = 20_000

    public override func configure(_ args: inout Arguments) {
        device = args.mandatory("DEVNAME", .string) ?? ""
        burst = min(max(args.positional("BURST", .unsignedInteger) ?? 64, 1), 64)
        checkMethod(&args)
        unsupportedKeywords(&args, ["DEBUG", "ALLOW_NONEXISTENT"])
    }

    public override func initialize() throws(ElementError) {
        if isVMPort(device) {
            vmPort = try lookUpVMPort(device)
            vmPort?.addObserver(self)
        } else {
            fd = clickos_packet_socket(device, 0)
            guard fd >= 0 else { throw ElementError("\(device): \(String(cString: strerror(errno)))") }
        }
        guard inputIsPull(0) else { return }
        retryTimer = makeTimer()
        let t = makeTask()
        task = t
        signal = upstreamEmptySignal(0)
        signal?.addListener(t)
        t.schedule()
    }

    public override func cleanup() {
        task?.unschedule()
        retryTimer?.unschedule()
        vmPort?.removeObserver(self)
        vmPort = nil
        if fd >= 0 {
            close(fd)
            fd = -1
        }
    }

    /// A VM port's link came up (queued frames can go) or went down.
    public func portStateChanged() {
        if vmPort?.isConnected == true { task?.schedule() }
    }

    public override func runTimer(_ timer: Timer) {
        task?.schedule()
    }

    public override func push(port: Int, _ batch: inout PacketBatch) {
        send(&batch)
    }

    public override func runTask(_ task: Task) -> Bool {
        var moved = 0
        var room = burst
        if let vmPort {
            guard vmPort.isConnected else {
                // Frames stay queued until the link is up again (portStateChanged).
                task.unschedule()
                return false
            }
            room = min(burst, vmPort.transmitSpace)
            // A full link: memif has no "room again" interrupt, so look again after a
            // short nap instead of spinning (the frames wait upstream meanwhile).
            if room == 0 {
                let now = monotonicNanoseconds()
                if fullSince == 0 { fullSince = now }
                if now - fullSince < Self.fullLinkSpinNanoseconds { return false }
                fullSince = 0
                task.unschedule()
                retryTimer?.schedule(after: Self.fullLinkRetryNanoseconds)
                return false
            }
            fullSince = 0
        }
        withScratchBatch { batch in
            input(0, into: &batch, max: room)
            moved = batch.count
            send(&batch)
        }
        if moved == 0, let signal, !signal.isActive { task.unschedule() }
        return moved > 0
    }

    /// Sends `batch` and passes on (or frees) what went and what did not.
    func send(_ batch: inout PacketBatch) {
        let moved = batch.count
        guard moved > 0 else { return }
        var sent = 0
        if let vmPort {
            sent = vmPort.transmit(batch, from: 0)
            if sent < moved { vmPort.countTransmitDrops(moved - sent) }
        } else {
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

    public override func addHandlers(_ h: inout HandlerSet) {
        h.integer("count", get: { [unowned self] in self.count })
        h.integer("drops", get: { [unowned self] in self.drops })
        if isVMPort(device) { h.read("link") { [unowned self] in self.vmPort?.linkDescription ?? "down" } }
    }
}

extension Element {
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

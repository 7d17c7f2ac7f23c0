#if canImport(Glibc)
import Glibc
#endif
import CShims
import ClickLanguage
import ClickRuntime
import PacketIO

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
/// A large segment (from FromDevice with GSO true) goes out of a Linux interface whole,
/// with the virtio net header that has the kernel or the interface cut it and finish its
/// checksums; out of a VM port it is cut into its packets first.
///
/// Ports: 1 input (agnostic), 0 to 2 outputs (push).
///
/// Handlers: `count`, `drops` (read); on a Linux interface, `segments_sent` (read: large
/// segments sent whole); with a VM port, `link` (read: up or down, and why).
public final class ToDevice: Element, VMPortObserver {
    public override var portCount: String { "1/0-2" }
    public override var processing: String { "a/h" }

    var device = ""
    var burst = 64
    var task: Task?
    var signal: UpstreamSignal?
    public private(set) var count = 0
    public private(set) var drops = 0
    /// A Linux interface's socket.
    var socket: PacketSocketSender?
    /// A VM port (owned by the VM's port set) and how to wait while it is full.
    unowned(unsafe) var vmPort: (any VMPort)?
    var backoff = TransmitBackoff()
    var retryTimer: Timer?

    public override func configure(_ args: inout Arguments) {
        device = args.mandatory("DEVNAME", .string) ?? ""
        burst = min(max(args.positional("BURST", .unsignedInteger) ?? 64, 1), 64)
        checkMethod(&args)
        unsupportedKeywords(&args, ["DEBUG", "ALLOW_NONEXISTENT"])
    }

    public override func initialize() throws(ElementError) {
        if let interface = linuxInterface(device) {
            socket = try PacketSocketSender(device: interface)
        } else {
            vmPort = try lookUpVMPort(device)
            vmPort?.addObserver(self)
        }
        guard inputIsPull(0) else { return }
        retryTimer = makeTimer()
        (task, signal) = startPulling()
    }

    public override func cleanup() {
        task?.unschedule()
        retryTimer?.unschedule()
        vmPort?.removeObserver(self)
        vmPort = nil
        socket = nil
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
            if room == 0 {
                if let nap = backoff.full() {
                    task.unschedule()
                    retryTimer?.schedule(after: nap)
                }
                return false
            }
            backoff.hadRoom()
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
        for i in 0..<moved where batch[i].isLargeSegment && (vmPort != nil || PacketSocketSender.virtioHeader(for: batch[i]) == nil) {
            sendCuttingLargeSegments(&batch)
            return
        }
        transmit(&batch)
    }

    /// Sends `batch`, which holds large segments this device cannot send whole (a VM
    /// port's link carries ordinary frames; a segment whose headers do not read as one
    /// cannot be described to the kernel): those are cut into their packets first, as
    /// Linux's software segmentation would, or dropped (counted) if they cannot be.
    private func sendCuttingLargeSegments(_ batch: inout PacketBatch) {
        withScratchBatch { out in
            for i in 0..<batch.count {
                let p = batch[i]
                if p.isLargeSegment && (vmPort != nil || PacketSocketSender.virtioHeader(for: p) == nil) {
                    var made = 0
                    if let layout = SegmentLayout(p.data, length: p.length, gsoType: p.gsoType & 0x7F, segmentSize: p.gsoSize) {
                        made = layout.cutAll(p.data, length: p.length, pool: pool) { piece in
                            if out.isFull { transmit(&out) }
                            out.append(piece)
                        }
                    }
                    if made == 0 { drops &+= 1 }
                    p.kill()
                } else {
                    if out.isFull { transmit(&out) }
                    out.append(p)
                }
            }
            transmit(&out)
        }
        batch.count = 0
    }

    /// Sends `batch` (nothing in it needs cutting) and passes on what went and what did not.
    private func transmit(_ batch: inout PacketBatch) {
        let moved = batch.count
        guard moved > 0 else { return }
        var sent = 0
        if let vmPort {
            sent = vmPort.transmit(batch, from: 0)
            if sent < moved { vmPort.countTransmitDrops(moved - sent) }
        } else if let socket {
            sent = socket.send(batch)
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
        if linuxInterface(device) != nil { h.integer("segments_sent", get: { [unowned self] in self.socket?.segmentsSent ?? 0 }) }
        if linuxInterface(device) == nil { h.read("link") { [unowned self] in self.vmPort?.linkDescription ?? "down" } }
    }
}

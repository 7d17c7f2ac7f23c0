#if canImport(Glibc)
import Glibc
#endif
import CShims
import ClickLanguage
import ClickRuntime
import PacketIO

/// FromDevice(DEVNAME [, PROMISC, SNAPLEN, *keywords* SNIFFER, OUTBOUND, BURST, TIMESTAMP,
/// GSO, BUSY_POLL, METHOD, HEADROOM, FORCE_IP, BPF_FILTER, ENCAP, PROTOCOL])
///
/// Reads frames arriving on the Linux interface DEVNAME through an AF_PACKET socket and
/// pushes them out, timestamped. The router thread sleeps until a frame arrives and then
/// takes every waiting frame, up to 64 per system call: a lone packet goes on at once.
/// After frames arrived it keeps looking for BUSY_POLL (default 100 µs, an extension of
/// this engine) instead of sleeping, as Linux's busy polling does: the rest of a stream,
/// or the answer to a packet it just forwarded, is taken without the wake-up a sleeping
/// thread needs (tens of microseconds on a virtual CPU). The price is up to BUSY_POLL of
/// CPU time after each burst; at rates above one burst per BUSY_POLL the thread never
/// sleeps. With BUSY_POLL 0 it sleeps at once, and after a wake-up that found more than
/// one frame waiting it naps for 25 µs before it looks again (interrupt moderation, as NICs
/// do), so that a stream is taken in batches, not with a wake-up and a system call per
/// frame. It does not see frames sent out of the same interface unless OUTBOUND is true.
/// With PROMISC true the interface goes promiscuous.
///
/// The interface's offloads may stay as Linux sets them up: a frame whose transport
/// checksum the sender left to offload (a veth peer, a local socket) gets it finished
/// here, and a large TCP or UDP segment (GSO, up to 64 kB) is cut into packets of its
/// segment size with correct IP and transport headers, as Linux's software segmentation
/// does. Frames longer than SNAPLEN are truncated to it.
///
/// With GSO true (default false, an extension of this engine), a large segment goes on
/// whole instead, as one packet of up to 64 kB marked as standing for packets of its
/// segment size, its transport checksum left unfinished, as Linux's own forwarding
/// passes them: a ToDevice on a Linux interface sends it whole for the kernel (or the
/// interface) to cut, IPFragmenter checks its segments against the MTU, and a ToDevice
/// on a VM port cuts it first. Elements that read or rewrite transport payloads or
/// checksums (CheckTCPHeader, SetTCPChecksum, IPRewriter) expect ordinary packets: use
/// GSO true for forwarding paths. When its 256 large buffers are all in use, segments are
/// cut as without GSO.
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
/// Handlers: `count` (read), `reset_counts` (write), `kernel_drops` (read: frames the
/// kernel dropped because the router fell behind), `encap` (read); on a Linux interface,
/// `offloads` (read: checksums finished, segments cut, packets they gave, segments passed
/// on whole, frames dropped as uncuttable or too large); with a VM port, `link` (read: up or down, and why).
public final class FromDevice: Element, VMPortObserver {
    public override var portCount: String { "0/1-2" }
    public override var processing: String { "h/h" }

    var device = ""
    var promiscuous = false
    var snaplen = 2046
    var outbound = false
    var stamp = true
    var burst = 32
    var passLargeSegments = false
    /// How long the thread keeps looking for frames after some arrived, in nanoseconds.
    var busyPoll: Int64 = 100_000
    public private(set) var count = 0
    /// A Linux interface's socket and ring.
    var socket: PacketSocketReceiver?
    /// A VM port. The VM's port set owns its ports for the whole run.
    unowned(unsafe) var vmPort: (any VMPort)?
    var pacing = ReceivePacing()
    var task: Task?
    var watched: [Int32] = []
    var napTimer: Timer?

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
        passLargeSegments = args.keyword("GSO", .bool) ?? false
        busyPoll = args.keyword("BUSY_POLL", .seconds(fractionDigits: 6)) ?? 100_000
        checkMethod(&args)
        unsupportedKeywords(&args, ["HEADROOM"], because: "packet buffers have a fixed headroom")
        unsupportedKeywords(&args, ["FORCE_IP", "BPF_FILTER", "ENCAP", "PROTOCOL"])
    }

    public override func initialize() throws(ElementError) {
        guard let interface = linuxInterface(device) else {
            vmPort = try lookUpVMPort(device)
            task = makeTask()
            napTimer = makeTimer()
            vmPort?.addObserver(self)
            portStateChanged()
            return
        }
        let s = try PacketSocketReceiver(device: interface, promiscuous: promiscuous, outbound: outbound, pool: pool,
                                         largeSegments: passLargeSegments ? pool.largeSegments() : nil)
        socket = s
        napTimer = makeTimer()
        router.scheduler.watch(fd: s.descriptor, for: self)
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
        if let socket {
            router.scheduler.unwatch(fd: socket.descriptor)
            napTimer?.unschedule()
            self.socket = nil
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
            pacing.woken()
            task?.schedule()
        } else if vmPort.hasPendingReceive {
            // The peer left packets behind: take them before the link's memory goes.
            task?.schedule()
        } else {
            task?.unschedule()
        }
    }

    /// Receives from the VM port, at most BURST per run so other tasks get their turn,
    /// and paces the next look as `ReceivePacing` says.
    public override func runTask(_ task: Task) -> Bool {
        guard let vmPort else { return false }
        var received = 0
        withScratchBatch { batch in
            var limited = PacketBatch(storage: batch.storage, capacity: min(batch.capacity, burst))
            received = vmPort.receive(into: &limited, pool: pool)
            if received > 0 {
                let now = stamp ? routerNow() : 0
                for i in 0..<received { limited[i].timestamp = now }
                count &+= received
                output(0, &limited)
            }
        }
        if received > 0 {
            pacing.received(received)
            return true
        }
        if !vmPort.isConnected {
            // Drained what a departed peer left: sleep until the link is back.
            task.unschedule()
            return false
        }
        switch pacing.foundNothing(polling: vmPort.isPolling) {
        case .pollAgain:
            break
        case .spin:
            clickos_pause(64)
        case .nap(let nanoseconds):
            task.unschedule()
            napTimer?.schedule(after: nanoseconds)
        case .sleepOnInterrupt:
            // Ask for an interrupt, then look once more: a frame published between the
            // last poll and the mask change would otherwise wait for the next one.
            vmPort.enableReceiveInterrupts(true)
            if vmPort.hasPendingReceive {
                vmPort.enableReceiveInterrupts(false)
                pacing.woken()
            } else {
                task.unschedule()
            }
        }
        return false
    }

    public override func runTimer(_ timer: Timer) {
        guard let socket else {
            task?.schedule()
            return
        }
        // The end of a moderation nap: take what came meanwhile and nap again, or, if
        // nothing did, sleep until a frame arrives.
        if drainSocket(socket) == 0 {
            router.scheduler.watch(fd: socket.descriptor, for: self)
        } else {
            napTimer?.schedule(after: ReceivePacing.napNanoseconds)
        }
    }

    /// Takes the socket's waiting frames; returns how many packets they gave.
    private func drainSocket(_ socket: PacketSocketReceiver) -> Int {
        let now = stamp ? routerNow() : 0
        var made = 0
        withScratchBatch { batch in
            made = socket.drain(into: &batch, pool: pool, snaplen: snaplen, now: now, element: self)
        }
        count &+= made
        return made
    }

    public override func selected(fd: Int32) {
        if let vmPort {
            vmPort.acknowledgeInterrupt(fd: fd)
            vmPort.enableReceiveInterrupts(false)
            pacing.woken()
            task?.schedule()
            return
        }
        guard let socket else { return }
        // A frame woke the router: it goes on at once.
        let made = drainSocket(socket)
        if busyPoll > 0 {
            // The scheduler polls the socket instead of sleeping for a while: a stream's
            // next frames, or a reply, need no wake-up (which cost TCP through a veth
            // router a sixth of its rate and a ping some 40 us per round trip).
            if made > 0 { router.scheduler.stayAwake(forNanoseconds: busyPoll) }
            return
        }
        // Without busy polling: if more than one frame was waiting (a stream, not a lone
        // packet), as a NIC moderates its interrupts, the socket is not watched for a
        // short nap, so that the stream is taken in batches rather than with a wake-up
        // and a system call each. A lone packet leaves the socket watched: the nap's
        // extra wake-up cost a ping some 20 us per round trip.
        if made > 1 {
            router.scheduler.unwatch(fd: socket.descriptor)
            napTimer?.schedule(after: ReceivePacing.napNanoseconds)
        }
    }

    public override func addHandlers(_ h: inout HandlerSet) {
        h.integer("count", get: { [unowned self] in self.count })
        h.write("reset_counts") { [unowned self] _ in self.count = 0 }
        h.read("kernel_drops") { [unowned self] in String(self.socket?.droppedByKernel() ?? 0) }
        h.read("encap") { "ETHER" }
        if linuxInterface(device) != nil {
            h.read("offloads") { [unowned self] in
                let c = self.socket?.offloadCounts ?? ReceiveOffloadCounts()
                return "checksums_finished \(c.checksumsFinished)\nsegments_cut \(c.segmentsCut)\n"
                    + "packets_from_segments \(c.packetsFromSegments)\nsegments_passed \(c.segmentsPassed)\n"
                    + "dropped \(c.dropped)\n"
            }
        }
        if linuxInterface(device) == nil { h.read("link") { [unowned self] in self.vmPort?.linkDescription ?? "down" } }
    }
}

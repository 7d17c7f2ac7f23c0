#if canImport(Glibc)
import Glibc
#endif
import CShims
import ClickLanguage
import ClickRuntime

/// KernelTun(ADDR [, GATEWAY, *keywords* TAP, HEADROOM, ETHER, MTU, BURST,
/// IGNORE_QUEUE_OVERFLOWS, DEVNAME, DEV_NAME])
///
/// A Linux TUN device: the router's way to the host's own IP stack. KernelTun allocates a
/// /dev/net/tun device (named DEVNAME or DEV_NAME, or the next free `tunN`), gives the
/// kernel's side the address and netmask ADDR (`1.0.0.1/8`), brings it up, and, with a nonzero GATEWAY (on the same
/// network), adds a default route through it. Packets the kernel sends into the device
/// (to any other address in ADDR's network) come out of output 0 as IP packets with their IP
/// header marked and the time they arrived; anything that is not IP goes to output 1, or
/// is dropped without one. IP packets pushed or pulled into the input go to the kernel
/// (the packet's IP header onwards; packets with no IP header, of another IP version, or
/// longer than MTU are dropped with a message). With TAP true it is KernelTap.
///
/// Ports: 0 or 1 input (agnostic; pulled one packet per task run); 1 or 2 outputs (push).
///
/// Arguments: BURST (default 1) packets are read per wake-up; MTU (default 1500) is the
/// device's MTU; ETHER sets a TAP device's Ethernet address; HEADROOM is accepted for
/// Click's sake (this project's packets have a fixed headroom); IGNORE_QUEUE_OVERFLOWS
/// prints only the first ENOBUFS write error.
///
/// Handlers: `dev_name`, `packets`, `selected_calls` (read); with a pulled input the task
/// handlers.
public class KernelTun: Element {
    public override var portCount: String { "0-1/1-2" }
    public override var processing: String { "a/h" }
    public override var flowCode: String { "x/y" }
    public override var configurePhase: Int { ConfigurePhase.privileged - 1 }

    /// A TAP device carrying Ethernet frames (KernelTap) rather than a TUN device.
    var tap: Bool { false }
    var isTap = false
    var address = IPv4Prefix(address: IPv4Address(0), mask: 0)
    var gateway: IPv4Address?
    var ether: EtherAddress?
    var mtu = 1500
    var burst = 1
    var ignoreQueueOverflows = false
    var deviceName = ""
    var fd: Int32 = -1
    var packets = 0
    var selectedCalls = 0
    var printedReadError = false
    var printedWriteError = false
    var task: Task?
    var signal: UpstreamSignal?

    /// The 4-byte packet information header Linux puts before each packet.
    static let infoLength = 4

    public override func configure(_ args: inout Arguments) {
        isTap = tap
        if let prefix = args.mandatory("ADDR", .ipv4Prefix) { address = prefix }
        gateway = args.positional("GATEWAY", .ipv4Address)
        isTap = args.keyword("TAP", .bool) ?? isTap
        _ = args.keyword("HEADROOM", .unsignedInteger)
        burst = args.keyword("BURST", .integer) ?? 1
        ether = args.keyword("ETHER", .etherAddress)
        ignoreQueueOverflows = args.keyword("IGNORE_QUEUE_OVERFLOWS", .bool) ?? false
        mtu = args.keyword("MTU", .integer) ?? 1500
        deviceName = args.keyword("DEVNAME", .string) ?? args.keyword("DEV_NAME", .string) ?? ""
        if let gateway, gateway.value != 0, gateway.value & address.mask != address.address.value & address.mask {
            args.error("bad GATEWAY")
        }
        if burst < 1 { args.error("BURST must be >= 1") }
        if mtu < 20 { args.error("MTU must be greater than 20") }
        // Packets are read whole into one buffer; a larger MTU could not be received.
        if mtu + 18 > PacketPool.defaultBufferSize - PacketPool.defaultHeadroom {
            args.error("MTU must be at most \(PacketPool.defaultBufferSize - PacketPool.defaultHeadroom - 18)")
        }
    }

    public override func initialize() throws(ElementError) {
        var name = [CChar](repeating: 0, count: Int(IFNAMSIZ))
        let opened = clickos_tun_open(deviceName, isTap ? 1 : 0, &name)
        guard opened >= 0 else {
            throw ElementError("/dev/net/tun: \(String(cString: strerror(-opened)))")
        }
        fd = opened
        deviceName = String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        var step: Int32 = 0
        let mac = (0..<6).map { UInt8(truncatingIfNeeded: (ether?.value ?? 0) >> (40 - 8 * UInt64($0))) }
        let configured = mac.withUnsafeBufferPointer { macBuffer in
            clickos_interface_configure(deviceName, address.address.value.bigEndian, address.mask.bigEndian,
                                        Int32(mtu == 1500 ? 0 : mtu), ether == nil ? nil : macBuffer.baseAddress, isTap ? 1 : 0, &step)
        }
        guard configured >= 0 else {
            let what = ["SIOCSIFADDR", "SIOCSIFNETMASK", "SIOCSIFMTU", "SIOCSIFHWADDR", "SIOCSIFFLAGS"][Int(step)]
            throw ElementError("\(what) failed: \(String(cString: strerror(-configured)))")
        }
        if let gateway, gateway.value != 0 {
            let command = "ip route replace default via \(gateway) dev \(deviceName)"
            guard system(command) == 0 else { throw ElementError("\(command): failed") }
        }
        if ninputs > 0 && inputIsPull(0) { (task, signal) = startPulling() }
        router.scheduler.watch(fd: fd, for: self)
    }

    public override func cleanup() {
        task?.unschedule()
        if fd >= 0 {
            router.scheduler.unwatch(fd: fd)
            close(fd)
            fd = -1
        }
    }

    /// The device is readable: up to BURST packets come out.
    public override func selected(fd: Int32) {
        guard fd == self.fd else { return }
        selectedCalls &+= 1
        var n = burst
        while n > 0 && receiveOne() { n -= 1 }
    }

    /// Reads one packet from the device and sends it on; false when there was none.
    func receiveOne() -> Bool {
        let capacity = mtu + (isTap ? 18 : Self.infoLength)
        guard let p = pool.make(), p.put(capacity) else {
            router.chatter("\(declaration): out of memory!")
            return false
        }
        let n = read(fd, p.data, capacity)
        guard n > 0 else {
            let error = errno
            p.kill()
            if n < 0 && error != EAGAIN && error != EWOULDBLOCK && (!ignoreQueueOverflows || !printedReadError || error != ENOBUFS) {
                printedReadError = true
                router.chatter("KernelTun read: \(String(cString: strerror(error)))")
            }
            return false
        }
        packets &+= 1
        p.take(capacity - n)
        let ethertype = n >= Self.infoLength ? p.load16(2) : 0
        _ = p.pull(min(n, Self.infoLength))
        p.timestamp = routerNow()
        if isTap {
            if p.length >= 14 { p.setMACHeader(at: 0) }
            output(0, single: p)
        } else if (ethertype == 0x0800 || ethertype == 0x86DD) && markIP(p) {
            output(0, single: p)
        } else if noutputs > 1 {
            output(1, single: p)
        } else {
            p.kill()
        }
        return true
    }

    /// Marks the IP header at the packet's start, as Click's FakePcap does for raw IP.
    func markIP(_ p: Packet) -> Bool {
        guard p.length >= 1 else { return false }
        let version = p[0] >> 4
        if version == 4 {
            let headerLength = Int(p[0] & 0x0F) << 2
            guard headerLength >= 20, p.length >= headerLength else { return false }
            p.setNetworkHeader(at: 0, headerLength: headerLength)
            return true
        }
        guard version == 6, p.length >= 40 else { return false }
        p.setNetworkHeader(at: 0, headerLength: 40)
        return true
    }

    public override func push(port: Int, _ batch: inout PacketBatch) {
        for i in 0..<batch.count { send(batch[i]) }
        batch.count = 0
    }

    public override func runTask(_ task: Task) -> Bool {
        var moved = 0
        withScratchBatch { batch in
            input(0, into: &batch, max: 1)
            moved = batch.count
            push(port: 0, &batch)
        }
        if moved == 0, signal.map({ !$0.isActive }) ?? true { task.unschedule() }
        return moved > 0
    }

    /// Writes one packet to the kernel, as Click's KernelTun::push, and frees it.
    func send(_ p: Packet) {
        defer { p.kill() }
        let checkLength: Int
        if isTap {
            guard p.length >= 14 else {
                router.chatter("\(className)(\(deviceName)): packet too small")
                return
            }
            checkLength = p.length - 14
        } else {
            guard let offset = p.networkHeaderOffset, p.length - offset >= 20 else {
                router.chatter("\(className)(\(deviceName)): no network header")
                return
            }
            let version = p[offset] >> 4
            guard version == 4 || version == 6 else {
                router.chatter("\(className)(\(deviceName)): unknown IP version \(version)")
                return
            }
            _ = p.pull(offset)
            checkLength = p.length
        }
        guard checkLength <= mtu else {
            router.chatter("\(className)(\(deviceName)): packet larger than MTU (\(mtu))")
            return
        }
        let ethertype: UInt16 = isTap ? p.load16(12) : (p[0] >> 4 == 4 ? 0x0800 : 0x86DD)
        guard p.push(Self.infoLength) else {
            router.chatter("\(className)(\(deviceName)): out of memory")
            return
        }
        p.store16(0, 0)
        p.store16(2, ethertype)
        let written = write(fd, p.data, p.length)
        if written != p.length {
            let error = errno
            if error != ENOBUFS || !ignoreQueueOverflows || !printedWriteError {
                printedWriteError = true
                router.chatter("\(className)(\(deviceName)): write failed: \(String(cString: strerror(error)))")
            }
        }
    }

    public override func addHandlers(_ h: inout HandlerSet) {
        h.read("dev_name") { [unowned self] in self.deviceName }
        h.integer("selected_calls", get: { [unowned self] in self.selectedCalls })
        h.integer("packets", get: { [unowned self] in self.packets })
    }
}

/// KernelTap(ADDR [, GATEWAY, *keywords* TAP, HEADROOM, ETHER, MTU, BURST,
/// IGNORE_QUEUE_OVERFLOWS, DEVNAME, DEV_NAME])
///
/// A Linux TAP device: KernelTun carrying Ethernet frames. The kernel's side of the
/// device (`tapN`, or DEVNAME) gets the address and netmask ADDR and answers ARP; frames
/// it sends come out of output 0 with their Ethernet header, and frames pushed or pulled
/// into the input go to the kernel (at least 14 bytes, at most MTU after the Ethernet
/// header). ETHER sets the device's Ethernet address; TAP is always true.
///
/// Ports: 0 or 1 input (agnostic); 1 or 2 outputs (push).
///
/// Handlers: `dev_name`, `packets`, `selected_calls` (read).
public final class KernelTap: KernelTun {
    override var tap: Bool { true }
}

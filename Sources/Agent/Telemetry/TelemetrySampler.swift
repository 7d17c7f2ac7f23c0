import Messaging
import VMHost

#if canImport(Glibc)
import Glibc
#endif

/// Turns the VMs' stats pages and CPU clocks into `Telemetry`: per VM and port the
/// counters since boot and the rates over the interval, the VM's CPU time over the
/// interval and its cost per received packet, its memory; and the host's CPU use.
///
/// CPU time comes from the VM's cgroup where the kernel accounts it there (cgroup v2
/// `cpu.stat`); with cgroup v1 the backend's groups are in the `cpu` hierarchy, which does
/// not account usage, so it comes from the scheduler's own clock of the VM's process
/// (`/proc/PID/schedstat`, nanoseconds; a VM is one thread). A Xen guest's counters are its
/// vifs' (the xen backend reads netback's statistics), its CPU time and memory the domain's.
final class TelemetrySampler {
    struct Sample {
        var pid: Int32
        var cpuNanoseconds: UInt64
        var ports: [PortCounterSnapshot]
    }
    private var previous: [String: Sample] = [:]
    private var previousTime: UInt64 = 0
    private var previousHost: (busy: UInt64, total: UInt64)?
    let cores: Int

    init() {
        cores = max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        previousTime = Self.unixNanoseconds()
        previousHost = Self.hostTicks()
    }

    /// One interval's telemetry for the VMs named (with their chain, function, instance).
    func sample(host: String, backend: ProcessBackend, xen: (any VMBackend)? = nil, vms: [PlannedVM]) -> Clickos_V1_Telemetry {
        var t = Clickos_V1_Telemetry()
        t.hostName = host
        let now = Self.unixNanoseconds()
        t.startUnixNs = previousTime
        t.endUnixNs = now
        let seconds = max(1e-6, Double(now &- previousTime) * 1e-9)
        previousTime = now
        if let ticks = Self.hostTicks() {
            if let before = previousHost, ticks.total > before.total {
                t.hostCpuCores = Double(ticks.busy &- before.busy) / Double(ticks.total - before.total) * Double(cores)
            }
            previousHost = ticks
        }
        var seen: Set<String> = []
        for vm in vms {
            let guest = vm.backend == "xen" ? xen : nil
            guard let info = guest?.info(vm.name) ?? backend.info(vm.name), case .running = info.state else { continue }
            seen.insert(vm.name)
            let ports = (guest ?? backend).counters(vm.name)
            let cpu = guest.map { $0.cpuNanoseconds(vm.name) ?? 0 } ?? cpuNanoseconds(backend: backend, name: vm.name, pid: info.pid)
            let before = previous[vm.name].flatMap { $0.pid == info.pid ? $0 : nil }
            previous[vm.name] = Sample(pid: info.pid, cpuNanoseconds: cpu, ports: ports)
            var v = Clickos_V1_VMTelemetry()
            v.vm = vm.name
            v.chain = vm.chain
            v.function = vm.function
            v.instance = vm.instance
            v.memoryBytes = guest.map { $0.memoryBytes(vm.name) ?? 0 } ?? memoryBytes(backend: backend, name: vm.name, pid: info.pid)
            var received: UInt64 = 0
            for p in ports {
                var pt = Clickos_V1_PortTelemetry()
                pt.port = UInt32(p.port)
                pt.linkUp = p.linkUp
                pt.rxPackets = p.receivedPackets
                pt.rxBytes = p.receivedBytes
                pt.rxDrops = p.receiveDrops
                pt.txPackets = p.sentPackets
                pt.txBytes = p.sentBytes
                pt.txDrops = p.sendDrops
                if let old = before?.ports.first(where: { $0.port == p.port }) {
                    let rx = p.receivedPackets &- old.receivedPackets
                    received &+= rx
                    pt.rxPps = Double(rx) / seconds
                    pt.txPps = Double(p.sentPackets &- old.sentPackets) / seconds
                    pt.rxBps = Double(p.receivedBytes &- old.receivedBytes) * 8 / seconds
                    pt.txBps = Double(p.sentBytes &- old.sentBytes) * 8 / seconds
                }
                v.ports.append(pt)
            }
            if let before {
                v.cpuNs = cpu &- before.cpuNanoseconds
                v.cpuNsPerPacket = received > 0 ? Double(v.cpuNs) / Double(received) : 0
            }
            t.vms.append(v)
        }
        for name in previous.keys where !seen.contains(name) { previous[name] = nil }
        return t
    }

    func cpuNanoseconds(backend: ProcessBackend, name: String, pid: Int32) -> UInt64 {
        if let layout = backend.isolation.cgroups {
            if layout.version == 2, let text = readSmallFile(layout.cpuRoot + "/" + name + "/cpu.stat") {
                for line in text.split(separator: "\n") where line.hasPrefix("usage_usec ") {
                    if let v = UInt64(line.dropFirst(11)) { return v * 1000 }
                }
            }
        }
        if let text = readSmallFile("/proc/\(pid)/schedstat"), let first = text.split(separator: " ").first, let v = UInt64(first) {
            return v
        }
        return 0
    }

    func memoryBytes(backend: ProcessBackend, name: String, pid: Int32) -> UInt64 {
        if let layout = backend.isolation.cgroups {
            let file = layout.version == 1 ? "/memory.usage_in_bytes" : "/memory.current"
            if let text = readSmallFile(layout.memoryRoot + "/" + name + file), let v = UInt64(text) { return v }
        }
        guard let status = readSmallFile("/proc/\(pid)/status") else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            let digits = line.dropFirst(6).filter(\.isNumber)
            return (UInt64(digits) ?? 0) * 1024
        }
        return 0
    }

    /// The first line of /proc/stat: (busy, total) jiffies over all CPUs.
    static func hostTicks() -> (busy: UInt64, total: UInt64)? {
        guard let text = readSmallFile("/proc/stat"), let line = text.split(separator: "\n").first, line.hasPrefix("cpu ") else { return nil }
        let v = line.split(separator: " ").dropFirst().compactMap { UInt64($0) }
        guard v.count >= 5 else { return nil }
        let total = v.reduce(0, &+)
        let idle = v[3] &+ v[4]
        return (total &- idle, total)
    }

    static func unixNanoseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }
}

#if Xen
import CXenLight
import VMInterface
#if canImport(Glibc)
import Glibc
#endif

/// What the xen backend needs from a hypervisor's toolstack: domains created, destroyed
/// and listed. `LibxlDomains` is the real one; the tests stand in for the hypervisor with
/// processes in network namespaces on the same xenstore protocol.
public protocol XenDomainBuilder: AnyObject {
    /// Creates and unpauses a domain named `name` for `spec`, with one vif per entry of
    /// `interfaces` (the host-side names), and returns its id.
    func create(name: String, spec: VMSpec, interfaces: [String]) throws(VMError) -> UInt32
    /// Destroys the domain at once.
    func destroy(_ domid: UInt32) throws(VMError)
    /// The running domains and their names.
    func domains() -> [(domid: UInt32, name: String)]
    /// The CPU time a domain has used, in nanoseconds.
    func cpuNanoseconds(_ domid: UInt32) -> UInt64?
    /// The memory a domain holds now, in bytes.
    func memoryBytes(_ domid: UInt32) -> UInt64?
}

/// The `xen` backend: each VM is a Xen PV guest created through libxl (as `xl create`
/// would: one vCPU, the guest kernel and initramfs, `on_crash = destroy`, one vif per VM
/// port) whose router is installed, started, read and written through ClickOS's xenstore
/// protocol (`ClickOSXenstoreControl`), so that an original ClickOS image and our own
/// (`deploy/xen/make-image`: a Linux kernel with `clickos-vm --xenstore` as init) are
/// driven alike. Offered only where a hypervisor and xenstore are present
/// (`XenBackend.unavailableReason`).
///
/// What differs from the process backend: VM ports are vifs (`VMSpec.interfaces` names
/// them; the agent's host switch carries their frames to memif links, edges and tunnels);
/// `reconfigure` stops, replaces and restarts the router (ClickOS's protocol has no
/// in-place replacement); per-port counters come from the host side of the vifs
/// (netback's statistics: no stats page, and no xenstore round trips as ClickOS needed).
public final class XenBackend: VMBackend {
    public let kind = "xen"

    private let builder: any XenDomainBuilder
    private let control: ClickOSXenstoreControl
    private let store: XenstoreConnection
    /// Each VM's vifs, port by port (host-side names).
    private var vifs: [String: [String]] = [:]
    /// The VMs this backend booted or adopted: name to domain id.
    private var domains: [String: UInt32] = [:]
    private var booted: Set<String> = []
    /// Each VM's `define`s, put in front of a new configuration.
    private var definitions: [String: [VMDefinition]] = [:]
    /// How long a new domain has to mark itself ClickOS.
    public var guestTimeout = 10.0

    /// Why the xen backend cannot run here, or nil where it can: a hypervisor must be
    /// running (`/sys/hypervisor/type` says xen) and xenstore reachable (xenstored's socket
    /// or `/dev/xen/xenbus`).
    public static var unavailableReason: String? {
        var type = [CChar](repeating: 0, count: 16)
        let fd = open("/sys/hypervisor/type", O_RDONLY)
        if fd >= 0 {
            _ = Glibc.read(fd, &type, type.count - 1)
            close(fd)
        }
        let hypervisor = String(decoding: type.prefix { $0 != 0 && $0 != 10 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        guard hypervisor == "xen" else {
            return "xen backend unavailable: no Xen hypervisor here (/sys/hypervisor/type is \(hypervisor.isEmpty ? "missing" : "'\(hypervisor)'"))"
        }
        guard access("/var/run/xenstored/socket", F_OK) == 0 || access("/dev/xen/xenbus", F_OK) == 0 else {
            return "xen backend unavailable: no xenstore (neither /var/run/xenstored/socket nor /dev/xen/xenbus)"
        }
        return nil
    }

    /// The backend over libxl and the local xenstore; fails with libxl's own reason where
    /// there is no hypervisor to talk to.
    public convenience init(image: LibxlDomains.Image) throws(VMError) {
        let domains = try LibxlDomains(image: image)
        do throws(XenstoreError) {
            self.init(domains: domains, store: try XenstoreConnection())
        } catch {
            throw VMError("xen: \(error.description)")
        }
    }

    /// The backend over any toolstack and xenstore connection (dom0's rights).
    public init(domains: any XenDomainBuilder, store: XenstoreConnection) {
        builder = domains
        self.store = store
        control = ClickOSXenstoreControl(store: store)
    }

    /// Creates the domain, waits for its guest to mark it ClickOS, installs and starts the
    /// router; a router that fails leaves no domain behind.
    public func boot(_ spec: VMSpec) throws(VMError) -> VMInfo {
        guard domains[spec.name] == nil else { throw VMError("a VM named '\(spec.name)' exists already") }
        let domid = try builder.create(name: "clickos-" + spec.name, spec: spec, interfaces: spec.interfaces)
        do {
            try waitForClickOS(domid, timeout: guestTimeout)
            let router = try control.install(domain: domid, configuration: Self.configuration(spec), name: spec.name)
            try control.start(domain: domid, router: router)
            // Up once the router answers (ClickOS's guest starts it asynchronously; a
            // configuration error shows as status Error with Click's words).
            try waitForRouter(domid, router: router, timeout: guestTimeout)
        } catch {
            try? builder.destroy(domid)
            throw error
        }
        domains[spec.name] = domid
        booted.insert(spec.name)
        definitions[spec.name] = spec.definitions
        vifs[spec.name] = spec.interfaces
        return VMInfo(name: spec.name, pid: Int32(domid), state: .running, runDirectory: "", bootedHere: true)
    }

    /// The configuration with its `define`s in front: a ClickOS guest takes no command
    /// line arguments per router.
    static func configuration(_ spec: VMSpec) -> String {
        guard !spec.definitions.isEmpty else { return spec.configuration }
        return "define(" + spec.definitions.map { "$\($0.name) \($0.value)" }.joined(separator: ", ") + ");\n" + spec.configuration
    }

    /// Waits until the router serves. A guest that never answers a read of an unknown
    /// handler (ClickOS's own may not) but reports no `Error` is taken as up when the
    /// time is over; one that keeps saying "not running" is not.
    private func waitForRouter(_ domid: UInt32, router: Int, timeout: Double) throws(VMError) {
        let deadline = Double(ProcessBackend.monotonicMicroseconds()) / 1e6 + timeout
        var heard = false
        while true {
            switch try control.liveness(domain: domid, router: router, timeout: 0.25) {
            case .serving: return
            case .notRunning: heard = true
            case .silent: break
            }
            if Double(ProcessBackend.monotonicMicroseconds()) / 1e6 > deadline {
                if !heard { return }
                throw VMError("xen: the router in domain \(domid) did not start within \(timeout) s")
            }
        }
    }

    private func waitForClickOS(_ domid: UInt32, timeout: Double) throws(VMError) {
        // (A domain's guest writes its mark once its kernel and init are up.)
        let deadline = Double(ProcessBackend.monotonicMicroseconds()) / 1e6 + timeout
        while true {
            if (try? control.root(domain: domid)) != nil { return }
            if Double(ProcessBackend.monotonicMicroseconds()) / 1e6 > deadline {
                throw VMError("xen: domain \(domid) did not become a ClickOS domain within \(timeout) s (its guest never wrote \(ClickOSXenstoreLayout.root))")
            }
            usleep(10_000)
        }
    }

    private func domain(_ name: String) throws(VMError) -> UInt32 {
        guard let d = domains[name] else { throw VMError("no VM named '\(name)'") }
        return d
    }

    public func stop(_ name: String, timeout: Double) throws(VMError) {
        let d = try domain(name)
        try? control.stop(domain: d, router: 0)
        domains[name] = nil
        booted.remove(name)
        definitions[name] = nil
        vifs[name] = nil
        try builder.destroy(d)
    }

    /// ClickOS cannot replace a configuration in place: stop, remove, install, start. A
    /// configuration the guest refuses is taken out again and the one before put back, so
    /// that a bad configuration changes nothing but the router's state.
    public func reconfigure(_ name: String, configuration: String) throws(VMError) {
        let d = try domain(name)
        var spec = VMSpec(name: name, configuration: configuration)
        spec.definitions = definitions[name] ?? []
        let before = try control.configuration(domain: d, router: 0)
        try control.stop(domain: d, router: 0)
        try control.remove(domain: d, router: 0)
        let id = try control.install(domain: d, configuration: Self.configuration(spec), name: name)
        try control.start(domain: d, router: id)
        do {
            try waitForRouter(d, router: id, timeout: guestTimeout)
        } catch {
            try? control.stop(domain: d, router: id)
            try? control.remove(domain: d, router: id, force: true)
            if let back = try? control.install(domain: d, configuration: before, name: name) { try? control.start(domain: d, router: back) }
            throw error
        }
    }

    public func read(_ name: String, handler: String) throws(VMError) -> String {
        try control.read(domain: try domain(name), router: 0, handler: handler)
    }

    public func write(_ name: String, handler: String, value: String) throws(VMError) {
        try control.write(domain: try domain(name), router: 0, handler: handler, value: value)
    }

    public func info(_ name: String) -> VMInfo? {
        guard let d = domains[name] else { return nil }
        return VMInfo(name: name, pid: Int32(d), state: .running, runDirectory: "", bootedHere: booted.contains(name))
    }

    public var vms: [VMInfo] { domains.keys.sorted().compactMap { info($0) } }

    /// Per-port counters from the host side of each vif (netback's own statistics, no
    /// round trip to the guest): what the host sent into the vif the guest received.
    public func counters(_ name: String) -> [PortCounterSnapshot] {
        guard let names = vifs[name] else { return [] }
        return names.enumerated().map { port, vif in
            func stat(_ field: String) -> UInt64 { UInt64(Self.firstLine("/sys/class/net/\(vif)/statistics/\(field)")) ?? 0 }
            return PortCounterSnapshot(port: port, receivedPackets: stat("tx_packets"), receivedBytes: stat("tx_bytes"), receiveDrops: stat("tx_dropped"),
                                       sentPackets: stat("rx_packets"), sentBytes: stat("rx_bytes"), sendDrops: stat("rx_dropped"),
                                       linkUp: Self.firstLine("/sys/class/net/\(vif)/carrier") == "1")
        }
    }

    private static func firstLine(_ path: String) -> String {
        readText(path).flatMap { $0.split(separator: "\n").first.map(String.init) } ?? ""
    }

    public func cpuNanoseconds(_ name: String) -> UInt64? { domains[name].flatMap { builder.cpuNanoseconds($0) } }

    public func memoryBytes(_ name: String) -> UInt64? { domains[name].flatMap { builder.memoryBytes($0) } }

    /// An adopted domain's vifs as its toolstack recorded them (`vifname` under dom0's
    /// backend directory), or netback's default names.
    private func recordedVIFs(_ domid: UInt32) -> [String] {
        let base = "/local/domain/0/backend/vif/\(domid)"
        let devices = ((try? store.directory(base)) ?? nil)?.compactMap { Int($0) }.sorted() ?? []
        return devices.map { devid in ((try? store.read("\(base)/\(devid)/vifname")) ?? nil) ?? "vif\(domid).\(devid)" }
    }

    /// Running domains named `clickos-NAME` that carry ClickOS's mark.
    public func adopt() -> [VMInfo] {
        var adopted: [VMInfo] = []
        for (domid, name) in builder.domains() where name.hasPrefix("clickos-") {
            let vm = String(name.dropFirst("clickos-".count))
            guard domains[vm] == nil, (try? control.root(domain: domid)) != nil else { continue }
            domains[vm] = domid
            vifs[vm] = recordedVIFs(domid)
            adopted.append(VMInfo(name: vm, pid: Int32(domid), state: .running, runDirectory: "", bootedHere: false))
        }
        return adopted
    }

    /// VMs whose domains are gone (crashed: `on_crash = destroy`, or shut down).
    public func reap() -> [(name: String, exit: VMExit)] {
        let alive = Set(builder.domains().map(\.domid))
        var gone: [(name: String, exit: VMExit)] = []
        for (name, d) in domains where !alive.contains(d) {
            gone.append((name, VMExit(status: nil, signal: nil, lastErrors: ["domain \(d) is gone"])))
        }
        for g in gone {
            domains[g.name] = nil
            booted.remove(g.name)
            vifs[g.name] = nil
        }
        return gone
    }
}

/// Domains through libxl, as `xl create` makes them: PV, one vCPU, the image's kernel,
/// initramfs and command line, memory from the spec's limit (or the image's), one vif per
/// VM port named as asked and set up by the image's hotplug script, `on_crash = destroy`.
public final class LibxlDomains: XenDomainBuilder {
    /// How guests are built.
    public struct Image: Sendable {
        /// The PV kernel (ClickOS's image, or our bzImage).
        public var kernel: String
        /// Our image's initramfs (nil for an original ClickOS kernel).
        public var ramdisk: String?
        public var cmdline = "console=hvc0 quiet clickos.mode=xenstore"
        public var memoryMB = 64
        /// The bridge each vif joins (nil: none; the agent's host switch carries the
        /// vif's frames itself, and `vifScript` only brings the vif up).
        public var bridge: String? = "xenbr0"
        /// The hotplug script for the vifs (nil: libxl's default, vif-bridge).
        public var vifScript: String?
        public init(kernel: String, ramdisk: String? = nil) {
            self.kernel = kernel
            self.ramdisk = ramdisk
        }
    }

    public let image: Image
    private let context: OpaquePointer
    private let logger: OpaquePointer?

    public init(image: Image) throws(VMError) {
        self.image = image
        // libxl's messages go to standard error.
        logger = xtl_createlogger_stdiostream(fdopen(2, "w"), XTL_ERROR, 0)
        var ctx: OpaquePointer?
        let rc = libxl_ctx_alloc(&ctx, Int32(LIBXL_VERSION), 0, logger.map { UnsafeMutablePointer($0) })
        guard rc == 0, let ctx else {
            if let logger { xtl_logger_destroy(UnsafeMutablePointer(logger)) }
            throw VMError("xen: libxl could not open a context (error \(rc)): \(XenBackend.unavailableReason ?? "see libxl's message above")")
        }
        context = ctx
    }

    deinit {
        libxl_ctx_free(context)
        if let logger { xtl_logger_destroy(UnsafeMutablePointer(logger)) }
    }

    public func create(name: String, spec: VMSpec, interfaces: [String]) throws(VMError) -> UInt32 {
        var config = libxl_domain_config()
        libxl_domain_config_init(&config)
        defer { libxl_domain_config_dispose(&config) }
        config.c_info.type = LIBXL_DOMAIN_TYPE_PV
        config.c_info.name = strdup(name)
        libxl_domain_build_info_init_type(&config.b_info, LIBXL_DOMAIN_TYPE_PV)
        config.b_info.max_vcpus = 1
        let memory = UInt64(spec.memoryLimit.map { max(8, $0 >> 20) } ?? image.memoryMB) * 1024
        config.b_info.max_memkb = memory
        config.b_info.target_memkb = memory
        config.b_info.kernel = strdup(image.kernel)
        let ports = max(interfaces.count, (spec.ports.keys.max() ?? -1) + 1)
        config.b_info.cmdline = strdup(image.cmdline + " clickos.ports=\(ports)")
        if let ramdisk = image.ramdisk { config.b_info.ramdisk = strdup(ramdisk) }
        config.on_crash = LIBXL_ACTION_ON_SHUTDOWN_DESTROY
        if ports > 0 {
            // libxl frees these with free() in libxl_domain_config_dispose.
            let nics = calloc(ports, MemoryLayout<libxl_device_nic>.stride).assumingMemoryBound(to: libxl_device_nic.self)
            for i in 0..<ports {
                libxl_device_nic_init(&nics[i])
                nics[i].devid = Int32(i)
                if let bridge = image.bridge { nics[i].bridge = strdup(bridge) }
                if let script = image.vifScript { nics[i].script = strdup(script) }
                if i < interfaces.count { nics[i].ifname = strdup(interfaces[i]) }
            }
            config.nics = nics
            config.num_nics = Int32(ports)
        }
        var domid: UInt32 = 0
        let rc = libxl_domain_create_new(context, &config, &domid, nil, nil)
        guard rc == 0 else { throw VMError("xen: creating the domain \(name) failed (libxl error \(rc))") }
        return domid
    }

    public func destroy(_ domid: UInt32) throws(VMError) {
        let rc = libxl_domain_destroy(context, domid, nil)
        if rc != 0 { throw VMError("xen: destroying domain \(domid) failed (libxl error \(rc))") }
    }

    public func cpuNanoseconds(_ domid: UInt32) -> UInt64? { dominfo(domid)?.cpu_time }

    public func memoryBytes(_ domid: UInt32) -> UInt64? { dominfo(domid).map { $0.current_memkb * 1024 } }

    private func dominfo(_ domid: UInt32) -> libxl_dominfo? {
        var info = libxl_dominfo()
        libxl_dominfo_init(&info)
        guard libxl_domain_info(context, &info, domid) == 0 else {
            libxl_dominfo_dispose(&info)
            return nil
        }
        // (cpu_time and current_memkb are plain numbers: the copy outlives the dispose.)
        let copy = info
        libxl_dominfo_dispose(&info)
        return copy
    }

    public func domains() -> [(domid: UInt32, name: String)] {
        var count: Int32 = 0
        guard let list = libxl_list_domain(context, &count) else { return [] }
        defer { libxl_dominfo_list_free(list, count) }
        return (0..<Int(count)).compactMap { i in
            let domid = list[i].domid
            guard let raw = libxl_domid_to_name(context, domid) else { return nil }
            defer { free(raw) }
            return (domid, String(cString: raw))
        }
    }
}
#endif

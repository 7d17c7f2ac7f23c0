#if Xen
import CXenLight
import VMInterface
#if canImport(Glibc)
import Glibc
#endif

/// The `xen` backend: each VM is a Xen PV guest created through libxl (as `xl create`
/// would: one vCPU, the guest kernel and initramfs, `on_crash = destroy`, one vif per VM
/// port on a bridge) whose router is installed, started, read and written through
/// ClickOS's xenstore protocol (`ClickOSXenstoreControl`), so that an original ClickOS image
/// and our own (`deploy/xen/make-image`: a Linux kernel with `clickos-vm --xenstore` as
/// init) are driven alike. Offered only where a hypervisor and xenstore are present
/// (`XenBackend.unavailableReason`).
///
/// What differs from the process backend: VM ports are vifs on `bridge` (memif links do not
/// cross into a Xen guest here); `reconfigure` stops, replaces and restarts the router
/// (ClickOS's protocol has no in-place replacement); per-port counters are not kept
/// (ClickOS read counters through xenstore round trips; there is no stats page).
public final class XenBackend: VMBackend {
    public let kind = "xen"

    /// How guests are built.
    public struct Image: Sendable {
        /// The PV kernel (ClickOS's image, or our bzImage).
        public var kernel: String
        /// Our image's initramfs (nil for an original ClickOS kernel).
        public var ramdisk: String?
        public var cmdline = "console=hvc0 quiet"
        public var memoryMB = 64
        /// The bridge each vif joins.
        public var bridge = "xenbr0"
        public init(kernel: String, ramdisk: String? = nil) {
            self.kernel = kernel
            self.ramdisk = ramdisk
        }
    }

    public let image: Image
    private let context: OpaquePointer
    private let logger: OpaquePointer?
    private let control: ClickOSXenstoreControl
    /// The VMs this backend booted or adopted: name to domain id.
    private var domains: [String: UInt32] = [:]
    private var booted: Set<String> = []

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

    /// Opens libxl and xenstore; fails with libxl's own reason where there is no
    /// hypervisor to talk to.
    public init(image: Image, store: XenstoreConnection? = nil) throws(VMError) {
        self.image = image
        // libxl's messages go to standard error.
        logger = xtl_createlogger_stdiostream(fdopen(2, "w"), XTL_ERROR, 0)
        var ctx: OpaquePointer?
        let rc = libxl_ctx_alloc(&ctx, Int32(LIBXL_VERSION), 0, logger.map { UnsafeMutablePointer($0) })
        guard rc == 0, let ctx else {
            if let logger { xtl_logger_destroy(UnsafeMutablePointer(logger)) }
            throw VMError("xen: libxl could not open a context (error \(rc)): \(Self.unavailableReason ?? "see libxl's message above")")
        }
        context = ctx
        do throws(XenstoreError) {
            if let store { control = ClickOSXenstoreControl(store: store) } else { control = ClickOSXenstoreControl(store: try XenstoreConnection()) }
        } catch {
            libxl_ctx_free(ctx)
            if let logger { xtl_logger_destroy(UnsafeMutablePointer(logger)) }
            throw VMError("xen: \(error.description)")
        }
    }

    deinit {
        libxl_ctx_free(context)
        if let logger { xtl_logger_destroy(UnsafeMutablePointer(logger)) }
    }

    /// Creates the domain, waits for its guest to mark it ClickOS, installs and starts the
    /// router; a router that fails leaves no domain behind.
    public func boot(_ spec: VMSpec) throws(VMError) -> VMInfo {
        guard domains[spec.name] == nil else { throw VMError("a VM named '\(spec.name)' exists already") }
        var config = libxl_domain_config()
        libxl_domain_config_init(&config)
        defer { libxl_domain_config_dispose(&config) }
        config.c_info.type = LIBXL_DOMAIN_TYPE_PV
        config.c_info.name = strdup("clickos-" + spec.name)
        libxl_domain_build_info_init_type(&config.b_info, LIBXL_DOMAIN_TYPE_PV)
        config.b_info.max_vcpus = 1
        let memory = UInt64(spec.memoryLimit.map { max(8, $0 >> 20) } ?? image.memoryMB) * 1024
        config.b_info.max_memkb = memory
        config.b_info.target_memkb = memory
        config.b_info.kernel = strdup(image.kernel)
        config.b_info.cmdline = strdup(image.cmdline)
        if let ramdisk = image.ramdisk { config.b_info.ramdisk = strdup(ramdisk) }
        config.on_crash = LIBXL_ACTION_ON_SHUTDOWN_DESTROY
        let ports = (spec.ports.keys.max() ?? -1) + 1
        if ports > 0 {
            // libxl frees these with free() in libxl_domain_config_dispose.
            let nics = calloc(ports, MemoryLayout<libxl_device_nic>.stride).assumingMemoryBound(to: libxl_device_nic.self)
            for i in 0..<ports {
                libxl_device_nic_init(&nics[i])
                nics[i].devid = Int32(i)
                nics[i].bridge = strdup(image.bridge)
            }
            config.nics = nics
            config.num_nics = Int32(ports)
        }
        var domid: UInt32 = 0
        let rc = libxl_domain_create_new(context, &config, &domid, nil, nil)
        guard rc == 0 else { throw VMError("xen: creating the domain for '\(spec.name)' failed (libxl error \(rc))") }
        do {
            try waitForClickOS(domid, timeout: 10)
            let router = try control.install(domain: domid, configuration: spec.configuration, name: spec.name)
            try control.start(domain: domid, router: router)
        } catch {
            _ = libxl_domain_destroy(context, domid, nil)
            throw error
        }
        domains[spec.name] = domid
        booted.insert(spec.name)
        return VMInfo(name: spec.name, pid: Int32(domid), state: .running, runDirectory: "", bootedHere: true)
    }

    private func waitForClickOS(_ domid: UInt32, timeout: Double) throws(VMError) {
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
        let rc = libxl_domain_destroy(context, d, nil)
        domains[name] = nil
        booted.remove(name)
        if rc != 0 { throw VMError("xen: destroying domain \(d) failed (libxl error \(rc))") }
    }

    /// ClickOS cannot replace a configuration in place: stop, remove, install, start.
    public func reconfigure(_ name: String, configuration: String) throws(VMError) {
        let d = try domain(name)
        try control.stop(domain: d, router: 0)
        try control.remove(domain: d, router: 0)
        let id = try control.install(domain: d, configuration: configuration, name: name)
        try control.start(domain: d, router: id)
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

    public func counters(_ name: String) -> [PortCounterSnapshot] { [] }

    /// Running domains named `clickos-NAME` that carry ClickOS's mark.
    public func adopt() -> [VMInfo] {
        var adopted: [VMInfo] = []
        for (domid, name) in runningDomains() where name.hasPrefix("clickos-") {
            let vm = String(name.dropFirst("clickos-".count))
            guard domains[vm] == nil, (try? control.root(domain: domid)) != nil else { continue }
            domains[vm] = domid
            adopted.append(VMInfo(name: vm, pid: Int32(domid), state: .running, runDirectory: "", bootedHere: false))
        }
        return adopted
    }

    /// VMs whose domains are gone (crashed: `on_crash = destroy`, or shut down).
    public func reap() -> [(name: String, exit: VMExit)] {
        let alive = Set(runningDomains().map(\.domid))
        var gone: [(name: String, exit: VMExit)] = []
        for (name, d) in domains where !alive.contains(d) {
            gone.append((name, VMExit(status: nil, signal: nil, lastErrors: ["domain \(d) is gone"])))
        }
        for g in gone {
            domains[g.name] = nil
            booted.remove(g.name)
        }
        return gone
    }

    private func runningDomains() -> [(domid: UInt32, name: String)] {
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

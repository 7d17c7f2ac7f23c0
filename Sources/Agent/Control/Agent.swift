import CShims
import Logging
import Messaging
import VMHost

#if canImport(Glibc)
import Glibc
#endif

/// The per-host agent: registers with the planner and keeps it informed (heartbeats,
/// telemetry, host status), takes the host's desired state and reconciles toward it,
/// supervises the VMs, and serves its metrics. One thread runs it all (`run`), waking on
/// the planner's messages and its own timers; VMs are processes of their own, so they
/// keep forwarding while the agent is away, and a new agent adopts them.
public final class Agent {
    public static let version = "0.12.0"

    public let configuration: AgentConfiguration
    let log: Logger
    let backend: ProcessBackend
    let reconciler: Reconciler
    let telemetry = TelemetrySampler()
    let metrics = AgentMetrics()
    let client: MessageClient
    /// The measured (or configured, or cached) capacity unit.
    public private(set) var packetsPerCore = 0.0
    private let started = Reconciler.now()
    private var registered = false
    private var registerID: UInt64 = 0
    private var nextRegister = 0.0
    private var registerBackoff = 0.25
    private var nextHeartbeat = 0.0
    private var nextTelemetry = 0.0
    private var nextRetry: Double?
    private var retryBackoff = 0.5
    /// A VM exited (its pidfd said so), or the first round: look at every VM.
    private var superviseNow = true
    /// UDP sockets holding the VXLAN ports on the data address, so that the kernel, which
    /// sees the tunnel's packets too, drops them quietly instead of answering with ICMP.
    private var placeholders: [UInt16: Int32] = [:]
    private let stopDescriptor = clickos_eventfd()
    /// The links as the last status reported them.
    private var reportedLinks: [Clickos_V1_LinkStatus] = []

    /// Prepares the agent: the state directory, the backends (adopting what an earlier
    /// agent left), the saved desired state, the capacity figure, the planner connection.
    /// `xen` is a xen backend made by the caller (one over another toolstack); without it
    /// the agent makes one where Xen runs and `xenKernel` names a guest image.
    public init(configuration: AgentConfiguration, log: Logger, xen: (any VMBackend)? = nil) throws(AgentConfiguration.Failure) {
        try configuration.validate()
        self.configuration = configuration
        self.log = log
        let state = configuration.stateDirectory
        if let error = Self.makeDirectories(state) { throw AgentConfiguration.Failure("--state-dir \(state): \(error)") }
        let executable = configuration.vmExecutable ?? Self.besideSelf("clickos-vm")
        guard access(executable, X_OK) == 0 else {
            throw AgentConfiguration.Failure("the VM executable \(executable) is missing (--vm-binary)")
        }
        // Several agents on one machine (a lab) keep their cgroups and jail ids apart.
        let ids = JailPolicy.defaultIDs.lowerBound + UInt32(StableNames.fnv1a(configuration.name) % 1000) * 65_536
        let isolation = configuration.isolation ? Isolation.detect().scoped(configuration.name, ids: ids...(ids + 65_535)) : .none
        let logger = log
        backend = ProcessBackend(root: state, executable: executable, isolation: isolation) { line in logger.info("\(line)") }
        for vm in backend.adopt() { log.info("adopted VM", metadata: ["vm": .string(vm.name), "pid": "\(vm.pid)"]) }
        let xenBackend = xen ?? Self.makeXenBackend(configuration, log: log)
        if let xenBackend {
            log.info("xen backend offered")
            for vm in xenBackend.adopt() { log.info("adopted Xen guest", metadata: ["vm": .string(vm.name), "domain": "\(vm.pid)"]) }
        }
        reconciler = Reconciler(backend: backend, xen: xenBackend, stateDirectory: state, log: log)

        var serverKey: String?
        var keys: CurveKeyPair?
        if let dir = configuration.keys, let plannerKey = configuration.plannerKey {
            do {
                keys = try CurveKeyFiles.readPair(dir + "/agent.key")
                serverKey = try CurveKeyFiles.readPublic(plannerKey)
            } catch {
                throw AgentConfiguration.Failure("--keys/--planner-key: \(error)")
            }
        }
        do {
            client = try MessageClient(endpoint: configuration.planner, sender: configuration.name, serverKey: serverKey, keys: keys)
        } catch {
            throw AgentConfiguration.Failure("--planner \(configuration.planner): \(error)")
        }

        // Pick up where an earlier agent left: the same plan, adopted VMs left alone.
        if let saved = reconciler.desired {
            var secrets = reconciler.secrets
            let plan = HostPlan(saved, host: hostFacts(), secrets: &secrets)
            reconciler.resume(plan: plan, secrets: secrets)
            log.info("resuming desired state", metadata: ["generation": "\(saved.generation)", "vms": "\(plan.vms.count)"])
            if !reconciler.pass() { scheduleRetry() }
        } else {
            // No saved state: nothing here is wanted (a half-done first run).
            reconciler.pass()
        }
        packetsPerCore = measureCapacity()
        openPlaceholders()
        if let m = configuration.metrics, let endpoint = MetricsEndpoint(m) {
            metrics.serve(endpoint, log: log)
            log.info("serving metrics", metadata: ["address": .string(m)])
        }
    }

    deinit {
        client.close()
        for fd in placeholders.values { close(fd) }
        close(stopDescriptor)
    }

    /// Asks `run` to return (from any thread).
    public func stop() {
        var one: UInt64 = 1
        _ = write(stopDescriptor, &one, 8)
    }

    /// Runs until `stop` or SIGINT/SIGTERM. VMs keep running: stopping the agent is not
    /// stopping the host's service.
    public func run() {
        clickos_catch_interrupts()
        let interrupted = clickos_interrupt_flag()
        log.info("agent started", metadata: ["planner": .string(configuration.planner), "host": .string(configuration.name),
                                              "packets_per_core": "\(Int(packetsPerCore))"])
        while (interrupted?.pointee ?? 0) == 0 {
            let now = Reconciler.now()
            if !registered && now >= nextRegister { sendRegister(now) }
            if registered && now >= nextHeartbeat {
                var h = Clickos_V1_Heartbeat()
                h.hostName = configuration.name
                h.observedGeneration = reconciler.observedGeneration
                h.uptimeMs = UInt64((now - started) * 1000)
                send(.heartbeat(h))
                nextHeartbeat = now + configuration.heartbeatInterval
            }
            if now >= nextTelemetry {
                let t = telemetry.sample(host: configuration.name, backend: backend, xen: reconciler.xen, vms: reconciler.plan.vms)
                metrics.telemetry(t)
                if registered { send(.telemetry(t)) }
                nextTelemetry = now + configuration.telemetryInterval
                // Also a look at every VM each interval, for a VM without a pidfd.
                superviseNow = true
                // A link that came up or went down since the last status is news.
                if reconciler.linkStatuses() != reportedLinks { reportStatus() }
            }
            if superviseNow || reconciler.nextRestart.map({ $0 <= now }) == true {
                superviseNow = false
                if reconciler.supervise() { reportStatus() }
            }
            if let due = nextRetry, now >= due {
                nextRetry = nil
                let clean = reconciler.pass()
                reportStatus()
                if !clean { scheduleRetry() } else { retryBackoff = 0.5 }
            }
            // Sleep until a message, a stop, or the next timer (at most 100 ms: a signal
            // may have gone to another thread).
            var deadline = min(nextTelemetry, registered ? nextHeartbeat : nextRegister)
            if let r = reconciler.nextRestart { deadline = min(deadline, r) }
            if let r = nextRetry { deadline = min(deadline, r) }
            let timeout = Int32(max(0, min(100, (deadline - Reconciler.now()) * 1000)))
            // A VM's exit wakes the loop through its pidfd.
            var fds = [pollfd(fd: client.incomingDescriptor, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: stopDescriptor, events: Int16(POLLIN), revents: 0)]
            fds += backend.exitDescriptors.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            _ = poll(&fds, nfds_t(fds.count), timeout)
            if fds[1].revents != 0 { break }
            if fds.dropFirst(2).contains(where: { $0.revents != 0 }) { superviseNow = true }
            for envelope in client.takeIncoming() { handle(envelope) }
        }
        log.info("agent stopping; VMs keep running", metadata: ["vms": "\(backend.vms.count)"])
    }

    // MARK: Messages

    private func send(_ payload: Envelope.OneOf_Payload) {
        let id = client.send(payload)
        metrics.message("out", EnvelopeCodec.make(sender: configuration.name, requestID: id, payload))
    }

    private func reply(_ to: UInt64, _ payload: Envelope.OneOf_Payload) {
        client.reply(to: to, payload)
        metrics.message("out", EnvelopeCodec.make(sender: configuration.name, requestID: to, payload))
    }

    private func sendRegister(_ now: Double) {
        var r = Clickos_V1_Register()
        r.hostName = configuration.name
        r.cores = UInt32(telemetry.cores)
        r.memoryBytes = UInt64(max(0, sysconf(Int32(_SC_PHYS_PAGES)))) * UInt64(max(0, sysconf(Int32(_SC_PAGESIZE))))
        r.dataPlaneAddress = configuration.dataAddress ?? ""
        for i in HostInterface.all() where i.name != "lo" && (configuration.interfaces.isEmpty || configuration.interfaces.contains(i.name)) {
            var w = Clickos_V1_Interface()
            w.name = i.name
            w.mac = i.mac?.description ?? ""
            w.addresses = i.addresses.map(\.description)
            w.speedMbps = i.speedMbps
            w.up = i.up
            r.interfaces.append(w)
        }
        r.vmBackends = backendNames.sorted()
        r.packetsPerCore = packetsPerCore
        r.agentVersion = Self.version
        r.labels = configuration.labels
        registerID = client.send(.register(r))
        metrics.message("out", EnvelopeCodec.make(sender: configuration.name, requestID: registerID, .register(r)))
        nextRegister = now + registerBackoff
        registerBackoff = min(registerBackoff * 2, 5)
    }

    func handle(_ e: Envelope) {
        metrics.message("in", e)
        switch e.payload {
        case .ack:
            if e.requestID == registerID && !registered {
                registered = true
                registerBackoff = 0.25
                nextHeartbeat = 0
                log.info("registered with the planner", metadata: ["planner": .string(configuration.planner)])
                reportStatus()
            }
        case .error(let err):
            if err.code == .notFound || err.code == .unauthenticated {
                if registered { log.warning("the planner does not know this host; registering again", metadata: ["reason": .string(err.message)]) }
                registered = false
                nextRegister = 0
            } else {
                log.warning("the planner answered with an error", metadata: ["code": "\(err.code)", "message": .string(err.message), "request": "\(e.requestID)"])
            }
        case .desiredState(let d):
            apply(d, requestID: e.requestID)
        case nil:
            reply(e.requestID, .error(Self.wireError(.missingPayload, "an envelope without a payload")))
        default:
            reply(e.requestID, .error(Self.wireError(.unexpectedPayload, "an agent does not take \(AgentMetrics.typeName(e.payload)) messages")))
        }
    }

    private func apply(_ d: Clickos_V1_HostDesiredState, requestID: UInt64) {
        let problems = DesiredStateValidator.validate(d, host: configuration.name)
        if !problems.isEmpty {
            log.error("desired state refused", metadata: ["generation": "\(d.generation)", "problems": .string(problems.joined(separator: "; "))])
            reply(requestID, .error(Self.wireError(.invalidArgument, problems.joined(separator: "; "))))
            return
        }
        let current = reconciler.desiredGeneration
        if d.generation < current {
            log.info("older desired state ignored", metadata: ["generation": "\(d.generation)", "current": "\(current)"])
            reply(requestID, .error(Self.wireError(.failedPrecondition, "generation \(d.generation) is older than \(current), which this host has")))
            return
        }
        reply(requestID, .ack(Clickos_V1_Ack()))
        if d.generation == current {
            reportStatus()
            return
        }
        var secrets = reconciler.secrets
        let plan = HostPlan(d, host: hostFacts(), secrets: &secrets)
        log.info("desired state", metadata: ["generation": "\(d.generation)", "vms": "\(d.vms.count)", "links": "\(d.links.count)",
                                             "tunnels": "\(d.tunnels.count)", "edges": "\(d.edges.count)"])
        reconciler.accept(d, plan: plan, secrets: secrets)
        openPlaceholders()
        reportStatus()
        // A new generation starts its retries afresh.
        retryBackoff = 0.5
        if !reconciler.problems.isEmpty { scheduleRetry() } else { nextRetry = nil }
    }

    private func reportStatus() {
        var s = Clickos_V1_HostStatus()
        s.hostName = configuration.name
        s.observedGeneration = reconciler.observedGeneration
        s.vms = reconciler.statuses()
        s.links = reconciler.linkStatuses()
        reportedLinks = s.links
        s.tunnels = reconciler.plan.tunnels
        s.errors = reconciler.problems
        metrics.states(s.vms)
        metrics.reconcile(passes: reconciler.passes, errors: reconciler.passErrors, reboots: reconciler.reboots,
                          observed: reconciler.observedGeneration, desired: reconciler.desiredGeneration)
        if registered { send(.hostStatus(s)) }
    }

    private func scheduleRetry() {
        nextRetry = Reconciler.now() + retryBackoff
        retryBackoff = min(retryBackoff * 2, 30)
    }

    static func wireError(_ code: WireError.Code, _ message: String) -> WireError {
        var e = WireError()
        e.code = code
        e.message = message
        return e
    }

    // MARK: Host facts

    func hostFacts() -> HostPlan.Host {
        HostPlan.Host(name: configuration.name, linkRoot: backend.root, interfaces: HostInterface.all(),
                      allowedInterfaces: configuration.interfaces, dataAddress: configuration.dataAddress.flatMap(IPv4Address.init),
                      backends: backendNames)
    }

    /// The VM backends this agent offers.
    var backendNames: Set<String> { reconciler.xen == nil ? ["process"] : ["process", "xen"] }

    /// The xen backend over libxl where a hypervisor runs and a guest image is configured;
    /// otherwise nil, and one line says why not.
    static func makeXenBackend(_ c: AgentConfiguration, log: Logger) -> (any VMBackend)? {
        #if Xen
        if let why = XenBackend.unavailableReason {
            log.info("\(why)")
            return nil
        }
        guard let kernel = c.xenKernel else {
            log.info("xen backend not offered: no guest image (--xen-kernel; deploy/xen/make-image builds one)")
            return nil
        }
        var image = LibxlDomains.Image(kernel: kernel, ramdisk: c.xenRamdisk)
        image.memoryMB = c.xenMemory
        // The host switch carries the vifs' frames: no bridge, a script that brings them up.
        image.bridge = nil
        image.vifScript = "vif-clickos"
        do {
            return try XenBackend(image: image)
        } catch {
            log.error("xen backend not offered: \(error.message)")
            return nil
        }
        #else
        log.info("xen backend not offered: this agent was built without the Xen trait (swift build --traits Xen)")
        return nil
        #endif
    }

    private func measureCapacity() -> Double {
        if configuration.packetsPerCore > 0 { return configuration.packetsPerCore }
        let function = configuration.referenceFunction
        if let cached = CapacityProbe.cached(stateDirectory: configuration.stateDirectory, function: function) {
            log.info("capacity from the state directory", metadata: ["packets_per_core": "\(Int(cached))"])
            return cached
        }
        guard let text = readSmallFile(function) else {
            log.error("cannot read the reference function; packets_per_core is 0", metadata: ["function": .string(function)])
            return 0
        }
        do {
            let pps = try CapacityProbe.measure(backend: backend, configuration: text)
            CapacityProbe.save(pps, stateDirectory: configuration.stateDirectory, function: function)
            log.info("capacity measured", metadata: ["packets_per_core": "\(Int(pps))", "function": .string(function)])
            return pps
        } catch {
            log.error("capacity probe failed; packets_per_core is 0", metadata: ["error": .string(Reconciler.oneLine(error.message))])
            return 0
        }
    }

    /// One UDP socket per VXLAN port in use, bound to the data address.
    private func openPlaceholders() {
        guard let data = configuration.dataAddress, let address = IPv4Address(data) else { return }
        let ports = Set(reconciler.plan.tunnels.isEmpty ? [] : (reconciler.desired?.tunnels ?? []).map { $0.udpPort == 0 ? UInt16(4789) : UInt16(clamping: $0.udpPort) })
        for (port, fd) in placeholders where !ports.contains(port) {
            close(fd)
            placeholders[port] = nil
        }
        for port in ports where placeholders[port] == nil {
            let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { continue }
            var small: Int32 = 4096
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, socklen_t(MemoryLayout<Int32>.size))
            var sa = sockaddr_in()
            sa.sin_family = sa_family_t(AF_INET)
            sa.sin_port = port.bigEndian
            sa.sin_addr.s_addr = address.value.bigEndian
            let ok = withUnsafePointer(to: &sa) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
            if ok == 0 {
                placeholders[port] = fd
            } else {
                log.warning("cannot hold the VXLAN port; the kernel may answer tunnel packets with ICMP", metadata: ["port": "\(port)", "error": .string(String(cString: strerror(errno)))])
                close(fd)
            }
        }
    }

    /// `mkdir -p`: nil, or why not.
    static func makeDirectories(_ path: String) -> String? {
        var prefix = path.hasPrefix("/") ? "" : "."
        for part in path.split(separator: "/") {
            prefix += "/" + part
            if mkdir(prefix, 0o755) != 0 && errno != EEXIST { return "\(prefix): \(String(cString: strerror(errno)))" }
        }
        return nil
    }

    static func besideSelf(_ name: String) -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard n > 0 else { return name }
        let path = String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        guard let slash = path.lastIndex(of: "/") else { return name }
        return String(path[..<slash]) + "/" + name
    }
}

import Logging
import Messaging
import VMHost

#if canImport(Glibc)
import Glibc
#endif

/// Drives the host toward a `HostPlan` through the VM backend, and keeps it there: boots
/// what is missing, stops what is no longer wanted, hot-swaps a VM whose configuration
/// alone changed (its elements keep their state: NAT and load-balancer flows survive),
/// restarts one whose ports or limits changed, makes and removes link directories, and
/// reboots VMs that exit, with backoff. Every step is idempotent: a pass over a host that
/// already matches its plan does nothing. What failed is kept per VM, in words, for the
/// host's status, and retried. Xen guests (where the agent offers the xen backend) are
/// booted before the process VMs, so that the host switch finds their vifs.
final class Reconciler {
    let backend: ProcessBackend
    /// The xen backend, where this agent offers it.
    let xen: (any VMBackend)?
    let stateDirectory: String
    let log: Logger
    private(set) var applied: AppliedState
    private(set) var desired: Clickos_V1_HostDesiredState?
    private(set) var plan = HostPlan()
    /// Per VM, why it is not as planned (boot or hot-swap failed, exited).
    private(set) var failures: [String: String] = [:]
    /// Reboots waiting for their backoff.
    private var restarts: [String: Restart] = [:]
    struct Restart {
        var due: Double
        var reason: String
    }
    /// Reboots in a row per VM, for the backoff.
    private var attempts: [String: Int] = [:]
    /// When the VMs were (re)booted, to forgive their restart count after a quiet while.
    private var bootedAt: [String: Double] = [:]
    /// Counters for metrics.
    private(set) var passes = 0
    private(set) var passErrors = 0
    private(set) var reboots = 0

    init(backend: ProcessBackend, xen: (any VMBackend)? = nil, stateDirectory: String, log: Logger) {
        self.backend = backend
        self.xen = xen
        self.stateDirectory = stateDirectory
        self.log = log
        (applied, desired) = AppliedState.load(from: stateDirectory)
    }

    /// Every VM of every backend.
    var allVMs: [VMInfo] { backend.vms + (xen?.vms ?? []) }

    /// What a backend knows of a VM, whichever runs it.
    func info(_ name: String) -> VMInfo? { backend.info(name) ?? xen?.info(name) }

    func isRunning(_ name: String) -> Bool {
        if let i = info(name), case .running = i.state { return true }
        return false
    }

    /// The backend running a VM (the process backend for one that runs nowhere).
    func owner(_ name: String) -> any VMBackend {
        if let xen, xen.info(name) != nil { return xen }
        return backend
    }

    var observedGeneration: UInt64 { applied.observedGeneration }
    var desiredGeneration: UInt64 { desired?.generation ?? 0 }
    var secrets: [String: String] { applied.secrets }

    /// Accepts a new desired state (the caller validated it) with its plan, and applies it.
    func accept(_ d: Clickos_V1_HostDesiredState, plan newPlan: HostPlan, secrets: [String: String]) {
        desired = d
        applied.secrets = secrets
        plan = newPlan
        restarts = [:]
        pass()
    }

    /// Adopts what an earlier agent left running and re-plans from the saved desired state.
    func resume(plan saved: HostPlan, secrets: [String: String]) {
        applied.secrets = secrets
        plan = saved
    }

    /// Problems of the last pass, in words, for `HostStatus.errors`.
    var problems: [String] {
        plan.problems + plan.refused.sorted { $0.key < $1.key }.map { "VM \($0.key): \($0.value)" }
            + failures.sorted { $0.key < $1.key }.map { "VM \($0.key): \($0.value)" }
    }

    /// One pass toward the plan. Returns true when the host matches it.
    @discardableResult
    func pass() -> Bool {
        let started = Self.now()
        var booted = 0, swapped = 0, stopped = 0
        defer {
            if booted + swapped + stopped > 0 {
                log.info("reconciled", metadata: ["generation": "\(plan.generation)", "booted": "\(booted)", "hot-swapped": "\(swapped)",
                                                  "stopped": "\(stopped)", "failed": "\(failures.count)", "ms": "\(Int((Self.now() - started) * 1000))"])
            }
        }
        passes += 1
        failures = [:]
        let wanted = Dictionary(plan.vms.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        // Stop what is not wanted, and what must restart.
        for vm in allVMs {
            var reason: String?
            if let w = wanted[vm.name] {
                if case .exited = vm.state { reason = "exited" } else if applied.vms[vm.name]?.restartKey != w.restartKey { reason = "ports or limits changed" }
            } else {
                reason = "no longer wanted"
            }
            guard let reason else { continue }
            if reason != "exited" { log.info("stopping VM", metadata: ["vm": .string(vm.name), "why": .string(reason)]) }
            stopped += 1
            do { try owner(vm.name).stop(vm.name, timeout: 2) } catch { log.warning("stop failed", metadata: ["vm": .string(vm.name), "error": .string(error.message)]) }
            applied.vms[vm.name] = nil
        }
        for name in applied.vms.keys where wanted[name] == nil || info(name) == nil { applied.vms[name] = nil }
        // Links: remove what is gone, make what is new.
        let links = Set(plan.links.map(\.name))
        for name in backend.linkDirectories where !links.contains(name) {
            backend.removeLinkDirectory(name)
            log.info("removed link", metadata: ["link": .string(name)])
        }
        for link in plan.links {
            do {
                _ = try backend.makeLinkDirectory(link.name)
            } catch {
                for end in [link.server, link.client] {
                    if case .vm(let n, _) = end { failures[n] = "link \(link.name): \(error.message)" }
                }
            }
        }
        for name in applied.secrets.keys where !links.contains(name) { applied.secrets[name] = nil }
        // Boot, hot-swap or leave each VM: Xen guests first, each booted at once (it waits
        // for its guest to come up), since the host switch opens their vifs; then the
        // process VMs, the switch written without the vifs of guests that are not running.
        var processBoots: [PlannedVM] = []
        var xenBooted: [String] = []
        for var vm in plan.vms.filter({ $0.backend == "xen" }) + plan.vms.filter({ $0.backend != "xen" }) {
            if vm.name == HostPlan.switchName, let parts = plan.hostSwitch {
                let missing = plan.vms.filter { $0.backend == "xen" && !isRunning($0.name) }.flatMap(\.spec.interfaces)
                if !missing.isEmpty { vm.spec.configuration = parts.configuration(without: Set(missing)) }
            }
            if failures[vm.name] != nil { continue }
            if let r = restarts[vm.name], r.due > Self.now() {
                failures[vm.name] = r.reason + "; rebooting in \(Int((r.due - Self.now()) * 1000)) ms"
                continue
            }
            if isRunning(vm.name), let record = applied.vms[vm.name] {
                guard record.configuration != vm.spec.configuration else { continue }
                do {
                    try owner(vm.name).reconfigure(vm.name, configuration: vm.spec.configuration)
                    swapped += 1
                    applied.vms[vm.name] = .init(restartKey: vm.restartKey, configuration: vm.spec.configuration, generation: plan.generation)
                    log.info("hot-swapped VM configuration", metadata: ["vm": .string(vm.name), "generation": "\(plan.generation)"])
                } catch {
                    failures[vm.name] = "hotconfig: " + Self.oneLine(error.message)
                    log.error("hot-swap failed", metadata: ["vm": .string(vm.name), "error": .string(Self.oneLine(error.message))])
                }
                continue
            }
            guard vm.backend == "xen", let xen else {
                processBoots.append(vm)
                continue
            }
            let result: Result<VMInfo, VMError>
            do throws(VMError) { result = .success(try xen.boot(vm.spec)) } catch { result = .failure(error) }
            if case .success = result { xenBooted.append(vm.name) }
            record(vm, result, &booted)
        }
        // A switch already running restarts when a guest it patches was booted again (its
        // vifs are new).
        if !xenBooted.isEmpty, let sw = plan.vms.first(where: { $0.name == HostPlan.switchName }), !processBoots.contains(where: { $0.name == sw.name }),
           isRunning(sw.name), let record = applied.vms[sw.name], xenBooted.contains(where: { record.configuration.contains(HostPlan.vifName($0, 0).dropLast()) }) {
            log.info("restarting the host switch for new vifs", metadata: ["vms": .string(xenBooted.joined(separator: ", "))])
            try? backend.stop(sw.name, timeout: 2)
            applied.vms[sw.name] = nil
            var restarted = sw
            if let parts = plan.hostSwitch {
                restarted.spec.configuration = parts.configuration(without: Set(plan.vms.filter { $0.backend == "xen" && !isRunning($0.name) }.flatMap(\.spec.interfaces)))
            }
            processBoots.append(restarted)
        }
        // The boots overlap (each VM initializes on its own), in plan order: servers first.
        for (vm, result) in zip(processBoots, backend.boot(processBoots.map(\.spec))) { record(vm, result, &booted) }
        let clean = failures.isEmpty && plan.problems.isEmpty && plan.refused.isEmpty
        if clean { applied.observedGeneration = max(applied.observedGeneration, plan.generation) }
        if !failures.isEmpty { passErrors += 1 }
        save()
        return clean
    }

    private func record(_ vm: PlannedVM, _ result: Result<VMInfo, VMError>, _ booted: inout Int) {
        switch result {
        case .success(let info):
            booted += 1
            applied.vms[vm.name] = .init(restartKey: vm.restartKey, configuration: vm.spec.configuration, generation: plan.generation)
            bootedAt[vm.name] = Self.now()
            log.info("booted VM", metadata: ["vm": .string(vm.name), "backend": .string(vm.backend), "pid": "\(info.pid)", "generation": "\(plan.generation)"])
        case .failure(let error):
            failures[vm.name] = Self.oneLine(error.message)
            log.error("boot failed", metadata: ["vm": .string(vm.name), "error": .string(Self.oneLine(error.message))])
        }
    }

    /// Collects VMs that ended and reboots the wanted ones: at once the first time, then
    /// after a backoff (100 ms, doubling to 10 s; forgiven after 30 s of running). True
    /// when something changed.
    func supervise() -> Bool {
        let now = Self.now()
        var changed = false
        for (name, exit) in backend.reap() + (xen?.reap() ?? []) {
            guard plan.vms.contains(where: { $0.name == name }) else { continue }
            if let booted = bootedAt[name], now - booted > 30 { attempts[name] = 0 }
            let n = attempts[name, default: 0]
            attempts[name] = n + 1
            restarts[name] = Restart(due: now + (n == 0 ? 0 : min(10, 0.1 * Double(1 << min(n - 1, 7)))), reason: "\(exit)")
            reboots += 1
            log.warning("VM ended; rebooting", metadata: ["vm": .string(name), "exit": .string("\(exit)"), "attempt": "\(n + 1)"])
            changed = true
        }
        let due = restarts.filter { $0.value.due <= now }.map(\.key)
        if changed || !due.isEmpty {
            pass()
            for name in due { restarts[name] = nil }
        }
        return changed || !due.isEmpty
    }

    /// The soonest time a reboot is due, for the agent's poll timeout.
    var nextRestart: Double? { restarts.values.map(\.due).min() }

    /// Every planned VM's state, for `HostStatus`.
    func statuses() -> [Clickos_V1_VMStatus] {
        var out: [Clickos_V1_VMStatus] = []
        for vm in plan.vms {
            var s = Clickos_V1_VMStatus()
            s.name = vm.name
            s.backend = vm.backend
            s.generation = applied.vms[vm.name]?.generation ?? 0
            if let info = info(vm.name) {
                s.pid = info.pid
                switch info.state {
                case .running: s.state = failures[vm.name] == nil ? .running : .failed
                case .exited(let e):
                    s.state = .exited
                    s.reason = "\(e)"
                }
            } else {
                s.state = restarts[vm.name] != nil ? .booting : .failed
            }
            if let f = failures[vm.name] { s.reason = f }
            out.append(s)
        }
        for (name, why) in plan.refused.sorted(by: { $0.key < $1.key }) {
            var s = Clickos_V1_VMStatus()
            s.name = name
            s.state = .failed
            s.reason = why
            out.append(s)
        }
        return out
    }

    /// Every planned link, up when both its VM ends report the link up.
    func linkStatuses() -> [Clickos_V1_LinkStatus] {
        plan.links.filter { !$0.unconnected }.map { link in
            var s = Clickos_V1_LinkStatus()
            s.name = link.name
            var up = true
            var reasons: [String] = []
            for end in [link.server, link.client] {
                let (vm, port): (String, Int)
                switch end {
                case .vm(let n, let p): (vm, port) = (n, p)
                case .hostSwitch(let p): (vm, port) = (HostPlan.switchName, p)
                }
                let counters = backend.counters(vm)
                if let c = counters.first(where: { $0.port == port }), c.linkUp { continue }
                up = false
                reasons.append("\(end) is down")
            }
            s.up = up
            s.reason = reasons.joined(separator: "; ")
            return s
        }
    }

    private func save() {
        do {
            try applied.save(to: stateDirectory, desired: desired)
        } catch {
            log.error("cannot save the applied state", metadata: ["error": .string("\(error)")])
        }
    }

    static func oneLine(_ text: String) -> String {
        text.split(separator: "\n").map { $0.trimmingCharacters(in: " ") }.joined(separator: "; ")
    }

    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }
}

private extension Substring {
    func trimmingCharacters(in set: Character) -> String {
        var s = self
        while s.first == set { s.removeFirst() }
        while s.last == set { s.removeLast() }
        return String(s)
    }
}

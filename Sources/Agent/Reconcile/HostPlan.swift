import Messaging
import VMInterface
import VMHost

/// The host switch's parts: its configuration is written from them, leaving out what
/// leads to a device that is not there (the vif of a Xen guest that failed to boot), so
/// that one guest's failure does not stop every edge and tunnel of the host.
struct SwitchPlan {
    var host: String
    var edges: [SwitchEdge]
    var tunnels: [SwitchTunnel]
    var underlay: Underlay?
    var patches: [SwitchPatch]

    func configuration(without devices: Set<String>) -> String {
        func present(_ p: SwitchPort) -> Bool { if case .device(let d) = p { !devices.contains(d) } else { true } }
        return HostSwitchConfiguration.make(host: host, edges: edges.filter { present($0.port) }, tunnels: tunnels.filter { present($0.port) },
                                            underlay: underlay, patches: patches.filter { present($0.a) && present($0.b) })
    }
}

/// One VM the host should run, with its ports resolved to memif links.
struct PlannedVM: Equatable {
    var name: String
    var chain = ""
    var function = ""
    var instance: UInt32 = 0
    var backend = "process"
    var spec: VMSpec
    /// Everything but the configuration text, written out: when it changes, the VM is
    /// restarted; when only the configuration does, it is hot-swapped.
    var restartKey: String

    static func == (a: PlannedVM, b: PlannedVM) -> Bool {
        a.name == b.name && a.restartKey == b.restartKey && a.spec.configuration == b.spec.configuration
    }
}

/// One memif link the host should have: its directory (and socket) and its two ends.
struct PlannedLink: Equatable {
    var name: String
    var server: LinkEnd
    var client: LinkEnd
    var socketPath: String
    var secret: String
    var rings: Int
    var log2RingSize: Int
    var polling: Bool
    /// A port the desired state leaves unlinked gets a link of its own with no peer: the
    /// VM boots, and its port stays down.
    var unconnected = false

    func configuration(role: MemifConfiguration.Role) -> MemifConfiguration {
        var c = MemifConfiguration(role: role, socketPath: socketPath)
        c.secret = secret
        c.ringsPerDirection = rings
        c.log2RingSize = log2RingSize
        c.polling = polling
        c.name = String(name.prefix(32))
        return c
    }
}

/// What a desired state means on this host: the VMs (the host switch among them when
/// edges or tunnels need it) and the links, plus what this host cannot do (an interface
/// it lacks, a backend it does not offer), in words.
struct HostPlan {
    static let switchName = "_switch"

    var generation: UInt64 = 0
    var vms: [PlannedVM] = []
    var links: [PlannedLink] = []
    var problems: [String] = []
    /// VMs in the desired state that this host will not run, and why.
    var refused: [String: String] = [:]
    var tunnels: [Clickos_V1_TunnelStatus] = []
    /// What the host switch's configuration is made of, for a configuration without the
    /// vifs of Xen guests that are not running (it could not open them).
    var hostSwitch: SwitchPlan?

    /// What the plan needs from the host.
    struct Host {
        var name: String
        /// The backend's root: links live in `root/links/NAME/`.
        var linkRoot: String
        var interfaces: [HostInterface]
        /// The interfaces the operator allowed (empty: any).
        var allowedInterfaces: [String]
        var dataAddress: IPv4Address?
        var backends: Set<String>
    }

    /// Builds the plan for a desired state that passed `DesiredStateValidator`. Links to
    /// the switch that the desired state leaves implicit (an edge or tunnel attached to a
    /// VM port) get a secret from `secrets`, made once and kept across restarts.
    init(_ d: Clickos_V1_HostDesiredState, host: Host, secrets: inout [String: String]) {
        generation = d.generation
        var ports: [String: [Int: MemifConfiguration]] = [:]
        for vm in d.vms where !host.backends.contains(vm.backend.isEmpty ? "process" : vm.backend) {
            refused[vm.name] = "backend '\(vm.backend)' is not available on this host (\(host.backends.sorted().joined(separator: ", ")))"
        }
        func socketPath(_ link: String) -> String { host.linkRoot + "/links/" + link + "/memif.sock" }
        // A Xen guest's ports are vifs, not memif: the host switch carries their frames.
        // Their names come from 32 bits of the VM's name: two guests whose names collide
        // cannot both run here.
        var vifOwners: [String: String] = [:]
        for vm in d.vms.sorted(by: { $0.name < $1.name }) where vm.backend == "xen" && refused[vm.name] == nil {
            let prefix = String(Self.vifName(vm.name, 0).dropLast())
            if let other = vifOwners[prefix] {
                refused[vm.name] = "its vif names (\(prefix)N) would be VM \(other)'s too; rename one of them"
            } else {
                vifOwners[prefix] = vm.name
            }
        }
        let xen = Set(d.vms.filter { $0.backend == "xen" && refused[$0.name] == nil }.map(\.name))
        func vif(_ end: LinkEnd) -> String? {
            guard case .vm(let vm, let port) = end, xen.contains(vm) else { return nil }
            return Self.vifName(vm, port)
        }
        var patches: [SwitchPatch] = []
        var xenLinks: [PlannedLink] = []

        // Links written out in the desired state.
        var switchPorts: [Int: MemifConfiguration] = [:]
        var switchLinked: [LinkEnd: Int] = [:]
        // Links with no client: their VM port serves; the switch takes the client's part when
        // an edge or tunnel attaches to the port, else the port waits for a peer.
        var waiting: [LinkEnd: PlannedLink] = [:]
        for l in d.links {
            guard let s = LinkEnd(l.server) else { continue }
            var link = PlannedLink(name: l.name, server: s, client: s, socketPath: socketPath(l.name), secret: l.secret,
                                   rings: l.rings == 0 ? 1 : Int(l.rings), log2RingSize: l.log2RingSize == 0 ? 10 : Int(l.log2RingSize),
                                   polling: l.polling)
            if l.client.isEmpty {
                guard case .vm(let name, let port) = s, vif(s) == nil else { continue }
                link.unconnected = true
                waiting[s] = link
                ports[name, default: [:]][port] = link.configuration(role: .server)
                continue
            }
            guard let c = LinkEnd(l.client) else { continue }
            link.client = c
            if vif(s) != nil || vif(c) != nil {
                xenLinks.append(link)
                continue
            }
            links.append(link)
            for (end, role, other) in [(s, MemifConfiguration.Role.server, c), (c, .client, s)] {
                switch end {
                case .vm(let name, let port): ports[name, default: [:]][port] = link.configuration(role: role)
                case .hostSwitch(let port):
                    switchPorts[port] = link.configuration(role: role)
                    switchLinked[other] = port
                }
            }
        }
        var nextPort = 0
        func freeSwitchPort() -> Int {
            while switchPorts[nextPort] != nil { nextPort += 1 }
            return nextPort
        }
        // Links to a Xen guest: vif to vif is a patch in the switch; a memif VM to a vif is
        // the memif link ending at a switch port, patched to the vif.
        for var link in xenLinks {
            switch (vif(link.server), vif(link.client)) {
            case (let a?, let b?):
                patches.append(SwitchPatch(link: link.name, a: .device(a), b: .device(b)))
            case (let a?, nil), (nil, let a?):
                let port = freeSwitchPort()
                let xenIsServer = vif(link.server) != nil
                if xenIsServer { link.server = .hostSwitch(port) } else { link.client = .hostSwitch(port) }
                switchPorts[port] = link.configuration(role: xenIsServer ? .server : .client)
                let other = xenIsServer ? link.client : link.server
                switch other {
                case .vm(let name, let p): ports[name, default: [:]][p] = link.configuration(role: xenIsServer ? .client : .server)
                case .hostSwitch:
                    // The switch on both ends (the desired state named a switch port for a
                    // Xen guest's link): the named port's memif link has no one to serve.
                    problems.append("link \(link.name): a Xen guest's port links to the switch itself; attach an edge or tunnel to the guest's port instead")
                    switchPorts[port] = nil
                    continue
                }
                links.append(link)
                patches.append(SwitchPatch(link: link.name, a: .memif(port), b: .device(a)))
            case (nil, nil):
                continue
            }
        }
        // Edges and tunnels: each needs a switch port linked to its VM port (for a Xen
        // guest: its vif).
        func switchPort(for end: LinkEnd) -> SwitchPort {
            if let name = vif(end) { return .device(name) }
            if let p = switchLinked[end] { return .memif(p) }
            let port = freeSwitchPort()
            if var link = waiting.removeValue(forKey: end) {
                link.client = .hostSwitch(port)
                link.unconnected = false
                links.append(link)
                switchPorts[port] = link.configuration(role: .client)
                switchLinked[end] = port
                return .memif(port)
            }
            guard case .vm(let vm, let vmPort) = end else { return .memif(port) }
            let name = "_sw-" + Self.fnv("\(vm):\(vmPort)")
            if secrets[name] == nil { secrets[name] = StableNames.randomSecret() }
            let link = PlannedLink(name: name, server: .hostSwitch(port), client: end, socketPath: socketPath(name),
                                   secret: secrets[name] ?? "", rings: 1, log2RingSize: 10, polling: false)
            links.append(link)
            switchPorts[port] = link.configuration(role: .server)
            ports[vm, default: [:]][vmPort] = link.configuration(role: .client)
            switchLinked[end] = port
            return .memif(port)
        }
        let interfaces = Dictionary(host.interfaces.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        var edges: [SwitchEdge] = []
        for e in d.edges.sorted(by: { ($0.chain, $0.side.rawValue) < ($1.chain, $1.side.rawValue) }) {
            let side = e.side == .ingress ? "ingress" : "egress"
            guard let end = LinkEnd(e.attach), let address = IPv4Prefix(e.address) else { continue }
            if case .vm(let vm, _) = end, refused[vm] != nil { continue }
            guard interfaces[e.interface] != nil else {
                problems.append("edge \(e.chain) \(side): this host has no interface '\(e.interface)'")
                continue
            }
            guard host.allowedInterfaces.isEmpty || host.allowedInterfaces.contains(e.interface) else {
                problems.append("edge \(e.chain) \(side): interface '\(e.interface)' is not one this agent may use (\(host.allowedInterfaces.joined(separator: ", ")))")
                continue
            }
            edges.append(SwitchEdge(chain: e.chain, ingress: e.side == .ingress, interface: e.interface, address: address,
                                    gateway: e.gateway.isEmpty ? nil : IPv4Address(e.gateway),
                                    mac: EthernetAddress.local("\(host.name)/\(e.chain)/\(side)"), port: switchPort(for: end)))
        }
        var tunnels: [SwitchTunnel] = []
        var underlay: Underlay?
        if !d.tunnels.isEmpty {
            if let data = host.dataAddress, let iface = HostInterface.holding(data, in: host.interfaces), let mac = iface.mac {
                underlay = Underlay(interface: iface.name, mac: mac, address: data)
            } else if let data = host.dataAddress {
                problems.append("tunnels: no interface of this host holds the data address \(data)")
            } else {
                problems.append("tunnels: this agent has no data address (--data-address) for VXLAN")
            }
        }
        for t in d.tunnels.sorted(by: { $0.vni < $1.vni }) {
            guard let end = LinkEnd(t.localEnd), let remote = IPv4Address(t.remoteAddress) else { continue }
            var status = Clickos_V1_TunnelStatus()
            status.vni = t.vni
            status.remoteAddress = t.remoteAddress
            if case .vm(let vm, _) = end, refused[vm] != nil {
                self.tunnels.append(status)
                continue
            }
            status.up = underlay != nil
            self.tunnels.append(status)
            guard underlay != nil else { continue }
            tunnels.append(SwitchTunnel(vni: t.vni, remote: remote, udpPort: t.udpPort == 0 ? 4789 : UInt16(t.udpPort), port: switchPort(for: end)))
        }

        links += waiting.values.sorted { $0.name < $1.name }
        for vm in d.vms where refused[vm.name] == nil {
            for port in 0..<Int(vm.ports) where ports[vm.name]?[port] == nil && !xen.contains(vm.name) {
                let name = "_open-" + Self.fnv("\(vm.name):\(port)")
                let link = PlannedLink(name: name, server: .vm(vm.name, port), client: .vm(vm.name, port), socketPath: socketPath(name),
                                       secret: "", rings: 1, log2RingSize: 6, polling: false, unconnected: true)
                links.append(link)
                ports[vm.name, default: [:]][port] = link.configuration(role: .server)
            }
            var spec = VMSpec(name: vm.name, configuration: vm.configuration)
            spec.definitions = vm.defines.sorted { $0.key < $1.key }.map { VMDefinition($0.key, $0.value) }
            spec.ports = ports[vm.name] ?? [:]
            if xen.contains(vm.name) { spec.interfaces = (0..<Int(vm.ports)).map { Self.vifName(vm.name, $0) } }
            spec.memoryLimit = vm.memoryLimitBytes == 0 ? nil : Int(clamping: vm.memoryLimitBytes)
            spec.cpuLimit = vm.cpuLimit == 0 ? nil : vm.cpuLimit
            spec.cpus = vm.cpus.isEmpty ? nil : vm.cpus.map { Int($0) }
            if vm.packetBuffers != 0 { spec.packetBuffers = Int(vm.packetBuffers) }
            vms.append(PlannedVM(name: vm.name, chain: vm.chain, function: vm.function, instance: vm.instance,
                                 backend: vm.backend.isEmpty ? "process" : vm.backend, spec: spec, restartKey: Self.restartKey(spec)))
        }
        if !edges.isEmpty || !tunnels.isEmpty || !patches.isEmpty {
            let parts = SwitchPlan(host: host.name, edges: edges, tunnels: tunnels, underlay: underlay, patches: patches)
            hostSwitch = parts
            var spec = VMSpec(name: Self.switchName, configuration: parts.configuration(without: []))
            spec.ports = switchPorts
            spec.hostNetwork = true
            vms.append(PlannedVM(name: Self.switchName, spec: spec, restartKey: Self.restartKey(spec)))
        }
        // Links whose VMs this host will not run are not made.
        links.removeAll { l in
            [l.server, l.client].contains { if case .vm(let n, _) = $0 { refused[n] != nil } else { false } }
        }
        links.sort { $0.name < $1.name }
        vms = Self.serversFirst(vms, links: links)
    }

    init() {}

    /// The VMs in boot order: each link's server before its client where the links allow
    /// (a chain boots from its first function on), so that a client finds its server's
    /// socket at once instead of after a reconnection interval; by name otherwise.
    static func serversFirst(_ vms: [PlannedVM], links: [PlannedLink]) -> [PlannedVM] {
        func vm(_ e: LinkEnd) -> String {
            switch e {
            case .vm(let n, _): n
            case .hostSwitch: switchName
            }
        }
        var after: [String: Set<String>] = [:]
        var waiting: [String: Int] = Dictionary(vms.map { ($0.name, 0) }, uniquingKeysWith: { a, _ in a })
        for l in links where !l.unconnected {
            let (s, c) = (vm(l.server), vm(l.client))
            guard s != c, waiting[s] != nil, waiting[c] != nil, after[s, default: []].insert(c).inserted else { continue }
            waiting[c, default: 0] += 1
        }
        var byName = Dictionary(vms.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        var out: [PlannedVM] = []
        while !byName.isEmpty {
            // The first ready by name; on a cycle, the first by name.
            let next = byName.keys.filter { waiting[$0] == 0 }.min() ?? byName.keys.min() ?? ""
            guard let v = byName.removeValue(forKey: next) else { break }
            out.append(v)
            waiting[next] = -1
            for c in after[next] ?? [] where (waiting[c] ?? 0) > 0 { waiting[c, default: 0] -= 1 }
        }
        return out
    }

    /// A VM's spec without its configuration text, as a string to compare.
    static func restartKey(_ s: VMSpec) -> String {
        var key = "buffers=\(s.packetBuffers);host=\(s.hostNetwork);"
        key += "memory=\(s.memoryLimit.map(String.init) ?? "-");cpu=\(s.cpuLimit.map { String($0) } ?? "-");"
        key += "cpus=\(s.cpus.map { $0.map(String.init).joined(separator: ",") } ?? "-");"
        for d in s.definitions { key += "define \(d.name)=\(d.value);" }
        for p in s.ports.keys.sorted() { key += "port \(p)=\(s.ports[p].map(\.description) ?? "");" }
        if !s.interfaces.isEmpty { key += "interfaces=\(s.interfaces.joined(separator: ","));" }
        return key
    }

    /// The host-side name of a Xen guest's port: its vif, named by VM and port so that the
    /// switch's configuration does not depend on the domain id (`xv` + 8 hex digits of the
    /// VM name's hash + `-` + port; at most 15 bytes, as Linux allows).
    static func vifName(_ vm: String, _ port: Int) -> String {
        "xv" + String(StableNames.hex16(StableNames.fnv1a(vm)).suffix(8)) + "-" + String(port)
    }

    static func fnv(_ text: String) -> String { StableNames.hex16(StableNames.fnv1a(text)) }
}

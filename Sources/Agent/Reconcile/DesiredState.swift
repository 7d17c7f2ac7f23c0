import Messaging
import VMHost

typealias DesiredState = Clickos_V1_HostDesiredState
typealias WireVMSpec = Clickos_V1_VMSpec

/// One end of a link, as the desired state names it: `vm:NAME:PORT` or `switch:PORT`.
public enum LinkEnd: Hashable, Sendable, CustomStringConvertible {
    case vm(String, Int)
    case hostSwitch(Int)

    public init?(_ text: String) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        if parts.count == 3, parts[0] == "vm", let port = Int(parts[2]), port >= 0, port < 1 << 16 {
            self = .vm(String(parts[1]), port)
        } else if parts.count == 2, parts[0] == "switch", let port = Int(parts[1]), port >= 0, port < 1 << 16 {
            self = .hostSwitch(port)
        } else {
            return nil
        }
    }

    public var description: String {
        switch self {
        case .vm(let name, let port): "vm:\(name):\(port)"
        case .hostSwitch(let port): "switch:\(port)"
        }
    }
}

/// Checks a desired state for what no host could run: the answer to nonsense is an
/// `Error{INVALID_ARGUMENT}` naming the field, and nothing changes. What this host in
/// particular cannot do (a backend it lacks, an interface it does not have) is not here:
/// those become errors in the host's status, and the rest is applied.
enum DesiredStateValidator {
    /// The most ports a VM has (its stats page holds this many).
    static let maximumPorts = 63
    static let maximumConfiguration = 1 << 20
    static let backends: Set<String> = ["", "process", "xen"]

    static func validate(_ d: DesiredState, host: String) -> [String] {
        var problems: [String] = []
        if d.hostName != host { problems.append("host_name: desired state for host '\(d.hostName)' sent to '\(host)'") }
        if d.generation == 0 { problems.append("generation: must be at least 1") }
        var ports: [String: Int] = [:]
        for (i, vm) in d.vms.enumerated() {
            let field = "vms[\(i)]"
            if !HostNames.valid(vm.name) || vm.name.hasPrefix("_") {
                problems.append("\(field).name: '\(vm.name)': use 1 to 64 letters, digits, '-', '_' or '.', not starting with '_'")
            } else if ports[vm.name] != nil {
                problems.append("\(field).name: duplicate VM name '\(vm.name)'")
            }
            ports[vm.name] = Int(vm.ports)
            if !backends.contains(vm.backend) { problems.append("\(field).backend: unknown backend '\(vm.backend)' (process, xen)") }
            if vm.ports > maximumPorts { problems.append("\(field).ports: \(vm.ports) is out of range (0-\(maximumPorts))") }
            if vm.configuration.isEmpty { problems.append("\(field).configuration: empty") }
            if vm.configuration.utf8.count > maximumConfiguration { problems.append("\(field).configuration: longer than 1 MiB") }
            if vm.memoryLimitBytes != 0 && vm.memoryLimitBytes < 4 << 20 { problems.append("\(field).memory_limit_bytes: \(vm.memoryLimitBytes) is below 4 MiB") }
            if vm.memoryLimitBytes > UInt64(Int64.max) { problems.append("\(field).memory_limit_bytes: out of range") }
            if !vm.cpuLimit.isFinite || vm.cpuLimit < 0 || vm.cpuLimit > 1024 { problems.append("\(field).cpu_limit: \(vm.cpuLimit) is out of range (0-1024 cores)") }
            for cpu in vm.cpus where cpu >= 64 { problems.append("\(field).cpus: CPU \(cpu) is out of range (0-63)") }
            if vm.packetBuffers != 0 && !(64...1_048_576).contains(vm.packetBuffers) {
                problems.append("\(field).packet_buffers: \(vm.packetBuffers) is out of range (64-1048576)")
            }
            for (name, value) in vm.defines {
                let ok = !name.isEmpty && name.utf8.count <= 64 && name.utf8.first.map { !($0 >= 48 && $0 <= 57) } == true
                    && name.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 | 0x20 >= 97 && $0 | 0x20 <= 122) || $0 == 95 }
                if !ok { problems.append("\(field).defines: '\(name)' is not a Click variable name") }
                if value.contains("\0") || value.contains("\n") { problems.append("\(field).defines[\(name)]: newline or NUL in the value") }
            }
        }
        // Ends used by links, and VM ports that edges and tunnels attach to: each at most
        // once; a port may be both only when its link goes to the switch.
        var linked: [LinkEnd: String] = [:]
        var attached: [LinkEnd: String] = [:]
        func end(_ text: String, _ field: String, vmOnly: Bool, owner: String, in used: inout [LinkEnd: String]) -> LinkEnd? {
            guard let e = LinkEnd(text) else {
                problems.append("\(field): '\(text)': expected vm:NAME:PORT\(vmOnly ? "" : " or switch:PORT")")
                return nil
            }
            switch e {
            case .vm(let name, let port):
                guard let count = ports[name] else {
                    problems.append("\(field): '\(text)': no VM '\(name)' in this desired state")
                    return nil
                }
                if port >= count { problems.append("\(field): '\(text)': VM '\(name)' has \(count) port\(count == 1 ? "" : "s")") }
            case .hostSwitch(let port):
                if vmOnly { problems.append("\(field): '\(text)': expected vm:NAME:PORT") }
                if port >= maximumPorts { problems.append("\(field): '\(text)': switch ports are 0-\(maximumPorts - 1)") }
            }
            if let other = used[e] { problems.append("\(field): '\(text)' is already used by \(other)") }
            used[e] = owner
            return e
        }
        var linkNames: Set<String> = []
        for (i, link) in d.links.enumerated() {
            let field = "links[\(i)]"
            if !HostNames.valid(link.name) || link.name.hasPrefix("_") {
                problems.append("\(field).name: '\(link.name)': use 1 to 64 letters, digits, '-', '_' or '.', not starting with '_'")
            } else if !linkNames.insert(link.name).inserted {
                problems.append("\(field).name: duplicate link name '\(link.name)'")
            }
            let s = end(link.server, field + ".server", vmOnly: false, owner: "link '\(link.name)'", in: &linked)
            // No client: the port waits for a peer that is not on this host yet (or reaches
            // it through the switch, when an edge or tunnel attaches to it).
            let c = link.client.isEmpty ? nil : end(link.client, field + ".client", vmOnly: false, owner: "link '\(link.name)'", in: &linked)
            if case .hostSwitch = s, case .hostSwitch = c { problems.append("\(field): a link between two switch ports") }
            if link.client.isEmpty, case .hostSwitch = s { problems.append("\(field): a link with no client must have a VM port as its server") }
            if link.secret.utf8.count > 24 { problems.append("\(field).secret: longer than 24 bytes") }
            if link.rings > 16 { problems.append("\(field).rings: \(link.rings) is out of range (1-16)") }
            if link.log2RingSize > 14 { problems.append("\(field).log2_ring_size: \(link.log2RingSize) is out of range (1-14)") }
        }
        var vnis: Set<UInt32> = []
        for (i, t) in d.tunnels.enumerated() {
            let field = "tunnels[\(i)]"
            if t.vni == 0 || t.vni > 0xFF_FFFF { problems.append("\(field).vni: \(t.vni) is out of range (1-16777215)") }
            if !vnis.insert(t.vni).inserted { problems.append("\(field).vni: duplicate VNI \(t.vni)") }
            if IPv4Address(t.remoteAddress) == nil { problems.append("\(field).remote_address: '\(t.remoteAddress)' is not an IPv4 address") }
            if t.udpPort > 65_535 { problems.append("\(field).udp_port: \(t.udpPort) is out of range (1-65535)") }
            _ = end(t.localEnd, field + ".local_end", vmOnly: true, owner: "tunnel \(t.vni)", in: &attached)
        }
        var sides: Set<String> = []
        for (i, e) in d.edges.enumerated() {
            let field = "edges[\(i)]"
            if e.chain.isEmpty { problems.append("\(field).chain: empty") }
            if !sides.insert("\(e.chain)/\(e.side.rawValue)").inserted { problems.append("\(field): a second \(e.side == .ingress ? "ingress" : "egress") edge for chain '\(e.chain)'") }
            if case .UNRECOGNIZED(let v) = e.side { problems.append("\(field).side: unknown side \(v)") }
            if e.interface.isEmpty || e.interface.utf8.count > 15 || e.interface.contains("/") || e.interface.contains(" ") {
                problems.append("\(field).interface: '\(e.interface)' is not an interface name")
            }
            if IPv4Prefix(e.address) == nil { problems.append("\(field).address: '\(e.address)' is not an IPv4 address with a prefix length") }
            if !e.gateway.isEmpty && IPv4Address(e.gateway) == nil { problems.append("\(field).gateway: '\(e.gateway)' is not an IPv4 address") }
            _ = end(e.attach, field + ".attach", vmOnly: true, owner: "the \(e.side == .ingress ? "ingress" : "egress") edge of \(e.chain)", in: &attached)
        }
        // A link to the switch carries an edge or a tunnel at its VM end; a link between
        // VMs leaves their ports to nothing else.
        for (i, link) in d.links.enumerated() {
            guard let s = LinkEnd(link.server), let c = LinkEnd(link.client) else { continue }
            for (a, b) in [(s, c), (c, s)] {
                guard case .vm = b else { continue }
                if case .hostSwitch = a {
                    if attached[b] == nil { problems.append("links[\(i)]: \(a) carries nothing: no edge or tunnel attaches to \(b)") }
                } else if let owner = attached[b] {
                    problems.append("links[\(i)]: '\(b)' is linked to a VM and also used by \(owner)")
                }
            }
        }
        return problems
    }
}

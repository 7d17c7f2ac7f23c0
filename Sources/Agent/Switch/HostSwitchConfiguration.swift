/// Where the host switch reaches a VM port: one of its own memif ports (`FromDevice(N)`),
/// or the host-side interface of a Xen guest's vif (AF_PACKET).
enum SwitchPort: Equatable, CustomStringConvertible {
    case memif(Int)
    case device(String)

    /// As a FromDevice/ToDevice argument.
    var description: String {
        switch self {
        case .memif(let n): String(n)
        case .device(let name): name
        }
    }

    /// A FromDevice for it: a vif carries frames for other addresses than its own.
    var fromDevice: String {
        switch self {
        case .memif(let n): "FromDevice(\(n))"
        case .device(let name): "FromDevice(\(name), PROMISC true)"
        }
    }
}

/// Two switch ports whose frames the switch passes to each other unchanged: a memif link
/// to a Xen guest's vif, or two vifs.
struct SwitchPatch: Equatable {
    var link: String
    var a: SwitchPort
    var b: SwitchPort
}

/// A chain edge as the host switch serves it: the address it owns on an interface, the
/// Ethernet address it answers with, and the switch port that leads to the chain.
struct SwitchEdge: Equatable {
    var chain: String
    var ingress: Bool
    var interface: String
    var address: IPv4Prefix
    var gateway: IPv4Address?
    var mac: EthernetAddress
    var port: SwitchPort
}

/// A VXLAN tunnel as the host switch serves it.
struct SwitchTunnel: Equatable {
    var vni: UInt32
    var remote: IPv4Address
    var udpPort: UInt16
    var port: SwitchPort
}

/// The interface and address VXLAN leaves and arrives by.
struct Underlay: Equatable {
    var interface: String
    var mac: EthernetAddress
    var address: IPv4Address
}

/// Writes the host switch's Click configuration: per interface, a FromDevice (AF_PACKET)
/// whose frames a Classifier sorts into ARP requests (answered for the edges' addresses
/// by an ARPResponder), ARP replies (teed to every ARPQuerier on that interface), frames
/// for an edge's Ethernet address (queued to the chain's switch port), VXLAN for this
/// host's underlay address (stripped to the VXLAN header, decapsulated by VNI, queued to
/// the tunnel's switch port), and the rest (dropped). Frames coming back from an edge's
/// switch port are IP-routed out of its interface: stripped, their next hop (the gateway,
/// or the destination itself) resolved by an ARPQuerier speaking for the edge's address.
/// Frames from a tunnel's switch port get a VXLAN, UDP and IP header toward the remote
/// host and its Ethernet address from the underlay's ARPQuerier.
///
/// Patches pass frames between a memif port and a Xen guest's vif (or two vifs) both ways,
/// each direction through a queue of its own.
///
/// The edges' Ethernet addresses are the switch's own (locally administered, derived from
/// host, chain and side), so the interface listens promiscuously and the host's kernel
/// ignores the edges' traffic; each edge announces itself with gratuitous ARP when the
/// switch starts. The underlay uses the interface's own address, which the kernel answers
/// ARP for.
enum HostSwitchConfiguration {
    /// (The text names no generation: a new generation that leaves the switch's edges and
    /// tunnels as they were leaves its configuration as it was, and the switch untouched.)
    static func make(host: String, edges: [SwitchEdge], tunnels: [SwitchTunnel], underlay: Underlay?, patches: [SwitchPatch] = []) -> String {
        var out = "// Host switch of \(host): written by clickos-agent from the desired state.\n"
        var interfaces: [String] = []
        for e in edges where !interfaces.contains(e.interface) { interfaces.append(e.interface) }
        if let underlay, !tunnels.isEmpty, !interfaces.contains(underlay.interface) { interfaces.append(underlay.interface) }
        let udpPorts = Array(Set(tunnels.map(\.udpPort))).sorted()
        // Connections to elements declared further down (Click wants a name declared
        // before it is used).
        var late: [String] = []

        for (i, name) in interfaces.enumerated() {
            let ifEdges = edges.enumerated().filter { $0.element.interface == name }
            let carriesTunnels = underlay?.interface == name && !tunnels.isEmpty
            let p = "if\(i)"
            out += "\n// Interface \(name)\(ifEdges.isEmpty ? "" : ": edges " + ifEdges.map { "\($0.element.chain) \($0.element.ingress ? "ingress" : "egress") \($0.element.address) at \($0.element.mac)" }.joined(separator: ", "))\(carriesTunnels ? "; the VXLAN underlay" : "")\n"
            out += "\(p)_in :: FromDevice(\(name), PROMISC \(ifEdges.isEmpty ? "false" : "true"));\n"
            out += "\(p)_out :: Queue(4096) -> ToDevice(\(name));\n"
            var patterns = ["12/0806 20/0001", "12/0806 20/0002"]
            for (_, e) in ifEdges { patterns.append("0/\(hex(e.mac.bytes)) 12/0800") }
            if carriesTunnels, let underlay {
                for port in udpPorts {
                    patterns.append("0/\(hex(underlay.mac.bytes)) 12/0800 14/45 23/11 30/\(hex(bytes(underlay.address))) 36/\(hex([UInt8(port >> 8), UInt8(port & 0xFF)]))")
                }
            }
            patterns.append("-")
            out += "\(p)_in -> \(p)_cls :: Classifier(\(patterns.joined(separator: ", ")));\n"
            // ARP requests: answered for the edges' addresses here; the kernel answers for
            // the host's own.
            if ifEdges.isEmpty {
                out += "\(p)_cls[0] -> Discard;\n"
            } else {
                out += "\(p)_cls[0] -> ARPResponder(\(ifEdges.map { "\($0.element.address.address) \($0.element.mac)" }.joined(separator: ", "))) -> \(p)_out;\n"
            }
            // ARP replies: to every querier on this interface.
            var queriers = ifEdges.map { "edge\($0.offset)_arpq" }
            if carriesTunnels { queriers.append("underlay_arpq") }
            out += "\(p)_cls[1] -> \(p)_replies :: Tee(\(queriers.count));\n"
            for (k, q) in queriers.enumerated() { late.append("\(p)_replies[\(k)] -> [1] \(q);") }
            var output = 2
            for (k, e) in ifEdges {
                out += "\(p)_cls[\(output)] -> edge\(k)_tochain :: Queue(1024) -> ToDevice(\(e.port));\n"
                output += 1
            }
            if carriesTunnels {
                for _ in udpPorts {
                    late.append("\(p)_cls[\(output)] -> vxlan_in;")
                    output += 1
                }
            }
            out += "\(p)_cls[\(output)] -> Discard;\n"
            // Gratuitous ARP for each edge when the switch starts (three, half a second
            // apart): neighbours and bridges learn at once where the edge is now, after a
            // chain moved from another host.
            for (_, e) in ifEdges { out += "RatedSource(DATA \\<\(hex(gratuitousARP(e)))>, RATE 2, LIMIT 3, STOP false) -> \(p)_out;\n" }
            for (k, e) in ifEdges {
                let next = e.gateway.map { "SetIPAddress(\($0))" } ?? "GetIPAddress(16)"
                out += "// \(e.chain) \(e.ingress ? "ingress" : "egress"): frames from the chain leave by \(name)\(e.gateway.map { " through \($0)" } ?? "")\n"
                out += "\(e.port.fromDevice) -> edge\(k)_ip :: Classifier(12/0800, -) -> Strip(14) -> CheckIPHeader -> \(next)\n"
                out += "    -> edge\(k)_arpq :: ARPQuerier(\(e.address.address), \(e.mac)) -> \(p)_out;\n"
                out += "edge\(k)_ip[1] -> Discard;\n"
            }
        }
        if let underlay, !tunnels.isEmpty {
            out += "\n// VXLAN (RFC 7348) over \(underlay.interface) from \(underlay.address)\n"
            out += "underlay_arpq :: ARPQuerier(\(underlay.address), \(underlay.mac));\n"
            let ifIndex = interfaces.firstIndex(of: underlay.interface) ?? 0
            out += "underlay_arpq -> if\(ifIndex)_out;\n"
            out += "vxlan_in :: Strip(14) -> CheckIPHeader -> StripIPHeader -> Strip(8) -> vxlan_decap :: VXLANDecap(\(tunnels.map { String($0.vni) }.joined(separator: ", ")));\n"
            for (k, t) in tunnels.enumerated() {
                out += "// VNI \(t.vni) to \(t.remote):\(t.udpPort), switch port \(t.port)\n"
                out += "vxlan_decap[\(k)] -> tunnel\(k)_in :: Queue(1024) -> ToDevice(\(t.port));\n"
                // The source port varies by VNI, for the underlay's ECMP hashing.
                let source = 49_152 + Int(t.vni % 16_384)
                out += "\(t.port.fromDevice) -> tunnel\(k)_encap :: VXLANEncap(\(t.vni)) -> UDPIPEncap(\(underlay.address), \(source), \(t.remote), \(t.udpPort), false) -> underlay_arpq;\n"
            }
            out += "vxlan_decap[\(tunnels.count)] -> vxlan_unknown_vni :: Counter -> Discard;\n"
            out += "vxlan_decap[\(tunnels.count + 1)] -> vxlan_bad :: Counter -> Discard;\n"
        }
        for (k, p) in patches.enumerated() {
            out += "\n// Link \(p.link): \(p.a) <-> \(p.b)\n"
            out += "\(p.a.fromDevice) -> patch\(k)_ab :: Queue(1024) -> ToDevice(\(p.b));\n"
            out += "\(p.b.fromDevice) -> patch\(k)_ba :: Queue(1024) -> ToDevice(\(p.a));\n"
        }
        if !late.isEmpty { out += "\n" + late.joined(separator: "\n") + "\n" }
        if interfaces.isEmpty && patches.isEmpty { out += "Idle -> Discard;\n" }
        return out
    }

    /// An ARP request for the edge's own address from its own Ethernet address, broadcast.
    static func gratuitousARP(_ e: SwitchEdge) -> [UInt8] {
        let ip = bytes(e.address.address)
        return [UInt8](repeating: 0xFF, count: 6) + e.mac.bytes + [0x08, 0x06, 0, 1, 8, 0, 6, 4, 0, 1] + e.mac.bytes + ip + [UInt8](repeating: 0, count: 6) + ip
    }

    static func hex(_ bytes: [UInt8]) -> String {
        bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }

    static func bytes(_ a: IPv4Address) -> [UInt8] { [a.bytes.0, a.bytes.1, a.bytes.2, a.bytes.3] }
}

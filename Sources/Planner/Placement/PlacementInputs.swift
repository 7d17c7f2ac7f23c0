import Foundation
import Messaging
import Yams

extension PlacementChain {
    /// The chain a `ChainSpec` describes, as placement sees it.
    public init(_ spec: Clickos_V1_ChainSpec) {
        self.init(name: spec.name, declaredPps: spec.declaredPps, functions: spec.functions.map { f in
            PlacementFunction(name: f.name, minInstances: Int(max(1, f.minInstances)), maxInstances: Int(max(f.minInstances, f.maxInstances, 1)),
                              host: f.host.isEmpty ? nil : f.host, labels: f.labels, backend: f.backend.isEmpty ? "process" : f.backend)
        }, lowLatency: spec.lowLatency)
        ingressHost = spec.ingress.host.isEmpty ? nil : spec.ingress.host
        egressHost = spec.egress.host.isEmpty ? nil : spec.egress.host
    }
}

extension PlacementHost {
    /// A registered host as placement sees it.
    public init(_ r: Clickos_V1_Register, ready: Bool = true) {
        // An agent from before backends were announced runs process VMs.
        self.init(name: r.hostName, cores: Int(r.cores), packetsPerCore: r.packetsPerCore, labels: r.labels,
                  backends: r.vmBackends.isEmpty ? ["process"] : Set(r.vmBackends), ready: ready)
    }
}

/// A hosts file for offline planning (`clickos plan --hosts FILE`):
///
/// ```yaml
/// hosts:
///   - { name: server1, cores: 16, packets_per_core: 2.5M, labels: { zone: a } }
///   - { name: server2, cores: 8, packets_per_core: 2M, backends: [process, xen] }
/// ```
public enum HostsFile {
    public static func load(path: String) throws(ChainFile.Failure) -> [PlacementHost] {
        guard let data = FileManager.default.contents(atPath: path) else { throw ChainFile.Failure(problems: ["\(path): cannot read it"]) }
        return try parse(yaml: String(decoding: data, as: UTF8.self), file: path)
    }

    public static func parse(yaml text: String, file: String) throws(ChainFile.Failure) -> [PlacementHost] {
        var problems: [String] = []
        func at(_ n: Node?) -> String { n?.mark.map { "\(file):\($0.line):\($0.column)" } ?? file }
        let root: Node?
        do { root = try Yams.compose(yaml: text) } catch { throw ChainFile.Failure(problems: ["\(file): not YAML: \(error)"]) }
        guard case .mapping(let top)? = root, let list = top["hosts"], case .sequence(let items) = list else {
            throw ChainFile.Failure(problems: ["\(at(root)): expected `hosts:` with a list of hosts"])
        }
        var hosts: [PlacementHost] = []
        var names: Set<String> = []
        for (i, item) in items.enumerated() {
            guard case .mapping(let m) = item else {
                problems.append("\(at(item)): hosts[\(i)]: expected a mapping (name, cores, packets_per_core, labels)")
                continue
            }
            for (k, _) in m where !["name", "cores", "packets_per_core", "labels", "backends"].contains(k.string ?? "") {
                problems.append("\(at(k)): hosts[\(i)].\(k.string ?? ""): unknown key (name, cores, packets_per_core, labels, backends)")
            }
            guard let name = m["name"]?.string, !name.isEmpty else {
                problems.append("\(at(item)): hosts[\(i)].name: missing")
                continue
            }
            if !names.insert(name).inserted { problems.append("\(at(m["name"])): hosts[\(i)].name: '\(name)' is used twice") }
            guard let cores = m["cores"]?.int, cores >= 1, cores <= 4096 else {
                problems.append("\(at(m["cores"] ?? item)): hosts[\(i)].cores: expected an integer from 1 to 4096")
                continue
            }
            guard let ppcText = m["packets_per_core"]?.string, let ppc = ChainFile.rate(ppcText) else {
                problems.append("\(at(m["packets_per_core"] ?? item)): hosts[\(i)].packets_per_core: expected packets per second (2.5M)")
                continue
            }
            var labels: [String: String] = [:]
            if case .mapping(let l)? = m["labels"] { for (k, v) in l { if let k = k.string, let v = v.string { labels[k] = v } } }
            var backends: Set<String> = ["process"]
            if let b = m["backends"] {
                let names: [String]? = if case .sequence(let list) = b { list.compactMap(\.string) } else { nil }
                guard let names, !names.isEmpty, names.allSatisfy({ $0 == "process" || $0 == "xen" }) else {
                    problems.append("\(at(b)): hosts[\(i)].backends: expected a list of process, xen")
                    continue
                }
                backends = Set(names)
            }
            hosts.append(PlacementHost(name: name, cores: cores, packetsPerCore: ppc, labels: labels, backends: backends))
        }
        if !problems.isEmpty { throw ChainFile.Failure(problems: problems) }
        return hosts
    }
}

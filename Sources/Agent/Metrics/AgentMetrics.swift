import FlyingFox
import Foundation
import Logging
import Messaging
import Metrics
import Prometheus

/// The agent's metrics, recorded through swift-metrics into a Prometheus registry of its
/// own and served as the text exposition format at `/metrics` (FlyingFox: the smallest
/// HTTP server among the packages here, plain sockets, no SwiftNIO). VM states, per-port
/// packet, byte and drop counters (from the stats pages), reconcile passes and errors,
/// VM reboots, messages by direction and type, generations, host CPU.
final class AgentMetrics {
    let registry = PrometheusCollectorRegistry()
    private let factory: PrometheusMetricsFactory
    private var counters: [String: Metrics.Counter] = [:]
    private var gauges: [String: Metrics.Gauge] = [:]
    /// The last absolute value seen per port counter, to add only the difference.
    private var lastPortValues: [String: UInt64] = [:]
    private var server: HTTPServer?

    init() {
        factory = PrometheusMetricsFactory(registry: registry)
    }

    private func counter(_ label: String, _ dimensions: [(String, String)]) -> Metrics.Counter {
        let key = label + dimensions.map { "|\($0.0)=\($0.1)" }.joined()
        if let c = counters[key] { return c }
        let c = Metrics.Counter(label: label, dimensions: dimensions, factory: factory)
        counters[key] = c
        return c
    }

    private func gauge(_ label: String, _ dimensions: [(String, String)]) -> Metrics.Gauge {
        let key = label + dimensions.map { "|\($0.0)=\($0.1)" }.joined()
        if let g = gauges[key] { return g }
        let g = Metrics.Gauge(label: label, dimensions: dimensions, factory: factory)
        gauges[key] = g
        return g
    }

    func message(_ direction: String, _ envelope: Envelope) {
        counter("clickos_agent_messages_total", [("direction", direction), ("type", Self.typeName(envelope.payload))]).increment()
    }

    func malformed() {
        counter("clickos_agent_messages_total", [("direction", "in"), ("type", "malformed")]).increment()
    }

    func reconcile(passes: Int, errors: Int, reboots: Int, observed: UInt64, desired: UInt64) {
        gauge("clickos_agent_reconcile_passes", []).record(passes)
        gauge("clickos_agent_reconcile_errors", []).record(errors)
        gauge("clickos_agent_vm_reboots", []).record(reboots)
        gauge("clickos_agent_observed_generation", []).record(Int64(clamping: observed))
        gauge("clickos_agent_desired_generation", []).record(Int64(clamping: desired))
    }

    /// VM states (one gauge per VM and state, 1 for the current one) and counts.
    func states(_ statuses: [Clickos_V1_VMStatus]) {
        let names = ["unknown", "booting", "running", "reconfiguring", "stopping", "exited", "failed"]
        var totals = [Int](repeating: 0, count: names.count)
        for s in statuses {
            let current = max(0, min(names.count - 1, s.state.rawValue))
            totals[current] += 1
            for (k, n) in names.enumerated() { gauge("clickos_agent_vm_state", [("vm", s.name), ("state", n)]).record(k == current ? 1 : 0) }
        }
        for (k, n) in names.enumerated() { gauge("clickos_agent_vms", [("state", n)]).record(totals[k]) }
    }

    func telemetry(_ t: Clickos_V1_Telemetry) {
        gauge("clickos_agent_host_cpu_cores", []).record(t.hostCpuCores)
        for vm in t.vms {
            gauge("clickos_agent_vm_cpu_ns_per_packet", [("vm", vm.vm)]).record(vm.cpuNsPerPacket)
            gauge("clickos_agent_vm_memory_bytes", [("vm", vm.vm)]).record(Int64(clamping: vm.memoryBytes))
            for p in vm.ports {
                let d = [("vm", vm.vm), ("port", String(p.port))]
                gauge("clickos_agent_port_link_up", d).record(p.linkUp ? 1 : 0)
                for (name, value) in [("rx_packets", p.rxPackets), ("rx_bytes", p.rxBytes), ("rx_drops", p.rxDrops),
                                      ("tx_packets", p.txPackets), ("tx_bytes", p.txBytes), ("tx_drops", p.txDrops)] {
                    let key = "\(vm.vm)/\(p.port)/\(name)"
                    let last = lastPortValues[key] ?? 0
                    // A smaller value: the VM restarted and its counters with it.
                    let delta = value >= last ? value - last : value
                    lastPortValues[key] = value
                    if delta > 0 { counter("clickos_agent_port_\(name)_total", d).increment(by: Int64(clamping: delta)) }
                }
            }
        }
    }

    /// The exposition text now.
    func exposition() -> String { registry.emitToString() }

    /// Serves `/metrics` on `endpoint` from a task of its own; the error, if it cannot
    /// listen, goes to the log.
    func serve(_ endpoint: MetricsEndpoint, log: Logger) {
        guard let address = try? sockaddr_in.inet(ip4: endpoint.address, port: endpoint.port) else { return }
        let server = HTTPServer(address: address, timeout: 5)
        self.server = server
        let registry = self.registry
        Task {
            await server.appendRoute("GET /metrics") { _ in
                HTTPResponse(statusCode: .ok, headers: [.contentType: "text/plain; version=0.0.4"], body: Data(registry.emitToBuffer()))
            }
            do {
                try await server.run()
            } catch {
                log.error("metrics endpoint stopped", metadata: ["address": "\(endpoint.address):\(endpoint.port)", "error": "\(error)"])
            }
        }
    }

    static func typeName(_ payload: Envelope.OneOf_Payload?) -> String {
        guard let payload else { return "none" }
        switch payload {
        case .register: return "register"
        case .heartbeat: return "heartbeat"
        case .telemetry: return "telemetry"
        case .hostStatus: return "host_status"
        case .desiredState: return "desired_state"
        case .ack: return "ack"
        case .error: return "error"
        default: return "other"
        }
    }
}

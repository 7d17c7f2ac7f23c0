#if canImport(Glibc)
import Glibc
#endif
import Messaging
import Testing

/// The agent measures its capacity with the reference function at its first start (and
/// keeps the figure), and serves Prometheus metrics.
@Suite("Agent capacity and metrics", .serialized, .timeLimit(.minutes(2)))
struct MetricsAndCapacityTests {
    @Test func capacityIsMeasuredOnceAndMetricsAreServed() throws {
        let dir = scratch("metrics")
        defer { _ = shell("rm -rf '\(dir)'") }
        let endpoint = "ipc://\(dir)/planner.sock"
        let planner = try ScriptedPlanner(endpoint: endpoint)
        defer { planner.server.stop() }
        let port = 20_000 + Int(getpid() % 20_000)
        let arguments = ["--planner", endpoint, "--name", "hm", "--state-dir", dir + "/state", "--metrics", "127.0.0.1:\(port)",
                         "--reference-function", repositoryRoot + "/chains/functions/firewall.click",
                         "--heartbeat-interval", "0.2", "--telemetry-interval", "0.2"]
        var agent = AgentProcess(arguments, log: dir + "/agent.log")
        defer {
            agent.stop()
            killVMs(under: dir)
        }
        #expect(eventually(20) { !planner.registrations.isEmpty }, "\(agent.log)")
        let measured = planner.registrations.first?.packetsPerCore ?? 0
        #expect(measured > 10_000, "packets_per_core \(measured): \(agent.log)")
        #expect(readText(dir + "/state/capacity").contains("packets_per_core=\(Int(measured))"))
        #expect(agent.log.contains("capacity measured"))

        _ = planner.push(Desired.state("hm", 1, vms: [
            Desired.vm("src", AgentLifecycleTests.source(rate: 1000, total: 100_000), ports: 1),
            Desired.vm("sink", AgentLifecycleTests.sink, ports: 1),
        ], links: [Desired.link("l", "vm:src:0", "vm:sink:0")]), to: "hm")
        #expect(planner.waitStatus { $0.observedGeneration == 1 } != nil, "\(agent.log)")
        var text = ""
        #expect(eventually(10) {
            text = shell("curl -s http://127.0.0.1:\(port)/metrics")
            // Each VM's port counters appear once its stats page is first read: wait for both.
            return text.contains(#"clickos_agent_port_rx_packets_total{vm="sink",port="0"}"#)
                && text.contains(#"clickos_agent_port_tx_packets_total{vm="src",port="0"}"#)
        }, "metrics: \(text)\n\(agent.log)")
        for expected in [#"clickos_agent_messages_total{direction="out",type="register"} 1"#,
                         #"clickos_agent_messages_total{direction="in",type="desired_state"} 1"#,
                         #"clickos_agent_vm_state{vm="src",state="running"} 1"#,
                         #"clickos_agent_vms{state="running"} 2"#,
                         "# TYPE clickos_agent_port_tx_packets_total counter",
                         "clickos_agent_observed_generation 1", "clickos_agent_host_cpu_cores"] {
            #expect(text.contains(expected), "no \(expected) in \(text)")
        }

        // Restarted, the agent takes the figure from its state directory.
        agent.stop()
        let mark = planner.registrations.count
        agent = AgentProcess(arguments, log: dir + "/agent2.log")
        #expect(eventually(20) { planner.registrations.count > mark }, "\(agent.log)")
        #expect(planner.registrations.last?.packetsPerCore == Double(Int(measured)))
        #expect(agent.log.contains("capacity from the state directory"))
    }
}

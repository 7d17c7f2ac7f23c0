import Messaging
import Testing

@testable import Agent

/// How a desired state with Xen guests becomes a plan: their ports are vifs the host switch
/// patches (memif link to vif, vif to vif, edge to vif), they get no memif ports of their
/// own, and two guests whose vif names would collide cannot both run.
@Suite("Host plan with Xen guests")
struct HostPlanTests {
    static let host = HostPlan.Host(name: "h", linkRoot: "/tmp/h", interfaces: [], allowedInterfaces: [], dataAddress: nil, backends: ["process", "xen"])

    static func xen(_ name: String, ports: UInt32 = 2) -> Clickos_V1_VMSpec {
        var v = Desired.vm(name, "FromDevice(0) -> ToDevice(1);", ports: ports)
        v.backend = "xen"
        return v
    }

    @Test func xenPortsArePatchedByTheSwitch() throws {
        let d = Desired.state("h", 1, vms: [Desired.vm("src", "Idle -> ToDevice(0);", ports: 1), Self.xen("fw"), Self.xen("mon"),
                                             Desired.vm("sink", "FromDevice(0) -> Discard;", ports: 1)],
                              links: [Desired.link("src-fw", "vm:src:0", "vm:fw:0"), Desired.link("fw-mon", "vm:fw:1", "vm:mon:0"),
                                      Desired.link("mon-sink", "vm:mon:1", "vm:sink:0")])
        var secrets: [String: String] = [:]
        let plan = HostPlan(d, host: Self.host, secrets: &secrets)
        #expect(plan.refused.isEmpty && plan.problems.isEmpty)
        let fw = try #require(plan.vms.first { $0.name == "fw" })
        #expect(fw.spec.ports.isEmpty && fw.spec.interfaces == [HostPlan.vifName("fw", 0), HostPlan.vifName("fw", 1)])
        // The memif links end at switch ports; vif to vif needs none.
        #expect(plan.links.map { "\($0.name) \($0.server) \($0.client)" } == ["mon-sink switch:1 vm:sink:0", "src-fw vm:src:0 switch:0"])
        let sw = try #require(plan.vms.first { $0.name == HostPlan.switchName })
        #expect(sw.spec.ports.keys.sorted() == [0, 1] && sw.spec.hostNetwork)
        let config = sw.spec.configuration
        let fw0 = HostPlan.vifName("fw", 0), fw1 = HostPlan.vifName("fw", 1), mon0 = HostPlan.vifName("mon", 0), mon1 = HostPlan.vifName("mon", 1)
        for line in ["FromDevice(0) -> patch0_ab :: Queue(1024) -> ToDevice(\(fw0));", "FromDevice(\(fw0), PROMISC true) -> patch0_ba :: Queue(1024) -> ToDevice(0);",
                     "FromDevice(\(fw1), PROMISC true) -> patch1_ab :: Queue(1024) -> ToDevice(\(mon0));",
                     "FromDevice(\(mon0), PROMISC true) -> patch1_ba :: Queue(1024) -> ToDevice(\(fw1));",
                     "FromDevice(1) -> patch2_ab :: Queue(1024) -> ToDevice(\(mon1));"] {
            #expect(config.contains(line), "missing \(line) in\n\(config)")
        }
        // Without mon running, the switch leaves out every patch that touches its vifs.
        let without = try #require(plan.hostSwitch).configuration(without: [mon0, mon1])
        #expect(without.contains("ToDevice(\(fw0))") && !without.contains(mon0) && !without.contains(mon1))
    }

    @Test func guestsWhoseVifNamesCollideCannotBothRun() {
        // 32 bits of FNV-1a: these two names share them.
        #expect(HostPlan.vifName("vm337081", 0) == HostPlan.vifName("vm523190", 0))
        var secrets: [String: String] = [:]
        let plan = HostPlan(Desired.state("h", 1, vms: [Self.xen("vm337081"), Self.xen("vm523190")]), host: Self.host, secrets: &secrets)
        #expect(plan.vms.map(\.name) == ["vm337081"])
        #expect(plan.refused["vm523190"]?.contains("would be VM vm337081's too") == true, "\(plan.refused)")
        // On a host without xen both are refused for that reason instead.
        var processOnly = Self.host
        processOnly.backends = ["process"]
        let refused = HostPlan(Desired.state("h", 1, vms: [Self.xen("a")]), host: processOnly, secrets: &secrets).refused
        #expect(refused["a"] == "backend 'xen' is not available on this host (process)")
    }
}

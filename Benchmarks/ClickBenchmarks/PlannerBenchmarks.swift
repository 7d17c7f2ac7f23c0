import Planner

// The planner's placement figures (issue 13): placing 10,000 chains of 3 functions on
// 1,000 hosts from scratch, and re-planning after one host is lost.

func benchmarkPlacement() {
    var state: UInt64 = 42
    func random(_ n: Int) -> Int {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return Int((state >> 33) % UInt64(n))
    }
    let hosts = (0..<1000).map { k in
        PlacementHost(name: "h\(k)", cores: [8, 16, 32][random(3)], packetsPerCore: [1.5e6, 2e6, 2.5e6][random(3)], labels: ["zone": k % 2 == 0 ? "a" : "b"])
    }
    let chains = (0..<10_000).map { c in
        PlacementChain(name: "c\(c)", declaredPps: [5e4, 2e5, 5e5, 1e6][random(4)],
                       functions: ["fw", "nat", "lb"].map { PlacementFunction(name: $0, maxInstances: 4) })
    }
    let placement = Placement()
    var plan = Plan()
    let full = measure("placement: 10,000 chains of 3 functions on 1,000 hosts, from scratch", warmup: 1, repetitions: 5) {
        plan = placement.place(hosts: hosts, chains: chains)
    }
    report(full.line + "; \(plan.instances.count) instances, \(plan.unplaced.count) pending, \(plan.hostsUsed) hosts used, \(Int(plan.crossHostHops)) cross-host hops")
    // One host lost: what ran there moves, nothing else.
    let lost = plan.instances.first?.host ?? "h0"
    let after = hosts.map { h -> PlacementHost in
        var copy = h
        if h.name == lost { copy.ready = false }
        return copy
    }
    var replan = Plan()
    let again = measure("placement: re-plan after 1 of 1,000 hosts is lost", warmup: 1, repetitions: 5) {
        replan = placement.place(hosts: after, chains: chains, previous: plan)
    }
    let before = Dictionary(uniqueKeysWithValues: plan.instances.map { ("\($0.chain)/\($0.function)/\($0.instance)", $0.host) })
    let moved = replan.instances.filter { before["\($0.chain)/\($0.function)/\($0.instance)"] != $0.host }.count
    let onLost = plan.instances.filter { $0.host == lost }.count
    report(again.line + "; \(moved) instances moved (\(onLost) ran on the lost host), \(replan.unplaced.count) pending")
}

import ArgumentParser
import Foundation
import Planner

/// `clickos plan --hosts HOSTS.yaml CHAINFILE...`: the planner's placement, offline, on the
/// hosts given: where every instance would run, each host's share of its budget, and
/// what would not fit.
struct PlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Place chains on given hosts offline, with the planner's own placement, and print the plan.")

    @Option(help: "A YAML file of hosts (name, cores, packets_per_core, labels).") var hosts: String
    @Argument(help: "Chain files.") var files: [String]
    @Flag(help: "Print the plan as JSON.") var json = false

    func run() throws {
        let hostList: [PlacementHost]
        do { hostList = try HostsFile.load(path: hosts) } catch {
            for p in error.problems { printError(p) }
            throw ExitCode(1)
        }
        var chains: [PlacementChain] = []
        var failed = false
        for file in files {
            do { chains.append(PlacementChain(try ChainFile.load(path: file))) } catch {
                for p in error.problems { printError(p) }
                failed = true
            }
        }
        if failed { throw ExitCode(1) }
        let plan = Placement().place(hosts: hostList, chains: chains)
        if json {
            let object: [String: Any] = [
                "placements": plan.instances.map { ["chain": $0.chain, "function": $0.function, "instance": $0.instance, "host": $0.host] },
                "utilization": plan.utilization,
                "unplaced": plan.unplaced,
                "warnings": plan.warnings,
                "cross_host_hops": plan.crossHostHops,
                "hosts_used": plan.hostsUsed,
            ]
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted])
            print(String(decoding: data, as: UTF8.self))
            return
        }
        printTable(["CHAIN", "FUNCTION", "INSTANCE", "HOST"], plan.instances.map { [$0.chain, $0.function, String($0.instance), $0.host] })
        print("")
        printTable(["HOST", "CORES", "USED"], hostList.map { h in
            [h.name, String(h.cores), String(format: "%.1f%%", (plan.utilization[h.name] ?? 0) * 100)]
        })
        print("\ncross-host hops: \(String(format: "%.2f", plan.crossHostHops)), hosts used: \(plan.hostsUsed)")
        for w in plan.warnings { print("warning: \(w)") }
        for (chain, why) in plan.unplaced.sorted(by: { $0.key < $1.key }) { print("pending: \(chain): \(why)") }
    }
}

/// Prints rows as a table with aligned columns.
func printTable(_ header: [String], _ rows: [[String]]) {
    var widths = header.map(\.count)
    for r in rows { for (i, c) in r.enumerated() where i < widths.count { widths[i] = max(widths[i], c.count) } }
    for r in [header] + rows {
        print(r.enumerated().map { i, c in i == r.count - 1 ? c : c.padding(toLength: widths[i], withPad: " ", startingAt: 0) }.joined(separator: "  "))
    }
}

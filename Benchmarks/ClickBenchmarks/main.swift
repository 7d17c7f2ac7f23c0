#if canImport(Glibc)
import Glibc
#endif
import ClickLanguage

// The figures of Benchmarks/README.md. Release build: `make bench`; `clickos-bench WORD`
// runs only the groups whose name contains WORD (language, pipeline, router, filter,
// rewriter, memif, chain, boot, memory, latency, density, messaging, agent, vxlan, placement, planner, xenstore; `density N` boots N
// VMs). `clickos-bench vs-click PATH_TO_CLICK [CLICK_CONF_DIR]` runs Click's configurations
// under Click and here, alternating (VersusClick.swift).

/// True if the group should run.
func selected(_ group: String) -> Bool {
    CommandLine.arguments.count < 2 || group.contains(CommandLine.arguments[1])
}

/// 10,000 top-level elements: declarations with configuration strings, chains of ten,
/// ports, a `define` substituted everywhere.
func flatConfiguration(elements: Int) -> String {
    var text = "define($CAP 1000, $RATE 10kbps);\n"
    for i in 0..<elements {
        switch i % 5 {
        case 0: text += "e\(i) :: Queue($CAP);\n"
        case 1: text += "e\(i) :: IPFilter(allow tcp dst port \(i % 65536), deny all);\n"
        case 2: text += "e\(i) :: Counter;\n"
        case 3: text += "e\(i) :: BandwidthShaper($RATE);\n"
        default: text += "e\(i) :: Paint(\(i % 256));\n"
        }
    }
    var i = 0
    while i + 1 < elements {
        let end = min(i + 10, elements)
        text += (i..<end).map { "e\($0)" }.joined(separator: " -> ") + ";\n"
        i = end
    }
    return text
}

/// About 10,000 elements through compounds: a class of five elements with formals,
/// instantiated 2,000 times and chained (10,002 elements).
func compoundConfiguration(instances: Int) -> String {
    var text = """
        elementclass Stage { $port, RATE $r |
            input -> cl :: Classifier(12/0800, -);
            cl [0] -> Strip(14) -> f :: IPFilter(allow dst port $port, deny all) -> Unstrip(14) -> output;
            cl [1] -> Shaper($r) -> output;
        }

        """
    for i in 0..<instances {
        text += "s\(i) :: Stage(\(i % 65536), RATE \(i)kbps);\n"
    }
    text += "Idle -> " + (0..<instances).map { "s\($0)" }.joined(separator: " -> ") + " -> Discard;\n"
    return text
}

if CommandLine.arguments.count > 1 && CommandLine.arguments[1] == "vs-click" {
    benchmarkVersusClick(arguments: Array(CommandLine.arguments.dropFirst(2)))
    exit(0)
}

if selected("language") {
let flatText = flatConfiguration(elements: 10_000)
let compoundText = compoundConfiguration(instances: 2_000)

var results: [Measurement] = []

results.append(measure("parse+flatten 10,000 top-level elements") {
    let log = DiagnosticLog()
    let flat = ClickConfiguration.flatten(flatText, log: log)
    precondition(!log.hasErrors && flat.elements.count == 10_000)
})
results.append(measure("parse+flatten 2,000 compound instances (10,002 elements)") {
    let log = DiagnosticLog()
    let flat = ClickConfiguration.flatten(compoundText, log: log)
    precondition(!log.hasErrors && flat.elements.count == 10_002, log.text)
})
let flat = ClickConfiguration.flatten(flatText, log: DiagnosticLog())
results.append(measure("unparse 10,000 elements (-qo- text)") {
    precondition(!flat.unparse().isEmpty)
})

for r in results { report(r.line) }
}

// The Click runtime (issue 3).
if selected("pipeline") {
let n = 50_000_000
report(packetRate("InfiniteSource(LENGTH 64) -> Counter -> Discard",
                 config: "InfiniteSource(LENGTH 64, LIMIT \(n), BURST 64, STOP true) -> Counter -> Discard", packets: n))
report(packetRate("InfiniteSource -> Queue -> Unqueue -> Counter -> Discard (64 B)",
                 config: "InfiniteSource(LENGTH 64, LIMIT \(n / 5), BURST 64, STOP true) -> Queue(1024) -> Unqueue(BURST 64) -> Counter -> Discard", packets: n / 5))
}
if selected("router") { report(ipRouterRate(packetsPerInterface: 5_000_000)) }
if selected("filter") { report(ipFilterRate(packets: 10_000_000)) }
if selected("rewriter") { report(ipRewriterRate(flows: 100_000, packets: 5_000_000)) }

// VMs (issue 4): real clickos-vm processes.
if selected("memif") { benchmarkMemifLinks() }
if selected("chain") { benchmarkChains() }
if selected("boot") { benchmarkBoot() }
if selected("memory") { benchmarkMemory() }
if selected("latency") { benchmarkLatency() }
if selected("density") { benchmarkDensity() }

// Control messages (issue 5).
if selected("messaging") { benchmarkMessaging() }

// The agent (issue 12): a real clickos-agent beside this benchmark.
if selected("agent") { benchmarkAgent() }
if selected("vxlan") { benchmarkVXLAN() }

// The planner (issue 13).
if selected("placement") { benchmarkPlacement() }
if selected("planner") { benchmarkPlannerDaemon() }

// ClickOS's xenstore control (issue 18; needs the Xen trait).
if selected("xenstore") { benchmarkXenstore() }

#if canImport(Glibc)
import Glibc
#endif
import Foundation

// `clickos-bench vs-click PATH_TO_CLICK [CLICK_CONF_DIR]` (issue 17): Click configurations,
// unchanged, run by Click's userlevel driver and by `clickos-vm` in the same run,
// alternating, each run timed from process start to exit; medians and the ratio.
// CLICK_CONF_DIR is the `conf/` of a Click checkout (default: `../conf` beside the
// binary's directory, as a build inside the checkout leaves it, then
// `../share/click/conf`); its device-free files that stop by themselves join the set.
// ROUNDS (environment, default 5) timed rounds follow one warm-up round.

/// One configuration of the comparison: a name and its text.
struct VersusClickCase {
    let name: String
    let text: String
}

/// The configurations from the issue, written out, then Click's own device-free ones.
func versusClickCases(confDirectory: String?) -> [VersusClickCase] {
    var cases = [
        VersusClickCase(name: "InfiniteSource(LIMIT 10000000, STOP true) -> Counter -> Discard",
                        text: "InfiniteSource(LIMIT 10000000, STOP true) -> c :: Counter -> Discard"),
        VersusClickCase(name: "InfiniteSource(LIMIT 3000000, STOP true) -> Queue -> Unqueue -> Counter -> Discard",
                        text: "InfiniteSource(LIMIT 3000000, STOP true) -> Queue -> Unqueue -> c :: Counter -> Discard"),
    ]
    guard let directory = confDirectory else { return cases }
    // fake-iprouter's sources say LIMIT 600000; the issue runs it ten times longer.
    if let text = try? String(contentsOfFile: directory + "/fake-iprouter.click", encoding: .utf8) {
        let longer = text.replacingOccurrences(of: #"LIMIT [0-9]+"#, with: "LIMIT 6000000", options: .regularExpression)
        cases.append(VersusClickCase(name: "conf/fake-iprouter.click (LIMIT 6000000)", text: longer))
    }
    // Device-free and stopping by themselves (STOP true or DriverManager), as Click ships them.
    for file in ["fake-iprouter.click", "test2.click", "test.click", "schedorder1.click"] {
        if let text = try? String(contentsOfFile: directory + "/" + file, encoding: .utf8) {
            cases.append(VersusClickCase(name: "conf/\(file)", text: text))
        }
    }
    return cases
}

/// Runs `executable config` to its end with output discarded; the wall time in seconds,
/// nil if it failed. posix_spawn and waitpid: Foundation's Process polls for the exit,
/// which would add up to 50 ms to every run.
func timedRun(_ executable: String, _ configPath: String) -> Double? {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
    let argv: [UnsafeMutablePointer<CChar>?] = [strdup(executable), strdup(configPath), nil]
    defer { for a in argv { free(a) } }
    var pid: pid_t = 0
    let start = nowSeconds()
    guard posix_spawn(&pid, executable, &actions, nil, argv, environ) == 0 else { return nil }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    let elapsed = nowSeconds() - start
    // Exited normally with status 0: the low 7 bits hold no signal, the next 8 no status.
    return status & 0xFFFF == 0 ? elapsed : nil
}

func benchmarkVersusClick(arguments: [String]) {
    guard let click = arguments.first, FileManager.default.isExecutableFile(atPath: click) else {
        report("usage: clickos-bench vs-click PATH_TO_CLICK [CLICK_CONF_DIR]  (Click's userlevel driver, built from kohler/click by its README)")
        exit(2)
    }
    let binDirectory = (click as NSString).deletingLastPathComponent
    let conf = arguments.count > 1 ? arguments[1]
        : [binDirectory + "/../conf", binDirectory + "/../share/click/conf"].first { FileManager.default.fileExists(atPath: $0 + "/fake-iprouter.click") }
    if conf == nil { report("vs-click: no Click conf/ directory found beside \(click); give it as the second argument to add Click's configurations") }
    let rounds = Int(ProcessInfo.processInfo.environment["ROUNDS"] ?? "") ?? 5
    let ours = siblingVM()
    let directory = NSTemporaryDirectory() + "clickos-vs-click-\(getpid())"
    try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }

    var slower: [String] = []
    for (index, c) in versusClickCases(confDirectory: conf).enumerated() {
        let path = "\(directory)/\(index).click"
        guard (try? c.text.write(toFile: path, atomically: true, encoding: .utf8)) != nil else { continue }
        var clickTimes: [Double] = []
        var ourTimes: [Double] = []
        var failed: [String] = []
        for round in 0...rounds {
            // Alternate which goes first, so drift of the machine favours neither.
            let order = round % 2 == 0 ? [click, ours] : [ours, click]
            for engine in order {
                guard let t = timedRun(engine, path) else {
                    failed.append(engine == click ? "Click" : "clickos-vm")
                    continue
                }
                if round > 0 { engine == click ? clickTimes.append(t) : ourTimes.append(t) }
            }
        }
        if !failed.isEmpty {
            report("\(c.name): failed (\(Set(failed).sorted().joined(separator: ", ")) exited with an error)")
            continue
        }
        let (a, b) = (median(clickTimes), median(ourTimes))
        func ms(_ x: Double) -> String { String(format: "%.1f", x * 1e3) }
        func list(_ xs: [Double]) -> String { xs.map(ms).joined(separator: " ") }
        report("\(c.name): Click \(ms(a)) ms (\(list(clickTimes))), clickos-vm \(ms(b)) ms (\(list(ourTimes))), \(String(format: "%.2f", a / b))x")
        if b > a { slower.append(c.name) }
    }
    report(slower.isEmpty ? "vs-click: no configuration slower than Click" : "vs-click: slower than Click: \(slower.joined(separator: "; "))")
}

#if Xen
import Foundation
import Synchronization
import VMHost
import VMInterface
import XenstoreTestDaemon

/// ClickOS's xenstore control (issue 18), through the real libxenstore, against the tests'
/// xenstore daemon (no hypervisor here), with real `clickos-vm --xenstore` guests (built
/// with the Xen trait, beside this benchmark): install + start of one router until it
/// answers; a handler read round trip; 200 routers installed and started at once from 20
/// connections into four guests, until every one answers.
func benchmarkXenstore() {
    let guests: [UInt32] = [1, 2, 3, 4]
    do {
        let daemon = try TestXenstored(guests: guests)
        defer { daemon.stop() }
        var processes: [Process] = []
        defer {
            for p in processes where p.isRunning { kill(p.processIdentifier, SIGKILL) }
        }
        let dom0 = try XenstoreConnection(socketPath: daemon.socketPath)
        for g in guests {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: siblingVM())
            p.arguments = ["--xenstore"]
            p.environment = ["XENSTORED_PATH": daemon.socketPath(domain: g)]
            p.standardError = FileHandle.nullDevice
            try p.run()
            processes.append(p)
            while try dom0.read("/local/domain/\(g)/\(ClickOSXenstoreLayout.root)") == nil { usleep(2_000) }
        }
        let control = ClickOSXenstoreControl(store: dom0)
        let config = "InfiniteSource(LIMIT 1, STOP false) -> c :: Counter -> Discard;"

        @Sendable func answered(_ c: ClickOSXenstoreControl, _ domain: UInt32, _ router: Int) {
            while (try? c.read(domain: domain, router: router, handler: "c.count", timeout: 1)) != "1" { usleep(100) }
        }
        report(measure("xenstore: install + start one router until it answers a read", warmup: 2, repetitions: 15) {
            guard let id = try? control.install(domain: 1, configuration: config, name: "one") else { fatalError("install failed") }
            try? control.start(domain: 1, router: id)
            answered(control, 1, id)
            try? control.stop(domain: 1, router: id)
            try? control.remove(domain: 1, router: id, force: true)
        }.line)

        let plain = measure("xenstore: 1000 plain reads of one node (the daemon's round trip)", warmup: 1, repetitions: 9) {
            for _ in 0..<1000 { _ = try? dom0.read("/local/domain/1/name") }
        }
        report(plain.line + " = \(format3(Measurement.milliseconds(plain.median))) µs per read")

        guard let id = try? control.install(domain: 2, configuration: config, name: "reads") else { fatalError("install failed") }
        try control.start(domain: 2, router: id)
        answered(control, 2, id)
        let reads = measure("xenstore: 100 handler reads (round trips), one after another", warmup: 1, repetitions: 9) {
            for _ in 0..<100 { _ = try? control.read(domain: 2, router: id, handler: "c.count") }
        }
        report(reads.line + " = \(format3(Measurement.milliseconds(reads.median) * 10)) µs per read")
        try control.stop(domain: 2, router: id)
        try control.remove(domain: 2, router: id, force: true)

        // 200 at once: 20 connections, 10 routers each, 50 per guest.
        let before = daemon.conflicts
        let clock = ContinuousClock()
        let started = clock.now
        let failures = Atomic<Int>(0)
        // 20 threads, not concurrentPerform: that would run two at a time on two cores.
        let group = DispatchGroup()
        for worker in 0..<20 {
          group.enter()
          Thread {
            defer { group.leave() }
            guard let c = try? ClickOSXenstoreControl(store: XenstoreConnection(socketPath: daemon.socketPath)) else {
                failures.add(10, ordering: .relaxed)
                return
            }
            var mine: [(UInt32, Int)] = []
            for n in 0..<10 {
                let domain = guests[(worker * 10 + n) % guests.count]
                guard let r = try? c.install(domain: domain, configuration: config, name: "w\(worker)-\(n)"), (try? c.start(domain: domain, router: r)) != nil else {
                    failures.add(1, ordering: .relaxed)
                    continue
                }
                mine.append((domain, r))
            }
            for (domain, r) in mine { answered(c, domain, r) }
          }.start()
        }
        group.wait()
        let elapsed = Measurement.milliseconds(clock.now - started)
        var total = 0
        for g in guests { total += (try? control.routers(domain: g).count) ?? 0 }
        report("xenstore: 200 routers installed and started at once (20 connections, 4 guests) until all answer: \(format3(elapsed)) ms; "
               + "\(total) routers present, \(failures.load(ordering: .relaxed)) failed, \(daemon.conflicts - before) transaction conflicts retried")
    } catch {
        report("xenstore: \(error)")
    }
}
#else
func benchmarkXenstore() {
    report("xenstore: not measured: this clickos-bench was built without the Xen trait (swift build -c release --traits Xen --scratch-path .build-xen --product clickos-bench)")
}
#endif

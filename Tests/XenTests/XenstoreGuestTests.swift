import Testing

#if Xen
import Foundation
import VMHost
import VMInterface
import XenstoreTestDaemon

/// `clickos-vm --xenstore` as a ClickOS guest of domain 7, connected to the tests' xenstore
/// daemon with that domain's rights, driven by the host tool through the real libxenstore.
@Suite struct XenstoreGuestTests {
    static let guest: UInt32 = 7

    /// The built `clickos-vm` beside the test bundle (built with the Xen trait).
    static let vmExecutable: String = {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? ""
        return (exe as NSString).deletingLastPathComponent + "/clickos-vm"
    }()

    /// A guest booted against `daemon`, killed when the test ends.
    final class Guest {
        let process = Process()
        let errorFile: String
        init(_ daemon: TestXenstored, domain: UInt32 = XenstoreGuestTests.guest) throws {
            errorFile = daemon.directory + "/guest\(domain).stderr"
            _ = FileManager.default.createFile(atPath: errorFile, contents: nil)
            process.executableURL = URL(fileURLWithPath: XenstoreGuestTests.vmExecutable)
            process.arguments = ["--xenstore"]
            process.environment = ["XENSTORED_PATH": daemon.socketPath(domain: domain), "PATH": "/usr/bin:/bin"]
            process.standardError = FileHandle(forWritingAtPath: errorFile)
            try process.run()
            // Up once it has marked its domain.
            let dom0 = try XenstoreConnection(socketPath: daemon.socketPath)
            let deadline = Date().addingTimeInterval(10)
            while try dom0.read("/local/domain/\(domain)/\(ClickOSXenstoreLayout.root)") == nil {
                if Date() > deadline || !process.isRunning { throw VMError("the guest did not mark its domain: \(stderr)") }
                usleep(5_000)
            }
        }
        /// What the guest wrote to its standard error so far.
        var stderr: String { (try? String(contentsOfFile: errorFile, encoding: .utf8)) ?? "" }
        deinit {
            // SIGKILL: children of the test runner's threads inherit a blocked SIGTERM.
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
        }
    }

    static func setUp() throws -> (TestXenstored, Guest, ClickOSXenstoreControl) {
        let daemon = try TestXenstored(guests: [guest])
        let vm = try Guest(daemon)
        return (daemon, vm, ClickOSXenstoreControl(store: try XenstoreConnection(socketPath: daemon.socketPath)))
    }

    /// Reads until `expected` comes back (a router starts asynchronously).
    static func eventually(_ control: ClickOSXenstoreControl, router: Int, _ handler: String, is expected: String) throws -> String {
        let deadline = Date().addingTimeInterval(10)
        var last = "", failure = ""
        while Date() < deadline {
            do {
                last = try control.read(domain: guest, router: router, handler: handler, timeout: 2)
                if last == expected { return last }
            } catch {
                failure = error.message
            }
            usleep(10_000)
        }
        // What it saw instead, for the failing expectation to show.
        return "\(last) (last error: \(failure))"
    }

    @Test func installStartReadWriteStop() throws {
        let (daemon, vm, control) = try Self.setUp()
        defer { daemon.stop() }
        let id = try control.install(domain: Self.guest, configuration: "InfiniteSource(LIMIT 1000, STOP false) -> c :: Counter -> Discard;", name: "count")
        try control.start(domain: Self.guest, router: id)
        #expect(try Self.eventually(control, router: id, "c.count", is: "1000") == "1000")
        // The answer sits where ClickOS's tools look, with lock = 0.
        let dom0 = try XenstoreConnection(socketPath: daemon.socketPath)
        #expect(try dom0.read("/local/domain/7/data/clickos/0/elements/c/count") == "1000")
        #expect(try dom0.read("/local/domain/7/data/clickos/0/elements/c/count/lock") == "0")

        try control.write(domain: Self.guest, router: id, handler: "c.reset", value: "")
        #expect(try Self.eventually(control, router: id, "c.count", is: "0") == "0")
        do {
            _ = try control.read(domain: Self.guest, router: id, handler: "c.nothing")
            Issue.record("a missing handler was read")
        } catch {
            #expect(error.message == "no 'nothing' handler for element 'c'")
        }
        try control.stop(domain: Self.guest, router: id)
        var stopped = false
        for _ in 0..<200 where !stopped {
            do {
                _ = try control.read(domain: Self.guest, router: id, handler: "c.count", timeout: 2)
                usleep(10_000)
            } catch {
                stopped = error.message == "router 0 is not running"
            }
        }
        #expect(stopped)
        // Started again from the same chunks: a fresh router.
        try control.start(domain: Self.guest, router: id)
        #expect(try Self.eventually(control, router: id, "c.count", is: "1000") == "1000")
        #expect(vm.process.isRunning, "\(vm.stderr)")
    }

    @Test func aBadConfigurationSaysWhyInXenstore() throws {
        let (daemon, vm, control) = try Self.setUp()
        defer { daemon.stop() }
        let id = try control.install(domain: Self.guest, configuration: "c :: Counter -> Nonexistent;", name: "bad")
        try control.start(domain: Self.guest, router: id)
        var entry = try control.routers(domain: Self.guest).first
        for _ in 0..<500 where entry?.status != "Error" {
            usleep(10_000)
            entry = try control.routers(domain: Self.guest).first
        }
        #expect(entry?.status == "Error")
        #expect(entry?.error == "router0:1: undeclared element 'Nonexistent'", "\(entry?.error ?? "no error") / \(vm.stderr)")
        #expect(vm.process.isRunning)
        // A good router beside it still runs.
        let good = try control.install(domain: Self.guest, configuration: "InfiniteSource(LIMIT 7, STOP false) -> c :: Counter -> Discard;", name: "good")
        try control.start(domain: Self.guest, router: good)
        #expect(try Self.eventually(control, router: good, "c.count", is: "7") == "7")
    }

    @Test func aConfigurationOf100kBRunsAndCompoundMembersAreAddressable() throws {
        let (daemon, vm, control) = try Self.setUp()
        defer { daemon.stop() }
        defer { if !vm.process.isRunning { Issue.record("the guest ended: \(vm.stderr)") } }
        let (config, last) = XenstoreControlTests.longConfiguration(
            "elementclass Two { input -> a :: Counter -> output }\nsrc :: InfiniteSource(LIMIT 5, STOP false) -> t :: Two -> Discard;\n")
        let id = try control.install(domain: Self.guest, configuration: config, name: "big")
        try control.start(domain: Self.guest, router: id)
        // The last element of the last chunk exists: the configuration arrived whole.
        #expect(try Self.eventually(control, router: id, "rule\(last).count", is: "0") == "0", "\(vm.stderr)")
        // ClickOS's own guest split at the first '/'; compound members are reachable here.
        #expect(try Self.eventually(control, router: id, "t/a.count", is: "5") == "5")
    }

    /// What clickos-ctl (sysml/clickos-ctl) writes, step by step, in its own words:
    /// `config_name`, `control` and `elements` made as directories, status `Stopped`, the
    /// chunks, then `Running` and `Stopped` again.
    @Test func theWayClickOSCtlWritesDrivesThisGuestToo() throws {
        let (daemon, vm, control) = try Self.setUp()
        defer { daemon.stop() }
        let store = try XenstoreConnection(socketPath: daemon.socketPath)
        let base = "/local/domain/7/data/clickos/0"
        try store.transaction { t throws(XenstoreError) in
            for e in ["/config_name", "/control", "/elements"] { try store.mkdir(base + e, t) }
            try store.write(base + "/status", "Stopped", t)
            try store.write(base + "/config/0", "InfiniteSource(LIMIT 4, STOP false) -> c :: Coun", t)
            try store.write(base + "/config/1", "ter -> Discard;", t)
        }
        try store.write(base + "/status", "Running")
        #expect(try Self.eventually(control, router: 0, "c.count", is: "4") == "4", "\(vm.stderr)")
        try store.write(base + "/status", "Stopped")
        var stopped = false
        for _ in 0..<200 where !stopped {
            if case .none = try? control.read(domain: Self.guest, router: 0, handler: "c.count", timeout: 2) { stopped = true } else { usleep(10_000) }
        }
        #expect(stopped)
    }

    /// Hostile or broken nodes under the guest's root change nothing and stop nothing: bad
    /// router ids, an unknown status, requests with too few parts, a read of a router that
    /// does not run, a huge handler path, bytes that are not UTF-8.
    @Test func hostileNodesDoNotHurtTheGuest() throws {
        let (daemon, vm, control) = try Self.setUp()
        defer { daemon.stop() }
        let store = try XenstoreConnection(socketPath: daemon.socketPath)
        let root = "/local/domain/7/data/clickos"
        let junk: [(String, String)] = [
            ("\(root)/abc/status", "Running"), ("\(root)/99999999999999999999/status", "Running"), ("\(root)/-1/status", "Running"),
            ("\(root)/64/status", "Running"), ("\(root)/5/status", "Bogus"), ("\(root)/5/status", "Running"),
            ("\(root)/6/control/read/x", "1"), ("\(root)/6/control/read", "1"), ("\(root)/7/control/read/c/count", "1"),
            ("\(root)/8/elements/c", "1"), ("\(root)/8/elements/" + String(repeating: "e/", count: 400) + "h", "1"),
            ("\(root)/9/elements/c/reset", String(repeating: "\u{FFFD}x", count: 600)),
        ]
        for (path, value) in junk { try store.write(path, value) }
        // Router 5 had no configuration: it runs empty, or says why; the guest stays.
        usleep(300_000)
        #expect(vm.process.isRunning, "\(vm.stderr)")
        #expect(try store.read("\(root)/7/control/read/c/count") == "1")
        // A good router afterwards works.
        let id = try control.install(domain: Self.guest, configuration: "InfiniteSource(LIMIT 2, STOP false) -> c :: Counter -> Discard;", name: "after")
        try control.start(domain: Self.guest, router: id)
        #expect(try Self.eventually(control, router: id, "c.count", is: "2") == "2", "\(vm.stderr)")
    }

    @Test func livenessTellsServingFromNotStartedFromSilent() throws {
        let (daemon, vm, control) = try Self.setUp()
        defer { daemon.stop() }
        let id = try control.install(domain: Self.guest, configuration: "Idle -> Discard;", name: "idle")
        #expect(try control.liveness(domain: Self.guest, router: id, timeout: 2) == .notRunning)
        try control.start(domain: Self.guest, router: id)
        var seen = ClickOSXenstoreControl.Liveness.notRunning
        for _ in 0..<40 where seen != .serving { seen = try control.liveness(domain: Self.guest, router: id, timeout: 0.25) }
        #expect(seen == .serving)
        // Nobody home: the guest killed, the domain still marked.
        kill(vm.process.processIdentifier, SIGKILL)
        vm.process.waitUntilExit()
        #expect(try control.liveness(domain: Self.guest, router: id, timeout: 0.3) == .silent)
        // A refused configuration ends the question with the guest's words.
        let bad = try control.install(domain: Self.guest, configuration: "x", name: "bad")
        try control.setStatus(domain: Self.guest, router: bad, .error)
        #expect(throws: VMError.self) { try control.liveness(domain: Self.guest, router: bad, timeout: 0.3) }
    }

    @Test func aRestartedGuestRunsTheRoutersItFinds() throws {
        let daemon = try TestXenstored(guests: [Self.guest])
        defer { daemon.stop() }
        let control = ClickOSXenstoreControl(store: try XenstoreConnection(socketPath: daemon.socketPath))
        var vm: Guest? = try Guest(daemon)
        let id = try control.install(domain: Self.guest, configuration: "InfiniteSource(LIMIT 5, STOP false) -> c :: Counter -> Discard;", name: "kept")
        try control.start(domain: Self.guest, router: id)
        #expect(try Self.eventually(control, router: id, "c.count", is: "5") == "5")
        vm = nil  // killed
        // A new guest on the same domain finds router `id` Running and starts it.
        vm = try Guest(daemon)
        // (A read is answered only by a running router: "router N is not running" else.)
        #expect(try Self.eventually(control, router: id, "c.count", is: "5") == "5", "\(vm?.stderr ?? "")")
        _ = vm
    }

    @Test func routersOfOneGuestAreIndependent() throws {
        let (daemon, vm, control) = try Self.setUp()
        defer { daemon.stop() }
        defer { if !vm.process.isRunning { Issue.record("the guest ended: \(vm.stderr)") } }
        let a = try control.install(domain: Self.guest, configuration: "InfiniteSource(LIMIT 3, STOP false) -> c :: Counter -> Discard;", name: "a")
        let b = try control.install(domain: Self.guest, configuration: "InfiniteSource(LIMIT 9, STOP false) -> c :: Counter -> Discard;", name: "b")
        try control.start(domain: Self.guest, router: a)
        try control.start(domain: Self.guest, router: b)
        #expect(try Self.eventually(control, router: a, "c.count", is: "3") == "3")
        #expect(try Self.eventually(control, router: b, "c.count", is: "9") == "9")
        try control.stop(domain: Self.guest, router: a)
        try control.remove(domain: Self.guest, router: a)
        #expect(try Self.eventually(control, router: b, "c.count", is: "9") == "9")
    }
}
#else
/// Without the Xen trait, `clickos-vm --xenstore` says it cannot serve.
@Suite struct XenstoreGuestTests {
    @Test(.disabled("built without the Xen trait: `make xen-test` builds with --traits Xen and runs these"))
    func guestProtocol() {}
}
#endif

import Foundation
import Testing

/// Runs the built `clickos-vm` as a process, the way scripts written for `click` do.
@Suite struct DriverTests {
    static var binary: URL? {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        for path in [".build/debug/clickos-vm", ".build/release/clickos-vm"] {
            let url = root.appendingPathComponent(path)
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        return nil
    }

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    func run(_ arguments: [String], stdin: String? = nil) throws -> Result {
        let binary = try #require(Self.binary, "clickos-vm is not built; run `swift build` first")
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        let out = Pipe(), err = Pipe(), input = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input
        try process.run()
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try input.fileHandleForWriting.close()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
    }

    /// SIGINT and SIGTERM stop a running router gracefully: cleanup runs and -h handlers
    /// print; an idle router (asleep in poll) stops as promptly as one that never sleeps.
    @Test(arguments: ["RatedSource(RATE 1000) -> c :: Counter -> Discard", "Idle -> c :: Counter -> Discard",
                      "InfiniteSource -> c :: Counter -> Discard", "InfiniteSource -> Queue -> Unqueue -> c :: Counter -> Discard"],
          [SIGINT, SIGTERM])
    func interruptStopsGracefully(_ config: String, _ signal: Int32) throws {
        let binary = try #require(Self.binary, "clickos-vm is not built; run `swift build` first")
        let process = Process()
        process.executableURL = binary
        process.arguments = ["-e", config, "-h", "c.count"]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = Pipe()
        try process.run()
        Thread.sleep(forTimeInterval: 0.7)
        #expect(process.isRunning)
        let pid = process.processIdentifier
        kill(pid, signal)
        let started = Date()
        // A router that ignores the signal would hang this test: it is killed after 3 s
        // and the expectations below then fail.
        DispatchQueue.global().asyncAfter(deadline: .now() + 3) { kill(pid, SIGKILL) }
        let o = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(Date().timeIntervalSince(started) < 2)
        #expect(process.terminationReason == .exit && process.terminationStatus == 0)
        let count = Int(String(decoding: o, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(count != nil, "stdout: \(String(decoding: o, as: UTF8.self))")
        if config.hasPrefix("Idle") { #expect(count == 0) } else { #expect((count ?? 0) > 100) }
    }

    @Test func expressionToFlatOutput() throws {
        let r = try run(["-qo-", "-e", "InfiniteSource -> c :: Counter -> Discard"])
        #expect(r.status == 0)
        #expect(r.stdout == "InfiniteSource@1 :: InfiniteSource;\nc :: Counter;\nDiscard@3 :: Discard;\n\nInfiniteSource@1 -> c\n    -> Discard@3;\n")
        #expect(r.stderr.isEmpty)
    }

    @Test func fileArgumentDefinitionsAndOutputFile() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("clickos-driver-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let config = dir.appendingPathComponent("q.click")
        try "define($N 10);\nIdle -> q :: Queue($N) -> Discard;".write(to: config, atomically: true, encoding: .utf8)
        let output = dir.appendingPathComponent("flat.click")
        let r = try run(["-q", "-o", output.path, "N=42", config.path])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try String(contentsOf: output, encoding: .utf8).contains("q :: Queue(42);\n"))
        let f = try run(["-f", config.path, "-qo-"])
        #expect(f.stdout.contains("q :: Queue(10);\n"))
    }

    @Test func standardInput() throws {
        let r = try run(["-qo-"], stdin: "Idle -> Discard;")
        #expect(r.status == 0)
        #expect(r.stdout.contains("Idle@1 -> Discard@2;"))
    }

    @Test func badConfigurationFailsWithEveryErrorOnStderr() throws {
        let r = try run(["-qo-", "-e", "a :: Idle;\na :: Idle;\nb -> [x] c;"])
        #expect(r.status == 1)
        #expect(r.stdout.isEmpty)
        #expect(r.stderr.contains("config:2: redeclaration of element 'a'"))
        #expect(r.stderr.contains("config:1: element 'a' previously declared here"))
        #expect(r.stderr.contains("config:3: syntax error: port number should be integer"))
    }

    @Test func flattenOnlyAcceptsUnknownClasses() throws {
        let r = try run(["--flatten", "-o", "-", "-e", "a :: Frob -> b :: Blah"])
        #expect(r.status == 0)
        #expect(r.stdout == "a :: Frob;\nb :: Blah;\n\na -> b;\n")
        let checked = try run(["-q", "-e", "a :: Frob -> b :: Blah"])
        #expect(checked.status == 1)
        #expect(checked.stderr.contains("config:1: unknown element class 'Frob'"))
    }

    @Test func docPrintsAnElementsPage() throws {
        let r = try run(["--doc", "Counter"])
        #expect(r.status == 0)
        #expect(r.stdout.hasPrefix("Counter([*keywords* COUNT_CALL, BYTE_COUNT_CALL])\n\n"))
        #expect(r.stdout.contains("Handlers: `count`"))
        let alias = try run(["--doc", "SetECN"])
        #expect(alias.stdout.hasPrefix("SetIPECN("))
        let unknown = try run(["--doc", "Frob"])
        #expect(unknown.status == 1)
        #expect(unknown.stderr == "clickos-vm: no element class named 'Frob'\n")
    }

    @Test func missingFileAndBadOptions() throws {
        let missing = try run(["-q", "/nonexistent/x.click"])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("/nonexistent/x.click: No such file or directory"))
        let twice = try run(["-e", "Idle", "-f", "x"])
        #expect(twice.status == 1)
        #expect(twice.stderr.contains("router configuration specified twice"))
        let unknown = try run(["-Z"])
        #expect(unknown.status == 1)
        #expect(unknown.stderr.contains("unrecognized option '-Z'"))
    }

    /// `-q` with VM ports and a stats page initializes everything, then tears it down and
    /// exits 0: the ports' last counter writes (link down) land in a page still mapped, and
    /// neither the sockets nor the page are left behind.
    @Test func quitWithPortsAndStatsPageExitsCleanly() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("clickos-driver-\(getpid())-\(UInt32.random(in: 0...UInt32.max))").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try run(["-q", "-e", "FromDevice(0) -> ToDevice(1);", "--port", "0=memif:server:\(dir)/a.sock",
                         "--port", "1=memif:client:\(dir)/b.sock", "--stats", "\(dir)/stats", "--control", "\(dir)/control.sock"])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        #expect(r.stderr.isEmpty)
        #expect(!FileManager.default.fileExists(atPath: "\(dir)/a.sock"))
    }

    /// Click's conf/schedorder1.click: three tasks with 1, 2 and 3 times the default tickets
    /// (ScheduleInfo) run in the stride order Click 2.1's userlevel driver prints, exactly,
    /// including the change when the LIMIT 10 task drops out.
    @Test func scheduleInfoGivesClicksStrideOrder() throws {
        let config = """
            s1 :: SchedOrderTest(1, SIZE 100, STOP true);
            s2 :: SchedOrderTest(2, SIZE 100, LIMIT 10);
            s3 :: SchedOrderTest(3, SIZE 100);
            ScheduleInfo(s1 1, s2 2, s3 3);
            DriverManager(wait_stop, print s1.order, stop);
            """
        let r = try run(["-e", config])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        let click = "1 3 2 3 3 1 2 3 2 3 3 1 2 3 2 3 3 1 2 3 2 3 3 1 2 3 2 3 3 1 "
            + "2 3 3 3 1 3 3 3 1 3 3 3 1 3 3 3 1 3 3 3 1 3 3 3 1 3 3 3 1 3 3 3 1 3 3 3 1 3 3 3 1 3 3 3 1 3 3 3 1 3 3 3 1 3 3 3 1 3 3 3 1 3 3 3 1 3 3 3 3 1\n"
        #expect(r.stdout == click)
        let tickets = try run(["-q", "-e", "a :: SchedOrderTest(1); ScheduleInfo(a 40)", "-h", "a.tickets"])
        #expect(tickets.stderr.contains("ScheduleInfo too high; reduced to 32"), "\(tickets.stderr)")
        #expect(tickets.stdout == "32768\n")
    }

    /// `-o` writes each element's configuration as the element normalised it, as Click's
    /// configuration() does: StrideSched's tickets clamped (with Click's warning), RED's
    /// queues and stability filled in.
    @Test func outputShowsNormalisedConfigurations() throws {
        let r = try run(["-q", "-o", "-", "-e",
                         "Idle -> [0] s :: StrideSched(3, 100000); Idle -> [1] s; s -> Discard; Idle -> q :: Queue -> r :: RED(10,100,.5) -> Discard"])
        #expect(r.status == 0)
        #expect(r.stderr == "config:1: While configuring 's :: StrideSched':\n  warning: input 1's tickets reduced to 32768\n")
        #expect(r.stdout.contains("s :: StrideSched(3, 32768);\n"), "\(r.stdout)")
        #expect(r.stdout.contains("r :: RED(10, 100, 0.5, QUEUES q, STABILITY 4);\n"), "\(r.stdout)")
    }

    /// Click's timer-02: TimerTest timers fire in expiry order on simulated time, a timer
    /// rescheduled through `schedule_after 0` first.
    @Test func timersFireInExpiryOrder() throws {
        let r = try run(["--simtime", "-e", """
            t1 :: TimerTest(DELAY .03s);
            t2 :: TimerTest(DELAY .02s);
            t3 :: TimerTest(DELAY .01s);
            DriverManager(write t1.schedule_after 0, wait .05s, stop);
            """])
        #expect(r.status == 0)
        let lines = r.stderr.split(separator: "\n").map(String.init)
        #expect(lines.map { $0.split(separator: " ").dropFirst().joined(separator: " ") }
            == ["t1 :: TimerTest fired", "t3 :: TimerTest fired", "t2 :: TimerTest fired"], "\(r.stderr)")
        let times = lines.compactMap { Double($0.split(separator: ":").first ?? "") }
        #expect(times.count == 3)
        if times.count == 3 {
            #expect(abs(times[1] - times[0] - 0.01) < 0.001 && abs(times[2] - times[0] - 0.02) < 0.001, "\(times)")
        }
    }

    /// Script(TYPE SIGNAL ...), as Click's Script-signal tests: signals before the script
    /// runs count once; a script that ends listens again; after `exit` the signal has its
    /// default effect (USR1 kills the process).
    @Test func signalScriptsRunAndRearm() throws {
        let ended = try run(["-e", """
            Script(print "K 1", set y $(kill USR1 $$), print "K 2", set y $(kill USR1 $$), wait 0.05s,
                   set y $(kill USR1 $$), wait 0.05s, stop);
            Script(TYPE SIGNAL USR1, print "got USR1", end)
            """])
        #expect(ended.status == 0, "\(ended.stderr)")
        #expect(ended.stdout == "K 1\nK 2\ngot USR1\ngot USR1\n")
        let exited = try run(["-e", """
            Script(print "K 1", set y $(kill USR1 $$), wait 0.05s, print "K 2", set y $(kill USR1 $$), wait 0.05s, stop);
            Script(TYPE SIGNAL USR1, print "got USR1", exit)
            """])
        #expect(exited.status == SIGUSR1, "killed by the signal: \(exited.status)")
        #expect(exited.stdout == "K 1\ngot USR1\nK 2\n")
        let bad = try run(["-q", "-e", "Script(TYPE SIGNAL FROB, end)"])
        #expect(bad.status == 1)
        #expect(bad.stderr.contains("bad signal number"))
    }
}

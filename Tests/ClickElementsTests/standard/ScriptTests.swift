import ClickElements
import ClickLanguage
import ClickTestSupport
import Foundation
import Testing
@testable import ClickRuntime

@Suite struct ScriptTests {
    /// Builds and runs `text`, returning what Script printed.
    func output(_ text: String) throws -> [String] {
        let b = build(text)
        let r = try #require(b.router, "\(b.log.text)")
        let box = ChatterBox()
        r.standardOutput = { box.lines.append($0) }
        r.run()
        return box.lines.joined().split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
    }

    @Test func driverManagerWaitsForStopEvents() throws {
        let out = try output("s :: InfiniteSource(LIMIT 5, STOP true) -> c :: Counter -> Discard; DriverManager(wait_stop, print \"count $(c.count)\")")
        #expect(out == ["count 5"])
    }

    /// As in Click 2.1: a DriverManager's first steps come before any task runs, and a
    /// bare `wait` waits for a stop event.
    @Test func driverManagerStartsBeforeTasksAndBareWaitAwaitsAStop() throws {
        let out = try output("InfiniteSource(LIMIT 3, STOP true) -> c :: Counter -> Discard; DriverManager(print $(c.count), wait, print $(c.count))")
        #expect(out == ["0", "3"])
    }

    @Test func loopsVariablesAndArithmetic() throws {
        let out = try output("Script(set i 0, label top, set i $(add $i 1), goto top $(lt $i 5), print $i $(mul $i 3) $(if $(eq $i 5) yes no), stop)")
        #expect(out == ["5 15 yes"])
    }

    @Test func waitUsesTheClockAndWriteCallsHandlers() throws {
        let b = build("s :: InfiniteSource(ACTIVE false) -> c :: Counter -> Discard; Script(wait 2s, write s.limit 3, write s.active true, wait 1, print $(c.count), stop)")
        let r = try #require(b.router, "\(b.log.text)")
        let box = ChatterBox()
        r.standardOutput = { box.lines.append($0) }
        let start = r.clock.now()
        r.run()
        #expect(box.lines == ["3\n"])
        #expect(r.clock.now() - start >= 3_000_000_000)
    }

    @Test func passiveScriptsRunOnDemand() throws {
        let b = build("sc :: Script(TYPE PASSIVE, print \"hello\", set x $(sprintf %d-%s 4 b), print $x)")
        let r = try #require(b.router, "\(b.log.text)")
        let box = ChatterBox()
        r.standardOutput = { box.lines.append($0) }
        #expect(box.lines.isEmpty)
        try r.write("sc.run", "")
        #expect(box.lines == ["hello\n", "4-b\n"])
        #expect(try r.read("sc.add", parameter: "1 2 3") == "6")
        #expect(try r.read("sc.get", parameter: "x") == "4-b")
    }

    @Test func printnWritesNoNewline() throws {
        let out = try output("Script(printn \"a\", printn \"b\", print \"c\", stop)")
        #expect(out == ["abc"])
    }

    @Test func badInstructions() {
        let e = build("Script(print a, jump b)").log.errorMessages
        #expect(e.contains("  instruction 2: unknown instruction 'jump'"))
        #expect(build("Script(goto nowhere)").log.errorMessages.contains("  instruction 1: no such label 'nowhere'"))
    }

    /// `sprintf` and `random` as Click 2.1's Script does them (outputs taken from Click's
    /// userlevel driver): C-like conversions with number fields capped at 128 characters,
    /// and "syntax error" / Args errors where Click reports errors.
    @Test func sprintfAndRandomFollowClick() throws {
        let cases: [(String, String)] = [
            ("$(sprintf %999999999d 1)", String(repeating: " ", count: 127) + "1"),
            ("$(sprintf %0300d 1)", String(repeating: "0", count: 127) + "1"),
            ("$(sprintf %.300d 1)", String(repeating: "0", count: 123) + "1"),
            ("$(sprintf \"%-5d|%05.2s|%x|%%\" 3 abc 255)", "3    |000ab|ff|%"),
            ("$(sprintf %hd 70000)", "4464"),
            ("$(sprintf %hu 70000)", "4464"),
            ("$(sprintf %lld 99999999999)", "99999999999"),
            ("$(sprintf %+05d 3)", "+0003"),
            ("$(sprintf %#x 255)", "0xff"),
            ("$(sprintf %#x 0)", "0"),
            ("$(sprintf %#o 8)", "10"),
            ("$(sprintf %#o 0)", "00"),
            ("$(sprintf %X 255)", "FF"),
            ("$(sprintf %5%)", "    %"),
            ("$(sprintf %s \"a b\")", "a b"),
            ("$(random 1 1)", "1"),
        ]
        for (expression, expected) in cases {
            #expect(try output("Script(print \(expression), stop)") == [expected], "\(expression)")
        }
        let n = Int(try output("Script(print $(random 3 9), stop)").first ?? "")
        #expect(n.map { (3...9).contains($0) } == true)
    }

    @Test func sprintfAndRandomErrorsAreClicks() throws {
        let cases: [(String, [String])] = [
            ("$(sprintf %d)", ["syntax error"]),
            ("$(sprintf %d 1 2)", ["syntax error"]),
            ("$(sprintf %u -1)", ["syntax error"]),
            ("$(sprintf %d 1.5)", ["syntax error"]),
            ("$(sprintf %*d 3 1)", ["syntax error"]),
            ("$(sprintf %q 1)", ["syntax error"]),
            ("$(sprintf %)", ["syntax error"]),
            ("$(random 5 1)", ["bad N"]),
            ("$(random 3)", ["N2: required argument missing"]),
            ("$(random -1)", ["N1: invalid number", "N2: required argument missing"]),
            ("$(random 99999999999)", ["N1: out of range, bound 4294967295", "N2: required argument missing"]),
        ]
        for (expression, errors) in cases {
            let b = build("s :: Script(print \(expression), stop)")
            let r = try #require(b.router, "\(b.log.text)")
            let box = ChatterBox(), printed = ChatterBox()
            r.chatter = { box.lines.append($0) }
            r.standardOutput = { printed.lines.append($0) }
            r.run()
            #expect(box.lines == ["While executing 's :: Script':\n" + errors.map { "  " + $0 }.joined(separator: "\n")], "\(expression)")
            // As Click: after an error, print adds no newline.
            #expect(printed.lines == [""], "\(expression)")
        }
    }

    /// `$(...)` calls nest to 100 levels; deeper is an error, not a crash or a hang
    /// (100,000 levels overflowed the stack).
    @Test func deeplyNestedCallsAreRefused() throws {
        func nested(_ n: Int) -> String { String(repeating: "$(add 1 ", count: n) + "1" + String(repeating: ")", count: n) }
        #expect(try output("Script(print \(nested(50)), stop)") == ["51"])
        let b = build("s :: Script(print \(nested(100_000)), stop)")
        let r = try #require(b.router, "\(b.log.text)")
        let box = ChatterBox()
        r.chatter = { box.lines.append($0) }
        r.standardOutput = { _ in }
        r.run()
        #expect(box.lines == ["While executing 's :: Script':\n  '$(...)' nested more than 100 deep"])
    }

    /// As Click 2.1: `print` calls a read handler when its text starts with a letter and
    /// prints quoted text unquoted; expansions keep their bytes; `readq` goes to standard
    /// error with the script's own handler qualified; a passive script's `run` returns.
    @Test func clickAgreesPrintReadAndRun() throws {
        let path = "/tmp/clickos-script-test-\(getpid())"
        defer { unlink(path) }
        let b = build("""
            s0 :: Script(printn >\(path) $(s.run "\\<0a 09 01>"), readq length "\\<0a 09 01>", print "x $(add 1 2) y", print c.count, stop);
            s :: Script(TYPE PASSIVE, returnq $1); Idle -> c :: Counter -> Discard
            """)
        let r = try #require(b.router, "\(b.log.text)")
        let out = ChatterBox()
        let err = ChatterBox()
        r.standardOutput = { out.lines.append($0) }
        r.chatter = { err.lines.append($0) }
        r.run()
        #expect(out.lines == ["x 3 y\n", "0\n"])
        #expect(err.lines == ["s0.length:\n3"])
        #expect(try Array(Data(contentsOf: URL(fileURLWithPath: path))) == [0x0a, 0x09, 0x01])
    }

    /// Click 2.1 gives up after 1,000 jumps with these words.
    @Test func clickAgreesTooManyJumps() {
        let (_, lines) = buildAndRun("s0 :: Script(label a, goto a)")
        #expect(lines.contains("s0 :: Script: too many jumps, giving up"))
    }
}

/// Click's `timewarp` global handler: router time at a multiple of the wall clock, or
/// idle waits skipped (`nowait`); Click's timewarp-01 in-process.
@Suite struct TimeWarpTests {
    func wallClock() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    /// Runs `config` on the wall clock; its chatter and the wall seconds it took.
    func runTimed(_ config: String) throws -> ([String], Double) {
        let b = build(config, simulatedTime: false)
        let router = try #require(b.router, "\(b.log.text)")
        let box = ChatterBox()
        router.chatter = { box.lines.append($0) }
        router.standardOutput = { text in box.lines.append(contentsOf: text.split(separator: "\n").map(String.init)) }
        let start = wallClock()
        router.run()
        let took = wallClock() - start
        router.cleanup()
        return (box.lines, took)
    }

    @Test func routerTimeRunsAtTheWarpedSpeed() throws {
        // 2 s of router time at speed 8 is a quarter second on the wall clock (an unwarped
        // run would take 2 s); the script sees 2 s pass.
        let (lines, took) = try runTimed("Script(write timewarp 8, set a $(now), wait 2s, print $(sub $(now) $a), read timewarp, stop)")
        #expect(lines.count == 2, "\(lines)")
        let seen = Double(lines.first ?? "") ?? 0
        #expect(seen >= 2 && seen < 2.5, "\(lines)")
        #expect(lines.last == "timewarp:\n8")
        #expect(took < 1.5, "took \(took) s")
    }

    @Test func noWaitSkipsIdleTime() throws {
        let (lines, took) = try runTimed("Script(write timewarp nowait, set a $(now), wait 100s, print $(sub $(now) $a), read timewarp, write timewarp 0, write timewarp fast, stop)")
        let seen = Double(lines.first ?? "") ?? 0
        #expect(seen >= 100 && seen < 101, "\(lines)")
        #expect(took < 10, "took \(took) s")
        #expect(Array(lines.dropFirst()) == [
            "timewarp:\nnowait",
            "While executing 'Script@1 :: Script':\n  While calling 'timewarp 0':\n    timefactor must be > 0",
            "  While calling 'timewarp fast':\n    expected double",
        ])
    }

    /// A hostile factor saturates router time instead of trapping.
    @Test func hugeFactorsSaturate() throws {
        let (lines, _) = try runTimed("Script(write timewarp 1e300, wait 1s, read timewarp, stop)")
        #expect(lines == ["timewarp:\n1e+300"])
    }

    @Test func simulatedTimeHasNoWarpToWrite() throws {
        let (_, lines) = buildAndRun("Script(read timewarp, write timewarp 2, stop)")
        #expect(lines == ["timewarp:\nsimulation", "While executing 'Script@1 :: Script':\n  no 'timewarp' write handler"])
    }
}

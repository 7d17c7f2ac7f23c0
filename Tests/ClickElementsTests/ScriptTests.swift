import ClickElements
import ClickLanguage
import ClickTestSupport
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
        let b = build("sc :: Script(TYPE PASSIVE, print hello, set x $(sprintf %d-%s 4 b), print $x)")
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
        let out = try output("Script(printn a, printn b, print c, stop)")
        #expect(out == ["abc"])
    }

    @Test func badInstructions() {
        let e = build("Script(print a, jump b)").log.errorMessages
        #expect(e.contains("  instruction 2: unknown instruction 'jump'"))
        #expect(build("Script(goto nowhere)").log.errorMessages.contains("  instruction 1: no such label 'nowhere'"))
    }
}

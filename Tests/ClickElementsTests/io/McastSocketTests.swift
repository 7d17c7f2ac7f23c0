import ClickElements
import ClickLanguage
import ClickTestSupport
import Foundation
import Testing
@testable import ClickRuntime

/// McastSocket between two clickos-vm processes over multicast on the loopback interface,
/// as Click's McastSocket-01: each hears the other and, with a source address, never
/// itself.
@Suite(.serialized) struct McastSocketTests {
    /// Runs `clickos-vm -e CONFIG` for each of `configs` at once, and returns each one's
    /// output lines (standard output, then standard error).
    func runTogether(_ configs: [String]) throws -> [[String]] {
        guard let binary = builtExecutable("clickos-vm") else {
            Issue.record("clickos-vm is not built")
            return []
        }
        var running: [(Process, Pipe, Pipe)] = []
        for config in configs {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: binary)
            p.arguments = ["-e", config]
            let out = Pipe(), err = Pipe()
            p.standardOutput = out
            p.standardError = err
            try p.run()
            running.append((p, out, err))
        }
        return running.map { p, out, err in
            let o = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            let e = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            p.waitUntilExit()
            #expect(p.terminationStatus == 0, "\(e)")
            return (o + e).split(separator: "\n").map(String.init)
        }
    }

    @Test func twoProcessesHearEachOtherButNotThemselves() throws {
        // A port of this run's own, so that parallel runs do not hear each other.
        let port = 20_000 + Int(getpid() % 20_000)
        func config(_ who: String) -> String {
            """
            RatedSource("\(who) says hi.", RATE 20, LIMIT 30, STOP true)
            -> McastSocket(233.252.0.0, \(port), 127.0.0.1)
            -> Print("\(who) got", CONTENTS ASCII)
            -> Discard
            """
        }
        let outputs = try runTogether([config("A"), config("B")])
        guard outputs.count == 2 else { return }
        // Each got some of the other's 30 datagrams (both run 1.5 s; they overlap), and
        // none of its own.
        #expect(outputs[0].contains("A got:   10 |  B says h i."), "\(outputs[0])")
        #expect(outputs[1].contains("B got:   10 |  A says h i."), "\(outputs[1])")
        #expect(!outputs[0].contains { $0.contains("A says") }, "\(outputs[0])")
        #expect(!outputs[1].contains { $0.contains("B says") }, "\(outputs[1])")
        #expect(Set(outputs[0] + outputs[1]) == ["A got:   10 |  B says h i.", "B got:   10 |  A says h i."])
    }

    @Test func snaplenCutsAndCountsTheRest() throws {
        let port = 40_000 + Int(getpid() % 20_000)
        let outputs = try runTogether([
            """
            McastSocket(233.252.0.1, \(port), 127.0.0.1, SNAPLEN 4)
            -> Print(got, CONTENTS ASCII) -> c :: Counter(COUNT_CALL 1 stop) -> Discard
            DriverManager(wait 3s, stop)
            """,
            """
            RatedSource("0123456789", RATE 20, LIMIT 20, STOP true) -> McastSocket(233.252.0.1, \(port), 127.0.0.1)
            """,
        ])
        guard outputs.count == 2 else { return }
        #expect(outputs[0].first == "got:    4 |  0123", "\(outputs[0])")
    }

    @Test func badArgumentsAreSaid() {
        let b = build("McastSocket(233.252.0.1, 99999) -> Discard")
        #expect(b.router == nil)
        #expect(b.log.text.contains("MCASTPORT"), "\(b.log.text)")
        let big = build("McastSocket(233.252.0.1, 1234, SNAPLEN 100000) -> Discard")
        #expect(big.log.text.contains("SNAPLEN must be at most"), "\(big.log.text)")
    }
}

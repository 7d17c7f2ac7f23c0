import ClickElements
import ClickLanguage
import ClickTestSupport
import Testing
@testable import ClickRuntime

/// Extreme numbers in configurations and handler writes: each one either gets Click's
/// error (the same words as Click 2.1's userlevel driver gives) or runs, with the time
/// arithmetic saturating. Each of these crashed the VM (SIGILL) before.
@Suite struct HostileArgumentTests {
    /// The error lines of a configuration that must not build.
    func errors(_ text: String) -> [String] {
        let b = build(text)
        #expect(b.router == nil, "\(text) should be refused")
        return b.log.errorMessages
    }

    @Test(arguments: [
        ("Idle -> IPRewriter(pattern 1.2.3.4 - - - 0 0, TIMEOUT 99999999999) -> Discard", "  TIMEOUT: out of range"),
        ("Idle -> IPRewriter(pattern 1.2.3.4 - - - 0 0, TIMEOUT 18446744073) -> Discard", "  TIMEOUT: out of range"),
        ("Idle -> IPRewriter(pattern 1.2.3.4 - - - 0 0, TIMEOUT -1) -> Discard", "  TIMEOUT: parse error"),
        ("Idle -> IPRewriter(pattern 1.2.3.4 - - - 0 0, UDP_TIMEOUT 99999999999) -> Discard", "  UDP_TIMEOUT: out of range"),
        ("Idle -> IPRewriter(pattern 1.2.3.4 - - - 0 0, TCP_TIMEOUT 99999999999) -> Discard", "  TCP_TIMEOUT: out of range"),
        ("Idle -> IPRewriter(pattern 1.2.3.4 - - - 0 0, REAP_INTERVAL 99999999999) -> Discard", "  REAP_INTERVAL: out of range"),
        ("Idle -> TCPRewriter(pattern 1.2.3.4 - - - 0 0, TCP_DONE_TIMEOUT 1e300) -> Discard", "  TCP_DONE_TIMEOUT: out of range"),
        ("Idle -> ICMPPingRewriter(pattern 1.2.3.4 - - - 0 0, TIMEOUT 99999999999) -> Discard", "  TIMEOUT: out of range"),
        ("Idle -> AggregateIPFlows(TCP_TIMEOUT 99999999999) -> Discard", "  TCP_TIMEOUT: out of range, bound 4294967295"),
        ("Idle -> AggregateIPFlows(UDP_TIMEOUT 99999999999) -> Discard", "  UDP_TIMEOUT: out of range"),
        ("Idle -> q :: Queue -> LinkUnqueue(99999999999, 1bps) -> Discard", "  bandwidth too small, minimum 100Bps"),
        ("Idle -> q :: Queue(99999999999) -> Discard", "  CAPACITY: out of range, bound 4294967295"),
        ("Idle -> q :: Queue(-1) -> Discard", "  CAPACITY: invalid number"),
        ("RatedSource(RATE 99999999999) -> Discard", "  RATE: out of range, bound 4294967295"),
        ("RatedSource(RATE 1e300) -> Discard", "  RATE: invalid number"),
        ("Idle -> q :: Queue -> BandwidthRatedUnqueue(1e300bps) -> Discard", "  RATE: out of range"),
        ("Idle -> q :: Queue -> RatedUnqueue(0.5) -> Discard", "  RATE: invalid number"),
        ("Idle -> q :: Queue -> RatedUnqueue(10, BURST_DURATION 1, BURST_SIZE 4) -> Discard", "  cannot specify both BURST_DURATION and BURST_SIZE"),
        ("Idle -> IPEncap(6, 1.2.3.4, 2.3.4.5, TTL 256) -> Discard", "  TTL: out of range, bound 255"),
        ("Idle -> EtherEncap(0x10000, 1:2:3:4:5:6, 1:2:3:4:5:6) -> Discard", "  ETHERTYPE: out of range, bound 65535"),
        ("InfiniteSource(BURST 99999999999999999999999) -> Discard", "  BURST: out of range, bound 2147483647"),
        ("InfiniteSource(LENGTH 4000000000) -> Discard", "  LENGTH: out of range, bound 2147483647"),
        ("RatedSource(LENGTH 2000000000) -> Discard", "  LENGTH: too large"),
        ("Idle -> RED(1, 2, 1e400) -> Discard", "  MAX_P: out of range, bound 65535.99998"),
        ("Idle -> ICMPPingSource(1.2.3.4, 5.6.7.8, INTERVAL 99999999999) -> Discard", "  INTERVAL: out of range"),
        // Found by the parser fuzzer: an output number past Int32 trapped in the compiler.
        ("Idle -> IPFilter(99999999999 tcp) -> Discard", "  pattern 0: unknown slot ID '99999999999'"),
        ("Idle -> IPFilter(3 tcp) -> Discard", "  pattern 0: slot '3' out of range"),
        ("Idle -> IPFilter(-1 tcp) -> Discard", "  pattern 0: slot '-1' out of range"),
        ("Idle -> IPFilter(foo tcp) -> Discard", "  pattern 0: unknown slot ID 'foo'"),
    ])
    func refusedWithClicksWords(_ config: String, _ message: String) {
        #expect(errors(config).contains(message), "\(errors(config))")
    }

    /// Times beyond Click's largest timestamp saturate to it, as in Click, and the timers
    /// they arm fire (in simulated time) without the clock or the packets' timestamps
    /// wrapping around.
    @Test func hugeTimesRunAndSaturate() throws {
        let largest = ClickRanges.maximumTimestampNanoseconds
        for interval in ["99999999999", "1e300"] {
            let (b, _) = buildAndRun("TimedSource(INTERVAL \(interval), LIMIT 2, STOP true) -> c :: Counter -> Discard")
            let r = try #require(b.router, "\(b.log.text)")
            #expect(try r.read("c.count") == "2")
            #expect(r.clock.now() > largest, "two intervals of 2^32 s later")
        }
        // A delay of 10^30 s: packets come out, later than any timestamp Click has.
        let (d, _) = buildAndRun("InfiniteSource(LIMIT 3) -> Queue -> DelayUnqueue(1e30) -> c :: Counter(COUNT_CALL 3 stop) -> Discard")
        let dr = try #require(d.router, "\(d.log.text)")
        #expect(try dr.read("c.count") == "3")
        let (s, _) = buildAndRun("InfiniteSource(LIMIT 3) -> Queue -> DelayShaper(1e30) -> Unqueue -> c :: Counter(COUNT_CALL 3 stop) -> Discard")
        #expect(try #require(s.router, "\(s.log.text)").read("c.count") == "3")
        let (l, _) = buildAndRun("InfiniteSource(LIMIT 3) -> Queue -> LinkUnqueue(99999999999, 100Bps) -> c :: Counter(COUNT_CALL 3 stop) -> Discard")
        #expect(try #require(l.router, "\(l.log.text)").read("c.count") == "3")
        // Adjusted timestamps saturate instead of wrapping.
        let (a, _) = buildAndRun("InfiniteSource(LIMIT 2, STOP true) -> SetTimestamp(4294967295.5) -> AdjustTimestamp(1e300) -> AdjustTimestamp(1e300) -> SetTimestampDelta -> k :: Collector")
        let collected = try #require(a.element("k", as: Collector.self))
        #expect(collected.timestamps.count == 2)
        #expect(collected.timestamps.allSatisfy { $0 >= 0 })
        // Script waits of any length.
        let w = build("Script(wait 1e300, write c.reset); Idle -> c :: Counter -> Discard")
        #expect(w.router != nil, "\(w.log.text)")
    }

    /// At the end of simulated time (the clock saturated at Int64.max) a timer that
    /// re-arms itself is due at once, every time: it runs once per scheduler round, and the
    /// round ends (it used to loop in the timer pass for ever; the element fuzzer found it).
    @Test func timersAtTheEndOfTimeRunOncePerRound() throws {
        let b = build("TimedSource(INTERVAL 99999999999) -> c :: Counter -> Discard")
        let r = try #require(b.router, "\(b.log.text)")
        r.scheduler.maximumRounds = 10
        r.run()
        #expect(r.clock.now() == Int64.max)
        let count = Int(try r.read("c.count")) ?? 0
        #expect(count >= 3 && count <= 10, "\(count)")
    }

    /// The largest values Click accepts build, and their timers are armed at the end of
    /// time at worst.
    @Test func largestAcceptedValuesBuild() throws {
        for config in [
            "Idle -> IPRewriter(pattern 1.2.3.4 - - - 0 0, TIMEOUT 4294967295, REAP_INTERVAL 4294967295) -> Discard",
            "Idle -> ICMPPingRewriter(pattern 1.2.3.4 - - - 0 0, TIMEOUT 4294967295) -> Discard",
            "Idle -> AggregateIPFlows(TCP_TIMEOUT 4294967295, UDP_TIMEOUT 4294967295) -> Discard",
            "Idle -> a :: ARPQuerier(1.2.3.4, 0:1:2:3:4:5, TIMEOUT 99999999999) -> Discard; Idle -> [1]a",
            "ARPTable(TIMEOUT 1e300)",
            "RatedSource(RATE 4294967295, LIMIT 10) -> Discard",
            "Idle -> q :: Queue -> RatedUnqueue(4294967295) -> Discard",
            "Idle -> q :: Queue -> BandwidthRatedUnqueue(4294967295Bps) -> Discard",
            "Idle -> IPReassembler(TIMEOUT 1e300) -> Discard",
        ] {
            let b = build(config)
            #expect(b.router != nil, "\(config): \(b.log.text)")
        }
        // A flow with a 2^32 s timeout lives on; the reaper's timer is far away.
        let (n, _) = buildAndRun("""
            InfiniteSource(\\<4500 0020 0000 0000 4011 0000 0a00 0001 0a00 0002 1234 0035 000c 0000 6869 6a6b>, LIMIT 1, STOP true)
              -> MarkIPHeader -> SetIPChecksum -> CheckIPHeader -> rw :: IPRewriter(pattern 9.9.9.9 1024-65535 - - 0 0, TIMEOUT 4294967295, REAP_INTERVAL 4294967295) -> Discard
            """)
        let nr = try #require(n.router, "\(n.log.text)")
        #expect(try nr.read("rw.table_size") == "1")
    }

    /// Handler writes go through the same range checks as configurations.
    @Test func handlerWritesAreRangeChecked() throws {
        let b = build("s :: RatedSource(RATE 10) -> u :: Queue -> r :: RatedUnqueue(10) -> Discard; t :: TimedSink; Idle -> Queue -> t; d :: Idle -> Queue -> du :: DelayUnqueue(1) -> Discard")
        let r = try #require(b.router, "\(b.log.text)")
        #expect(throws: HandlerError.self) { try r.write("s.rate", "99999999999") }
        #expect(throws: HandlerError.self) { try r.write("r.rate", "-5") }
        #expect(throws: HandlerError.self) { try r.write("t.interval", "0") }
        try r.write("t.interval", "1e300")
        try r.write("du.delay", "1e300")
        #expect(try r.read("s.rate") == "10")
        do {
            try r.write("s.rate", "99999999999")
        } catch {
            #expect(error.message.contains("out of range, bound 4294967295"), "\(error.message)")
        }
    }

    /// Timestamps of any value print without trapping (the element fuzzer stamped a frame
    /// with a negative time and IPPrint trapped in `String(repeating:count:)`).
    @Test func timestampsOfAnyValuePrint() {
        #expect(formatTimestamp(1_000_000_000_000_001_000) == "1000000000.000001")
        #expect(formatTimestamp(-1_500_000_000) == "-1.500000")
        #expect(formatTimestamp(Int64.min) == "-9223372036.854775808")
        #expect(formatTimestamp(Int64.max) == "9223372036.854775807")
        // Nanoseconds when the time is not whole microseconds, as Click's default build.
        #expect(formatTimestamp(1000_500_000_123) == "1000.500000123")
    }
}

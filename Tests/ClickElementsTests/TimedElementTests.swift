import ClickElements
import ClickLanguage
import ClickTestSupport
import Testing
@testable import ClickRuntime

/// Rated and timed elements, in simulated time (the clock jumps to the next timer).
@Suite struct TimedElementTests {
    func seconds(_ r: Router, from start: Int64) -> Double { Double(r.clock.now() - start) / 1e9 }

    @Test func ratedSourceKeepsItsRate() throws {
        let b = build("s :: RatedSource(RATE 100, LIMIT 50, STOP true) -> c :: Counter -> Discard")
        let r = try #require(b.router, "\(b.log.text)")
        let start = r.clock.now()
        r.run()
        #expect(try r.read("c.count") == "50")
        let elapsed = seconds(r, from: start)
        #expect(elapsed > 0.45 && elapsed < 0.6, "took \(elapsed) s")
    }

    @Test func timedSourceEmitsOnePerInterval() throws {
        let b = build("TimedSource(0.25, LIMIT 4, STOP true) -> c :: Counter -> Discard")
        let r = try #require(b.router, "\(b.log.text)")
        let start = r.clock.now()
        r.run()
        #expect(try r.read("c.count") == "4")
        #expect(seconds(r, from: start) >= 1.0)
    }

    @Test func ratedUnqueuePacesAQueue() throws {
        let b = build("InfiniteSource(LIMIT 40) -> q :: Queue -> RatedUnqueue(20, BURST_SIZE 1) -> c :: Counter(COUNT_CALL 40 stop) -> Discard")
        let r = try #require(b.router, "\(b.log.text)")
        let start = r.clock.now()
        r.run()
        #expect(try r.read("c.count") == "40")
        let elapsed = seconds(r, from: start)
        #expect(elapsed > 1.8 && elapsed < 2.3, "took \(elapsed) s")
    }

    @Test func schedulersChooseInputs() throws {
        let b = build("""
            a :: Injector -> qa :: Queue -> [0] rr :: RoundRobinSched; bb :: Injector -> qb :: Queue -> [1] rr;
            rr -> u :: Unqueue(ACTIVE false) -> col :: Collector;
            a2 :: Injector -> pa :: Queue -> [0] ps :: PrioSched; b2 :: Injector -> pb :: Queue -> [1] ps;
            ps -> u2 :: Unqueue(ACTIVE false) -> col2 :: Collector;
            """)
        let r = try #require(b.router, "\(b.log.text)")
        try #require(b.element("a", as: Injector.self)).inject([[1], [2]])
        try #require(b.element("bb", as: Injector.self)).inject([[3], [4]])
        try #require(b.element("a2", as: Injector.self)).inject([[1], [2]])
        try #require(b.element("b2", as: Injector.self)).inject([[3], [4]])
        for name in ["u", "u2"] {
            let u = try #require(r.element(named: name))
            try r.write("\(name).active", "true")
            while u.runTask(Task(element: u)) {}
        }
        #expect(b.element("col", as: Collector.self)?.packets == [[1], [3], [2], [4]])
        #expect(b.element("col2", as: Collector.self)?.packets == [[1], [2], [3], [4]])
    }

    @Test func badRates() {
        #expect(build("RatedSource(RATE -1) -> Discard").log.errorMessages.contains("  RATE: invalid number"))
        #expect(build("TimedSource(0) -> Discard").log.errorMessages.contains("  INTERVAL: must be positive"))
    }
}

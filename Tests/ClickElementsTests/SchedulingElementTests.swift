import ClickElements
import ClickLanguage
import ClickTestSupport
import Foundation
import Testing
@testable import ClickRuntime

/// Queues, schedulers and delay elements: MixedQueue, StrideSched, SimplePullSwitch,
/// TimeSortedSched, DelayUnqueue, DelayShaper, LinkUnqueue (simulated time).
@Suite struct SchedulingElementTests {
    /// Runs the Unqueue named `name` until it has nothing more to move.
    func drain(_ r: Router, _ name: String) throws {
        let u = try #require(r.element(named: name))
        try r.write("\(name).active", "true")
        while u.runTask(Task(element: u)) {}
    }

    @Test func mixedQueueIsFIFOOnInputZeroAndLIFOOnInputOne() throws {
        let b = build("""
            i0 :: Injector -> [0] q :: MixedQueue(3); i1 :: Injector -> [1] q
            q -> u :: Unqueue(ACTIVE false) -> col :: Collector
            """)
        let r = try #require(b.router, "\(b.log.text)")
        var chatter: [String] = []
        r.chatter = { chatter.append($0) }
        try #require(b.element("i0", as: Injector.self)).inject([[1], [2]])
        try #require(b.element("i1", as: Injector.self)).inject([[3]])
        // Full: a FIFO arrival is dropped; a LIFO arrival pushes out the tail ([2]).
        try #require(b.element("i0", as: Injector.self)).inject([[4]])
        try #require(b.element("i1", as: Injector.self)).inject([[5]])
        #expect(try r.read("q.length") == "3")
        #expect(try r.read("q.drops") == "2")
        #expect(chatter == ["q :: MixedQueue: overflow"])
        try drain(r, "u")
        #expect(b.element("col", as: Collector.self)?.packets == [[5], [3], [1]])
        #expect(r.pool.outstanding == 0)
    }

    @Test func queueReportsItsFirstOverflowOnly() throws {
        let b = build("i :: Injector -> q :: Queue(2) -> Discard(ACTIVE false)")
        let r = try #require(b.router, "\(b.log.text)")
        var chatter: [String] = []
        r.chatter = { chatter.append($0) }
        let i = try #require(b.element("i", as: Injector.self))
        i.inject([[1], [2], [3]])
        i.inject([[4], [5]])
        #expect(try r.read("q.drops") == "3")
        #expect(chatter == ["q :: Queue: overflow"])
    }

    @Test func strideSchedSharesByTickets() throws {
        let b = build("""
            a :: Injector -> qa :: Queue -> [0] s :: StrideSched(1, 3); bb :: Injector -> qb :: Queue -> [1] s
            s -> u :: Unqueue(ACTIVE false, LIMIT 40) -> col :: Collector
            """)
        let r = try #require(b.router, "\(b.log.text)")
        try #require(b.element("a", as: Injector.self)).inject(Array(repeating: [0xA], count: 40))
        try #require(b.element("bb", as: Injector.self)).inject(Array(repeating: [0xB], count: 40))
        try drain(r, "u")
        let got = try #require(b.element("col", as: Collector.self)).packets
        #expect(got.count == 40)
        let fromB = got.filter { $0 == [0xB] }.count
        #expect(fromB >= 29 && fromB <= 31, "input 1 gave \(fromB) of 40")
        #expect(try r.read("s.tickets1") == "3")

        // An empty input does not hold the other back; 0 tickets switch an input off.
        try r.write("s.tickets1", "0")
        try r.write("u.reset", "")
        try drain(r, "u")
        #expect(try r.read("qb.length") == "10")
        #expect(try r.read("qa.length") == "0")
    }

    @Test func strideSchedConfigurationErrors() {
        let neg = build("Idle -> [0] s :: StrideSched(-1); Idle -> [1] s; s -> Unqueue -> Discard")
        #expect(neg.router == nil)
        #expect(neg.log.text.contains("tickets must be >= 0"), "\(neg.log.text)")
        let count = build("Idle -> [0] s :: StrideSched(1); Idle -> [1] s; s -> Unqueue -> Discard")
        #expect(count.router == nil)
        #expect(count.log.text.contains("one per input port"), "\(count.log.text)")
    }

    @Test func simplePullSwitchPullsOneInput() throws {
        let b = build("""
            a :: Injector -> qa :: Queue -> [0] s :: SimplePullSwitch(1); bb :: Injector -> qb :: Queue -> [1] s
            s -> u :: Unqueue(ACTIVE false) -> col :: Collector
            """)
        let r = try #require(b.router, "\(b.log.text)")
        try #require(b.element("a", as: Injector.self)).inject([[1]])
        try #require(b.element("bb", as: Injector.self)).inject([[2]])
        try drain(r, "u")
        #expect(b.element("col", as: Collector.self)?.packets == [[2]])
        try r.write("s.switch", "0")
        try drain(r, "u")
        #expect(b.element("col", as: Collector.self)?.packets == [[2], [1]])
    }

    @Test func timeSortedSchedMergesTracesAndStops() throws {
        let dir = FileManager.default.temporaryDirectory.path
        let a = "\(dir)/clickos-\(UUID().uuidString)-a.pcap", c = "\(dir)/clickos-\(UUID().uuidString)-c.pcap"
        defer {
            try? FileManager.default.removeItem(atPath: a)
            try? FileManager.default.removeItem(atPath: c)
        }
        func packet(_ tag: UInt8) -> [UInt8] { Frames.ipv4(src: [1, 0, 0, 1], dst: [1, 0, 0, tag]) }
        try writePcap(a, [1, 4, 5].map { (UInt32($0), packet(UInt8($0))) })
        try writePcap(c, [2, 3, 6].map { (UInt32($0), packet(UInt8($0))) })
        let (b, _) = buildAndRun("""
            t :: TimeSortedSched(STOP true)
            FromDump(\(a)) -> [0] t; FromDump(\(c)) -> [1] t
            t -> Unqueue -> col :: Collector
            """)
        let col = try #require(b.element("col", as: Collector.self), "\(b.log.text)")
        #expect(col.packets.map { $0[19] } == [1, 2, 3, 4, 5, 6])
        #expect(col.timestamps.map { $0 / 1_000_000_000 } == [1, 2, 3, 4, 5, 6])
        #expect(try b.router?.read("t.well_ordered") == "true")
    }

    @Test func delayUnqueueHoldsEachPacketForTheDelay() throws {
        let b = build("""
            InfiniteSource(LIMIT 3, BURST 3) -> SetTimestamp -> q :: Queue
            q -> d :: DelayUnqueue(0.5) -> col :: Collector
            Script(wait 2, stop)
            """)
        let r = try #require(b.router, "\(b.log.text)")
        let start = r.clock.now()
        r.run()
        let col = try #require(b.element("col", as: Collector.self))
        #expect(col.packets.count == 3)
        for i in 0..<col.timestamps.count {
            let delayed = Double(col.timestamps[i] - start) / 1e9
            #expect(delayed >= 0.5 && delayed < 0.51, "stamped \(delayed) s after the start")
            // Out no earlier than stamped time + 0.5 s, and stamped with that time.
            #expect(col.arrivals[i] >= col.timestamps[i])
            #expect(col.arrivals[i] - col.timestamps[i] < 10_000_000)
        }
        #expect(try r.read("d.delay") == "0.5")
    }

    @Test func delayShaperLetsPacketsThroughWhenDue() throws {
        let b = build("""
            s :: InfiniteSource(LIMIT 2, BURST 2) -> q :: Queue -> DelayShaper(1) -> Unqueue -> col :: Collector
            Script(wait 3, stop)
            """)
        let r = try #require(b.router, "\(b.log.text)")
        let start = r.clock.now()
        r.run()
        let col = try #require(b.element("col", as: Collector.self))
        #expect(col.packets.count == 2)
        #expect(col.arrivals.allSatisfy { $0 - start >= 1_000_000_000 && $0 - start < 1_100_000_000 }, "\(col.arrivals.map { $0 - start })")
    }

    @Test func linkUnqueueAddsLatencyAndTransmissionTime() throws {
        // 8 kbps = 1000 bytes/s: a 100-byte packet takes 0.1 s to send, then 10 ms to cross.
        let b = build("""
            InfiniteSource(LENGTH 100, LIMIT 3, BURST 3) -> q :: Queue -> l :: LinkUnqueue(10ms, 8kbps) -> col :: Collector
            Script(wait 1, stop)
            """)
        let r = try #require(b.router, "\(b.log.text)")
        let start = r.clock.now()
        r.run()
        let col = try #require(b.element("col", as: Collector.self))
        let offsets = col.arrivals.map { Double($0 - start) / 1e9 }
        #expect(offsets.count == 3)
        for (i, t) in offsets.enumerated() {
            let expected = 0.1 * Double(i + 1) + 0.01
            #expect(abs(t - expected) < 0.005, "packet \(i) left at \(t) s, expected \(expected)")
        }
        #expect(try r.read("l.size") == "0")
        #expect(try r.read("l.latency") == "0.01")
        #expect(try r.read("l.bandwidth") == "1000")
    }
}

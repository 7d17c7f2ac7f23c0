import ClickElements
import ClickLanguage
import ClickTestSupport
import Foundation
import Testing
@testable import ClickRuntime

@Suite struct QueueTests {
    @Test func dropsWhenFullAndCountsThem() throws {
        let b = build("inj :: Injector -> q :: Queue(3) -> u :: Unqueue(ACTIVE false) -> col :: Collector")
        let r = try #require(b.router, "\(b.log.text)")
        let inj = try #require(b.element("inj", as: Injector.self))
        inj.inject((0..<5).map { [UInt8($0)] })
        #expect(try r.read("q.length") == "3")
        #expect(try r.read("q.drops") == "2")
        #expect(try r.read("q.highwater_length") == "3")
        try r.write("u.active", "true")
        try r.write("u.limit", "3")
        r.scheduler.stop()
        // Let the Unqueue drain: run its task directly.
        let u = try #require(r.element(named: "u"))
        while u.runTask(Task(element: u)) {}
        #expect(b.element("col", as: Collector.self)?.packets == [[0], [1], [2]])
    }

    @Test func dropsGoToOutputOneWhenConnected() throws {
        let b = build("inj :: Injector -> q :: Queue(1); q [0] -> Discard; q [1] -> col :: Collector")
        let inj = try #require(b.element("inj", as: Injector.self), "\(b.log.text)")
        inj.inject([[1], [2], [3]])
        #expect(b.element("col", as: Collector.self)?.packets == [[2], [3]])
    }

    @Test func capacityHandlerResizes() throws {
        let b = build("inj :: Injector -> q :: Queue(10) -> Discard(ACTIVE false)")
        let r = try #require(b.router, "\(b.log.text)")
        try #require(b.element("inj", as: Injector.self)).inject((0..<8).map { [UInt8($0)] })
        try r.write("q.capacity", "5")
        #expect(try r.read("q.length") == "5")
        #expect(try r.read("q.capacity") == "5")
        try r.write("q.reset", "")
        #expect(try r.read("q.length") == "0")
        // The configuration follows the write as Click's keyword handler rewrites it.
        #expect(try r.read("q.config") == "5")
        for (config, expected) in [("", "CAPACITY 7"), ("CAPACITY 3", "CAPACITY 7"), ("3", "7")] {
            let other = build("Idle -> q :: Queue(\(config)) -> Discard")
            try other.router?.write("q.capacity", "7")
            #expect(try other.router?.read("q.config") == expected)
        }
    }

    /// Click's notifier-04: Queue and FullNoteQueue pause their source when full;
    /// NotifierQueue, SimpleQueue and FrontDropQueue let it push on into drops.
    @Test func onlySomeQueuesPauseTheirSources() throws {
        for (queue, expected) in [("Queue", "5"), ("FullNoteQueue", "5"), ("NotifierQueue", "15"), ("SimpleQueue", "15"), ("FrontDropQueue", "15")] {
            let b = build("i :: InfiniteSource(LIMIT 15) -> c :: Counter -> q :: \(queue)(5) -> Idle; DriverManager(wait 0.1s, stop)")
            let r = try #require(b.router, "\(b.log.text)")
            r.run()
            #expect(try r.read("c.count") == expected, "\(queue)")
        }
    }

    @Test func emptyQueueLetsPullersSleep() throws {
        let b = build("inj :: Injector -> q :: Queue -> u :: Unqueue -> col :: Collector")
        let r = try #require(b.router, "\(b.log.text)")
        let u = try #require(r.element(named: "u") as? Unqueue)
        // Unqueue runs once, finds nothing, and unschedules itself.
        let task = try #require(u.taskForTesting)
        _ = u.runTask(task)
        #expect(!task.isScheduled)
        try #require(b.element("inj", as: Injector.self)).inject([[9]])
        #expect(task.isScheduled)
    }

    @Test func frontDropQueueDropsTheOldest() throws {
        let b = build("inj :: Injector -> q :: FrontDropQueue(2); q [0] -> Discard(ACTIVE false); q [1] -> col :: Collector")
        try #require(b.element("inj", as: Injector.self), "\(b.log.text)").inject([[1], [2], [3], [4]])
        #expect(b.element("col", as: Collector.self)?.packets == [[1], [2]])
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
}

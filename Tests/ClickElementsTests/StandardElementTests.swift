import ClickElements
import ClickLanguage
import ClickTestSupport
import Testing
@testable import ClickRuntime

@Suite struct SourceAndSinkTests {
    @Test func infiniteSourceLimitStopAndData() throws {
        let (b, _) = buildAndRun("InfiniteSource(DATA \\<0a 0b>, LIMIT 5, BURST 2, STOP true) -> col :: Collector")
        let col = try #require(b.element("col", as: Collector.self), "\(b.log.text)")
        #expect(col.packets == Array(repeating: [0x0a, 0x0b], count: 5))
        #expect(try b.router?.read("InfiniteSource@1.count") == "5")
    }

    @Test func infiniteSourceDefaultDataAndLength() throws {
        let (b, _) = buildAndRun("InfiniteSource(LIMIT 1, STOP true) -> a :: Collector; InfiniteSource(DATA \"ab\", LENGTH 5, LIMIT 1, STOP true) -> c :: Collector")
        let a = try #require(b.element("a", as: Collector.self))
        #expect(a.packets.first.map { String(decoding: $0, as: UTF8.self) } == "Random bullshit in a packet, at least 64 bytes long. Well, now it is.")
        let c = try #require(b.element("c", as: Collector.self))
        #expect(c.packets.first == Array("ababa".utf8))
    }

    @Test func infiniteSourceEndCallInsteadOfStop() throws {
        let (b, _) = buildAndRun("s :: InfiniteSource(LIMIT 2, END_CALL stop) -> c :: Counter -> Discard")
        #expect(try b.router?.read("c.count") == "2")
    }

    @Test func discardCountsAndResets() throws {
        let (b, _) = buildAndRun("InfiniteSource(LIMIT 7, STOP true) -> d :: Discard")
        let r = try #require(b.router)
        #expect(try r.read("d.count") == "7")
        try r.write("d.reset_counts", "")
        #expect(try r.read("d.count") == "0")
    }

    @Test func discardPullsInPullContext() throws {
        let (b, _) = buildAndRun("InfiniteSource(LIMIT 4, STOP true) -> q :: Queue -> d :: Discard")
        #expect(try b.router?.read("d.count") == "4")
        #expect(try b.router?.read("q.length") == "0")
    }

    @Test func idleSwallowsAndNeverEmits() throws {
        let (b, _) = buildAndRun("InfiniteSource(LIMIT 3, STOP true) -> Idle; Idle -> col :: Collector")
        #expect(b.element("col", as: Collector.self)?.packets.isEmpty == true)
        #expect(b.router?.pool.outstanding == 0)
    }
}

@Suite struct CounterTests {
    @Test func countsPacketsAndBytes() throws {
        let (b, _) = buildAndRun("InfiniteSource(DATA \"12345\", LIMIT 10, STOP true) -> c :: Counter -> Discard")
        let r = try #require(b.router)
        #expect(try r.read("c.count") == "10")
        #expect(try r.read("c.byte_count") == "50")
        try r.write("c.reset", "")
        #expect(try r.read("c.count") == "0")
    }

    @Test func countCallFiresAtTheCount() throws {
        let (b, _) = buildAndRun("InfiniteSource(LIMIT 100) -> c :: Counter(COUNT_CALL 5 stop) -> Discard")
        let n = Int(try #require(b.router).read("c.count")) ?? 0
        #expect(n >= 5 && n < 100)
    }

    @Test func badCountCall() {
        let b = build("Idle -> Counter(COUNT_CALL x) -> Discard")
        #expect(b.log.errorMessages.contains("  COUNT_CALL: expected 'N HANDLER [VALUE]'"))
    }
}

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

    @Test func schedulerWakesItsPullerForAnyInput() throws {
        // Unqueue pulls through RoundRobinSched from two queues: a packet in the second
        // queue alone must wake it even though the first stays empty.
        let b = build("""
            i1 :: Injector -> q1 :: Queue; i2 :: Injector -> q2 :: Queue
            q1 -> [0] rr :: RoundRobinSched; q2 -> [1] rr
            rr -> u :: Unqueue -> col :: Collector
            """)
        let r = try #require(b.router, "\(b.log.text)")
        let u = try #require(r.element(named: "u") as? Unqueue)
        let task = try #require(u.taskForTesting)
        _ = u.runTask(task)
        #expect(!task.isScheduled)
        try #require(b.element("i2", as: Injector.self)).inject([[7]])
        #expect(task.isScheduled)
        _ = u.runTask(task)
        #expect(b.element("col", as: Collector.self)?.packets == [[7]])
    }

    @Test func pullerFromIdleSleeps() throws {
        let b = build("Idle -> u :: Unqueue -> Discard")
        let u = try #require(b.router?.element(named: "u") as? Unqueue, "\(b.log.text)")
        let task = try #require(u.taskForTesting)
        _ = u.runTask(task)
        #expect(!task.isScheduled)
    }

    @Test func frontDropQueueDropsTheOldest() throws {
        let b = build("inj :: Injector -> q :: FrontDropQueue(2); q [0] -> Discard(ACTIVE false); q [1] -> col :: Collector")
        try #require(b.element("inj", as: Injector.self), "\(b.log.text)").inject([[1], [2], [3], [4]])
        #expect(b.element("col", as: Collector.self)?.packets == [[1], [2]])
    }
}

@Suite struct PaintAndSwitchTests {
    @Test func paintAndCheckPaint() throws {
        let b = build("inj :: Injector -> Paint(3) -> cp :: CheckPaint(3) -> yes :: Collector; cp [1] -> no :: Collector")
        try #require(b.element("inj", as: Injector.self), "\(b.log.text)").inject([[1]])
        #expect(b.element("yes", as: Collector.self)?.paints == [3])
        #expect(b.element("no", as: Collector.self)?.packets.isEmpty == true)
    }

    @Test func paintTeeCopiesMatchingPackets() throws {
        let b = build("inj :: Injector -> pt :: PaintTee(5) -> all :: Collector; pt [1] -> copies :: Collector")
        let inj = try #require(b.element("inj", as: Injector.self), "\(b.log.text)")
        inj.inject([[1]], paint: 5)
        inj.inject([[2]], paint: 4)
        #expect(b.element("all", as: Collector.self)?.packets == [[1], [2]])
        #expect(b.element("copies", as: Collector.self)?.packets == [[1]])
    }

    @Test func paintSwitchByColor() throws {
        let b = build("inj :: Injector -> ps :: PaintSwitch; ps [0] -> a :: Collector; ps [1] -> c :: Collector")
        let inj = try #require(b.element("inj", as: Injector.self), "\(b.log.text)")
        inj.inject([[0]], paint: 0)
        inj.inject([[1]], paint: 1)
        inj.inject([[9]], paint: 9)
        inj.inject([[7]], paint: 255)
        #expect(b.element("a", as: Collector.self)?.packets == [[0], [7]])
        #expect(b.element("c", as: Collector.self)?.packets == [[1], [7]])
    }

    @Test func switchesAndHandlers() throws {
        let b = build("inj :: Injector -> s :: Switch(1); s [0] -> a :: Collector; s [1] -> c :: Collector")
        let r = try #require(b.router, "\(b.log.text)")
        let inj = try #require(b.element("inj", as: Injector.self))
        inj.inject([[1]])
        try r.write("s.switch", "0")
        inj.inject([[2]])
        try r.write("s.switch", "-1")
        inj.inject([[3]])
        #expect(b.element("a", as: Collector.self)?.packets == [[2]])
        #expect(b.element("c", as: Collector.self)?.packets == [[1]])
        #expect(r.pool.outstanding == 0)
    }

    @Test func roundRobinAndHashSwitch() throws {
        let b = build("inj :: Injector -> rr :: RoundRobinSwitch; rr [0] -> a :: Collector; rr [1] -> c :: Collector; inj2 :: Injector -> h :: HashSwitch(0, 2); h [0] -> x :: Collector; h [1] -> y :: Collector")
        try #require(b.element("inj", as: Injector.self), "\(b.log.text)").inject([[1], [2], [3]])
        #expect(b.element("a", as: Collector.self)?.packets == [[1], [3]])
        #expect(b.element("c", as: Collector.self)?.packets == [[2]])
        // Sum 3: (3 ^ 0) & 1 = 1; sum 4: (4 ^ 0) & 1 = 0; too short: output 0.
        try #require(b.element("inj2", as: Injector.self)).inject([[1, 2], [2, 2], [7]])
        #expect(b.element("x", as: Collector.self)?.packets == [[2, 2], [7]])
        #expect(b.element("y", as: Collector.self)?.packets == [[1, 2]])
    }

    @Test func teeCopiesToEveryOutput() throws {
        let b = build("inj :: Injector -> t :: Tee; t [0] -> a :: Collector; t [1] -> c :: Collector; t [2] -> d :: Collector")
        try #require(b.element("inj", as: Injector.self), "\(b.log.text)").inject([[4, 2]])
        for name in ["a", "c", "d"] { #expect(b.element(name, as: Collector.self)?.packets == [[4, 2]]) }
        #expect(build("Idle -> Tee(3) -> Discard").log.errorMessages.contains("  N does not match the number of outputs (1)"))
    }
}

@Suite struct DataElementTests {
    @Test func stripAndUnstrip() throws {
        let b = build("inj :: Injector -> Strip(2) -> s :: Collector; inj2 :: Injector -> Strip(2) -> Unstrip(2) -> u :: Collector")
        try #require(b.element("inj", as: Injector.self), "\(b.log.text)").inject([[1, 2, 3], [1]])
        #expect(b.element("s", as: Collector.self)?.packets == [[3], []])
        try #require(b.element("inj2", as: Injector.self)).inject([[1, 2, 3]])
        #expect(b.element("u", as: Collector.self)?.packets == [[1, 2, 3]])
    }

    @Test func printFormatsLikeClick() throws {
        let (_, lines) = buildAndRun("""
            InfiniteSource(DATA "I love myself\\n", LIMIT 1, STOP true) -> Print -> Discard;
            InfiniteSource(DATA "", LIMIT 1, STOP true) -> Print(1) -> Discard;
            InfiniteSource(DATA "abc", LIMIT 1, STOP true) -> Print(x, CONTENTS ASCII) -> Discard;
            """)
        #expect(lines.contains("  14 | 49206c6f 7665206d 7973656c 660a"))
        #expect(lines.contains("1:    0"))
        #expect(lines.contains("x:    3 | abc"))
    }

    @Test func messageReportsAtConfiguration() throws {
        let b = build("m :: Message(\"hello there\")")
        #expect(b.router != nil)
        #expect(build("Message(bad, ERROR)").log.errorMessages.contains("  bad"))
    }

    @Test func addressInfoNamesReachOtherElements() throws {
        let b = build("AddressInfo(n 10.0.0.1 1.2.3.4.5); Idle -> Discard")
        #expect(b.log.errorMessages.contains("  \"1.2.3.4.5\" is not a recognizable address"))
        // A mandatory positional argument takes keyword-looking text, as in Click.
        #expect(build("Idle -> Paint(ANNO 4) -> Discard").log.errorMessages.contains("  COLOR: invalid number"))
        let ok = build("AddressInfo(n 10.0.0.1); Idle -> Discard")
        #expect(ok.router?.addressNames.ipv4("n", context: "x")?.description == "10.0.0.1")
    }
}

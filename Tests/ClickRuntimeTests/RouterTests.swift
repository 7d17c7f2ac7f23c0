import ClickElements
import ClickLanguage
import ClickTestSupport
import Testing
@testable import ClickRuntime

@Suite struct RouterConstructionTests {
    /// Flow codes as Click reads them: letters per port (the last repeats), bracketed sets,
    /// negated sets, and `#` tying input i to output i.
    @Test func flowCodesConnectPortsAsClickReadsThem() {
        #expect(flowReaches("x/x", input: 0, output: 0))
        #expect(!flowReaches("x/y", input: 0, output: 0))
        // Bypass: input 0 reaches both outputs, input 1 only output 0.
        #expect(flowReaches("xy/[xy]x", input: 0, output: 0))
        #expect(flowReaches("xy/[xy]x", input: 0, output: 1))
        #expect(flowReaches("xy/[xy]x", input: 1, output: 0))
        #expect(!flowReaches("xy/[xy]x", input: 1, output: 1))
        #expect(!flowReaches("x/[^x]", input: 0, output: 0))
        #expect(flowReaches("x/[^y]", input: 0, output: 0))
        #expect(flowReaches("#/#", input: 2, output: 2))
        #expect(!flowReaches("#/#", input: 1, output: 2))
        #expect(flowReaches("", input: 0, output: 0))
    }

    @Test func portRangeErrors() {
        let b = build("i :: InfiniteSource -> [1] c :: Counter -> Discard")
        #expect(b.router == nil)
        #expect(b.log.errorMessages.contains("'c :: Counter' has no input 1"))
        #expect(b.log.errorMessages.last == "Router could not be initialized!")
    }

    @Test func unusedPortsAreErrors() {
        let b = build("p :: Print; i :: InfiniteSource -> p;")
        #expect(b.log.errorMessages.contains("'p :: Print' output 0 unused"))
    }

    @Test func pushOutputReuse() {
        let b = build("i :: InfiniteSource; i -> Discard; i -> Discard")
        #expect(b.log.errorMessages.contains("illegal reuse of 'i :: InfiniteSource' push output 0"))
    }

    @Test func pushToPullConflict() {
        let b = build("i :: InfiniteSource -> u :: Unqueue -> Discard; j :: InfiniteSource -> q :: Queue -> Discard; q -> k :: Tee -> Discard")
        #expect(b.log.errorMessages.contains("'q :: Queue' pull output 0 connected to 'k :: Tee' push input 0"))
    }

    @Test func agnosticElementsTakeTheirContext() throws {
        let b = build("i :: InfiniteSource(LIMIT 1) -> q :: Queue -> c :: Counter -> u :: Unqueue -> Discard")
        let router = try #require(b.router, "\(b.log.text)")
        let c = try #require(router.element(named: "c"))
        #expect(c.inputProcessing == [.pull] && c.outputProcessing == [.pull])
        let i = try #require(router.element(named: "i"))
        #expect(i.outputProcessing == [.push])
    }

    @Test func agnosticInMixedContext() {
        let b = build("i :: InfiniteSource -> c :: Counter -> u :: Unqueue -> Discard; q :: Queue; Idle -> q; q -> [0] t :: Tee")
        #expect(!b.log.errorMessages.isEmpty)
    }

    @Test func configurationErrorsComeWithTheirElement() {
        let b = build("Idle -> q :: Queue(lots) -> Discard;\nInfiniteSource(BOGUS 1) -> Discard;")
        #expect(b.router == nil)
        let lines = b.log.diagnostics.map(\.description)
        #expect(lines.contains("config:1: While configuring 'q :: Queue':"))
        #expect(lines.contains("  CAPACITY: invalid number"))
        #expect(lines.contains("config:2: While configuring 'InfiniteSource@4 :: InfiniteSource':"))
        #expect(lines.contains("  BOGUS: unknown argument"))
        #expect(lines.last == "Router could not be initialized!")
    }

    @Test func tooManyArguments() {
        let b = build("Idle -> Queue(1, 2) -> Discard")
        #expect(b.log.errorMessages.contains("  too many arguments"))
    }
}

@Suite struct HandlerTests {
    @Test func defaultAndRouterHandlers() throws {
        let b = build("src :: InfiniteSource(LIMIT 2) -> c :: Counter -> Discard")
        let r = try #require(b.router, "\(b.log.text)")
        #expect(try r.read("c.name") == "c")
        #expect(try r.read("c.class") == "Counter")
        #expect(try r.read("src.config") == "LIMIT 2")
        #expect(try r.read("list") == "3\nsrc\nc\nDiscard@3\n")
        #expect(try r.read("classes") == "Counter\nDiscard\nInfiniteSource\n")
        #expect(try r.read("flatconfig") == r.flat.unparse())
        #expect(try r.read("c.ports") == "1 input\npush\t-\tsrc [0]\n1 output\npush\t-\t[0] Discard@3\n")
        #expect(try r.read("c.handlers").contains("count\tr\n"))
        #expect(try r.read("c.handlers").contains("reset_counts\tw\n"))
    }

    @Test func handlerErrorsSayWhat() throws {
        let r = try #require(build("Idle -> c :: Counter -> Discard").router)
        #expect(throws: HandlerError.self) { try r.read("nope.count") }
        #expect(throws: HandlerError.self) { try r.read("c.nope") }
        do {
            try r.write("c.count", "1")
            Issue.record("write to a read-only handler succeeded")
        } catch {
            #expect(error.message == "handler 'c.count' is read-only")
            #expect(error.replyCode == 530)
        }
    }

    @Test func stopHandlerStopsTheRouter() throws {
        let r = try #require(build("InfiniteSource -> c :: Counter -> Discard").router)
        try r.write("stop", "")
        r.run()
        #expect(try r.read("c.count") == "0")
    }
}

@Suite struct PacketTests {
    @Test func poolAllocatesAndRecycles() throws {
        let pool = PacketPool(capacity: 4)
        let a = try #require(pool.make([1, 2, 3]))
        #expect(pool.available == 3)
        #expect(a.contents == [1, 2, 3])
        let b = try #require(a.clone())
        #expect(b.contents == [1, 2, 3] && b.meta != a.meta)
        a.kill()
        b.kill()
        #expect(pool.available == 4)
        var held: [Packet] = []
        while let p = pool.make() { held.append(p) }
        #expect(held.count == 4)
        #expect(pool.make() == nil)
        #expect(pool.state.pointee.exhausted == 2)
        held.forEach { $0.kill() }
    }

    @Test func headroomLetsEncapsulationAvoidCopies() throws {
        let pool = PacketPool(capacity: 2)
        let p = try #require(pool.make([0xAA, 0xBB]))
        let before = p.data
        #expect(p.push(14))
        #expect(p.data == before - 14)
        #expect(p.length == 16)
        #expect(p.pull(14))
        #expect(p.contents == [0xAA, 0xBB])
        #expect(!p.pull(3))
        #expect(!p.push(PacketPool.defaultHeadroom + 1))
        p.kill()
    }

    @Test func annotationsAtClicksOffsets() throws {
        let pool = PacketPool(capacity: 1)
        let p = try #require(pool.make([0]))
        p.destinationIPAnnotation = 0x0A00_0001
        p.paint = 7
        #expect(p.annotation8(0) == 10 && p.annotation8(3) == 1)
        #expect(p.annotation8(16) == 7)
        p.kill()
        let q = try #require(pool.make([0]))
        #expect(q.paint == 0 && q.destinationIPAnnotation == 0)
        q.kill()
    }

    @Test func bigEndianFields() throws {
        let pool = PacketPool(capacity: 1)
        let p = try #require(pool.make([0x12, 0x34, 0x56, 0x78]))
        #expect(p.load16(0) == 0x1234)
        #expect(p.load32(0) == 0x1234_5678)
        p.store16(2, 0xBEEF)
        #expect(p.contents == [0x12, 0x34, 0xBE, 0xEF])
        p.kill()
    }
}

@Suite struct SchedulerTests {
    final class TimerProbe: Element {
        override var portCount: String { "0/0" }
        var fired: [(Int, Int64)] = []
        var timers: [ClickRuntime.Timer] = []
        override func runTimer(_ timer: ClickRuntime.Timer) {
            fired.append((timers.firstIndex { $0 === timer } ?? -1, router.clock.now()))
        }
    }

    @Test func timersFireInOrderAndSimulatedTimeJumps() throws {
        var registry = StandardElements.registry
        registry.register(TimerProbe.self)
        let log = DiagnosticLog()
        let flat = ClickConfiguration.flatten("t :: TimerProbe", knownClasses: registry.classNames, log: log)
        let router = try #require(Router.build(flat, registry: registry, simulatedTime: true, log: log))
        let probe = try #require(router.element(named: "t") as? TimerProbe)
        let start = router.clock.now()
        for _ in 0..<3 { probe.timers.append(probe.makeTimer()) }
        probe.timers[0].schedule(at: start + 3_000_000_000)
        probe.timers[1].schedule(at: start + 1_000_000_000)
        probe.timers[2].schedule(at: start + 2_000_000_000)
        probe.timers[2].unschedule()
        probe.timers[2].schedule(at: start + 2_000_000_000)
        router.run()
        #expect(probe.fired.map(\.0) == [1, 2, 0])
        #expect(probe.fired[0].1 >= start + 1_000_000_000)
        #expect(probe.fired[2].1 >= start + 3_000_000_000)
        // Simulated: three seconds passed without waiting.
    }
}

import ClickElements
import ClickLanguage
import ClickTestSupport
import Testing
@testable import ClickRuntime

@Suite struct HotConfigTests {
    @Test func unchangedElementsKeepTheirStateAndPackets() throws {
        let b = build("inj :: Injector -> c :: Counter -> q :: Queue(10) -> u :: Unqueue(ACTIVE false) -> col :: Collector")
        let r = try #require(b.router, "\(b.log.text)")
        try #require(b.element("inj", as: Injector.self)).inject([[1], [2], [3]])
        #expect(try r.read("q.length") == "3")
        let next = try r.hotswap("inj :: Injector -> c :: Counter -> q :: Queue(10) -> p :: Paint(7) -> u :: Unqueue(BURST 8) -> col :: Collector")
        #expect(r.replacement === next)
        #expect(try next.read("q.length") == "3")
        #expect(try next.read("c.count") == "3")
        // The queued packets come out of the new graph, painted on the way.
        let u = try #require(next.element(named: "u"))
        while u.runTask(Task(element: u)) {}
        let col = try #require(next.element(named: "col") as? Collector)
        #expect(col.packets == [[1], [2], [3]])
        #expect(col.paints == [7, 7, 7])
        #expect(next.pool === r.pool)
        #expect(r.pool.outstanding == 0)
    }

    @Test func aBadConfigurationChangesNothing() throws {
        let b = build("inj :: Injector -> q :: Queue -> Discard")
        let r = try #require(b.router)
        try #require(b.element("inj", as: Injector.self)).inject([[9]])
        do {
            _ = try r.hotswap("inj :: Injector -> q :: Queue(lots) -> Discard")
            Issue.record("a bad configuration was accepted")
        } catch {
            #expect(error.errorMessages.contains("  CAPACITY: invalid number"))
        }
        #expect(r.replacement == nil)
        #expect(try r.read("q.length") == "1")
    }

    @Test func hotconfigHandlerSwapsWhileRunning() throws {
        let b = build("s :: InfiniteSource(LIMIT 5, STOP true) -> c :: Counter -> Discard")
        let r = try #require(b.router)
        r.run()
        #expect(try r.read("c.count") == "5")
        try r.write("hotconfig", "s :: InfiniteSource(LIMIT 5, STOP true) -> c :: Counter -> Discard")
        let next = try #require(r.replacement)
        #expect(try next.read("c.count") == "5")
        #expect(throws: HandlerError.self) { try next.write("hotconfig", "x :: Nope") }
    }

    /// A swap written from inside the packet path (a Counter's COUNT_CALL running a Script)
    /// must not tear the old router down under the element still pushing: the rest of the
    /// batch lands in the old graph, which is cleaned up after its run, and no packet leaks.
    @Test func swapFromThePacketPathIsSafe() throws {
        let b = build("""
            s :: InfiniteSource(LIMIT 100, BURST 10, STOP true) -> c :: Counter(COUNT_CALL 45 sc.run) -> q :: Queue -> Discard(ACTIVE false)
            sc :: Script(TYPE PASSIVE, write hotconfig s :: InfiniteSource(LIMIT 0) -> c :: Counter -> q :: Queue -> Discard(ACTIVE false))
            """)
        let r = try #require(b.router, "\(b.log.text)")
        r.run()
        let next = try #require(r.replacement, "the swap did not happen")
        // The first 40 packets (four bursts) were queued before the swap and moved over.
        #expect(try next.read("q.length") == "40")
        #expect((Int(try next.read("c.count")) ?? 0) >= 45)   // the count when the call fired
        r.cleanup()
        #expect(r.pool.outstanding == 40)
        next.cleanup()
        #expect(r.pool.outstanding == 0)
    }
}

import ClickElements
import ClickLanguage
import ClickTestSupport
import Foundation
import Testing
@testable import ClickRuntime

@Suite struct RoundRobinSchedTests {
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
}

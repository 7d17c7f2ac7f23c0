import ClickElements
import ClickLanguage
import ClickTestSupport
import Foundation
import Testing
@testable import ClickRuntime

@Suite struct IdleTests {
    @Test func idleSwallowsAndNeverEmits() throws {
        let (b, _) = buildAndRun("InfiniteSource(LIMIT 3, STOP true) -> Idle; Idle -> col :: Collector")
        #expect(b.element("col", as: Collector.self)?.packets.isEmpty == true)
        #expect(b.router?.pool.outstanding == 0)
    }

    @Test func pullerFromIdleSleeps() throws {
        let b = build("Idle -> u :: Unqueue -> Discard")
        let u = try #require(b.router?.element(named: "u") as? Unqueue, "\(b.log.text)")
        let task = try #require(u.taskForTesting)
        _ = u.runTask(task)
        #expect(!task.isScheduled)
    }
}

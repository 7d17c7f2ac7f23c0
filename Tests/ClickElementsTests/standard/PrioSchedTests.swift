import ClickElements
import ClickLanguage
import ClickTestSupport
import Foundation
import Testing
@testable import ClickRuntime

@Suite struct PrioSchedTests {
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
}
